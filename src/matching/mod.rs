//! "Something that finds needles": the exact-token matcher and the provider-pattern set, behind one
//! [`Detector`] trait so the object pass is handed detectors and never names a concrete one; and the
//! inline allow comment every detector's caller honours.

pub(crate) mod assignment;
pub(crate) mod delta;
pub mod exact;
pub(crate) mod patterns;

/// A match: which needle, and where in the haystack (`start..end`). What a needle stands for is the
/// detector's business: a token form of [`exact::Matcher`], a rule of `patterns::PatternSet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hit {
    pub(crate) needle: u32,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Where one of a detector's literals occurs: every match starts with a literal (a token form, a
/// provider prefix), so a haystack's starts decide its matches (see [`Detector::confirm`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Start {
    pub(crate) at: usize,
    pub(crate) literal: u32,
}

/// A set of literals to find in bytes, every occurrence of each: what a [`Detector`] searches for
/// first, and what provenance's tree probe looks for in raw trees.
pub trait Literals: Sync {
    /// Appends every occurrence of every literal in `haystack` to `out`, overlapping ones included,
    /// sorted by position (then literal), and returns true; what `out` already held is left alone. Past
    /// `cap` occurrences it stops and returns false, `out` holding some of them: a haystack dense with
    /// literals (a crafted blob of nothing but `sk-`) must not cost memory by the occurrence.
    fn starts_until(&self, haystack: &[u8], out: &mut Vec<Start>, cap: usize) -> bool;

    /// Every occurrence, however many (see [`starts_until`](Literals::starts_until)).
    fn starts(&self, haystack: &[u8], out: &mut Vec<Start>) {
        self.starts_until(haystack, out, usize::MAX);
    }

    /// The length of literal `literal` of a [`Start`].
    fn literal_len(&self, literal: u32) -> usize;

    /// The length of the longest literal.
    fn longest_literal(&self) -> usize;
}

/// Something that finds needles in bytes. The object pass takes detectors, so it never depends on
/// what they look for.
///
/// A search has two steps: [`starts`](Literals::starts) finds every occurrence of the detector's
/// literals, which is the only part that reads the whole haystack, and [`confirm`](Detector::confirm)
/// turns those into matches. The split lets the object pass search a delta object without reading
/// what it copied from its base ([`delta::starts_of`]), and `confirm` runs on the whole object, so
/// what surrounds a match is checked as it is in this object.
pub trait Detector: Literals {
    /// Appends the matches `starts` (every literal occurrence in `haystack`, sorted as
    /// [`starts`](Literals::starts) sorts them) lead to.
    fn confirm(&self, haystack: &[u8], starts: &[Start], out: &mut Vec<Hit>);

    /// Appends every match in `haystack` to `out`, the matches [`confirm`](Detector::confirm) gives for
    /// every occurrence; what `out` already held is left alone. A search that decides matches as it
    /// goes, holding no list of occurrences (see [`Literals::starts_until`]).
    fn find_all(&self, haystack: &[u8], out: &mut Vec<Hit>);

    /// The token a hit found, decoded when the detector found it encoded (a provider prefix in base64):
    /// by default the matched bytes. Wiped on drop.
    fn token(&self, haystack: &[u8], hit: &Hit) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(haystack[hit.start..hit.end].to_vec())
    }

    /// How far two pieces of one haystack must overlap so that no match straddling them is lost (the
    /// longest match this detector can report, or the longest it promises to find across pieces).
    fn overlap(&self) -> usize;
}

/// The marker that accepts a token on its own line (`token = "..."  # unleak:allow`), like gitleaks'
/// `gitleaks:allow`: for test fixtures and documented examples, reviewed where they sit.
pub(crate) const INLINE_ALLOW: &[u8] = b"unleak:allow";

/// Whether the line holding `offset` carries [`INLINE_ALLOW`].
pub(crate) fn line_allows(bytes: &[u8], offset: usize) -> bool {
    let offset = offset.min(bytes.len());
    let start = memchr::memrchr(b'\n', &bytes[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &bytes[offset..]).map_or(bytes.len(), |i| offset + i);
    memchr::memmem::find(&bytes[start..end], INLINE_ALLOW).is_some()
}
