//! The incident record: what happened, when, and what is left, for the ticket and the postmortem.
//! It holds redactions and fingerprints only; `--report PATH` writes it as Markdown and `PATH.json`.

use crate::report::{Finding, SecretSummary};
use serde::Serialize;
use std::fmt::Write as _;

/// How a playbook step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "reason")]
pub enum StepStatus {
    Done,
    /// Dry run: what would have happened.
    WouldDo(String),
    /// Nothing to do (e.g. the token was already dead).
    NotNeeded(String),
    /// Left undone, on purpose or for lack of an answer.
    Skipped(String),
    Failed(String),
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

#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub step: String,
    #[serde(flatten)]
    pub status: StepStatus,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEvent {
    pub at: String,
    pub event: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentRecord {
    pub format_version: u32,
    pub tool_version: &'static str,
    pub repository: String,
    pub dry_run: bool,
    pub timeline: Vec<TimelineEvent>,
    pub secrets: Vec<SecretSummary>,
    pub findings: Vec<Finding>,
    pub steps: Vec<StepRecord>,
    /// The history-rewrite plan as text (no secret: the regex form, or a literal file kept elsewhere).
    pub rewrite_plan: Option<String>,
    /// filter-repo's first changed commits, when known (for `unleak verify`).
    pub first_changed_commits: Vec<String>,
}

impl IncidentRecord {
    pub fn new(repository: String, dry_run: bool) -> IncidentRecord {
        IncidentRecord {
            format_version: 1,
            tool_version: env!("CARGO_PKG_VERSION"),
            repository,
            dry_run,
            timeline: Vec::new(),
            secrets: Vec::new(),
            findings: Vec::new(),
            steps: Vec::new(),
            rewrite_plan: None,
            first_changed_commits: Vec::new(),
        }
    }

    pub fn event(&mut self, at: String, event: impl Into<String>) {
        self.timeline.push(TimelineEvent {
            at,
            event: event.into(),
        });
    }

    pub fn step(&mut self, step: &str, status: StepStatus, notes: Vec<String>) {
        self.steps.push(StepRecord {
            step: step.to_string(),
            status,
            notes,
        });
    }

    pub fn open_steps(&self) -> usize {
        self.steps.iter().filter(|s| s.status.is_open()).count()
    }

    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Leaked token incident record\n");
        let _ = writeln!(md, "- Repository: `{}`", self.repository);
        let _ = writeln!(md, "- Tool: unleak {}", self.tool_version);
        if self.dry_run {
            let _ = writeln!(md, "- **Dry run**: nothing was changed.");
        }
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
            };
            let _ = writeln!(md, "- **{}**: {status}", s.step);
            for note in &s.notes {
                let _ = writeln!(md, "  - {note}");
            }
        }
        if let Some(plan) = &self.rewrite_plan {
            let _ = writeln!(md, "\n## History rewrite plan\n\n```\n{plan}\n```");
        }
        md
    }
}
