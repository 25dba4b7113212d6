//! The bulk pass: list every object in the object database (packed and loose, reachable or not, and in
//! alternates), read each exactly once across worker threads, and search it.
//!
//! Objects are listed and read by [`crate::git::odb`]: packs by our own reader, which inflates every
//! entry once and resolves each delta from a base it still holds; loose objects by a bounded inflater
//! (libgit2's spins forever on a truncated loose object); libgit2 only for a pack our reader refuses.

use crate::git::format::{header_end, header_value, parse_oid, parse_signature_time};
use crate::git::odb::{read_objects_in_pieces, ObjectList, PassScope, ReadResult, Visitor};
use crate::git::pack::{self, Copied, KindSet, Lineage, ObjectKind};
use crate::git::Oid;
use crate::matching::delta::{carry, Carried, ChangedBytes};
use crate::matching::{Detector, Hit};
use anyhow::Result;
use std::path::Path;

/// What the bulk pass keeps of a commit: enough for provenance without reading it again.
#[derive(Debug, Clone)]
pub struct CommitRecord {
    /// The commit's id.
    pub oid: Oid,
    /// Its root tree: where the walk for introduced tokens starts.
    pub tree: Oid,
    /// Its parents, in order (the first is the mainline).
    pub parents: Vec<Oid>,
    /// Committer time, seconds since the epoch: orders findings (oldest introduction first).
    pub commit_time: i64,
}

/// What the bulk pass keeps of an annotated tag.
#[derive(Debug, Clone)]
pub struct TagRecord {
    /// The tag object's id.
    pub oid: Oid,
    /// What it names (a commit, or another tag): refs to tags are peeled through these.
    pub target: Oid,
}

/// An object that holds at least one needle.
#[derive(Debug, Clone)]
pub struct ObjectHits {
    /// The object holding the needles.
    pub oid: Oid,
    /// Blob, tree (a token in a file name), commit or tag (in the message or a header).
    pub kind: ObjectKind,
    /// Every needle found, with its byte range.
    pub hits: Vec<Hit>,
    /// For commits and tags: where the message starts, so hits can be told apart from headers.
    pub message_start: usize,
}

/// A provider-pattern match found by the pass: which object, which rule, and the matched value (a
/// secret: it lives only in memory, wiped on drop, and becomes a [`crate::secret::Secret`]).
pub struct PatternValue {
    /// The object the value was found in.
    pub oid: Oid,
    /// The index of the provider rule that matched, in the pattern set.
    pub rule: u32,
    /// The matched value itself (never shown: it becomes a redacted, fingerprinted secret).
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
    /// The object that could not be read.
    pub oid: Oid,
    /// Why, in the reader's words (ours, then libgit2's when it was asked too).
    pub reason: String,
}

/// Everything the bulk pass learned.
#[derive(Debug, Default)]
pub struct PassResult {
    /// Every commit read (reachable or not).
    pub commits: Vec<CommitRecord>,
    /// Every annotated tag read.
    pub tags: Vec<TagRecord>,
    /// The objects holding a needle; sorted by id once the pass is done.
    pub hits: Vec<ObjectHits>,
    /// Audit only: provider-pattern matches.
    pub pattern_values: Vec<PatternValue>,
    /// Objects that could not be read: any makes the answer incomplete.
    pub unreadable: Vec<Unreadable>,
    /// Objects read.
    pub objects: u64,
    /// Blobs among them.
    pub blobs: u64,
    /// Inflated bytes searched.
    pub bytes: u64,
    /// Blobs that are Git LFS pointers (their content lives elsewhere and was not searched).
    pub lfs_pointers: u64,
    /// Packs that had to be read the slow way, and why.
    pub warnings: Vec<String>,
}

