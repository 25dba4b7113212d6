//! One blob read by its id in overlapping pieces, for the hooks and range audits: from its pack entry or
//! its loose file, through a window slid as the whole-history pass slides its own
//! ([`pack::slide_window`]). A caller holds a piece (8 MiB and the overlap), not the blob. A blob stored
//! as a delta is built from its base, which is held whole (as the whole-history pass holds a delta base).
//!
//! Every read is checked as git checks it: a pack entry's bytes against the CRC32 its index records, and
//! the blob's id hashed from what was read, so bytes filed under the wrong id are damage, never a blob.

use super::odb::{self, LooseError};
use super::pack::{self, Base, DecodeError, Header, ObjectKind, Piece};
use super::{Oid, Repo};
use flate2::{Decompress, FlushDecompress, Status};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Compressed bytes read, and inflated bytes handed on, at a time.
const CHUNK: usize = 256 << 10;
/// Deltas followed down to their base before the chain is taken for damage: git writes chains of at
/// most 4095 (`pack.depth`).
const MAX_CHAIN: usize = 4096;

/// Why a blob was not streamed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BlobError {
    /// Our reader does not hold it (no pack or loose file of ours has it), or holds it in a form it
    /// leaves to libgit2 (not a blob, a delta base stored elsewhere): the caller reads it whole through
    /// libgit2, whose answer (or error) is the one the user gets, as before.
    #[error("{0}")]
    Elsewhere(String),
    /// A pack entry is damaged or malformed.
    #[error("pack entry at offset {offset} of {}: {reason}", pack.display())]
    Pack {
        pack: PathBuf,
        offset: u64,
        reason: DecodeError,
    },
    /// A loose object is damaged or malformed (never handed to libgit2: its inflater spins forever on
    /// a truncated one).
    #[error("loose object {}: {reason}", path.display())]
    Loose { path: PathBuf, reason: LooseError },
}

impl BlobError {
    /// Whether libgit2 may read the blob whole instead: our reader does not have it, or leaves its form
    /// to libgit2. Damage (bytes that do not inflate, a CRC32 or id mismatch, a damaged loose file) is
    /// final: our reader reads every form of entry git writes, so what it cannot decode is not a blob
    /// another reader should be trusted to find clean.
    pub(crate) fn read_elsewhere(&self) -> bool {
        matches!(self, BlobError::Elsewhere(_))
    }
}

/// Reads blobs one by one, in pieces (see the module's doc). Packs are opened on the first read.
pub(crate) struct BlobReader<'r> {
    dirs: &'r [PathBuf],
    packs: Option<Vec<PackFile>>,
    inflater: Decompress,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl Repo {
    /// A reader of single blobs by id, in pieces (for the hooks and range audits).
    pub(crate) fn blob_reader(&self) -> BlobReader<'_> {
        BlobReader {
            dirs: &self.objects_dirs,
            packs: None,
            inflater: Decompress::new(true),
            // Allocated zeroed once (a resize per entry zero-fills it again).
            input: vec![0; CHUNK],
            output: Vec::new(),
        }
    }
}

impl BlobReader<'_> {
    /// Hands blob `oid` to `visit` in pieces of at most 8 MiB plus `overlap` bytes, each repeating the
    /// last `overlap` bytes of the one before (see [`Piece`]); a blob that fits in one piece comes whole,
    /// and an empty blob as one empty piece. The pieces are handed over as they are read: an error
    /// after some were means the blob is unreadable, whatever they held.
    pub(crate) fn stream(
        &mut self,
        oid: Oid,
        overlap: usize,
        visit: &mut dyn FnMut(Piece<'_>),
    ) -> Result<(), BlobError> {
        if self.packs.is_none() {
            self.packs = Some(open_packs(self.dirs));
        }
        let packs = self.packs.as_deref().unwrap_or_default();
        let mut io = Io {
            inflater: &mut self.inflater,
            input: &mut self.input,
            output: &mut self.output,
        };
        for pack in packs {
            let found = pack.find(oid).map_err(|err| BlobError::Pack {
                pack: pack.path.clone(),
                offset: 0,
                reason: DecodeError::Read(err),
            })?;
            if let Some((offset, crc)) = found {
                return stream_packed(
                    packs, self.dirs, pack, offset, crc, oid, overlap, &mut io, visit,
                );
            }
        }
        for dir in self.dirs {
            let path = odb::loose_path(dir, oid);
            if std::fs::symlink_metadata(&path).is_ok() {
                return match stream_loose(&path, oid, overlap, &mut io, visit) {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(BlobError::Elsewhere(format!("{oid} is not a blob"))),
                    Err(reason) => Err(BlobError::Loose { path, reason }),
                };
            }
        }
        Err(BlobError::Elsewhere(format!(
            "{oid} is in no pack or loose file"
        )))
    }
}

