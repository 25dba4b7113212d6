//! "Something that finds needles": the exact-token matcher and the provider-pattern set, behind one
//! [`Detector`] trait so the object pass is handed detectors and never names a concrete one; and the
//! inline allow comment every detector's caller honours.

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

/// Something that finds needles in bytes. The object pass takes detectors, so it never depends on
/// what they look for.
pub trait Detector: Sync {
    /// Appends every match in `haystack` to `out`; what `out` already held is left alone.
    fn find_all(&self, haystack: &[u8], out: &mut Vec<Hit>);

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
