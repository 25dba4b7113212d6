//! The report model: what scan, audit and verify found, as plain serde data. It imports nothing of ours
//! but `secret`, so every module can name it and none of them pulls the engine, the CLI or a renderer in
//! with it. No secret value can reach it: it holds redactions and fingerprints only. Everything reads
//! back too (`Deserialize`): baselines and incident records are read as these types.

use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning or disappears (adding fields does not bump it).
pub const FORMAT_VERSION: u32 = 1;

/// One run's answer: what `scan`, `audit` or `verify` searched, found and could not read. Every
/// renderer (human, JSON, SARIF) reads only this; `--format json` prints it as is (docs/report-format.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// [`FORMAT_VERSION`] at the time of writing, so a reader can tell an older document.
    #[serde(default)]
    pub format_version: u32,
    /// The program that wrote it.
    #[serde(default)]
    pub tool: Tool,
    /// The command that produced it: `scan`, `audit`, `verify`.
    #[serde(default)]
    pub command: String,
    /// The repository searched.
    pub repository: RepositoryInfo,
    /// One entry per token searched for, found or not.
    #[serde(default)]
    pub secrets: Vec<SecretSummary>,
    /// Every place a token was introduced (renderers group them by token).
    pub findings: Vec<Finding>,
    /// What the reader should know about the search itself (shallow clone, unreadable objects, …).
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// Audit only: repository hygiene problems (an unignored or tracked `.env`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hygiene: Vec<HygieneIssue>,
    /// Audit only: what the playbook would do for each leaked token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playbook: Vec<PlaybookPreview>,
    /// Scan and respond: copies of a token outside git history on this machine (a remote URL in
    /// `.git/config`, a credential file, the Hugging Face token file, shell history), each with its fix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_copies: Vec<LocalCopy>,
    /// Present for `unleak verify`: the post-rewrite checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// Whether every object could be read: "no leak found" means clean only when it could.
    #[serde(default)]
    pub completeness: Completeness,
    /// What was read and how long it took.
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
    /// The repository is a shallow clone: history past its boundary was not searched.
    pub shallow: bool,
    /// The repository is a partial clone: blobs the server did not send were not searched.
    pub partial: bool,
    /// Why it is incomplete, one line each (empty when complete).
    pub reasons: Vec<String>,
}

impl Completeness {
    /// From what the pass saw; fills `reasons` and sets `complete` when there are none. `accepted`
    /// starts false (`--allow-incomplete` sets it afterwards).
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

/// The program that wrote a report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Tool {
    /// The crate name: `unleak`.
    pub name: String,
    /// The crate version that wrote the report.
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

/// The repository a report is about.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepositoryInfo {
    /// The working tree root, or the git directory of a bare repository.
    pub path: String,
    /// No working tree.
    pub bare: bool,
    /// A shallow clone (history is cut short).
    pub shallow: bool,
    /// A partial clone (some objects were never fetched).
    pub partial: bool,
    /// The commit HEAD points to (null in an empty repository).
    pub head: Option<String>,
    /// Its remotes, URLs with credentials masked.
    pub remotes: Vec<RemoteInfo>,
}

/// A copy of a token outside git history: where (never the value) and how to remove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalCopy {
    /// The token, redacted and fingerprinted.
    pub secret: SecretRef,
    /// What holds it, in words: "remote origin's URL", "the Hugging Face token file", "shell history".
    pub place: String,
    /// The file that holds it.
    pub path: String,
    /// Inside the repository (its git dir or work tree): `respond` offers to fix these.
    pub inside_repository: bool,
    /// The fix, as a command or an action.
    pub fix: String,
}

/// How a finding's secret is named: never its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRef {
    /// The issuer's prefix, two characters after it and the last two (`hf_Ab…yz`); a short value shows
    /// only its length.
    pub redacted: String,
    /// `sha256:<hex>` for a provider token or a hard-to-guess value, else `keyed:<hex>` (comparable within
    /// one report only).
    pub fingerprint: String,
}

