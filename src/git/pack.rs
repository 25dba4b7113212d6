//! Reads every object of a pack file the way `git index-pack` does: all entry headers first, then the
//! delta forest (each base with the deltas made against it) walked depth-first from its roots, so every
//! entry is inflated exactly once and a base is kept only while its deltas are being applied. Roots are
//! shared among worker threads; reads are positioned (`read_at`) over exact entry ranges, no mmap.
//!
//! Memory: a blob over `PIECES_ABOVE` that no delta is made against (the common case for a large
//! file: git does not delta large, dissimilar blobs, and never beyond `core.bigFileThreshold`) is handed
//! over in `PIECE`-sized pieces, so it costs a piece, its overlap and 1 MiB of compressed input
//! whatever its size. Every other object is held whole while it is needed: a delta base for as long as
//! its deltas are applied, so the bound for a worker is the sum of the objects along the delta chain
//! being walked (for a large file that changed by small deltas: the base, the delta and the result, each
//! the file's size). Loose objects are read by `odb.rs`, large loose blobs in the same pieces.
//!
//! Damage stays local: an entry that cannot be decoded is reported with its reason, so are the deltas
//! that need it, and every other object is still read.

use super::Oid;
use super::{Error, Result};
use flate2::{Decompress, FlushDecompress, Status};
use std::borrow::Cow;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The kinds of object a pack holds (a delta's kind is its chain's root's kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A commit (pack type 1).
    Commit,
    /// A tree (pack type 2).
    Tree,
    /// A blob: file contents (pack type 3).
    Blob,
    /// An annotated tag (pack type 4).
    Tag,
}

impl ObjectKind {
    /// The 3-bit type of a pack entry header, for the four kinds that are not deltas.
    pub(crate) fn from_pack_code(code: u8) -> Option<ObjectKind> {
        match code {
            1 => Some(ObjectKind::Commit),
            2 => Some(ObjectKind::Tree),
            3 => Some(ObjectKind::Blob),
            4 => Some(ObjectKind::Tag),
            _ => None,
        }
    }

    fn bit(self) -> u8 {
        match self {
            ObjectKind::Commit => 1,
            ObjectKind::Tree => 2,
            ObjectKind::Blob => 4,
            ObjectKind::Tag => 8,
        }
    }

    /// Git's name for the kind (`commit`, `tree`, `blob`, `tag`), as in an object header.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Commit => "commit",
            ObjectKind::Tree => "tree",
            ObjectKind::Blob => "blob",
            ObjectKind::Tag => "tag",
        }
    }
}

/// Which kinds a traversal decodes. Filtering happens at the roots of the delta forest, before anything
/// is inflated, so a pass over trees alone never touches a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSet(u8);

impl KindSet {
    /// Every kind: commits, trees, blobs and tags.
    pub const ALL: KindSet = KindSet(15);

    /// The set holding exactly `kinds` (repeats are harmless; an empty slice decodes nothing).
    pub fn of(kinds: &[ObjectKind]) -> KindSet {
        KindSet(kinds.iter().fold(0, |bits, k| bits | k.bit()))
    }

    pub(crate) fn contains(self, kind: ObjectKind) -> bool {
        self.0 & kind.bit() != 0
    }
}

/// What the traversal calls for each object, with the calling worker's state.
pub type Visitor<'a, S> = dyn Fn(&mut S, Oid, ObjectKind, &[u8]) + Sync + 'a;

/// [`Visitor`], also told where the object came from (see [`Lineage`]).
pub(crate) type LineageVisitor<'a, S> =
    dyn Fn(&mut S, Oid, ObjectKind, &[u8], Lineage<'_>) + Sync + 'a;

/// One copy instruction of a delta: `len` bytes at `source` in the base became the bytes at `target`
/// in the object. Together they say which bytes of an object are its base's, unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Copied {
    pub target: usize,
    pub source: usize,
    pub len: usize,
}

/// Where a visited object came from, so a visitor can carry what it learned of a delta base over to the
/// delta instead of reading the delta's copied bytes again (the object pass searches only what a delta
/// changed: about a tenth of git's history).
///
/// `depth` is the object's depth in its delta chain (0 for an object stored whole). `copies`, when
/// present, are the copy instructions that made the object from its base, and the base is the object
/// this worker's visitor was last handed at `depth - 1`. It is absent for an object stored whole, one
/// read outside a pack, and a delta whose base was decoded but not visited. A visitor that keeps
/// something per depth for the deltas must rewrite it for every object it is handed at that depth,
/// whatever else it skips: a delta takes what it finds at `depth - 1` as its base's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lineage<'a> {
    pub depth: usize,
    pub copies: Option<&'a [Copied]>,
}

impl<'a> Lineage<'a> {
    /// An object with no base to carry anything over from.
    pub(crate) const WHOLE: Lineage<'static> = Lineage {
        depth: 0,
        copies: None,
    };

    /// A visitor's per-depth store (one `T` per depth of the chain), for this object: its own slot,
    /// to rewrite, and for a delta the copies with the slot its base left.
    pub(crate) fn slots<'s, T: Default>(
        &self,
        levels: &'s mut Vec<T>,
    ) -> (&'s mut T, Option<(&'a [Copied], &'s T)>) {
        if levels.len() <= self.depth {
            levels.resize_with(self.depth + 1, T::default);
        }
        let (above, here) = levels.split_at_mut(self.depth);
        (&mut here[0], self.copies.zip(above.last()))
    }
}

/// One piece of a large blob, searched without holding the whole blob (see [`Pieces`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece<'a> {
    /// The bytes `[offset, offset + data.len())` of the blob.
    pub data: &'a [u8],
    /// Where `data` starts in the blob, in bytes.
    pub offset: u64,
    /// The blob's whole size.
    pub total: u64,
    /// `data[..fresh]` repeats the end of the previous piece (the overlap): a match that ends within
    /// it was already seen there.
    pub fresh: usize,
}

/// After a piece is handed over: keeps the last `overlap` bytes of `window` as the start of the next
/// piece, so no match straddling the two is lost, and moves `offset` and `fresh` on. The packed and the
/// loose reader both slide their window this way.
pub(crate) fn slide_window(
    window: &mut Vec<u8>,
    overlap: usize,
    offset: &mut u64,
    fresh: &mut usize,
) {
    let keep = overlap.min(window.len());
    *offset += (window.len() - keep) as u64;
    window.drain(..window.len() - keep);
    *fresh = keep;
}

/// Large blobs handed over in overlapping pieces instead of whole: for searching, where a match can be
/// no longer than `overlap` bytes. A pass that needs whole objects passes none.
pub(crate) struct Pieces<'a, S> {
    /// Called for each piece in order, with the calling worker's state and the blob's id (instead of
    /// the whole-object visitor, which never sees such a blob).
    pub visit: &'a (dyn Fn(&mut S, Oid, Piece<'_>) + Sync),
    /// Bytes each piece repeats from the previous one: at least the longest match searched for.
    pub overlap: usize,
}

/// Blobs declared larger than this are searched in pieces when the pass accepts them (and no delta is
/// made against them: a delta base must be held whole while its deltas are applied).
pub(crate) const PIECES_ABOVE: u64 = 16 << 20;
/// The size of each piece (before its overlap).
pub(crate) const PIECE: usize = 8 << 20;
/// Compressed bytes read at a time for a blob inflated in pieces.
pub(crate) const PIECE_INPUT: usize = 1 << 20;

/// An object the traversal could not decode, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError {
    /// The object that was not read (for an unreadable delta: the delta's own id).
    pub oid: Oid,
    /// Why, as shown to the user: `pack entry at offset N: …`.
    pub reason: String,
    /// Whether another reader may read it (a thin pack's base in another pack, a form ours refuses):
    /// false when the bytes themselves are wrong (a CRC mismatch, or a base with one), which another
    /// reader of the same bytes would take as they are.
    pub retry: bool,
}

/// One pack to traverse.
#[derive(Debug, Clone, Copy)]
pub struct PackInput<'a> {
    /// The `.pack` file.
    pub path: &'a Path,
    /// Its objects and their offsets, as [`read_index`] returns them (any order).
    pub entries: &'a [(Oid, u64)],
    /// One flag per entry: the object is not visited (it is read from an earlier pack, or the caller
    /// does not want it, see [`super::odb::ObjectList::only`]), so it is decoded only when a visited
    /// delta needs it as a base. Empty for none.
    pub skip: &'a [bool],
    /// The kinds decoded and visited; a delta tree whose root is of another kind is skipped unread.
    pub kinds: KindSet,
    /// `entries`' indices in pack order, as [`pack_order`] gives them, when the caller keeps them
    /// for more than one traversal (sorting 400,000 entries takes 25 ms each time); empty to have
    /// the traversal sort them.
    pub pack_order: &'a [u32],
    /// Each entry's CRC32 from the index ([`PackIndex::crcs`]), parallel to `entries`: an entry is
    /// checked against it whenever it is read, as git does, so an index that files an id at another
    /// object's bytes, or a damaged entry, is an unreadable object and never a clean one. Empty for
    /// none (a version 1 index).
    pub crcs: &'a [u32],
    /// Every object decoded is hashed as git names it and must be its id (`--verify-object-ids`):
    /// what catches bytes consistent with every checksum but filed under another id.
    pub verify_ids: bool,
}

/// The indices of `entries` in pack order (by offset): the order a traversal reads them in.
pub fn pack_order(entries: &[(Oid, u64)]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..entries.len() as u32).collect();
    order.sort_unstable_by_key(|&i| entries[i as usize].1);
    order
}

/// [`pack_order`], read from the pack's reverse index (`pack-*.rev`, which git writes beside the
/// index by default since 2.41) when there is one that agrees with `entries`: reading it takes a
/// tenth of the sort. Anything else (no file, another hash, a wrong size, an order whose offsets do
/// not strictly rise) is sorted instead; the file is trusted for nothing it does not prove.
pub fn pack_order_of(rev: &Path, entries: &[(Oid, u64)]) -> Vec<u32> {
    read_reverse_index(rev, entries).unwrap_or_else(|| pack_order(entries))
}