/// The reader's buffers, lent to one read.
struct Io<'a> {
    inflater: &'a mut Decompress,
    input: &'a mut Vec<u8>,
    output: &'a mut Vec<u8>,
}

/// A pack and its index, opened for lookups by id.
struct PackFile {
    path: PathBuf,
    pack: File,
    /// Where the pack's entries end (its length less the trailer).
    data_end: u64,
    index: File,
    /// Version 2 (with CRC32s) or 1.
    v2: bool,
    fanout: Vec<u32>,
}

/// Every pack with its index in `dirs`, in the order the whole-history pass lists them. A pack that is
/// not a regular file, or whose index or header is not one we read, is left to libgit2.
fn open_packs(dirs: &[PathBuf]) -> Vec<PackFile> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir.join("pack")) else {
            continue;
        };
        let mut idx_files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        idx_files.sort();
        for idx in idx_files {
            if let Some(pack) = PackFile::open(&idx) {
                out.push(pack);
            }
        }
    }
    out
}

impl PackFile {
    fn open(idx: &Path) -> Option<PackFile> {
        let path = idx.with_extension("pack");
        // Opening a FIFO waits for a writer, forever: only regular files are opened.
        let regular = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_file());
        if !regular(idx) || !regular(&path) {
            return None;
        }
        let index = File::open(idx).ok()?;
        let pack = File::open(&path).ok()?;
        let (index_len, pack_len) = (index.metadata().ok()?.len(), pack.metadata().ok()?.len());
        let mut head = [0u8; 12];
        pack::read_exact_at(&pack, &mut head, 0).ok()?;
        let version = u32::from_be_bytes(head[4..8].try_into().ok()?);
        if &head[..4] != b"PACK" || !(version == 2 || version == 3) || pack_len < 32 {
            return None;
        }
        let mut magic = [0u8; 8];
        pack::read_exact_at(&index, &mut magic, 0).ok()?;
        let v2 = &magic[..4] == b"\xfftOc";
        if v2 && magic[4..] != 2u32.to_be_bytes() {
            return None;
        }
        let mut raw = vec![0u8; 256 * 4];
        pack::read_exact_at(&index, &mut raw, if v2 { 8 } else { 0 }).ok()?;
        let fanout: Vec<u32> = raw
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes(c.try_into().expect("4 bytes")))
            .collect();
        if fanout.windows(2).any(|w| w[0] > w[1]) {
            return None;
        }
        let count = u64::from(fanout[255]);
        let records = if v2 {
            8 + 1024 + count * 28
        } else {
            1024 + count * 24
        };
        if index_len < records + 40 {
            return None;
        }
        Some(PackFile {
            path,
            pack,
            data_end: pack_len - 20,
            index,
            v2,
            fanout,
        })
    }

    /// Where the index files `oid` (its entry's offset), with the CRC32 it records for the entry
    /// (version 2), by a binary search of the index's sorted ids: a few reads, not the whole index.
    fn find(&self, oid: Oid) -> std::io::Result<Option<(u64, Option<u32>)>> {
        let first = usize::from(oid.as_bytes()[0]);
        let mut lo = if first == 0 {
            0
        } else {
            self.fanout[first - 1]
        };
        let mut hi = self.fanout[first];
        let count = u64::from(self.fanout[255]);
        let name_at = |i: u32| {
            if self.v2 {
                8 + 1024 + u64::from(i) * 20
            } else {
                1024 + u64::from(i) * 24 + 4
            }
        };
        let mut name = [0u8; 20];
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            pack::read_exact_at(&self.index, &mut name, name_at(mid))?;
            match name[..].cmp(oid.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.entry(mid, count).map(Some),
            }
        }
        Ok(None)
    }

    /// The offset and CRC32 of the index's `i`th entry.
    fn entry(&self, i: u32, count: u64) -> std::io::Result<(u64, Option<u32>)> {
        let i = u64::from(i);
        let mut word = [0u8; 4];
        if !self.v2 {
            pack::read_exact_at(&self.index, &mut word, 1024 + i * 24)?;
            return Ok((u64::from(u32::from_be_bytes(word)), None));
        }
        let crcs_at = 8 + 1024 + count * 20;
        let offsets_at = crcs_at + count * 4;
        pack::read_exact_at(&self.index, &mut word, crcs_at + i * 4)?;
        let crc = u32::from_be_bytes(word);
        pack::read_exact_at(&self.index, &mut word, offsets_at + i * 4)?;
        let small = u32::from_be_bytes(word);
        if small & 0x8000_0000 == 0 {
            return Ok((u64::from(small), Some(crc)));
        }
        let mut large = [0u8; 8];
        let at = offsets_at + count * 4 + u64::from(small & 0x7fff_ffff) * 8;
        pack::read_exact_at(&self.index, &mut large, at)?;
        Ok((u64::from_be_bytes(large), Some(crc)))
    }

    /// The header of the entry at `offset`.
    fn header(&self, offset: u64) -> Result<Header, DecodeError> {
        if offset < 12 {
            return Err(DecodeError::OffsetInHeader);
        }
        if offset >= self.data_end {
            return Err(DecodeError::OffsetPastEnd(offset));
        }
        let mut bytes = [0u8; pack::MAX_HEADER];
        let len = (self.data_end - offset).min(pack::MAX_HEADER as u64) as usize;
        pack::read_exact_at(&self.pack, &mut bytes[..len], offset).map_err(DecodeError::Read)?;
        pack::parse_header(&bytes[..len])
    }
}

