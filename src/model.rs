//! The report model: what scan, audit and verify found, as plain serde data. It imports nothing of ours
//! but `secret`, so every module can name it and none of them pulls the engine, the CLI or a renderer in
//! with it. No secret value can reach it: it holds redactions and fingerprints only. Everything reads
//! back too (`Deserialize`): baselines and incident records are read as these types.

use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning or disappears (adding fields does not bump it).
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    #[serde(default)]
    pub format_version: u32,
    #[serde(default)]
    pub tool: Tool,
    /// The command that produced it: `scan`, `audit`, `verify`.
    #[serde(default)]
    pub command: String,
    pub repository: RepositoryInfo,
    /// One entry per token searched for, found or not.
    #[serde(default)]
    pub secrets: Vec<SecretSummary>,
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// Audit only: repository hygiene problems (an unignored or tracked `.env`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hygiene: Vec<HygieneIssue>,
    /// Audit only: what the playbook would do for each leaked token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playbook: Vec<PlaybookPreview>,
    /// Present for `unleak verify`: the post-rewrite checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// Whether every object could be read: "no leak found" means clean only when it could.
    #[serde(default)]
    pub completeness: Completeness,
    #[serde(default)]
    pub stats: Stats,
}

/// What the scan could not read. A scan that could not read everything cannot say "clean": the exit code
/// is 2 (incomplete) unless a leak was found anyway (1) or `--allow-incomplete` accepts it (0).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Completeness {
    /// Every object was read, and the history is not cut short (not shallow).
    pub complete: bool,
    /// Incomplete, and accepted with `--allow-incomplete`.
    pub accepted: bool,
    /// Objects present but damaged (corrupt, truncated, a bad delta base).
    pub unreadable_objects: u64,
    /// Objects that trees or commits name but the database lacks (a partial clone's unfetched blobs, or
    /// deleted object files).
    pub missing_objects: u64,
    pub shallow: bool,
    pub partial: bool,
    /// Why it is incomplete, one line each (empty when complete).
    pub reasons: Vec<String>,
}

impl Completeness {
    pub fn new(shallow: bool, partial: bool, unreadable: u64, missing: u64) -> Completeness {
        let mut reasons = Vec::new();
        if unreadable > 0 {
            reasons.push(format!("{unreadable} object(s) could not be read"));
        }
        if missing > 0 {
            reasons.push(format!(
                "{missing} object(s) that history names are missing{}",
                if partial { " (partial clone)" } else { "" }
            ));
        }
        if shallow {
            reasons.push("shallow clone: history past the boundary is not here".to_string());
        }
        Completeness {
            complete: reasons.is_empty(),
            accepted: false,
            unreadable_objects: unreadable,
            missing_objects: missing,
            shallow,
            partial,
            reasons,
        }
    }

    /// Whether "nothing found" may be reported as clean: complete, or accepted as it is.
    pub fn allows_clean(&self) -> bool {
        self.complete || self.accepted
    }

    /// One line for people: what was not read.
    pub fn summary(&self) -> String {
        self.reasons.join("; ")
    }
}