/// The pack order a reverse index file gives, or None unless it is one for `entries` (see
/// [`pack_order_of`]).
pub fn read_reverse_index(rev: &Path, entries: &[(Oid, u64)]) -> Option<Vec<u32>> {
    const HEADER: usize = 12;
    const SHA1_TRAILER: usize = 2 * 20;
    let n = entries.len();
    let size = (HEADER + 4 * n + SHA1_TRAILER) as u64;
    // Its size is checked before a byte is read: a FIFO or a device under the name would hang the
    // scan or fill its memory.
    let meta = std::fs::metadata(rev).ok()?;
    if !meta.is_file() || meta.len() != size {
        return None;
    }
    let data = std::fs::read(rev).ok()?;
    if data.len() as u64 != size
        || &data[..4] != b"RIDX"
        || u32_at(&data, 4) != 1
        || u32_at(&data, 8) != 1
    {
        return None;
    }
    let order: Vec<u32> = data[HEADER..HEADER + 4 * n]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
        .collect();
    // Strictly rising offsets over `n` positions below `n` make a permutation: a position listed
    // twice would repeat its offset.
    let offset = |i: u32| entries.get(i as usize).map(|e| e.1);
    let rising = order.iter().all(|&i| (i as usize) < n)
        && order.windows(2).all(|w| offset(w[0]) < offset(w[1]));
    rising.then_some(order)
}

/// Objects larger than this are treated as corrupt sizes rather than allocated.
pub(crate) const MAX_OBJECT_SIZE: u64 = 16 << 30;
/// Deflate cannot expand more than 1032 to 1; a declared size beyond that is a lie.
pub(crate) const MAX_INFLATE_RATIO: u64 = 1032;
/// The longest entry header: a 64-bit size varint (10 bytes) and a base id (20 bytes) or offset (10).
pub(crate) const MAX_HEADER: usize = 32;
/// Header pass read size: entries are dense, so the pass reads the pack through.
const WINDOW: usize = 1 << 20;
/// Decoding read size: a base's deltas and the next root's entries are often close by, so a read takes
/// one page past what it needs. More over-reads: on git's history a 16 KiB read-ahead copied 1.9 GB
/// out of the page cache for a scan (2.5 times what 4 KiB copies, in 7% fewer reads), and the scan ran
/// 5% slower for it.
const READ_AHEAD: usize = 4 << 10;
/// Buffers that grew past this for one large object are dropped once its delta tree is done, so a
/// worker does not hold a large blob's memory for the rest of the pack.
const KEEP_BUFFER: usize = 16 << 20;
/// What a worker's per-depth object buffers may keep between delta trees, all depths together. Each
/// depth keeps its buffer for the next tree (no allocation per object), but a deep chain of large blobs
/// left every depth holding one: on git's history that was 54 MiB over two workers at the pass's
/// peak, for buffers no tree was using. Past this budget, deeper buffers are freed.
const KEEP_LEVELS: usize = 4 << 20;
/// No base: a root of the delta forest.
const NONE: u32 = u32::MAX;
/// Pack type codes of the two delta kinds.
const OFS_DELTA: u8 = 6;
const REF_DELTA: u8 = 7;

/// What a pack index says about its pack.
#[derive(Debug, Clone, Default)]
pub struct PackIndex {
    /// Object ids and their offsets in the pack, in the index's (id) order.
    pub entries: Vec<(Oid, u64)>,
    /// Each entry's CRC32 over its bytes in the pack (header and compressed data), parallel to
    /// `entries`; empty for a version 1 index, which records none.
    pub crcs: Vec<u32>,
    /// The SHA-1 the pack's trailer must hold (the index's copy of it).
    pub pack_checksum: [u8; 20],
}

/// Reads a pack index (version 1 or 2): object ids and their offsets in the pack, in id order.
pub fn read_index(path: &Path) -> Result<Vec<(Oid, u64)>> {
    read_index_file(path).map(|index| index.entries)
}

/// Reads a pack index whole (see [`PackIndex`]), after checking its own trailer: the SHA-1 of
/// everything before it, as `git verify-pack` does. An index that fails it is refused: it is what
/// says which bytes are which object.
pub fn read_index_file(path: &Path) -> Result<PackIndex> {
    // A FIFO or a device under the name would hang the scan or fill its memory.
    let meta = std::fs::metadata(path).map_err(Error::io(format!(
        "cannot read pack index {}",
        path.display()
    )))?;
    if !meta.is_file() {
        return Err(Error::Damaged(format!(
            "pack index {} is not a regular file",
            path.display()
        )));
    }
    let data = std::fs::read(path).map_err(Error::io(format!(
        "cannot read pack index {}",
        path.display()
    )))?;
    let corrupt = || {
        Error::Damaged(format!(
            "pack index {} is truncated or corrupt (run `git index-pack` on its pack to rebuild it)",
            path.display()
        ))
    };
    let v2 = data.len() >= 8 && &data[..4] == b"\xfftOc";
    if v2 && u32_at(&data, 4) != 2 {
        return Err(Error::Damaged(format!(
            "{}: unsupported pack index version {} (run `git repack -a -d` to rewrite it)",
            path.display(),
            u32_at(&data, 4)
        )));
    }
    let fanout = if v2 { 8 } else { 0 };
    // Both versions end with the pack's checksum and the index's own.
    if data.len() < fanout + 256 * 4 + 40 {
        return Err(corrupt());
    }
    let (body, trailer) = data.split_at(data.len() - 20);
    if sha1_of(body) != trailer {
        return Err(Error::Damaged(format!(
            "pack index {} does not match its own checksum: it is damaged (run `git index-pack` on its pack to rebuild it)",
            path.display()
        )));
    }
    let mut index = PackIndex {
        pack_checksum: data[data.len() - 40..data.len() - 20]
            .try_into()
            .expect("20 bytes"),
        ..PackIndex::default()
    };
    let count = u32_at(&data, fanout + 255 * 4) as usize;
    let records = fanout + 256 * 4;
    let room = data.len() - 40 - records;
    let out = &mut index.entries;
    out.reserve(count.min(room / 24));
    if !v2 {
        // Version 1: 4-byte offset and 20-byte id per object.
        if room < count * 24 {
            return Err(corrupt());
        }
        for record in data[records..records + count * 24].chunks_exact(24) {
            let oid = Oid::from_bytes(&record[4..])?;
            out.push((oid, u64::from(u32_at(record, 0))));
        }
        return Ok(index);
    }
    let oids_at = records;
    let crcs_at = oids_at + count * 20;
    let offsets_at = crcs_at + count * 4;
    let large_at = offsets_at + count * 4;
    if data.len() - 40 < large_at {
        return Err(corrupt());
    }
    for i in 0..count {
        let oid = Oid::from_bytes(&data[oids_at + i * 20..oids_at + (i + 1) * 20])?;
        let small = u32_at(&data, offsets_at + i * 4);
        let offset = if small & 0x8000_0000 == 0 {
            u64::from(small)
        } else {
            let at = large_at + (small & 0x7fff_ffff) as usize * 8;
            let Some(bytes) = data[..data.len() - 40].get(at..at + 8) else {
                return Err(corrupt());
            };
            u64::from_be_bytes(bytes.try_into().expect("8 bytes"))
        };
        out.push((oid, offset));
    }
    index.crcs = (0..count).map(|i| u32_at(&data, crcs_at + i * 4)).collect();
    Ok(index)
}

/// The SHA-1 of `bytes` (git's object and trailer hash).
pub(crate) fn sha1_of(bytes: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(bytes).into()
}

/// Whether the pack's trailer holds the checksum its index records and, when `whole` is set, is the
/// SHA-1 of every byte before it (git checks the first on every open, `git verify-pack` the second).
/// Returns why not, as shown to the user.
pub fn check_pack_trailer(path: &Path, index: &PackIndex, whole: bool) -> Result<(), String> {
    let fail = |why: String| Err(format!("pack {}: {why}", path.display()));
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) => return fail(format!("cannot open it ({err})")),
    };
    let len = match file.metadata() {
        Ok(meta) if meta.is_file() => meta.len(),
        Ok(_) => return fail("it is not a regular file".into()),
        Err(err) => return fail(format!("cannot read it ({err})")),
    };
    if len < 32 {
        return fail("it is too short to be a pack".into());
    }
    let mut trailer = [0u8; 20];
    if let Err(err) = read_exact_at(&file, &mut trailer, len - 20) {
        return fail(format!("cannot read its trailer ({err})"));
    }
    if trailer != index.pack_checksum {
        return fail(
            "its trailer checksum is not the one its index records (the index belongs to another pack, or one of them is damaged; `git fsck` shows it)"
                .into(),
        );
    }
    if !whole {
        return Ok(());
    }
    use sha1::Digest;
    let mut hasher = sha1::Sha1::new();
    let mut buffer = vec![0u8; WINDOW];
    let mut at = 0;
    while at < len - 20 {
        let n = buffer.len().min((len - 20 - at) as usize);
        if let Err(err) = read_exact_at(&file, &mut buffer[..n], at) {
            return fail(format!("cannot read it ({err})"));
        }
        hasher.update(&buffer[..n]);
        at += n as u64;
    }
    if <[u8; 20]>::from(hasher.finalize()) != trailer {
        return fail(
            "its bytes do not match its trailer checksum: it is damaged (`git fsck` shows where)"
                .into(),
        );
    }
    Ok(())
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

/// Decodes every object of `input.path` whose kind is in `input.kinds` and hands it to `visit`, across
/// one worker thread per element of `states` (each worker owns one state, so states carry over from
/// pack to pack). `progress` receives increments of entries done. Returns the objects that could not be
/// decoded; an error means the pack as a whole is unusable (not a pack, or not the one its index
/// describes) and nothing was visited.
pub fn traverse<S: Send>(
    input: &PackInput<'_>,
    states: &mut [S],
    visit: &Visitor<'_, S>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<PackError>> {
    let visit = |state: &mut S, oid: Oid, kind: ObjectKind, data: &[u8], _: Lineage<'_>| {
        visit(state, oid, kind, data)
    };
    traverse_in_pieces(input, states, &visit, None, progress)
}

