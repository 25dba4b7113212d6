//! What we know about each token issuer, as data: token shapes (rules), the environment variables tokens
//! are kept under, and where to revoke and create them. One file per issuer; every rule carries examples
//! and negative examples (templates, see [`examples`]) that the tests below and `matching::patterns` check.
//!
//! A team's own rules (`[[rule]]` in `.unleak.toml`) are not registered here: a search holds them in a
//! [`Rules`] value (see `rules.rs`) and hands it to whatever must know them. The free lookups below
//! ([`rule`], [`identify_rule`], [`identify`], [`identify_keyed`]) know the built-in rules only.
//!
//! Rule ids (`huggingface.user-token`) are a public interface: reports, SARIF and allowlists name rules by
//! them, so an id is never renamed or reused for a different shape.

pub mod examples;
pub(crate) mod placeholder;
mod rules;

mod anthropic;
mod aws;
mod azure;
mod cohere;
mod comet;
mod deepseek;
mod elevenlabs;
mod fireworks;
mod generic;
mod github;
mod gitlab;
mod google;
mod groq;
mod huggingface;
mod kaggle;
mod langsmith;
mod mistral;
mod neptune;
mod npm;
mod openai;
mod openrouter;
mod perplexity;
mod pinecone;
mod private_key;
mod pypi;
mod replicate;
mod slack;
mod stripe;
mod tavily;
mod together;
mod voyage;
mod wandb;
mod xai;

pub(crate) use anthropic::ANTHROPIC;
pub(crate) use aws::AWS;
pub(crate) use azure::AZURE_OPENAI;
pub(crate) use cohere::COHERE;
pub(crate) use comet::COMET;
pub(crate) use deepseek::DEEPSEEK;
pub(crate) use elevenlabs::ELEVENLABS;
pub(crate) use fireworks::FIREWORKS;
pub(crate) use generic::GENERIC;
pub(crate) use github::GITHUB;
pub(crate) use gitlab::GITLAB;
pub(crate) use google::GOOGLE;
pub(crate) use groq::GROQ;
pub(crate) use huggingface::HUGGING_FACE;
pub(crate) use kaggle::KAGGLE;
pub(crate) use langsmith::LANGSMITH;
pub(crate) use mistral::MISTRAL;
pub(crate) use neptune::NEPTUNE;
pub(crate) use npm::NPM;
pub(crate) use openai::OPENAI;
pub(crate) use openrouter::OPENROUTER;
pub(crate) use perplexity::PERPLEXITY;
pub(crate) use pinecone::PINECONE;
pub(crate) use private_key::PRIVATE_KEY;
pub(crate) use pypi::PYPI;
pub(crate) use replicate::REPLICATE;
pub(crate) use slack::SLACK;
pub(crate) use stripe::STRIPE;
pub(crate) use tavily::TAVILY;
pub(crate) use together::TOGETHER;
pub(crate) use voyage::VOYAGE;
pub(crate) use wandb::WANDB;
pub(crate) use xai::XAI;

pub use rules::Rules;
pub(crate) use rules::{CustomPattern, Rule};

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
    /// The documented read-only calls that tell whether a token still works, each for the rules it
    /// names (an OpenAI admin key is checked on another endpoint than a project key).
    pub(crate) liveness: &'static [&'static IdentityCheck],
    /// Why there is no check, when there is none: said instead of a bare "no check".
    pub(crate) unchecked: Option<&'static str>,
}

/// A safe identity call: it reads who the token belongs to and changes nothing (never a write).
#[derive(Debug)]
pub(crate) struct IdentityCheck {
    /// The rules whose tokens this call can check (an installation token cannot call `/user`, say).
    pub(crate) rules: &'static [&'static str],
    /// The environment variable that overrides the API base (`HF_ENDPOINT`, `GITHUB_API_URL`), for
    /// enterprise hosts and tests. Plain `http://` is accepted only for a loopback host.
    pub(crate) base_env: &'static str,
    /// Whether the override may name any `https://` host (a private Hub, GitHub Enterprise). Otherwise
    /// only a loopback test stand-in: a key goes to its own issuer and nowhere else.
    pub(crate) any_host: bool,
    pub(crate) default_base: &'static str,
    /// `POST` only where the documented identity call is one (Slack's `auth.test` reads, it writes nothing).
    pub(crate) post: bool,
    /// The JSON body of a `POST` (W&B's GraphQL `{viewer{id}}` query); empty when it takes none.
    pub(crate) body: &'static str,
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
    /// HTTP basic authentication with this user name and the token as the password (W&B's `api`).
    Basic(&'static str),
    /// The token as this query parameter (Google's `key`).
    Query(&'static str),
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
    /// Fixed literals a match starts with, one of which every match begins with. Empty for a context
    /// rule (see `names`) and for the generic rule.
    pub(crate) prefixes: &'static [&'static str],
    /// A regex (Rust `regex` syntax, no anchors, no look-around) matching the whole token. With a
    /// capture group, the group is the token and the rest is context that must surround it
    /// (`cohere.Client("…")`). For a context rule: the shape of the value alone.
    pub(crate) regex: &'static str,
    /// Key names the token is kept under (`WANDB_API_KEY`, `aws_secret_access_key`), compared without
    /// regard to case. A rule with names and no prefixes is a context rule: its value alone is not
    /// distinctive (40 hex digits), so it is reported only where it is assigned to one of these names, in
    /// any syntax people use (see `matching::assignment`). Each name ends in one of the assignment
    /// keywords (`KEY`, `TOKEN`, `SECRET`, `PASSWORD`), which is what the scanner looks for.
    pub(crate) names: &'static [&'static str],
    /// Context rules only: words one of which must stand on the assignment's line or within the 256
    /// bytes before it (`api.wandb.ai` for a `.netrc` password). Empty: the name is context enough.
    pub(crate) near: &'static [&'static str],
    pub(crate) confidence: Confidence,
    /// Templates ([`examples::expand`]) of tokens this rule must find, each as a finding of this rule.
    pub examples: &'static [&'static str],
    /// Templates of text in which no rule may find anything: near misses and placeholders.
    pub negatives: &'static [&'static str],
}

