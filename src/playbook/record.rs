//! The incident record: what happened, when, and what is left, for the ticket and the postmortem.
//! It holds redactions and fingerprints only; `--report PATH` writes it as Markdown and `PATH.json`.

use crate::git::Oid;
use crate::model::{Finding, SecretSummary};
use anyhow::{Context, Result};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How a playbook step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "reason")]
pub enum StepStatus {
    /// Done, and confirmed where it can be.
    Done,
    /// Dry run: what would have happened.
    WouldDo(String),
    /// Nothing to do (e.g. the token was already dead).
    NotNeeded(String),
    /// Left undone, on purpose or for lack of an answer.
    Skipped(String),
    /// Tried and not achieved (an API refused, a revocation not confirmed): why.
    Failed(String),
    /// Made ready for the user to run, not done: the rewrite script is written, history is not yet
    /// rewritten. What was prepared.
    Prepared(String),
}

impl StepStatus {
    /// Whether the step leaves work for the user.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            StepStatus::WouldDo(_) | StepStatus::Skipped(_) | StepStatus::Failed(_)
        )
    }
}

/// One step of the playbook as it ended, in the order it ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step's name (`exposure`, `revoke hf_Ab…yz`, `update .env`, …).
    pub step: String,
    /// How it ended, and why when it did not simply finish.
    #[serde(flatten)]
    pub status: StepStatus,
    /// What else the user should know (warnings, what was committed, where the script went).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The exact command (or action) that finishes a step left undone or only prepared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One line of the timeline: first exposure, detection, revocation confirmed, rotation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// When (RFC 3339).
    pub at: String,
    /// What happened, redacted.
    pub event: String,
}

/// Read back (by `verify`) as written, and as older versions wrote it: a missing field is empty, and an
/// entry of a list that no longer parses is skipped rather than failing the whole record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// The record's format (see [`crate::model::FORMAT_VERSION`]).
    #[serde(default)]
    pub format_version: u32,
    /// The unleak version that wrote it.
    #[serde(default)]
    pub tool_version: String,
    /// The repository responded to (its work tree, else its git dir).
    #[serde(default)]
    pub repository: String,
    /// A dry run: the steps say what would have been done.
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default, deserialize_with = "parseable")]
    /// What happened when, oldest first as recorded.
    pub timeline: Vec<TimelineEvent>,
    #[serde(default, deserialize_with = "parseable")]
    /// Each token responded to and its exposure (redacted).
    pub secrets: Vec<SecretSummary>,
    #[serde(default, deserialize_with = "parseable")]
    /// Where in history the tokens are.
    pub findings: Vec<Finding>,
    #[serde(default, deserialize_with = "parseable")]
    /// How each step ended.
    pub steps: Vec<StepRecord>,
    /// The history-rewrite plan as text (no secret: the regex form, or a literal file kept elsewhere).
    #[serde(default)]
    pub rewrite_plan: Option<String>,
    /// filter-repo's first changed commits, when known (for `unleak verify`).
    #[serde(default)]
    pub first_changed_commits: Vec<String>,
    /// Fingerprints of the new token(s) `respond` wrote to `.env`: `verify` given one of these is
    /// checking the wrong token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced_by: Vec<String>,
    /// The exact command that checks the OLD token(s) after the rewrite (fingerprints, no plaintext).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_command: Option<String>,
}

/// The entries of a JSON list that parse as `T` (a record written by another version may hold others).
fn parseable<'de, D, T>(deserializer: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let values = Option::<Vec<serde_json::Value>>::deserialize(deserializer)?;
    Ok(values
        .into_iter()
        .flatten()
        .filter_map(|value| serde_json::from_value(value).ok())
        .collect())
}

impl IncidentRecord {
    pub(crate) fn new(repository: String, dry_run: bool) -> IncidentRecord {
        IncidentRecord {
            format_version: 1,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            repository,
            dry_run,
            timeline: Vec::new(),
            secrets: Vec::new(),
            findings: Vec::new(),
            steps: Vec::new(),
            rewrite_plan: None,
            first_changed_commits: Vec::new(),
            replaced_by: Vec::new(),
            verify_command: None,
        }
    }

    /// Adds the first changed commits filter-repo left in the repository's git dirs (see
    /// [`first_changed_on_disk`]) to the record's own list.
    pub(crate) fn fill_first_changed(&mut self, git_dirs: &[&Path]) {
        for oid in first_changed_on_disk(git_dirs) {
            let oid = oid.to_string();
            if !self.first_changed_commits.contains(&oid) {
                self.first_changed_commits.push(oid);
            }
        }
    }

    pub(crate) fn event(&mut self, at: String, event: impl Into<String>) {
        self.timeline.push(TimelineEvent {
            at,
            event: event.into(),
        });
    }

    pub(crate) fn step(&mut self, step: &str, status: StepStatus, notes: Vec<String>) {
        self.steps.push(StepRecord {
            step: step.to_string(),
            status,
            notes,
            next: None,
        });
    }

