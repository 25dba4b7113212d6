//! What we know about each token issuer, as data: token shapes (rules), the environment variables tokens
//! are kept under, and where to revoke and create them. One file per issuer; every rule carries examples
//! and negative examples (templates, see [`examples`]) that the tests below and `matching::patterns` check.
//!
//! Rule ids (`huggingface.user-token`) are a public interface: reports, SARIF and allowlists name rules by
//! them, so an id is never renamed or reused for a different shape.

pub mod examples;
pub(crate) mod placeholder;

mod anthropic;
mod aws;
mod github;
mod gitlab;
mod google;
mod huggingface;
mod npm;
mod openai;
mod private_key;
mod pypi;
mod slack;
mod stripe;

pub(crate) use anthropic::ANTHROPIC;
pub(crate) use aws::AWS;
pub(crate) use github::GITHUB;
pub(crate) use gitlab::GITLAB;
pub(crate) use google::GOOGLE;
pub(crate) use huggingface::HUGGING_FACE;
pub(crate) use npm::NPM;
pub(crate) use openai::OPENAI;
pub(crate) use private_key::PRIVATE_KEY;
pub(crate) use pypi::PYPI;
pub(crate) use slack::SLACK;
pub(crate) use stripe::STRIPE;

use std::sync::OnceLock;

/// How sure a pattern match is to be a real token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Confidence {
    Low,
    Medium,
    High,
}

/// A token issuer.
#[derive(Debug)]
pub struct Provider {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    /// Environment variable names the token is usually kept under.
    pub(crate) env_vars: &'static [&'static str],
    /// Where a user revokes a token by hand.
    pub(crate) revoke_url: Option<&'static str>,
    /// Where a user creates a new one, with least privilege preselected where the issuer allows it.
    pub(crate) create_url: Option<&'static str>,
    /// The token shapes (rules) this issuer hands out.
    pub patterns: &'static [Pattern],
    /// The documented read-only call that tells whether a token still works, if the issuer has one.
    pub(crate) liveness: Option<&'static IdentityCheck>,
}

/// A safe identity call: it reads who the token belongs to and changes nothing (never a write).
#[derive(Debug)]
pub(crate) struct IdentityCheck {
    /// The rules whose tokens this call can check (an installation token cannot call `/user`, say).
    pub(crate) rules: &'static [&'static str],
    /// The environment variable that overrides the API base (`HF_ENDPOINT`, `GITHUB_API_URL`), for
    /// enterprise hosts and tests. Plain `http://` is accepted only for a loopback host.
    pub(crate) base_env: &'static str,
    pub(crate) default_base: &'static str,
    /// `POST` only where the documented identity call is one (Slack's `auth.test` reads, it writes nothing).
    pub(crate) post: bool,
    pub(crate) path: &'static str,
    pub(crate) auth: Auth,
    /// Fixed headers the API asks for (`Accept`, an API version).
    pub(crate) headers: &'static [(&'static str, &'static str)],
    /// Statuses meaning the token works (Stripe answers 403 to a restricted key lacking the permission).
    pub(crate) live: &'static [u16],
    /// Statuses meaning it does not (revoked, expired, invalid).
    pub(crate) dead: &'static [u16],
    /// A JSON field naming the owner in a live answer (`login`, `name`, `username`).
    pub(crate) owner_field: Option<&'static str>,
    /// For APIs that answer 200 either way (Slack): the boolean field, the error field, and the errors
    /// that mean the token is dead.
    pub(crate) body_ok: Option<BodyOk>,
}

/// How the token is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// The token as the value of this header (`x-api-key`).
    Header(&'static str),
}

#[derive(Debug)]
pub(crate) struct BodyOk {
    pub(crate) field: &'static str,
    pub(crate) error_field: &'static str,
    pub(crate) dead_errors: &'static [&'static str],
}

