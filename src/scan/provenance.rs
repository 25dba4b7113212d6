//! From the few objects that matched to what an incident responder needs: which commit introduced the
//! token at which path, which refs still carry that commit, and whether it was pushed.
//!
//! Trees are walked once each (memoized by tree id), and ref containment is one pass over the commit
//! graph in topological order that carries a bit per target commit, instead of a history walk per ref.

use super::history::CommitGraph;
use super::idhash::{IdMap, IdSet};
use super::named::{runs, NamedRecords, NamedSource, NamedTrees};
use super::objects::{CommitRecord, ObjectHits, PassResult, ReadTree};
use crate::git::format::{mode_kind, tree_entries};
use crate::git::odb::ObjectList;
use crate::git::pack::{Copied, KindSet, ObjectKind};
use crate::git::Oid;
use crate::git::{Repo, Tip, TipKind};
use crate::matching::delta::{carry, Carried, ChangedBytes, CARRY_UP_TO};
use crate::matching::{Detector, Literals, Start};
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A place under a tree where a needle sits: a matching blob at a path, or a needle in a name.
#[derive(Debug, Clone)]
pub struct TreeHit {
    pub path: Vec<u8>,
    pub object: Oid,
    /// None for a blob (its hits are in the pass result); Some(needle) for a needle inside the name.
    pub name_needle: Option<u32>,
}

/// A commit that introduced a token at a path.
#[derive(Debug, Clone)]
pub struct Introduction {
    pub commit: Oid,
    pub hit: TreeHit,
    /// The secrets this commit introduced at that path (indices into the searched secrets).
    pub secrets: Vec<usize>,
}

/// Which tips (refs, stash entries, reflog entries) contain a commit.
#[derive(Debug, Clone, Default)]
pub struct Containment {
    pub refs: Vec<String>,
    pub reflogs: Vec<String>,
}

/// A tree id's first four bytes: a fifth of an id, so the graph of every tree -> subtree edge (millions
/// on git's history) costs 8 bytes an edge. Keys collide (a few dozen pairs among git's 382k trees); a
/// collision only widens a closure, so the walker reads a tree more (it checks what it reads), never
/// misses one.
pub type TreeKey = u32;

pub fn key(oid: &Oid) -> TreeKey {
    TreeKey::from_be_bytes(oid.as_bytes()[..4].try_into().expect("ids have 20 bytes"))
}

/// Decodes only the tree objects (a packed delta's kind is known before inflating it) and hands each
/// tree's raw bytes to `visit` with the worker's state. Every tree-only pass below goes through here.
fn for_each_tree<S: Send>(
    repo: &Repo,
    order: &ObjectList,
    threads: usize,
    init: &(dyn Fn() -> S + Sync),
    visit: &(dyn Fn(&mut S, Oid, &[u8]) + Sync),
) -> anyhow::Result<Vec<S>> {
    let passed = crate::git::odb::read_objects(
        &repo.git_dir,
        order,
        KindSet::of(&[ObjectKind::Tree]),
        threads,
        &|_| {},
        init,
        &|state: &mut S, oid, object| {
            if let Ok((ObjectKind::Tree, data)) = object {
                visit(state, oid, data);
            }
        },
    )?;
    Ok(passed.states)
}

/// What a tree-pass predicate sees of one tree entry.
pub struct EntryView<'a> {
    pub tree: &'a Oid,
    pub mode: &'a [u8],
    pub name: &'a [u8],
    pub child: &'a Oid,
}

impl<'a> EntryView<'a> {
    fn new(tree: &'a Oid, mode: &'a [u8], name: &'a [u8], child: &'a Oid) -> Self {
        EntryView {
            tree,
            mode,
            name,
            child,
        }
    }
    /// A subtree.
    pub fn is_tree(&self) -> bool {
        self.kind() == ObjectKind::Tree
    }
    /// A file (not a subtree, not a submodule's commit).
    pub fn is_blob(&self) -> bool {
        self.kind() == ObjectKind::Blob
    }
    /// What the entry names: a blob, a tree, or (a submodule) a commit of another repository.
    pub fn kind(&self) -> ObjectKind {
        mode_kind(self.mode)
    }
}

