//! The bulk pass: list every object in the object database (packed and loose, reachable or not, and in
//! alternates), read each exactly once across worker threads, and search it.
//!
//! Packs are read by [`crate::git::pack`], which inflates every entry once and resolves each delta from a
//! base it still holds; loose objects by [`read_loose`], an inflater bounded by the size the header
//! declares (libgit2's spins forever on a truncated loose object). libgit2 reads only a pack our reader
//! refuses, because its pack reads serialize on internal locks and resolve delta chains again for every
//! object.

use super::matcher::{Hit, Matcher};
use super::patterns::PatternSet;
use crate::git::pack::{self, KindSet, ObjectKind, PackInput};
use crate::git::Oid;
use anyhow::{Context, Result};
use git2::ObjectType;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Every object in the database, grouped the way the pass reads them: pack by pack, then loose ones.
#[derive(Debug, Default)]
pub struct ObjectList {
    packs: Vec<PackObjects>,
    loose: Vec<Oid>,
    /// For each loose object, the objects directory (index into `dirs`) that holds it.
    loose_in: Vec<usize>,
    dirs: Vec<PathBuf>,
    len: usize,
}

#[derive(Debug)]
struct PackObjects {
    path: PathBuf,
    entries: Vec<(Oid, u64)>,
    /// Entries already listed by an earlier pack (empty when there are none).
    skip: Vec<bool>,
}

impl ObjectList {
    /// The number of distinct objects.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every listed object id (an id stored twice is listed once).
    pub fn ids(&self) -> impl Iterator<Item = Oid> + '_ {
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
            list.packs.push(PackObjects {
                path,
                entries: pack::read_index(&idx)?,
                skip: Vec::new(),
            });
        }
        let found = loose_objects(dir)?;
        list.loose_in
            .extend(std::iter::repeat_n(list.dirs.len(), found.len()));
        list.loose.extend(found.into_iter().map(|(oid, _)| oid));
        list.dirs.push(dir.clone());
    }
    list.len = list.packs.iter().map(|p| p.entries.len()).sum::<usize>() + list.loose.len();
    if list.packs.len() > 1 || !list.loose.is_empty() {
        let mut seen = HashSet::with_capacity(list.len);
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
        let (loose, loose_in): (Vec<Oid>, Vec<usize>) = list
            .loose
            .iter()
            .zip(&list.loose_in)
            .filter(|(oid, _)| seen.insert(**oid))
            .map(|(oid, dir)| (*oid, *dir))
            .unzip();
        list.loose = loose;
        list.loose_in = loose_in;
        list.len = seen.len();
    }
    Ok(list)
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

/// What the bulk pass keeps of a commit: enough for provenance without reading it again.
#[derive(Debug, Clone)]
pub struct CommitRecord {
    pub oid: Oid,
    pub tree: Oid,
    pub parents: Vec<Oid>,
    pub commit_time: i64,
}

/// What the bulk pass keeps of an annotated tag.
#[derive(Debug, Clone)]
pub struct TagRecord {
    pub oid: Oid,
    pub target: Oid,
}

/// An object that holds at least one needle.
#[derive(Debug, Clone)]
pub struct ObjectHits {
    pub oid: Oid,
    pub kind: ObjectType,
    pub hits: Vec<Hit>,
    /// For commits and tags: where the message starts, so hits can be told apart from headers.
    pub message_start: usize,
}

/// A provider-pattern match found by the pass: which object, which rule, and the matched value (a
/// secret: it lives only in memory, wiped on drop, and becomes a [`crate::secret::Secret`]).
pub struct PatternValue {
    pub oid: Oid,
    pub rule: u32,
    pub value: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for PatternValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternValue")
            .field("oid", &self.oid)
            .field("rule", &self.rule)
            .finish_non_exhaustive()
    }
}

/// An object the pass could not read (corrupt, or missing from a partial clone).
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub oid: Oid,
    pub reason: String,
}

