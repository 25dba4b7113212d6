//! Git's object formats, parsed from raw bytes: commit and tag headers, signature times, tree entries.

use super::pack::ObjectKind;
use super::Oid;

/// Offset of the message: just past the blank line that ends the headers.
pub(crate) fn header_end(data: &[u8]) -> usize {
    memchr::memmem::find(data, b"\n\n").map_or(data.len(), |i| i + 2)
}

pub(crate) fn header_value<'a>(data: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    data[..header_end(data)]
        .split(|b| *b == b'\n')
        .find_map(|line| line.strip_prefix(name))
}

pub(crate) fn parse_oid(hex: &[u8]) -> Option<Oid> {
    std::str::from_utf8(hex.get(..40)?)
        .ok()
        .and_then(|s| Oid::from_str(s).ok())
}

/// `Name <email> 1700000000 +0100` -> 1700000000.
pub(crate) fn parse_signature_time(sig: &[u8]) -> Option<i64> {
    let after_email = &sig[memchr::memrchr(b'>', sig)? + 1..];
    let text = std::str::from_utf8(after_email).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// `(mode, name, id)` of each entry of a raw tree object. It stops at a malformed entry; where it
/// stopped ([`TreeEntries::last_id_at`] of the last entry, plus its 20 id bytes) then falls short of
/// the tree's end (what follows cannot be seen, so a caller that must see everything treats the tree
/// as unreadable).
pub(crate) fn tree_entries(data: &[u8]) -> TreeEntries<'_> {
    TreeEntries { rest: data }
}

/// The entries of a raw tree: a `mode name` head up to a NUL, then 20 id bytes, walked by hand (this
/// runs for every entry of every tree a scan reads).
pub(crate) struct TreeEntries<'a> {
    rest: &'a [u8],
}

impl TreeEntries<'_> {
    /// Where the id of the entry last returned starts, in the tree of `len` bytes being walked.
    pub(crate) fn last_id_at(&self, len: usize) -> usize {
        len - self.rest.len() - 20
    }
}

impl<'a> Iterator for TreeEntries<'a> {
    type Item = (&'a [u8], &'a [u8], Oid);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest;
        let nul = memchr::memchr(0, rest)?;
        let id = Oid::from_bytes(rest.get(nul + 1..nul + 21)?).ok()?;
        let space = memchr::memchr(b' ', &rest[..nul])?;
        self.rest = &rest[nul + 21..];
        Some((&rest[..space], &rest[space + 1..nul], id))
    }
}

/// What a tree entry's mode says it names: a blob, a tree, or (a submodule) a commit of another
/// repository. The mode is read as a number: git writes `40000` for a subtree, but old tools wrote
/// `040000`, which git and libgit2 still read as a subtree (git fsck only warns), so a byte
/// comparison would lose the paths below it.
pub(crate) fn mode_kind(mode: &[u8]) -> ObjectKind {
    match mode {
        b"100644" | b"100755" | b"120000" => ObjectKind::Blob,
        b"40000" => ObjectKind::Tree,
        b"160000" => ObjectKind::Commit,
        _ => {
            let number = mode
                .iter()
                .try_fold(0u32, |n, d| {
                    d.is_ascii_digit()
                        .then(|| n.wrapping_mul(8) + u32::from(d - b'0'))
                })
                .unwrap_or(0);
            match number & 0o170000 {
                0o040000 => ObjectKind::Tree,
                0o160000 => ObjectKind::Commit,
                _ => ObjectKind::Blob,
            }
        }
    }
}