/// Every provider we know, Hugging Face first and the generic secret-assignment rule last.
pub fn all() -> &'static [&'static Provider] {
    static ALL: [&Provider; 33] = [
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
        &WANDB,
        &REPLICATE,
        &COHERE,
        &GROQ,
        &MISTRAL,
        &LANGSMITH,
        &PINECONE,
        &KAGGLE,
        &TOGETHER,
        &DEEPSEEK,
        &XAI,
        &OPENROUTER,
        &PERPLEXITY,
        &FIREWORKS,
        &ELEVENLABS,
        &TAVILY,
        &VOYAGE,
        &AZURE_OPENAI,
        &COMET,
        &NEPTUNE,
        &GENERIC,
    ];
    &ALL
}

/// The built-in rule with this id, and its provider. A search's custom rules answer through its
/// [`Rules`] ([`Rules::rule`]).
pub fn rule(id: &str) -> Option<(&'static Provider, &'static Pattern)> {
    all()
        .iter()
        .flat_map(|p| p.patterns.iter().map(move |pat| (*p, pat)))
        .find(|(_, pat)| pat.id == id)
}

/// The provider whose pattern matches the whole value, if any.
pub(crate) fn identify(value: &str) -> Option<&'static Provider> {
    identify_rule(value).map(|(provider, _)| provider)
}

