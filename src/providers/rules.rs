//! The rule set a search runs with, as a value: the built-in rules (constant data) and a team's own
//! rules from `.unleak.toml` (owned, see [`CustomPattern`]). Whatever must know a custom rule (the
//! pattern set, a rule's confidence for severity, SARIF's rule metadata, the rule a value is) is handed
//! the [`Rules`]; nothing registers them anywhere, so two rule sets can live in one process.
//!
//! A [`Rule`] is a borrowed view of either kind, with the fields every reader uses.

use super::{Confidence, Pattern, Provider};
use std::borrow::Cow;

/// What a custom rule is reported under: one more provider, constant like the built-in ones, with no
/// issuer to ask or send anyone to.
static CUSTOM: Provider = Provider {
    id: "custom",
    name: "Custom rule",
    env_vars: &[],
    revoke_url: None,
    create_url: None,
    patterns: &[],
    liveness: &[],
    unchecked: Some("a custom rule names no issuer to ask"),
};

/// A rule of the team's own (`[[rule]]` in `.unleak.toml`), owned: the shape of a built-in
/// [`Pattern`] with a prefix, no names or context words, checked when the file loads.
#[derive(Clone, Debug)]
pub(crate) struct CustomPattern {
    id: String,
    description: String,
    details: String,
    help: String,
    prefixes: Vec<String>,
    regex: String,
    confidence: Confidence,
    /// `^(?:regex)$`, compiled once: which rule a whole value is (see [`Rules::identify`]).
    whole: regex::Regex,
}

/// What to do about a custom rule's match when the rule says nothing.
const CUSTOM_HELP: &str =
    "Revoke or rotate it where it was issued, and remove it from history (`unleak respond`).";

impl CustomPattern {
    /// A custom rule; its regex was checked at load (`allowlist::CustomRule`), so an error here is one
    /// the caller reports as that rule's.
    pub(crate) fn new(
        id: &str,
        description: &str,
        regex: &str,
        prefixes: &[String],
        confidence: Confidence,
        help: Option<&str>,
    ) -> Result<CustomPattern, regex::Error> {
        Ok(CustomPattern {
            id: id.to_string(),
            description: description.to_string(),
            details: format!("{description} (a custom rule from .unleak.toml: {regex})"),
            help: help.unwrap_or(CUSTOM_HELP).to_string(),
            prefixes: prefixes.to_vec(),
            regex: regex.to_string(),
            confidence,
            whole: regex::Regex::new(&format!("^(?:{regex})$"))?,
        })
    }
}

/// The rules of a search: every built-in rule, then the custom ones in the order `.unleak.toml` gives
/// them. Cloning copies the custom rules (a few strings and a shared compiled regex each).
#[derive(Clone, Debug, Default)]
pub struct Rules {
    custom: Vec<CustomPattern>,
}

impl Rules {
    /// The built-in rules alone: what every command but audit (which reads `.unleak.toml`) runs with.
    pub fn builtin() -> &'static Rules {
        static BUILTIN: Rules = Rules { custom: Vec::new() };
        &BUILTIN
    }

    /// The built-in rules and these custom ones.
    pub(crate) fn with_custom(custom: Vec<CustomPattern>) -> Rules {
        Rules { custom }
    }

    /// The custom rules, in order.
    pub(crate) fn custom(&self) -> &[CustomPattern] {
        &self.custom
    }

    /// Every rule: the built-in ones (Hugging Face first, the generic rule last), then the custom ones.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Rule<'_>> {
        super::all()
            .iter()
            .flat_map(|&p| p.patterns.iter().map(move |pat| Rule::from_builtin(p, pat)))
            .chain(self.custom.iter().map(Rule::from_custom))
    }

    /// The rule with this id, built-in or custom.
    pub(crate) fn rule(&self, id: &str) -> Option<Rule<'_>> {
        match super::rule(id) {
            Some((provider, pattern)) => Some(Rule::from_builtin(provider, pattern)),
            None => self
                .custom
                .iter()
                .find(|c| c.id == id)
                .map(Rule::from_custom),
        }
    }

    /// The rule matching the whole value, the most confident one when several do, the earliest on a
    /// tie (see [`super::identify_rule`]; a custom rule has a prefix, so its shape alone answers).
    pub(crate) fn identify(&self, value: &str) -> Option<Rule<'_>> {
        let mut best = super::identify_rule(value).map(|(p, pat)| Rule::from_builtin(p, pat));
        for custom in &self.custom {
            if custom.whole.is_match(value) && best.is_none_or(|b| custom.confidence > b.confidence)
            {
                best = Some(Rule::from_custom(custom));
            }
        }
        best
    }
}

