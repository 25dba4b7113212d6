//! `unleak audit`, the read-only part: hygiene checks, the allowlist (`.unleak.toml`), the baseline, the
//! exit threshold, and a preview of what the playbook would do. The scan itself is the scan engine's
//! (`scan::run` with every provider pattern).

use crate::child::Spawner;
use crate::environment::Environment;
use crate::git::Repo;
use crate::model::{
    Finding, HygieneIssue, PlaybookPreview, Report, SecretRef, SecretSummary, Severity, Warning,
};
use crate::secret::Secret;
use crate::{dotenv, hygiene, matching, providers};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

/// `.unleak.toml`: findings a team has looked at and accepted, each with a reason.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    #[serde(default)]
    pub(crate) allow: Vec<Allow>,
    /// Defaults for `unleak audit` flags the command line did not give.
    #[serde(default)]
    pub(crate) defaults: Defaults,
    /// Custom rules, in the shape of the built-in provider data (`[[rule]]`).
    #[serde(default)]
    pub(crate) rule: Vec<CustomRule>,
}

/// A rule of the team's own (an internal API key), checked at load like a built-in one: its examples
/// (templates, see `providers::examples`) must match it whole, its negatives nowhere.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomRule {
    /// `owner.name` (`acme.api-key`), not a built-in id.
    pub id: String,
    pub description: String,
    pub regex: String,
    pub prefixes: Vec<String>,
    #[serde(default = "default_confidence")]
    pub confidence: String,
    pub help: Option<String>,
    pub examples: Vec<String>,
    #[serde(default)]
    pub negatives: Vec<String>,
}

fn default_confidence() -> String {
    "high".into()
}

/// The longest regex a custom rule may give, and what its compiled program may take: a rule is a token's
/// shape, and a hostile `.unleak.toml` must not make the audit compile something huge.
const MAX_RULE_REGEX: usize = 1024;
const MAX_RULE_REGEX_SIZE: usize = 1 << 20;

impl CustomRule {
    /// The checks the built-in rules pass in unit tests, at load; errors name the rule.
    fn check(&self, file: &Path) -> Result<()> {
        let at = format!("{}: [[rule]] {}", file.display(), self.id);
        let shape = regex::Regex::new(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$")
            .expect("static regex");
        if !shape.is_match(&self.id) {
            bail!("{at}: the id must look like owner.name (lowercase letters, digits, -)");
        }
        if providers::all()
            .iter()
            .any(|p| p.id == self.id.split('.').next().unwrap_or(""))
        {
            bail!("{at}: the id is under a built-in provider; use your own prefix");
        }
        if self.prefixes.is_empty() || self.prefixes.iter().any(|p| p.is_empty()) {
            bail!("{at}: give the literal prefixes every match starts with (prefixes = [\"...\"])");
        }
        if !["low", "medium", "high"].contains(&self.confidence.as_str()) {
            bail!("{at}: confidence is low, medium or high");
        }
        if self.examples.is_empty() {
            bail!("{at}: give at least one example the rule must find");
        }
        if self.regex.len() > MAX_RULE_REGEX {
            bail!("{at}: the regex is longer than {MAX_RULE_REGEX} characters");
        }
        let bounded = |pattern: &str| {
            regex::RegexBuilder::new(pattern)
                .size_limit(MAX_RULE_REGEX_SIZE)
                .dfa_size_limit(MAX_RULE_REGEX_SIZE)
                .build()
        };
        let whole = bounded(&format!("^(?:{})$", self.regex)).map_err(|e| {
            anyhow::anyhow!("{at}: the regex does not compile (or is too large): {e}")
        })?;
        let anywhere = bounded(&self.regex).map_err(|e| {
            anyhow::anyhow!("{at}: the regex does not compile (or is too large): {e}")
        })?;
        let expand = |template: &String| {
            providers::examples::try_expand(template)
                .map_err(|e| anyhow::anyhow!("{at}: a bad example: {e}"))
        };
        for template in &self.examples {
            let example = expand(template)?;
            if !whole.is_match(&example) {
                bail!("{at}: example {template:?} does not match the regex whole");
            }
            if !self
                .prefixes
                .iter()
                .any(|p| example.starts_with(p.as_str()))
            {
                bail!("{at}: example {template:?} starts with none of the prefixes");
            }
        }
        for template in &self.negatives {
            if anywhere.is_match(&expand(template)?) {
                bail!("{at}: negative {template:?} matches the regex");
            }
        }
        Ok(())
    }
}

/// The custom rules as one more provider, for the process's lifetime (a command audits once).
pub(crate) fn custom_provider(rules: &[CustomRule]) -> Option<&'static providers::Provider> {
    if rules.is_empty() {
        return None;
    }
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let patterns: Vec<providers::Pattern> = rules
        .iter()
        .map(|r| providers::Pattern {
            id: leak(&r.id),
            description: leak(&r.description),
            details: leak(&format!("{} (a custom rule from .unleak.toml: {})", r.description, r.regex)),
            help: leak(r.help.as_deref().unwrap_or(
                "Revoke or rotate it where it was issued, and remove it from history (`unleak respond`).",
            )),
            prefixes: Box::leak(r.prefixes.iter().map(|p| leak(p)).collect::<Vec<_>>().into_boxed_slice()),
            regex: leak(&r.regex),
            names: &[],
            near: &[],
            confidence: match r.confidence.as_str() {
                "low" => providers::Confidence::Low,
                "medium" => providers::Confidence::Medium,
                _ => providers::Confidence::High,
            },
            examples: Box::leak(r.examples.iter().map(|p| leak(p)).collect::<Vec<_>>().into_boxed_slice()),
            negatives: Box::leak(r.negatives.iter().map(|p| leak(p)).collect::<Vec<_>>().into_boxed_slice()),
        })
        .collect();
    Some(Box::leak(Box::new(providers::Provider {
        id: "custom",
        name: "Custom rule",
        env_vars: &[],
        revoke_url: None,
        create_url: None,
        patterns: Box::leak(patterns.into_boxed_slice()),
        liveness: &[],
        unchecked: Some("a custom rule names no issuer to ask"),
    })))
}

