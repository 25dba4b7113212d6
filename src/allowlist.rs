//! `.unleak.toml`, the team's file beside the code: findings it accepts (`[[allow]]`, each with a reason),
//! defaults for `unleak audit`'s flags (`[defaults]`) and custom rules (`[[rule]]`), checked at load.
//! Audit judges findings with it; respond adds a revoked token's fingerprint to it.

use crate::model::{Finding, HygieneIssue, SecretSummary, Severity};
use crate::providers;
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

/// `[defaults]`: what `--fail-on` and `--format` are when not typed (a CI job keeps its flags short).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Defaults {
    pub fail_on: Option<Severity>,
    pub format: Option<crate::render::Format>,
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
    pub(crate) fn allows(&self, finding: &Finding) -> bool {
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

    pub(crate) fn allows_secret(&self, summary: &SecretSummary) -> bool {
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
