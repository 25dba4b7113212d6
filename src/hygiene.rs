//! Everything around a `.env` file that can leak its token again: git not ignoring it, git tracking it, an
//! environment variable that overrides it, and huggingface_hub's saved login.
//!
//! [`plan`] only looks and returns plain data (actions + warnings); [`apply`] performs one action. The
//! split lets `unleak setup` apply the plan, and `unleak respond` show it as a dry run or ask before each
//! step, with the same messages ("would ..." / "did ...") and no second code path.

use crate::child::Spawner;
use crate::environment::Environment;
use crate::providers;
use anyhow::{Context, Result};
use std::fmt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Changes the plan proposes, in the order to make them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Append `pattern` to the work tree's `.gitignore` (creating it when `create`), so the file is ignored.
    /// When that `.gitignore` is a symlink (which git does not read), the rule goes to `.git/info/exclude`.
    Ignore {
        gitignore: PathBuf,
        /// The work tree root, where git is asked whether the rule took effect.
        workdir: PathBuf,
        pattern: String,
        create: bool,
        /// The file, relative to the work tree.
        path: String,
    },
    /// Remove `path` (relative to the work tree) from the index, keeping the file: `git rm --cached`.
    /// Needs the user's consent: the next commit records a deletion.
    Untrack { workdir: PathBuf, path: String },
}

impl Action {
    /// Whether a caller must ask (or have `--yes`) before [`apply`].
    pub fn needs_consent(&self) -> bool {
        matches!(self, Action::Untrack { .. })
    }

    /// The message for this action, done or (dry run / declined) to do.
    pub fn describe(&self, done: bool) -> String {
        match (self, done) {
            (
                Action::Ignore {
                    gitignore,
                    pattern,
                    create,
                    ..
                },
                true,
            ) => format!(
                "{} {} with the line {pattern:?}, so git ignores the file",
                if *create { "created" } else { "appended to" },
                gitignore.display()
            ),
            (
                Action::Ignore {
                    gitignore,
                    pattern,
                    create,
                    ..
                },
                false,
            ) => format!(
                "would {} {} with the line {pattern:?}, so git ignores the file",
                if *create { "create" } else { "append to" },
                gitignore.display()
            ),
            (Action::Untrack { path, .. }, true) => format!(
                "removed {path} from the git index (the file stays on disk; commit to record it): \
                 the equivalent of `git rm --cached {path}`"
            ),
            (Action::Untrack { path, .. }, false) => format!(
                "would remove {path} from the git index, keeping the file: `git rm --cached {path}`"
            ),
        }
    }
}

/// Things the user should know; nothing here is changed by unleak. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The file is not inside a git repository's work tree: there is nothing to ignore or untrack.
    NotInRepository { path: PathBuf },
    /// The file is tracked: what it held was committed.
    Tracked { path: String },
    /// After appending the rule, git still does not ignore the file (a later `!` rule re-includes it).
    StillNotIgnored { path: String },
    /// The environment sets `var` to a different value, which wins over `.env`.
    EnvironmentOverrides { var: String },
    /// huggingface_hub's saved login exists and may hold an old token.
    TokenFile { path: PathBuf },
    /// The work tree's `.gitignore` is a symlink: git does not read it, so the rule goes elsewhere.
    SymlinkedGitignore { path: PathBuf },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::NotInRepository { path } => write!(
                f,
                "{} is not inside a git work tree, so no ignore rule was checked; if you later put it in \
                 one, make sure git ignores it",
                path.display()
            ),
            Warning::Tracked { path } => write!(
                f,
                "{path} is tracked by git: what it held was committed, so it is in the repository's \
                 history and on every remote it was pushed to. Untracking stops new commits; the old ones \
                 still hold it (run `unleak scan` to see where)"
            ),
            Warning::StillNotIgnored { path } => write!(
                f,
                "git still does not ignore {path}: another rule (a `!` pattern in a nested .gitignore?) \
                 re-includes it; see `git check-ignore -v --no-index {path}`"
            ),
            Warning::EnvironmentOverrides { var } => write!(
                f,
                "the environment already sets {var} to a different value; it wins over .env (python-dotenv \
                 does not override by default, and huggingface_hub reads the environment first). Unset it \
                 (`unset {var}`) or update it where it is set (shell profile, CI secrets)"
            ),
            Warning::TokenFile { path } => write!(
                f,
                "{} exists (huggingface_hub's saved login): an old token may live on there too. Run \
                 `hf auth logout` (or delete the file), then `hf auth login` with the new token if you \
                 want a saved login",
                path.display()
            ),
            Warning::SymlinkedGitignore { path } => write!(
                f,
                "{} is a symlink, and git does not read a symlinked .gitignore: rules in it have no \
                 effect, so unleak neither writes through it nor counts on it. Replace it with a regular \
                 file to share ignore rules",
                path.display()
            ),
        }
    }
}