/// [`traverse`], telling the visitor each object's [`Lineage`], and handing blobs over [`PIECES_ABOVE`]
/// that no delta needs to `pieces` in overlapping pieces, so the memory such a blob takes is bounded by
/// the piece size rather than its own.
pub(crate) fn traverse_in_pieces<S: Send>(
    input: &PackInput<'_>,
    states: &mut [S],
    visit: &LineageVisitor<'_, S>,
    pieces: Option<&Pieces<'_, S>>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<PackError>> {
    let shown = input.path.display();
    let file = File::open(input.path).map_err(Error::io(format!("cannot open pack {shown}")))?;
    let len = file
        .metadata()
        .map_err(Error::io(format!("cannot read pack {shown}")))?
        .len();
    let mut head = [0u8; 12];
    read_exact_at(&file, &mut head, 0)
        .map_err(Error::io(format!("{shown} is too short to be a pack")))?;
    let version = u32_at(&head, 4);
    if &head[..4] != b"PACK" || !(version == 2 || version == 3) {
        return Err(Error::Damaged(format!(
            "{shown} is not a version 2 pack file"
        )));
    }
    let count = u64::from(u32_at(&head, 8));
    if count != input.entries.len() as u64 {
        return Err(Error::Damaged(format!(
            "{shown} holds {count} objects but its index lists {} (run `git index-pack` on it to rebuild the index)",
            input.entries.len()
        )));
    }
    if input.entries.len() >= NONE as usize {
        return Err(Error::Damaged(format!("{shown} has too many objects")));
    }
    if states.is_empty() {
        return Err(Error::Damaged(format!(
            "no worker state to traverse {shown} with"
        )));
    }
    let mut errors = Vec::new();
    let table = Table::build(&file, len, input, states.len(), &mut errors)?;
    let forest = Forest::build(&table, input.kinds, &mut errors, progress);

    let next = AtomicUsize::new(0);
    let merged = Mutex::new(errors);
    let chunk = (forest.roots.len() / (states.len().max(1) * 64)).clamp(1, 64);
    std::thread::scope(|scope| {
        for state in states.iter_mut() {
            let (table, forest, file, next, merged) = (&table, &forest, &file, &next, &merged);
            scope.spawn(move || {
                let mut worker = Worker::new(file, table, forest);
                worker.pieces_overlap = pieces.map(|p| p.overlap);
                worker.verify_ids = input.verify_ids;
                loop {
                    let start = next.fetch_add(chunk, Ordering::Relaxed);
                    if start >= forest.roots.len() {
                        break;
                    }
                    let end = (start + chunk).min(forest.roots.len());
                    let mut done = 0;
                    for root in &forest.roots[start..end] {
                        if let Some(pieces) = pieces.filter(|_| worker.in_pieces(root)) {
                            worker.walk_in_pieces(root.entry, state, pieces);
                        } else {
                            worker.walk(root, state, visit);
                        }
                        done += u64::from(root.weight);
                    }
                    progress(done);
                }
                merged
                    .lock()
                    .expect("no panics while merging")
                    .append(&mut worker.errors);
            });
        }
    });
    Ok(merged.into_inner().expect("workers finished"))
}

/// Every entry's header, in pack order.
struct Table<'a> {
    /// Entry starts, sorted, with the end of the entry data (pack length - 20) as a last element.
    offsets: Vec<u64>,
    /// The index's entries, and for each position in pack order the entry there: ids are looked up
    /// through these rather than copied (a copy was 17 MiB on git's history).
    entries: &'a [(Oid, u64)],
    order: Cow<'a, [u32]>,
    info: Vec<Info>,
    /// The index's CRC32s, in index order (see [`PackInput::crcs`]).
    crcs: &'a [u32],
}

#[derive(Debug, Clone, Copy)]
struct Info {
    /// The inflated size the header declares (of the object, or of the delta for a delta entry).
    size: u64,
    header_len: u8,
    /// Pack type code; 0 for an entry whose header or base cannot be read (a broken root).
    code: u8,
    skip: bool,
    /// The base entry of a delta, or `NONE`.
    base: u32,
}

impl<'a> Table<'a> {
    /// Reads every entry's header, in `threads` ranges of the pack at once.
    fn build(
        file: &File,
        len: u64,
        input: &PackInput<'a>,
        threads: usize,
        errors: &mut Vec<PackError>,
    ) -> Result<Table<'a>> {
        let n = input.entries.len();
        let order = if input.pack_order.len() == n {
            Cow::Borrowed(input.pack_order)
        } else {
            Cow::Owned(pack_order(input.entries))
        };
        let data_end = len.saturating_sub(20).max(12);
        let mut offsets: Vec<u64> = order.iter().map(|&i| input.entries[i as usize].1).collect();
        offsets.push(data_end);
        let oid = |pos: u32| input.entries[order[pos as usize] as usize].0;
        let skip: Vec<bool> = order
            .iter()
            .map(|&i| input.skip.get(i as usize).copied().unwrap_or(false))
            .collect();

        let per_thread = n.div_ceil(threads.max(1)).max(1);
        let parts: Vec<std::io::Result<HeaderRange>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..n)
                .step_by(per_thread)
                .map(|lo| {
                    let (offsets, skip) = (&offsets, &skip);
                    scope.spawn(move || {
                        parse_headers(file, offsets, skip, lo..(lo + per_thread).min(n))
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("header workers do not panic"))
                .collect()
        });
        let mut info = Vec::with_capacity(n);
        let mut by_id = Vec::new();
        for part in parts {
            let part = part.map_err(Error::io(format!(
                "cannot read pack {}",
                input.path.display()
            )))?;
            info.extend(part.info);
            by_id.extend(part.by_id);
            errors.extend(part.errors.into_iter().map(|(pos, reason)| PackError {
                oid: oid(pos),
                reason,
                retry: true,
            }));
        }
        // REF_DELTA bases: look their ids up among this pack's objects.
        if !by_id.is_empty() {
            let mut by_oid: Vec<u32> = (0..n as u32).collect();
            by_oid.sort_unstable_by_key(|&p| oid(p));
            for (pos, base_oid) in by_id {
                match by_oid.binary_search_by_key(&base_oid, |&p| oid(p)) {
                    Ok(found) => info[pos as usize].base = by_oid[found],
                    Err(_) => {
                        info[pos as usize].code = 0;
                        errors.push(PackError {
                            oid: oid(pos),
                            reason: format!(
                                "pack entry at offset {}: its delta base {base_oid} is not in this pack (a thin pack; `git index-pack --fix-thin` completes it)",
                                offsets[pos as usize]
                            ),
                            retry: true,
                        });
                    }
                }
            }
        }
        Ok(Table {
            offsets,
            entries: input.entries,
            order,
            info,
            crcs: input.crcs,
        })
    }

    /// The CRC32 the index records for the entry at `pos`, if it records one.
    fn crc(&self, pos: u32) -> Option<u32> {
        self.crcs.get(self.order[pos as usize] as usize).copied()
    }

    /// Where entry `pos` lies whole (header and data): the bytes its CRC32 covers.
    fn entry_range(&self, pos: u32) -> (u64, u64) {
        let (_, end) = self.data_range(pos);
        (self.offsets[pos as usize], end)
    }

    /// The id of the entry at `pos` (pack order).
    fn oid(&self, pos: u32) -> Oid {
        self.entries[self.order[pos as usize] as usize].0
    }

    /// Where entry `pos`'s compressed data lies.
    fn data_range(&self, pos: u32) -> (u64, u64) {
        let pos = pos as usize;
        let start = self.offsets[pos] + u64::from(self.info[pos].header_len);
        let end = self.offsets[pos + 1].min(*self.offsets.last().expect("sentinel"));
        (start, end.max(start))
    }
}

/// The headers of one range of entries (positions in pack order).
struct HeaderRange {
    info: Vec<Info>,
    /// REF_DELTA entries and their bases' ids, resolved once every range is parsed.
    by_id: Vec<(u32, Oid)>,
    errors: Vec<(u32, String)>,
}

fn parse_headers(
    file: &File,
    offsets: &[u64],
    skip: &[bool],
    range: std::ops::Range<usize>,
) -> std::io::Result<HeaderRange> {
    let data_end = *offsets.last().expect("sentinel");
    let mut reader = Reader::new(file, data_end, WINDOW);
    let mut out = HeaderRange {
        info: Vec::with_capacity(range.len()),
        by_id: Vec::new(),
        errors: Vec::new(),
    };
    for pos in range {
        let offset = offsets[pos];
        let end = offsets[pos + 1].min(data_end);
        let mut entry = Info {
            size: 0,
            header_len: 0,
            code: 0,
            skip: skip[pos],
            base: NONE,
        };
        let parsed = if offset < 12 {
            Err(DecodeError::OffsetInHeader)
        } else if offset >= data_end {
            Err(DecodeError::OffsetPastEnd(offset))
        } else if offset >= end {
            Err(DecodeError::SharedOffset)
        } else {
            parse_header(reader.range(offset, end.min(offset + MAX_HEADER as u64))?)
        };
        match parsed.and_then(|header| Ok((header, resolve_base(&header, offset, pos, offsets)?))) {
            Ok((header, base)) => {
                entry.size = header.size;
                entry.header_len = header.len as u8;
                entry.code = header.code;
                match base {
                    Resolved::Entry(b) => entry.base = b,
                    Resolved::NotADelta => {}
                    Resolved::Id(oid) => out.by_id.push((pos as u32, oid)),
                }
            }
            Err(reason) => out.errors.push((
                pos as u32,
                format!("pack entry at offset {offset}: {reason}"),
            )),
        }
        out.info.push(entry);
    }
    Ok(out)
}

enum Resolved {
    NotADelta,
    Entry(u32),
    Id(Oid),
}

fn resolve_base(
    header: &Header,
    offset: u64,
    pos: usize,
    offsets: &[u64],
) -> Result<Resolved, DecodeError> {
    match header.base {
        Base::None => Ok(Resolved::NotADelta),
        Base::Id(oid) => Ok(Resolved::Id(oid)),
        Base::Distance(distance) => {
            if distance == 0 || distance > offset {
                return Err(DecodeError::BaseDistance(distance));
            }
            let base_offset = offset - distance;
            match offsets[..pos].binary_search(&base_offset) {
                Ok(base) => Ok(Resolved::Entry(base as u32)),
                Err(_) => Err(DecodeError::NoBaseAt(base_offset)),
            }
        }
    }
}

/// Positioned reads through a read-ahead window: entries are small and their neighbours are often
/// needed next, so one read serves many of them; a large entry is read on its own.
struct Reader<'a> {
    file: &'a File,
    /// Where the pack data ends (no read goes past it).
    data_end: u64,
    size: usize,
    start: u64,
    window: Vec<u8>,
    large: Vec<u8>,
}

