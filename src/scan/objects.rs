//! The bulk pass: list every object in the object database (packed and loose, reachable or not, and in
//! alternates), read each exactly once in pack order across worker threads, and search it.
//!
//! Pack order matters: reading objects in the order they sit in the pack lets each delta find its base in
//! the cache, while hash order makes every read resolve a delta chain from scratch. We read pack `.idx`
//! files directly to get that order; libgit2's own iteration is in hash order.

use super::matcher::{Hit, Matcher};
use super::patterns::PatternSet;
use anyhow::{bail, Context, Result};
use git2::{ObjectType, Oid};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Loose objects sort after every pack.
const LOOSE: u32 = u32::MAX;

/// Every object id in the database, in the order the bulk pass reads them.
pub fn enumerate(objects_dirs: &[PathBuf]) -> Result<Vec<Oid>> {
    let mut located: Vec<(u32, u64, Oid)> = Vec::new();
    let mut pack_number = 0u32;
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
            // An index without its pack is left over from an interrupted repack; git ignores it too.
            if !idx.with_extension("pack").exists() {
                continue;
            }
            for (oid, offset) in read_pack_index(&idx)? {
                located.push((pack_number, offset, oid));
            }
            pack_number += 1;
        }
        for (oid, _) in loose_objects(dir)? {
            located.push((LOOSE, 0, oid));
        }
    }
    // The same object may sit in several packs or both packed and loose: keep its first place.
    if pack_number > 1 || located.iter().any(|(p, _, _)| *p == LOOSE) {
        located.sort_unstable_by_key(|(pack, offset, oid)| (*oid, *pack, *offset));
        located.dedup_by_key(|(_, _, oid)| *oid);
    }
    located.sort_unstable_by_key(|(pack, offset, _)| (*pack, *offset));
    Ok(located.into_iter().map(|(_, _, oid)| oid).collect())
}

/// Reads a version 2 pack index: object ids and their offsets in the pack.
fn read_pack_index(path: &Path) -> Result<Vec<(Oid, u64)>> {
    let data = std::fs::read(path)
        .with_context(|| format!("cannot read pack index {}", path.display()))?;
    let corrupt = || format!("pack index {} is truncated or corrupt", path.display());
    if data.len() < 8 + 256 * 4 || &data[..4] != b"\xfftOc" || u32_at(&data, 4) != 2 {
        bail!(
            "{}: not a version 2 pack index (run `git repack -a -d` to rewrite it)",
            path.display()
        );
    }
    let count = u32_at(&data, 8 + 255 * 4) as usize;
    let oids_at = 8 + 256 * 4;
    let crc_at = oids_at + count * 20;
    let offsets_at = crc_at + count * 4;
    let large_at = offsets_at + count * 4;
    if data.len() < large_at {
        bail!(corrupt());
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let oid = Oid::from_bytes(&data[oids_at + i * 20..oids_at + (i + 1) * 20])?;
        let small = u32_at(&data, offsets_at + i * 4);
        let offset = if small & 0x8000_0000 == 0 {
            u64::from(small)
        } else {
            let at = large_at + (small & 0x7fff_ffff) as usize * 8;
            if data.len() < at + 8 {
                bail!(corrupt());
            }
            u64::from_be_bytes(data[at..at + 8].try_into().expect("8 bytes"))
        };
        out.push((oid, offset));
    }
    Ok(out)
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"))
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
}

/// An object as read from the database, or why it could not be.
pub type ReadResult<'odb> = Result<git2::OdbObject<'odb>, git2::Error>;

/// Reads every object once across `threads` workers, each with its own repository handle, and hands
/// each one to `visit` with that worker's state (made by `init`). Returns the workers' states for the
/// caller to merge. `progress` is called with the number of objects done so far, from worker threads.
///
/// Every pass over the object database (the scan, the rewrite plan's uniqueness check) goes through
/// here, so the read strategy lives in one place.
pub fn for_each_object<S: Send>(
    git_dir: &Path,
    order: &[Oid],
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    init: &(dyn Fn() -> S + Sync),
    visit: &(dyn Fn(&mut S, Oid, ReadResult<'_>) + Sync),
) -> Result<Vec<S>> {
    // libgit2 re-hashes every object it reads by default; the pass does not need that check (git fsck
    // does it), and it costs as much as the inflation itself.
    git2::opts::strict_hash_verification(false);

    const CHUNK: usize = 512;
    let next = AtomicUsize::new(0);
    let done = AtomicU64::new(0);
    let states = Mutex::new(Vec::new());
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);

    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let result = (|| -> Result<S> {
                    let repo = git2::Repository::open(git_dir)
                        .with_context(|| format!("cannot open {}", git_dir.display()))?;
                    let odb = repo.odb()?;
                    let mut local = init();
                    loop {
                        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                        if start >= order.len() {
                            break;
                        }
                        let end = (start + CHUNK).min(order.len());
                        for oid in &order[start..end] {
                            visit(&mut local, *oid, odb.read(*oid));
                        }
                        let count = (end - start) as u64;
                        progress(done.fetch_add(count, Ordering::Relaxed) + count);
                    }
                    Ok(local)
                })();
                match result {
                    Ok(local) => states.lock().expect("no panics while merging").push(local),
                    Err(err) => {
                        first_error
                            .lock()
                            .expect("no panics while merging")
                            .get_or_insert(err);
                    }
                }
            });
        }
    });
    if let Some(err) = first_error.into_inner().expect("workers finished") {
        return Err(err);
    }
    Ok(states.into_inner().expect("workers finished"))
}

/// The scan's pass: every object searched with `matcher`, commits and tags parsed for provenance.
pub fn bulk_pass(
    git_dir: &Path,
    order: &[Oid],
    matcher: &Matcher,
    patterns: Option<&PatternSet>,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PassResult> {
    let states = for_each_object(
        git_dir,
        order,
        threads,
        progress,
        &|| (PassResult::default(), Scratch::default()),
        &|(local, scratch), oid, object| read_one(object, oid, matcher, patterns, scratch, local),
    )?;
    let mut result = PassResult::default();
    for (local, _) in states {
        merge(&mut result, local);
    }
    // Workers finish in any order; sort so reports are stable run to run.
    result.hits.sort_by_key(|h| h.oid);
    result.commits.sort_by_key(|c| c.oid);
    result.unreadable.sort_by_key(|u| u.oid);
    Ok(result)
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
    let object = match object {
        Ok(object) => object,
        Err(err) => {
            local.unreadable.push(Unreadable {
                oid,
                reason: err.message().to_string(),
            });
            return;
        }
    };
    let data = object.data();
    let kind = object.kind();
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
    repo: &super::repo::Repo,
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

fn merge(into: &mut PassResult, from: PassResult) {
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

/// Object ids that git would consider present (for the count check in tests and warnings).
pub fn unique_count(order: &[Oid]) -> usize {
    order.iter().collect::<HashSet<_>>().len()
}
