//! `unleak hook install|uninstall|run`: a pre-commit hook that stops a commit adding a token. `run` reads
//! only what is staged (see `scan::staged`), so it costs what the commit changes. Everything it says goes
//! to stderr: in a hook, that is what the user sees.

use crate::cli::{HookAction, HookArgs};
use crate::config::{resolve_repo_path, Globals};
use crate::exit_codes::ExitCode;
use crate::sanitize::for_terminal;
use crate::scan::matcher::Encoding;
use crate::scan::patterns::PatternSet;
use crate::scan::repo::Repo;
use crate::scan::staged::{self, StagedFinding};
use crate::secret::Secret;
use crate::{dotenv, tokens};
use anyhow::{bail, Context, Result};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// The line that marks a hook as unleak's: `uninstall` removes a hook only when it holds this line.
pub const MARKER: &str =
    "# unleak-hook: installed by `unleak hook install`; `unleak hook uninstall` removes it";

/// Where `install --force` keeps the hook it replaces (and `uninstall` puts it back from).
const BACKUP_NAME: &str = "pre-commit.unleak-backup";

pub fn run(args: HookArgs, globals: &Globals) -> Result<ExitCode> {
    match args.action {
        HookAction::Install { repo, force } => install(&resolve_repo_path(repo)?, force, globals),
        HookAction::Uninstall { repo } => uninstall(&resolve_repo_path(repo)?, globals),
        HookAction::Run { repo } => check(&resolve_repo_path(repo)?),
    }
}

/// `unleak hook run`: exit 1 when the staged changes add a token.
fn check(path: &Path) -> Result<ExitCode> {
    let repo = Repo::open(path)?;
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let secrets = env_secrets(&repo, &mut err)?;
    let findings = staged::staged_findings(&repo, &secrets, &PatternSet::all())?;
    if findings.is_empty() {
        return Ok(ExitCode::Clean);
    }
    write_block(&findings, &mut err)?;
    Ok(ExitCode::Found)
}

/// Every secret-looking value of the repository's `.env` (none when there is no `.env`). An unreadable
/// `.env` is a warning, not a failed hook: the provider patterns still run.
fn env_secrets(repo: &Repo, err: &mut dyn Write) -> Result<Vec<Secret>> {
    let Some(path) = tokens::default_env_path(None, repo.workdir.as_deref()) else {
        return Ok(Vec::new());
    };
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let env = match dotenv::read(&path) {
        Ok(env) => env,
        Err(e) => {
            writeln!(
                err,
                "unleak: warning: {}; checking provider patterns only",
                for_terminal(&format!("{e:#}"))
            )?;
            return Ok(Vec::new());
        }
    };
    let mut secrets: Vec<Secret> = Vec::new();
    for (key, value) in env.entries() {
        let secret = Secret::new(value, format!(".env:{key}"));
        if tokens::looks_like_secret(secret.expose()) && !secrets.contains(&secret) {
            secrets.push(secret);
        }
    }
    Ok(secrets)
}

fn write_block(findings: &[StagedFinding], err: &mut dyn Write) -> std::io::Result<()> {
    let count = findings.len();
    writeln!(
        err,
        "unleak: this commit would add {count} token{} to history:",
        if count == 1 { "" } else { "s" }
    )?;
    for finding in findings {
        let place = match (finding.location, finding.line) {
            (crate::report::Location::Path, _) => format!("{} (file name)", finding.path),
            (_, Some(line)) => format!("{}:{line}", finding.path),
            (_, None) => finding.path.clone(),
        };
        let mut what = finding
            .rule
            .clone()
            .unwrap_or_else(|| "a known secret value".to_string());
        if let Some(origin) = &finding.origin {
            what.push_str(&format!(", the value of {origin}"));
        }
        if finding.encoding != Encoding::Plain {
            what.push_str(&format!(", {}-encoded", finding.encoding.as_str()));
        }
        writeln!(
            err,
            "  {}  {}  ({})",
            for_terminal(&place),
            finding.secret.redacted,
            for_terminal(&what)
        )?;
    }
    writeln!(
        err,
        "Remove the token from the file and `git add` it again, or unstage the file (`git restore --staged \
         <file>`). Keep tokens in .env, which git ignores (`unleak setup`).\n\
         Not a token? `git commit --no-verify` commits anyway (it skips every pre-commit hook)."
    )
}

/// The hook script: runs the unleak binary that installed it, else `unleak` on PATH. A hook that cannot
/// find unleak fails the commit (a check that silently stops running protects nobody) and says how to
/// get past it.
fn hook_script(exe: Option<&str>) -> String {
    let recorded = exe.map(shell_quote).unwrap_or_else(|| "''".to_string());
    format!(
        "#!/bin/sh\n\
         {MARKER}\n\
         # Blocks a commit whose staged changes add a token. `git commit --no-verify` skips it.\n\
         unleak={recorded}\n\
         if [ -n \"$unleak\" ] && [ -x \"$unleak\" ]; then\n\
         \texec \"$unleak\" hook run\n\
         fi\n\
         if command -v unleak >/dev/null 2>&1; then\n\
         \texec unleak hook run\n\
         fi\n\
         echo \"unleak pre-commit hook: unleak is neither at $unleak nor on PATH; install it (or run \
         'unleak hook uninstall'), or commit with --no-verify to skip the check\" >&2\n\
         exit 1\n"
    )
}

