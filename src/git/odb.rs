//! Listing and reading the object database: every object id (packed and loose, in alternates too), and
//! a parallel read of each exactly once. Packs go through our own reader ([`super::pack`]), loose objects
//! through a bounded inflater (`read_loose`), and libgit2 reads only what our reader refuses.

use super::pack::{self, KindSet, Lineage, ObjectKind, PackInput};
use super::{Error, Oid, Result};
use git2::ObjectType;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Every object in the database, grouped the way the pass reads them: pack by pack, then loose ones.
#[derive(Debug, Default, Clone)]
pub struct ObjectList {
    packs: Vec<PackObjects>,
    loose: Vec<Oid>,
    /// For each loose object, the objects directory (index into `dirs`) that holds it.
    loose_in: Vec<usize>,
    dirs: Vec<PathBuf>,
    len: usize,
    /// Every object read is hashed and must be the id it is filed under, and every pack's bytes must
    /// hash to its trailer (`--verify-object-ids`); see [`ObjectList::verify_object_ids`].
    verify_ids: bool,
}

#[derive(Debug, Clone)]
struct PackObjects {
    path: PathBuf,
    /// Shared with the lists [`ObjectList::only`] makes.
    entries: std::sync::Arc<[(Oid, u64)]>,
    /// Entries already listed by an earlier pack (empty when there are none).
    skip: Vec<bool>,
    /// `entries`' indices in pack order, sorted once for every pass over the pack.
    pack_order: std::sync::Arc<[u32]>,
    /// Each entry's CRC32 from the index (empty for a version 1 index), checked on every read.
    crcs: std::sync::Arc<[u32]>,
    /// What the index says the pack's trailer holds.
    checksum: [u8; 20],
    /// Whether the pack's bytes hash to its trailer (see [`pack::check_pack_trailer`]): decided
    /// by the first pass over the pack, while it reads, and kept for every later pass (shared with
    /// the lists [`ObjectList::only`] makes).
    trailer: std::sync::Arc<std::sync::OnceLock<Result<(), String>>>,
}

impl ObjectList {
    /// The number of distinct objects.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Checks every object's id as it is read, and every pack's whole checksum, on every pass over
    /// this list: what a repository consistent in every checksum but an id (a forged index, a crafted
    /// pack) cannot pass. It costs a SHA-1 of every object's bytes (2.4 times the pass's CPU on git's
    /// history, see docs/benchmarks.md); the CRC32s and trailers are checked either way.
    pub fn verify_object_ids(&mut self, on: bool) {
        self.verify_ids = on;
    }

    /// Whether the database holds no object at all (a fresh repository).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every listed object id (an id stored twice is listed once).
    pub(crate) fn ids(&self) -> impl Iterator<Item = Oid> + '_ {
        self.packs
            .iter()
            .flat_map(|p| {
                p.entries
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !p.skip.get(*i).copied().unwrap_or(false))
                    .map(|(_, (oid, _))| *oid)
            })
            .chain(self.loose.iter().copied())
    }

    /// The same database with only the objects `want` accepts listed: a pass over it visits those, and
    /// inflates another packed object only when one of them is a delta against it. For a pass that needs
    /// a known few (the trees provenance walks) instead of a kind's every object.
    pub fn only(&self, want: &(dyn Fn(&Oid) -> bool + Sync)) -> ObjectList {
        let mut list = self.clone();
        list.len = 0;
        for pack in &mut list.packs {
            let skip: Vec<bool> = pack
                .entries
                .iter()
                .enumerate()
                .map(|(i, (oid, _))| pack.skip.get(i).copied().unwrap_or(false) || !want(oid))
                .collect();
            list.len += skip.iter().filter(|skipped| !**skipped).count();
            pack.skip = skip;
        }
        let (loose, loose_in): (Vec<Oid>, Vec<usize>) = list
            .loose
            .iter()
            .zip(&list.loose_in)
            .filter(|(oid, _)| want(oid))
            .map(|(oid, dir)| (*oid, *dir))
            .unzip();
        list.len += loose.len();
        list.loose = loose;
        list.loose_in = loose_in;
        list
    }
}

