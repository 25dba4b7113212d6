//! `unleak hook run`: what an installed hook runs. Each check reads only what the commit, its message or
//! the push adds, and exits 1 (with what it found, where, and how to get past it, on stderr) when that
//! holds a token.

use crate::exit_codes::ExitCode;
use crate::git::Repo;
use crate::matching::patterns::PatternSet;
use crate::model::Encoding;
use crate::sanitize::for_terminal;
use crate::scan::staged::{self, StagedFinding};
use crate::secret::Secret;
use crate::{dotenv, tokens};
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;

/// `unleak hook run --commit-msg FILE`: exit 1 when the message holds a token.
pub(crate) fn check_message(path: &Path, file: &Path) -> Result<ExitCode> {
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
/// message). git gives the updates on stdin; the pre-commit framework in PRE_COMMIT_FROM_REF/TO_REF
/// (`framework_refs`, from and to) and names the destination in PRE_COMMIT_REMOTE_NAME
/// (`framework_remote`), both read by `config`.
pub(crate) fn check_push(
    path: &Path,
    destination: Option<&str>,
    framework_remote: Option<&str>,
    framework_refs: Option<&(String, String)>,
) -> Result<ExitCode> {
    let repo = Repo::open(path)?;
    let destination = destination.or(framework_remote);
    let mut updates = Vec::new();
    if let Some((from, to)) = framework_refs {
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
pub(crate) fn check(path: &Path, index_file: Option<&Path>) -> Result<ExitCode> {
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