/// A tree-pass predicate: does this entry make its tree "direct" (hold something we look for)?
pub type EntryPredicate<'a> = &'a (dyn Fn(&EntryView<'_>) -> bool + Sync);

/// Every tree -> subtree edge of the object database, by [`key`]: sorted (child, parent) lists, one per
/// worker that recorded them (never joined into one, so no second copy of millions of edges).
pub struct TreeGraph {
    parts: Vec<Vec<(TreeKey, TreeKey)>>,
}

/// One pass over the tree objects (in pack order, in parallel) instead of a walk from every commit. It
/// records every tree -> subtree edge and, for each predicate, the trees with an entry it accepts; the
/// trees holding such an entry anywhere below them are then [`TreeGraph::closure`] of those, computed
/// in memory, and walkers read only those.
pub fn tree_pass(
    repo: &Repo,
    order: &ObjectList,
    threads: usize,
    predicates: &[EntryPredicate<'_>],
) -> anyhow::Result<(TreeGraph, Vec<Vec<TreeKey>>)> {
    struct Local {
        direct: Vec<Vec<TreeKey>>,
        edges: Vec<(TreeKey, TreeKey)>,
    }
    let states = for_each_tree(
        repo,
        order,
        threads,
        &|| Local {
            direct: vec![Vec::new(); predicates.len()],
            edges: Vec::new(),
        },
        &|local: &mut Local, oid, data| {
            let parent = key(&oid);
            let mut direct = vec![false; predicates.len()];
            for (mode, name, child) in tree_entries(data) {
                let view = EntryView::new(&oid, mode, name, &child);
                if view.is_tree() {
                    local.edges.push((key(&child), parent));
                }
                for (i, predicate) in predicates.iter().enumerate() {
                    if !direct[i] && predicate(&view) {
                        direct[i] = true;
                    }
                }
            }
            for (i, is_direct) in direct.into_iter().enumerate() {
                if is_direct {
                    local.direct[i].push(parent);
                }
            }
        },
    )?;
    let mut edges: Vec<(TreeKey, TreeKey)> = Vec::new();
    let mut direct = vec![Vec::new(); predicates.len()];
    for local in states {
        edges.extend(local.edges);
        for (i, list) in local.direct.into_iter().enumerate() {
            direct[i].extend(list);
        }
    }
    edges.sort_unstable();
    Ok((TreeGraph { parts: vec![edges] }, direct))
}

/// What the object pass records of each tree it reads, so that provenance needs no tree pass of its
/// own: every tree -> subtree edge, and the trees that directly hold a target blob or a wanted file.
/// One worker's share; [`TreeRecords::merge`] joins them.
#[derive(Default)]
pub struct TreeRecords {
    /// Per tree with subtrees: its key, their number, their keys (half the bytes of (child, parent)
    /// pairs while the pass still holds its own buffers), in chunks of [`RUN_CHUNK`] keys: a growing
    /// vector would hold up to twice what it uses at the pass's peak.
    runs: Vec<Vec<TreeKey>>,
    children: Vec<TreeKey>,
    targets: Vec<TreeKey>,
    named: Vec<TreeKey>,
    /// With names (audit): the graph the walkers follow without reading trees again; the fields above
    /// stay empty.
    graph: NamedRecords,
    /// Per delta depth: where the probe's literals occur in the tree last recorded at that depth (see
    /// [`Lineage`](crate::git::pack::Lineage)), and the buffer a delta's changed bytes are searched in.
    levels: Vec<Carried>,
    changed: ChangedBytes,
}

/// What the tree read recorded for provenance: the keys-only graph (scan), or the graph with names
/// (audit).
pub enum Recorded {
    /// Every tree -> subtree edge by [`key`], and the trees directly holding a target blob or a
    /// wanted file.
    Keys {
        /// The edges.
        graph: TreeGraph,
        /// Trees directly holding a target blob.
        targets: Vec<TreeKey>,
        /// Trees directly holding a wanted file.
        wanted: Vec<TreeKey>,
    },
    /// The graph with names: see [`super::named`].
    Named(NamedTrees),
}

/// Keys per chunk of [`TreeRecords`] runs (256 KiB).
const RUN_CHUNK: usize = 1 << 16;

/// Files wanted by name (the caller's kind of file, such as dotenv files for audit): a byte string every
/// wanted name contains, searched for in the raw tree first, and the test itself. Provenance knows no
/// file kind of its own.
#[derive(Clone, Copy)]
pub struct FileNames {
    pub contains: &'static [u8],
    pub wanted: fn(&[u8]) -> bool,
}

/// Finds what [`TreeRecords`] keeps in a raw tree. Subtree entries come from the one walk over every
/// entry that also checks each blob is in the database ([`MissingBlobs`]); target blobs and wanted files
/// are first looked for with SIMD searches (the blobs' raw ids, the wanted names' common part: see
/// [`ProbeLiterals`]), and only a tree where one hits is parsed, to confirm it.
pub struct TreeProbe {
    named: Option<FileNames>,
    literals: ProbeLiterals,
    targets: IdSet<Oid>,
    /// Record the graph with names (audit) instead of keys alone.
    with_names: bool,
}

/// The raw bytes a [`TreeProbe`] looks for: any target blob's id ([`ID_LITERAL`]), and the part every
/// wanted file name holds ([`NAME_LITERAL`]). Searched like a detector's literals, so a delta tree is
/// searched only where it differs from its base.
struct ProbeLiterals {
    ids: Option<IdSearch>,
    name: Option<memchr::memmem::Finder<'static>>,
}

const ID_LITERAL: u32 = 0;
const NAME_LITERAL: u32 = 1;

enum IdSearch {
    Packed(aho_corasick::packed::Searcher),
    Automaton(aho_corasick::AhoCorasick),
}

impl ProbeLiterals {
    /// Whether `haystack` holds a target id, and a wanted name's common part: a search that stops at
    /// the first of each and holds nothing.
    fn any_in(&self, haystack: &[u8]) -> (bool, bool) {
        let id = match &self.ids {
            Some(IdSearch::Packed(searcher)) => searcher.find(haystack).is_some(),
            Some(IdSearch::Automaton(ac)) => ac.is_match(haystack),
            None => false,
        };
        let name = self
            .name
            .as_ref()
            .is_some_and(|n| n.find(haystack).is_some());
        (id, name)
    }
}

impl Literals for ProbeLiterals {
    fn starts_until(&self, haystack: &[u8], out: &mut Vec<Start>, cap: usize) -> bool {
        let first = out.len();
        if let Some(ids) = &self.ids {
            // Ids are all 20 bytes and distinct: at most one occurs at a position.
            let mut at = 0;
            while at < haystack.len() {
                let found = match ids {
                    IdSearch::Packed(searcher) => searcher
                        .find_in(haystack, aho_corasick::Span::from(at..haystack.len()))
                        .map(|m| m.start()),
                    IdSearch::Automaton(ac) => ac
                        .find(aho_corasick::Input::new(haystack).range(at..))
                        .map(|m| m.start()),
                };
                let Some(start) = found else { break };
                out.push(Start {
                    at: start,
                    literal: ID_LITERAL,
                });
                if out.len() - first > cap {
                    return false;
                }
                at = start + 1;
            }
        }
        if let Some(name) = &self.name {
            let mut at = 0;
            while let Some(i) = name.find(&haystack[at..]) {
                out.push(Start {
                    at: at + i,
                    literal: NAME_LITERAL,
                });
                if out.len() - first > cap {
                    return false;
                }
                at += i + 1;
            }
        }
        out[first..].sort_unstable();
        true
    }

    fn literal_len(&self, literal: u32) -> usize {
        match literal {
            ID_LITERAL => 20,
            _ => self.name.as_ref().map_or(0, |name| name.needle().len()),
        }
    }

    fn longest_literal(&self) -> usize {
        let ids = if self.ids.is_some() { 20 } else { 0 };
        ids.max(self.literal_len(NAME_LITERAL))
    }
}

impl TreeProbe {
    /// A probe for trees holding one of `targets` (blobs, by id) and, with `named`, a wanted file;
    /// `with_names` records the graph with names (see [`super::named`]).
    pub fn new(
        targets: impl IntoIterator<Item = Oid>,
        named: Option<FileNames>,
        with_names: bool,
    ) -> TreeProbe {
        let targets: IdSet<Oid> = targets.into_iter().collect();
        let ids: Vec<&[u8]> = targets.iter().map(|oid| oid.as_bytes()).collect();
        let ids = if ids.is_empty() {
            None
        } else {
            let packed = aho_corasick::packed::Config::new()
                .builder()
                .extend(&ids)
                .build();
            match packed {
                Some(searcher) => Some(IdSearch::Packed(searcher)),
                None => aho_corasick::AhoCorasick::new(&ids)
                    .ok()
                    .map(IdSearch::Automaton),
            }
        };
        TreeProbe {
            literals: ProbeLiterals {
                ids,
                name: named.map(|n| memchr::memmem::Finder::new(n.contains).into_owned()),
            },
            named,
            targets,
            with_names,
        }
    }

    /// Whether it records the graph with names.
    pub fn with_names(&self) -> bool {
        self.with_names
    }

    /// Records one tree, and notes (in `here`) the blobs it names that the database lacks.
    pub(crate) fn record(
        &self,
        records: &mut TreeRecords,
        missing: &MissingBlobs,
        here: &mut MissingHere,
        tree: ReadTree<'_>,
    ) {
        let ReadTree { oid, data, lineage } = tree;
        let parent = key(&oid);
        records.children.clear();
        missing.walk(here, tree, |name, id, noted| {
            if !self.with_names {
                records.children.push(key(&id));
                return None;
            }
            match noted {
                Some(word) => {
                    records.graph.same_subtree(word);
                    Some(word)
                }
                None => records.graph.subtree(name, id.as_bytes()),
            }
        });
        if self.with_names {
            records.graph.finish_tree(&oid);
        }
        let n = records.children.len();
        if n > 0 {
            if records
                .runs
                .last()
                .is_none_or(|chunk| chunk.len() + 2 + n > chunk.capacity())
            {
                records.runs.push(Vec::with_capacity(RUN_CHUNK.max(2 + n)));
            }
            let chunk = records.runs.last_mut().expect("a chunk was just made");
            chunk.extend([parent, n as TreeKey]);
            chunk.extend_from_slice(&records.children);
        }
        let (level, delta) = lineage.slots(&mut records.levels);
        let kept = carry(&self.literals, data, delta, &mut records.changed, level);
        let (maybe_target, maybe_named) = match kept {
            Some(starts) => (
                starts.iter().any(|s| s.literal == ID_LITERAL),
                starts.iter().any(|s| s.literal == NAME_LITERAL),
            ),
            None => self.literals.any_in(data),
        };
        if !maybe_target && !maybe_named {
            return;
        }
        let (mut target, mut named) = (false, false);
        for (mode, name, child) in tree_entries(data) {
            if !EntryView::new(&oid, mode, name, &child).is_blob() {
                continue;
            }
            let is_target = maybe_target && self.targets.contains(&child);
            let is_named = maybe_named && self.named.is_some_and(|n| (n.wanted)(name));
            if self.with_names && (is_target || is_named) {
                records.graph.direct(&oid, name, child, is_target, is_named);
            }
            target |= is_target;
            named |= is_named;
        }
        if !self.with_names {
            if target {
                records.targets.push(parent);
            }
            if named {
                records.named.push(parent);
            }
        }
    }
}

impl TreeRecords {
    /// Joins the workers' records into the tree graph, the trees directly holding a target, and those
    /// directly holding a wanted file.
    pub fn merge(parts: Vec<TreeRecords>, with_names: bool) -> Recorded {
        if with_names {
            return Recorded::Named(NamedTrees::merge(
                parts.into_iter().map(|part| part.graph).collect(),
            ));
        }
        let mut targets = Vec::new();
        let mut named = Vec::new();
        let mut all_runs = Vec::with_capacity(parts.len());
        for part in parts {
            targets.extend(part.targets);
            named.extend(part.named);
            all_runs.push(part.runs);
        }
        // Each worker's edges are sorted on a thread of their own: after the pass, this was the
        // longest stretch on one core (100 ms on git's history).
        let parts = std::thread::scope(|scope| {
            let sorting: Vec<_> = all_runs
                .into_iter()
                .map(|part_runs| scope.spawn(move || sorted_edges(part_runs)))
                .collect();
            sorting
                .into_iter()
                .map(|s| s.join().expect("sorting edges does not panic"))
                .collect()
        });
        let graph = TreeGraph { parts };
        Recorded::Keys {
            graph,
            targets,
            wanted: named,
        }
    }
}

/// One worker's recorded runs as (child, parent) edges, sorted.
fn sorted_edges(part_runs: Vec<Vec<TreeKey>>) -> Vec<(TreeKey, TreeKey)> {
    let count = part_runs
        .iter()
        .flat_map(|chunk| runs(chunk))
        .map(|(_, children)| children.len())
        .sum();
    let mut edges = Vec::with_capacity(count);
    for chunk in part_runs {
        for (parent, children) in runs(&chunk) {
            edges.extend(children.iter().map(|child| (*child, parent)));
        }
    }
    edges.sort_unstable();
    edges
}

impl TreeGraph {
    /// The given trees and every tree above them.
    pub fn closure(&self, mut frontier: Vec<TreeKey>) -> IdSet<TreeKey> {
        let mut reached: IdSet<TreeKey> = IdSet::default();
        while let Some(tree) = frontier.pop() {
            if !reached.insert(tree) {
                continue;
            }
            for edges in &self.parts {
                let start = edges.partition_point(|(child, _)| *child < tree);
                for (_, parent) in edges[start..]
                    .iter()
                    .take_while(|(child, _)| *child == tree)
                {
                    if !reached.contains(parent) {
                        frontier.push(*parent);
                    }
                }
            }
        }
        reached
    }
}

/// One tree entry as the walkers need it.
pub type Entry = crate::git::TreeEntry;

/// The relevant entries of the trees a closure found, read in one more tree-only pass (pack order,
/// parallel) instead of one libgit2 lookup per tree: on git's own history that walk read hundreds of
/// thousands of trees one by one (80 s); kept here, a tree holds only the entries a walker follows.
#[derive(Default)]
pub struct TreeCache {
    trees: IdMap<Oid, Vec<Entry>>,
}

impl TreeCache {
    /// Reads the trees whose [`key`] is in `interesting`, keeping the entries `keep` accepts.
    pub fn load(
        repo: &Repo,
        order: &ObjectList,
        threads: usize,
        interesting: &IdSet<TreeKey>,
        keep: EntryPredicate<'_>,
    ) -> anyhow::Result<TreeCache> {
        // Only the interesting trees are visited; others are inflated only as their delta bases.
        let wanted = order.only(&|oid| interesting.contains(&key(oid)));
        let states = for_each_tree(
            repo,
            &wanted,
            threads,
            &IdMap::default,
            &|trees: &mut IdMap<Oid, Vec<Entry>>, oid, data| {
                if !interesting.contains(&key(&oid)) {
                    return;
                }
                let mut kept = Vec::new();
                for (mode, name, child) in tree_entries(data) {
                    let view = EntryView::new(&oid, mode, name, &child);
                    if keep(&view) {
                        kept.push((name.to_vec(), child, Some(view.kind())));
                    }
                }
                trees.insert(oid, kept);
            },
        )?;
        let mut cache = TreeCache::default();
        for part in states {
            cache.trees.extend(part);
        }
        Ok(cache)
    }

    /// The kept entries of `tree`, or (not in the cache: a key collision) all of them from libgit2.
    fn entries(&self, repo: &Repo, tree: Oid) -> Option<Vec<Entry>> {
        if let Some(entries) = self.trees.get(&tree) {
            return Some(entries.clone());
        }
        if !repo.may_read(tree) {
            return None;
        }
        repo.tree_entries(tree)
    }
}

/// Collects, per worker, the blobs that trees name but the object database lacks (a partial clone's
/// unfetched blobs, or object files lost to damage), and the trees whose entries do not parse to the
/// end (what follows a malformed entry cannot be seen). It rides on the pass's own tree read, so this
/// costs no second pass over the trees.
///
/// Every blob entry of every tree is looked up: about 150 million on git's history (5.8 GB of trees).
/// Each worker first asks a small direct-mapped cache of ids it already found present: trees come in
/// delta chains, versions of one directory one after another, sharing most entries, so most lookups
/// stay in the processor's cache. Ids are compared whole: a tree can name any 20 bytes, so a missing
/// blob could share any prefix with a present object.
pub struct MissingBlobs {
    present: IdSet<Oid>,
}

/// One worker's part of [`MissingBlobs`].
pub struct MissingHere {
    missing: IdSet<Oid>,
    /// Subtrees that trees name but the database lacks (nothing below them was seen).
    missing_trees: IdSet<Oid>,
    /// Trees with a malformed entry.
    malformed: Vec<Oid>,
    /// Ids found present, indexed by their low bits; the zero id is an empty slot.
    recent: Vec<Oid>,
    /// Per delta depth: the entries of the tree last walked at that depth (see [`Lineage`](crate::git::pack::Lineage)).
    levels: Vec<Level>,
}

/// The entries of the tree last walked at one delta depth, for its deltas to take over. A delta that
/// copies a run of whole entries holds the same entries, checked already.
#[derive(Default)]
struct Level {
    /// Whether the entries were kept: only for a tree of at most [`CARRY_UP_TO`] bytes (a larger
    /// one's deltas are walked whole), so every offset fits in 32 bits.
    kept: bool,
    /// Every entry, in order.
    entries: Vec<Walked>,
    /// The subtree entries among them, in order: what a caller is handed (see [`MissingBlobs::walk`]).
    subtrees: Vec<Subtree>,
}

// A kept tree's offsets are held in 32 bits.
const _: () = assert!(CARRY_UP_TO <= u32::MAX as usize);

/// One entry of a walked tree: where it starts and ends (past its id). 8 bytes: a new version of a
/// large directory hands on thousands of them, and the copy is most of what taking them over costs.
#[derive(Clone, Copy)]
struct Walked {
    start: u32,
    end: u32,
}

/// A subtree entry of a walked tree.
#[derive(Clone, Copy)]
struct Subtree {
    /// Its place in [`Level::entries`].
    index: u32,
    /// Where its name starts (it ends at the NUL before the 20 id bytes that end the entry).
    name: u32,
    /// What the walk's caller noted for the entry, handed back for the same entry in a delta.
    noted: Option<u64>,
}

/// Slots of a worker's cache: 1.3 MiB, room for the distinct ids a delta chain of one directory goes
/// through. Measured on git's history: 4% less CPU than 4,096 slots; 262,144 gave nothing more.
const RECENT_SLOTS: usize = 1 << 16;

impl Default for MissingHere {
    fn default() -> Self {
        MissingHere {
            missing: IdSet::default(),
            missing_trees: IdSet::default(),
            malformed: Vec::new(),
            recent: vec![Oid::zero(); RECENT_SLOTS],
            levels: Vec::new(),
        }
    }
}

/// The entries at `pos` of a delta tree that a copy took whole from its base's entries (`base`),
/// appended to `level`, its subtrees handed to `subtree`; returns where they end, or None when the
/// bytes at `pos` are not the start of a copied base entry. `next_copy` walks `copies` as `pos` grows.
///
/// The run is found by two binary searches and its entries moved by one offset in a single
/// `extend`: no entry is looked at one by one but the subtrees, few in most directories.
fn inherit(
    copies: &[Copied],
    next_copy: &mut usize,
    base: &Level,
    pos: usize,
    data: &[u8],
    level: &mut Level,
    subtree: &mut impl FnMut(&[u8], Oid, Option<u64>) -> Option<u64>,
) -> Option<usize> {
    while copies
        .get(*next_copy)
        .is_some_and(|copy| copy.target + copy.len <= pos)
    {
        *next_copy += 1;
    }
    let copy = copies.get(*next_copy).filter(|copy| copy.target <= pos)?;
    let at = copy.source + (pos - copy.target);
    let copied_to = copy.source + copy.len;
    let first = base.entries.partition_point(|w| (w.start as usize) < at);
    if base
        .entries
        .get(first)
        .is_none_or(|w| w.start as usize != at)
    {
        return None;
    }
    let last = first + base.entries[first..].partition_point(|w| w.end as usize <= copied_to);
    if last == first {
        return None;
    }
    // Both trees are at most CARRY_UP_TO bytes: offsets and their difference fit in 32 bits, and the
    // wrapping add lands every moved offset inside this tree.
    let shift = (pos as u32).wrapping_sub(at as u32);
    let moved = |offset: u32| offset.wrapping_add(shift);
    let index_shift = (level.entries.len() as u32).wrapping_sub(first as u32);
    level
        .entries
        .extend(base.entries[first..last].iter().map(|w| Walked {
            start: moved(w.start),
            end: moved(w.end),
        }));
    let below = |index: u32| move |s: &Subtree| s.index < index;
    let from = base.subtrees.partition_point(below(first as u32));
    let to = from + base.subtrees[from..].partition_point(below(last as u32));
    for s in &base.subtrees[from..to] {
        let index = s.index.wrapping_add(index_shift);
        let name = moved(s.name) as usize;
        let end = level.entries[index as usize].end as usize;
        let id = Oid::from_bytes(&data[end - 20..end]).expect("20 id bytes");
        let noted = subtree(&data[name..end - 21], id, s.noted);
        level.subtrees.push(Subtree {
            index,
            name: name as u32,
            noted,
        });
    }
    Some(level.entries[level.entries.len() - 1].end as usize)
}

impl MissingBlobs {
    /// `present`: every object the database lists.
    pub fn new(order: &ObjectList) -> MissingBlobs {
        let mut present = IdSet::with_capacity_and_hasher(order.len(), Default::default());
        present.extend(order.ids());
        MissingBlobs { present }
    }

    /// Whether the database lists `id`.
    pub fn is_present(&self, id: &Oid) -> bool {
        self.present.contains(id)
    }

    /// Notes every blob entry of one raw tree that the database lacks, and the tree if an entry is
    /// malformed (a tree read with a [`TreeProbe`] is checked by [`TreeProbe::record`], in the same
    /// walk).
    pub(crate) fn record(&self, here: &mut MissingHere, tree: ReadTree<'_>) {
        self.walk(here, tree, |_, _, _| None);
    }

    /// Walks the entries of one raw tree, checking each blob and subtree id (a submodule names a
    /// commit of another repository) and handing each subtree entry's name and id to `subtree`, with
    /// what `subtree` returned for the same entry of the base when the entry is a copy of one.
    ///
    /// A delta tree is walked with its base's entries at hand: where the delta copied a run of whole
    /// entries, starting where one starts, those entries are the base's, byte for byte, so they are
    /// taken from the base's list instead of being parsed and looked up again. Most of a new version
    /// of a directory is its old version.
    fn walk(
        &self,
        here: &mut MissingHere,
        ReadTree { oid, data, lineage }: ReadTree<'_>,
        mut subtree: impl FnMut(&[u8], Oid, Option<u64>) -> Option<u64>,
    ) {
        let mut levels = std::mem::take(&mut here.levels);
        let (level, base) = lineage.slots(&mut levels);
        level.entries.clear();
        level.subtrees.clear();
        level.kept = data.len() <= CARRY_UP_TO;
        if !level.kept {
            level.entries.shrink_to(CARRY_UP_TO / 22);
            level.subtrees.shrink_to(CARRY_UP_TO / 22);
        }
        // A tree too large to keep its entries is walked whole (so nothing is pushed for it below).
        let delta = base.filter(|(_, base)| base.kept && level.kept);
        let mut next_copy = 0;
        let mut pos = 0;
        while pos < data.len() {
            if let Some((copies, base)) = delta {
                if let Some(end) =
                    inherit(copies, &mut next_copy, base, pos, data, level, &mut subtree)
                {
                    pos = end;
                    continue;
                }
            }
            let mut entries = tree_entries(&data[pos..]);
            let Some((mode, name, id)) = entries.next() else {
                break;
            };
            let nul = pos + entries.last_id_at(data.len() - pos) - 1;
            let kind = mode_kind(mode);
            if kind != ObjectKind::Commit {
                self.check(here, id, kind == ObjectKind::Tree);
            }
            let end = nul + 21;
            if kind == ObjectKind::Tree {
                let noted = subtree(name, id, None);
                if level.kept {
                    level.subtrees.push(Subtree {
                        index: level.entries.len() as u32,
                        name: (nul - name.len()) as u32,
                        noted,
                    });
                }
            }
            if level.kept {
                level.entries.push(Walked {
                    start: pos as u32,
                    end: end as u32,
                });
            }
            pos = end;
        }
        // The entries stop short of the end where one is malformed.
        if pos != data.len() {
            here.malformed.push(oid);
        }
        here.levels = levels;
    }

    /// Notes the blob (or, `tree`, the subtree) `id` if the database lacks it.
    fn check(&self, here: &mut MissingHere, id: Oid, tree: bool) {
        let slot = usize::from(id.as_bytes()[0]) | (usize::from(id.as_bytes()[1]) << 8);
        let slot = slot & (RECENT_SLOTS - 1);
        if here.recent[slot] == id && !id.is_zero() {
            return;
        }
        if self.present.contains(&id) {
            here.recent[slot] = id;
        } else if tree {
            here.missing_trees.insert(id);
        } else {
            here.missing.insert(id);
        }
    }

    /// Over every worker's share: the numbers of distinct missing blobs and subtrees, and the
    /// malformed trees.
    pub fn count(per_worker: impl IntoIterator<Item = MissingHere>) -> (usize, usize, Vec<Oid>) {
        let mut blobs: IdSet<Oid> = IdSet::default();
        let mut trees: IdSet<Oid> = IdSet::default();
        let mut malformed = Vec::new();
        for here in per_worker {
            blobs.extend(here.missing);
            trees.extend(here.missing_trees);
            malformed.extend(here.malformed);
        }
        (blobs.len(), trees.len(), malformed)
    }
}

/// Which trees a walker may read, and where their entries come from.
pub enum Restriction {
    /// A closure by [`key`], entries from the cache of one more tree-only pass.
    Keys(IdSet<TreeKey>, Rc<TreeCache>),
    /// A closure by prefix, entries from the graph with names the tree read recorded.
    Named(IdSet<super::named::Key>, Arc<NamedSource>),
}

impl Restriction {
    /// Whether `tree` can lead to what the walk looks for.
    fn admits(&self, tree: &Oid) -> bool {
        match self {
            Restriction::Keys(closure, _) => closure.contains(&key(tree)),
            Restriction::Named(closure, _) => {
                closure.contains(&super::named::key_of(tree.as_bytes()))
            }
        }
    }

    /// The entries of `tree` a walker follows; None for a tree that cannot be read. `repo` reads
    /// what the restriction does not hold (a walker without one is only made where that is nothing:
    /// see [`TreeWalker::twin`]).
    fn entries(&self, repo: Option<&Repo>, tree: Oid) -> Option<Vec<Entry>> {
        match self {
            Restriction::Keys(_, cache) => cache.entries(repo?, tree),
            Restriction::Named(_, source) => source.entries(repo, tree),
        }
    }
}

/// (path, blob) of each wanted file under a tree.
type NamedFiles = Rc<[(Vec<u8>, Oid)]>;

/// Commits that added or changed a file whose name is `wanted`, as (path, commit), oldest path first.
/// Only trees `trees` admits (the closure of trees holding such a file) are read.
pub fn files_in_history(
    repo: &Repo,
    commits: &[CommitRecord],
    trees: &Restriction,
    wanted: fn(&[u8]) -> bool,
) -> Vec<(String, String)> {
    struct Walk<'a> {
        repo: &'a Repo,
        trees: &'a Restriction,
        wanted: fn(&[u8]) -> bool,
    }
    fn walk(w: &Walk<'_>, tree: Oid, memo: &mut IdMap<Oid, NamedFiles>) -> NamedFiles {
        let Walk {
            repo,
            trees,
            wanted,
        } = *w;
        if !trees.admits(&tree) {
            return Rc::from(Vec::new());
        }
        if let Some(found) = memo.get(&tree) {
            return found.clone();
        }
        let mut out = Vec::new();
        let entries = trees.entries(Some(repo), tree).unwrap_or_default();
        for (name, oid, kind) in entries {
            match kind {
                Some(ObjectKind::Blob) if wanted(&name) => out.push((name, oid)),
                Some(ObjectKind::Tree) => {
                    for (sub, blob) in walk(w, oid, memo).iter() {
                        let mut path = name.clone();
                        path.push(b'/');
                        path.extend_from_slice(sub);
                        out.push((path, *blob));
                    }
                }
                _ => {}
            }
        }
        let out: NamedFiles = Rc::from(out);
        memo.insert(tree, out.clone());
        out
    }
    let w = Walk {
        repo,
        trees,
        wanted,
    };
    let by_id: IdMap<Oid, &CommitRecord> = commits.iter().map(|c| (c.oid, c)).collect();
    let mut memo = IdMap::default();
    let mut out = Vec::new();
    for commit in commits {
        let files = walk(&w, commit.tree, &mut memo);
        if files.is_empty() {
            continue;
        }
        let mut inherited: HashSet<(Vec<u8>, Oid)> = HashSet::new();
        for parent in commit.parents.iter().filter_map(|p| by_id.get(p)) {
            inherited.extend(walk(&w, parent.tree, &mut memo).iter().cloned());
        }
        for (path, blob) in files.iter() {
            if !inherited.contains(&(path.clone(), *blob)) {
                out.push((crate::sanitize::path_bytes(path), commit.oid.to_string()));
            }
        }
    }
    out.sort();
    out
}

/// The secret (an index into the scan's secrets) a needle stands for.
pub type SecretOf<'a> = dyn Fn(u32) -> usize + Sync + 'a;

/// What [`TreeWalker::twin`] hands to another thread.
pub(crate) struct Twin<'a> {
    names: &'a dyn Detector,
    secret_of: &'a SecretOf<'a>,
    blob_hits: &'a IdMap<Oid, &'a ObjectHits>,
    name_trees: &'a IdSet<Oid>,
    closure: IdSet<super::named::Key>,
    source: Arc<NamedSource>,
}

/// Appends a subtree's hits with its name in front of their paths.
fn prefix_into(out: &mut Vec<TreeHit>, subtree: Option<(Vec<u8>, Rc<[TreeHit]>)>) {
    let Some((name, sub)) = subtree else {
        return;
    };
    for hit in sub.iter() {
        let mut path = Vec::with_capacity(name.len() + 1 + hit.path.len());
        path.extend_from_slice(&name);
        path.push(b'/');
        path.extend_from_slice(&hit.path);
        out.push(TreeHit {
            path,
            object: hit.object,
            name_needle: hit.name_needle,
        });
    }
}

/// Walks trees with a memo so each tree is read once however many commits share it.
pub struct TreeWalker<'a> {
    /// None for a [`twin`](TreeWalker::twin) on another thread (libgit2's handle is for one thread).
    repo: Option<&'a Repo>,
    /// Finds the tokens in entry names.
    names: &'a dyn Detector,
    /// The secret (an index into the scan's secrets) a needle stands for.
    secret_of: &'a SecretOf<'a>,
    blob_hits: &'a IdMap<Oid, &'a ObjectHits>,
    /// Trees whose raw bytes matched: only their entry names need checking.
    name_trees: &'a IdSet<Oid>,
    memo: IdMap<Oid, Rc<[TreeHit]>>,
    /// The hit list of every tree whose hits all come from one subtree, by that subtree's name and
    /// list: on a long history most root trees differ from their parent's outside the one directory
    /// that leads to a match, and they share one list (a commit whose list is its parent's, the same
    /// one, carries nothing new), not a copy each. The lists are kept alive by the memo, so a list's
    /// address names it.
    shared: IdMap<(Vec<u8>, usize), Rc<[TreeHit]>>,
    empty: Rc<[TreeHit]>,
    /// Matching blobs seen under some tree (the rest are held by no commit).
    pub seen_blobs: IdSet<Oid>,
    pub missing_trees: IdSet<Oid>,
    /// When known: the only trees that can hold a target (others are not read), and where their
    /// entries come from.
    restriction: Option<Restriction>,
}

