//! Git's object formats, parsed from raw bytes: commit and tag headers, signature times, tree entries.

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

/// `(mode, name, id)` of each entry of a raw tree object; stops quietly at a malformed entry.
pub(crate) fn tree_entries(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8], Oid)> + '_ {
    let mut rest = data;
    std::iter::from_fn(move || {
        let space = memchr::memchr(b' ', rest)?;
        let nul = space + memchr::memchr(0, &rest[space..])?;
        let id = rest.get(nul + 1..nul + 21)?;
        let mode = &rest[..space];
        let name = &rest[space + 1..nul];
        let oid = Oid::from_bytes(id).ok()?;
        rest = &rest[nul + 21..];
        Some((mode, name, oid))
    })
}