/// Everything the bulk pass learned.
#[derive(Debug, Default)]
pub struct PassResult {
    pub commits: Vec<CommitRecord>,
    pub tags: Vec<TagRecord>,
    pub hits: Vec<ObjectHits>,
    /// Audit only: provider-pattern matches.
    pub pattern_values: Vec<PatternValue>,
    pub unreadable: Vec<Unreadable>,
    pub objects: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub lfs_pointers: u64,
    pub largest_blob: u64,
    /// Packs that had to be read the slow way, and why.
    pub warnings: Vec<String>,
}

/// An object as read from the database (its type and content), or why it could not be.
pub type ReadResult<'a> = Result<(ObjectType, &'a [u8]), String>;

/// What a pass over the objects hands back: each worker's state, and notes for the report.
pub struct Passed<S> {
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
    let mut states: Vec<S> = (0..threads.max(1)).map(|_| init()).collect();
    let done = AtomicU64::new(0);
    let advance = |n: u64| progress(done.fetch_add(n, Ordering::Relaxed) + n);
    let mut warnings = Vec::new();
    let mut by_libgit2: Vec<Oid> = Vec::new();
    // Objects our reader could not decode get a second chance through libgit2 (a REF_DELTA base in
    // another pack, say); if that fails too, both reasons are reported.
    let mut failed: HashMap<Oid, String> = HashMap::new();
    for objects_of in &objects.packs {
        let input = PackInput {
            path: &objects_of.path,
            entries: &objects_of.entries,
            skip: &objects_of.skip,
            kinds,
        };
        let visit_packed = |state: &mut S, oid: Oid, kind: ObjectKind, data: &[u8]| {
            visit(state, oid, Ok((kind.to_git2(), data)))
        };
        match pack::traverse(&input, &mut states, &visit_packed, &advance) {
            Ok(errors) => failed.extend(errors.into_iter().map(|e| (e.oid, e.reason))),
            Err(err) => {
                warnings.push(format!(
                    "{err:#}; its objects were read through libgit2 instead"
                ));
                by_libgit2.extend(
                    objects_of
                        .entries
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !objects_of.skip.get(*i).copied().unwrap_or(false))
                        .map(|(_, (oid, _))| *oid),
                );
            }
        }
    }
    read_loose_objects(objects, kinds, &mut states, &advance, visit);
    let no_reasons = HashMap::new();
    read_with_libgit2(
        git_dir,
        &by_libgit2,
        &no_reasons,
        kinds,
        &mut states,
        &advance,
        visit,
    )?;
    let retry: Vec<Oid> = failed.keys().copied().collect();
    read_with_libgit2(git_dir, &retry, &failed, kinds, &mut states, &|_| {}, visit)?;
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
    // libgit2 re-hashes every object it reads by default; the pass does not need that check (git fsck
    // does it), and it costs as much as the inflation itself.
    git2::opts::strict_hash_verification(false);

    const CHUNK: usize = 512;
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for local in states.iter_mut() {
            let (next, first_error) = (&next, &first_error);
            scope.spawn(move || {
                let result = (|| -> Result<()> {
                    let repo = git2::Repository::open(git_dir)
                        .with_context(|| format!("cannot open {}", git_dir.display()))?;
                    let odb = repo.odb()?;
                    loop {
                        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                        if start >= oids.len() {
                            break;
                        }
                        let end = (start + CHUNK).min(oids.len());
                        for oid in &oids[start..end] {
                            match odb.read(*oid) {
                                Ok(object) => {
                                    if kind_of(object.kind()).is_some_and(|k| kinds.contains(k)) {
                                        visit(local, *oid, Ok((object.kind(), object.data())));
                                    }
                                }
                                Err(err) => {
                                    let reason = match failed.get(oid) {
                                        Some(ours) => format!("{ours}; libgit2: {}", err.message()),
                                        None => err.message().to_string(),
                                    };
                                    visit(local, *oid, Err(reason))
                                }
                            }
                        }
                        advance((end - start) as u64);
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
) {
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
                    for i in start..end {
                        let oid = objects.loose[i];
                        let path = loose_path(&objects.dirs[objects.loose_in[i]], oid);
                        match read_loose(&path, &mut inflater, &mut buffer) {
                            Ok((kind, at)) => {
                                if kinds.contains(kind) {
                                    visit(local, oid, Ok((kind.to_git2(), &buffer[at..])));
                                }
                            }
                            Err(reason) => visit(local, oid, Err(reason)),
                        }
                        if buffer.capacity() > KEEP_BUFFER {
                            buffer = Vec::new();
                        }
                    }
                    advance((end - start) as u64);
                }
            });
        }
    });
}