/// What to do about one `.env` file, and what to say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub warnings: Vec<Warning>,
}

/// Looks at `env_file` (as the user names it; a symlink is judged by its own path, which is what git
/// sees) and the environment, for a file that will hold `key` = `new_value`. Changes nothing.
pub fn plan(
    env_file: &Path,
    key: &str,
    new_value: &str,
    env: &Environment,
    spawner: &Spawner,
) -> Result<Plan> {
    let mut plan = Plan::default();
    git_plan(env_file, &mut plan, spawner)?;

    let is_hf = providers::HUGGING_FACE.env_vars.contains(&key);
    let mut vars = vec![key];
    if is_hf && key != "HF_TOKEN" {
        vars.push("HF_TOKEN"); // huggingface_hub reads HF_TOKEN before the older names
    }
    for var in vars {
        if env.get(var).is_some_and(|v| v != new_value) {
            plan.warnings.push(Warning::EnvironmentOverrides {
                var: var.to_string(),
            });
        }
    }
    if is_hf {
        let mut files: Vec<PathBuf> = env.hf_token_file().into_iter().collect();
        if let Some(home) = env.hf_home() {
            files.push(home.join("stored_tokens")); // every token `hf auth login` has saved
        }
        for path in files {
            let same = std::fs::read(&path)
                .ok()
                .map(Zeroizing::new)
                .is_some_and(|held| held.trim_ascii() == new_value.as_bytes());
            if path.is_file() && !same {
                plan.warnings.push(Warning::TokenFile { path });
            }
        }
    }
    Ok(plan)
}

fn git_plan(env_file: &Path, plan: &mut Plan, spawner: &Spawner) -> Result<()> {
    let absolute = std::path::absolute(env_file)
        .with_context(|| format!("cannot resolve {}", env_file.display()))?;
    let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Ok(());
    };
    let not_in_repo = || Warning::NotInRepository {
        path: env_file.to_path_buf(),
    };
    let Some(repo) = crate::git::discover(parent) else {
        plan.warnings.push(not_in_repo());
        return Ok(());
    };
    let Some(workdir) = repo.workdir() else {
        plan.warnings.push(not_in_repo());
        return Ok(());
    };
    let (Ok(parent), Ok(workdir)) = (parent.canonicalize(), workdir.canonicalize()) else {
        plan.warnings.push(not_in_repo());
        return Ok(());
    };
    let Ok(rel_dir) = parent.strip_prefix(&workdir) else {
        plan.warnings.push(not_in_repo());
        return Ok(());
    };
    let rel = rel_dir.join(name);
    let rel_str = rel.to_string_lossy().into_owned();

    if !repo
        .is_ignored(&workdir, &rel, spawner)
        .with_context(|| format!("cannot ask git whether {} is ignored", rel.display()))?
    {
        let mut gitignore = workdir.join(".gitignore");
        if std::fs::symlink_metadata(&gitignore).is_ok_and(|m| m.file_type().is_symlink()) {
            plan.warnings
                .push(Warning::SymlinkedGitignore { path: gitignore });
            gitignore = repo.common_dir().join("info").join("exclude");
        }
        plan.actions.push(Action::Ignore {
            create: !gitignore.exists(),
            gitignore,
            workdir: workdir.clone(),
            pattern: ignore_pattern(&rel_str, rel_dir.as_os_str().is_empty()),
            path: rel_str.clone(),
        });
    }
    if repo.is_tracked(&rel).context("cannot read the git index")? {
        plan.warnings.push(Warning::Tracked {
            path: rel_str.clone(),
        });
        plan.actions.push(Action::Untrack {
            workdir,
            path: rel_str,
        });
    }
    Ok(())
}

