//! The `Secret` type: the only place a token's value lives in memory.
//!
//! It has no `Display`, its `Debug` shows the redaction, and its memory is wiped on drop. Everything that
//! leaves the process (reports, logs, scripts) uses [`Secret::redacted`] and [`Secret::fingerprint`].

use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use zeroize::Zeroizing;

/// A token value, with where it came from (a description such as `.env:HF_TOKEN`, never the value).
#[derive(Clone)]
pub struct Secret {
    value: Zeroizing<String>,
    origin: String,
    /// The provider rule that found or names it, when its value alone does not say (a context rule's
    /// 40 hex digits are a Weights & Biases key only because of the name they were assigned to). Owned
    /// for a custom rule, which lives in its search's `providers::Rules`.
    rule: Option<Cow<'static, str>>,
}

impl Secret {
    /// Shortest value accepted: shorter strings match too much of any history to be a useful search.
    pub(crate) const MIN_LEN: usize = 8;

    /// Takes ownership of a token value. `origin` says where it came from (`.env:HF_TOKEN`, `stdin`,
    /// `prompt`) and is shown to users, so it must never contain the value.
    pub fn new(value: impl Into<String>, origin: impl Into<String>) -> Self {
        Secret {
            value: Zeroizing::new(value.into()),
            origin: origin.into(),
            rule: None,
        }
    }

    /// The same secret, known to be a token of this rule (`wandb.api-key`): the rule that found it,
    /// or the one its key name and shape say.
    pub(crate) fn with_rule(mut self, rule: impl Into<Cow<'static, str>>) -> Self {
        self.rule = Some(rule.into());
        self
    }

    /// Its provider and built-in rule: the rule it is known by, else its value's own shape. For the
    /// commands that read no custom rules (respond, scan, verify); an audit asks [`Secret::identify_in`].
    pub(crate) fn identify(
        &self,
    ) -> Option<(
        &'static crate::providers::Provider,
        &'static crate::providers::Pattern,
    )> {
        self.rule
            .as_deref()
            .and_then(crate::providers::rule)
            .or_else(|| crate::providers::identify_rule(self.expose()))
    }