impl<'a> TreeWalker<'a> {
    pub fn new(
        repo: &'a Repo,
        names: &'a dyn Detector,
        secret_of: &'a SecretOf<'a>,
        blob_hits: &'a IdMap<Oid, &'a ObjectHits>,
        name_trees: &'a IdSet<Oid>,
    ) -> Self {
        TreeWalker::with(Some(repo), names, secret_of, blob_hits, name_trees, None)
    }

    /// A walker reading through `repo` (none on another thread: see [`twin`](Self::twin)), only the
    /// trees `restriction` admits when there is one.
    fn with(
        repo: Option<&'a Repo>,
        names: &'a dyn Detector,
        secret_of: &'a SecretOf<'a>,
        blob_hits: &'a IdMap<Oid, &'a ObjectHits>,
        name_trees: &'a IdSet<Oid>,
        restriction: Option<Restriction>,
    ) -> Self {
        TreeWalker {
            repo,
            names,
            secret_of,
            blob_hits,
            name_trees,
            memo: IdMap::default(),
            shared: IdMap::default(),
            empty: Rc::from(Vec::new()),
            seen_blobs: IdSet::default(),
            missing_trees: IdSet::default(),
            restriction,
        }
    }

    /// What a second walker on another thread needs: only where every tree it may read comes from the
    /// graph with names (none is read through libgit2).
    pub(crate) fn twin(&self) -> Option<Twin<'a>> {
        let Some(Restriction::Named(closure, source)) = &self.restriction else {
            return None;
        };
        if source.reads_whole() {
            return None;
        }
        Some(Twin {
            names: self.names,
            secret_of: self.secret_of,
            blob_hits: self.blob_hits,
            name_trees: self.name_trees,
            closure: closure.clone(),
            source: source.clone(),
        })
    }

    /// A walker made from a [`twin`](Self::twin), on the thread that uses it.
    fn from_twin(twin: Twin<'a>) -> Self {
        let restriction = Restriction::Named(twin.closure, twin.source);
        let Twin {
            names,
            secret_of,
            blob_hits,
            name_trees,
            ..
        } = twin;
        TreeWalker::with(
            None,
            names,
            secret_of,
            blob_hits,
            name_trees,
            Some(restriction),
        )
    }

    /// Limits reading to the trees a closure found, with their entries from where `restriction` says.
    pub fn restrict_to(&mut self, restriction: Restriction) {
        self.restriction = Some(restriction);
    }

    /// Whether walking can find anything at all (no matching blob and no matching tree: nothing to map).
    pub fn has_targets(&self) -> bool {
        !self.blob_hits.is_empty() || !self.name_trees.is_empty()
    }

    /// Every hit under `tree`, with paths relative to it.
    pub fn hits(&mut self, tree: Oid) -> Rc<[TreeHit]> {
        if !self.has_targets() {
            return self.empty.clone();
        }
        // A tree in the memo was admitted: most visits are repeats (a parent's tree, a subtree many
        // trees share), and they cost one lookup.
        if let Some(found) = self.memo.get(&tree) {
            return found.clone();
        }
        if self.restriction.as_ref().is_some_and(|r| !r.admits(&tree)) {
            return self.empty.clone();
        }
        let result = self.read(tree);
        self.memo.insert(tree, result.clone());
        result
    }

    fn read(&mut self, tree_id: Oid) -> Rc<[TreeHit]> {
        let entries = match &self.restriction {
            Some(restriction) => restriction.entries(self.repo, tree_id),
            None => self
                .repo
                .filter(|repo| repo.may_read(tree_id))
                .and_then(|repo| repo.tree_entries(tree_id)),
        };
        let Some(entries) = entries else {
            self.missing_trees.insert(tree_id);
            return self.empty.clone();
        };
        let check_names = self.name_trees.contains(&tree_id);
        let mut out: Vec<TreeHit> = Vec::new();
        // The first subtree with hits, not yet copied into `out`: when it is the only source of hits,
        // the tree's list is the one every tree holding that subtree under that name shares.
        let mut first: Option<(Vec<u8>, Rc<[TreeHit]>)> = None;
        let mut name_hits = Vec::new();
        for (name, oid, kind) in entries {
            if check_names {
                name_hits.clear();
                self.names.find_all(&name, &mut name_hits);
                for hit in &name_hits {
                    prefix_into(&mut out, first.take());
                    out.push(TreeHit {
                        path: name.clone(),
                        object: tree_id,
                        name_needle: Some(hit.needle),
                    });
                }
            }
            match kind {
                Some(ObjectKind::Blob) if self.blob_hits.contains_key(&oid) => {
                    self.seen_blobs.insert(oid);
                    prefix_into(&mut out, first.take());
                    out.push(TreeHit {
                        path: name,
                        object: oid,
                        name_needle: None,
                    });
                }
                Some(ObjectKind::Tree) => {
                    let sub = self.hits(oid);
                    if sub.is_empty() {
                        continue;
                    }
                    if out.is_empty() && first.is_none() {
                        first = Some((name, sub));
                    } else {
                        prefix_into(&mut out, first.take());
                        prefix_into(&mut out, Some((name, sub)));
                    }
                }
                _ => {}
            }
        }
        match first {
            Some((name, sub)) if out.is_empty() => {
                let key = (name, Rc::as_ptr(&sub).cast::<u8>() as usize);
                self.shared
                    .entry(key)
                    .or_insert_with_key(|(name, _)| {
                        let mut out = Vec::with_capacity(sub.len());
                        prefix_into(&mut out, Some((name.clone(), sub.clone())));
                        Rc::from(out)
                    })
                    .clone()
            }
            first => {
                prefix_into(&mut out, first);
                if out.is_empty() {
                    self.empty.clone()
                } else {
                    Rc::from(out)
                }
            }
        }
    }

    /// The secrets a tree hit carries.
    pub fn secrets_of(&self, hit: &TreeHit) -> Vec<usize> {
        let mut secrets: Vec<usize> = match hit.name_needle {
            Some(needle) => vec![(self.secret_of)(needle)],
            None => self
                .blob_hits
                .get(&hit.object)
                .map(|h| h.hits.iter().map(|x| (self.secret_of)(x.needle)).collect())
                .unwrap_or_default(),
        };
        secrets.sort_unstable();
        secrets.dedup();
        secrets
    }
}