/// One token shape of a provider: a rule.
///
/// A match starts with one of `prefixes` (the scanner's literal prefilter looks for those and runs the
/// regex only where one occurs) and is a whole token: it neither follows a word character (when it starts
/// with one) nor is followed by a token character `[A-Za-z0-9_-]` (when it ends with one). The part after
/// the prefix must not look like a stand-in (`placeholder::is_placeholder_body`).
#[derive(Debug)]
pub struct Pattern {
    /// Stable rule id, used in reports, SARIF and allowlists (`huggingface.user-token`).
    pub id: &'static str,
    /// A short name for the rule (SARIF `shortDescription`).
    pub(crate) description: &'static str,
    /// What the rule matches and why it is as confident as it is (SARIF `fullDescription`).
    pub(crate) details: &'static str,
    /// What to do about a match (SARIF `help`).
    pub(crate) help: &'static str,
    /// Fixed literals a match starts with, one of which every match begins with.
    pub(crate) prefixes: &'static [&'static str],
    /// A regex (Rust `regex` syntax, no anchors, no look-around) matching the whole token.
    pub(crate) regex: &'static str,
    pub(crate) confidence: Confidence,
    /// Templates ([`examples::expand`]) of tokens this rule must find, each as a finding of this rule.
    pub examples: &'static [&'static str],
    /// Templates of text in which no rule may find anything: near misses and placeholders.
    pub negatives: &'static [&'static str],
}

/// Every provider we know, Hugging Face first.
pub fn all() -> &'static [&'static Provider] {
    static ALL: [&Provider; 12] = [
        &HUGGING_FACE,
        &GITHUB,
        &GITLAB,
        &OPENAI,
        &ANTHROPIC,
        &AWS,
        &SLACK,
        &STRIPE,
        &GOOGLE,
        &NPM,
        &PYPI,
        &PRIVATE_KEY,
    ];
    &ALL
}

/// Custom rules from `.unleak.toml`, as one more provider; set once, before any rule is looked up.
static CUSTOM: OnceLock<&'static Provider> = OnceLock::new();

/// Adds the custom rules (checked by the caller: see `audit::load_custom_rules`). Only the first call
/// counts: a process audits one repository.
pub(crate) fn register_custom(provider: &'static Provider) {
    let _ = CUSTOM.set(provider);
}

/// Every provider we know, then the custom rules when there are any.
pub(crate) fn with_custom() -> Vec<&'static Provider> {
    let mut out = all().to_vec();
    out.extend(CUSTOM.get().copied());
    out
}

/// The rule with this id, and its provider (custom rules included).
pub fn rule(id: &str) -> Option<(&'static Provider, &'static Pattern)> {
    with_custom()
        .into_iter()
        .flat_map(|p| p.patterns.iter().map(move |pat| (p, pat)))
        .find(|(_, pat)| pat.id == id)
}

/// The provider whose pattern matches the whole value, if any.
pub(crate) fn identify(value: &str) -> Option<&'static Provider> {
    identify_rule(value).map(|(provider, _)| provider)
}

/// The rule matching the whole value, the most confident one when several do (an `hf_` token of letters
/// only is `huggingface.user-token`, not `huggingface.user-token-alnum`).
pub(crate) fn identify_rule(value: &str) -> Option<(&'static Provider, &'static Pattern)> {
    type Whole = (&'static Provider, &'static Pattern, regex::Regex);
    static WHOLE: OnceLock<Vec<Whole>> = OnceLock::new();
    let whole = WHOLE.get_or_init(|| {
        with_custom()
            .into_iter()
            .flat_map(|p| p.patterns.iter().map(move |pat| (p, pat)))
            .map(|(p, pat)| {
                let re = regex::Regex::new(&format!("^(?:{})$", pat.regex))
                    .expect("provider regexes compile (checked by tests)");
                (p, pat, re)
            })
            .collect()
    });
    let mut best: Option<(&'static Provider, &'static Pattern)> = None;
    for (provider, pattern, re) in whole {
        if re.is_match(value) && best.is_none_or(|(_, b)| pattern.confidence > b.confidence) {
            best = Some((provider, pattern));
        }
    }
    best
}

