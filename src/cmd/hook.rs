//! `unleak hook install|uninstall|run`: a pre-commit hook that stops a commit adding a token. `run` reads
//! only what is staged (see `scan::staged`), so it costs what the commit changes. Everything it says goes
//! to stderr: in a hook, that is what the user sees.

use crate::config::{Globals, HookConfig, HookJob};
use crate::exit_codes::ExitCode;
use crate::git::Repo;
use crate::matching::patterns::PatternSet;
use crate::model::Encoding;
use crate::sanitize::for_terminal;
use crate::scan::staged::{self, StagedFinding};
use crate::secret::Secret;
use crate::util::shell::quote;
use crate::{dotenv, tokens};
use anyhow::{bail, Context, Result};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// The line that marks a hook as unleak's: `uninstall` removes a hook only when it holds this line.
pub const MARKER: &str =
    "# unleak-hook: installed by `unleak hook install`; `unleak hook uninstall` removes it";

/// Runs `unleak hook`: installs or removes the hooks asked for, or checks (`hook run`) what a hook is
/// about to let through.
pub(crate) fn run(config: HookConfig) -> Result<ExitCode> {
    let path = config.repo.as_path();
    let globals = &config.globals;
    match &config.job {
        HookJob::Install { force, hooks } => {
            walk_hooks(path, hooks, globals, |hook| install(hook, *force))
        }
        HookJob::Uninstall { hooks } => walk_hooks(path, hooks, globals, uninstall),
        HookJob::CheckMessage(file) => check_message(path, file),
        HookJob::CheckPush(destination) => check_push(path, destination.as_deref(), &config),
        HookJob::CheckStaged => check(path, config.index_file.as_deref()),
    }
}

/// `unleak hook run --commit-msg FILE`: exit 1 when the message holds a token.
fn check_message(path: &Path, file: &Path) -> Result<ExitCode> {
    let repo = Repo::open(path)?;
    let message = std::fs::read(file)
        .with_context(|| format!("cannot read the commit message {}", file.display()))?;
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let secrets = env_secrets(&repo, &mut err)?;
    let findings = staged::message_findings(&message, &secrets, &PatternSet::all());
    if findings.is_empty() {
        return Ok(ExitCode::Clean);
    }
    let count = findings.len();
    writeln!(
        err,
        "unleak: this commit message holds {count} token{}:",
        if count == 1 { "" } else { "s" }
    )?;
    for finding in &findings {
        writeln!(
            err,
            "  line {}  {}  ({})",
            finding.line.unwrap_or(0),
            finding.secret.redacted,
            for_terminal(&describe_what(finding))
        )?;
    }
    writeln!(
        err,
        "Edit the message and commit again (your message is kept in {}). Not a token? \
         `git commit --no-verify` skips the check.",
        for_terminal(&file.display().to_string())
    )?;
    Ok(ExitCode::Found)
}

/// `unleak hook run --pre-push`: exit 1 when a commit about to be pushed adds a token (blob, path or
/// message). git gives the updates on stdin; the pre-commit framework in PRE_COMMIT_FROM_REF/TO_REF.
fn check_push(path: &Path, destination: Option<&str>, config: &HookConfig) -> Result<ExitCode> {
    let repo = Repo::open(path)?;
    // The pre-commit framework names the destination in its own variable.
    let destination = destination.or(config.framework_remote.as_deref());
    let mut updates = Vec::new();
    if let Some((from, to)) = &config.framework_refs {
        let oid = |rev: &str| -> Result<crate::git::Oid> {
            repo.rev_parse_commit(rev)
                .with_context(|| format!("cannot resolve {rev}"))?
                .with_context(|| format!("{rev} is not a commit"))
        };
        updates.push((oid(to)?, oid(from).unwrap_or(crate::git::Oid::zero())));
    } else {
        let mut input = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
            .context("cannot read git's pre-push lines from stdin")?;
        for line in input.lines().filter(|l| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [_, local, _, remote] = fields[..] else {
                bail!("unexpected pre-push line (want: local-ref local-oid remote-ref remote-oid): {}", for_terminal(line));
            };
            let parse = |hex: &str| {
                crate::git::Oid::from_str(hex)
                    .with_context(|| format!("not an object id: {}", for_terminal(hex)))
            };
            updates.push((parse(local)?, parse(remote)?));
        }
    }
    let commits = repo.commits_pushed(&updates, destination)?;
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let secrets = env_secrets(&repo, &mut err)?;
    let unused = std::cell::Cell::new(0);
    let (found, _) =
        staged::range_findings(&repo, &commits, &secrets, &PatternSet::all(), true, &unused)?;
    if found.is_empty() {
        return Ok(ExitCode::Clean);
    }
    let count = found.len();
    writeln!(
        err,
        "unleak: this push would publish {count} token{}:",
        if count == 1 { "" } else { "s" }
    )?;
    for f in &found {
        let short = f.commit.to_string()[..10].to_string();
        let place = match (f.found.location, f.found.line) {
            (crate::model::Location::CommitMessage, _) => "commit message".to_string(),
            (crate::model::Location::Path, _) => format!("{} (file name)", f.found.path),
            (_, Some(line)) => format!("{}:{line}", f.found.path),
            (_, None) => f.found.path.clone(),
        };
        writeln!(
            err,
            "  {short}  {}  {}  ({})",
            for_terminal(&place),
            f.found.secret.redacted,
            for_terminal(&describe_what(&f.found))
        )?;
    }
    writeln!(
        err,
        "Nothing was pushed. Remove the token from those commits first (`git rebase -i`, or \
         `unleak respond`), and revoke it if it ever left this machine. Not a token? \
         `git push --no-verify` skips the check."
    )?;
    Ok(ExitCode::Found)
}

/// What a finding is, in words: the rule (or "a known secret value"), whose value, and its encoding.
fn describe_what(finding: &StagedFinding) -> String {
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
    what
}

/// `unleak hook run`: exit 1 when the staged changes add a token.
fn check(path: &Path, index_file: Option<&Path>) -> Result<ExitCode> {
    let repo = Repo::open(path)?;
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let secrets = env_secrets(&repo, &mut err)?;
    let findings = staged::staged_findings(&repo, &secrets, &PatternSet::all(), index_file)?;
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

/// Why the commit is stopped: each staged token, where, and how to get past it.
fn write_block(findings: &[StagedFinding], err: &mut dyn Write) -> std::io::Result<()> {
    let count = findings.len();
    writeln!(
        err,
        "unleak: this commit would add {count} token{} to history:",
        if count == 1 { "" } else { "s" }
    )?;
    for finding in findings {
        let place = match (finding.location, finding.line) {
            (crate::model::Location::Path, _) => format!("{} (file name)", finding.path),
            (_, Some(line)) => format!("{}:{line}", finding.path),
            (_, None) => finding.path.clone(),
        };
        writeln!(
            err,
            "  {}  {}  ({})",
            for_terminal(&place),
            finding.secret.redacted,
            for_terminal(&describe_what(finding))
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
    globals: &Globals,
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
        if !globals.quiet {
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
