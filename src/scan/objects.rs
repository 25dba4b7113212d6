//! The bulk pass: list every object in the object database (packed and loose, reachable or not, and in
//! alternates), read each exactly once across worker threads, and search it.
//!
//! Objects are listed and read by [`crate::git::odb`]: packs by our own reader, which inflates every
//! entry once and resolves each delta from a base it still holds; loose objects by a bounded inflater
//! (libgit2's spins forever on a truncated loose object); libgit2 only for a pack our reader refuses.

use crate::git::format::{header_end, header_value, parse_oid, parse_signature_time};
use crate::git::odb::{read_objects_in_pieces, ObjectList, ReadResult};
use crate::git::pack::{self, Copied, KindSet, Lineage, ObjectKind};
use crate::git::Oid;
use crate::matching::{Detector, Hit, Start};
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
    let (result, _) = bulk_pass_with(
        git_dir,
        objects,
        KindSet::ALL,
        known,
        discover,
        threads,
        progress,
        &|| (),
        &|_, _, _, _| {},
    )?;
    Ok(result)
}

/// What [`bulk_pass_with`] hands each tree to, with a worker's state (and the tree's [`Lineage`]).
pub(crate) type TreeVisitor<'a, T> = dyn Fn(&mut T, Oid, &[u8], Lineage<'_>) + Sync + 'a;