impl Report {
    /// Applies `scrub` to every piece of untrusted text the report repeats: paths, ref, tag and remote
    /// names, remote URLs, commit summaries, authors, warning and hygiene messages. A name can itself
    /// hold a token (`git branch leak-hf_…`); every renderer (human, JSON, SARIF) then shows the scrubbed
    /// text only.
    pub fn scrub_untrusted(&mut self, scrub: impl Fn(String) -> String) {
        let each = |texts: &mut Vec<String>| {
            for text in texts.iter_mut() {
                *text = scrub(std::mem::take(text));
            }
        };
        for remote in &mut self.repository.remotes {
            remote.name = scrub(std::mem::take(&mut remote.name));
            if let Some(url) = &mut remote.url {
                *url = scrub(std::mem::take(url));
            }
        }
        for summary in &mut self.secrets {
            for list in [
                &mut summary.refs,
                &mut summary.remotes,
                &mut summary.in_head,
                &mut summary.in_index,
                &mut summary.in_worktree,
            ] {
                each(list);
            }
        }
        for finding in &mut self.findings {
            for text in [&mut finding.path, &mut finding.summary, &mut finding.author]
                .into_iter()
                .flatten()
            {
                *text = scrub(std::mem::take(text));
            }
            each(&mut finding.refs);
            each(&mut finding.reflogs);
            each(&mut finding.remotes);
        }
        for warning in &mut self.warnings {
            warning.message = scrub(std::mem::take(&mut warning.message));
        }
        for issue in &mut self.hygiene {
            issue.message = scrub(std::mem::take(&mut issue.message));
            if let Some(path) = &mut issue.path {
                *path = scrub(std::mem::take(path));
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepositoryInfo {
    pub path: String,
    pub bare: bool,
    pub shallow: bool,
    pub partial: bool,
    /// The commit HEAD points to (null in an empty repository).
    pub head: Option<String>,
    pub remotes: Vec<RemoteInfo>,
}

/// How a finding's secret is named: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRef {
    pub redacted: String,
    pub fingerprint: String,
}

/// One token and everything known about its exposure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretSummary {
    pub secret: SecretRef,
    /// Where the token came from (`.env:HF_TOKEN`, or `pattern` when audit discovered it), not where it
    /// leaked.
    #[serde(default)]
    pub origin: String,
    /// The issuer, when the value has a known shape (`huggingface`).
    pub provider: Option<String>,
    /// The provider rule the value matches (`huggingface.user-token`), when any.
    pub rule: Option<String>,
    /// The worst exposure among its findings (null when not found).
    pub severity: Option<Severity>,
    /// With `audit --verify`: `live`, `dead` or `unknown` (absent when not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
    /// With `audit --verify`: how we know, or why it is unknown (`no-check: …`, `network: …`,
    /// `tls: …`, `timeout: …`, `rate-limited: …`, `unexpected-answer: …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_reason: Option<String>,
    #[serde(default)]
    pub found: bool,
    /// Findings for this token.
    #[serde(default)]
    pub findings: usize,
    /// Distinct commits that introduced it.
    #[serde(default)]
    pub introducing_commits: Vec<String>,
    /// Every ref (and stash entry) that still carries it.
    #[serde(default)]
    pub refs: Vec<String>,
    /// Whether a remote-tracking ref carries it: then assume it is public.
    #[serde(default)]
    pub pushed: bool,
    /// The remotes it was pushed to.
    #[serde(default)]
    pub remotes: Vec<String>,
    /// Paths holding it in HEAD's tree.
    #[serde(default)]
    pub in_head: Vec<String>,
    /// Paths holding it in the index (staged).
    #[serde(default)]
    pub in_index: Vec<String>,
    /// Files of the working tree (tracked or not ignored) holding it.
    #[serde(default)]
    pub in_worktree: Vec<String>,
    /// Earliest commit date of an introducing commit that reached a remote, else of any (RFC 3339).
    pub first_exposure: Option<String>,
}

/// Exposure, for audit thresholds (`--fail-on`) and SARIF levels.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Only in unreachable objects or reflogs: gone at the next `git gc` once reflogs expire.
    /// (The default only for reports written before severities, read back as baselines.)
    #[default]
    Low,
    /// In local history (branches, tags, stash, the index or working tree), not pushed.
    Medium,
    /// Pushed to a remote: assume it is public.
    High,
}

impl Severity {
    /// Exposure of one occurrence in history: pushed, else held by a local ref, else only reflogs or
    /// nothing.
    pub fn exposure(pushed: bool, reachable: bool) -> Severity {
        match (pushed, reachable) {
            (true, _) => Severity::High,
            (false, true) => Severity::Medium,
            (false, false) => Severity::Low,
        }
    }

