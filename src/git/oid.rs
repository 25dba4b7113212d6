//! An object id as plain bytes. libgit2's `Oid` compares and builds ids through foreign calls
//! (`git_oid_equal`, `git_oid_fromraw`) that cannot be inlined: with millions of tree entries checked
//! per scan that was a quarter of a scan's CPU time on git's history. This one is 20 bytes compared in
//! place; conversion to libgit2's type happens only inside this module's door ([`super`]).

use std::fmt;
use std::str::FromStr;

/// A SHA-1 object id (20 raw bytes). SHA-256 repositories are refused when opened.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Oid([u8; 20]);

/// Why bytes or text are not an object id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidError {
    /// Raw ids have exactly 20 bytes.
    #[error("an object id has 20 bytes, not {0}")]
    Length(usize),
    /// Hex ids have exactly 40 hex digits.
    #[error("an object id is 40 hex digits")]
    Hex,
}

impl Oid {
    /// The id from its 20 raw bytes (as in tree entries, pack indexes and ref deltas).
    pub fn from_bytes(bytes: &[u8]) -> Result<Oid, OidError> {
        <[u8; 20]>::try_from(bytes)
            .map(Oid)
            .map_err(|_| OidError::Length(bytes.len()))
    }

    /// The all-zero id git uses for "no object" (a created or deleted ref in a hook's input).
    pub fn zero() -> Oid {
        Oid([0; 20])
    }

    /// Whether this is the all-zero id.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 20]
    }

    /// The 20 raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Parses 40 hex digits (either case). Unlike libgit2, a shorter prefix is refused rather than
    /// padded with zeros into a different id.
    #[allow(clippy::should_implement_trait)] // FromStr is implemented too; this keeps call sites short
    pub fn from_str(hex: &str) -> Result<Oid, OidError> {
        let hex = hex.as_bytes();
        if hex.len() != 40 {
            return Err(OidError::Hex);
        }
        let mut out = [0u8; 20];
        for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = (nibble(pair[0]).ok_or(OidError::Hex)? << 4)
                | nibble(pair[1]).ok_or(OidError::Hex)?;
        }
        Ok(Oid(out))
    }
}

fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl FromStr for Oid {
    type Err = OidError;
    fn from_str(hex: &str) -> Result<Oid, OidError> {
        Oid::from_str(hex)
    }
}

/// All 20 bytes: an index file or a tree can name ids that share any prefix, and a hash of a prefix
/// alone would let them all collide.
impl std::hash::Hash for Oid {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Three words rather than a byte slice: the id hasher folds words without copying.
        let word = |at: usize| u64::from_le_bytes(self.0[at..at + 8].try_into().expect("8 bytes"));
        state.write_u64(word(0));
        state.write_u64(word(8));
        state.write_u32(u32::from_le_bytes(
            self.0[16..].try_into().expect("4 bytes"),
        ));
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; 40];
        for (i, byte) in self.0.iter().enumerate() {
            text[2 * i] = HEX[usize::from(byte >> 4)];
            text[2 * i + 1] = HEX[usize::from(byte & 15)];
        }
        f.write_str(std::str::from_utf8(&text).expect("hex digits are ASCII"))
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<git2::Oid> for Oid {
    fn from(oid: git2::Oid) -> Oid {
        Oid::from_bytes(oid.as_bytes()).expect("libgit2 ids have 20 bytes")
    }
}

impl From<Oid> for git2::Oid {
    fn from(oid: Oid) -> git2::Oid {
        git2::Oid::from_bytes(&oid.0).expect("20 bytes are an id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_matches_libgit2() {
        let hex = "0123456789abcdefFEDCBA9876543210aabbccdd";
        let ours = Oid::from_str(hex).unwrap();
        let theirs = git2::Oid::from_str(hex).unwrap();
        assert_eq!(ours.to_string(), theirs.to_string());
        assert_eq!(ours.as_bytes(), theirs.as_bytes());
        assert_eq!(Oid::from(theirs), ours);
        assert_eq!(git2::Oid::from(ours), theirs);
        assert_eq!(format!("{ours:?}"), hex.to_lowercase());
    }

    #[test]
    fn short_or_bad_hex_and_wrong_lengths_are_refused() {
        assert_eq!(Oid::from_str("abc"), Err(OidError::Hex));
        assert_eq!(Oid::from_str(&"g".repeat(40)), Err(OidError::Hex));
        assert_eq!(Oid::from_bytes(&[1; 19]), Err(OidError::Length(19)));
        assert!(Oid::zero().is_zero());
        assert!(!Oid::from_bytes(&[1; 20]).unwrap().is_zero());
    }

    #[test]
    fn order_is_byte_order() {
        let a = Oid::from_bytes(&[1; 20]).unwrap();
        let mut high = [1; 20];
        high[0] = 2;
        let b = Oid::from_bytes(&high).unwrap();
        assert!(a < b);
        assert_eq!(a.cmp(&b), git2::Oid::from(a).cmp(&git2::Oid::from(b)));
    }
}
