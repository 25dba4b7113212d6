//! `unleak audit`, the read-only part: hygiene checks, the allowlist (`.unleak.toml`), the baseline, the
//! exit threshold, and a preview of what the playbook would do. The scan itself is the scan engine's
//! (`scan::scan_with` with every provider pattern).

use crate::report::{Finding, HygieneIssue, Report, SecretSummary, Severity, Warning};
use crate::scan::repo::Repo;
use crate::secret::Secret;
use crate::{dotenv, hygiene, providers};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// `.unleak.toml`: findings a team has looked at and accepted, each with a reason.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    #[serde(default)]
    pub allow: Vec<Allow>,
}

/// One entry: exactly one of `fingerprint`, `path` (a glob) or `rule`, and a `reason`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    pub fingerprint: Option<String>,
    pub path: Option<String>,
    pub rule: Option<String>,
    pub reason: String,
}

impl Allowlist {
    pub fn load(path: &Path) -> Result<Allowlist> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let list: Allowlist = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid allowlist", path.display()))?;
        for (i, entry) in list.allow.iter().enumerate() {
            let set = [&entry.fingerprint, &entry.path, &entry.rule]
                .iter()
                .filter(|v| v.is_some())
                .count();
            if set != 1 {
                bail!(
                    "{}: [[allow]] entry {} needs exactly one of fingerprint, path, rule",
                    path.display(),
                    i + 1
                );
            }
            if entry.reason.trim().is_empty() {
                bail!(
                    "{}: [[allow]] entry {} needs a reason",
                    path.display(),
                    i + 1
                );
            }
            if let Some(glob) = &entry.path {
                globset::Glob::new(glob)
                    .with_context(|| format!("{}: bad path glob {glob}", path.display()))?;
            }
        }
        Ok(list)
    }

    fn allows(&self, finding: &Finding) -> bool {
        self.allow.iter().any(|entry| {
            entry.fingerprint.as_deref() == Some(finding.secret.fingerprint.as_str())
                || (entry.rule.is_some() && entry.rule == finding.rule)
                || entry.path.as_deref().is_some_and(|glob| {
                    finding.path.as_deref().is_some_and(|p| {
                        globset::Glob::new(glob)
                            .map(|g| g.compile_matcher().is_match(p))
                            .unwrap_or(false)
                    })
                })
        })
    }

    fn allows_secret(&self, summary: &SecretSummary) -> bool {
        self.allow.iter().any(|entry| {
            entry.fingerprint.as_deref() == Some(summary.secret.fingerprint.as_str())
                || (entry.rule.is_some() && entry.rule == summary.rule)
        })
    }

    /// Hygiene issues are allowed by their id, as a rule (`rule = "hygiene.env-readable"`).
    pub fn allows_issue(&self, issue: &HygieneIssue) -> bool {
        self.allow
            .iter()
            .any(|entry| entry.rule.as_deref() == Some(issue.id.as_str()))
    }
}

/// A previous audit's JSON report: findings in it are known and do not count again.
pub fn load_baseline(path: &Path) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("baseline {} is not a JSON report", path.display()))?;
    let findings = json["findings"]
        .as_array()
        .with_context(|| format!("baseline {} has no findings array", path.display()))?;
    Ok(findings
        .iter()
        .filter_map(|f| serde_json::from_value::<BaselineKey>(f.clone()).ok())
        .map(|k| k.key())
        .collect())
}

#[derive(Deserialize)]
struct BaselineKey {
    secret: BaselineSecret,
    location: String,
    object: String,
    path: Option<String>,
}

#[derive(Deserialize)]
struct BaselineSecret {
    fingerprint: String,
}

impl BaselineKey {
    fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.secret.fingerprint,
            self.location,
            self.object,
            self.path.as_deref().unwrap_or("")
        )
    }
}

fn finding_key(f: &Finding) -> String {
    format!(
        "{}|{}|{}|{}",
        f.secret.fingerprint,
        f.location.as_str(),
        f.object,
        f.path.as_deref().unwrap_or("")
    )
}

/// Drops what the allowlist and the baseline accept; returns how many findings were dropped.
pub fn suppress(report: &mut Report, allowlist: &Allowlist, baseline: &HashSet<String>) -> usize {
    let before = report.findings.len();
    report
        .findings
        .retain(|f| !allowlist.allows(f) && !baseline.contains(&finding_key(f)));
    let dropped = before - report.findings.len();
    let remaining: HashSet<&str> = report
        .findings
        .iter()
        .map(|f| f.secret.fingerprint.as_str())
        .collect();
    let remaining: HashSet<String> = remaining.into_iter().map(str::to_string).collect();
    report.secrets.retain(|s| {
        !allowlist.allows_secret(s)
            && (remaining.contains(&s.secret.fingerprint)
                || ((!s.in_head.is_empty() || !s.in_index.is_empty() || !s.in_worktree.is_empty())
                    && s.findings == 0))
    });
    for summary in &mut report.secrets {
        summary.findings = report
            .findings
            .iter()
            .filter(|f| f.secret.fingerprint == summary.secret.fingerprint)
            .count();
    }
    dropped
}