/// One token and everything known about its exposure; the default is a token found nowhere.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SecretSummary {
    /// Which token.
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
    /// Whether it occurs anywhere searched (history, index, working tree).
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

    /// One step lower (low stays low): a finding of a low-confidence rule (the generic one) may not be
    /// a key at all, so it ranks below a provider's key exposed the same way.
    pub fn lowered(self) -> Severity {
        match self {
            Severity::High => Severity::Medium,
            Severity::Medium | Severity::Low => Severity::Low,
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

    /// The lowercase name used in JSON and SARIF (`low`, `medium`, `high`).
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
    /// A commit's message.
    CommitMessage,
    /// An annotated tag's message.
    TagMessage,
}

impl Location {
    /// The kebab-case name used in JSON and SARIF (`blob`, `path`, `commit-message`, `tag-message`).
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
    /// Which token.
    pub secret: SecretRef,
    /// What part of git holds it.
    pub location: Location,
    /// The form it was found in.
    pub encoding: Encoding,
    /// The object holding the bytes: a blob, a tree (path), a commit or a tag.
    pub object: String,
    /// The commit that introduced it (null for a blob no commit holds).
    pub commit: Option<String>,
    /// The file's path in the introducing commit (null for messages and blobs no commit holds); a token
    /// in the path itself is redacted.
    pub path: Option<String>,
    /// 1-based line of the first occurrence (text only).
    pub line: Option<u32>,
    /// Every line it occurs on, when more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<u32>,
    /// The introducing commit's author, `Name <email>`.
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
    /// A remote-tracking ref carries it: assume it is public.
    #[serde(default)]
    pub pushed: bool,
    /// The remotes whose tracking refs carry it.
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
    /// One sentence for people: what is wrong and what to do.
    pub message: String,
    /// The file concerned, relative to the working tree, when there is one.
    pub path: Option<String>,
    /// Commits concerned (e.g. those that committed `.env`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    /// How serious, on the findings' scale: `audit --fail-on` compares it like a finding's.
    #[serde(default)]
    pub severity: Severity,
    /// The token concerned, for a token's issue (`hygiene.token-in-head`, `hygiene.token-staged`): two
    /// tokens in one file are two issues, told apart by it (SARIF: two alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretRef>,
    /// The line of `path` the issue is about (1-based), when known: where a hardcoded token is at HEAD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// Something the reader should know about the search (not a finding): what was skipped or assumed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Warning {
    /// Stable id: `shallow`, `partial-clone`, `unreadable-object`, `submodule`, `lfs`, `env-duplicate-key`, …
    pub kind: String,
    /// The warning for people.
    pub message: String,
}

impl Warning {
    /// A warning of stable `kind` (see [`Warning::kind`]).
    pub fn new(kind: &str, message: impl Into<String>) -> Warning {
        Warning {
            kind: kind.to_string(),
            message: message.into(),
        }
    }
}

/// What the object pass read, and how long the run took.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Objects read, of every kind (an object stored twice counts once; unreadable ones not at all).
    pub objects: u64,
    /// Blobs among them.
    pub blobs: u64,
    /// Commits among them.
    pub commits: u64,
    /// Their inflated size in bytes.
    pub bytes: u64,
    /// Objects that could not be read (also in [`Completeness::unreadable_objects`]).
    pub unreadable_objects: u64,
    /// The whole scan in milliseconds: listing, the pass, provenance and building the report.
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
    /// The token's bytes as they are.
    Plain,
    /// Inside base64 text, at any of the three alignments.
    Base64,
    /// As UTF-16 little-endian (Windows text files, some binary formats).
    Utf16le,
}

impl Encoding {
    /// The lowercase name used in JSON and SARIF (`plain`, `base64`, `utf16le`).
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
    /// The remote's name (`origin`).
    pub name: String,
    /// Its URL, credentials masked; null when it has none (or none in UTF-8).
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

/// A commit the rewrite replaced first on some branch, and whether the old one is still around.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirstChanged {
    /// The old commit's id, as filter-repo or the incident record lists it.
    pub commit: String,
    /// The old commit is still in the object database.
    pub exists: bool,
    /// Refs that still contain it (any one means the old history is still served).
    pub refs: Vec<String>,
}

/// What the playbook would do for one leaked token (computed, not run: no prompt, network or write).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlaybookPreview {
    /// Which token.
    pub secret: SecretRef,
    /// The issuer's id (`huggingface`), when the value has a known shape.
    pub provider: Option<String>,
    /// Where and how to revoke it.
    pub revoke: String,
    /// The filter-repo expression `unleak respond` would start from (checked for uniqueness at respond
    /// time; widened or replaced by `--literal` if it matches other text).
    pub rewrite_expression: Option<String>,
    /// Whether a commit or tag message holds it, so the rewrite must replace messages too.
    pub rewrite_messages: bool,
}