impl<'a> Reader<'a> {
    fn new(file: &'a File, data_end: u64, size: usize) -> Reader<'a> {
        Reader {
            file,
            data_end,
            size,
            start: 0,
            window: Vec::new(),
            large: Vec::new(),
        }
    }

    /// The bytes `[from, to)`, which must lie within the pack data.
    fn range(&mut self, from: u64, to: u64) -> std::io::Result<&[u8]> {
        let len = usize::try_from(to - from).map_err(|_| std::io::ErrorKind::OutOfMemory)?;
        if from >= self.start && to <= self.start + self.window.len() as u64 {
            let at = (from - self.start) as usize;
            return Ok(&self.window[at..at + len]);
        }
        if len > self.size / 4 {
            self.large.resize(len, 0);
            read_exact_at(self.file, &mut self.large, from)?;
            return Ok(&self.large);
        }
        let want = ((self.data_end - from).min(self.size as u64) as usize).max(len);
        self.window.resize(want, 0);
        if let Err(err) = read_exact_at(self.file, &mut self.window, from) {
            self.window.clear();
            return Err(err);
        }
        self.start = from;
        Ok(&self.window[..len])
    }

    /// Drops a buffer that grew large for one huge entry.
    fn shrink(&mut self) {
        if self.large.capacity() > KEEP_BUFFER {
            self.large = Vec::new();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    None,
    /// OFS_DELTA: the base starts this many bytes before the entry.
    Distance(u64),
    /// REF_DELTA: the base's id.
    Id(Oid),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub code: u8,
    pub size: u64,
    pub len: usize,
    pub base: Base,
}

/// Why one pack entry cannot be decoded. The pass reports it as text (`pack entry at offset N: …`),
/// so each message reads as it did when these were strings.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("its offset lies inside the pack header")]
    OffsetInHeader,
    #[error("its offset {0} lies past the end of the pack data (truncated pack?)")]
    OffsetPastEnd(u64),
    #[error("another object has the same offset (corrupt index)")]
    SharedOffset,
    #[error("its header is truncated")]
    HeaderTruncated,
    #[error("its size does not fit in 64 bits")]
    SizeOverflow,
    #[error("its delta base offset does not fit in 64 bits")]
    BaseOffsetOverflow,
    #[error("{0}")]
    BadBaseId(String),
    #[error("unknown entry type {0}")]
    UnknownType(u8),
    #[error("its delta base distance {0} is out of range")]
    BaseDistance(u64),
    #[error("no entry starts at its delta base offset {0}")]
    NoBaseAt(u64),
    #[error("its declared size {size} cannot come from {compressed} compressed bytes")]
    TooLarge { size: u64, compressed: u64 },
    #[error("cannot read its data: {0}")]
    Read(std::io::Error),
    #[error("its zlib data is corrupt ({0})")]
    Inflate(flate2::DecompressError),
    #[error("it inflates to more than the {0} bytes its header says")]
    InflatesPast(u64),
    #[error("it inflates to {got} bytes, its header says {size}")]
    InflatesTo { got: u64, size: u64 },
    #[error("its zlib data ends early ({got} of {size} bytes; truncated pack?)")]
    EndsEarly { got: u64, size: u64 },
    #[error("its delta expects a base of {expected} bytes, the base has {actual}")]
    BaseSize { expected: u64, actual: u64 },
    #[error("its delta claims a {0}-byte result it cannot produce")]
    DeltaTooLarge(u64),
    #[error("its delta is corrupt ({0})")]
    DeltaCorrupt(&'static str),
    #[error("its delta produces {got} bytes, it declares {declared}")]
    DeltaSize { got: u64, declared: u64 },
    #[error("its delta header is truncated")]
    DeltaHeaderTruncated,
    #[error("its delta header size does not fit in 64 bits")]
    DeltaHeaderOverflow,
    #[error(
        "its bytes are object {0}, not the one its index files there (`git fsck` reports the same)"
    )]
    OtherObject(Oid),
    #[error("its bytes do not match the CRC32 its index records ({got:08x}, not {expected:08x}): the index files this id at other bytes, or the pack is damaged (`git fsck` reports the same)")]
    Crc { expected: u32, got: u32 },
}

/// Parses an entry header: type and size varint, then a delta's base (negative offset or id).
pub(crate) fn parse_header(bytes: &[u8]) -> Result<Header, DecodeError> {
    let truncated = || DecodeError::HeaderTruncated;
    let mut pos = 0;
    let mut next = || {
        let byte = bytes.get(pos).copied();
        pos += 1;
        byte
    };
    let mut c = next().ok_or_else(truncated)?;
    let code = (c >> 4) & 7;
    let mut size = u64::from(c & 15);
    let mut shift = 4;
    while c & 0x80 != 0 {
        c = next().ok_or_else(truncated)?;
        if shift > 57 {
            return Err(DecodeError::SizeOverflow);
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
    }
    let base = match code {
        1..=4 => Base::None,
        OFS_DELTA => {
            let mut c = next().ok_or_else(truncated)?;
            let mut distance = u64::from(c & 0x7f);
            while c & 0x80 != 0 {
                c = next().ok_or_else(truncated)?;
                if distance >= 1 << 56 {
                    return Err(DecodeError::BaseOffsetOverflow);
                }
                distance = ((distance + 1) << 7) | u64::from(c & 0x7f);
            }
            Base::Distance(distance)
        }
        REF_DELTA => {
            let start = pos;
            let id = bytes.get(start..start + 20).ok_or_else(truncated)?;
            pos += 20;
            Base::Id(Oid::from_bytes(id).map_err(|e| DecodeError::BadBaseId(e.to_string()))?)
        }
        other => return Err(DecodeError::UnknownType(other)),
    };
    Ok(Header {
        code,
        size,
        len: pos,
        base,
    })
}

/// The delta forest: for each entry the deltas made against it, and the roots to walk.
struct Forest {
    /// `children[first_child[i]..first_child[i + 1]]` are the deltas whose base is entry `i`.
    first_child: Vec<u32>,
    children: Vec<u32>,
    /// Whether entry `i` or a delta below it is visited: an entry read from elsewhere (or not wanted,
    /// see [`PackInput::skip`]) is decoded only as the base of one that is.
    needed: Vec<bool>,
    /// Roots to decode with the number of entries below them (themselves included), heaviest first
    /// when they are heavy enough to unbalance the workers, otherwise in pack order.
    roots: Vec<Root>,
}

/// A tree of the delta forest to decode.
struct Root {
    entry: u32,
    /// The objects to visit in it (entries read from elsewhere do not count).
    weight: u32,
    /// The kind of every object in it.
    kind: ObjectKind,
}

impl Forest {
    fn build(
        table: &Table,
        wanted: KindSet,
        errors: &mut Vec<PackError>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Forest {
        let n = table.info.len();
        let mut first_child = vec![0u32; n + 1];
        for entry in &table.info {
            if entry.base != NONE {
                first_child[entry.base as usize + 1] += 1;
            }
        }
        for i in 0..n {
            first_child[i + 1] += first_child[i];
        }
        let mut fill = first_child.clone();
        let mut children = vec![0u32; first_child[n] as usize];
        for (i, entry) in table.info.iter().enumerate() {
            if entry.base != NONE {
                let slot = &mut fill[entry.base as usize];
                children[*slot as usize] = i as u32;
                *slot += 1;
            }
        }
        let mut forest = Forest {
            first_child,
            children,
            needed: vec![false; n],
            roots: Vec::new(),
        };

        // Every entry without a base is a root; an entry below no root sits on a delta cycle.
        let mut reached = vec![false; n];
        let mut stack = Vec::new();
        let mut below = Vec::new();
        let mut skipped = 0u64;
        for root in 0..n {
            let entry = table.info[root];
            if entry.base != NONE {
                continue;
            }
            let mut weight = 0u32;
            stack.push(root as u32);
            below.clear();
            while let Some(i) = stack.pop() {
                reached[i as usize] = true;
                weight += u32::from(!table.info[i as usize].skip);
                stack.extend_from_slice(forest.children_of(i));
                below.push(i);
            }
            // A delta comes after its base in `below`: backwards, every delta is settled first.
            for &i in below.iter().rev() {
                let needed = !table.info[i as usize].skip
                    || forest
                        .children_of(i)
                        .iter()
                        .any(|&c| forest.needed[c as usize]);
                forest.needed[i as usize] = needed;
            }
            match ObjectKind::from_pack_code(entry.code) {
                // Nothing to visit (all of it read from another pack): nothing to decode.
                Some(_) if weight == 0 => {}
                Some(kind) if wanted.contains(kind) => forest.roots.push(Root {
                    entry: root as u32,
                    weight,
                    kind,
                }),
                // Another pass's kind: that pass counts it (the scan's passes add up to the total).
                Some(_) => {}
                None => {
                    // A broken root (its own error is already recorded): the deltas below it fail too.
                    forest.fail_below(root as u32, table, errors, true);
                    skipped += u64::from(weight);
                }
            }
        }
        for (i, reached) in reached.iter().enumerate() {
            if !reached && !table.info[i].skip {
                errors.push(PackError {
                    oid: table.oid(i as u32),
                    reason: format!(
                        "pack entry at offset {}: its delta chain loops back on itself",
                        table.offsets[i]
                    ),
                    retry: true,
                });
                skipped += 1;
            }
        }
        // What cannot be read is counted once, by the pass that reads blobs (as for loose objects).
        if wanted.contains(ObjectKind::Blob) {
            progress(skipped);
        }

        // Dynamic chunks balance small roots; a root with a large share of the work goes first so it
        // does not start last and leave the other workers idle.
        let total: u64 = forest.roots.iter().map(|r| u64::from(r.weight)).sum();
        let heavy = (total / 64).max(64);
        forest.roots.sort_by_key(|&Root { entry, weight, .. }| {
            if u64::from(weight) > heavy {
                (0, u32::MAX - weight)
            } else {
                (1, entry)
            }
        });
        forest
    }

    fn children_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.children[self.first_child[i] as usize..self.first_child[i + 1] as usize]
    }

    /// Records an error for every delta below `base` (not `base` itself); `retry` as for the base.
    fn fail_below(&self, base: u32, table: &Table, errors: &mut Vec<PackError>, retry: bool) {
        let mut stack: Vec<(u32, u32)> =
            self.children_of(base).iter().map(|&c| (c, base)).collect();
        while let Some((i, parent)) = stack.pop() {
            if !table.info[i as usize].skip {
                errors.push(PackError {
                    oid: table.oid(i),
                    reason: format!("its delta base {} cannot be read", table.oid(parent)),
                    retry,
                });
            }
            stack.extend(self.children_of(i).iter().map(|&c| (c, i)));
        }
    }
}

/// One worker's decoder and buffers, reused from object to object.
struct Worker<'a> {
    table: &'a Table<'a>,
    forest: &'a Forest,
    reader: Reader<'a>,
    inflater: Decompress,
    delta: Vec<u8>,
    /// `levels[d]` holds the object at depth `d` of the chain being walked.
    levels: Vec<Vec<u8>>,
    /// The copy instructions of the last delta applied.
    copies: Vec<Copied>,
    /// The walk: an entry and the index of its next child to decode.
    stack: Vec<(u32, u32)>,
    errors: Vec<PackError>,
    file: &'a File,
    /// With a pieces visitor: its overlap.
    pieces_overlap: Option<usize>,
    /// See [`PackInput::verify_ids`].
    verify_ids: bool,
}

impl<'a> Worker<'a> {
    fn new(file: &'a File, table: &'a Table<'a>, forest: &'a Forest) -> Worker<'a> {
        let data_end = *table.offsets.last().expect("sentinel");
        Worker {
            table,
            forest,
            reader: Reader::new(file, data_end, READ_AHEAD),
            inflater: Decompress::new(true),
            delta: Vec::new(),
            levels: Vec::new(),
            copies: Vec::new(),
            stack: Vec::new(),
            errors: Vec::new(),
            file,
            pieces_overlap: None,
            verify_ids: false,
        }
    }