/// The scan's pass: every object searched with `known` (and with `discover`, whose matched values are
/// kept), commits and tags parsed for provenance.
pub fn bulk_pass(
    git_dir: &Path,
    objects: &ObjectList,
    known: &dyn Detector,
    discover: Option<&dyn Detector>,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PassResult> {
    let scope = PassScope {
        git_dir,
        objects,
        kinds: KindSet::ALL,
        threads,
        progress,
    };
    let (result, _) = bulk_pass_with(
        &scope,
        Detectors {
            known,
            discover,
            discover_names: discover,
        },
        &TreeHook {
            init: &|| (),
            on_tree: &|_, _| {},
        },
    )?;
    Ok(result)
}

/// What the pass searches every object with: `known` (the given tokens' needles) and, for audit,
/// `discover` (provider patterns, whose matched values are kept).
#[derive(Clone, Copy)]
pub(crate) struct Detectors<'a> {
    pub(crate) known: &'a dyn Detector,
    pub(crate) discover: Option<&'a dyn Detector>,
    /// `discover` for tree objects: only what a file name can hold (`PatternSet::in_names`).
    pub(crate) discover_names: Option<&'a dyn Detector>,
}

impl Detectors<'_> {
    /// How far a large blob's pieces overlap: the longest match either detector can make.
    fn overlap(&self) -> usize {
        self.known
            .overlap()
            .max(self.discover.map_or(0, |d| d.overlap()))
    }
}

/// One tree as the pass read it: its id, its raw bytes, and how it was made from the base the same
/// worker read before it (its [`Lineage`]).
#[derive(Clone, Copy)]
pub(crate) struct ReadTree<'a> {
    pub(crate) oid: Oid,
    pub(crate) data: &'a [u8],
    pub(crate) lineage: Lineage<'a>,
}

/// What [`bulk_pass_with`] hands each tree to, with a worker's state.
pub(crate) type TreeVisitor<'a, T> = dyn Fn(&mut T, ReadTree<'_>) + Sync + 'a;

/// Each tree the pass reads, handed to `on_tree` with a per-worker state made by `init`.
pub(crate) struct TreeHook<'a, T> {
    pub(crate) init: &'a (dyn Fn() -> T + Sync),
    pub(crate) on_tree: &'a TreeVisitor<'a, T>,
}

