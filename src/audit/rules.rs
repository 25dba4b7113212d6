//! The rules an audit runs with: `.unleak.toml` (the checkout's, `--config`'s, or for a range the base
//! commit's) and the provider patterns, with its custom rules after them. The custom rules are owned by
//! the pattern set (`PatternSet::rule_set`), which hands them to the findings and the report.

use super::Request;
use crate::allowlist::{Allowlist, CustomRule};
use crate::git::Repo;
use crate::matching::patterns::PatternSet;
use crate::model::Warning;
use crate::secret::Secret;
use crate::{providers, scan};
use anyhow::Result;
use std::path::Path;

/// The custom rules as the audit's own: owned by its rule set, which its pattern set, findings and
/// report are handed (nothing is registered process-wide).
fn custom_rules(rules: &[CustomRule]) -> Result<providers::Rules> {
    let mut custom = Vec::with_capacity(rules.len());
    for rule in rules {
        let confidence = match rule.confidence.as_str() {
            "low" => providers::Confidence::Low,
            "medium" => providers::Confidence::Medium,
            _ => providers::Confidence::High,
        };
        let pattern = providers::CustomPattern::new(
            &rule.id,
            &rule.description,
            &rule.regex,
            &rule.prefixes,
            confidence,
            rule.help.as_deref(),
        )
        .map_err(|e| anyhow::anyhow!("[[rule]] {}: the regex does not compile: {e}", rule.id))?;
        custom.push(pattern);
    }
    Ok(providers::Rules::with_custom(custom))
}

/// The given tokens, each whose shape is a custom rule's known by that rule, as a built-in shape's
/// token is known by its own: its fingerprint is then the public `sha256:` one
/// (`Secret::has_public_fingerprint` knows the built-in shapes alone, not a search's custom ones).
pub(super) fn known_by_custom_shape(exact: Vec<Secret>, rules: &providers::Rules) -> Vec<Secret> {
    exact
        .into_iter()
        .map(|secret| match secret.identify_in(rules) {
            Some(rule) if rule.builtin.is_none() => secret.with_rule(rule.owned_id()),
            _ => secret,
        })
        .collect()
}

/// The allowlist, defaults and custom rules (read before the scan: custom rules are scanned for), and
/// the provider patterns with the custom rules after them.
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
    let patterns = patterns(&allowlist)?;
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
    let patterns = patterns(&allowlist)?;
    Ok((allowlist, patterns, warnings))
}

/// The provider patterns, with the allowlist's custom rules after them.
fn patterns(allowlist: &Allowlist) -> Result<PatternSet> {
    if allowlist.rule.is_empty() {
        return Ok(PatternSet::all());
    }
    Ok(PatternSet::with_rules(&custom_rules(&allowlist.rule)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A given token of a custom rule's shape is named by the public fingerprint, as a built-in
    /// shape's is; without the custom rule it keeps the keyed one (20 digits are guessable).
    #[test]
    fn a_given_token_of_a_custom_shape_gets_the_public_fingerprint() {
        let prefixes = ["zed_".to_string()];
        let confidence = providers::Confidence::Medium;
        let rule = providers::CustomPattern::new(
            "zed.token",
            "Zed token",
            "zed_[0-9]{20}",
            &prefixes,
            confidence,
            None,
        );
        let rules = providers::Rules::with_custom(vec![rule.unwrap()]);
        let value = providers::examples::expand("zed_{digits:20}");
        let plain =
            known_by_custom_shape(vec![Secret::new(value.as_str(), "t")], &Default::default());
        assert!(plain[0].fingerprint().starts_with("keyed:"));
        let known = known_by_custom_shape(vec![Secret::new(value.as_str(), "t")], &rules);
        assert!(known[0].fingerprint().starts_with("sha256:"));
        assert_eq!(
            known[0].identify_in(&rules).map(|r| r.id),
            Some("zed.token")
        );
    }
}