/// Streams the blob at `offset` of `pack`: inflated piece by piece when it is stored whole, built from
/// its base first when it is a delta.
#[allow(clippy::too_many_arguments)]
fn stream_packed(
    packs: &[PackFile],
    dirs: &[PathBuf],
    pack: &PackFile,
    offset: u64,
    crc: Option<u32>,
    oid: Oid,
    overlap: usize,
    io: &mut Io<'_>,
    visit: &mut dyn FnMut(Piece<'_>),
) -> Result<(), BlobError> {
    let damaged = |offset: u64| {
        move |reason: DecodeError| BlobError::Pack {
            pack: pack.path.clone(),
            offset,
            reason,
        }
    };
    let header = pack.header(offset).map_err(damaged(offset))?;
    if header.base != Base::None {
        // The base whole (a delta's copies reach anywhere in it), the delta applied as it inflates.
        let (kind, base) = match header.base {
            Base::Distance(distance) if distance == 0 || distance > offset => {
                return Err(damaged(offset)(DecodeError::BaseDistance(distance)));
            }
            Base::Distance(distance) => {
                whole_packed(packs, dirs, pack, offset - distance, None, io, 1)?
            }
            Base::Id(base) => match pack.find(base) {
                Ok(Some((at, crc))) => whole_packed(packs, dirs, pack, at, crc, io, 1)?,
                Ok(None) => whole_by_id(packs, dirs, base, io, 1)?,
                Err(err) => return Err(damaged(offset)(DecodeError::Read(err))),
            },
            Base::None => unreachable!("a delta"),
        };
        if kind != ObjectKind::Blob {
            return Err(BlobError::Elsewhere(format!(
                "{oid} is a {}",
                kind.as_str()
            )));
        }
        let mut apply = DeltaStream::new(&base, header.size, overlap, visit);
        inflate_entry(pack, offset, &header, crc, io, &mut |bytes| {
            apply.feed(bytes)
        })
        .map_err(damaged(offset))?;
        let got = apply.finish().map_err(damaged(offset))?;
        return check_id(got, oid).map_err(damaged(offset));
    }
    if ObjectKind::from_pack_code(header.code) != Some(ObjectKind::Blob) {
        return Err(BlobError::Elsewhere(format!("{oid} is not a blob")));
    }
    let mut window = Window::new(header.size, overlap, visit);
    inflate_entry(pack, offset, &header, crc, io, &mut |bytes| {
        window.push(bytes)
    })
    .map_err(damaged(offset))?;
    check_id(window.finish(), oid).map_err(damaged(offset))
}

fn check_id(got: Oid, expected: Oid) -> Result<(), DecodeError> {
    if got == expected {
        Ok(())
    } else {
        Err(DecodeError::OtherObject(got))
    }
}

/// The object at `offset` of `pack`, whole: a delta is applied to its base, read whole the same way
/// (down a chain of at most [`MAX_CHAIN`] deltas; a base filed by id may be in another pack or loose).
fn whole_packed(
    packs: &[PackFile],
    dirs: &[PathBuf],
    pack: &PackFile,
    offset: u64,
    crc: Option<u32>,
    io: &mut Io<'_>,
    depth: usize,
) -> Result<(ObjectKind, Vec<u8>), BlobError> {
    let damaged = |offset: u64| {
        move |reason: DecodeError| BlobError::Pack {
            pack: pack.path.clone(),
            offset,
            reason,
        }
    };
    // The chain, from the object down to the entry stored whole (or a base filed elsewhere).
    let mut chain: Vec<(u64, Header, Option<u32>)> = Vec::new();
    let (mut at, mut at_crc) = (offset, crc);
    let (kind, mut data) = loop {
        if depth + chain.len() > MAX_CHAIN {
            return Err(damaged(at)(DecodeError::DeltaCorrupt(
                "its delta chain is deeper than git writes one",
            )));
        }
        let header = pack.header(at).map_err(damaged(at))?;
        match header.base {
            Base::None => {
                let kind = ObjectKind::from_pack_code(header.code)
                    .ok_or(DecodeError::UnknownType(header.code))
                    .map_err(damaged(at))?;
                let mut data = Vec::new();
                inflate_entry(pack, at, &header, at_crc, io, &mut |b| {
                    data.extend_from_slice(b)
                })
                .map_err(damaged(at))?;
                break (kind, data);
            }
            Base::Distance(distance) => {
                chain.push((at, header, at_crc));
                if distance == 0 || distance > at {
                    return Err(damaged(at)(DecodeError::BaseDistance(distance)));
                }
                // The index is not asked which id sits at the base's offset: no CRC32 for it, but the
                // blob's id, hashed at the end, covers every byte the chain produced.
                (at, at_crc) = (at - distance, None);
            }
            Base::Id(base) => {
                chain.push((at, header, at_crc));
                let found = pack
                    .find(base)
                    .map_err(|e| damaged(at)(DecodeError::Read(e)))?;
                match found {
                    Some((base_at, base_crc)) => (at, at_crc) = (base_at, base_crc),
                    None => break whole_by_id(packs, dirs, base, io, depth + chain.len())?,
                }
            }
        }
    };
    let mut delta = Vec::new();
    let mut out = Vec::new();
    let mut copies = Vec::new();
    for (at, header, crc) in chain.into_iter().rev() {
        delta.clear();
        inflate_entry(pack, at, &header, crc, io, &mut |b| {
            delta.extend_from_slice(b)
        })
        .map_err(damaged(at))?;
        pack::apply_delta(&data, &delta, &mut out, &mut copies).map_err(damaged(at))?;
        std::mem::swap(&mut data, &mut out);
    }
    Ok((kind, data))
}

/// A delta applied to its base as the delta inflates, its result handed over through a [`Window`]: the
/// base and a piece are held, not the result. Every check of [`pack::apply_delta`] is made, in its words.
struct DeltaStream<'b, 'v> {
    base: &'b [u8],
    /// The delta's declared size, and how much of it was fed.
    size: u64,
    fed: u64,
    overlap: usize,
    /// The two header sizes (source, then target) as they are read.
    sizes: [u64; 2],
    shift: u32,
    /// Which header size is being read (2: the header is done).
    reading: usize,
    /// A copy instruction's op byte and the argument bytes still to read, or an insert's length left.
    op: Option<u8>,
    args: Vec<u8>,
    insert: usize,
    produced: u64,
    visit: Option<&'v mut dyn FnMut(Piece<'_>)>,
    window: Option<Window<'v>>,
    error: Option<DecodeError>,
}

