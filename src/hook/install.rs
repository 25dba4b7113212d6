//! `unleak hook install|uninstall`: writes unleak's hooks (a hook that was there is chained, or with
//! `--force` kept aside; husky's and the pre-commit framework's are left alone, with what to do instead),
//! and removes them, putting back what was there.

use super::MARKER;
use crate::exit_codes::ExitCode;
use crate::git::Repo;
use crate::sanitize::for_terminal;
use crate::util::shell::quote;
use anyhow::{bail, Context, Result};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// `unleak hook install`: installs each hook asked for (see [`install`]); says what it did on stdout
/// unless `quiet`. Exits 2 when a hook was refused (it said why on stderr).
pub(crate) fn install_hooks(
    path: &Path,
    hooks: &[&str],
    force: bool,
    quiet: bool,
) -> Result<ExitCode> {
    walk_hooks(path, hooks, quiet, |hook| install(hook, force))
}

/// `unleak hook uninstall`: removes each unleak hook asked for (see [`uninstall`]).
pub(crate) fn uninstall_hooks(path: &Path, hooks: &[&str], quiet: bool) -> Result<ExitCode> {
    walk_hooks(path, hooks, quiet, uninstall)
}

/// The hook script: runs the unleak binary that installed it, else `unleak` on PATH. A hook that cannot
/// find unleak fails (a check that silently stops running protects nobody) and says how to get past it.
/// When the hook that was there before sits beside it as `NAME.unleak-chained` (see [`install`]), that
/// one runs first with the same arguments (and, for pre-push, the same stdin): either can stop git.
fn hook_script(exe: Option<&str>, name: &str) -> String {
    let recorded = exe.map(quote).unwrap_or_else(|| "''".to_string());
    let args = run_args(name);
    let (what, skip) = match name {
        "commit-msg" => (
            "Blocks a commit whose message holds a token.",
            "commit with --no-verify",
        ),
        "pre-push" => (
            "Blocks a push whose commits add a token (git's update lines arrive on stdin).",
            "push with --no-verify",
        ),
        _ => (
            "Blocks a commit whose staged changes add a token.",
            "commit with --no-verify",
        ),
    };
    // pre-push reads git's update lines on stdin: both hooks get them.
    let (save, feed) = if name == "pre-push" {
        (
            "\tinput=$(cat)\n",
            "if [ -n \"$input\" ]; then printf '%s\\n' \"$input\"; fi | ",
        )
    } else {
        ("", "")
    };
    format!(
        "#!/bin/sh\n\
         {MARKER}\n\
         # {what} `--no-verify` skips it.\n\
         recorded={recorded}\n\
         unleak=$recorded\n\
         if [ -z \"$unleak\" ] || [ ! -x \"$unleak\" ]; then\n\
         \tunleak=$(command -v unleak) || {{\n\
         \t\techo \"unleak {name} hook: unleak is neither at ${{recorded:-(not recorded)}} nor on PATH; \
         install it (or run 'unleak hook uninstall --hook {name}'), or {skip} to skip the check\" >&2\n\
         \t\texit 1\n\
         \t}}\n\
         fi\n\
         # The {name} hook that was here before unleak's (`unleak hook install` moved it beside this one):\n\
         # it runs first, then unleak; either can stop git.\n\
         chained=\"$(dirname \"$0\")/{name}{CHAINED}\"\n\
         if [ -x \"$chained\" ]; then\n\
         {save}\
         \t{feed}\"$chained\" \"$@\" || exit $?\n\
         \t{feed}\"$unleak\" hook run{args}\n\
         \texit $?\n\
         fi\n\
         exec \"$unleak\" hook run{args}\n"
    )
}

/// Where `install` keeps the hook it found (and runs it first); `uninstall` puts it back.
const CHAINED: &str = ".unleak-chained";

/// What each hook passes to `unleak hook run`.
fn run_args(name: &str) -> &'static str {
    match name {
        "commit-msg" => " --commit-msg \"$1\"",
        "pre-push" => " --pre-push --destination=\"$1\"",
        _ => "",
    }
}