/// A worker's buffer that grew past this for one large object is dropped after it.
const KEEP_BUFFER: usize = 16 << 20;
/// A loose object's header (`blob 12345\0`) is never longer than this.
const LOOSE_HEADER: usize = 32;
/// Objects larger than this are treated as corrupt sizes rather than allocated (as in packs).
const MAX_OBJECT_SIZE: u64 = 16 << 30;
/// Deflate cannot expand more than 1032 to 1; a declared size beyond that is a lie.
const MAX_INFLATE_RATIO: u64 = 1032;

fn loose_path(dir: &Path, oid: Oid) -> PathBuf {
    let hex = oid.to_string();
    dir.join(&hex[..2]).join(&hex[2..])
}

/// Reads one loose object (`zlib("<kind> <size>\0" + data)`) into `out` with an inflater that is
/// bounded at every step: the header must parse within [`LOOSE_HEADER`] bytes, the declared size must be
/// one the compressed bytes can produce, and inflation stops at that size (plus one byte to see a longer
/// stream) or when the input stops making progress. Returns the kind and where the data starts in `out`.
pub fn read_loose(
    path: &Path,
    inflater: &mut flate2::Decompress,
    out: &mut Vec<u8>,
) -> Result<(ObjectKind, usize), String> {
    use flate2::{FlushDecompress, Status};
    let input = std::fs::read(path).map_err(|e| format!("cannot read its loose file: {e}"))?;
    inflater.reset(true);
    out.clear();
    out.reserve(LOOSE_HEADER);
    let corrupt = |e: flate2::DecompressError| format!("its zlib data is corrupt ({e})");
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
            "its header is not `<kind> <size>`".into()
        } else {
            format!(
                "its zlib data ends early ({} bytes inflated, no complete header; truncated loose object?)",
                out.len()
            )
        });
    };
    let header =
        std::str::from_utf8(&out[..nul]).map_err(|_| "its header is not text".to_string())?;
    let (kind, size) = header
        .split_once(' ')
        .ok_or_else(|| "its header is not `<kind> <size>`".to_string())?;
    let kind = match kind {
        "blob" => ObjectKind::Blob,
        "tree" => ObjectKind::Tree,
        "commit" => ObjectKind::Commit,
        "tag" => ObjectKind::Tag,
        _ => return Err("its header names no object kind".into()),
    };
    let size: u64 = size
        .parse()
        .map_err(|_| "its header has no valid size".to_string())?;
    let bound = (input.len() as u64)
        .saturating_mul(MAX_INFLATE_RATIO)
        .saturating_add(MAX_INFLATE_RATIO);
    if size > bound || size > MAX_OBJECT_SIZE {
        return Err(format!(
            "its declared size {size} cannot come from {} compressed bytes",
            input.len()
        ));
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
        return Err(format!(
            "it inflates to more than the {size} bytes its header says"
        ));
    }
    if status != Status::StreamEnd || out.len() != total {
        return Err(format!(
            "its zlib data ends early ({} of {size} bytes; truncated loose object?)",
            out.len() - start
        ));
    }
    Ok((kind, start))
}

fn kind_of(kind: ObjectType) -> Option<ObjectKind> {
    match kind {
        ObjectType::Commit => Some(ObjectKind::Commit),
        ObjectType::Tree => Some(ObjectKind::Tree),
        ObjectType::Blob => Some(ObjectKind::Blob),
        ObjectType::Tag => Some(ObjectKind::Tag),
        _ => None,
    }
}