impl<'b, 'v> DeltaStream<'b, 'v> {
    fn new(
        base: &'b [u8],
        size: u64,
        overlap: usize,
        visit: &'v mut dyn FnMut(Piece<'_>),
    ) -> DeltaStream<'b, 'v> {
        DeltaStream {
            base,
            size,
            fed: 0,
            overlap,
            sizes: [0; 2],
            shift: 0,
            reading: 0,
            op: None,
            args: Vec::with_capacity(7),
            insert: 0,
            produced: 0,
            visit: Some(visit),
            window: None,
            error: None,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        if self.error.is_none() {
            if let Err(err) = self.apply(bytes) {
                self.error = Some(err);
            }
        }
    }

    fn apply(&mut self, mut bytes: &[u8]) -> Result<(), DecodeError> {
        let corrupt = |what: &'static str| Err(DecodeError::DeltaCorrupt(what));
        while let Some((&byte, rest)) = bytes.split_first() {
            if self.reading < 2 {
                bytes = rest;
                self.fed += 1;
                if self.shift > 63 {
                    return Err(DecodeError::DeltaHeaderOverflow);
                }
                self.sizes[self.reading] |= u64::from(byte & 0x7f) << self.shift;
                self.shift += 7;
                if byte & 0x80 == 0 {
                    self.reading += 1;
                    self.shift = 0;
                    if self.reading == 2 {
                        self.start()?;
                    }
                }
                continue;
            }
            let base = self.base;
            let window = self.window.as_mut().expect("opened with the header");
            if self.insert > 0 {
                let take = self.insert.min(bytes.len());
                self.produced += take as u64;
                if self.produced > self.sizes[1] {
                    return corrupt("the result grows past its declared size");
                }
                window.push(&bytes[..take]);
                self.insert -= take;
                self.fed += take as u64;
                bytes = &bytes[take..];
                continue;
            }
            bytes = rest;
            self.fed += 1;
            if self.op.is_some() {
                self.args.push(byte);
            } else if byte & 0x80 != 0 {
                self.op = Some(byte);
                self.args.clear();
            } else if byte != 0 {
                self.insert = usize::from(byte);
                continue;
            } else {
                return corrupt("reserved instruction 0");
            }
            if let Some(copied) = self.copy_if_complete()? {
                let window = self.window.as_mut().expect("opened with the header");
                window.push(&base[copied]);
            }
        }
        Ok(())
    }

    /// The header is read: checks the sizes against the base and the delta, opens the window.
    fn start(&mut self) -> Result<(), DecodeError> {
        let [source, target] = self.sizes;
        if source != self.base.len() as u64 {
            return Err(DecodeError::BaseSize {
                expected: source,
                actual: self.base.len() as u64,
            });
        }
        // Each instruction byte yields at most one base's worth (a copy) or 127 bytes (an insert).
        let most =
            (self.size.saturating_sub(self.fed)).saturating_mul((self.base.len() as u64).max(127));
        if target > most || target > pack::MAX_OBJECT_SIZE {
            return Err(DecodeError::DeltaTooLarge(target));
        }
        let visit = self.visit.take().expect("the header is read once");
        self.window = Some(Window::new(target, self.overlap, visit));
        Ok(())
    }

    /// What of the base to copy, once a copy instruction's argument bytes are all read.
    fn copy_if_complete(&mut self) -> Result<Option<std::ops::Range<usize>>, DecodeError> {
        let Some(op) = self.op else {
            return Ok(None);
        };
        let wanted = (0..7).filter(|bit| op & (1 << bit) != 0).count();
        if self.args.len() < wanted {
            return Ok(None);
        }
        let (mut offset, mut len, mut args) = (0usize, 0usize, self.args.iter());
        for bit in 0..7 {
            if op & (1 << bit) != 0 {
                let byte = usize::from(*args.next().expect("counted"));
                if bit < 4 {
                    offset |= byte << (8 * bit);
                } else {
                    len |= byte << (8 * (bit - 4));
                }
            }
        }
        if len == 0 {
            len = 0x10000;
        }
        self.op = None;
        let Some(end) = offset
            .checked_add(len)
            .filter(|end| *end <= self.base.len())
        else {
            return Err(DecodeError::DeltaCorrupt(
                "a copy reaches past the end of the base",
            ));
        };
        self.produced += len as u64;
        if self.produced > self.sizes[1] {
            return Err(DecodeError::DeltaCorrupt(
                "the result grows past its declared size",
            ));
        }
        Ok(Some(offset..end))
    }

    /// Hands over the last piece; returns the id of the result.
    fn finish(self) -> Result<Oid, DecodeError> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let Some(window) = self.window else {
            return Err(DecodeError::DeltaHeaderTruncated);
        };
        if self.op.is_some() {
            return Err(DecodeError::DeltaCorrupt("a copy instruction is cut short"));
        }
        if self.insert > 0 {
            return Err(DecodeError::DeltaCorrupt(
                "an insert instruction is cut short",
            ));
        }
        if self.produced != self.sizes[1] {
            return Err(DecodeError::DeltaSize {
                got: self.produced,
                declared: self.sizes[1],
            });
        }
        Ok(window.finish())
    }
}