/// Lists every object in the database: the ids and offsets from each pack index, then loose objects.
/// An object stored more than once is read from its first place (a pack before loose).
pub fn enumerate(objects_dirs: &[PathBuf]) -> Result<ObjectList> {
    let mut list = ObjectList::default();
    for dir in objects_dirs {
        let pack_dir = dir.join("pack");
        let mut idx_files: Vec<PathBuf> = match std::fs::read_dir(&pack_dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .collect(),
            Err(_) => Vec::new(),
        };
        idx_files.sort();
        for idx in idx_files {
            let path = idx.with_extension("pack");
            // An index without its pack is left over from an interrupted repack; git ignores it too.
            if !path.exists() {
                continue;
            }
            // Opening a FIFO waits for a writer, forever: only a regular file is a pack.
            if !std::fs::metadata(&path).is_ok_and(|meta| meta.is_file()) {
                return Err(Error::Damaged(format!(
                    "pack {} is not a regular file",
                    path.display()
                )));
            }
            let index = pack::read_index_file(&idx)?;
            list.packs.push(PackObjects {
                path,
                pack_order: pack::pack_order_of(&idx.with_extension("rev"), &index.entries).into(),
                entries: index.entries.into(),
                skip: Vec::new(),
                crcs: index.crcs.into(),
                checksum: index.pack_checksum,
                trailer: Default::default(),
            });
        }
        let found = loose_objects(dir)?;
        list.loose_in
            .extend(std::iter::repeat_n(list.dirs.len(), found.len()));
        list.loose.extend(found.into_iter().map(|(oid, _)| oid));
        list.dirs.push(dir.clone());
    }
    list.len = list.packs.iter().map(|p| p.entries.len()).sum::<usize>() + list.loose.len();
    drop_repeats(&mut list);
    Ok(list)
}

/// Lists each object once, where it is first stored (a pack before loose, an earlier pack or objects
/// directory before a later one): the others are marked skipped or left out.
fn drop_repeats(list: &mut ObjectList) {
    if list.packs.len() <= 1 && list.loose.is_empty() {
        return;
    }
    // The common case, one pack and some loose objects: nothing in the pack repeats, and each loose
    // object is looked for in the pack's index, whose ids git writes sorted (a hash set of 400,000 ids
    // took 40 ms). Several packs, or an index that is not sorted or lists an id twice, put every id
    // in the set.
    let one_sorted_pack = list.packs.len() <= 1
        && list
            .packs
            .iter()
            .all(|pack| pack.entries.windows(2).all(|w| w[0].0 < w[1].0));
    let mut seen = HashSet::new();
    if !one_sorted_pack {
        seen.reserve(list.len);
        for pack in &mut list.packs {
            let skip: Vec<bool> = pack
                .entries
                .iter()
                .map(|(oid, _)| !seen.insert(*oid))
                .collect();
            if skip.contains(&true) {
                pack.skip = skip;
            }
        }
    }
    let in_the_pack = |oid: &Oid| {
        one_sorted_pack
            && list
                .packs
                .first()
                .is_some_and(|p| p.entries.binary_search_by_key(oid, |(o, _)| *o).is_ok())
    };
    let (loose, loose_in): (Vec<Oid>, Vec<usize>) = list
        .loose
        .iter()
        .zip(&list.loose_in)
        .filter(|(oid, _)| !in_the_pack(oid) && seen.insert(**oid))
        .map(|(oid, dir)| (*oid, *dir))
        .unzip();
    list.loose = loose;
    list.loose_in = loose_in;
    let packed: usize = list
        .packs
        .iter()
        .map(|p| p.entries.len() - p.skip.iter().filter(|skipped| **skipped).count())
        .sum();
    list.len = packed + list.loose.len();
}