/// Whether a hook's content carries [`MARKER`], i.e. unleak wrote it.
fn is_ours(content: &[u8]) -> bool {
    String::from_utf8_lossy(content)
        .lines()
        .any(|line| line.trim_end() == MARKER)
}

/// The hook's path, and where `install --force` keeps the hook it replaces (`uninstall` puts it back).
fn hook_paths(repo: &Repo, name: &str) -> Result<(PathBuf, PathBuf)> {
    if repo.workdir.is_none() {
        bail!(
            "{} is a bare repository: nobody commits in it, so a {name} hook would never run",
            repo.git_dir.display()
        );
    }
    let dir = repo.hooks_dir()?;
    Ok((dir.join(name), dir.join(format!("{name}.unleak-backup"))))
}

/// The file a husky user edits for hook `name` when core.hooksPath is husky's: `.husky/_` (husky 9, a
/// folder husky regenerates, whose scripts run `.husky/NAME`) or `.husky` itself (husky 4 to 8, whose
/// `.husky/NAME` is the user's, committed file). None when the hooks are not husky's.
fn husky_file(hooks_dir: &Path, name: &str) -> Option<PathBuf> {
    let dir_name = |p: &Path| p.file_name().map(|n| n.to_os_string());
    if dir_name(hooks_dir).as_deref() == Some(std::ffi::OsStr::new(".husky")) {
        return Some(hooks_dir.join(name));
    }
    let parent = hooks_dir.parent()?;
    (dir_name(hooks_dir).as_deref() == Some(std::ffi::OsStr::new("_"))
        && dir_name(parent).as_deref() == Some(std::ffi::OsStr::new(".husky")))
    .then(|| parent.join(name))
}

/// Whether a hook is the pre-commit framework's (`pre-commit install` writes this line into it).
fn is_pre_commit_frameworks(content: &[u8]) -> bool {
    String::from_utf8_lossy(content)
        .contains("File generated by pre-commit: https://pre-commit.com")
}

/// The pre-commit framework's hook id for each hook unleak installs (.pre-commit-hooks.yaml).
fn framework_id(name: &str) -> &'static str {
    match name {
        "commit-msg" => "unleak-commit-msg",
        "pre-push" => "unleak-pre-push",
        _ => "unleak",
    }
}

/// One hook as the walk finds it: where it is, where `install --force` keeps the one it replaces, where
/// a chained one is kept, and what is there now.
struct HookFile<'a> {
    name: &'a str,
    path: PathBuf,
    backup: PathBuf,
    /// Where `install` moves a hook it finds, to run it first (`NAME.unleak-chained`).
    chained: PathBuf,
    /// The hook's content; None when there is no hook.
    existing: Option<Vec<u8>>,
    /// Under husky, the file to add unleak to instead (see [`husky_file`]).
    husky: Option<PathBuf>,
}