/// The scan's pass: every object searched with `matcher`, commits and tags parsed for provenance.
pub fn bulk_pass(
    git_dir: &Path,
    objects: &ObjectList,
    matcher: &Matcher,
    patterns: Option<&PatternSet>,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PassResult> {
    let (result, _) = bulk_pass_with(
        git_dir,
        objects,
        KindSet::ALL,
        matcher,
        patterns,
        threads,
        progress,
        &|| (),
        &|_, _, _| {},
    )?;
    Ok(result)
}

/// [`bulk_pass`] over the objects of `kinds` only, also handing each tree it reads to `on_tree` with a
/// per-worker state from `init`: provenance records what it needs of trees in the same read instead
/// of reading every tree again.
#[allow(clippy::too_many_arguments)]
pub fn bulk_pass_with<T: Send>(
    git_dir: &Path,
    objects: &ObjectList,
    kinds: KindSet,
    matcher: &Matcher,
    patterns: Option<&PatternSet>,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    init: &(dyn Fn() -> T + Sync),
    on_tree: &(dyn Fn(&mut T, Oid, &[u8]) + Sync),
) -> Result<(PassResult, Vec<T>)> {
    let passed = read_objects(
        git_dir,
        objects,
        kinds,
        threads,
        progress,
        &|| (PassResult::default(), Scratch::default(), init()),
        &|(local, scratch, extra), oid, object| {
            if let Ok((ObjectType::Tree, data)) = object {
                on_tree(extra, oid, data);
            }
            read_one(object, oid, matcher, patterns, scratch, local)
        },
    )?;
    let mut result = PassResult {
        warnings: passed.warnings,
        ..PassResult::default()
    };
    let mut extras = Vec::new();
    for (local, _, extra) in passed.states {
        merge(&mut result, local);
        extras.push(extra);
    }
    // Workers finish in any order; sort so reports are stable run to run.
    result.hits.sort_by_key(|h| h.oid);
    result.commits.sort_by_key(|c| c.oid);
    result.unreadable.sort_by_key(|u| u.oid);
    Ok((result, extras))
}

/// Per-worker buffers reused for every object, so the hot loop does not allocate.
#[derive(Default)]
struct Scratch {
    hits: Vec<Hit>,
    pattern_hits: Vec<super::patterns::PatternHit>,
}

fn read_one(
    object: ReadResult<'_>,
    oid: Oid,
    matcher: &Matcher,
    patterns: Option<&PatternSet>,
    scratch: &mut Scratch,
    local: &mut PassResult,
) {
    let (kind, data) = match object {
        Ok(object) => object,
        Err(reason) => {
            local.unreadable.push(Unreadable { oid, reason });
            return;
        }
    };
    local.objects += 1;
    local.bytes += data.len() as u64;
    let mut message_start = 0;
    match kind {
        ObjectType::Blob => {
            local.blobs += 1;
            local.largest_blob = local.largest_blob.max(data.len() as u64);
            if data.starts_with(b"version https://git-lfs.github.com/spec/") {
                local.lfs_pointers += 1;
            }
        }
        ObjectType::Commit => match parse_commit(oid, data) {
            Some((record, start)) => {
                message_start = start;
                local.commits.push(record);
            }
            None => local.unreadable.push(Unreadable {
                oid,
                reason: "commit headers cannot be parsed".into(),
            }),
        },
        ObjectType::Tag => {
            message_start = header_end(data);
            if let Some(target) = header_value(data, b"object ").and_then(parse_oid) {
                local.tags.push(TagRecord { oid, target });
            }
        }
        _ => {}
    }
    let hits = &mut scratch.hits;
    hits.clear();
    matcher.find_all(data, hits);
    if !hits.is_empty() {
        local.hits.push(ObjectHits {
            oid,
            kind,
            hits: hits.clone(),
            message_start,
        });
    }
    if let Some(patterns) = patterns {
        scratch.pattern_hits.clear();
        patterns.find_all(data, &mut scratch.pattern_hits);
        for hit in &scratch.pattern_hits {
            local.pattern_values.push(PatternValue {
                oid,
                rule: hit.rule,
                value: zeroize::Zeroizing::new(data[hit.start..hit.end].to_vec()),
            });
        }
    }
}

/// Searches a few objects again with `matcher` (after audit found new values to search for).
pub fn search_again(
    repo: &crate::git::Repo,
    oids: &[Oid],
    matcher: &Matcher,
) -> Result<Vec<ObjectHits>> {
    let odb = repo.git.odb()?;
    let mut out = Vec::new();
    let mut hits = Vec::new();
    for oid in oids {
        let Ok(object) = odb.read(*oid) else { continue };
        hits.clear();
        matcher.find_all(object.data(), &mut hits);
        if hits.is_empty() {
            continue;
        }
        let message_start = match object.kind() {
            ObjectType::Commit | ObjectType::Tag => header_end(object.data()),
            _ => 0,
        };
        out.push(ObjectHits {
            oid: *oid,
            kind: object.kind(),
            hits: hits.clone(),
            message_start,
        });
    }
    Ok(out)
}

/// Adds what `from` learned to `into` (worker states, or two passes over different kinds).
pub fn merge(into: &mut PassResult, from: PassResult) {
    into.commits.extend(from.commits);
    into.tags.extend(from.tags);
    into.hits.extend(from.hits);
    into.pattern_values.extend(from.pattern_values);
    into.unreadable.extend(from.unreadable);
    into.objects += from.objects;
    into.blobs += from.blobs;
    into.bytes += from.bytes;
    into.lfs_pointers += from.lfs_pointers;
    into.largest_blob = into.largest_blob.max(from.largest_blob);
}

/// Parses the headers of a raw commit: tree, parents, committer time; returns where the message starts.
fn parse_commit(oid: Oid, data: &[u8]) -> Option<(CommitRecord, usize)> {
    let end = header_end(data);
    let mut tree = None;
    let mut parents = Vec::new();
    let mut commit_time = 0;
    for line in data[..end].split(|b| *b == b'\n') {
        if let Some(v) = line.strip_prefix(b"tree ") {
            tree = parse_oid(v);
        } else if let Some(v) = line.strip_prefix(b"parent ") {
            parents.push(parse_oid(v)?);
        } else if let Some(v) = line.strip_prefix(b"committer ") {
            commit_time = parse_signature_time(v).unwrap_or(0);
        }
    }
    Some((
        CommitRecord {
            oid,
            tree: tree?,
            parents,
            commit_time,
        },
        end,
    ))
}

/// Offset of the message: just past the blank line that ends the headers.
fn header_end(data: &[u8]) -> usize {
    memchr::memmem::find(data, b"\n\n").map_or(data.len(), |i| i + 2)
}

fn header_value<'a>(data: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    data[..header_end(data)]
        .split(|b| *b == b'\n')
        .find_map(|line| line.strip_prefix(name))
}

