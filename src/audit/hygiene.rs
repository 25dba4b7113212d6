//! The hygiene issues an audit reports: the work tree's `.env` (not ignored, tracked, readable by others,
//! overridden by the shell), `.env` files in history, tokens hardcoded at HEAD or staged. (`crate::hygiene`
//! is the `.env` hygiene plan setup and respond apply; audit reads its plan and changes nothing.)

use crate::child::Spawner;
use crate::environment::Environment;
use crate::git::Repo;
use crate::model::{HygieneIssue, Report, SecretRef, Severity};
use crate::secret::Secret;
use crate::{dotenv, hygiene};
use anyhow::Result;
use std::path::Path;

/// The repository's hygiene, in the user's terms. `env_path` is the `.env` the audit read (if any).
pub(crate) fn hygiene_issues(
    repo: &Repo,
    report: &Report,
    secrets: &[Secret],
    env_path: Option<&Path>,
    env_history: &[(String, String)],
    env: &Environment,
    spawner: &Spawner,
) -> Result<Vec<HygieneIssue>> {
    let mut issues = Vec::new();
    let workdir = repo.workdir.as_deref();
    if let (Some(path), Some(workdir)) = (env_path.filter(|p| p.is_file()), workdir) {
        issues.extend(env_file_issues(path, workdir, env, spawner)?);
    }
    issues.extend(env_history_issues(env_history));
    issues.extend(token_issues(repo, report, secrets));
    Ok(issues)
}

/// Whether any value of the `.env` at `path` looks like a secret (the values audit searches for).
fn holds_secret(path: &Path) -> Result<bool> {
    let env = dotenv::read(path)?;
    Ok(env.entries().into_iter().any(|(key, value)| {
        crate::tokens::normalize(&value, &key).is_ok_and(|v| crate::tokens::looks_like_secret(&v))
    }))
}