/// For every commit whose tree holds a token: the (path, secret) pairs no parent holds, in the order of
/// `commits`.
///
/// With `parallel`, and a walker whose trees all come from the graph with names (audit), a second walker
/// on another thread shares the work: on git's history 200,000 commits carry the test keyring and this
/// walk was half of audit's time after the pass. The commits are taken in runs of consecutive commit
/// times, each walker taking the next run when it is done with one: a run keeps most parents beside
/// their children, so few trees are walked by both, and neither walker waits for the other (later
/// history holds more trees per commit, so halves by time were uneven, one walker twice the other).
pub fn introductions(
    walker: &mut TreeWalker<'_>,
    commits: &[CommitRecord],
    graph: &CommitGraph,
    parallel: bool,
) -> (Vec<Introduction>, usize) {
    if !walker.has_targets() {
        return (Vec::new(), 0);
    }
    let twin = walker.twin().filter(|_| parallel && commits.len() > 1);
    let Some(twin) = twin else {
        let all: Vec<usize> = (0..commits.len()).collect();
        let (found, missing_parents) = introductions_among(walker, commits, &all, graph);
        return (found.into_iter().map(|(_, i)| i).collect(), missing_parents);
    };
    // Which walker reads which commit changes no answer (each commit is weighed against its parents),
    // only how many trees both read: ties in time may fall in any order.
    let mut by_time: Vec<(i64, u32)> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.commit_time, i as u32))
        .collect();
    by_time.sort_unstable();
    let by_time: Vec<usize> = by_time.into_iter().map(|(_, i)| i as usize).collect();
    let runs = Runs {
        order: &by_time,
        size: (by_time.len() / 64).max(RUN_MIN),
        next: AtomicUsize::new(0),
    };
    let runs = &runs;
    let walk = |walker: &mut TreeWalker<'_>| {
        let (mut found, mut missing_parents) = (Vec::new(), 0);
        while let Some(run) = runs.take() {
            let (more, missing) = introductions_among(walker, commits, run, graph);
            found.extend(more);
            missing_parents += missing;
        }
        (found, missing_parents)
    };
    let (mut found, missing_parents) = std::thread::scope(|scope| {
        let theirs = scope.spawn(move || {
            let mut walker = TreeWalker::from_twin(twin);
            let found = walk(&mut walker);
            (found, walker.seen_blobs, walker.missing_trees)
        });
        let (mut found, mut missing_parents) = walk(walker);
        let ((their_found, their_missing), seen, missing) = match theirs.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        found.extend(their_found);
        missing_parents += their_missing;
        walker.seen_blobs.extend(seen);
        walker.missing_trees.extend(missing);
        (found, missing_parents)
    });
    // Each commit's introductions come from one walker, in order: a stable sort by commit restores
    // the order one walker gives.
    found.sort_by_key(|(commit, _)| *commit);
    (found.into_iter().map(|(_, i)| i).collect(), missing_parents)
}