    /// Whether `root` is a large blob no delta is made against, to be read in pieces.
    fn in_pieces(&self, root: &Root) -> bool {
        let entry = root.entry as usize;
        let info = self.table.info[entry];
        self.pieces_overlap.is_some()
            && root.kind == ObjectKind::Blob
            && info.code != 0
            && !info.skip
            && info.size > PIECES_ABOVE
            && self.forest.first_child[entry] == self.forest.first_child[entry + 1]
    }

    /// Inflates a large blob piece by piece (at most [`PIECE`] plus the overlap in memory, reading
    /// [`PIECE_INPUT`] compressed bytes at a time) and hands each piece to `pieces`.
    fn walk_in_pieces<S>(&mut self, root: u32, state: &mut S, pieces: &Pieces<'_, S>) {
        if let Err(reason) = self.inflate_in_pieces(root, state, pieces) {
            self.fail(root, reason);
        }
    }

    fn inflate_in_pieces<S>(
        &mut self,
        root: u32,
        state: &mut S,
        pieces: &Pieces<'_, S>,
    ) -> Result<(), DecodeError> {
        let (start, end) = self.table.data_range(root);
        let size = self.table.info[root as usize].size;
        let oid = self.table.oid(root);
        let compressed = end - start;
        if size
            > compressed
                .saturating_mul(MAX_INFLATE_RATIO)
                .saturating_add(MAX_INFLATE_RATIO)
            || size > MAX_OBJECT_SIZE
        {
            return Err(DecodeError::TooLarge { size, compressed });
        }
        let overlap = pieces.overlap;
        // The entry's header and compressed bytes go through the CRC32 as they are read.
        let mut crc = crc32fast::Hasher::new();
        let (entry_start, _) = self.table.entry_range(root);
        let mut header = vec![0u8; (start - entry_start) as usize];
        read_exact_at(self.file, &mut header, entry_start).map_err(read_failed)?;
        crc.update(&header);
        let mut id = self.verify_ids.then(|| {
            use sha1::Digest;
            let mut hasher = sha1::Sha1::new();
            hasher.update(format!("blob {size}\0"));
            hasher
        });
        let mut input = vec![0u8; PIECE_INPUT.min(compressed as usize)];
        let (mut in_at, mut in_len, mut read_to) = (0usize, 0usize, start);
        let mut window: Vec<u8> = Vec::with_capacity(PIECE + overlap);
        let (mut offset, mut fresh, mut produced) = (0u64, 0usize, 0u64);
        self.inflater.reset(true);
        loop {
            if in_at == in_len && read_to < end {
                in_len = input.len().min((end - read_to) as usize);
                read_exact_at(self.file, &mut input[..in_len], read_to).map_err(read_failed)?;
                crc.update(&input[..in_len]);
                read_to += in_len as u64;
                in_at = 0;
            }
            let (before_in, before_out) = (self.inflater.total_in(), window.len());
            let status = self
                .inflater
                .decompress_vec(&input[in_at..in_len], &mut window, FlushDecompress::None)
                .map_err(DecodeError::Inflate)?;
            in_at += (self.inflater.total_in() - before_in) as usize;
            produced += (window.len() - before_out) as u64;
            if produced > size {
                return Err(DecodeError::InflatesPast(size));
            }
            if let Some(hasher) = id.as_mut() {
                use sha1::Digest;
                hasher.update(&window[before_out..]);
            }
            let done = status == Status::StreamEnd;
            if done || window.len() == window.capacity() {
                (pieces.visit)(
                    state,
                    oid,
                    Piece {
                        data: &window,
                        offset,
                        total: size,
                        fresh,
                    },
                );
                if done {
                    break;
                }
                slide_window(&mut window, overlap, &mut offset, &mut fresh);
                continue;
            }
            let stuck = window.len() == before_out && in_at == in_len && read_to == end;
            if stuck {
                return Err(DecodeError::EndsEarly {
                    got: produced,
                    size,
                });
            }
        }
        if produced != size {
            return Err(DecodeError::InflatesTo {
                got: produced,
                size,
            });
        }
        // Whatever the stream left unread still counts for the CRC.
        while read_to < end {
            let n = input.len().min((end - read_to) as usize);
            read_exact_at(self.file, &mut input[..n], read_to).map_err(read_failed)?;
            crc.update(&input[..n]);
            read_to += n as u64;
        }
        if let Some(expected) = self.table.crc(root) {
            let got = crc.finalize();
            if got != expected {
                return Err(DecodeError::Crc { expected, got });
            }
        }
        if let Some(hasher) = id {
            use sha1::Digest;
            let got = Oid::from_bytes(&hasher.finalize()).expect("20 bytes");
            if got != oid {
                return Err(DecodeError::OtherObject(got));
            }
        }
        Ok(())
    }

    /// Decodes `root` and every delta below it, depth first.
    fn walk<S>(&mut self, root: &Root, state: &mut S, visit: &LineageVisitor<'_, S>) {
        let (root, kind) = (root.entry, root.kind);
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        if let Err(reason) = self
            .decode_root(root)
            .and_then(|()| self.check_id(root, kind, 0))
        {
            self.fail(root, reason);
            return;
        }
        self.emit(root, 0, None, kind, state, visit);
        self.stack.clear();
        self.stack
            .push((root, self.forest.first_child[root as usize]));
        while let Some(&(parent, next)) = self.stack.last() {
            if next == self.forest.first_child[parent as usize + 1] {
                self.stack.pop();
                continue;
            }
            let child = self.forest.children[next as usize];
            self.stack.last_mut().expect("not empty").1 += 1;
            let depth = self.stack.len();
            // Nothing to visit in it or below it: not even inflated.
            if !self.forest.needed[child as usize] {
                continue;
            }
            let has_children = self.forest.first_child[child as usize]
                != self.forest.first_child[child as usize + 1];
            if self.levels.len() <= depth {
                self.levels.push(Vec::new());
            }
            if let Err(reason) = self
                .decode_delta(child, depth)
                .and_then(|()| self.check_id(child, kind, depth))
            {
                self.fail(child, reason);
                continue;
            }
            self.emit(child, depth, Some(parent), kind, state, visit);
            if has_children {
                self.stack
                    .push((child, self.forest.first_child[child as usize]));
            }
        }
        let mut kept = 0;
        for buf in self.levels.iter_mut() {
            kept += buf.capacity();
            if kept > KEEP_LEVELS {
                kept -= buf.capacity();
                *buf = Vec::new();
            }
        }
        if self.delta.capacity() > KEEP_BUFFER {
            self.delta = Vec::new();
        }
        self.reader.shrink();
    }

    /// Hands the object just decoded at `depth` to the visitor (unless it is to be skipped), with the
    /// copies that made it from `base` when the base was handed over too.
    fn emit<S>(
        &self,
        entry: u32,
        depth: usize,
        base: Option<u32>,
        kind: ObjectKind,
        state: &mut S,
        visit: &LineageVisitor<'_, S>,
    ) {
        let skipped = |entry: u32| self.table.info[entry as usize].skip;
        if !skipped(entry) {
            let copies = base
                .filter(|&base| !skipped(base))
                .map(|_| &self.copies[..]);
            let lineage = Lineage { depth, copies };
            visit(
                state,
                self.table.oid(entry),
                kind,
                &self.levels[depth],
                lineage,
            );
        }
    }

    /// Records why `entry` failed, and that every delta below it fails with it.
    fn fail(&mut self, entry: u32, reason: DecodeError) {
        let retry = !matches!(
            reason,
            DecodeError::Crc { .. } | DecodeError::OtherObject(_)
        );
        if !self.table.info[entry as usize].skip {
            self.errors.push(PackError {
                oid: self.table.oid(entry),
                reason: format!(
                    "pack entry at offset {}: {reason}",
                    self.table.offsets[entry as usize]
                ),
                retry,
            });
        }
        self.forest
            .fail_below(entry, self.table, &mut self.errors, retry);
    }

    /// With [`PackInput::verify_ids`], whether the object just decoded at `depth` is the one its id
    /// names.
    fn check_id(&self, entry: u32, kind: ObjectKind, depth: usize) -> Result<(), DecodeError> {
        if !self.verify_ids {
            return Ok(());
        }
        let data = &self.levels[depth];
        let got = object_id(kind, data.len() as u64, &[data]);
        if got != self.table.oid(entry) {
            return Err(DecodeError::OtherObject(got));
        }
        Ok(())
    }