    /// Its rule among `rules` (custom rules included): the rule it is known by, else its value's own
    /// shape.
    pub(crate) fn identify_in<'r>(
        &self,
        rules: &'r crate::providers::Rules,
    ) -> Option<crate::providers::Rule<'r>> {
        self.rule
            .as_deref()
            .and_then(|id| rules.rule(id))
            .or_else(|| rules.identify(self.expose()))
    }

    /// The value itself. Callers use it to search, to write `.env`, or to talk to the issuer; never to print.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where the value was read from, for messages (`.env:HF_TOKEN`, `$HF_TOKEN`, `stdin line 2`).
    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    /// `hf_Ab…yz`: the issuer prefix, two characters after it and the last two. Short values show nothing
    /// but their length, since four characters of an eight-character secret are half of it.
    pub fn redacted(&self) -> String {
        redact(self.expose())
    }

    /// How reports name the value without holding it.
    ///
    /// A value that is hard to guess (a provider token, or `PUBLIC_FINGERPRINT_BITS` of estimated
    /// entropy) gets `sha256:<hex>`: stable across runs and machines, so findings, baselines, incident
    /// records and `verify --fingerprint` can name it. A guessable value (a human password from `.env`)
    /// gets `keyed:<hex>` instead, an HMAC-SHA256 under a key made for this run and never stored: an
    /// unsalted hash of a password in a shared JSON or SARIF file could be cracked offline, this cannot.
    /// It still names the value consistently within one report.
    pub fn fingerprint(&self) -> String {
        if self.has_public_fingerprint() {
            fingerprint(self.expose().as_bytes())
        } else {
            keyed_fingerprint(self.expose().as_bytes())
        }
    }

    /// Whether [`Secret::fingerprint`] is the public, stable `sha256:` form.
    pub(crate) fn has_public_fingerprint(&self) -> bool {
        // A provider's key (known by its rule, as a context rule's 32 hex digits are) is machine-made;
        // what the generic rule found may be a person's password.
        self.rule
            .as_ref()
            .is_some_and(|r| !r.starts_with("generic."))
            || is_unguessable(self.expose())
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

/// Estimated entropy (bits) from which a value's plain SHA-256 may be published: beyond any offline
/// search. Estimated as length times the bits per character of the value's own character distribution,
/// which is generous to long repetitive values and so set high: a 37-character Hugging Face token is
/// about 180, a 32-digit random hex key 128, a four-word passphrase about 100, `Summer2024!secret` 59.
pub(crate) const PUBLIC_FINGERPRINT_BITS: f64 = 128.0;

/// Whether a value's plain `sha256:` fingerprint is safe to publish: a provider token (machine-made,
/// high entropy by construction) or a value with [`PUBLIC_FINGERPRINT_BITS`] of estimated entropy.
pub(crate) fn is_unguessable(value: &str) -> bool {
    if crate::providers::identify(value).is_some() {
        return true;
    }
    let chars = value.chars().count() as f64;
    chars * crate::util::text::shannon_entropy(value) >= PUBLIC_FINGERPRINT_BITS
}

/// `keyed:<64 hex digits>`: HMAC-SHA256 of the bytes under this process's random key.
pub(crate) fn keyed_fingerprint(bytes: &[u8]) -> String {
    let mac = hmac_sha256(run_key(), bytes);
    let mut out = String::with_capacity(6 + 64);
    out.push_str("keyed:");
    for b in mac {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The key for [`keyed_fingerprint`]: 32 random bytes made once per run, kept only in memory.
fn run_key() -> &'static [u8; 32] {
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        let from_os = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key));
        if from_os.is_err() {
            // No /dev/urandom: the standard library's per-process random hash keys, several draws.
            use std::hash::{BuildHasher, Hasher};
            for (i, chunk) in key.chunks_mut(8).enumerate() {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_usize(i);
                chunk.copy_from_slice(&h.finish().to_le_bytes());
            }
        }
        key
    })
}

fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The redaction shown for a value (see [`Secret::redacted`]): the issuer's prefix stays visible
/// ([`crate::providers::visible_prefixes`]).
pub(crate) fn redact(value: &str) -> String {
    let prefix = crate::providers::visible_prefixes()
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
    fn guessable_values_get_a_keyed_fingerprint() {
        let token = Secret::new(format!("hf_{}", "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"), "t");
        assert!(token.fingerprint().starts_with("sha256:"));
        assert_eq!(token.fingerprint(), fingerprint(token.expose().as_bytes()));
        for guessable in [
            "Summer2024!secret",
            "correct-horse-battery-staple",
            "P@ssw0rd-2024-Winter",
        ] {
            let secret = Secret::new(guessable, "t");
            let shown = secret.fingerprint();
            assert!(shown.starts_with("keyed:"), "{guessable}: {shown}");
            assert_ne!(shown[6..], fingerprint(guessable.as_bytes())[7..]);
            assert_eq!(shown, secret.fingerprint(), "stable within a run");
        }
        // A long random value that no provider pattern knows is unguessable by its entropy.
        let random = "q8Xv2LmN7pRt4KwZ9sBy3Hd6Jc1Fg5Tn0Ue8Wa2Yk4Pi7Ro";
        assert!(Secret::new(random, "t").has_public_fingerprint());
    }

    #[test]
    fn hmac_matches_an_independent_implementation() {
        // python3: hmac.new(bytes(range(32)), b"abc", hashlib.sha256).hexdigest()
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let mac = hmac_sha256(&key, b"abc");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "f0133729c4163dede81e21cd47839256da58171238c8a0d874397c73b14e1e47"
        );
    }

    #[test]
    fn fingerprint_is_sha256_hex() {
        assert_eq!(
            fingerprint(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