/// A delta base filed by id outside the delta's pack, whole.
fn whole_by_id(
    packs: &[PackFile],
    dirs: &[PathBuf],
    oid: Oid,
    io: &mut Io<'_>,
    depth: usize,
) -> Result<(ObjectKind, Vec<u8>), BlobError> {
    for pack in packs {
        if let Ok(Some((offset, crc))) = pack.find(oid) {
            return whole_packed(packs, dirs, pack, offset, crc, io, depth);
        }
    }
    for dir in dirs {
        let path = odb::loose_path(dir, oid);
        if std::fs::symlink_metadata(&path).is_ok() {
            let mut out = Vec::new();
            let (kind, start) =
                odb::read_loose(&path, oid, pack::KindSet::ALL, io.inflater, &mut out)
                    .map_err(|reason| BlobError::Loose { path, reason })?;
            out.drain(..start);
            return Ok((kind, out));
        }
    }
    Err(BlobError::Elsewhere(format!(
        "the delta base {oid} is in no pack or loose file"
    )))
}

/// Inflates the entry at `offset` (its data must inflate to exactly `header.size` bytes), handing the
/// inflated bytes to `sink` a chunk at a time, reading its compressed bytes a chunk at a time. The
/// entry's header and compressed bytes must match `crc`, as the index records it: an entry ends where
/// its zlib stream does (git writes no gap between entries).
fn inflate_entry(
    pack: &PackFile,
    offset: u64,
    header: &Header,
    crc: Option<u32>,
    io: &mut Io<'_>,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<(), DecodeError> {
    let start = offset + header.len as u64;
    let room = pack.data_end.saturating_sub(start);
    let size = header.size;
    if size
        > room
            .saturating_mul(pack::MAX_INFLATE_RATIO)
            .saturating_add(pack::MAX_INFLATE_RATIO)
        || size > pack::MAX_OBJECT_SIZE
    {
        return Err(DecodeError::TooLarge {
            size,
            compressed: room,
        });
    }
    let mut hasher = crc32fast::Hasher::new();
    let mut head = [0u8; pack::MAX_HEADER];
    pack::read_exact_at(&pack.pack, &mut head[..header.len], offset).map_err(DecodeError::Read)?;
    hasher.update(&head[..header.len]);
    io.output.clear();
    io.output.reserve(CHUNK);
    io.inflater.reset(true);
    let (mut in_at, mut in_len, mut read_to, mut produced) = (0usize, 0usize, start, 0u64);
    loop {
        if in_at == in_len && read_to < pack.data_end {
            in_len = io.input.len().min((pack.data_end - read_to) as usize);
            pack::read_exact_at(&pack.pack, &mut io.input[..in_len], read_to)
                .map_err(DecodeError::Read)?;
            read_to += in_len as u64;
            in_at = 0;
        }
        io.output.clear();
        let before = io.inflater.total_in();
        let status = io
            .inflater
            .decompress_vec(&io.input[in_at..in_len], io.output, FlushDecompress::None)
            .map_err(DecodeError::Inflate)?;
        let consumed = (io.inflater.total_in() - before) as usize;
        hasher.update(&io.input[in_at..in_at + consumed]);
        in_at += consumed;
        produced += io.output.len() as u64;
        if produced > size {
            return Err(DecodeError::InflatesPast(size));
        }
        sink(io.output);
        if status == Status::StreamEnd {
            break;
        }
        let exhausted = in_at == in_len && read_to >= pack.data_end;
        if io.output.is_empty() && consumed == 0 && (exhausted || in_at < in_len) {
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
    if let Some(expected) = crc {
        let got = hasher.finalize();
        if got != expected {
            return Err(DecodeError::Crc { expected, got });
        }
    }
    Ok(())
}

/// Streams a loose blob (`zlib("blob <size>\0" + data)`) with every bound of [`odb::read_loose`]: a
/// regular file only, a header within its first bytes, a declared size its compressed bytes can
/// produce, no byte past it, and the id hashed from what was read. False, with nothing visited, when
/// the object is not a blob.
fn stream_loose(
    path: &Path,
    oid: Oid,
    overlap: usize,
    io: &mut Io<'_>,
    visit: &mut dyn FnMut(Piece<'_>),
) -> Result<bool, LooseError> {
    use std::io::Read;
    let not_regular = || {
        LooseError::Read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a regular file (a FIFO or a device would hang the read)",
        ))
    };
    // A FIFO or a device in place of the file would hang the read or fill memory.
    if !std::fs::metadata(path).map_err(LooseError::Read)?.is_file() {
        return Err(not_regular());
    }
    let mut file = File::open(path).map_err(LooseError::Read)?;
    let meta = file.metadata().map_err(LooseError::Read)?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    let compressed = meta.len();
    io.output.clear();
    io.output.reserve(CHUNK);
    io.inflater.reset(true);
    let (mut in_at, mut in_len, mut eof) = (0usize, 0usize, false);
    let mut header: Vec<u8> = Vec::with_capacity(odb::LOOSE_HEADER);
    let mut window: Option<Window<'_>> = None;
    let mut visit = Some(visit);
    let mut produced = 0u64;
    let mut size = 0u64;
    loop {
        if in_at == in_len && !eof {
            in_len = file.read(io.input).map_err(LooseError::Read)?;
            in_at = 0;
            eof = in_len == 0;
        }
        let flush = if eof {
            FlushDecompress::Finish
        } else {
            FlushDecompress::None
        };
        let out: &mut Vec<u8> = match window {
            Some(_) => &mut *io.output,
            None => &mut header,
        };
        let before = (io.inflater.total_in(), out.len());
        let status = io
            .inflater
            .decompress_vec(&io.input[in_at..in_len], out, flush)
            .map_err(LooseError::Inflate)?;
        let consumed = (io.inflater.total_in() - before.0) as usize;
        in_at += consumed;
        let progress = consumed > 0 || out.len() > before.1;
        match window.as_mut() {
            Some(window) => {
                produced += io.output.len() as u64;
                if produced > size {
                    return Err(LooseError::InflatesPast(size));
                }
                window.push(io.output);
                io.output.clear();
            }
            None => {
                let Some(nul) = header.iter().position(|b| *b == 0) else {
                    if header.len() >= odb::LOOSE_HEADER {
                        return Err(LooseError::BadHeader);
                    }
                    if status == Status::StreamEnd || (!progress && eof) {
                        return Err(LooseError::HeaderEndsEarly(header.len()));
                    }
                    continue;
                };
                let (kind, declared) = odb::parse_loose_header(&header[..nul])?;
                if kind != ObjectKind::Blob {
                    return Ok(false);
                }
                let bound = compressed
                    .saturating_mul(pack::MAX_INFLATE_RATIO)
                    .saturating_add(pack::MAX_INFLATE_RATIO);
                if declared > bound || declared > pack::MAX_OBJECT_SIZE {
                    return Err(LooseError::TooLarge {
                        size: declared,
                        compressed: compressed as usize,
                    });
                }
                size = declared;
                let visit = visit.take().expect("the window is opened once");
                let mut opened = Window::new(size, overlap, visit);
                let rest = &header[nul + 1..];
                produced = rest.len() as u64;
                if produced > size {
                    return Err(LooseError::InflatesPast(size));
                }
                opened.push(rest);
                window = Some(opened);
            }
        }
        if status == Status::StreamEnd {
            break;
        }
        if !progress && eof {
            return Err(LooseError::EndsEarly {
                got: produced as usize,
                size,
            });
        }
    }
    let Some(window) = window else {
        return Err(LooseError::HeaderEndsEarly(header.len()));
    };
    if produced != size {
        return Err(LooseError::EndsEarly {
            got: produced as usize,
            size,
        });
    }
    let got = window.finish();
    if got != oid {
        return Err(LooseError::OtherObject(got));
    }
    Ok(true)
}

/// The window a blob is handed over through: filled as bytes arrive, handed over when full and more
/// follow (then slid, keeping `overlap` bytes), and once more at the end. It hashes what passes through
/// as git names the blob, so the reader can check the id.
struct Window<'v> {
    data: Vec<u8>,
    cap: usize,
    overlap: usize,
    offset: u64,
    fresh: usize,
    total: u64,
    id: sha1::Sha1,
    visit: &'v mut dyn FnMut(Piece<'_>),
}