/// The fewest commits in a run the walkers take (past 4,096 commits, a 64th of them): a run's first
/// commits may have their parents' trees in another walker's run, read again here.
const RUN_MIN: usize = 64;

/// Runs of commits (indices into the commits, in `order`) handed out one at a time to the walkers.
struct Runs<'a> {
    order: &'a [usize],
    size: usize,
    /// Where the next run starts.
    next: AtomicUsize,
}

impl Runs<'_> {
    /// The next run, none when every run is taken.
    fn take(&self) -> Option<&[usize]> {
        let start = self.next.fetch_add(self.size, Ordering::Relaxed);
        let end = start.checked_add(self.size)?.min(self.order.len());
        self.order.get(start..end).filter(|run| !run.is_empty())
    }
}

/// [`introductions`] for the commits at `indices` (into `commits`), each with its index.
fn introductions_among(
    walker: &mut TreeWalker<'_>,
    commits: &[CommitRecord],
    indices: &[usize],
    graph: &CommitGraph,
) -> (Vec<(usize, Introduction)>, usize) {
    let mut out = Vec::new();
    let mut missing_parents = 0;
    for &index in indices {
        let commit = &commits[index];
        let hits = walker.hits(commit.tree);
        if hits.is_empty() {
            continue;
        }
        let parents = graph.parents(index as u32);
        missing_parents += commit.parents.len() - parents.len();
        // Most commits carry what a parent carried, at the same paths (on git's history, 200k commits
        // carry the test keyring): nothing is new, and no set needs building.
        if parents.iter().any(|&parent| {
            let theirs = walker.hits(commits[parent as usize].tree);
            Rc::ptr_eq(&theirs, &hits) || same_hits(&theirs, &hits)
        }) {
            continue;
        }
        let mut inherited: HashSet<(Vec<u8>, usize)> = HashSet::new();
        for &parent in parents {
            for hit in walker.hits(commits[parent as usize].tree).iter() {
                for secret in walker.secrets_of(hit) {
                    inherited.insert((hit.path.clone(), secret));
                }
            }
        }
        for hit in hits.iter() {
            let new: Vec<usize> = walker
                .secrets_of(hit)
                .into_iter()
                .filter(|s| !inherited.contains(&(hit.path.clone(), *s)))
                .collect();
            if !new.is_empty() {
                out.push((
                    index,
                    Introduction {
                        commit: commit.oid,
                        hit: hit.clone(),
                        secrets: new,
                    },
                ));
            }
        }
    }
    (out, missing_parents)
}