/// `[defaults]`: what `--fail-on` and `--format` are when not typed (a CI job keeps its flags short).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Defaults {
    pub fail_on: Option<Severity>,
    pub format: Option<crate::report::Format>,
}

/// One entry: exactly one of `fingerprint`, `path` (a glob) or `rule`, or a `path` with a `rule`; and a
/// `reason`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Allow {
    pub fingerprint: Option<String>,
    pub path: Option<String>,
    pub rule: Option<String>,
    pub reason: String,
}

impl Allowlist {
    /// Reads `.unleak.toml` and checks it: each entry names exactly one of fingerprint, path or rule,
    /// with a reason; custom rules match their examples. A bad file is an error that says where.
    pub fn load(path: &Path) -> Result<Allowlist> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Allowlist::parse(&text, path)
    }

    /// [`Allowlist::load`] of `text`, which came from `path` (a file, or `REV:.unleak.toml`).
    pub fn parse(text: &str, path: &Path) -> Result<Allowlist> {
        let text = text.to_string();
        // toml's message spans several lines (a caret under the source); errors print on one line, so
        // say where in plain words instead of showing escaped line breaks.
        let list: Allowlist = toml::from_str(&text).map_err(|err| {
            let at = err
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                    format!(" at line {line}, column {column}")
                })
                .unwrap_or_default();
            anyhow::anyhow!(
                "{} is not a valid allowlist{at}: {}",
                path.display(),
                err.message().trim().replace('\n', "; ")
            )
        })?;
        for (i, entry) in list.allow.iter().enumerate() {
            let set = [&entry.fingerprint, &entry.path, &entry.rule]
                .iter()
                .filter(|v| v.is_some())
                .count();
            let path_and_rule = set == 2 && entry.path.is_some() && entry.rule.is_some();
            if set != 1 && !path_and_rule {
                bail!(
                    "{}: [[allow]] entry {} needs exactly one of fingerprint, path, rule (or a path with a rule)",
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
        let mut seen = HashSet::new();
        for rule in &list.rule {
            rule.check(path)?;
            if !seen.insert(rule.id.as_str()) {
                bail!("{}: [[rule]] {} is defined twice", path.display(), rule.id);
            }
        }
        Ok(list)
    }

    /// A finding is allowed by its fingerprint, its rule, its path, or its rule in a path (both named:
    /// `path = "tests/**"` with `rule = "generic.secret-assignment"` allows the generic rule's findings
    /// there, whose guessable values have no stable fingerprint, and nothing else).
    fn allows(&self, finding: &Finding) -> bool {
        self.allow.iter().any(|entry| {
            let rule = entry.rule.is_some() && entry.rule == finding.rule;
            let path = entry.path.as_deref().is_some_and(|glob| {
                finding.path.as_deref().is_some_and(|p| {
                    globset::Glob::new(glob)
                        .map(|g| g.compile_matcher().is_match(p))
                        .unwrap_or(false)
                })
            });
            entry.fingerprint.as_deref() == Some(finding.secret.fingerprint.as_str())
                || match (&entry.path, &entry.rule) {
                    (Some(_), Some(_)) => rule && path,
                    _ => rule || path,
                }
        })
    }

    fn allows_secret(&self, summary: &SecretSummary) -> bool {
        self.allow.iter().any(|entry| {
            entry.fingerprint.as_deref() == Some(summary.secret.fingerprint.as_str())
                || (entry.rule.is_some() && entry.path.is_none() && entry.rule == summary.rule)
        })
    }

    /// Hygiene issues are allowed by their id, as a rule (`rule = "hygiene.env-readable"`).
    pub(crate) fn allows_issue(&self, issue: &HygieneIssue) -> bool {
        self.allow
            .iter()
            .any(|entry| entry.rule.as_deref() == Some(issue.id.as_str()))
    }
}

/// A previous audit's JSON report, read as a [`Report`]: the findings and hygiene issues in it are known
/// and do not count again. A report from an older unleak (without the fields added since) still loads;
/// anything that is not such a report is an error that names the file and the place.
pub(crate) fn load_baseline(path: &Path) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    let baseline: Report = serde_json::from_str(&text).with_context(|| {
        format!(
            "baseline {} is not an unleak JSON report (write one with `unleak audit --format json`)",
            path.display()
        )
    })?;
    let findings = baseline.findings.iter().map(finding_key);
    // Hygiene issues are known too (an `.env` committed long ago stays in history until a rewrite).
    let issues = baseline.hygiene.iter().map(hygiene_key);
    Ok(findings.chain(issues).collect())
}