    /// How many steps leave work for the user (drives exit code 1).
    pub fn open_steps(&self) -> usize {
        self.steps.iter().filter(|s| s.status.is_open()).count()
    }

    /// Done, prepared (made ready, not done: the script written, history not yet rewritten) and left,
    /// each open one with its next command: the first thing a reader of the ticket needs.
    fn status_markdown(&self, md: &mut String) {
        let _ = writeln!(md, "\n## Status\n");
        let done: Vec<&str> = self
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Done)
            .map(|s| s.step.as_str())
            .collect();
        let _ = writeln!(
            md,
            "- Done: {}",
            if done.is_empty() {
                "nothing".to_string()
            } else {
                done.join(", ")
            }
        );
        for step in &self.steps {
            let label = match &step.status {
                StepStatus::Prepared(_) => "Prepared, not done yet",
                status if status.is_open() => "Left",
                _ => continue,
            };
            let next = step
                .next
                .as_deref()
                .map_or(String::new(), |n| format!("; next: {n}"));
            let _ = writeln!(md, "- {label}: **{}**{next}", step.step);
        }
    }

    /// The record as Markdown, for the ticket.
    pub(crate) fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Leaked token incident record\n");
        let _ = writeln!(md, "- Repository: `{}`", self.repository);
        let _ = writeln!(md, "- Tool: unleak {}", self.tool_version);
        if self.dry_run {
            let _ = writeln!(md, "- **Dry run**: nothing was changed.");
        }
        self.status_markdown(&mut md);
        let _ = writeln!(md, "\n## Timeline\n");
        let mut timeline = self.timeline.clone();
        timeline.sort_by(|a, b| a.at.cmp(&b.at));
        for event in &timeline {
            let _ = writeln!(md, "- {}: {}", event.at, event.event);
        }
        let _ = writeln!(md, "\n## Tokens\n");
        for s in &self.secrets {
            let _ = writeln!(
                md,
                "- `{}` ({}) from {}: {}{}",
                s.secret.redacted,
                s.secret.fingerprint,
                s.origin,
                if s.found { "found" } else { "not found" },
                if s.pushed {
                    format!(", pushed to {}", s.remotes.join(", "))
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(md, "\n## Findings\n");
        if self.findings.is_empty() {
            let _ = writeln!(md, "None.");
        } else {
            let _ = writeln!(md, "| token | where | commit | refs |\n|---|---|---|---|");
            for f in &self.findings {
                let place = match (&f.path, f.line) {
                    (Some(p), Some(l)) => format!("{p}:{l}"),
                    (Some(p), None) => p.clone(),
                    _ => f.location.as_str().to_string(),
                };
                let _ = writeln!(
                    md,
                    "| `{}` | `{}` ({}) | {} | {} |",
                    f.secret.redacted,
                    place.replace('|', "\\|"),
                    f.encoding.as_str(),
                    f.commit
                        .as_deref()
                        .map_or("-".to_string(), |c| format!("`{}`", &c[..12])),
                    if f.refs.is_empty() {
                        if f.reflogs.is_empty() {
                            "unreachable".to_string()
                        } else {
                            "reflog only".to_string()
                        }
                    } else {
                        f.refs.join(", ")
                    }
                );
            }
        }
        let _ = writeln!(md, "\n## Steps\n");
        for s in &self.steps {
            let status = match &s.status {
                StepStatus::Done => "done".to_string(),
                StepStatus::WouldDo(r) => format!("dry run: would {r}"),
                StepStatus::NotNeeded(r) => format!("not needed: {r}"),
                StepStatus::Skipped(r) => format!("**left undone**: {r}"),
                StepStatus::Failed(r) => format!("**failed**: {r}"),
                StepStatus::Prepared(r) => format!("**prepared, not done yet**: {r}"),
            };
            let _ = writeln!(md, "- **{}**: {status}", s.step);
            for note in &s.notes {
                let _ = writeln!(md, "  - {note}");
            }
            if let Some(next) = &s.next {
                let _ = writeln!(md, "  - next: {next}");
            }
        }
        if let Some(plan) = &self.rewrite_plan {
            let _ = writeln!(md, "\n## History rewrite plan\n\n```\n{plan}\n```");
        }
        if let Some(command) = &self.verify_command {
            let _ = writeln!(
                md,
                "\n## After the rewrite\n\nCheck that the OLD token is gone (this names it by fingerprint, so `.env` holding the new token does not matter):\n\n```\n{command}\n```"
            );
        }
        md
    }
}

/// Where `respond` remembers the incident, inside the repository's (common) git dir: git never commits
/// or pushes it, and `unleak verify` run later with no token source finds it there.
pub(crate) fn incident_path(common_dir: &Path) -> PathBuf {
    common_dir.join("unleak").join("incident.json")
}

/// The command that checks the old token(s) by fingerprint.
pub(crate) fn verify_command(fingerprints: &[String]) -> String {
    let mut command = "unleak verify".to_string();
    for fingerprint in fingerprints {
        command.push_str(" --fingerprint ");
        command.push_str(fingerprint);
    }
    command
}

/// Writes the record to [`incident_path`] (a 0700 directory, a 0600 file, written atomically). The
/// record holds redactions and fingerprints only. Returns the path written.
pub(crate) fn remember(common_dir: &Path, record: &IncidentRecord) -> Result<PathBuf> {
    let path = incident_path(common_dir);
    let dir = path.parent().expect("incident path has a parent");
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        anyhow::bail!(
            "{} is a symbolic link; the incident record is not written through it",
            dir.display()
        );
    }
    crate::util::fs::private_dir(dir)?;
    let json = serde_json::to_string_pretty(record)?;
    let opts = crate::util::fs::Atomic::new(0o600, ".unleak-record-");
    crate::util::fs::write_atomic(&path, json.as_bytes(), &opts)?;
    Ok(path)
}