/// [`bulk_pass`] over the objects of `scope` (of its kinds only), also handing each tree it reads to
/// `trees`: provenance records what it needs of trees in the same read instead of reading every tree
/// again.
pub(crate) fn bulk_pass_with<T: Send>(
    scope: &PassScope<'_>,
    detectors: Detectors<'_>,
    trees: &TreeHook<'_, T>,
) -> Result<(PassResult, Vec<T>)> {
    // A large blob is searched in pieces that overlap by the longest match: the longest needle, or a
    // provider pattern's longest plausible value.
    let pieces = pack::Pieces {
        visit: &|(local, scratch, _): &mut (PassResult, Scratch, T), oid, piece| {
            read_piece(piece, oid, detectors, scratch, local)
        },
        overlap: detectors.overlap(),
    };
    let passed = read_objects_in_pieces(
        scope,
        &Visitor {
            init: &|| (PassResult::default(), Scratch::default(), (trees.init)()),
            visit: &|(local, scratch, extra), oid, object, lineage| {
                if let Ok((ObjectKind::Tree, data)) = object {
                    (trees.on_tree)(extra, ReadTree { oid, data, lineage });
                }
                read_one(object, oid, lineage, detectors, scratch, local)
            },
            pieces: Some(&pieces),
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
    discovered: Vec<Hit>,
    /// Per delta depth: what the object last read at that depth kept of its literal occurrences (for
    /// `known`, then `discover`), which its deltas carry over (see [`Lineage`]).
    levels: Vec<[Carried; 2]>,
    changed: ChangedBytes,
}

/// Searches `data` with `detector`, keeping its literal occurrences in `level` for the object's deltas
/// (see [`carry`]), and appends the matches to `hits`.
fn search(
    detector: &dyn Detector,
    data: &[u8],
    delta: Option<(&[Copied], &Carried)>,
    changed: &mut ChangedBytes,
    level: &mut Carried,
    hits: &mut Vec<Hit>,
) {
    match carry(detector, data, delta, changed, level) {
        Some(starts) => detector.confirm(data, starts, hits),
        None => detector.find_all(data, hits),
    }
}

/// Searches one whole object with `detectors` (a delta around what it changed, see [`Lineage`]) and
/// keeps what provenance needs of a commit or tag.
fn read_one(
    object: ReadResult<'_>,
    oid: Oid,
    lineage: Lineage<'_>,
    Detectors {
        known,
        discover,
        discover_names,
    }: Detectors<'_>,
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
        ObjectKind::Blob => {
            local.blobs += 1;
            if data.starts_with(b"version https://git-lfs.github.com/spec/") {
                local.lfs_pointers += 1;
            }
        }
        ObjectKind::Commit => match parse_commit(oid, data) {
            Some((record, start)) => {
                message_start = start;
                local.commits.push(record);
            }
            None => local.unreadable.push(Unreadable {
                oid,
                reason: "commit headers cannot be parsed".into(),
            }),
        },
        ObjectKind::Tag => {
            message_start = header_end(data);
            if let Some(target) = header_value(data, b"object ").and_then(parse_oid) {
                local.tags.push(TagRecord { oid, target });
            }
        }
        _ => {}
    }
    let (here, base) = lineage.slots(&mut scratch.levels);
    let delta = |detector: usize| base.map(|(copies, base)| (copies, &base[detector]));
    let hits = &mut scratch.hits;
    hits.clear();
    search(
        known,
        data,
        delta(0),
        &mut scratch.changed,
        &mut here[0],
        hits,
    );
    if !hits.is_empty() {
        local.hits.push(ObjectHits {
            oid,
            kind,
            hits: hits.clone(),
            message_start,
        });
    }
    // A tree's deltas are trees (a delta has its base's kind), so what a delta carries from its base
    // was found by the same detector.
    let discover = if kind == ObjectKind::Tree {
        discover_names
    } else {
        discover
    };
    if let Some(discover) = discover {
        scratch.discovered.clear();
        let found = &mut scratch.discovered;
        search(
            discover,
            data,
            delta(1),
            &mut scratch.changed,
            &mut here[1],
            found,
        );
        for hit in &scratch.discovered {
            local.pattern_values.push(PatternValue {
                oid,
                rule: hit.needle,
                value: discover.token(data, hit),
            });
        }
    }
}

/// [`read_one`] for one piece of a large blob (see [`pack::Piece`]): counted once, searched piece by
/// piece, match offsets made absolute, and matches within the overlap already seen skipped.
fn read_piece(
    piece: pack::Piece<'_>,
    oid: Oid,
    Detectors {
        known, discover, ..
    }: Detectors<'_>,
    scratch: &mut Scratch,
    local: &mut PassResult,
) {
    let data = piece.data;
    let at = piece.offset as usize;
    if piece.offset == 0 {
        local.objects += 1;
        local.blobs += 1;
        local.bytes += piece.total;
    }
    let hits = &mut scratch.hits;
    hits.clear();
    known.find_all(data, hits);
    let fresh: Vec<Hit> = hits
        .iter()
        .filter(|h| h.end > piece.fresh)
        .map(|h| Hit {
            start: h.start + at,
            end: h.end + at,
            ..*h
        })
        .collect();
    if !fresh.is_empty() {
        match local.hits.last_mut() {
            Some(last) if last.oid == oid => last.hits.extend(fresh),
            _ => local.hits.push(ObjectHits {
                oid,
                kind: ObjectKind::Blob,
                hits: fresh,
                message_start: 0,
            }),
        }
    }
    if let Some(discover) = discover {
        scratch.discovered.clear();
        discover.find_all(data, &mut scratch.discovered);
        for hit in scratch.discovered.iter().filter(|h| h.end > piece.fresh) {
            local.pattern_values.push(PatternValue {
                oid,
                rule: hit.needle,
                value: discover.token(data, hit),
            });
        }
    }
}

/// Searches a few objects again with `known` (after audit found new values to search for).
pub fn search_again(
    repo: &crate::git::Repo,
    oids: &[Oid],
    known: &dyn Detector,
) -> Result<Vec<ObjectHits>> {
    let mut out = Vec::new();
    let mut hits = Vec::new();
    for oid in oids {
        let Some((kind, data)) = repo.read_object(*oid) else {
            continue;
        };
        hits.clear();
        known.find_all(&data, &mut hits);
        if hits.is_empty() {
            continue;
        }
        let message_start = match kind {
            ObjectKind::Commit | ObjectKind::Tag => header_end(&data),
            _ => 0,
        };
        out.push(ObjectHits {
            oid: *oid,
            kind,
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