/// Whether two lists of tree hits are the same hits in the same order (the walk lists a tree's hits
/// in entry order, so equal trees below give equal lists).
fn same_hits(a: &[TreeHit], b: &[TreeHit]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.object == y.object && x.name_needle == y.name_needle && x.path == y.path
        })
}

/// Which tips contain each target commit, in one pass over the commits (parents first) with a bitset
/// per commit.
pub fn containment(
    graph: &CommitGraph,
    pass: &PassResult,
    tips: &[Tip],
    targets: &[Oid],
) -> IdMap<Oid, Containment> {
    let mut result: IdMap<Oid, Containment> = targets
        .iter()
        .map(|t| (*t, Containment::default()))
        .collect();
    if targets.is_empty() {
        return result;
    }
    let words = targets.len().div_ceil(64);
    let n = pass.commits.len();
    let mut bits = vec![0u64; n * words];
    for (t, target) in targets.iter().enumerate() {
        if let Some(i) = graph.position(target) {
            bits[i as usize * words + t / 64] |= 1 << (t % 64);
        }
    }
    for &node in graph.order() {
        for &parent in graph.parents(node) {
            for w in 0..words {
                let from = bits[parent as usize * words + w];
                bits[node as usize * words + w] |= from;
            }
        }
    }
    let tag_targets: IdMap<Oid, Oid> = pass.tags.iter().map(|t| (t.oid, t.target)).collect();
    for tip in tips {
        let target = peel_tags(&tag_targets, tip.target);
        let Some(i) = graph.position(&target) else {
            continue;
        };
        let row = &bits[i as usize * words..(i as usize + 1) * words];
        for (t, oid) in targets.iter().enumerate() {
            if row[t / 64] & (1 << (t % 64)) != 0 {
                let entry = result.get_mut(oid).expect("every target has an entry");
                match tip.kind {
                    TipKind::Ref | TipKind::Stash => entry.refs.push(tip.name.clone()),
                    TipKind::Reflog => entry.reflogs.push(tip.name.clone()),
                }
            }
        }
    }
    for entry in result.values_mut() {
        entry.refs.sort();
        entry.refs.dedup();
        entry.reflogs.sort_by_key(|name| reflog_order(name));
        entry.reflogs.dedup();
    }
    result
}