impl<'v> Window<'v> {
    /// A window for a blob of `total` bytes: a piece and the overlap, or the blob when it is smaller.
    fn new(total: u64, overlap: usize, visit: &'v mut dyn FnMut(Piece<'_>)) -> Window<'v> {
        use sha1::Digest;
        let cap = (pack::PIECE as u64 + overlap as u64).min(total) as usize;
        let mut id = sha1::Sha1::new();
        id.update(format!("blob {total}\0"));
        Window {
            data: Vec::with_capacity(cap),
            cap,
            overlap,
            offset: 0,
            fresh: 0,
            total,
            id,
            visit,
        }
    }

    /// Adds bytes (the reader has checked they do not run past `total`).
    fn push(&mut self, mut bytes: &[u8]) {
        use sha1::Digest;
        self.id.update(bytes);
        while !bytes.is_empty() {
            if self.data.len() >= self.cap {
                self.hand_over();
                pack::slide_window(
                    &mut self.data,
                    self.overlap,
                    &mut self.offset,
                    &mut self.fresh,
                );
            }
            let take = (self.cap - self.data.len()).min(bytes.len());
            if take == 0 {
                // Only a window smaller than its overlap could get here; the reader never makes one.
                self.cap = self.data.len() + bytes.len();
                continue;
            }
            self.data.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
    }

    fn hand_over(&mut self) {
        (self.visit)(Piece {
            data: &self.data,
            offset: self.offset,
            total: self.total,
            fresh: self.fresh,
        });
    }

    /// Hands over the last piece; returns the id of what passed through.
    fn finish(mut self) -> Oid {
        use sha1::Digest;
        self.hand_over();
        Oid::from_bytes(&self.id.finalize()).expect("20 bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "a")
            .env("GIT_AUTHOR_EMAIL", "a@example.com")
            .env("GIT_COMMITTER_NAME", "a")
            .env("GIT_COMMITTER_EMAIL", "a@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// The blob put back together from its pieces (each piece's bytes past what it repeats).
    fn streamed(repo: &Repo, oid: Oid) -> Result<Vec<u8>, BlobError> {
        let (mut out, mut pieces) = (Vec::new(), 0);
        repo.blob_reader().stream(oid, 16, &mut |piece| {
            pieces += 1;
            assert_eq!(piece.offset as usize + piece.fresh, out.len());
            out.extend_from_slice(&piece.data[piece.fresh..]);
        })?;
        assert_eq!(
            pieces,
            out.len().div_ceil(pack::PIECE).max(1),
            "{} bytes",
            out.len()
        );
        Ok(out)
    }

    /// Three versions of a file of `lines` lines, each a small change of the one before.
    fn repo_with_versions(lines: usize) -> (tempfile::TempDir, Vec<Oid>) {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        let mut text: String = (0..lines)
            .map(|i| format!("line {i} of the file\n"))
            .collect();
        let mut ids = Vec::new();
        for version in 0..3 {
            text.push_str(&format!("version {version}\n"));
            text = text.replacen(&format!("line {}", version * 7), "changed", 1);
            std::fs::write(dir.path().join("f.txt"), &text).unwrap();
            git(dir.path(), &["add", "f.txt"]);
            git(dir.path(), &["commit", "-q", "-m", "v"]);
            ids.push(Oid::from_str(git(dir.path(), &["rev-parse", "HEAD:f.txt"]).trim()).unwrap());
        }
        (dir, ids)
    }

    #[test]
    fn loose_packed_and_delta_blobs_read_as_libgit2_reads_them() {
        // Small ones come in one piece, large ones (past 8 MiB) in several.
        for lines in [3000, 500_000] {
            versions_read_as_libgit2_reads_them(lines);
        }
    }

    fn versions_read_as_libgit2_reads_them(lines: usize) {
        let (dir, ids) = repo_with_versions(lines);
        let repo = Repo::open(dir.path()).unwrap();
        for oid in &ids {
            assert_eq!(
                streamed(&repo, *oid).unwrap(),
                repo.read_blob(*oid).unwrap()
            );
        }
        git(
            dir.path(),
            &["repack", "-adfq", "--depth=50", "--window=10"],
        );
        let repo = Repo::open(dir.path()).unwrap();
        let idx = std::fs::read_dir(dir.path().join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))
            .unwrap();
        let verify = git(dir.path(), &["verify-pack", "-v", idx.to_str().unwrap()]);
        let deltas = ids
            .iter()
            .filter(|oid| {
                verify
                    .lines()
                    .any(|l| l.starts_with(&oid.to_string()) && l.split_whitespace().count() > 5)
            })
            .count();
        assert!(deltas >= 1, "some version is stored as a delta:\n{verify}");
        for oid in &ids {
            assert_eq!(
                streamed(&repo, *oid).unwrap(),
                repo.read_blob(*oid).unwrap()
            );
        }
        // Not ours to read: another kind, an id the database lacks.
        let head = Oid::from_str(git(dir.path(), &["rev-parse", "HEAD"]).trim()).unwrap();
        assert!(streamed(&repo, head).unwrap_err().read_elsewhere());
        assert!(streamed(&repo, Oid::from_bytes(&[7; 20]).unwrap())
            .unwrap_err()
            .read_elsewhere());
    }

    #[test]
    fn damaged_bytes_are_an_error_never_another_blob() {
        let (dir, ids) = repo_with_versions(3000);
        git(dir.path(), &["repack", "-adq", "--depth=0"]);
        let pack_dir = dir.path().join(".git/objects/pack");
        let idx = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))
            .unwrap();
        let verify = git(dir.path(), &["verify-pack", "-v", idx.to_str().unwrap()]);
        let oid = ids[2];
        let offset: usize = verify
            .lines()
            .find(|l| l.starts_with(&oid.to_string()))
            .and_then(|l| l.split_whitespace().nth(4))
            .unwrap()
            .parse()
            .unwrap();
        let pack = idx.with_extension("pack");
        let mut bytes = std::fs::read(&pack).unwrap();
        bytes[offset + 20] ^= 0x40;
        let mut perms = std::fs::metadata(&pack).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&pack, perms).unwrap();
        std::fs::write(&pack, &bytes).unwrap();
        let repo = Repo::open(dir.path()).unwrap();
        let err = streamed(&repo, oid).unwrap_err();
        assert!(!err.read_elsewhere(), "{err}");
        assert!(err.to_string().starts_with("pack entry at offset"), "{err}");
        // The index files the id at another blob's bytes (a flipped offset): the CRC32 tells.
        bytes[offset + 20] ^= 0x40;
        std::fs::write(&pack, &bytes).unwrap();
        let other: u32 = verify
            .lines()
            .find(|l| l.starts_with(&ids[1].to_string()))
            .and_then(|l| l.split_whitespace().nth(4))
            .unwrap()
            .parse()
            .unwrap();
        let mut index = std::fs::read(&idx).unwrap();
        let count =
            u32::from_be_bytes(index[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
        let names = &index[8 + 1024..8 + 1024 + count * 20];
        let at = names.chunks(20).position(|n| n == oid.as_bytes()).unwrap();
        let offsets = 8 + 1024 + count * 24;
        index[offsets + at * 4..offsets + at * 4 + 4].copy_from_slice(&other.to_be_bytes());
        let mut perms = std::fs::metadata(&idx).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&idx, perms).unwrap();
        std::fs::write(&idx, &index).unwrap();
        let err = streamed(&repo, oid).unwrap_err();
        assert!(err.to_string().contains("CRC32"), "{err}");
        assert!(!err.read_elsewhere(), "{err}");
    }
}