/// [`bulk_pass`] over the objects of `kinds` only, also handing each tree it reads to `on_tree` with a
/// per-worker state from `init`: provenance records what it needs of trees in the same read instead
/// of reading every tree again.
#[allow(clippy::too_many_arguments)]
pub(crate) fn bulk_pass_with<T: Send>(
    git_dir: &Path,
    objects: &ObjectList,
    kinds: KindSet,
    known: &dyn Detector,
    discover: Option<&dyn Detector>,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
    init: &(dyn Fn() -> T + Sync),
    on_tree: &TreeVisitor<'_, T>,
) -> Result<(PassResult, Vec<T>)> {
    // A large blob is searched in pieces that overlap by the longest match: the longest needle, or a
    // provider pattern's longest plausible value.
    let overlap = known.overlap().max(discover.map_or(0, |d| d.overlap()));
    let pieces = pack::Pieces {
        visit: &|(local, scratch, _): &mut (PassResult, Scratch, T), oid, piece| {
            read_piece(piece, oid, known, discover, scratch, local)
        },
        overlap,
    };
    let passed = read_objects_in_pieces(
        git_dir,
        objects,
        kinds,
        threads,
        progress,
        &|| (PassResult::default(), Scratch::default(), init()),
        &|(local, scratch, extra), oid, object, lineage| {
            if let Ok((ObjectKind::Tree, data)) = object {
                on_tree(extra, oid, data, lineage);
            }
            read_one(object, oid, lineage, known, discover, scratch, local)
        },
        Some(&pieces),
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
    /// Per delta depth: the literal occurrences (for `known`, then `discover`) of the object last read
    /// at that depth, which its deltas carry over (see [`Lineage`]).
    levels: Vec<[Vec<Start>; 2]>,
    changed: ChangedBytes,
}

/// The bytes of a delta object that are not a plain copy of its base, with enough around them that no
/// literal occurrence is lost: copied back to back into one buffer, so one search call reads them all.
#[derive(Default)]
struct ChangedBytes {
    buffer: Vec<u8>,
    /// Per window: where it sits in `buffer`, where it came from in the object, and its length.
    windows: Vec<(usize, usize, usize)>,
    found: Vec<Start>,
}

/// A delta whose windows of changed bytes reach this share of it is searched whole.
const SEARCH_WHOLE_ABOVE: usize = 2;

/// Appends to `out` every occurrence of `detector`'s literals in `data`, sorted (see
/// [`Detector::starts`]). `delta` holds the copies that made `data` from its base and the base's own
/// occurrences: then only the bytes the delta did not copy are searched, with `longest_literal - 1`
/// bytes either side.
///
/// Why that finds everything: an occurrence that lies inside one copied range is a copy of one in the
/// base, so it is carried over from the base's list (shifted by the copy). Any other occurrence
/// overlaps bytes the delta inserted, or straddles the seam between two copies; either way it lies
/// within a literal's length of the edge of a copied range, inside a window that is searched. The
/// base's list is complete by the same argument, down to an object stored whole, which is searched
/// whole. Matches are then decided on the whole object ([`Detector::confirm`]), so what surrounds one
/// (a word character before an `hf_`) is read as it is in this object, not in the base.
fn starts_of(
    detector: &dyn Detector,
    data: &[u8],
    delta: Option<(&[Copied], &[Start])>,
    changed: &mut ChangedBytes,
    out: &mut Vec<Start>,
) {
    let longest = detector.longest_literal();
    let Some((copies, base)) = delta.filter(|_| longest > 0) else {
        detector.starts(data, out);
        return;
    };
    let reach = longest - 1;
    let ChangedBytes {
        buffer,
        windows,
        found,
    } = changed;
    windows.clear();
    let mut searched = 0;
    let mut copied_to: usize = 0;
    let gaps = copies
        .iter()
        .map(|copy| (copy.target, copy.target + copy.len))
        .chain(std::iter::once((data.len(), data.len())));
    for (next_copy, copy_end) in gaps {
        let from = copied_to.saturating_sub(reach);
        let to = (next_copy + reach).min(data.len());
        copied_to = copy_end;
        match windows.last_mut() {
            Some((_, start, len)) if from <= *start + *len => {
                let end = (*start + *len).max(to);
                searched += end - (*start + *len);
                *len = end - *start;
            }
            _ if from < to => {
                windows.push((0, from, to - from));
                searched += to - from;
            }
            _ => {}
        }
    }
    if searched.saturating_mul(SEARCH_WHOLE_ABOVE) > data.len() {
        detector.starts(data, out);
        return;
    }
    let first = out.len();
    buffer.clear();
    for (at, start, len) in windows.iter_mut() {
        *at = buffer.len();
        buffer.extend_from_slice(&data[*start..*start + *len]);
    }
    found.clear();
    detector.starts(buffer, found);
    // Occurrences that run from one window into the next exist only in the buffer.
    let mut window = 0;
    for start in found.iter() {
        while windows[window].0 + windows[window].2 <= start.at {
            window += 1;
        }
        let (at, from, len) = windows[window];
        if start.at + detector.literal_len(start.literal) <= at + len {
            out.push(Start {
                at: from + (start.at - at),
                literal: start.literal,
            });
        }
    }
    if !base.is_empty() {
        for copy in copies {
            let end = copy.source + copy.len;
            let inside = base.partition_point(|s| s.at < copy.source);
            for start in base[inside..].iter().take_while(|s| s.at < end) {
                if start.at + detector.literal_len(start.literal) <= end {
                    out.push(Start {
                        at: copy.target + (start.at - copy.source),
                        literal: start.literal,
                    });
                }
            }
        }
    }
    out[first..].sort_unstable();
    let mut kept = first;
    for i in first..out.len() {
        if kept == first || out[kept - 1] != out[i] {
            out[kept] = out[i];
            kept += 1;
        }
    }
    out.truncate(kept);
}

/// Searches `data` with `detector` (see [`starts_of`]), keeping its literal occurrences in `level` for
/// the object's deltas, and appends the matches to `hits`.
fn search(
    detector: &dyn Detector,
    data: &[u8],
    delta: Option<(&[Copied], &[Start])>,
    changed: &mut ChangedBytes,
    level: &mut Vec<Start>,
    hits: &mut Vec<Hit>,
) {
    level.clear();
    starts_of(detector, data, delta, changed, level);
    detector.confirm(data, level, hits);
}

#[allow(clippy::too_many_arguments)]
fn read_one(
    object: ReadResult<'_>,
    oid: Oid,
    lineage: Lineage<'_>,
    known: &dyn Detector,
    discover: Option<&dyn Detector>,
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
    let depth = lineage.depth;
    if scratch.levels.len() <= depth {
        scratch.levels.resize_with(depth + 1, Default::default);
    }
    let (above, here) = scratch.levels.split_at_mut(depth);
    let (here, base) = (&mut here[0], above.last());
    let delta = |detector: usize| lineage.copies.zip(base.map(|b| &b[detector][..]));
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
                value: zeroize::Zeroizing::new(data[hit.start..hit.end].to_vec()),
            });
        }
    }
}