/// Install and uninstall walk the hooks asked for the same way: each hook found (its paths, what is
/// there now), changed by `change`, and what that did said on stdout unless `--quiet`. `change`
/// returns None when it refused (it said why on stderr): the walk goes on and exits 2. An error stops it.
fn walk_hooks(
    path: &Path,
    hooks: &[&str],
    quiet: bool,
    mut change: impl FnMut(&HookFile<'_>) -> Result<Option<Vec<String>>>,
) -> Result<ExitCode> {
    let repo = Repo::open(path)?;
    let mut code = ExitCode::Clean;
    for name in hooks {
        let (hook, backup) = hook_paths(&repo, name)?;
        let existing = match std::fs::read(&hook) {
            Ok(content) => Some(content),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", hook.display())),
        };
        let husky = hook.parent().and_then(|dir| husky_file(dir, name));
        let file = HookFile {
            name,
            chained: hook.with_file_name(format!("{name}{CHAINED}")),
            path: hook,
            backup,
            existing,
            husky,
        };
        let Some(said) = change(&file)? else {
            code = ExitCode::Error;
            continue;
        };
        if !quiet {
            let mut out = std::io::stdout().lock();
            for line in said {
                writeln!(out, "{}", for_terminal(&line))?;
            }
        }
    }
    Ok(code)
}

/// Installs unleak's hook. Ours is updated. Someone else's is chained: moved beside ours as
/// `NAME.unleak-chained`, which our script runs first (theirs, then ours; either can stop git), and
/// `uninstall` puts it back. `--force` replaces it instead (kept as `NAME.unleak-backup`, not run). Two
/// hooks are not chained: husky's (its folder is regenerated: the message names `.husky/NAME`, the file
/// to add unleak to) and the pre-commit framework's (add unleak to .pre-commit-config.yaml instead).
/// Returns what it did, or None when it refused.
fn install(file: &HookFile<'_>, force: bool) -> Result<Option<Vec<String>>> {
    let HookFile {
        name,
        path: hook,
        backup,
        chained,
        existing,
        husky,
    } = file;
    let exe = std::env::current_exe().ok();
    let exe = exe.as_deref().and_then(Path::to_str);
    let command = format!(
        "{} hook run{}",
        exe.map_or_else(|| "unleak".to_string(), quote),
        run_args(name)
    );
    let mut err = std::io::stderr().lock();
    if let Some(husky) = husky.as_ref().filter(|_| !force) {
        writeln!(
            err,
            "unleak: this repository's hooks are husky's (core.hooksPath is {}); husky runs {} and \
             regenerates its own scripts, so unleak writes nothing there. Add this line to {} (create \
             it if it does not exist; it is committed with the project):\n    {command}\n\
             Nothing was changed.",
            for_terminal(&hook.parent().unwrap_or(hook).display().to_string()),
            for_terminal(&husky.display().to_string()),
            for_terminal(&husky.display().to_string()),
        )?;
        return Ok(None);
    }
    let mut said = Vec::new();
    match existing {
        Some(content) if is_ours(content) => said.push(format!(
            "Updated the unleak {name} hook at {}{}",
            hook.display(),
            if chained.exists() {
                format!(" (it runs {} first)", chained.display())
            } else {
                String::new()
            }
        )),
        Some(content) if !force && is_pre_commit_frameworks(content) => {
            writeln!(
                err,
                "unleak: {} is the pre-commit framework's hook; it was left as it is. Add unleak to \
                 .pre-commit-config.yaml instead (hook id `{}`; see docs/hooks.md), then run \
                 `pre-commit install{}`.\n\
                 Or replace it: `unleak hook install --force` keeps the old one as \
                 {name}.unleak-backup (not run).",
                for_terminal(&hook.display().to_string()),
                framework_id(name),
                if *name == "pre-commit" {
                    String::new()
                } else {
                    format!(" --hook-type {name}")
                },
            )?;
            return Ok(None);
        }
        Some(_) if !force => {
            if chained.exists() {
                bail!(
                    "{} already exists: move it away first, so chaining the hook loses nothing",
                    chained.display()
                );
            }
            std::fs::rename(hook, chained).with_context(|| {
                format!("cannot move {} to {}", hook.display(), chained.display())
            })?;
            said.push(format!(
                "Found a {name} hook unleak did not write: moved it to {}; the unleak hook runs it \
                 first, then unleak, and either can stop git (`unleak hook uninstall` puts it back; \
                 `--force` would have replaced it instead)",
                chained.display()
            ));
            said.push(format!(
                "Installed the unleak {name} hook at {}",
                hook.display()
            ));
        }
        Some(_) => {
            if backup.exists() {
                bail!(
                    "{} already exists: move it away first, so replacing the hook loses nothing",
                    backup.display()
                );
            }
            std::fs::rename(hook, backup).with_context(|| {
                format!("cannot move {} to {}", hook.display(), backup.display())
            })?;
            said.push(format!(
                "Replaced the previous {name} hook (--force): kept as {}, no longer run",
                backup.display()
            ));
            said.push(format!(
                "Installed the unleak {name} hook at {}",
                hook.display()
            ));
        }
        None => said.push(format!(
            "Installed the unleak {name} hook at {}",
            hook.display()
        )),
    }
    write_hook(hook, &hook_script(exe, name))?;
    said.push(match *name {
        "commit-msg" => "Every commit message is now checked for tokens; `git commit --no-verify` skips the check.",
        "pre-push" => "Every push is now checked for commits adding tokens; `git push --no-verify` skips the check.",
        _ => "Every commit is now checked for tokens it would add; `git commit --no-verify` skips the check.",
    }
    .into());
    Ok(Some(said))
}

/// Writes the hook atomically (a temp file beside it, renamed over it), mode 0755.
fn write_hook(hook: &Path, script: &str) -> Result<()> {
    let dir = hook.parent().context("a hook path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let opts = crate::util::fs::Atomic::new(0o755, ".pre-commit.unleak-");
    Ok(crate::util::fs::write_atomic(
        hook,
        script.as_bytes(),
        &opts,
    )?)
}

/// Removes unleak's hook (never someone else's) and puts back the one `install` chained or `install
/// --force` replaced.
fn uninstall(file: &HookFile<'_>) -> Result<Option<Vec<String>>> {
    let (name, hook) = (file.name, &file.path);
    let mut said = Vec::new();
    match &file.existing {
        None => {
            said.push(format!(
                "No {name} hook at {}; nothing to remove",
                hook.display()
            ));
        }
        Some(content) if !is_ours(content) => bail!(
            "{} was not installed by unleak; it was left as it is",
            hook.display()
        ),
        Some(_) => {
            std::fs::remove_file(hook)
                .with_context(|| format!("cannot remove {}", hook.display()))?;
            said.push(format!(
                "Removed the unleak {name} hook from {}",
                hook.display()
            ));
            if let Some(previous) = [&file.chained, &file.backup]
                .into_iter()
                .find(|p| p.exists())
            {
                std::fs::rename(previous, hook).with_context(|| {
                    format!(
                        "cannot move {} back to {}",
                        previous.display(),
                        hook.display()
                    )
                })?;
                said.push(format!(
                    "Put back the previous hook from {}",
                    previous.display()
                ));
            }
        }
    }
    Ok(Some(said))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_carries_the_marker_and_quotes_the_path() {
        let script = hook_script(Some("/opt/it's here/unleak"), "pre-commit");
        assert!(is_ours(script.as_bytes()));
        assert!(script.starts_with("#!/bin/sh\n"));
        assert!(script.contains(r"recorded='/opt/it'\''s here/unleak'"));
        assert!(!is_ours(b"#!/bin/sh\nexec other-tool\n"));
        assert!(hook_script(None, "pre-commit").contains("recorded=''\n"));
        assert!(hook_script(Some("/usr/bin/unleak"), "pre-commit")
            .contains("recorded=/usr/bin/unleak\n"));
        assert!(hook_script(None, "commit-msg").contains("hook run --commit-msg \"$1\"\n"));
        assert!(
            hook_script(None, "pre-push").contains("hook run --pre-push --destination=\"$1\"\n")
        );
        assert!(hook_script(None, "pre-push").contains("/pre-push.unleak-chained\""));
    }

    #[test]
    fn husky_folders_name_the_users_file() {
        let husky = |p: &str| husky_file(Path::new(p), "pre-commit");
        assert_eq!(
            husky("/r/.husky/_"),
            Some(PathBuf::from("/r/.husky/pre-commit"))
        );
        assert_eq!(
            husky("/r/.husky"),
            Some(PathBuf::from("/r/.husky/pre-commit"))
        );
        assert_eq!(husky("/r/.git/hooks"), None);
        assert_eq!(husky("/r/_"), None);
    }
}