/// Loose objects: `objects/xx/yyyy…` files, with their sizes on disk.
fn loose_objects(dir: &Path) -> Result<Vec<(Oid, u64)>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(prefix) = name
            .to_str()
            .filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            continue;
        };
        let Ok(files) = std::fs::read_dir(entry.path()) else {
            continue;
        };
        for file in files.flatten() {
            if let Some(rest) = file.file_name().to_str() {
                if rest.len() == 38 {
                    if let Ok(oid) = Oid::from_str(&format!("{prefix}{rest}")) {
                        out.push((oid, file.metadata().map_or(0, |m| m.len())));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// An object as read from the database (its type and content), or why it could not be.
pub type ReadResult<'a> = Result<(ObjectKind, &'a [u8]), String>;

/// What a pass over the objects hands back: each worker's state, and notes for the report.
pub struct Passed<S> {
    /// One state per worker, as `init` made it and `visit` left it; merging them is the caller's job.
    pub states: Vec<S>,
    /// A pack our reader refused (its objects were read through libgit2 instead), and why.
    pub warnings: Vec<String>,
}

/// Reads every object once across `threads` workers and hands each to `visit` with that worker's state
/// (made by `init`). Returns the workers' states for the caller to merge. `progress` is called with the
/// number of objects done so far, from worker threads.
///
/// Every pass over the object database (the scan, the rewrite plan's uniqueness check) goes through
/// here, so the read strategy lives in one place.
pub fn for_each_object<S: Send>(
    git_dir: &Path,
    objects: &ObjectList,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    init: &(dyn Fn() -> S + Sync),
    visit: &(dyn Fn(&mut S, Oid, ReadResult<'_>) + Sync),
) -> Result<Vec<S>> {
    read_objects(
        git_dir,
        objects,
        KindSet::ALL,
        threads,
        progress,
        init,
        visit,
    )
    .map(|passed| passed.states)
}

/// [`for_each_object`] for the objects of some kinds only (a packed delta's kind is known before it is
/// inflated, so the others cost nothing), with the pass's warnings.
pub fn read_objects<S: Send>(
    git_dir: &Path,
    objects: &ObjectList,
    kinds: KindSet,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    init: &(dyn Fn() -> S + Sync),
    visit: &(dyn Fn(&mut S, Oid, ReadResult<'_>) + Sync),
) -> Result<Passed<S>> {
    let visit =
        |state: &mut S, oid: Oid, object: ReadResult<'_>, _: Lineage<'_>| visit(state, oid, object);
    let scope = PassScope {
        git_dir,
        objects,
        kinds,
        threads,
        progress,
    };
    read_objects_in_pieces(
        &scope,
        &Visitor {
            init,
            visit: &visit,
            pieces: None,
        },
    )
}

/// Which objects a pass reads: where the repository is, its listed objects and the kinds wanted, how
/// many workers read them, and whom to tell how many are done (called from worker threads).
pub(crate) struct PassScope<'a> {
    pub(crate) git_dir: &'a Path,
    pub(crate) objects: &'a ObjectList,
    pub(crate) kinds: KindSet,
    pub(crate) threads: usize,
    pub(crate) progress: &'a (dyn Fn(u64) + Sync),
}

/// What a pass does with what it reads: each worker's state (made by `init`), each whole object with
/// its [`Lineage`] to `visit`, and large packed or loose blobs to `pieces` in overlapping pieces (see
/// [`pack::traverse_in_pieces`]) instead of whole to `visit`.
pub(crate) struct Visitor<'a, S> {
    pub(crate) init: &'a (dyn Fn() -> S + Sync),
    pub(crate) visit: &'a (dyn Fn(&mut S, Oid, ReadResult<'_>, Lineage<'_>) + Sync),
    pub(crate) pieces: Option<&'a pack::Pieces<'a, S>>,
}

/// [`read_objects`] for `scope`, with each object handed to `visitor` (its [`Lineage`] told, large
/// blobs in pieces when the visitor takes them).
pub(crate) fn read_objects_in_pieces<S: Send>(
    scope: &PassScope<'_>,
    visitor: &Visitor<'_, S>,
) -> Result<Passed<S>> {
    let PassScope {
        git_dir,
        objects,
        kinds,
        threads,
        progress,
    } = *scope;
    let Visitor {
        init,
        visit,
        pieces,
    } = *visitor;
    let visit_whole =
        |state: &mut S, oid: Oid, object: ReadResult<'_>| visit(state, oid, object, Lineage::WHOLE);
    let mut states: Vec<S> = (0..threads.max(1)).map(|_| init()).collect();
    let done = AtomicU64::new(0);
    let advance = |n: u64| progress(done.fetch_add(n, Ordering::Relaxed) + n);
    let mut warnings = Vec::new();
    let mut by_libgit2: Vec<Oid> = Vec::new();
    // Objects our reader could not decode get a second chance through libgit2 (a REF_DELTA base in
    // another pack, say); if that fails too, both reasons are reported.
    let mut failed: HashMap<Oid, String> = HashMap::new();
    // Objects whose bytes are wrong (a CRC32 or trailer mismatch): another reader would take the same
    // bytes as they are, so they are reported as they are.
    let mut damaged: Vec<(Oid, String)> = Vec::new();
    for objects_of in &objects.packs {
        let input = PackInput {
            path: &objects_of.path,
            entries: &objects_of.entries,
            skip: &objects_of.skip,
            kinds,
            pack_order: &objects_of.pack_order,
            crcs: &objects_of.crcs,
            verify_ids: objects.verify_ids,
        };
        let visit_packed =
            |state: &mut S, oid: Oid, kind: ObjectKind, data: &[u8], lineage: Lineage<'_>| {
                visit(state, oid, Ok((kind, data)), lineage)
            };
        let listed = || {
            objects_of
                .entries
                .iter()
                .enumerate()
                .filter(|(i, _)| !objects_of.skip.get(*i).copied().unwrap_or(false))
                .map(|(_, (oid, _))| *oid)
        };
        // The pack's trailer must be the checksum its index records (git checks as much when it opens
        // a pack). The whole pack is hashed only when asked, or when its index records no CRC32s (a
        // version 1 index): every entry's CRC32 covers its bytes, and the index's own checksum covers
        // the CRC32s, so hashing the pack again finds nothing they miss but a forged CRC32 (see
        // docs/report-format.md). The hash runs on a thread of its own during the first pass over the pack,
        // while the workers decode; its answer is kept for the later passes.
        let index = pack::PackIndex {
            pack_checksum: objects_of.checksum,
            ..Default::default()
        };
        let whole = objects.verify_ids || objects_of.crcs.is_empty();
        if !whole && objects_of.trailer.get().is_none() {
            let _ =
                objects_of
                    .trailer
                    .set(pack::check_pack_trailer(&objects_of.path, &index, false));
        }
        let traversed = std::thread::scope(|scope| {
            let hashing = (objects_of.trailer.get().is_none())
                .then(|| scope.spawn(|| pack::check_pack_trailer(&objects_of.path, &index, true)));
            let traversed = match objects_of.trailer.get() {
                Some(Err(_)) => Ok(Vec::new()),
                _ => pack::traverse_in_pieces(&input, &mut states, &visit_packed, pieces, &advance),
            };
            if let Some(hashing) = hashing {
                let answer = hashing.join().expect("hashing does not panic");
                let _ = objects_of.trailer.set(answer);
            }
            traversed
        });
        if let Some(Err(why)) = objects_of.trailer.get() {
            damaged.extend(listed().map(|oid| (oid, why.clone())));
            continue;
        }
        match traversed {
            Ok(errors) => {
                for error in errors {
                    if error.retry {
                        failed.insert(error.oid, error.reason);
                    } else {
                        damaged.push((error.oid, error.reason));
                    }
                }
            }
            Err(err) => {
                warnings.push(format!(
                    "{}; its objects were read through libgit2 instead",
                    super::chain_text(&err)
                ));
                by_libgit2.extend(listed());
            }
        }
    }
    if !damaged.is_empty() {
        for (oid, reason) in damaged {
            visit_whole(&mut states[0], oid, Err(reason));
        }
    }
    read_loose_objects(objects, kinds, &mut states, &advance, &visit_whole, pieces);
    // libgit2 re-hashes every object it reads by default; the pass does not need that check (the
    // CRC32s and trailers cover damage; git fsck does it), and it costs as much as the inflation
    // itself. With `--verify-object-ids` it is wanted.
    if !by_libgit2.is_empty() || !failed.is_empty() {
        git2::opts::strict_hash_verification(objects.verify_ids);
    }
    let no_reasons = HashMap::new();
    read_with_libgit2(
        git_dir,
        &by_libgit2,
        &no_reasons,
        kinds,
        &mut states,
        &advance,
        &visit_whole,
    )?;
    let retry: Vec<Oid> = failed.keys().copied().collect();
    read_with_libgit2(
        git_dir,
        &retry,
        &failed,
        kinds,
        &mut states,
        &|_| {},
        &visit_whole,
    )?;
    Ok(Passed { states, warnings })
}

/// Reads `oids` through libgit2, one worker (with its own repository handle) per state. An object that
/// fails is reported with libgit2's reason, after ours from `failed` if we have one.
fn read_with_libgit2<S: Send>(
    git_dir: &Path,
    oids: &[Oid],
    failed: &HashMap<Oid, String>,
    kinds: KindSet,
    states: &mut [S],
    advance: &(dyn Fn(u64) + Sync),
    visit: &(dyn Fn(&mut S, Oid, ReadResult<'_>) + Sync),
) -> Result<()> {
    if oids.is_empty() {
        return Ok(());
    }

    const CHUNK: usize = 512;
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for local in states.iter_mut() {
            let (next, first_error) = (&next, &first_error);
            scope.spawn(move || {
                let result = (|| -> Result<()> {
                    let repo = git2::Repository::open(git_dir)
                        .map_err(Error::libgit2(format!("cannot open {}", git_dir.display())))?;
                    let odb = repo.odb()?;
                    loop {
                        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                        if start >= oids.len() {
                            break;
                        }
                        let end = (start + CHUNK).min(oids.len());
                        let mut counted = 0;
                        for oid in &oids[start..end] {
                            match odb.read((*oid).into()) {
                                Ok(object) => {
                                    if let Some(kind) =
                                        kind_of(object.kind()).filter(|k| kinds.contains(*k))
                                    {
                                        visit(local, *oid, Ok((kind, object.data())));
                                        counted += 1;
                                    }
                                }
                                Err(err) => {
                                    let reason = match failed.get(oid) {
                                        Some(ours) => format!("{ours}; libgit2: {}", err.message()),
                                        None => err.message().to_string(),
                                    };
                                    visit(local, *oid, Err(reason));
                                    counted += u64::from(kinds.contains(ObjectKind::Blob));
                                }
                            }
                        }
                        // Counted as loose objects are (see `read_loose_objects`).
                        advance(counted);
                    }
                    Ok(())
                })();
                if let Err(err) = result {
                    first_error
                        .lock()
                        .expect("no panics while merging")
                        .get_or_insert(err);
                }
            });
        }
    });
    match first_error.into_inner().expect("workers finished") {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// Reads the loose objects with [`read_loose`], one worker per state. Never through libgit2: its inflate
/// spins forever on a truncated zlib stream.
fn read_loose_objects<S: Send>(
    objects: &ObjectList,
    kinds: KindSet,
    states: &mut [S],
    advance: &(dyn Fn(u64) + Sync),
    visit: &(dyn Fn(&mut S, Oid, ReadResult<'_>) + Sync),
    pieces: Option<&pack::Pieces<'_, S>>,
) {
    // A loose file this small cannot inflate past `PIECES_ABOVE`: it is read whole without a look.
    let may_be_large = |path: &Path| {
        std::fs::metadata(path)
            .is_ok_and(|meta| meta.len().saturating_mul(MAX_INFLATE_RATIO) > pack::PIECES_ABOVE)
    };
    if objects.loose.is_empty() {
        return;
    }
    const CHUNK: usize = 256;
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for local in states.iter_mut() {
            let next = &next;
            scope.spawn(move || {
                let mut inflater = flate2::Decompress::new(true);
                let mut buffer = Vec::new();
                loop {
                    let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                    if start >= objects.loose.len() {
                        break;
                    }
                    let end = (start + CHUNK).min(objects.loose.len());
                    let mut counted = 0;
                    for i in start..end {
                        let oid = objects.loose[i];
                        let path = loose_path(&objects.dirs[objects.loose_in[i]], oid);
                        // A large blob goes to the pieces visitor as it is inflated, like a packed
                        // one: a 1 GiB loose blob costs a piece, not 1 GiB (twice, compressed and not).
                        let large = pieces
                            .filter(|_| kinds.contains(ObjectKind::Blob) && may_be_large(&path));
                        if let Some(pieces) = large {
                            let mut to_visitor =
                                |piece: pack::Piece<'_>| (pieces.visit)(local, oid, piece);
                            match stream_loose_blob(
                                &path,
                                oid,
                                &mut inflater,
                                pieces.overlap,
                                &mut to_visitor,
                            ) {
                                Ok(true) => continue,
                                Ok(false) => {}
                                Err(reason) => {
                                    visit(local, oid, Err(reason.to_string()));
                                    continue;
                                }
                            }
                        }
                        match read_loose(&path, oid, kinds, &mut inflater, &mut buffer) {
                            Ok((kind, at)) => {
                                if kinds.contains(kind) {
                                    visit(local, oid, Ok((kind, &buffer[at..])));
                                    counted += 1;
                                }
                            }
                            Err(reason) => {
                                visit(local, oid, Err(reason.to_string()));
                                counted += u64::from(kinds.contains(ObjectKind::Blob));
                            }
                        }
                        if buffer.capacity() > KEEP_BUFFER {
                            buffer = Vec::new();
                        }
                    }
                    // Like a pack's, a pass counts only the objects of its kinds: the scan reads loose
                    // objects once per pass (their kind is in their bytes), and its two passes add up to
                    // the total. An unreadable one is counted by the pass that reads blobs.
                    advance(counted);
                }
            });
        }
    });
}

/// A worker's buffer that grew past this for one large object is dropped after it.
const KEEP_BUFFER: usize = 16 << 20;
/// A loose object's header (`blob 12345\0`) is never longer than this.
pub(crate) const LOOSE_HEADER: usize = 32;
/// Objects larger than this are treated as corrupt sizes rather than allocated (as in packs).
const MAX_OBJECT_SIZE: u64 = 16 << 30;
/// Deflate cannot expand more than 1032 to 1; a declared size beyond that is a lie.
const MAX_INFLATE_RATIO: u64 = 1032;

pub(crate) fn loose_path(dir: &Path, oid: Oid) -> PathBuf {
    let hex = oid.to_string();
    dir.join(&hex[..2]).join(&hex[2..])
}

/// Why a loose object cannot be read. The pass reports it as text, so each message reads as it did
/// when these were strings.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LooseError {
    #[error("cannot read its loose file: {0}")]
    Read(std::io::Error),
    #[error("its zlib data is corrupt ({0})")]
    Inflate(flate2::DecompressError),
    #[error("its header is not `<kind> <size>`")]
    BadHeader,
    #[error("its zlib data ends early ({0} bytes inflated, no complete header; truncated loose object?)")]
    HeaderEndsEarly(usize),
    #[error("its header is not text")]
    HeaderNotText,
    #[error("its header names no object kind")]
    NoKind,
    #[error("its header has no valid size")]
    BadSize,
    #[error("its declared size {size} cannot come from {compressed} compressed bytes")]
    TooLarge { size: u64, compressed: usize },
    #[error("it inflates to more than the {0} bytes its header says")]
    InflatesPast(u64),
    #[error("its zlib data ends early ({got} of {size} bytes; truncated loose object?)")]
    EndsEarly { got: usize, size: u64 },
    #[error("its file holds object {0}, not the one its name says (`git fsck` reports the same)")]
    OtherObject(Oid),
}

/// Reads one loose object (`zlib("<kind> <size>\0" + data)`) into `out` with an inflater that is
/// bounded at every step: the header must parse within [`LOOSE_HEADER`] bytes, the declared size must be
/// one the compressed bytes can produce, and inflation stops at that size (plus one byte to see a longer
/// stream) or when the input stops making progress. Returns the kind and where the data starts in `out`.
///
/// The object is hashed as git names it (header and data) and must be `expected`: a loose file holding
/// another valid object is damage, not that object. An object whose kind is not in `wanted` is not
/// inflated past its header (a tree pass does not read a 1 GiB blob): its kind is returned, with no data.
pub(crate) fn read_loose(
    path: &Path,
    expected: Oid,
    wanted: KindSet,
    inflater: &mut flate2::Decompress,
    out: &mut Vec<u8>,
) -> Result<(ObjectKind, usize), LooseError> {
    use flate2::{FlushDecompress, Status};
    // A FIFO or a device in place of the file would hang the read or fill memory.
    let input = crate::util::fs::read_regular(path, MAX_OBJECT_SIZE).map_err(LooseError::Read)?;
    inflater.reset(true);
    out.clear();
    out.reserve(LOOSE_HEADER);
    let corrupt = LooseError::Inflate;
    // The header first: at most LOOSE_HEADER bytes of output.
    let mut status = Status::Ok;
    while out.len() < LOOSE_HEADER && !out.contains(&0) {
        let before = (inflater.total_in(), inflater.total_out());
        let consumed = inflater.total_in() as usize;
        let limit = (LOOSE_HEADER - out.len()).min(out.capacity() - out.len());
        let mut chunk = Vec::with_capacity(limit);
        status = inflater
            .decompress_vec(&input[consumed..], &mut chunk, FlushDecompress::Finish)
            .map_err(corrupt)?;
        out.extend_from_slice(&chunk);
        if status == Status::StreamEnd || (inflater.total_in(), inflater.total_out()) == before {
            break;
        }
    }
    let Some(nul) = out.iter().position(|b| *b == 0) else {
        return Err(if out.len() >= LOOSE_HEADER {
            LooseError::BadHeader
        } else {
            LooseError::HeaderEndsEarly(out.len())
        });
    };
    let (kind, size) = parse_loose_header(&out[..nul])?;
    if !wanted.contains(kind) {
        out.clear();
        return Ok((kind, 0));
    }
    let bound = (input.len() as u64)
        .saturating_mul(MAX_INFLATE_RATIO)
        .saturating_add(MAX_INFLATE_RATIO);
    if size > bound || size > MAX_OBJECT_SIZE {
        return Err(LooseError::TooLarge {
            size,
            compressed: input.len(),
        });
    }
    let start = nul + 1;
    let total = start + size as usize;
    // One spare byte shows a stream that inflates to more than declared.
    out.reserve_exact((total + 1).saturating_sub(out.len()));
    while status != Status::StreamEnd && out.len() <= total {
        let before = (inflater.total_in(), inflater.total_out());
        let consumed = (inflater.total_in() as usize).min(input.len());
        status = inflater
            .decompress_vec(&input[consumed..], out, FlushDecompress::Finish)
            .map_err(corrupt)?;
        if (inflater.total_in(), inflater.total_out()) == before || out.len() == out.capacity() {
            break;
        }
    }
    if out.len() > total {
        return Err(LooseError::InflatesPast(size));
    }
    if status != Status::StreamEnd || out.len() != total {
        return Err(LooseError::EndsEarly {
            got: out.len() - start,
            size,
        });
    }
    let got = Oid::from_bytes(&pack::sha1_of(out)).expect("20 bytes");
    if got != expected {
        return Err(LooseError::OtherObject(got));
    }
    Ok((kind, start))
}

/// A loose object's header (`<kind> <size>`, without its NUL) as its kind and declared size.
pub(crate) fn parse_loose_header(header: &[u8]) -> Result<(ObjectKind, u64), LooseError> {
    let header = std::str::from_utf8(header).map_err(|_| LooseError::HeaderNotText)?;
    let (kind, size) = header.split_once(' ').ok_or(LooseError::BadHeader)?;
    let kind = match kind {
        "blob" => ObjectKind::Blob,
        "tree" => ObjectKind::Tree,
        "commit" => ObjectKind::Commit,
        "tag" => ObjectKind::Tag,
        _ => return Err(LooseError::NoKind),
    };
    let size: u64 = size.parse().map_err(|_| LooseError::BadSize)?;
    Ok((kind, size))
}

/// Compressed bytes read at a time from a large loose object.
const LOOSE_INPUT: usize = 1 << 20;

/// A loose file read a piece at a time.
struct LooseInput {
    file: std::fs::File,
    buffer: Vec<u8>,
    at: usize,
    len: usize,
    eof: bool,
}

impl LooseInput {
    /// Refills the buffer when it is used up.
    fn fill(&mut self) -> Result<(), LooseError> {
        use std::io::Read;
        if self.at == self.len && !self.eof {
            self.len = self.file.read(&mut self.buffer).map_err(LooseError::Read)?;
            self.at = 0;
            self.eof = self.len == 0;
        }
        Ok(())
    }

    /// Inflates what is buffered into `out` (up to its capacity); returns the status and whether
    /// anything was consumed or produced.
    fn inflate(
        &mut self,
        inflater: &mut flate2::Decompress,
        out: &mut Vec<u8>,
    ) -> Result<(flate2::Status, bool), LooseError> {
        let flush = if self.eof {
            flate2::FlushDecompress::Finish
        } else {
            flate2::FlushDecompress::None
        };
        let (before_in, before_out) = (inflater.total_in(), out.len());
        let status = inflater
            .decompress_vec(&self.buffer[self.at..self.len], out, flush)
            .map_err(LooseError::Inflate)?;
        let consumed = (inflater.total_in() - before_in) as usize;
        self.at += consumed;
        Ok((status, consumed > 0 || out.len() > before_out))
    }
}

/// Reads a loose blob larger than [`pack::PIECES_ABOVE`] in pieces (`PIECE` bytes and the overlap
/// held, [`LOOSE_INPUT`] compressed bytes read at a time), handing each to `visit`, and checks its id
/// as it goes (header and data hashed, as git names it). Returns false, having visited nothing, when
/// the object is not such a blob (the caller reads it whole); every bound of [`read_loose`] holds.
fn stream_loose_blob(
    path: &Path,
    expected: Oid,
    inflater: &mut flate2::Decompress,
    overlap: usize,
    visit: &mut dyn FnMut(pack::Piece<'_>),
) -> Result<bool, LooseError> {
    use flate2::Status;
    use sha1::Digest;
    let file = std::fs::File::open(path).map_err(LooseError::Read)?;
    let meta = file.metadata().map_err(LooseError::Read)?;
    if !meta.is_file() {
        return Ok(false);
    }
    let compressed = meta.len();
    let mut input = LooseInput {
        file,
        buffer: vec![0u8; LOOSE_INPUT.min(compressed as usize).max(1)],
        at: 0,
        len: 0,
        eof: false,
    };
    inflater.reset(true);
    let mut header: Vec<u8> = Vec::with_capacity(LOOSE_HEADER);
    let mut status = Status::Ok;
    while header.len() < LOOSE_HEADER && !header.contains(&0) && status != Status::StreamEnd {
        input.fill()?;
        let (now, progress) = input.inflate(inflater, &mut header)?;
        status = now;
        if !progress && input.eof {
            break;
        }
    }
    let Some(nul) = header.iter().position(|b| *b == 0) else {
        return Ok(false);
    };
    let (kind, size) = parse_loose_header(&header[..nul])?;
    if kind != ObjectKind::Blob || size <= pack::PIECES_ABOVE {
        return Ok(false);
    }
    let bound = compressed
        .saturating_mul(MAX_INFLATE_RATIO)
        .saturating_add(MAX_INFLATE_RATIO);
    if size > bound || size > MAX_OBJECT_SIZE {
        return Err(LooseError::TooLarge {
            size,
            compressed: compressed as usize,
        });
    }
    let mut hasher = sha1::Sha1::new();
    hasher.update(&header[..=nul]);
    let mut window: Vec<u8> = Vec::with_capacity(PIECE + overlap);
    window.extend_from_slice(&header[nul + 1..]);
    hasher.update(&window);
    let (mut offset, mut fresh, mut produced) = (0u64, 0usize, window.len() as u64);
    loop {
        if produced > size {
            return Err(LooseError::InflatesPast(size));
        }
        let done = status == Status::StreamEnd;
        if done || window.len() == window.capacity() {
            visit(pack::Piece {
                data: &window,
                offset,
                total: size,
                fresh,
            });
            if done {
                break;
            }
            pack::slide_window(&mut window, overlap, &mut offset, &mut fresh);
        }
        input.fill()?;
        let before = window.len();
        let (now, progress) = input.inflate(inflater, &mut window)?;
        status = now;
        hasher.update(&window[before..]);
        produced += (window.len() - before) as u64;
        if !progress && input.eof && status != Status::StreamEnd {
            return Err(LooseError::EndsEarly {
                got: produced as usize,
                size,
            });
        }
    }
    if produced != size {
        return Err(LooseError::EndsEarly {
            got: produced as usize,
            size,
        });
    }
    let got = Oid::from_bytes(&hasher.finalize()).expect("20 bytes");
    if got != expected {
        return Err(LooseError::OtherObject(got));
    }
    Ok(true)
}

/// The size of each piece of a large loose blob (before its overlap), as for packed ones.
const PIECE: usize = 8 << 20;

pub(crate) fn kind_of(kind: ObjectType) -> Option<ObjectKind> {
    match kind {
        ObjectType::Commit => Some(ObjectKind::Commit),
        ObjectType::Tree => Some(ObjectKind::Tree),
        ObjectType::Blob => Some(ObjectKind::Blob),
        ObjectType::Tag => Some(ObjectKind::Tag),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// Reads `bytes` as a loose object filed under the id of `raw` (`<kind> <size>\0<data>`).
    fn read_as(bytes: &[u8], raw: &[u8]) -> Result<(ObjectKind, Vec<u8>), LooseError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("object");
        std::fs::write(&path, bytes).unwrap();
        let mut out = Vec::new();
        let expected = Oid::from_bytes(&pack::sha1_of(raw)).unwrap();
        let (kind, at) = read_loose(
            &path,
            expected,
            KindSet::ALL,
            &mut flate2::Decompress::new(true),
            &mut out,
        )?;
        Ok((kind, out[at..].to_vec()))
    }

    fn read(bytes: &[u8]) -> Result<(ObjectKind, Vec<u8>), LooseError> {
        read_as(bytes, b"")
    }

    #[test]
    fn a_loose_file_holding_another_object_is_damage() {
        let (one, other) = (b"blob 4\0one\n".to_vec(), b"blob 6\0other\n".to_vec());
        assert_eq!(
            read_as(&zlib(&one), &one).unwrap(),
            (ObjectKind::Blob, b"one\n".to_vec())
        );
        let err = read_as(&zlib(&other), &one).unwrap_err().to_string();
        assert!(err.contains("holds object"), "{err}");
    }

    #[test]
    fn reads_a_loose_object_and_rejects_every_truncation() {
        let body = b"some text that is a blob\n".repeat(40);
        let mut raw = format!("blob {}\0", body.len()).into_bytes();
        raw.extend_from_slice(&body);
        let file = zlib(&raw);
        assert_eq!(
            read_as(&file, &raw).unwrap(),
            (ObjectKind::Blob, body.clone())
        );
        for len in 0..file.len() {
            assert!(
                read(&file[..len]).is_err(),
                "cut at {len} of {}",
                file.len()
            );
        }
    }

    #[test]
    fn rejects_lying_headers() {
        for (raw, why) in [
            (b"blob 5\0abc".to_vec(), "ends early"),
            (b"blob 2\0abcdef".to_vec(), "more than"),
            (b"blob 99999999999\0abc".to_vec(), "cannot come from"),
            (b"blub 3\0abc".to_vec(), "no object kind"),
            (b"blob x\0abc".to_vec(), "no valid size"),
            ([b'a'; 64].to_vec(), "not `<kind> <size>`"),
        ] {
            let err = read(&zlib(&raw)).unwrap_err().to_string();
            assert!(
                err.contains(why),
                "{}: {err}",
                String::from_utf8_lossy(&raw)
            );
        }
        let err = read(b"not zlib at all").unwrap_err().to_string();
        assert!(err.contains("corrupt"), "{err}");
    }
}