/// A hygiene issue's identity: its message counts commits, so one more commit of `.env` is new.
fn hygiene_key(issue: &HygieneIssue) -> String {
    format!(
        "hygiene|{}|{}|{}",
        issue.id,
        issue.path.as_deref().unwrap_or(""),
        issue.message
    )
}

/// Drops the hygiene issues the baseline already holds; returns how many.
pub(crate) fn suppress_hygiene(report: &mut Report, baseline: &HashSet<String>) -> usize {
    let before = report.hygiene.len();
    report
        .hygiene
        .retain(|issue| !baseline.contains(&hygiene_key(issue)));
    before - report.hygiene.len()
}

/// A finding's identity across runs: the token, where in git, and which object and path.
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
pub(crate) fn suppress(
    report: &mut Report,
    allowlist: &Allowlist,
    baseline: &HashSet<String>,
) -> usize {
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

pub(crate) fn playbook_preview(
    report: &Report,
    secrets: &[Secret],
    hf_endpoint: &str,
) -> Vec<PlaybookPreview> {
    report
        .secrets
        .iter()
        .filter(|s| s.found)
        .filter_map(|summary| {
            let secret = secrets.iter().find(|s| s.fingerprint() == summary.secret.fingerprint)?;
            // The generic rule names no issuer: as unknown as a value no rule knows.
            let provider = secret
                .identify()
                .map(|(p, _)| p)
                .filter(|p| p.id != providers::GENERIC.id);
            let revoke = match provider {
                Some(p) if p.id == providers::HUGGING_FACE.id => format!(
                    "POST {}/api/credentials/revoke (no login), or delete it at {}; confirm with whoami-v2 (401)",
                    hf_endpoint,
                    crate::issuers::huggingface::page_on_endpoint(
                        p.revoke_url.unwrap_or_default(),
                        hf_endpoint
                    )
                ),
                Some(p) => match p.revoke_url {
                    Some(url) => format!("revoke it at {url}"),
                    None => format!("revoke it with {}", p.name),
                },
                None => "revoke it where it was issued".to_string(),
            };
            let mine = report.findings.iter().filter(|f| f.secret.fingerprint == summary.secret.fingerprint);
            let rewrite_messages = mine.clone().any(|f| {
                matches!(f.location, crate::model::Location::CommitMessage | crate::model::Location::TagMessage)
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

/// Drops blob findings whose every line carries [`matching::INLINE_ALLOW`]; returns how many. Reads
/// only the blobs of findings.
pub(crate) fn suppress_inline(repo: &Repo, report: &mut Report) -> usize {
    let before = report.findings.len();
    report.findings.retain(|f| {
        if f.location != crate::model::Location::Blob || f.line.is_none() {
            return true;
        }
        let Ok(oid) = crate::git::Oid::from_str(&f.object) else {
            return true;
        };
        let Ok(blob) = repo.read_blob(oid) else {
            return true;
        };
        let content = &blob[..];
        let mut lines: Vec<u32> = f.lines.clone();
        lines.extend(f.line);
        let starts: Vec<usize> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', content).map(|i| i + 1))
            .collect();
        !lines.iter().all(|&n| {
            starts
                .get(n.saturating_sub(1) as usize)
                .is_some_and(|&at| matching::line_allows(content, at))
        })
    });
    before - report.findings.len()
}

/// A token whose only copy is the untracked file it was read from (the `.env` it came from) has not
/// leaked: it is not in history, the index or any other file. Marks it not found (so the command exits
/// 0) and returns a note per token saying where it is, instead of "found in 0 place(s)".
pub(crate) fn only_in_source(report: &mut Report, workdir: Option<&Path>) -> Vec<Warning> {
    let Some(workdir) = workdir else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for summary in &mut report.secrets {
        let Some((file, _key)) = summary.origin.rsplit_once(':') else {
            continue;
        };
        let source = Path::new(file);
        let only_there = summary.found
            && summary.findings == 0
            && summary.in_head.is_empty()
            && summary.in_index.is_empty()
            && summary.in_worktree.len() == 1
            && workdir.join(&summary.in_worktree[0]) == source;
        if !only_there {
            continue;
        }
        summary.found = false;
        summary.severity = None;
        notes.push(Warning::new(
            "only-in-source",
            only_in_source_message(&summary.secret.redacted, &summary.in_worktree[0]),
        ));
    }
    notes
}

/// The one answer scan, audit and respond give for a token only in the untracked, un-ignored file it
/// was read from: at risk, not in history, nothing to rewrite, and what to do.
pub(crate) fn only_in_source_message(redacted: &str, file: &str) -> String {
    format!(
        "{redacted} is at risk but not in history: it is only in {file}, the untracked file it was read \
         from, which git does not ignore (one `git add .` commits it). Nothing to rewrite. Add {file} \
         to .gitignore."
    )
}

/// Whether anything at or above `threshold` remains.
pub(crate) fn fails(report: &Report, threshold: Severity) -> bool {
    report.findings.iter().any(|f| f.severity >= threshold)
        || report
            .secrets
            .iter()
            .any(|s| s.severity.is_some_and(|v| v >= threshold))
        || report.hygiene.iter().any(|h| h.severity >= threshold)
}

/// A warning for suppressed findings, so a quiet report is never mistaken for a clean one.
pub(crate) fn suppressed_warning(count: usize) -> Option<Warning> {
    (count > 0).then(|| {
        Warning::new(
            "suppressed",
            format!("{count} finding(s) suppressed by the allowlist or baseline"),
        )
    })
}