/// Prefixes a redaction keeps visible (they name the issuer and carry no entropy), longest first: each
/// rule's prefixes cut after their last `-` or `_` (`pypi-AgEIcHlwaS5vcmc` shows `pypi-`; one with
/// neither, such as `AKIA`, stays whole), skipping those that do not start with a letter or hold more
/// than `[A-Za-z0-9_-]` (`-----BEGIN `, `hooks.slack.com/`), plus [`EXTRA_VISIBLE_PREFIXES`].
pub(crate) fn visible_prefixes() -> &'static [&'static str] {
    static PREFIXES: OnceLock<Vec<&'static str>> = OnceLock::new();
    PREFIXES.get_or_init(|| {
        let mut out: Vec<&'static str> = EXTRA_VISIBLE_PREFIXES.to_vec();
        let rule_prefixes = all()
            .iter()
            .flat_map(|provider| provider.patterns)
            .flat_map(|pattern| pattern.prefixes);
        for prefix in rule_prefixes.filter_map(|p| visible_part(p)) {
            if !out.contains(&prefix) {
                out.push(prefix);
            }
        }
        out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        out
    })
}

/// Visible prefixes no rule starts with: a non-rule Anthropic-style value still shows its issuer.
const EXTRA_VISIBLE_PREFIXES: &[&str] = &["sk-ant-"];

