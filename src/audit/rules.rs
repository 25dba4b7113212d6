//! The rules an audit runs with: `.unleak.toml` (the checkout's, `--config`'s, or for a range the base
//! commit's) and the provider patterns, with its custom rules as one more provider.

use super::Request;
use crate::allowlist::{Allowlist, CustomRule};
use crate::git::Repo;
use crate::matching::patterns::PatternSet;
use crate::model::Warning;
use crate::{providers, scan};
use anyhow::Result;
use std::path::Path;

/// The custom rules as one more provider, for the process's lifetime (a command audits once).
fn custom_provider(rules: &[CustomRule]) -> Option<&'static providers::Provider> {
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

/// The allowlist, defaults and custom rules (read before the scan: custom rules are scanned for), and
/// the provider patterns with the custom rule registered.
pub(super) fn rules(request: &Request, workdir: Option<&Path>) -> Result<(Allowlist, PatternSet)> {
    let config_path = request.config.clone().or_else(|| {
        workdir
            .map(|w| w.join(".unleak.toml"))
            .filter(|p| p.is_file())
    });
    let allowlist = match &config_path {
        Some(path) => Allowlist::load(path)?,
        None => Allowlist::default(),
    };
    let patterns = patterns(&allowlist);
    Ok((allowlist, patterns))
}

/// A range audit's rules: the allowlist, defaults and custom rules of `.unleak.toml` as the base commit
/// has it, never as the change under review has it (a pull request adding `[[allow]] path = "**"`
/// would otherwise pass its own review); `--config PATH` still wins. Says so when the checkout's file
/// differs.
pub(super) fn base_rules(
    request: &Request,
    repo: &Repo,
    workdir: Option<&Path>,
) -> Result<(Allowlist, PatternSet, Vec<Warning>)> {
    let mut warnings = Vec::new();
    let base = scan::staged::range_base(repo, request.since.as_deref(), request.range.as_deref())?;
    let at_base = repo.file_at(base, ".unleak.toml").map_err(|err| {
        anyhow::anyhow!(
            "cannot read .unleak.toml at the range's base {base}: {}",
            err.message()
        )
    })?;
    let name = std::path::PathBuf::from(format!("{base}:.unleak.toml"));
    let allowlist = match &at_base {
        Some(bytes) => Allowlist::parse(&String::from_utf8_lossy(bytes), &name)?,
        None => Allowlist::default(),
    };
    let checkout = workdir.and_then(|w| std::fs::read(w.join(".unleak.toml")).ok());
    if checkout != at_base {
        warnings.push(Warning::new(
            "allowlist-from-base",
            format!(
                "the checkout's .unleak.toml differs from the range's base ({base}): a range audit takes the allowlist and custom rules from the base, so the change under review cannot allow its own findings; its edits apply once merged"
            ),
        ));
    }
    let patterns = patterns(&allowlist);
    Ok((allowlist, patterns, warnings))
}

/// The provider patterns, with the allowlist's custom rules registered as one more provider.
fn patterns(allowlist: &Allowlist) -> PatternSet {
    match custom_provider(&allowlist.rule) {
        Some(custom) => {
            providers::register_custom(custom);
            PatternSet::new(&providers::with_custom())
        }
        None => PatternSet::all(),
    }
}