/// `refs/heads/main@{10}` sorts after `refs/heads/main@{9}`.
fn reflog_order(name: &str) -> (String, u64) {
    match name.rsplit_once("@{") {
        Some((base, index)) => (
            base.to_string(),
            index.trim_end_matches('}').parse().unwrap_or(u64::MAX),
        ),
        None => (name.to_string(), 0),
    }
}

/// Follows annotated tags (and tags of tags, a few levels) to what they finally name.
fn peel_tags(tag_targets: &IdMap<Oid, Oid>, mut target: Oid) -> Oid {
    for _ in 0..8 {
        match tag_targets.get(&target) {
            Some(next) => target = *next,
            None => break,
        }
    }
    target
}

/// The set of commits reachable from any tip (refs, stash and reflog entries), for `--reachable-only`.
pub fn reachable_commits(graph: &CommitGraph, pass: &PassResult, tips: &[Tip]) -> IdSet<Oid> {
    let tag_targets: IdMap<Oid, Oid> = pass.tags.iter().map(|t| (t.oid, t.target)).collect();
    let mut seen = vec![false; pass.commits.len()];
    let mut stack: Vec<u32> = tips
        .iter()
        .filter_map(|tip| graph.position(&peel_tags(&tag_targets, tip.target)))
        .collect();
    while let Some(position) = stack.pop() {
        if !std::mem::replace(&mut seen[position as usize], true) {
            stack.extend_from_slice(graph.parents(position));
        }
    }
    pass.commits
        .iter()
        .zip(seen)
        .filter(|(_, seen)| *seen)
        .map(|(commit, _)| commit.oid)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::pack::Lineage;
    use crate::matching::delta::random::{delta_of, Rng};

    /// Raw tree bytes: entries of every kind (a zero-padded subtree mode too) naming ids from `ids`,
    /// and now and then bytes that are no entry at all.
    fn entries(rng: &mut Rng, ids: &[Oid], count: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..count {
            if rng.below(25) == 0 {
                out.extend_from_slice(b"junk");
                continue;
            }
            let mode = ["100644", "100755", "40000", "040000", "160000", "120000"][rng.below(6)];
            out.extend_from_slice(mode.as_bytes());
            out.push(b' ');
            out.extend_from_slice(["a", "b.txt", "dir", "x"][rng.below(4)].as_bytes());
            out.push(0);
            out.extend_from_slice(ids[rng.below(ids.len())].as_bytes());
        }
        out
    }

    /// The subtree entries a walk hands on.
    fn walk(
        missing: &MissingBlobs,
        here: &mut MissingHere,
        oid: Oid,
        data: &[u8],
        lineage: Lineage<'_>,
    ) -> Vec<(Vec<u8>, Oid)> {
        let mut seen = Vec::new();
        // What the caller notes of an entry comes back only for an entry with the same name and id.
        let note = |name: &[u8], id: Oid| {
            let mut hasher = std::hash::DefaultHasher::new();
            std::hash::Hash::hash(&(name, id), &mut hasher);
            std::hash::Hasher::finish(&hasher)
        };
        missing.walk(here, ReadTree { oid, data, lineage }, |name, id, noted| {
            assert!(noted.is_none_or(|n| n == note(name, id)));
            seen.push((name.to_vec(), id));
            Some(note(name, id))
        });
        seen
    }

    /// What the walks found: missing blobs, missing subtrees and malformed trees.
    fn found(here: &MissingHere) -> (Vec<Oid>, Vec<Oid>, Vec<Oid>) {
        let sorted = |set: &IdSet<Oid>| {
            let mut ids: Vec<Oid> = set.iter().copied().collect();
            ids.sort();
            ids
        };
        (
            sorted(&here.missing),
            sorted(&here.missing_trees),
            here.malformed.clone(),
        )
    }

    /// A delta tree's entries copied whole from its base's entries are taken from the base's list, not
    /// parsed and looked up again: the entries handed on, and what is found missing (blob or subtree)
    /// and malformed, must be what a walk of every entry finds.
    #[test]
    fn delta_trees_walk_to_what_a_full_walk_finds() {
        let ids: Vec<Oid> = (1..=10u8)
            .map(|n| Oid::from_bytes(&[n; 20]).unwrap())
            .collect();
        let missing = MissingBlobs {
            present: ids[..5].iter().copied().collect(),
        };
        for case in 0..3000u64 {
            let mut rng = Rng::for_case(case);
            let count = rng.below(12);
            let mut tree = entries(&mut rng, &ids, count);
            let (mut carried, mut full) = (MissingHere::default(), MissingHere::default());
            let root = Oid::from_bytes(&[200; 20]).unwrap();
            let whole = ReadTree {
                oid: root,
                data: &tree,
                lineage: Lineage::WHOLE,
            };
            missing.record(&mut carried, whole);
            missing.record(&mut full, whole);

            for depth in 1..4 {
                // Copies of whole entries and of runs cut anywhere (an id under another mode, half
                // an id), and inserted entries.
                let (next, copies) = delta_of(&mut rng, &tree, 8, |rng| {
                    let count = rng.below(3);
                    entries(rng, &ids, count)
                });
                let oid = Oid::from_bytes(&[depth as u8; 20]).unwrap();
                let lineage = Lineage {
                    depth,
                    copies: Some(&copies),
                };
                let seen_carried = walk(&missing, &mut carried, oid, &next, lineage);
                let seen_full = walk(&missing, &mut full, oid, &next, Lineage::WHOLE);
                assert_eq!(seen_carried, seen_full, "case {case}, depth {depth}");
                assert_eq!(found(&carried), found(&full), "case {case}, depth {depth}");
                tree = next;
            }
        }
    }
}