    fn decode_root(&mut self, root: u32) -> Result<(), DecodeError> {
        let data = checked_data(self.table, &mut self.reader, root)?;
        let size = self.table.info[root as usize].size;
        inflate(&mut self.inflater, data, size, &mut self.levels[0])
    }

    fn decode_delta(&mut self, entry: u32, depth: usize) -> Result<(), DecodeError> {
        let data = checked_data(self.table, &mut self.reader, entry)?;
        let size = self.table.info[entry as usize].size;
        inflate(&mut self.inflater, data, size, &mut self.delta)?;
        let (bases, rest) = self.levels.split_at_mut(depth);
        apply_delta(
            &bases[depth - 1],
            &self.delta,
            &mut rest[0],
            &mut self.copies,
        )
    }
}

fn read_failed(err: std::io::Error) -> DecodeError {
    DecodeError::Read(err)
}

/// The id git gives an object of `kind` and `size` bytes made of `parts`.
fn object_id(kind: ObjectKind, size: u64, parts: &[&[u8]]) -> Oid {
    use sha1::Digest;
    let mut hasher = sha1::Sha1::new();
    hasher.update(format!("{} {size}\0", kind.as_str()));
    for part in parts {
        hasher.update(part);
    }
    Oid::from_bytes(&hasher.finalize()).expect("20 bytes")
}

/// Entry `pos`'s compressed data, once its bytes (header included) match the CRC32 the index records
/// for it: one pass of `crc32fast` over bytes the inflater reads next anyway.
fn checked_data<'r>(
    table: &Table<'_>,
    reader: &'r mut Reader<'_>,
    pos: u32,
) -> Result<&'r [u8], DecodeError> {
    let (from, to) = table.entry_range(pos);
    let bytes = reader.range(from, to).map_err(read_failed)?;
    if let Some(expected) = table.crc(pos) {
        let got = crc32fast::hash(bytes);
        if got != expected {
            return Err(DecodeError::Crc { expected, got });
        }
    }
    let header = usize::from(table.info[pos as usize].header_len).min(bytes.len());
    Ok(&bytes[header..])
}

/// Inflates a zlib stream that must produce exactly `size` bytes into `out` (replacing its contents).
fn inflate(
    inflater: &mut Decompress,
    input: &[u8],
    size: u64,
    out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    let limit = (input.len() as u64)
        .saturating_mul(MAX_INFLATE_RATIO)
        .saturating_add(MAX_INFLATE_RATIO);
    if size > limit || size > MAX_OBJECT_SIZE {
        return Err(DecodeError::TooLarge {
            size,
            compressed: input.len() as u64,
        });
    }
    let size = size as usize;
    out.clear();
    // One spare byte shows a stream that inflates to more than declared.
    out.reserve(size + 1);
    inflater.reset(true);
    let status = inflater.decompress_vec(input, out, FlushDecompress::Finish);
    // The buffer may have room past `size + 1` from an earlier object, and how far a bad stream gets
    // then depends on that room: past the declared size is reported as such, whatever came after.
    if out.len() > size {
        return Err(DecodeError::InflatesPast(size as u64));
    }
    match status.map_err(DecodeError::Inflate)? {
        Status::StreamEnd if out.len() == size => Ok(()),
        Status::StreamEnd => Err(DecodeError::InflatesTo {
            got: out.len() as u64,
            size: size as u64,
        }),
        _ => Err(DecodeError::EndsEarly {
            got: out.len() as u64,
            size: size as u64,
        }),
    }
}

