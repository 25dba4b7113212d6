//! SARIF 2.1.0 rendering, in the subset GitHub code scanning accepts (docs/sarif.md). Like the other
//! renderers it only renders: every rule comes from the rule set it is handed (`providers::Rules`: the
//! built-in rules and an audit's custom ones) or the tables below, every result from a [`Finding`] or a
//! [`HygieneIssue`], and nothing but redactions and fingerprints names a token.
//!
//! GitHub shows a result only at a file and line (`physicalLocation.artifactLocation.uri`, a relative
//! path, and `region.startLine`). A token in a commit or tag message, or in a blob no commit holds, has
//! neither, so its result points at a path that names the git object instead: `.git/commit/<id>`,
//! `.git/tag/<id>`, `.git/blob/<id>` (git never tracks a path under `.git/`, so it cannot be mistaken
//! for a real file), with a logical location and the message naming the object too.

use crate::model::{Finding, HygieneIssue, Location, Report, Severity};
use crate::providers::{self, Confidence};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;

/// The rule for a token found by its exact value (from `.env`, stdin, …) that matches no provider rule.
pub const KNOWN_VALUE_RULE: &str = "unleak.known-value";

/// Where people read about the tool: the package's homepage or repository when Cargo.toml names one,
/// else its crates.io page.
const INFORMATION_URI: &str = {
    let homepage = env!("CARGO_PKG_HOMEPAGE");
    let repository = env!("CARGO_PKG_REPOSITORY");
    if !homepage.is_empty() {
        homepage
    } else if !repository.is_empty() {
        repository
    } else {
        concat!("https://crates.io/crates/", env!("CARGO_PKG_NAME"))
    }
};

/// The `partialFingerprints` key; the `/v1` changes if what goes into the hash ever does, so GitHub does
/// not match old alerts against differently computed fingerprints.
const FINGERPRINT_KEY: &str = "unleakFindingHash/v1";

/// Writes `report` as one SARIF log with one run, of a search with the built-in rules alone.
pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    render_with(report, providers::Rules::builtin(), out)
}

/// Writes `report` as one SARIF log with one run; `set` is the rules the search ran with (an audit's
/// custom rules are described beside the built-in ones).
pub fn render_with(
    report: &Report,
    set: &providers::Rules,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report, set))?;
    writeln!(out)
}