/// The rule matching the whole value, the most confident one when several do (an `hf_` token of letters
/// only is `huggingface.user-token`, not `huggingface.user-token-alnum`). Only rules whose shape alone
/// is distinctive answer: a context rule's 40 hex digits or the generic rule's anything say nothing
/// without the name the value was assigned to (see [`identify_keyed`], `Secret::identify`). Built-in
/// rules only: [`Rules::identify`] adds a search's custom rules.
pub(crate) fn identify_rule(value: &str) -> Option<(&'static Provider, &'static Pattern)> {
    type Whole = (&'static Provider, &'static Pattern, regex::Regex);
    static WHOLE: OnceLock<Vec<Whole>> = OnceLock::new();
    let whole = WHOLE.get_or_init(|| {
        all()
            .iter()
            .flat_map(|p| p.patterns.iter().map(move |pat| (*p, pat)))
            .filter(|(_, pat)| !pat.prefixes.is_empty())
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

/// The rule of a value kept under a key name (`.env`'s `WANDB_API_KEY=…`): the value's own shape
/// first, else a context rule that lists the name and whose shape the value has.
pub(crate) fn identify_keyed(
    name: &str,
    value: &str,
) -> Option<(&'static Provider, &'static Pattern)> {
    type Context = (&'static Provider, &'static Pattern, regex::Regex);
    // Compiled once: `--all-keys` asks this for every key of a `.env`.
    static CONTEXT: OnceLock<Vec<Context>> = OnceLock::new();
    let context = CONTEXT.get_or_init(|| {
        all()
            .iter()
            .flat_map(|p| p.patterns.iter().map(move |pat| (*p, pat)))
            .filter(|(_, pat)| pat.prefixes.is_empty() && !pat.names.is_empty())
            .filter(|(_, pat)| pat.near.is_empty())
            .map(|(p, pat)| {
                let re = regex::Regex::new(&format!("^(?:{})$", pat.regex))
                    .expect("provider regexes compile (checked by tests)");
                (p, pat, re)
            })
            .collect()
    });
    identify_rule(value).or_else(|| {
        context
            .iter()
            .filter(|(_, pat, _)| pat.names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            .find(|(_, _, re)| re.is_match(value))
            .map(|(p, pat, _)| (*p, *pat))
    })
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
            "AIza",
            "AKIA",
            "ASIA",
            "api_org_",
            "eyJhcGlfYWRkcmVzcyI6",
            "fw_",
            "gho_",
            "ghp_",
            "ghr_",
            "ghs_",
            "ghu_",
            "github_pat_",
            "glpat-",
            "gsk_",
            "hf_",
            "lsv2_pt_",
            "lsv2_sk_",
            "npm_",
            "pa-",
            "pcsk_",
            "pplx-",
            "pypi-",
            "r8_",
            "rk_live_",
            "sk-",
            "sk-admin-",
            "sk-ant-",
            "sk-ant-admin01-",
            "sk-ant-api03-",
            "sk-or-v1-",
            "sk-proj-",
            "sk-svcacct-",
            "sk_",
            "sk_live_",
            "tgp_v1_",
            "tvly-",
            "xai-",
            "xapp-",
            "xoxa-",
            "xoxb-",
            "xoxe-",
            "xoxo-",
            "xoxp-",
            "xoxr-",
            "xoxs-",
        ];
        assert_eq!(today.len(), 45);
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
            assert!(
                !pattern.prefixes.is_empty()
                    || !pattern.names.is_empty()
                    || pattern.id == "generic.secret-assignment",
                "{}: neither prefixes nor names",
                pattern.id
            );
            assert!(
                pattern.near.is_empty() || !pattern.names.is_empty(),
                "{}: near words belong to a context rule",
                pattern.id
            );
            assert!(!pattern.examples.is_empty(), "{}", pattern.id);
            assert!(!pattern.negatives.is_empty(), "{}", pattern.id);
        }
    }

    #[test]
    fn identity_checks_name_their_own_rules_and_use_https() {
        let mut checked = 0;
        for provider in all() {
            for check in provider.liveness {
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
                assert_eq!(
                    check.post,
                    !check.body.is_empty()
                        || check.path.contains("auth.test")
                        || check.path.contains("check-api-key"),
                    "{}",
                    provider.id
                );
            }
            if provider.liveness.is_empty() {
                assert!(
                    provider.unchecked.is_some(),
                    "{}: say why there is no check",
                    provider.id
                );
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

    /// The scanner reaches a context rule through a keyword in its names' last word (`KEY`, `pass` in
    /// `password`): a name with none would never be read.
    #[test]
    fn context_names_end_in_an_assignment_keyword() {
        for (_, pattern) in rules() {
            for name in pattern.names {
                let words = crate::matching::assignment::words(name.as_bytes());
                let last = words.last().map(String::as_str).unwrap_or_default();
                assert!(
                    crate::matching::assignment::KEYWORDS
                        .iter()
                        .any(|k| last.contains(k)),
                    "{}: {name}",
                    pattern.id
                );
            }
        }
    }

    /// Rules whose whole match is the token (context rules and rules with a capture group are checked
    /// in `matching::patterns`, on the text around their examples).
    #[test]
    fn examples_match_their_rule_whole_and_start_with_a_prefix() {
        for (provider, pattern) in rules().filter(|(_, p)| {
            !p.prefixes.is_empty() && regex::Regex::new(p.regex).unwrap().captures_len() == 1
        }) {
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

#[cfg(test)]
mod docs {
    use super::*;

    /// The providers table of docs/providers.md, from the data (`cargo test --lib providers_table --
    /// --ignored --nocapture` prints it).
    fn table() -> String {
        let mut out = String::from(
            "| rule | provider | kind | confidence | found by | read-only check |\n|---|---|---|---|---|---|\n",
        );
        for provider in all() {
            for pattern in provider.patterns {
                let found_by = if !pattern.prefixes.is_empty() {
                    let shown: Vec<String> = pattern
                        .prefixes
                        .iter()
                        .map(|p| format!("`{}`", p.replace('|', "\\|")))
                        .collect();
                    format!("prefix {}", shown.join(", "))
                } else if pattern.names.is_empty() {
                    "a secret's name (see below)".to_string()
                } else {
                    let names: Vec<String> =
                        pattern.names.iter().map(|n| format!("`{n}`")).collect();
                    let near = if pattern.near.is_empty() {
                        String::new()
                    } else {
                        let words: Vec<String> =
                            pattern.near.iter().map(|n| format!("`{n}`")).collect();
                        format!(" near {}", words.join(", "))
                    };
                    format!("name {}{near}", names.join(", "))
                };
                let check = provider
                    .liveness
                    .iter()
                    .find(|c| c.rules.contains(&pattern.id))
                    .map(|c| format!("`{} {}`", if c.post { "POST" } else { "GET" }, c.path))
                    .unwrap_or_else(|| "none".to_string());
                out.push_str(&format!(
                    "| `{}` | {} | {} | {:?} | {} | {} |\n",
                    pattern.id,
                    provider.name,
                    pattern.description,
                    pattern.confidence,
                    found_by,
                    check
                ));
            }
        }
        out
    }

    #[test]
    #[ignore]
    fn providers_table() {
        println!("{}", table());
    }

    /// docs/providers.md lists every rule as the data has it.
    #[test]
    fn the_docs_table_is_the_data() {
        let doc = include_str!("../../docs/providers.md");
        assert!(
            doc.contains(&table()),
            "docs/providers.md's table is stale: paste `cargo test --lib providers_table -- --ignored --nocapture`"
        );
    }
}