/// The part of a rule prefix a redaction shows (see [`visible_prefixes`]).
fn visible_part(prefix: &'static str) -> Option<&'static str> {
    let plain = prefix.starts_with(|c: char| c.is_ascii_alphabetic())
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !plain {
        return None;
    }
    if prefix.ends_with(['-', '_']) {
        return Some(prefix);
    }
    match prefix.rfind(['-', '_']) {
        Some(i) => Some(&prefix[..=i]),
        None => Some(prefix),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn visible_prefixes_are_the_known_list() {
        let mut today = vec![
            "sk-ant-admin01-",
            "github_pat_",
            "sk-ant-api03-",
            "sk-svcacct-",
            "sk-admin-",
            "sk-ant-",
            "sk-proj-",
            "api_org_",
            "sk_live_",
            "rk_live_",
            "glpat-",
            "xoxb-",
            "xoxp-",
            "xoxa-",
            "xoxe-",
            "xoxr-",
            "xoxs-",
            "xoxo-",
            "xapp-",
            "pypi-",
            "ghp_",
            "gho_",
            "ghu_",
            "ghs_",
            "ghr_",
            "npm_",
            "AKIA",
            "ASIA",
            "AIza",
            "hf_",
            "sk-",
        ];
        assert_eq!(today.len(), 31);
        let derived = super::visible_prefixes().to_vec();
        assert!(
            derived.windows(2).all(|w| w[0].len() >= w[1].len()),
            "{derived:?}"
        );
        let mut sorted = derived.clone();
        sorted.sort();
        today.sort();
        assert_eq!(sorted, today);
    }

    use super::*;
    use std::collections::HashSet;

    fn rules() -> impl Iterator<Item = (&'static Provider, &'static Pattern)> {
        all()
            .iter()
            .flat_map(|p| p.patterns.iter().map(move |pat| (*p, pat)))
    }

    #[test]
    fn ids_are_unique_and_namespaced_by_provider() {
        let mut seen = HashSet::new();
        let shape = regex::Regex::new(r"^[a-z0-9]+(?:-[a-z0-9]+)*$").unwrap();
        for provider in all() {
            assert!(shape.is_match(provider.id), "{}", provider.id);
            assert!(
                seen.insert(provider.id),
                "duplicate provider {}",
                provider.id
            );
            assert!(!provider.patterns.is_empty(), "{}", provider.id);
        }
        for (provider, pattern) in rules() {
            let rest = pattern
                .id
                .strip_prefix(provider.id)
                .and_then(|r| r.strip_prefix('.'))
                .unwrap_or_else(|| panic!("{} is not under {}.", pattern.id, provider.id));
            assert!(shape.is_match(rest), "{}", pattern.id);
            assert!(seen.insert(pattern.id), "duplicate rule {}", pattern.id);
        }
    }

    #[test]
    fn every_rule_is_documented_and_has_examples() {
        for (_, pattern) in rules() {
            assert!(!pattern.description.is_empty(), "{}", pattern.id);
            assert!(
                pattern.details.len() > pattern.description.len(),
                "{}",
                pattern.id
            );
            assert!(pattern.help.len() > 40, "{}", pattern.id);
            assert!(!pattern.prefixes.is_empty(), "{}", pattern.id);
            assert!(!pattern.examples.is_empty(), "{}", pattern.id);
            assert!(!pattern.negatives.is_empty(), "{}", pattern.id);
        }
    }

    #[test]
    fn identity_checks_name_their_own_rules_and_use_https() {
        let mut checked = 0;
        for provider in all() {
            let Some(check) = provider.liveness else {
                continue;
            };
            checked += 1;
            assert!(
                check.default_base.starts_with("https://"),
                "{}",
                provider.id
            );
            assert!(!check.default_base.ends_with('/'), "{}", provider.id);
            assert!(check.path.starts_with('/'), "{}", provider.id);
            assert!(!check.base_env.is_empty(), "{}", provider.id);
            assert!(!check.rules.is_empty(), "{}", provider.id);
            for id in check.rules {
                let (owner, _) =
                    rule(id).unwrap_or_else(|| panic!("{}: no rule {id}", provider.id));
                assert_eq!(owner.id, provider.id, "{id}");
            }
            for status in check.live {
                assert!(!check.dead.contains(status), "{}: {status}", provider.id);
            }
        }
        assert!(
            checked >= 7,
            "HF, GitHub, OpenAI, Anthropic, Slack, Stripe, npm"
        );
    }

    #[test]
    fn urls_are_https() {
        for provider in all() {
            for url in [provider.revoke_url, provider.create_url]
                .into_iter()
                .flatten()
            {
                assert!(url.starts_with("https://"), "{}: {url}", provider.id);
            }
        }
    }

    #[test]
    fn examples_match_their_rule_whole_and_start_with_a_prefix() {
        for (provider, pattern) in rules() {
            let whole = regex::Regex::new(&format!("^(?:{})$", pattern.regex))
                .unwrap_or_else(|e| panic!("{}: {e}", pattern.id));
            for template in pattern.examples {
                let token = examples::expand(template);
                assert!(whole.is_match(&token), "{}: {template}", pattern.id);
                assert!(
                    pattern.prefixes.iter().any(|p| token.starts_with(p)),
                    "{}: {template} starts with none of {:?}",
                    pattern.id,
                    pattern.prefixes
                );
                let (p, r) = identify_rule(&token).expect("identified");
                assert_eq!(p.id, provider.id, "{template}");
                assert_eq!(r.id, pattern.id, "{template}");
            }
        }
    }

    #[test]
    fn identify_names_the_provider() {
        let letters = examples::expand("hf_{alpha:34}");
        assert_eq!(identify(&letters).map(|p| p.id), Some("huggingface"));
        assert_eq!(
            identify_rule(&letters).map(|(_, r)| r.id),
            Some("huggingface.user-token")
        );
        let mixed = examples::expand("hf_{alnum:34}");
        assert_eq!(
            identify_rule(&mixed).map(|(_, r)| r.id),
            Some("huggingface.user-token-alnum")
        );
        assert_eq!(
            identify(&examples::expand("ghp_{alnum:36}")).map(|p| p.id),
            Some("github")
        );
        assert!(identify("not-a-token-at-all").is_none());
        assert!(identify(&examples::expand("hf_{alpha:35}")).is_none());
    }

    #[test]
    fn rule_looks_up_by_id() {
        let (provider, pattern) = rule("huggingface.user-token").unwrap();
        assert_eq!(provider.id, "huggingface");
        assert_eq!(pattern.confidence, Confidence::High);
        assert!(rule("nope.nothing").is_none());
    }
}
