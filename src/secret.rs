//! The `Secret` type: the only place a token's value lives in memory.
//!
//! It has no `Display`, its `Debug` shows the redaction, and its memory is wiped on drop. Everything that
//! leaves the process (reports, logs, scripts) uses [`Secret::redacted`] and [`Secret::fingerprint`].

use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

/// Known token prefixes, longest first, kept visible in redactions because they name the issuer and
/// carry no entropy.
const VISIBLE_PREFIXES: &[&str] = &[
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

/// A token value, with where it came from (a description such as `.env:HF_TOKEN`, never the value).
#[derive(Clone)]
pub struct Secret {
    value: Zeroizing<String>,
    origin: String,
}

impl Secret {
    /// Shortest value accepted: shorter strings match too much of any history to be a useful search.
    pub const MIN_LEN: usize = 8;

    pub fn new(value: impl Into<String>, origin: impl Into<String>) -> Self {
        Secret {
            value: Zeroizing::new(value.into()),
            origin: origin.into(),
        }
    }

    /// The value itself. Callers use it to search, to write `.env`, or to talk to the issuer; never to print.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where the value was read from, for messages (`.env:HF_TOKEN`, `$HF_TOKEN`, `stdin line 2`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `hf_Ab…yz`: the issuer prefix, two characters after it and the last two. Short values show nothing
    /// but their length, since four characters of an eight-character secret are half of it.
    pub fn redacted(&self) -> String {
        redact(self.expose())
    }

    /// `sha256:<hex>` of the value: stable across runs and machines, so findings, baselines and incident
    /// records can name a token without holding it.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.expose().as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("redacted", &self.redacted())
            .field("origin", &self.origin)
            .finish()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}
impl Eq for Secret {}

/// `sha256:<64 hex digits>` of the bytes.
pub fn fingerprint(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The redaction shown for a value (see [`Secret::redacted`]).
pub fn redact(value: &str) -> String {
    let prefix = VISIBLE_PREFIXES
        .iter()
        .find(|p| value.starts_with(**p) && value.len() >= p.len() + 12)
        .copied()
        .unwrap_or("");
    let rest: Vec<char> = value[prefix.len()..].chars().collect();
    if rest.len() < 12 || value.chars().count() < 16 {
        return format!("…({} chars)", value.chars().count());
    }
    let head: String = rest[..2].iter().collect();
    let tail: String = rest[rest.len() - 2..].iter().collect();
    format!("{prefix}{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_prefix_and_four_characters() {
        let token = format!("hf_Ab{}yz", "q".repeat(30));
        assert_eq!(redact(&token), "hf_Ab…yz");
        assert_eq!(redact("abcdefghijklmnopqrstu"), "ab…tu");
        assert_eq!(redact("short123"), "…(8 chars)");
    }

    #[test]
    fn debug_never_shows_the_value() {
        let value = format!("hf_{}", "Zq".repeat(17));
        let secret = Secret::new(value.clone(), "test");
        let shown = format!("{secret:?}");
        assert!(!shown.contains(&value), "{shown}");
        assert!(shown.contains("hf_Zq…Zq"));
    }

    #[test]
    fn fingerprint_is_sha256_hex() {
        assert_eq!(
            fingerprint(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