/// The SARIF log as a JSON value (what [`render`] writes).
pub(crate) fn document(report: &Report, set: &providers::Rules) -> Value {
    let mut rules = Rules::new(set);
    let mut results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| finding_result(f, set, &mut rules))
        .collect();
    results.extend(report.hygiene.iter().map(|h| hygiene_result(h, &mut rules)));

    let mut run = json!({
        "tool": {
            "driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "informationUri": INFORMATION_URI,
                "rules": rules.descriptors,
            }
        },
        "invocations": [{
            // A search that could not read everything is not a successful run, unless the user accepted
            // it (`--allow-incomplete`): code scanning then shows it failed instead of "no alerts".
            "executionSuccessful": report.completeness.allows_clean(),
            "toolExecutionNotifications": incomplete_notification(report)
                .into_iter()
                .chain(report.warnings.iter().map(|w| json!({
                    "level": "warning",
                    "message": { "text": w.message },
                    "descriptor": { "id": w.kind },
                })))
                .collect::<Vec<_>>(),
        }],
        "results": results,
        "properties": {
            "unleak/complete": report.completeness.complete,
            "unleak/command": report.command,
            "unleak/formatVersion": crate::model::FORMAT_VERSION,
        },
    });
    if let Some(head) = &report.repository.head {
        // Only a remote URL with a scheme is a URI (scp-like `git@host:path` is not); credentials in it
        // were masked when the report was built.
        let uri = report
            .repository
            .remotes
            .iter()
            .find(|r| r.name == "origin")
            .or(report.repository.remotes.first())
            .and_then(|r| r.url.as_deref())
            .filter(|u| u.contains("://"));
        if let Some(uri) = uri {
            run["versionControlProvenance"] = json!([{ "repositoryUri": uri, "revisionId": head }]);
        }
    }
    json!({
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// `error`, `warning`, `note`: what GitHub shows for a result.
pub(crate) fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` (0.0 to 10.0; 7.0 and up is "high", 4.0 to 6.9 "medium", below 4.0
/// "low"): one value inside the band of the same name as ours.
pub(crate) fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "8.0",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
    }
}

/// The rules of the run: every provider rule, the exact-value rule and the known hygiene checks, in a
/// fixed order (so `ruleIndex` is stable), plus any other id a result names.
struct Rules {
    descriptors: Vec<Value>,
    index: BTreeMap<String, usize>,
}

impl Rules {
    fn new(set: &providers::Rules) -> Rules {
        let mut rules = Rules {
            descriptors: Vec::new(),
            index: BTreeMap::new(),
        };
        for pattern in set.iter() {
            let tags = json!(["security", "secret", "credential", pattern.provider.id]);
            rules.push(json!({
                "id": pattern.id,
                "name": rule_name(pattern.id),
                "shortDescription": { "text": pattern.description },
                "fullDescription": { "text": pattern.details },
                "help": { "text": pattern.help, "markdown": pattern.help },
                "defaultConfiguration": { "level": level(Severity::High) },
                "properties": {
                    "tags": tags,
                    "precision": precision(pattern.confidence),
                    "problem.severity": "error",
                    "security-severity": security_severity(Severity::High),
                },
            }));
        }
        rules.push(json!({
            "id": KNOWN_VALUE_RULE,
            "name": rule_name(KNOWN_VALUE_RULE),
            "shortDescription": { "text": "A known secret value" },
            "fullDescription": { "text": "The exact value of a secret unleak was given (a .env value, an \
                environment variable, stdin), found in the repository's history, in plain text, base64 or \
                UTF-16. It matches no provider rule, so only its value says it is a secret: no pattern \
                guesses here." },
            "help": { "text": KNOWN_VALUE_HELP, "markdown": KNOWN_VALUE_HELP },
            "defaultConfiguration": { "level": level(Severity::High) },
            "properties": {
                "tags": ["security", "secret", "credential"],
                "precision": "very-high",
                "problem.severity": "error",
                "security-severity": security_severity(Severity::High),
            },
        }));
        for (id, short, full, severity) in HYGIENE_RULES {
            rules.push(hygiene_rule(id, short, full, *severity));
        }
        rules
    }

    fn push(&mut self, descriptor: Value) {
        let id = descriptor["id"]
            .as_str()
            .expect("rules have ids")
            .to_string();
        self.index.insert(id, self.descriptors.len());
        self.descriptors.push(descriptor);
    }

    /// The index of rule `id`, adding a generic rule for an id no table knows (a hygiene check newer
    /// than this file): every result must name a rule with a description and help.
    fn index_of(&mut self, id: &str, severity: Severity) -> usize {
        if let Some(&index) = self.index.get(id) {
            return index;
        }
        let short = format!("unleak check {id}");
        let full = format!(
            "A repository problem unleak audit reports under the id {id}. The result's message says \
             what was found and where."
        );
        self.push(hygiene_rule(id, &short, &full, severity));
        self.descriptors.len() - 1
    }
}

const KNOWN_VALUE_HELP: &str = "Treat the value as leaked: revoke or rotate it where it was issued, \
update every place that uses it, and remove it from history (`unleak respond` walks through all three). \
If it is not a secret, leave it out of the token sources unleak reads.";

const HYGIENE_HELP: &str = "Run `unleak audit` for the details and `unleak setup` to store the token \
safely (mode 0600, ignored by git). A .env that history holds needs `unleak respond`: revoke the tokens \
it held and rewrite history.";

/// Hygiene checks: id, short description, full description, default severity.
const HYGIENE_RULES: &[(&str, &str, &str, Severity)] = &[
    (
        "hygiene.env-not-ignored",
        ".env is not ignored by git",
        "The .env file holding secrets is not matched by any .gitignore rule, so the next `git add .` \
         or `git commit -a` commits it.",
        Severity::Medium,
    ),
    (
        "hygiene.env-tracked",
        ".env is tracked by git",
        "The .env file is in the index: every commit carries it, and pushing publishes the secrets it \
         holds.",
        Severity::High,
    ),
    (
        "hygiene.env-in-history",
        ".env is in the repository's history",
        "Commits hold a .env file. Even when it is no longer tracked, every clone of those commits holds \
         the values it had then.",
        Severity::High,
    ),
    (
        "hygiene.env-readable",
        ".env is readable by other users",
        "The .env file's permissions let users other than its owner read it; secrets files should be \
         mode 0600.",
        Severity::Medium,
    ),
    (
        "hygiene.token-in-head",
        "A token is in the current commit's files",
        "A file of HEAD's tree holds a token: the next push publishes it, if it has not already.",
        Severity::High,
    ),
    (
        "hygiene.token-staged",
        "A token is staged for commit",
        "A file in the index holds a token: the next commit records it in history.",
        Severity::Medium,
    ),
    (
        "hygiene.env-var-differs",
        "An environment variable overrides .env",
        "The environment sets a key .env also sets, to a different value; loaders that do not override \
         the environment use that value, not the one in .env.",
        Severity::Low,
    ),
];

fn hygiene_rule(id: &str, short: &str, full: &str, severity: Severity) -> Value {
    json!({
        "id": id,
        "name": rule_name(id),
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": { "text": HYGIENE_HELP, "markdown": HYGIENE_HELP },
        "defaultConfiguration": { "level": level(severity) },
        "properties": {
            "tags": ["security", "hygiene"],
            "precision": "very-high",
            "problem.severity": problem_severity(severity),
            "security-severity": security_severity(severity),
        },
    })
}

/// `huggingface.user-token` -> `HuggingfaceUserToken`: SARIF's `name` is an identifier-like label.
fn rule_name(id: &str) -> String {
    id.split(['.', '-'])
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn precision(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

fn problem_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "recommendation",
    }
}

/// One SARIF result for a finding: its rule, level, message, location, a fingerprint stable across
/// runs, and unleak's own properties.
fn finding_result(finding: &Finding, set: &providers::Rules, rules: &mut Rules) -> Value {
    let rule_id = finding
        .rule
        .as_deref()
        .filter(|id| set.rule(id).is_some())
        .unwrap_or(KNOWN_VALUE_RULE);
    let rule_index = rules.index_of(rule_id, finding.severity);
    let what = set
        .rule(rule_id)
        .map_or("Known secret value", |r| r.description);
    let text = finding_message(finding, what);
    let location = finding_location(finding);
    json!({
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": level(finding.severity),
        "message": { "text": text },
        "locations": [location],
        "partialFingerprints": {
            FINGERPRINT_KEY: stable_hash(&[
                "finding",
                &finding.secret.fingerprint,
                finding.location.as_str(),
                finding.encoding.as_str(),
                finding.commit.as_deref().unwrap_or(""),
                finding.path.as_deref().unwrap_or(""),
                // Without a commit, the object is all that tells two occurrences apart.
                if finding.commit.is_none() { &finding.object } else { "" },
            ]),
        },
        "properties": {
            "security-severity": security_severity(finding.severity),
            "unleak/severity": finding.severity.as_str(),
            "unleak/secret": { "redacted": finding.secret.redacted, "fingerprint": finding.secret.fingerprint },
            "unleak/location": finding.location.as_str(),
            "unleak/encoding": finding.encoding.as_str(),
            "unleak/object": finding.object,
            "unleak/commit": finding.commit,
            "unleak/lines": finding.lines,
            "unleak/refs": finding.refs,
            "unleak/reflogs": finding.reflogs,
            "unleak/pushed": finding.pushed,
            "unleak/remotes": finding.remotes,
            "unleak/date": finding.date,
        },
    })
}

/// Where a finding is, as a SARIF location: its file, or for a message or an object no commit holds, a
/// pseudo-path under `.git/` with the object as a logical location.
fn finding_location(finding: &Finding) -> Value {
    let (uri, line, logical) = match (&finding.path, finding.location) {
        (Some(path), _) => (path.clone(), finding.line, None),
        (None, Location::CommitMessage) => (
            format!(".git/commit/{}", finding.object),
            finding.line,
            Some(("commit", &finding.object)),
        ),
        (None, Location::TagMessage) => (
            format!(".git/tag/{}", finding.object),
            finding.line,
            Some(("tag", &finding.object)),
        ),
        (None, _) => (
            format!(".git/blob/{}", finding.object),
            finding.line,
            Some(("blob", &finding.object)),
        ),
    };
    let mut location = physical_location(&uri, line);
    if let Some((kind, id)) = logical {
        location["logicalLocations"] = json!([{
            "name": id,
            "fullyQualifiedName": format!("{kind} {id}"),
            "kind": "resource",
        }]);
    }
    location
}

/// The finding's message: what the token is, where it is (and which commit introduced it), on which
/// lines, and whether it was pushed.
fn finding_message(finding: &Finding, what: &str) -> String {
    let mut text = format!(
        "{what} {} ({}) ",
        finding.secret.redacted, finding.secret.fingerprint
    );
    text.push_str(&match (finding.location, &finding.path) {
        (Location::CommitMessage, _) => format!("in the message of commit {}", finding.object),
        (Location::TagMessage, _) => format!(
            "in the message of tag object {} (on commit {})",
            finding.object,
            finding.commit.as_deref().map_or("?", short_id)
        ),
        (Location::Path, Some(path)) => format!("in the file name {path}"),
        (_, Some(path)) => format!("in {path}"),
        (_, None) => format!("in blob {}, which no commit holds", finding.object),
    });
    if let (Some(commit), Location::Blob | Location::Path) = (&finding.commit, finding.location) {
        text.push_str(&format!(", introduced by commit {}", short_id(commit)));
    }
    if finding.lines.len() > 1 {
        let lines: Vec<String> = finding.lines.iter().map(u32::to_string).collect();
        text.push_str(&format!(" (lines {})", lines.join(", ")));
    }
    text.push_str(&match (finding.pushed, finding.reachable) {
        (true, _) => format!(
            ". Pushed to {}: assume it is public.",
            finding.remotes.join(", ")
        ),
        (false, true) => ". In local history, not pushed.".to_string(),
        (false, false) => ". Only in unreachable objects or reflogs.".to_string(),
    });
    text
}

fn hygiene_result(issue: &HygieneIssue, rules: &mut Rules) -> Value {
    let rule_index = rules.index_of(&issue.id, issue.severity);
    let (uri, logical) = match (&issue.path, issue.commits.first()) {
        (Some(path), _) => (path.clone(), None),
        (None, Some(commit)) => (format!(".git/commit/{commit}"), Some(commit.as_str())),
        // A repository-wide problem: the repository's git directory stands for the repository.
        (None, None) => (".git".to_string(), None),
    };
    let mut location = physical_location(&uri, issue.line);
    if let Some(commit) = logical {
        location["logicalLocations"] = json!([{
            "name": commit,
            "fullyQualifiedName": format!("commit {commit}"),
            "kind": "resource",
        }]);
    }
    let mut commits = issue.commits.clone();
    commits.sort();
    let mut parts = vec![
        "hygiene",
        issue.id.as_str(),
        issue.path.as_deref().unwrap_or(""),
    ];
    parts.extend(commits.iter().map(String::as_str));
    // A token's issue is that token's: two tokens in one file are two alerts, not one merged by GitHub.
    if let Some(secret) = &issue.secret {
        parts.push(secret.fingerprint.as_str());
    }
    let mut result = json!({
        "ruleId": issue.id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": level(issue.severity),
        "message": { "text": issue.message },
        "locations": [location],
        "partialFingerprints": { FINGERPRINT_KEY: stable_hash(&parts) },
        "properties": {
            "security-severity": security_severity(issue.severity),
            "unleak/severity": issue.severity.as_str(),
            "unleak/commits": issue.commits,
        },
    });
    if let Some(secret) = &issue.secret {
        result["properties"]["unleak/secret"] =
            json!({ "redacted": secret.redacted, "fingerprint": secret.fingerprint });
    }
    result
}

/// A file and line GitHub can annotate; line 1 when the line is unknown (binary content, a file name).
fn physical_location(path: &str, line: Option<u32>) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri_path(path) },
            "region": { "startLine": line.unwrap_or(1).max(1) },
        }
    })
}

/// A repository path as a relative URI reference: unreserved characters and `/` as they are, every other
/// byte percent-encoded (a path may hold spaces, `#`, `?`, `\xNN` escapes or a redaction's `…`).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Hex SHA-256 of the parts, each length-prefixed so that no two different lists hash alike.
fn stable_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn short_id(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// An error notification naming what the scan could not read, when that makes the answer incomplete.
fn incomplete_notification(report: &Report) -> Option<serde_json::Value> {
    let completeness = &report.completeness;
    (!completeness.complete).then(|| {
        json!({
            "level": if completeness.accepted { "warning" } else { "error" },
            "message": { "text": format!(
                "incomplete: {}{}",
                completeness.summary(),
                if completeness.accepted { " (accepted with --allow-incomplete)" } else { "" }
            ) },
            "descriptor": { "id": "incomplete" },
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(rule_name("huggingface.user-token"), "HuggingfaceUserToken");
        assert_eq!(rule_name("unleak.known-value"), "UnleakKnownValue");
    }

    #[test]
    fn paths_become_relative_uri_references() {
        assert_eq!(uri_path("src/a b#c?.py"), "src/a%20b%23c%3F.py");
        assert_eq!(uri_path("caf\\xe9/é"), "caf%5Cxe9/%C3%A9");
        assert_eq!(uri_path(".env"), ".env");
    }

    #[test]
    fn hashes_keep_parts_apart() {
        assert_ne!(stable_hash(&["ab", "c"]), stable_hash(&["a", "bc"]));
        assert_eq!(stable_hash(&["x"]), stable_hash(&["x"]));
    }

    #[test]
    fn every_provider_rule_and_hygiene_check_is_a_rule_once() {
        let rules = Rules::new(providers::Rules::builtin());
        let count = providers::all()
            .iter()
            .map(|p| p.patterns.len())
            .sum::<usize>()
            + 1
            + HYGIENE_RULES.len();
        assert_eq!(rules.descriptors.len(), count);
        assert_eq!(rules.index.len(), count, "duplicate rule ids");
    }
}