/// One rule, built-in or custom, as the readers of rules see it. `Copy`: it borrows the [`Rules`] (or
/// the pattern set) it came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rule<'r> {
    /// The issuer (the constant "custom" provider for a custom rule).
    pub(crate) provider: &'static Provider,
    pub(crate) id: &'r str,
    pub(crate) description: &'r str,
    pub(crate) details: &'r str,
    pub(crate) help: &'r str,
    pub(crate) regex: &'r str,
    pub(crate) prefixes: Strs<'r>,
    /// Context rules only (built-in): the key names and context words; empty for a custom rule.
    pub(crate) names: &'static [&'static str],
    pub(crate) near: &'static [&'static str],
    pub(crate) confidence: Confidence,
    /// The built-in pattern, when it is one.
    pub(crate) builtin: Option<&'static Pattern>,
}

impl<'r> Rule<'r> {
    pub(crate) fn from_builtin(provider: &'static Provider, pattern: &'static Pattern) -> Rule<'r> {
        Rule {
            provider,
            id: pattern.id,
            description: pattern.description,
            details: pattern.details,
            help: pattern.help,
            regex: pattern.regex,
            prefixes: Strs::Static(pattern.prefixes),
            names: pattern.names,
            near: pattern.near,
            confidence: pattern.confidence,
            builtin: Some(pattern),
        }
    }

    pub(crate) fn from_custom(custom: &'r CustomPattern) -> Rule<'r> {
        Rule {
            provider: &CUSTOM,
            id: &custom.id,
            description: &custom.description,
            details: &custom.details,
            help: &custom.help,
            regex: &custom.regex,
            prefixes: Strs::Owned(&custom.prefixes),
            names: &[],
            near: &[],
            confidence: custom.confidence,
            builtin: None,
        }
    }

    /// The id, to keep beyond the rule set's life (a [`Secret`](crate::secret::Secret) knows its rule
    /// by it): borrowed for a built-in rule, copied for a custom one.
    pub(crate) fn owned_id(self) -> Cow<'static, str> {
        match self.builtin {
            Some(pattern) => Cow::Borrowed(pattern.id),
            None => Cow::Owned(self.id.to_string()),
        }
    }
}

/// A list of strings, the built-in rules' constant ones or a custom rule's own.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Strs<'r> {
    Static(&'static [&'static str]),
    Owned(&'r [String]),
}

impl<'r> Strs<'r> {
    pub(crate) fn iter(self) -> impl Iterator<Item = &'r str> {
        let (fixed, owned): (&'static [&'static str], &'r [String]) = match self {
            Strs::Static(fixed) => (fixed, &[]),
            Strs::Owned(owned) => (&[], owned),
        };
        fixed
            .iter()
            .copied()
            .chain(owned.iter().map(String::as_str))
    }

    pub(crate) fn is_empty(self) -> bool {
        match self {
            Strs::Static(fixed) => fixed.is_empty(),
            Strs::Owned(owned) => owned.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::examples::expand;

    fn acme(regex: &str, confidence: Confidence) -> Rules {
        let prefixes = vec!["acme_".to_string()];
        let rule = CustomPattern::new("acme.key", "ACME key", regex, &prefixes, confidence, None);
        Rules::with_custom(vec![rule.unwrap()])
    }

    /// Two rule sets in one process answer each for itself (a registry set once could not).
    #[test]
    fn two_rule_sets_in_one_process_answer_differently() {
        let lower = acme("acme_[A-Za-z]{32}", Confidence::Low);
        let digits = acme("acme_[0-9]{32}", Confidence::High);
        let letters = expand("acme_{alpha:32}");
        assert_eq!(lower.identify(&letters).map(|r| r.id), Some("acme.key"));
        assert!(digits.identify(&letters).is_none());
        assert_eq!(
            lower.rule("acme.key").map(|r| r.confidence),
            Some(Confidence::Low)
        );
        assert_eq!(
            digits.rule("acme.key").map(|r| r.confidence),
            Some(Confidence::High)
        );
        assert!(Rules::builtin().rule("acme.key").is_none());
        let rule = lower.rule("acme.key").unwrap();
        assert_eq!(rule.provider.id, "custom");
        assert_eq!(rule.prefixes.iter().collect::<Vec<_>>(), ["acme_"]);
        assert_eq!(rule.owned_id(), "acme.key");
        assert!(rule.details.contains("acme_[A-Za-z]{32}"));
    }

    /// Built-in rules answer through a rule set as they do alone, and come first.
    #[test]
    fn builtin_rules_come_first_and_answer_as_alone() {
        let rules = acme("acme_[A-Za-z]{32}", Confidence::High);
        let ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        assert_eq!(ids.first(), Some(&"huggingface.user-token"));
        assert_eq!(ids.last(), Some(&"acme.key"));
        let token = expand("hf_{alpha:34}");
        let rule = rules.identify(&token).unwrap();
        assert_eq!(rule.id, "huggingface.user-token");
        assert!(matches!(rule.owned_id(), Cow::Borrowed(_)));
    }
}