/// A `.gitignore` line matching exactly this file: a top-level `.env` as `.env` (ignoring it in every
/// directory is what people want), a nested one anchored (`/config/.env`); glob characters escaped.
fn ignore_pattern(rel: &str, top_level: bool) -> String {
    let mut out = String::new();
    if !top_level {
        out.push('/');
    }
    for c in rel.chars() {
        if matches!(c, '*' | '?' | '[' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    if out.starts_with('#') || out.starts_with('!') {
        out.insert(0, '\\');
    }
    if out.ends_with(' ') {
        out.pop();
        out.push_str("\\ ");
    }
    out
}

/// Performs one action. Returns follow-up warnings (e.g. a rule that still does not take effect).
pub fn apply(action: &Action, spawner: &Spawner) -> Result<Vec<Warning>> {
    match action {
        Action::Ignore {
            gitignore,
            workdir,
            pattern,
            path,
            ..
        } => {
            if std::fs::symlink_metadata(gitignore).is_ok_and(|m| m.file_type().is_symlink()) {
                anyhow::bail!(
                    "{} is a symlink, which git does not read; nothing was appended. Replace it with a \
                     regular file",
                    gitignore.display()
                );
            }
            if let Some(dir) = gitignore.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            // A regular file of a sane size: a repository can ship `.gitignore -> /dev/zero`.
            let existing = match crate::util::fs::read_regular(gitignore, 64 << 20) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", gitignore.display()))
                }
            };
            let mut line = String::new();
            if !existing.is_empty() && !existing.ends_with(b"\n") {
                line.push('\n');
            }
            line.push_str(pattern);
            line.push('\n');
            // The rule appended, atomically (the old file or the whole new one), the file's mode kept;
            // a read-only file stays as it is, as an append to it would.
            if std::fs::metadata(gitignore).is_ok_and(|m| m.permissions().readonly()) {
                const EACCES: i32 = 13; // what the append's open answered: "Permission denied"
                return Err(std::io::Error::from_raw_os_error(EACCES))
                    .with_context(|| format!("cannot append to {}", gitignore.display()));
            }
            let appended = [existing.as_slice(), line.as_bytes()].concat();
            let opts =
                crate::util::fs::Atomic::keeping_mode(gitignore, 0o644, ".gitignore.unleak-");
            crate::util::fs::write_atomic(gitignore, &appended, &opts).map_err(|err| {
                anyhow::Error::new(err.into_io())
                    .context(format!("cannot append to {}", gitignore.display()))
            })?;
            // Check the rule took effect: a nested `!` rule can still re-include the file.
            let repo = crate::git::open_at(workdir)
                .with_context(|| format!("cannot open the repository at {}", workdir.display()))?;
            if !repo
                .is_ignored(workdir, Path::new(path), spawner)
                .unwrap_or(false)
            {
                return Ok(vec![Warning::StillNotIgnored { path: path.clone() }]);
            }
            Ok(Vec::new())
        }
        Action::Untrack { workdir, path } => {
            let repo = crate::git::open_at(workdir)
                .with_context(|| format!("cannot open the repository at {}", workdir.display()))?;
            repo.untrack(Path::new(path))
                .with_context(|| format!("cannot remove {path} from the git index"))?;
            Ok(Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_patterns_escape_globs() {
        assert_eq!(ignore_pattern(".env", true), ".env");
        assert_eq!(ignore_pattern("config/.env", false), "/config/.env");
        assert_eq!(ignore_pattern("#weird*", true), "\\#weird\\*");
        assert_eq!(ignore_pattern("!x", true), "\\!x");
    }
}