/// Applies a git delta (source and target sizes, then copy and insert instructions) to `base`, writing
/// the result to `out` and its copy instructions to `copies`. Every size is checked against the
/// delta's header.
pub(crate) fn apply_delta(
    base: &[u8],
    delta: &[u8],
    out: &mut Vec<u8>,
    copies: &mut Vec<Copied>,
) -> Result<(), DecodeError> {
    copies.clear();
    let mut pos = 0;
    let source = delta_varint(delta, &mut pos)?;
    let target = delta_varint(delta, &mut pos)?;
    if source != base.len() as u64 {
        return Err(DecodeError::BaseSize {
            expected: source,
            actual: base.len() as u64,
        });
    }
    // Each instruction byte yields at most one base's worth (a copy) or 127 bytes (an insert).
    let most = ((delta.len() - pos) as u64).saturating_mul((base.len() as u64).max(127));
    if target > most || target > MAX_OBJECT_SIZE {
        return Err(DecodeError::DeltaTooLarge(target));
    }
    let target = target as usize;
    out.clear();
    out.reserve(target);
    let corrupt = |what: &'static str| Err(DecodeError::DeltaCorrupt(what));
    while pos < delta.len() {
        let op = delta[pos];
        pos += 1;
        if op & 0x80 != 0 {
            let mut offset = 0usize;
            let mut len = 0usize;
            for bit in 0..7 {
                if op & (1 << bit) != 0 {
                    let Some(&byte) = delta.get(pos) else {
                        return corrupt("a copy instruction is cut short");
                    };
                    pos += 1;
                    if bit < 4 {
                        offset |= usize::from(byte) << (8 * bit);
                    } else {
                        len |= usize::from(byte) << (8 * (bit - 4));
                    }
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            let Some(from) = offset
                .checked_add(len)
                .and_then(|end| base.get(offset..end))
            else {
                return corrupt("a copy reaches past the end of the base");
            };
            if out.len() + len > target {
                return corrupt("the result grows past its declared size");
            }
            copies.push(Copied {
                target: out.len(),
                source: offset,
                len,
            });
            out.extend_from_slice(from);
        } else if op != 0 {
            let len = usize::from(op);
            let Some(from) = delta.get(pos..pos + len) else {
                return corrupt("an insert instruction is cut short");
            };
            if out.len() + len > target {
                return corrupt("the result grows past its declared size");
            }
            out.extend_from_slice(from);
            pos += len;
        } else {
            return corrupt("reserved instruction 0");
        }
    }
    if out.len() != target {
        return Err(DecodeError::DeltaSize {
            got: out.len() as u64,
            declared: target as u64,
        });
    }
    Ok(())
}

/// A delta header size: little-endian groups of 7 bits.
fn delta_varint(delta: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let Some(&byte) = delta.get(*pos) else {
            return Err(DecodeError::DeltaHeaderTruncated);
        };
        *pos += 1;
        if shift > 63 {
            return Err(DecodeError::DeltaHeaderOverflow);
        }
        value |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
}

#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
pub(crate) fn read_exact_at(
    file: &File,
    mut buf: &mut [u8],
    mut offset: u64,
) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::ZlibEncoder;
    use flate2::Compression;
    use proptest::prelude::*;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// Type and size varint of an entry header.
    fn type_and_size(code: u8, mut size: u64) -> Vec<u8> {
        let mut out = vec![(code << 4) | (size & 15) as u8];
        size >>= 4;
        while size > 0 {
            *out.last_mut().unwrap() |= 0x80;
            out.push((size & 0x7f) as u8);
            size >>= 7;
        }
        out
    }

    /// The OFS_DELTA distance encoding (big-endian groups with an implicit +1 per continuation).
    fn distance(mut n: u64) -> Vec<u8> {
        let mut out = vec![(n & 0x7f) as u8];
        n >>= 7;
        while n > 0 {
            n -= 1;
            out.insert(0, 0x80 | (n & 0x7f) as u8);
            n >>= 7;
        }
        out
    }

    fn varint(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    fn copy(offset: u32, len: u32) -> Vec<u8> {
        let mut op = 0x80u8;
        let mut args = Vec::new();
        for (i, byte) in offset.to_le_bytes().iter().enumerate() {
            if *byte != 0 {
                op |= 1 << i;
                args.push(*byte);
            }
        }
        for (i, byte) in len.to_le_bytes()[..3].iter().enumerate() {
            if *byte != 0 {
                op |= 0x10 << i;
                args.push(*byte);
            }
        }
        let mut out = vec![op];
        out.extend(args);
        out
    }

    fn insert(data: &[u8]) -> Vec<u8> {
        let mut out = vec![data.len() as u8];
        out.extend_from_slice(data);
        out
    }

    fn delta(source: usize, target: usize, ops: &[Vec<u8>]) -> Vec<u8> {
        let mut out = varint(source as u64);
        out.extend(varint(target as u64));
        for op in ops {
            out.extend_from_slice(op);
        }
        out
    }

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    /// A reverse index file as git writes it for `order` (positions in pack order).
    fn rev_file(order: &[u32]) -> Vec<u8> {
        let mut out = b"RIDX".to_vec();
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&1u32.to_be_bytes());
        for i in order {
            out.extend_from_slice(&i.to_be_bytes());
        }
        out.extend_from_slice(&[0; 40]);
        out
    }

    #[test]
    fn a_reverse_index_is_used_only_when_it_agrees_with_the_offsets() {
        let entries: Vec<(Oid, u64)> =
            vec![(oid(1), 300), (oid(2), 12), (oid(3), 700), (oid(4), 40)];
        let sorted = pack_order(&entries);
        assert_eq!(sorted, vec![1, 3, 0, 2]);
        let dir = tempfile::tempdir().unwrap();
        let rev = dir.path().join("pack-x.rev");
        let read = |bytes: &[u8]| {
            std::fs::write(&rev, bytes).unwrap();
            (
                read_reverse_index(&rev, &entries),
                pack_order_of(&rev, &entries),
            )
        };
        assert_eq!(
            read(&rev_file(&sorted)),
            (Some(sorted.clone()), sorted.clone())
        );
        let mut sha256 = rev_file(&sorted);
        sha256[11] = 2;
        let mut magic = rev_file(&sorted);
        magic[0] = b'X';
        let short = &rev_file(&sorted)[..50];
        for bad in [
            rev_file(&[1, 3, 0]),    // too few positions
            rev_file(&[1, 3, 0, 4]), // a position past the entries
            rev_file(&[1, 3, 3, 2]), // a position twice
            rev_file(&[3, 1, 0, 2]), // offsets that do not rise
            sha256,
            magic,
            short.to_vec(),
        ] {
            assert_eq!(read(&bad), (None, sorted.clone()));
        }
        std::fs::remove_file(&rev).unwrap();
        assert_eq!(pack_order_of(&rev, &entries), sorted, "no file");
    }

    /// A FIFO under an index's or reverse index's name is refused without a read (which would wait
    /// for a writer forever): the reads run on a thread the test gives five seconds.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_no_index() {
        let dir = tempfile::tempdir().unwrap();
        let (idx, rev) = (dir.path().join("pack-x.idx"), dir.path().join("pack-x.rev"));
        for fifo in [&idx, &rev] {
            let made = std::process::Command::new("mkfifo").arg(fifo).status();
            assert!(made.unwrap().success(), "mkfifo runs");
        }
        let (done, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let entries = vec![(oid(1), 12)];
            let index = read_index(&idx).map(|_| ()).map_err(|e| e.to_string());
            done.send((index, read_reverse_index(&rev, &entries)))
                .unwrap();
        });
        let (index, reverse) = wait
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("a FIFO is refused, not read");
        assert!(index.unwrap_err().contains("not a regular file"));
        assert_eq!(reverse, None);
    }

    #[test]
    fn parses_entry_headers() {
        let mut bytes = type_and_size(3, 1234);
        bytes.push(0xaa); // compressed data follows
        let header = parse_header(&bytes).unwrap();
        assert_eq!((header.code, header.size, header.len), (3, 1234, 2));
        assert_eq!(header.base, Base::None);

        for n in [1, 127, 128, 16511, 16512, 1 << 40] {
            let mut bytes = type_and_size(OFS_DELTA, 10);
            bytes.extend(distance(n));
            let header = parse_header(&bytes).unwrap();
            assert_eq!(header.base, Base::Distance(n), "distance {n}");
            assert_eq!(header.len, bytes.len());
        }

        let mut bytes = type_and_size(REF_DELTA, 10);
        bytes.extend_from_slice(&[7; 20]);
        assert_eq!(parse_header(&bytes).unwrap().base, Base::Id(oid(7)));
        assert_eq!(parse_header(&bytes).unwrap().len, 21);
    }

    #[test]
    fn rejects_bad_headers() {
        assert!(parse_header(&[]).is_err());
        assert!(parse_header(&[0x90])
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        assert!(parse_header(&[0x50])
            .unwrap_err()
            .to_string()
            .contains("unknown entry type 5"));
        assert!(parse_header(&[0x00])
            .unwrap_err()
            .to_string()
            .contains("unknown entry type 0"));
        let mut too_big = vec![0xb0];
        too_big.extend([0xff; 12]);
        too_big.push(0);
        assert!(parse_header(&too_big)
            .unwrap_err()
            .to_string()
            .contains("64 bits"));
        let mut far = type_and_size(OFS_DELTA, 1);
        far.extend([0xff; 12]);
        far.push(0);
        assert!(parse_header(&far)
            .unwrap_err()
            .to_string()
            .contains("64 bits"));
        let mut short_id = type_and_size(REF_DELTA, 1);
        short_id.extend([1; 19]);
        assert!(parse_header(&short_id)
            .unwrap_err()
            .to_string()
            .contains("truncated"));
    }

    #[test]
    fn resolves_ofs_delta_bases() {
        let offsets = [12, 40, 90, 200];
        let header = |n| Header {
            code: OFS_DELTA,
            size: 1,
            len: 2,
            base: Base::Distance(n),
        };
        assert!(matches!(
            resolve_base(&header(50), 90, 2, &offsets),
            Ok(Resolved::Entry(1))
        ));
        assert!(resolve_base(&header(0), 90, 2, &offsets).is_err());
        assert!(resolve_base(&header(91), 90, 2, &offsets).is_err());
        assert!(resolve_base(&header(49), 90, 2, &offsets)
            .err()
            .unwrap()
            .to_string()
            .contains("no entry starts"));
    }

    #[test]
    fn applies_copy_and_insert_instructions() {
        let base = b"The quick brown fox jumps over the lazy dog";
        let ops = [copy(4, 6), insert(b"red"), copy(15, 28)];
        let d = delta(base.len(), 37, &ops);
        let (mut out, mut copies) = (Vec::new(), Vec::new());
        apply_delta(base, &d, &mut out, &mut copies).unwrap();
        assert_eq!(&out[..], b"quick red fox jumps over the lazy dog");
        let copied = |target, source, len| Copied {
            target,
            source,
            len,
        };
        assert_eq!(copies, [copied(0, 4, 6), copied(9, 15, 28)]);
    }

    #[test]
    fn copy_of_size_zero_means_64_kib() {
        let base = vec![9u8; 0x10000];
        let d = delta(base.len(), 0x10000, &[vec![0x80]]);
        let mut out = Vec::new();
        apply_delta(&base, &d, &mut out, &mut Vec::new()).unwrap();
        assert_eq!(out, base);
    }

    #[test]
    fn rejects_bad_deltas() {
        let base = b"0123456789";
        let mut out = Vec::new();
        let mut check = |d: Vec<u8>, expect: &str| {
            let err = apply_delta(base, &d, &mut out, &mut Vec::new()).unwrap_err();
            assert!(
                err.to_string().contains(expect),
                "{err} (expected {expect})"
            );
        };
        check(delta(9, 3, &[copy(0, 3)]), "expects a base of 9 bytes");
        check(delta(10, 3, &[copy(8, 3)]), "past the end of the base");
        check(delta(10, 2, &[copy(0, 3)]), "past its declared size");
        check(
            delta(10, 4, &[copy(0, 3)]),
            "produces 3 bytes, it declares 4",
        );
        check(delta(10, 2, &[insert(b"abc")]), "past its declared size");
        check(
            delta(10, 5, &[insert(b"abc"), vec![0]]),
            "reserved instruction",
        );
        check(
            delta(10, 5, &[vec![3, b'a']]),
            "insert instruction is cut short",
        );
        check(
            delta(10, 5, &[vec![0x91, 1]]),
            "copy instruction is cut short",
        );
        check(vec![0x8a], "header is truncated");
        check(delta(10, 1 << 40, &[copy(0, 10)]), "cannot produce");
    }

    #[test]
    fn inflate_checks_the_declared_size() {
        let mut inflater = Decompress::new(true);
        let mut out = Vec::new();
        let data = zlib(b"hello world");
        inflate(&mut inflater, &data, 11, &mut out).unwrap();
        assert_eq!(out, b"hello world");
        assert!(inflate(&mut inflater, &data, 10, &mut out)
            .unwrap_err()
            .to_string()
            .contains("its header says"));
        assert!(inflate(&mut inflater, &data, 12, &mut out)
            .unwrap_err()
            .to_string()
            .contains("inflates to 11 bytes"));
        assert!(
            inflate(&mut inflater, &data[..data.len() - 6], 11, &mut out)
                .unwrap_err()
                .to_string()
                .contains("ends early")
        );
        let mut corrupt = data.clone();
        corrupt[4] ^= 0xff;
        assert!(inflate(&mut inflater, &corrupt, 11, &mut out).is_err());
        assert!(inflate(&mut inflater, &data, 1 << 50, &mut out)
            .unwrap_err()
            .to_string()
            .contains("cannot come from"));
    }

    /// A pack written by hand, with whatever entries a test needs.
    struct PackBuilder {
        bytes: Vec<u8>,
        entries: Vec<(Oid, u64)>,
    }

    impl PackBuilder {
        fn new() -> PackBuilder {
            PackBuilder {
                bytes: b"PACK\0\0\0\x02\0\0\0\0".to_vec(),
                entries: Vec::new(),
            }
        }

        /// Adds an entry with raw header bytes and compressed body; returns its offset.
        fn raw(&mut self, id: u8, header: Vec<u8>, body: &[u8]) -> u64 {
            let offset = self.bytes.len() as u64;
            self.bytes.extend(header);
            self.bytes.extend_from_slice(body);
            self.entries.push((oid(id), offset));
            offset
        }

        fn object(&mut self, id: u8, code: u8, data: &[u8]) -> u64 {
            self.raw(id, type_and_size(code, data.len() as u64), &zlib(data))
        }

        fn ofs_delta(&mut self, id: u8, base: u64, d: &[u8]) -> u64 {
            let mut header = type_and_size(OFS_DELTA, d.len() as u64);
            header.extend(distance(self.bytes.len() as u64 - base));
            self.raw(id, header, &zlib(d))
        }

        fn ref_delta(&mut self, id: u8, base: u8, d: &[u8]) -> u64 {
            let mut header = type_and_size(REF_DELTA, d.len() as u64);
            header.extend_from_slice(&[base; 20]);
            self.raw(id, header, &zlib(d))
        }

        fn finish(mut self, dir: &Path) -> (std::path::PathBuf, Vec<(Oid, u64)>) {
            let count = (self.entries.len() as u32).to_be_bytes();
            self.bytes[8..12].copy_from_slice(&count);
            self.bytes.extend([0; 20]);
            let path = dir.join("test.pack");
            std::fs::write(&path, &self.bytes).unwrap();
            (path, self.entries)
        }
    }

    type Seen = Vec<(Oid, ObjectKind, Vec<u8>)>;

    fn run(
        path: &Path,
        entries: &[(Oid, u64)],
        kinds: KindSet,
        threads: usize,
    ) -> (Seen, Vec<PackError>) {
        let input = PackInput {
            path,
            entries,
            skip: &[],
            kinds,
            pack_order: &[],
            crcs: &[],
            verify_ids: false,
        };
        let mut states: Vec<Seen> = vec![Vec::new(); threads];
        let errors = traverse(
            &input,
            &mut states,
            &|seen: &mut Seen, oid, kind, data: &[u8]| seen.push((oid, kind, data.to_vec())),
            &|_| {},
        )
        .unwrap();
        let mut seen: Seen = states.into_iter().flatten().collect();
        seen.sort_by_key(|s| s.0);
        (seen, errors)
    }

    #[test]
    fn large_blobs_come_in_overlapping_pieces_that_find_every_needle_once() {
        let dir = tempfile::tempdir().unwrap();
        let needle = b"NEEDLE-0123456789";
        let size = 3 * PIECE + (1 << 20);
        let mut big = vec![b'.'; size];
        // Piece k ends at k * PIECE + overlap and piece k + 1 starts at k * PIECE. Needles at the start,
        // the end, across the first end, wholly inside the second overlap (seen twice, reported once),
        // and across the third end by one byte.
        let n = needle.len();
        let mut wanted = vec![0, size - n, PIECE + n / 2, 2 * PIECE, 3 * PIECE + n - 1];
        for &at in &wanted {
            big[at..at + needle.len()].copy_from_slice(needle);
        }
        let mut pack = PackBuilder::new();
        pack.object(1, 3, &big);
        // A large blob a delta is made against stays whole (its delta needs it).
        let base = pack.object(2, 3, &big);
        pack.ofs_delta(3, base, &delta(size, 1, &[insert(b"x")]));
        let (path, entries) = pack.finish(dir.path());
        let input = PackInput {
            path: &path,
            entries: &entries,
            skip: &[],
            kinds: KindSet::ALL,
            pack_order: &[],
            crcs: &[],
            verify_ids: false,
        };
        type State = (Vec<(Oid, usize)>, Vec<(Oid, u64, usize)>, Vec<u8>);
        let mut states: Vec<State> = vec![(Vec::new(), Vec::new(), Vec::new())];
        let pieces = Pieces {
            visit: &|(_, pieces, found): &mut State, oid, piece: Piece<'_>| {
                assert_eq!(piece.total, size as u64);
                pieces.push((oid, piece.offset, piece.data.len()));
                for at in memchr::memmem::find_iter(piece.data, needle) {
                    if at + needle.len() > piece.fresh {
                        found.extend((piece.offset as usize + at).to_le_bytes());
                    }
                }
            },
            overlap: needle.len(),
        };
        let errors = traverse_in_pieces(
            &input,
            &mut states,
            &|(whole, _, _): &mut State, oid, _, data: &[u8], _| whole.push((oid, data.len())),
            Some(&pieces),
            &|_| {},
        )
        .unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        let (whole, pieces, found) = &states[0];
        assert_eq!(whole, &vec![(oid(2), size), (oid(3), 1)]);
        assert!(pieces.len() >= 3 && pieces.iter().all(|p| p.0 == oid(1)));
        assert!(pieces.iter().all(|p| p.2 <= PIECE + needle.len()));
        // The pieces cover the blob: each starts where the previous one's fresh part ends.
        let last = pieces.last().unwrap();
        assert_eq!(last.1 as usize + last.2, size);
        let mut found: Vec<usize> = found
            .chunks(8)
            .map(|c| usize::from_le_bytes(c.try_into().unwrap()))
            .collect();
        found.sort_unstable();
        wanted.sort_unstable();
        assert_eq!(found, wanted);
    }

    #[test]
    fn traverses_delta_chains_and_reports_damage() {
        let dir = tempfile::tempdir().unwrap();
        let mut pack = PackBuilder::new();
        let v1 = b"line one\nline two\nline three\n".to_vec();
        let base = pack.object(1, 3, &v1);
        // v2 = v1 + "line four\n", as an OFS_DELTA on v1.
        let v2 = [&v1[..], b"line four\n"].concat();
        let d2 = delta(
            v1.len(),
            v2.len(),
            &[copy(0, v1.len() as u32), insert(b"line four\n")],
        );
        let second = pack.ofs_delta(2, base, &d2);
        // v3 = "line two\n" + v2's tail, as a REF_DELTA on v2.
        let v3 = [&v2[9..18], &v2[29..]].concat();
        let d3 = delta(
            v2.len(),
            v3.len(),
            &[copy(9, 9), copy(29, (v2.len() - 29) as u32)],
        );
        pack.ref_delta(3, 2, &d3);
        pack.object(4, 2, b"tree bytes");
        // A delta whose base is not in the pack (thin), and one on top of it.
        pack.ref_delta(5, 99, &d2);
        pack.ref_delta(6, 5, &d2);
        // Two deltas on each other.
        pack.ref_delta(7, 8, &d2);
        pack.ref_delta(8, 7, &d2);
        // A corrupt base and its delta.
        let bad = pack.raw(9, type_and_size(3, 5), b"\x78\x9c garbage");
        pack.ofs_delta(10, bad, &d2);
        // A delta whose result does not match its declared base size.
        let wrong = delta(3, 1, &[insert(b"x")]);
        pack.ofs_delta(11, second, &wrong);
        let (path, entries) = pack.finish(dir.path());

        for threads in [1, 3] {
            let (seen, mut errors) = run(&path, &entries, KindSet::ALL, threads);
            let expect: Seen = vec![
                (oid(1), ObjectKind::Blob, v1.clone()),
                (oid(2), ObjectKind::Blob, v2.clone()),
                (oid(3), ObjectKind::Blob, v3.clone()),
                (oid(4), ObjectKind::Tree, b"tree bytes".to_vec()),
            ];
            assert_eq!(seen, expect);
            errors.sort_by_key(|e| e.oid);
            let failed: Vec<Oid> = errors.iter().map(|e| e.oid).collect();
            assert_eq!(failed, (5..=11).map(oid).collect::<Vec<_>>(), "{errors:#?}");
            let reason = |n: u8| &errors[(n - 5) as usize].reason;
            assert!(reason(5).contains("not in this pack"), "{}", reason(5));
            assert!(reason(6).contains("cannot be read"), "{}", reason(6));
            assert!(reason(7).contains("loops"), "{}", reason(7));
            assert!(reason(9).contains("zlib"), "{}", reason(9));
            assert!(reason(10).contains("cannot be read"), "{}", reason(10));
            assert!(
                reason(11).contains("expects a base of 3 bytes"),
                "{}",
                reason(11)
            );
        }

        // Only trees: the blob chain is never decoded, its errors never found.
        let (seen, errors) = run(&path, &entries, KindSet::of(&[ObjectKind::Tree]), 2);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, oid(4));
        let failed: Vec<Oid> = errors.iter().map(|e| e.oid).collect();
        assert!(
            !failed.contains(&oid(9)) && !failed.contains(&oid(11)),
            "{errors:?}"
        );
    }

    #[test]
    fn skipped_entries_are_decoded_for_their_deltas_but_not_visited() {
        let dir = tempfile::tempdir().unwrap();
        let mut pack = PackBuilder::new();
        let base = pack.object(1, 1, b"abc");
        pack.ofs_delta(2, base, &delta(3, 4, &[copy(0, 3), insert(b"d")]));
        pack.object(3, 1, b"lonely");
        let (path, entries) = pack.finish(dir.path());
        let (seen, errors) = visit_unskipped(&path, &entries, &[true, false, true]);
        assert!(errors.is_empty());
        assert_eq!(seen, vec![(oid(2), b"abcd".to_vec())]);
    }

    /// Traverses with `skip` on one worker: what was visited, and the errors.
    fn visit_unskipped(
        path: &Path,
        entries: &[(Oid, u64)],
        skip: &[bool],
    ) -> (Vec<(Oid, Vec<u8>)>, Vec<PackError>) {
        let input = PackInput {
            path,
            entries,
            skip,
            kinds: KindSet::ALL,
            pack_order: &[],
            crcs: &[],
            verify_ids: false,
        };
        let mut states = vec![Vec::new()];
        let errors = traverse(
            &input,
            &mut states,
            &|seen: &mut Vec<(Oid, Vec<u8>)>, oid, _, data: &[u8]| seen.push((oid, data.to_vec())),
            &|_| {},
        )
        .unwrap();
        (states.pop().unwrap(), errors)
    }

    #[test]
    fn a_delta_tree_with_nothing_wanted_below_is_not_inflated() {
        let dir = tempfile::tempdir().unwrap();
        let mut pack = PackBuilder::new();
        let base = pack.object(1, 2, b"abc");
        let middle = pack.ofs_delta(2, base, &delta(3, 4, &[copy(0, 3), insert(b"d")]));
        pack.ofs_delta(3, middle, &delta(4, 5, &[copy(0, 4), insert(b"e")]));
        // A delta that fails if anyone decodes it: it claims a base of 99 bytes.
        pack.ofs_delta(4, base, &delta(99, 1, &[insert(b"x")]));
        let (path, entries) = pack.finish(dir.path());
        let (seen, errors) = visit_unskipped(&path, &entries, &[true, true, false, true]);
        assert!(
            errors.is_empty(),
            "the unwanted delta was decoded: {errors:?}"
        );
        assert_eq!(seen, vec![(oid(3), b"abcde".to_vec())]);
        // Wanted, the same delta is decoded and fails: the test above is not vacuous.
        let (_, errors) = visit_unskipped(&path, &entries, &[true, true, true, false]);
        assert_eq!(errors.len(), 1, "{errors:?}");
    }

    #[test]
    fn refuses_a_file_that_is_not_the_indexed_pack() {
        let dir = tempfile::tempdir().unwrap();
        let mut pack = PackBuilder::new();
        pack.object(1, 3, b"x");
        let (path, mut entries) = pack.finish(dir.path());
        entries.push((oid(2), 12));
        let input = PackInput {
            path: &path,
            entries: &entries,
            skip: &[],
            kinds: KindSet::ALL,
            pack_order: &[],
            crcs: &[],
            verify_ids: false,
        };
        let err = traverse(&input, &mut [()], &|_, _, _, _| {}, &|_| {}).unwrap_err();
        assert!(err.to_string().contains("holds 1 objects"), "{err}");
        std::fs::write(&path, b"not a pack at all").unwrap();
        assert!(traverse(&input, &mut [()], &|_, _, _, _| {}, &|_| {}).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_headers_and_deltas_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..4096),
            base in proptest::collection::vec(any::<u8>(), 0..4096),
        ) {
            let _ = parse_header(&bytes);
            let mut out = Vec::new();
            let _ = apply_delta(&base, &bytes, &mut out, &mut Vec::new());
            // A valid header in front, so the instructions themselves get exercised.
            let mut d = varint(base.len() as u64);
            d.extend(varint(bytes.len() as u64 * 2));
            d.extend_from_slice(&bytes);
            let _ = apply_delta(&base, &d, &mut out, &mut Vec::new());
        }

        #[test]
        fn random_pack_entries_never_panic(
            bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..1024), 1..24),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut pack = PackBuilder::new();
            for (i, body) in bodies.iter().enumerate() {
                pack.raw(i as u8 + 1, Vec::new(), body);
            }
            let (path, entries) = pack.finish(dir.path());
            let (seen, errors) = run(&path, &entries, KindSet::ALL, 2);
            // Every entry is either visited or reported, never both, never lost.
            prop_assert_eq!(seen.len() + errors.len(), entries.len());
        }
    }
}