/// What `verify` needs of an incident record (remembered in the git dir, or a `--report` JSON).
#[derive(Debug, Clone, Default)]
pub(crate) struct Recalled {
    pub path: PathBuf,
    /// When `respond` recorded it (the first timeline event), if known.
    pub at: Option<String>,
    /// (redaction, fingerprint) of each leaked token.
    pub secrets: Vec<(String, String)>,
    /// Fingerprints of the new tokens written to `.env`.
    pub replaced_by: Vec<String>,
    pub first_changed: Vec<Oid>,
}

impl Recalled {
    pub fn fingerprints(&self) -> Vec<String> {
        self.secrets.iter().map(|(_, f)| f.clone()).collect()
    }
}

/// Reads an incident record (JSON). Only found tokens count: a token the record lists as "not found"
/// never leaked here.
pub(crate) fn recall(path: &Path) -> Result<Recalled> {
    // A record is a few kilobytes; 16 MiB leaves room for years of incidents.
    let bytes = crate::util::fs::read_regular(path, 16 << 20)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{} is not an incident record (not UTF-8)", path.display()))?;
    let record: IncidentRecord = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an incident record (JSON)", path.display()))?;
    let secrets = record
        .secrets
        .iter()
        .filter(|s| s.found)
        .map(|s| (s.secret.redacted.clone(), s.secret.fingerprint.clone()))
        .collect();
    let first_changed = record
        .first_changed_commits
        .iter()
        .map(|s| Oid::from_str(s).with_context(|| format!("{}: bad commit id {s}", path.display())))
        .collect::<Result<Vec<Oid>>>()?;
    Ok(Recalled {
        path: path.to_path_buf(),
        at: record.timeline.first().map(|event| event.at.clone()),
        secrets,
        replaced_by: record.replaced_by,
        first_changed,
    })
}

/// The first changed commits filter-repo left behind: `filter-repo/first-changed-commits` (a rewrite in
/// place) and `unleak-rewrite/first-changed-commits` (the copy the rewrite script keeps from its mirror),
/// in each of `git_dirs`. Unreadable or malformed files are skipped: this only adds checks.
pub(crate) fn first_changed_on_disk(git_dirs: &[&Path]) -> Vec<Oid> {
    let mut out = Vec::new();
    for dir in git_dirs {
        for sub in ["filter-repo", "unleak-rewrite"] {
            let file = dir.join(sub).join("first-changed-commits");
            if file.is_file() {
                if let Ok(oids) = crate::scan::after_rewrite::read_first_changed(&file) {
                    out.extend(oids);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Sets the next command of the step named `step` (the last one of that name).
pub(super) fn set_next(record: &mut IncidentRecord, step: &str, next: String) {
    if let Some(last) = record.steps.iter_mut().rev().find(|s| s.step == step) {
        last.next = Some(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written_and_older_ones_still_read() {
        let mut record = IncidentRecord::new("/r".to_string(), true);
        record.event("2024-01-01T00:00:00Z".to_string(), "started");
        record.step("revoke", StepStatus::Done, vec!["note".to_string()]);
        record.step("rewrite", StepStatus::Skipped("no".to_string()), Vec::new());
        record.first_changed_commits = vec!["a".repeat(40)];
        let json = serde_json::to_string_pretty(&record).unwrap();
        let back: IncidentRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string_pretty(&back).unwrap(), json);
        assert_eq!(back.steps[1].status, StepStatus::Skipped("no".to_string()));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.json");
        std::fs::write(
            &path,
            r#"{"secrets": [{"secret": {"redacted": "hf_…", "fingerprint": "sha256:ab"}, "origin": ".env",
                "found": true, "findings": 1, "introducing_commits": [], "refs": [], "pushed": false,
                "remotes": [], "in_head": [], "in_index": [], "in_worktree": []}, {"what": "else"}],
                "findings": [{"unknown": 1}], "steps": null}"#,
        )
        .unwrap();
        let recalled = recall(&path).unwrap();
        assert_eq!(
            recalled.secrets,
            vec![("hf_…".to_string(), "sha256:ab".to_string())]
        );
        assert!(recalled.at.is_none() && recalled.first_changed.is_empty());
    }
}