/// The repository's hygiene, in the user's terms. `env_path` is the `.env` the audit read (if any).
pub fn hygiene_issues(
    repo: &Repo,
    report: &Report,
    env_path: Option<&Path>,
    env_history: &[(String, String)],
) -> Result<Vec<HygieneIssue>> {
    let mut issues = Vec::new();
    let workdir = repo.workdir.as_deref();
    if let (Some(path), Some(workdir)) = (env_path.filter(|p| p.is_file()), workdir) {
        let shown = path
            .strip_prefix(workdir)
            .unwrap_or(path)
            .display()
            .to_string();
        let plan = hygiene::plan(path, "HF_TOKEN", "", &hygiene::Environment::default())?;
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
            if mode & 0o077 != 0 {
                issues.push(issue(
                    "hygiene.env-readable",
                    format!("{shown} has mode {:o}: other users on this machine can read it (chmod 600)", mode & 0o777),
                    Some(&shown),
                    Severity::Low,
                ));
            }
        }
        // Which token do scripts use? The shell's HF_TOKEN wins over .env for huggingface_hub.
        let env = dotenv::read(path)?;
        if let (Some(in_file), Ok(in_shell)) = (env.get("HF_TOKEN"), std::env::var("HF_TOKEN")) {
            if !in_file.is_empty() && in_shell != in_file {
                issues.push(issue(
                    "hygiene.env-var-differs",
                    format!("the shell's HF_TOKEN differs from {shown}'s: huggingface_hub uses the shell's, scripts that load .env may use the other"),
                    Some(&shown),
                    Severity::Low,
                ));
            }
        }
    }
    // .env-like files committed at some point, with the commits that added them.
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
    // A known token hardcoded in a tracked file at HEAD, or staged.
    for summary in &report.secrets {
        for path in summary.in_head.iter().filter(|p| !is_env_path(p)) {
            issues.push(issue(
                "hygiene.token-in-head",
                format!("{} is hardcoded in {path} at HEAD", summary.secret.redacted),
                Some(path),
                exposure(summary),
            ));
        }
        for path in summary
            .in_index
            .iter()
            .filter(|p| !summary.in_head.contains(p) && !is_env_path(p))
        {
            issues.push(issue(
                "hygiene.token-staged",
                format!(
                    "{} is staged in {path}: the next commit adds it",
                    summary.secret.redacted
                ),
                Some(path),
                exposure(summary),
            ));
        }
    }
    Ok(issues)
}

/// A token at HEAD or staged is as exposed as the token itself: high once pushed, else medium.
fn exposure(summary: &SecretSummary) -> Severity {
    if summary.pushed {
        Severity::High
    } else {
        Severity::Medium
    }
}

/// A dotenv file is reported by its own hygiene checks (tracked, in history), not again as a hardcoded token.
fn is_env_path(path: &str) -> bool {
    crate::scan::provenance::is_env_name(path.rsplit('/').next().unwrap_or(path).as_bytes())
}

fn issue(id: &str, message: String, path: Option<&str>, severity: Severity) -> HygieneIssue {
    HygieneIssue {
        id: id.to_string(),
        message,
        path: path.map(str::to_string),
        commits: Vec::new(),
        severity,
    }
}

/// What the playbook would do for one leaked token (computed, not run: no prompt, network or write).
#[derive(Debug, Clone, Serialize)]
pub struct PlaybookPreview {
    pub secret: crate::report::SecretRef,
    pub provider: Option<String>,
    /// Where and how to revoke it.
    pub revoke: String,
    /// The filter-repo expression `unleak respond` would start from (checked for uniqueness at respond
    /// time; widened or replaced by `--literal` if it matches other text).
    pub rewrite_expression: Option<String>,
    pub rewrite_messages: bool,
}

pub fn playbook_preview(report: &Report, secrets: &[Secret]) -> Vec<PlaybookPreview> {
    report
        .secrets
        .iter()
        .filter(|s| s.found)
        .filter_map(|summary| {
            let secret = secrets.iter().find(|s| s.fingerprint() == summary.secret.fingerprint)?;
            let provider = providers::identify(secret.expose());
            let revoke = match provider {
                Some(p) if p.id == providers::HUGGING_FACE.id => format!(
                    "POST {}/api/credentials/revoke (no login), or delete it at {}; confirm with whoami-v2 (401)",
                    crate::playbook::hf_api::endpoint_from_env(),
                    crate::playbook::hf_api::page_on_endpoint(p.revoke_url.unwrap_or_default())
                ),
                Some(p) => match p.revoke_url {
                    Some(url) => format!("revoke it at {url}"),
                    None => format!("revoke it with {}", p.name),
                },
                None => "revoke it where it was issued".to_string(),
            };
            let mine = report.findings.iter().filter(|f| f.secret.fingerprint == summary.secret.fingerprint);
            let rewrite_messages = mine.clone().any(|f| {
                matches!(f.location, crate::report::Location::CommitMessage | crate::report::Location::TagMessage)
            });
            Some(PlaybookPreview {
                secret: summary.secret.clone(),
                provider: provider.map(|p| p.id.to_string()),
                revoke,
                rewrite_expression: crate::filter_repo::regex_expression(secret),
                rewrite_messages,
            })
        })
        .collect()
}

/// Whether anything at or above `threshold` remains.
pub fn fails(report: &Report, threshold: Severity) -> bool {
    report.findings.iter().any(|f| f.severity >= threshold)
        || report
            .secrets
            .iter()
            .any(|s| s.severity.is_some_and(|v| v >= threshold))
        || report.hygiene.iter().any(|h| h.severity >= threshold)
}

/// A warning for suppressed findings, so a quiet report is never mistaken for a clean one.
pub fn suppressed_warning(count: usize) -> Option<Warning> {
    (count > 0).then(|| {
        Warning::new(
            "suppressed",
            format!("{count} finding(s) suppressed by the allowlist or baseline"),
        )
    })
}