/// `'text'` for sh, with each `'` written as `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn is_ours(content: &[u8]) -> bool {
    String::from_utf8_lossy(content)
        .lines()
        .any(|line| line.trim_end() == MARKER)
}

fn hook_paths(repo: &Repo) -> Result<(PathBuf, PathBuf)> {
    if repo.workdir.is_none() {
        bail!(
            "{} is a bare repository: nobody commits in it, so a pre-commit hook would never run",
            repo.git_dir.display()
        );
    }
    let dir = staged::hooks_dir(repo)?;
    Ok((dir.join("pre-commit"), dir.join(BACKUP_NAME)))
}

fn install(path: &Path, force: bool, globals: &Globals) -> Result<ExitCode> {
    let repo = Repo::open(path)?;
    let (hook, backup) = hook_paths(&repo)?;
    let exe = std::env::current_exe().ok();
    let exe = exe.as_deref().and_then(Path::to_str);
    let existing = match std::fs::read(&hook) {
        Ok(content) => Some(content),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", hook.display())),
    };
    let mut said = Vec::new();
    match existing {
        Some(content) if is_ours(&content) => said.push(format!(
            "Updated the unleak pre-commit hook at {}",
            hook.display()
        )),
        Some(_) if !force => {
            let mut err = std::io::stderr().lock();
            writeln!(
                err,
                "unleak: {} already exists and unleak did not write it; it was left as it is.\n\
                 To run both, add this line to it (before any `exec`):\n    {} hook run || exit 1\n\
                 If it is the pre-commit framework's hook, add unleak to .pre-commit-config.yaml instead \
                 (see docs/hooks.md).\n\
                 Or replace it: `unleak hook install --force` keeps the old one as {BACKUP_NAME}.\n\
                 (`git commit --no-verify` skips every pre-commit hook, unleak's included.)",
                for_terminal(&hook.display().to_string()),
                exe.map_or_else(|| "unleak".to_string(), shell_quote),
            )?;
            return Ok(ExitCode::Error);
        }
        Some(_) => {
            if backup.exists() {
                bail!(
                    "{} already exists: move it away first, so replacing the hook loses nothing",
                    backup.display()
                );
            }
            std::fs::rename(&hook, &backup).with_context(|| {
                format!("cannot move {} to {}", hook.display(), backup.display())
            })?;
            said.push(format!(
                "Moved the previous pre-commit hook to {}",
                backup.display()
            ));
            said.push(format!(
                "Installed the unleak pre-commit hook at {}",
                hook.display()
            ));
        }
        None => said.push(format!(
            "Installed the unleak pre-commit hook at {}",
            hook.display()
        )),
    }
    write_hook(&hook, &hook_script(exe))?;
    if !globals.quiet {
        let mut out = std::io::stdout().lock();
        for line in said {
            writeln!(out, "{}", for_terminal(&line))?;
        }
        writeln!(
            out,
            "Every commit is now checked for tokens it would add; `git commit --no-verify` skips the check."
        )?;
    }
    Ok(ExitCode::Clean)
}

/// Writes the hook atomically (a temp file beside it, renamed over it), mode 0755.
fn write_hook(hook: &Path, script: &str) -> Result<()> {
    let dir = hook.parent().context("a hook path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut file = tempfile::Builder::new()
        .prefix(".pre-commit.unleak-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(script.as_bytes())?;
    file.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o755))?;
    }
    file.persist(hook)
        .with_context(|| format!("cannot write {}", hook.display()))?;
    Ok(())
}

fn uninstall(path: &Path, globals: &Globals) -> Result<ExitCode> {
    let repo = Repo::open(path)?;
    let (hook, backup) = hook_paths(&repo)?;
    let mut said = Vec::new();
    match std::fs::read(&hook) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            said.push(format!(
                "No pre-commit hook at {}; nothing to remove",
                hook.display()
            ));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", hook.display())),
        Ok(content) if !is_ours(&content) => bail!(
            "{} was not installed by unleak; it was left as it is",
            hook.display()
        ),
        Ok(_) => {
            std::fs::remove_file(&hook)
                .with_context(|| format!("cannot remove {}", hook.display()))?;
            said.push(format!(
                "Removed the unleak pre-commit hook from {}",
                hook.display()
            ));
            if backup.exists() {
                std::fs::rename(&backup, &hook).with_context(|| {
                    format!(
                        "cannot move {} back to {}",
                        backup.display(),
                        hook.display()
                    )
                })?;
                said.push(format!(
                    "Put back the previous hook from {}",
                    backup.display()
                ));
            }
        }
    }
    if !globals.quiet {
        let mut out = std::io::stdout().lock();
        for line in said {
            writeln!(out, "{}", for_terminal(&line))?;
        }
    }
    Ok(ExitCode::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_carries_the_marker_and_quotes_the_path() {
        let script = hook_script(Some("/opt/it's here/unleak"));
        assert!(is_ours(script.as_bytes()));
        assert!(script.starts_with("#!/bin/sh\n"));
        assert!(script.contains(r"unleak='/opt/it'\''s here/unleak'"));
        assert!(!is_ours(b"#!/bin/sh\nexec other-tool\n"));
        assert!(hook_script(None).contains("unleak=''\n"));
    }
}