fn parse_oid(hex: &[u8]) -> Option<Oid> {
    std::str::from_utf8(hex.get(..40)?)
        .ok()
        .and_then(|s| Oid::from_str(s).ok())
}

/// `Name <email> 1700000000 +0100` -> 1700000000.
fn parse_signature_time(sig: &[u8]) -> Option<i64> {
    let after_email = &sig[memchr::memrchr(b'>', sig)? + 1..];
    let text = std::str::from_utf8(after_email).ok()?;
    text.split_whitespace().next()?.parse().ok()
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

    fn read(bytes: &[u8]) -> Result<(ObjectKind, Vec<u8>), String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("object");
        std::fs::write(&path, bytes).unwrap();
        let mut out = Vec::new();
        let (kind, at) = read_loose(&path, &mut flate2::Decompress::new(true), &mut out)?;
        Ok((kind, out[at..].to_vec()))
    }

    #[test]
    fn reads_a_loose_object_and_rejects_every_truncation() {
        let body = b"some text that is a blob\n".repeat(40);
        let mut raw = format!("blob {}\0", body.len()).into_bytes();
        raw.extend_from_slice(&body);
        let file = zlib(&raw);
        assert_eq!(read(&file).unwrap(), (ObjectKind::Blob, body.clone()));
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
            let err = read(&zlib(&raw)).unwrap_err();
            assert!(
                err.contains(why),
                "{}: {err}",
                String::from_utf8_lossy(&raw)
            );
        }
        let err = read(b"not zlib at all").unwrap_err();
        assert!(err.contains("corrupt"), "{err}");
    }
}