/// [`read_one`] for one piece of a large blob (see [`pack::Piece`]): counted once, searched piece by
/// piece, match offsets made absolute, and matches within the overlap already seen skipped.
fn read_piece(
    piece: pack::Piece<'_>,
    oid: Oid,
    known: &dyn Detector,
    discover: Option<&dyn Detector>,
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
                value: zeroize::Zeroizing::new(data[hit.start..hit.end].to_vec()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::exact::Matcher;
    use crate::matching::patterns::PatternSet;
    use crate::providers::examples::expand_with_seed;
    use crate::secret::Secret;

    /// A small random generator: the cases below want many shapes, not shrinking.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Text dense with what the detectors look for: whole needles, cut ones, and the bytes around them
    /// that decide a match (word characters before a prefix, token characters after).
    fn text(rng: &mut Rng, pieces: &[Vec<u8>], len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < len {
            let piece = &pieces[rng.below(pieces.len())];
            match rng.below(4) {
                0 => out.extend_from_slice(piece),
                1 => out.extend_from_slice(&piece[..rng.below(piece.len() + 1)]),
                2 => out.extend_from_slice(&piece[rng.below(piece.len() + 1)..]),
                _ => out.extend((0..rng.below(12)).map(|_| b" \nax_-9="[rng.below(7)])),
            }
        }
        out
    }

    /// A random delta of `base`: copies of random ranges (cutting through needles) and inserts of new
    /// text, as git's delta instructions would make it.
    fn delta_of(rng: &mut Rng, base: &[u8], pieces: &[Vec<u8>]) -> (Vec<u8>, Vec<Copied>) {
        let (mut out, mut copies) = (Vec::new(), Vec::new());
        for _ in 0..rng.below(12) + 1 {
            if rng.below(3) > 0 && !base.is_empty() {
                let source = rng.below(base.len());
                let len = rng.below(base.len() - source) + 1;
                copies.push(Copied {
                    target: out.len(),
                    source,
                    len,
                });
                out.extend_from_slice(&base[source..source + len]);
            } else {
                let len = rng.below(40);
                out.extend(text(rng, pieces, len));
            }
        }
        (out, copies)
    }

    /// Follows chains of random deltas and checks that the occurrences carried over through each
    /// delta's copies are exactly those a search of the whole object finds, and so are the matches.
    fn carried_over_equals_whole(detector: &dyn Detector, pieces: &[Vec<u8>]) {
        let mut changed = ChangedBytes::default();
        let mut carried_some = 0;
        for case in 0..1500u64 {
            let mut rng =
                Rng(0x9e37_79b9_7f4a_7c15 ^ (case + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
            let len = rng.below(400);
            let mut object = text(&mut rng, pieces, len);
            let mut level = Vec::new();
            detector.starts(&object, &mut level);
            for depth in 1..4 {
                let (next, copies) = delta_of(&mut rng, &object, pieces);
                let mut carried = Vec::new();
                starts_of(
                    detector,
                    &next,
                    Some((&copies, &level)),
                    &mut changed,
                    &mut carried,
                );
                let mut whole = Vec::new();
                detector.starts(&next, &mut whole);
                assert_eq!(carried, whole, "case {case}, depth {depth}");
                let (mut from_carried, mut from_whole) = (Vec::new(), Vec::new());
                detector.confirm(&next, &carried, &mut from_carried);
                detector.find_all(&next, &mut from_whole);
                assert_eq!(from_carried, from_whole, "case {case}, depth {depth}");
                carried_some += usize::from(!carried.is_empty());
                (object, level) = (next, carried);
            }
        }
        assert!(
            carried_some > 500,
            "the cases hold too few needles to test anything"
        );
    }

    #[test]
    fn exact_needles_carried_over_deltas_are_those_a_whole_search_finds() {
        let long = format!("hf_{}", "TestTokenAbcdefghijklmnopqrstuvwx");
        // A second token that is a prefix of the first, and a probe that is a prefix of both: the
        // leftmost-longest search reports only the longest where they start together.
        let secrets = [
            Secret::new(long.clone(), "a"),
            Secret::new(&long[..20], "b"),
        ];
        let probe = long.as_bytes()[..6].to_vec();
        let matcher = Matcher::with_probes(&secrets, &[&probe]);
        let mut pieces: Vec<Vec<u8>> = crate::matching::exact::forms(&secrets[0])
            .into_iter()
            .map(|(_, form)| form.to_vec())
            .collect();
        pieces.push(probe.clone());
        pieces.push(long.as_bytes()[..20].to_vec());
        carried_over_equals_whole(&matcher, &pieces);
    }

    #[test]
    fn pattern_literals_carried_over_deltas_are_those_a_whole_search_finds() {
        let set = PatternSet::all();
        let pieces: Vec<Vec<u8>> = [
            "hf_{alpha:34}",
            "hf_{alnum:34}",
            "ghp_{alnum:36}",
            "sk-{alnum:20}T3BlbkFJ{alnum:20}",
            "sk-proj-{url:40}",
            "xoxb-{digits:12}-{digits:12}-{alnum:24}",
            "AKIA{upper:16}",
            "task-hf_",
            "-----BEGIN ",
        ]
        .iter()
        .enumerate()
        .map(|(seed, template)| expand_with_seed(template, seed as u64).into_bytes())
        .collect();
        carried_over_equals_whole(&set, &pieces);
    }
}