/// The `.env` file of the work tree: not ignored, tracked, readable by others, overridden by the shell.
fn env_file_issues(
    path: &Path,
    workdir: &Path,
    shell: &Environment,
    spawner: &Spawner,
) -> Result<Vec<HygieneIssue>> {
    let mut issues = Vec::new();
    let shown = path
        .strip_prefix(workdir)
        .unwrap_or(path)
        .display()
        .to_string();
    let plan = hygiene::plan(path, "HF_TOKEN", "", &Environment::default(), spawner)?;
    for action in &plan.actions {
        if let hygiene::Action::Ignore { .. } = action {
            issues.push(issue(
                "hygiene.env-not-ignored",
                format!("{shown} is not ignored by git: one `git add .` commits it"),
                Some(&shown),
                Severity::Medium,
            ));
        }
    }
    for warning in &plan.warnings {
        if let hygiene::Warning::Tracked { .. } = warning {
            issues.push(issue(
                "hygiene.env-tracked",
                format!("{shown} is tracked by git: every commit carries its secrets"),
                Some(&shown),
                Severity::Medium,
            ));
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        // Readable by others matters for what a reader could take: a file with no secret-looking value
        // (settings only) is not an issue.
        if mode & 0o077 != 0 && holds_secret(path)? {
            issues.push(issue(
                "hygiene.env-readable",
                format!(
                    "{shown} has mode {:o}: other users on this machine can read it (chmod 600)",
                    mode & 0o777
                ),
                Some(&shown),
                Severity::Low,
            ));
        }
    }
    // Which token do scripts use? The shell's HF_TOKEN wins over .env for huggingface_hub.
    let env = dotenv::read(path)?;
    if let (Some(in_file), Some(in_shell)) = (env.get("HF_TOKEN"), shell.var("HF_TOKEN")) {
        if !in_file.is_empty() && in_shell != in_file {
            issues.push(issue(
                "hygiene.env-var-differs",
                format!("the shell's HF_TOKEN differs from {shown}'s: huggingface_hub uses the shell's, scripts that load .env may use the other"),
                Some(&shown),
                Severity::Low,
            ));
        }
    }
    Ok(issues)
}

/// `.env`-like files committed at some point, with the commits that added them.
fn env_history_issues(env_history: &[(String, String)]) -> Vec<HygieneIssue> {
    let mut issues = Vec::new();
    let mut by_path: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (path, commit) in env_history {
        by_path.entry(path).or_default().push(commit.clone());
    }
    for (path, commits) in by_path {
        let mut item = issue(
            "hygiene.env-in-history",
            format!(
                "{path} was committed ({} commit(s)): whatever it held is in history",
                commits.len()
            ),
            Some(path),
            Severity::Medium,
        );
        item.commits = commits;
        issues.push(item);
    }
    issues
}

/// Tokens hardcoded in a tracked file at HEAD, or staged: one issue per token and file, on the token's
/// line at HEAD.
fn token_issues(repo: &Repo, report: &Report, secrets: &[Secret]) -> Vec<HygieneIssue> {
    let mut issues = Vec::new();
    // A known token hardcoded in a tracked file at HEAD, or staged. A dotenv file is reported by its own
    // hygiene checks (tracked, in history), not again as a hardcoded token.
    for summary in &report.secrets {
        for path in summary.in_head.iter().filter(|p| !dotenv::is_env_path(p)) {
            let mut item = issue(
                "hygiene.token-in-head",
                format!("{} is hardcoded in {path} at HEAD", summary.secret.redacted),
                Some(path),
                Severity::of_live_copy(summary.pushed, summary.live.as_deref() == Some("dead")),
            );
            item.line = line_at_head(repo, report, secrets, &summary.secret, path);
            item.secret = Some(summary.secret.clone());
            issues.push(item);
        }
        for path in summary
            .in_index
            .iter()
            .filter(|p| !summary.in_head.contains(p) && !dotenv::is_env_path(p))
        {
            let mut item = issue(
                "hygiene.token-staged",
                format!(
                    "{} is staged in {path}: the next commit adds it",
                    summary.secret.redacted
                ),
                Some(path),
                Severity::of_live_copy(summary.pushed, summary.live.as_deref() == Some("dead")),
            );
            item.secret = Some(summary.secret.clone());
            issues.push(item);
        }
    }
    issues
}

/// The line of HEAD's `path` where `secret` first is: from a finding on HEAD's blob (any encoding), else
/// by searching the blob for the plain value. None when HEAD's blob cannot be found (a path shown
/// scrubbed, an unreadable tree).
fn line_at_head(
    repo: &Repo,
    report: &Report,
    secrets: &[Secret],
    secret: &SecretRef,
    path: &str,
) -> Option<u32> {
    let mut tree = repo.commit_meta(repo.head_commit()?).ok()?.tree;
    let mut parts = path.split('/').peekable();
    let blob = loop {
        let name = parts.next()?;
        let (_, oid, _) = repo
            .tree_entries(tree)?
            .into_iter()
            .find(|(n, _, _)| n.as_slice() == name.as_bytes())?;
        if parts.peek().is_none() {
            break oid;
        }
        tree = oid;
    };
    let blob_hex = blob.to_string();
    if let Some(line) = report
        .findings
        .iter()
        .filter(|f| f.object == blob_hex && f.secret.fingerprint == secret.fingerprint)
        .filter_map(|f| f.lines.iter().copied().min().or(f.line))
        .min()
    {
        return Some(line);
    }
    let value = secrets
        .iter()
        .find(|s| s.fingerprint() == secret.fingerprint)?;
    let content = repo.read_blob(blob).ok()?;
    let at = memchr::memmem::find(&content, value.expose().as_bytes())?;
    Some(memchr::memchr_iter(b'\n', &content[..at]).count() as u32 + 1)
}

fn issue(id: &str, message: String, path: Option<&str>, severity: Severity) -> HygieneIssue {
    HygieneIssue {
        id: id.to_string(),
        message,
        path: path.map(str::to_string),
        commits: Vec::new(),
        severity,
        secret: None,
        line: None,
    }
}