    /// A token at HEAD or staged is as exposed as the token itself: high once pushed, else medium; low
    /// once `--verify` found it dead (rotated: what is left is cleanup).
    pub fn of_live_copy(pushed: bool, dead: bool) -> Severity {
        if dead {
            Severity::Low
        } else if pushed {
            Severity::High
        } else {
            Severity::Medium
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// Where in git a finding sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Location {
    /// File contents.
    Blob,
    /// A file or directory name.
    Path,
    CommitMessage,
    TagMessage,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Blob => "blob",
            Location::Path => "path",
            Location::CommitMessage => "commit-message",
            Location::TagMessage => "tag-message",
        }
    }
}

/// One place a token was introduced, with what still carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub secret: SecretRef,
    pub location: Location,
    pub encoding: Encoding,
    /// The object holding the bytes: a blob, a tree (path), a commit or a tag.
    pub object: String,
    /// The commit that introduced it (null for a blob no commit holds).
    pub commit: Option<String>,
    pub path: Option<String>,
    /// 1-based line of the first occurrence (text only).
    pub line: Option<u32>,
    /// Every line it occurs on, when more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<u32>,
    pub author: Option<String>,
    /// Author date, RFC 3339.
    pub date: Option<String>,
    /// First line of the commit or tag message.
    pub summary: Option<String>,
    /// Refs whose history holds it, including stash entries (`refs/stash@{1}`).
    #[serde(default)]
    pub refs: Vec<String>,
    /// Reflog entries that hold it (local only; they expire).
    #[serde(default)]
    pub reflogs: Vec<String>,
    /// Reachable from a ref (not only from a reflog).
    #[serde(default)]
    pub reachable: bool,
    #[serde(default)]
    pub pushed: bool,
    #[serde(default)]
    pub remotes: Vec<String>,
    /// The provider rule the secret matches, when any.
    pub rule: Option<String>,
    /// Exposure of this occurrence: pushed (high), local history (medium), unreachable or reflog only (low).
    #[serde(default)]
    pub severity: Severity,
}

/// A hygiene problem found by `unleak audit`: not a leak by itself, but how the next one happens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HygieneIssue {
    /// Stable id, also the SARIF rule id: `hygiene.env-not-ignored`, `hygiene.env-tracked`,
    /// `hygiene.env-in-history`, `hygiene.env-readable`, `hygiene.token-in-head`, `hygiene.token-staged`,
    /// `hygiene.env-var-differs`.
    pub id: String,
    pub message: String,
    /// The file concerned, relative to the working tree, when there is one.
    pub path: Option<String>,
    /// Commits concerned (e.g. those that committed `.env`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    #[serde(default)]
    pub severity: Severity,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warning {
    /// Stable id: `shallow`, `partial-clone`, `unreadable-object`, `submodule`, `lfs`, `env-duplicate-key`, …
    pub kind: String,
    pub message: String,
}

impl Warning {
    pub fn new(kind: &str, message: impl Into<String>) -> Warning {
        Warning {
            kind: kind.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    pub objects: u64,
    pub blobs: u64,
    pub commits: u64,
    pub bytes: u64,
    pub unreadable_objects: u64,
    pub elapsed_ms: u64,
    /// Listing the objects (pack indexes, loose objects).
    pub enumerate_ms: u64,
    /// The bulk pass over every object; the rest of `elapsed_ms` is provenance and reporting.
    pub pass_ms: u64,
}

impl Report {
    /// Whether anything leaked (drives exit code 1).
    pub fn found(&self) -> bool {
        !self.findings.is_empty() || self.secrets.iter().any(|s| s.found)
    }
}

/// The form in which a token was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Plain,
    Base64,
    Utf16le,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::Base64 => "base64",
            Encoding::Utf16le => "utf16le",
        }
    }
}

/// A remote and its URL with any credentials masked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteInfo {
    pub name: String,
    pub url: Option<String>,
}

/// What `unleak verify` adds to a scan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Verification {
    /// The commits filter-repo reported as first changed, and whether anything still has them.
    pub first_changed: Vec<FirstChanged>,
    /// Files under the git directory (outside `objects/`) that hold the token.
    pub git_dir_files: Vec<String>,
    /// Files unleak itself leaves in the work tree (`.env` backups, the temp file of an interrupted
    /// write) that hold the token: an ignored one is invisible to the scan of the work tree.
    pub leftover_files: Vec<String>,
    /// Refs a rewrite leaves behind (`refs/original/*`, `refs/replace/*`), held or not.
    pub leftover_refs: Vec<String>,
    /// True when nothing carries the token and every first changed commit is gone.
    pub clean: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirstChanged {
    pub commit: String,
    /// The old commit is still in the object database.
    pub exists: bool,
    /// Refs that still contain it (any one means the old history is still served).
    pub refs: Vec<String>,
}

/// What the playbook would do for one leaked token (computed, not run: no prompt, network or write).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlaybookPreview {
    pub secret: SecretRef,
    pub provider: Option<String>,
    /// Where and how to revoke it.
    pub revoke: String,
    /// The filter-repo expression `unleak respond` would start from (checked for uniqueness at respond
    /// time; widened or replaced by `--literal` if it matches other text).
    pub rewrite_expression: Option<String>,
    pub rewrite_messages: bool,
}
