//! The tree graph with names, recorded by the object pass's tree read for audit, so provenance needs
//! no second read of the trees however many lead to a match.
//!
//! Audit on a long history often finds something every commit carries (git's own history: the test
//! keyring's private keys, under most of 382k trees). Provenance then walks tens of thousands of trees.
//! The scan's graph knows only which tree holds which (by a 4-byte key), so those trees had to be read
//! again, in one more tree-only pass, to learn the names on the way. Here the tree read keeps, for every
//! subtree entry, the child's key and its name (each distinct name stored once), and for the trees
//! holding a target blob or a wanted file, those entries whole: what the walkers follow, and nothing
//! else. One 8-byte word a subtree entry: the child's 48-bit key and its name's number.
//!
//! A tree's key is 48 bits of a keyed hash (SipHash, key drawn per run) of its whole id, not a slice of
//! the id: a tree can name any 20 bytes as a subtree, so a missing subtree could copy any prefix of a
//! real one and be walked as that one; it cannot aim at a key it does not know. Two trees read whose
//! keys collide (about one run in 4,000 on git's size) make provenance fall back to reading trees again
//! by full id; so do more than 65,535 distinct directory names in one worker's share. A missing subtree
//! shares a read tree's key with odds of one in 2^48 over the number of trees, and is otherwise seen
//! for what it is: a tree never read.

use super::idhash::{IdMap, IdSet};
use crate::git::pack::ObjectKind;
use crate::git::{Oid, Repo, TreeEntry};
use std::collections::HashMap;

/// A tree's key in the named graph (48 bits).
pub type Key = u64;

/// The bytes of a key a [`stand_in`] id carries.
const KEY_BYTES: usize = 6;

/// The rest of a stand-in id: no object id ends so by chance, and an id crafted to would still have
/// to guess a key.
const STAND_IN: &[u8; 14] = b"unleak-standin";

/// The key of a raw id (20 bytes): 48 bits of this run's keyed hash of it, or the key a stand-in
/// carries.
pub fn key_of(id: &[u8]) -> Key {
    if id[KEY_BYTES..] == STAND_IN[..] {
        let mut word = [0u8; 8];
        word[..KEY_BYTES].copy_from_slice(&id[..KEY_BYTES]);
        return Key::from_le_bytes(word);
    }
    static RUN_KEY: std::sync::OnceLock<std::hash::RandomState> = std::sync::OnceLock::new();
    use std::hash::BuildHasher;
    RUN_KEY
        .get_or_init(std::hash::RandomState::new)
        .hash_one(id)
        & ((1 << 48) - 1)
}

/// A subtree entry in one word: the child's key, its name's number in the top 16 bits.
fn edge(child: Key, name: u16) -> u64 {
    child | (u64::from(name) << 48)
}

/// The child key and name number of an edge word.
fn split(word: u64) -> (Key, u16) {
    (word & ((1 << 48) - 1), (word >> 48) as u16)
}

/// A stand-in id for a tree known only by its key: the key, then [`STAND_IN`]. The walkers memoize by
/// id and look trees up by key ([`key_of`] gives the key back).
fn stand_in(tree: Key) -> Oid {
    let mut bytes = [0u8; 20];
    bytes[..KEY_BYTES].copy_from_slice(&tree.to_le_bytes()[..KEY_BYTES]);
    bytes[KEY_BYTES..].copy_from_slice(STAND_IN);
    Oid::from_bytes(&bytes).expect("20 bytes")
}

/// The most bytes of distinct directory names a worker holds (git's history needs a few hundred KiB): a
/// crafted tree of huge names must not make the scan hold them all; past this, the old reads serve.
const NAME_BYTES: usize = 32 << 20;

/// Passes over the runs a closure may take (git's history needs two or three).
const PASSES: usize = 32;

/// Words per chunk of runs (256 KiB): a growing vector would hold up to twice what it uses.
const RUN_CHUNK: usize = 1 << 15;

/// One worker's share of the named graph.
#[derive(Default)]
pub struct NamedRecords {
    /// Per tree with subtrees: its key, their number, then an [`edge`] per subtree.
    runs: Vec<Vec<u64>>,
    /// The current tree's subtrees, as [`edge`]s.
    children: Vec<u64>,
    names: HashMap<Box<[u8]>, u16>,
    /// Bytes of the distinct names held.
    name_bytes: usize,
    /// More distinct names than 16 bits number, or more name bytes than [`NAME_BYTES`].
    too_many_names: bool,
    /// Every tree read (for the collision check and to tell a missing tree).
    trees: Vec<Key>,
    /// Wanted blob entries (target blobs, wanted files): (tree, name, blob).
    direct: Vec<(Key, Box<[u8]>, Oid)>,
    targets: Vec<Key>,
    wanted: Vec<Key>,
}

impl NamedRecords {
    /// Notes one subtree entry of the tree being read; returns the word noted, which
    /// [`same_subtree`](Self::same_subtree) takes for an entry with the same name and id (none when
    /// there are too many names to number).
    pub fn subtree(&mut self, name: &[u8], id: &[u8]) -> Option<u64> {
        let number = match self.names.get(name) {
            Some(number) => *number,
            None => {
                let Ok(next) = u16::try_from(self.names.len()) else {
                    self.too_many_names = true;
                    return None;
                };
                if self.name_bytes + name.len() > NAME_BYTES {
                    self.too_many_names = true;
                    return None;
                }
                self.name_bytes += name.len();
                self.names.insert(name.into(), next);
                next
            }
        };
        let word = edge(key_of(id), number);
        self.children.push(word);
        Some(word)
    }

    /// Notes a subtree entry whose name and id are those of one [`subtree`](Self::subtree) noted
    /// earlier, as the `word` it returned: a delta tree repeats most of its base's entries, and
    /// numbering the name and hashing the id again would give the same word.
    pub fn same_subtree(&mut self, word: u64) {
        self.children.push(word);
    }

    /// Ends the tree being read: stores its subtrees.
    pub fn finish_tree(&mut self, tree: &Oid) {
        let parent = key_of(tree.as_bytes());
        self.trees.push(parent);
        let n = self.children.len();
        if n == 0 {
            return;
        }
        let words = 2 + n;
        if self
            .runs
            .last()
            .is_none_or(|chunk| chunk.len() + words > chunk.capacity())
        {
            self.runs.push(Vec::with_capacity(RUN_CHUNK.max(words)));
        }
        let chunk = self.runs.last_mut().expect("a chunk was just made");
        chunk.extend([parent, n as u64]);
        chunk.append(&mut self.children);
    }

    /// Notes a wanted blob entry of `tree`: a target blob, a wanted file, or both.
    pub fn direct(&mut self, tree: &Oid, name: &[u8], blob: Oid, target: bool, wanted: bool) {
        let tree = key_of(tree.as_bytes());
        self.direct.push((tree, name.into(), blob));
        for (list, yes) in [(&mut self.targets, target), (&mut self.wanted, wanted)] {
            if yes && list.last() != Some(&tree) {
                list.push(tree);
            }
        }
    }
}

/// (parent, its children) of each run of a chunk: a run is the parent's word, the children's number,
/// then a word per child. The graph with names and the scan's keys-only graph both store runs so.
pub fn runs<W: Copy + Into<u64>>(chunk: &[W]) -> impl Iterator<Item = (W, &[W])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let (parent, n) = (
            *chunk.get(at)?,
            usize::try_from((*chunk.get(at + 1)?).into()).ok()?,
        );
        let children = chunk.get(at + 2..at.checked_add(2 + n)?)?;
        at += 2 + n;
        Some((parent, children))
    })
}

/// The child key and name number of each subtree of a run.
fn children(run: &[u64]) -> impl Iterator<Item = (Key, u16)> + '_ {
    run.iter().map(|&word| split(word))
}

/// A wanted blob entry of a tree: its name and the blob.
type NamedBlob = (Box<[u8]>, Oid);

/// Every worker's records joined: the named graph provenance walks.
pub struct NamedTrees {
    runs: Vec<Vec<u64>>,
    names: Vec<Box<[u8]>>,
    /// Every tree read, sorted.
    trees: Vec<Key>,
    direct: IdMap<Key, Vec<NamedBlob>>,
    /// Trees directly holding a target blob.
    pub targets: Vec<Key>,
    /// Trees directly holding a wanted file.
    pub wanted: Vec<Key>,
    /// Two trees read share a key, or the names outgrew their numbers or their budget: the graph
    /// cannot be trusted to tell trees or names apart, and provenance reads trees again by full id.
    pub collision: bool,
}

impl NamedTrees {
    /// Joins the workers' records; name numbers become global.
    pub fn merge(parts: Vec<NamedRecords>) -> NamedTrees {
        let mut joined = NamedTrees {
            runs: Vec::new(),
            names: Vec::new(),
            trees: Vec::new(),
            direct: IdMap::default(),
            targets: Vec::new(),
            wanted: Vec::new(),
            collision: false,
        };
        let mut global: HashMap<Box<[u8]>, u16> = HashMap::new();
        for part in parts {
            joined.collision |= part.too_many_names;
            // This worker's name numbers -> global ones.
            let mut local = vec![0u16; part.names.len()];
            for (name, number) in part.names {
                let id = match global.get(&name) {
                    Some(id) => *id,
                    None => {
                        let Ok(next) = u16::try_from(joined.names.len()) else {
                            joined.collision = true;
                            continue;
                        };
                        global.insert(name.clone(), next);
                        joined.names.push(name);
                        next
                    }
                };
                local[usize::from(number)] = id;
            }
            for mut chunk in part.runs {
                let mut at = 0;
                while at + 2 <= chunk.len() {
                    let n = chunk[at + 1] as usize;
                    for word in chunk.iter_mut().skip(at + 2).take(n) {
                        let (child, name) = split(*word);
                        *word = edge(child, local[usize::from(name)]);
                    }
                    at += 2 + n;
                }
                joined.runs.push(chunk);
            }
            joined.trees.extend(part.trees);
            for (tree, name, blob) in part.direct {
                joined.direct.entry(tree).or_default().push((name, blob));
            }
            joined.targets.extend(part.targets);
            joined.wanted.extend(part.wanted);
        }
        joined.trees.sort_unstable();
        joined.collision |= joined.trees.windows(2).any(|pair| pair[0] == pair[1]);
        joined
    }

    /// The given trees and every tree above them, or None when that takes more than [`PASSES`]
    /// passes over the runs (a crafted history nesting directories thousands deep in a bad order:
    /// the caller then reads trees again by full id). Runs are in pack order, not parents after
    /// children, so passes alternate direction: one pass climbs any number of levels whose runs come
    /// children first.
    pub fn closure(&self, direct: impl IntoIterator<Item = Key>) -> Option<IdSet<Key>> {
        let mut reached = KeySet::from(direct.into_iter().collect::<IdSet<Key>>());
        if reached.set.is_empty() {
            return Some(reached.set);
        }
        let visit = |reached: &mut KeySet, parent: Key, run: &[u64]| {
            if !reached.contains(parent) && children(run).any(|(child, _)| reached.contains(child))
            {
                reached.insert(parent);
                return true;
            }
            false
        };
        for pass in 0..PASSES {
            let mut grew = false;
            if pass % 2 == 0 {
                for chunk in self.runs.iter().rev() {
                    let all: Vec<(Key, &[u64])> = runs(chunk).collect();
                    for (parent, run) in all.into_iter().rev() {
                        grew |= visit(&mut reached, parent, run);
                    }
                }
            } else {
                for chunk in &self.runs {
                    for (parent, run) in runs(chunk) {
                        grew |= visit(&mut reached, parent, run);
                    }
                }
            }
            if !grew {
                return Some(reached.set);
            }
        }
        None
    }

    /// Whether `tree` was read (a tree some commit or tree names but the database lacks was not).
    fn was_read(&self, tree: Key) -> bool {
        self.trees.binary_search(&tree).is_ok()
    }
}

/// Bits in a [`KeySet`]'s filter: 128 KiB, which stays in the processor's cache.
const FILTER_BITS: usize = 1 << 20;

/// A set of tree keys with a bitmap of their low bits in front: keys are uniform hashes, so a key
/// whose bit is clear is not in the set, and saying so costs no hash lookup. A closure asks about every
/// subtree entry of the history in each pass (a few million on git's), nearly all of them not reached
/// (those lookups were a third of audit's time after the pass); the walkers ask about every subtree of
/// each tree they enter.
struct KeySet {
    set: IdSet<Key>,
    bits: Vec<u64>,
}

impl From<IdSet<Key>> for KeySet {
    fn from(set: IdSet<Key>) -> Self {
        let mut bits = vec![0; FILTER_BITS / 64];
        for &key in &set {
            let (word, mask) = KeySet::bit(key);
            bits[word] |= mask;
        }
        KeySet { set, bits }
    }
}

impl KeySet {
    /// The word of the bitmap that holds `key`'s bit, and the bit.
    fn bit(key: Key) -> (usize, u64) {
        let bit = key as usize % FILTER_BITS;
        (bit / 64, 1 << (bit % 64))
    }

    fn insert(&mut self, key: Key) {
        let (word, mask) = KeySet::bit(key);
        self.bits[word] |= mask;
        self.set.insert(key);
    }

    fn contains(&self, key: Key) -> bool {
        let (word, mask) = KeySet::bit(key);
        self.bits[word] & mask != 0 && self.set.contains(&key)
    }
}

/// The named graph as the walkers read it: the entries they follow, for the trees in `keep`.
pub struct NamedSource {
    trees: NamedTrees,
    /// Trees whose entries walkers follow (the closures they walk, joined).
    keep: KeySet,
    /// Where the run of each tree in `keep` is: (chunk, word offset). Only those: an index of every
    /// tree with subtrees cost 33 MiB on git's history.
    index: IdMap<Key, (u32, u32)>,
    /// Trees whose entry names hold a token, by key: read whole (every name is checked), and
    /// named by their real id so the walker knows them.
    whole: IdMap<Key, Oid>,
}

impl NamedSource {
    /// `keep`: the trees walkers may enter; `whole`: trees to read whole through libgit2.
    pub fn new(trees: NamedTrees, keep: IdSet<Key>, whole: impl IntoIterator<Item = Oid>) -> Self {
        let keep = KeySet::from(keep);
        let mut index = IdMap::default();
        for (number, chunk) in trees.runs.iter().enumerate() {
            let mut at = 0;
            for (parent, run) in runs(chunk) {
                if keep.contains(parent) {
                    index.insert(parent, (number as u32, at as u32));
                }
                at += 2 + run.len();
            }
        }
        NamedSource {
            trees,
            keep,
            index,
            whole: whole
                .into_iter()
                .map(|oid| (key_of(oid.as_bytes()), oid))
                .collect(),
        }
    }

    /// Whether some trees are read whole, through libgit2 (see [`NamedSource::new`]).
    pub fn reads_whole(&self) -> bool {
        !self.whole.is_empty()
    }

    /// The entries of `tree` a walker follows (subtrees it may enter, wanted blobs); None for a tree
    /// the database lacks. `repo` reads the trees read whole (none when it is absent).
    pub fn entries(&self, repo: Option<&Repo>, tree: Oid) -> Option<Vec<TreeEntry>> {
        let at = key_of(tree.as_bytes());
        if self.whole.get(&at) == Some(&tree) {
            return repo
                .filter(|repo| repo.may_read(tree))
                .and_then(|repo| repo.tree_entries(tree));
        }
        // A tree walkers may enter was read (it holds a wanted blob or a subtree that leads to one);
        // only another one can be missing from the database.
        if !self.keep.contains(at) && !self.trees.was_read(at) {
            return None;
        }
        let mut out = Vec::new();
        if let Some(&(chunk, offset)) = self.index.get(&at) {
            let chunk = &self.trees.runs[chunk as usize];
            let n = chunk[offset as usize + 1] as usize;
            let run = &chunk[offset as usize + 2..offset as usize + 2 + n];
            for (child, name) in children(run) {
                if self.keep.contains(child) {
                    let id = self
                        .whole
                        .get(&child)
                        .copied()
                        .unwrap_or_else(|| stand_in(child));
                    let name = self.trees.names[usize::from(name)].to_vec();
                    out.push((name, id, Some(ObjectKind::Tree)));
                }
            }
        }
        if let Some(blobs) = self.trees.direct.get(&at) {
            for (name, blob) in blobs {
                out.push((name.to_vec(), *blob, Some(ObjectKind::Blob)));
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An id whose first six bytes are `n`'s, the rest `fill`.
    fn id(n: u8, fill: u8) -> Oid {
        let mut bytes = [fill; 20];
        bytes[..KEY_BYTES].copy_from_slice(&[n; KEY_BYTES]);
        Oid::from_bytes(&bytes).unwrap()
    }

    /// Records `tree` with `subtrees` (name, child) into `records`.
    fn tree(records: &mut NamedRecords, tree: Oid, subtrees: &[(&str, Oid)]) {
        for (name, child) in subtrees {
            records.subtree(name.as_bytes(), child.as_bytes());
        }
        records.finish_tree(&tree);
    }

    #[test]
    fn names_numbered_apart_by_two_workers_come_out_right_and_the_closure_climbs_every_level() {
        let (root, t, lib, key, other) = (id(1, 0), id(2, 0), id(3, 0), id(4, 0), id(5, 0));
        let blob = id(9, 9);
        // Worker one reads the deepest tree first and the root last; worker two the middle.
        let mut one = NamedRecords::default();
        one.direct(&lib, b"keyring.gpg", blob, true, false);
        tree(&mut one, lib, &[]);
        tree(&mut one, other, &[]);
        tree(&mut one, root, &[("Documentation", other), ("t", t)]);
        let mut two = NamedRecords::default();
        tree(&mut two, t, &[("lib-gpg", lib), ("Documentation", key)]);
        let trees = NamedTrees::merge(vec![one, two]);
        assert!(!trees.collision);
        let closure = trees.closure(trees.targets.clone()).unwrap();
        let expected: IdSet<Key> = [root, t, lib]
            .iter()
            .map(|oid| key_of(oid.as_bytes()))
            .collect();
        assert_eq!(closure, expected);

        let source = NamedSource::new(trees, closure, []);
        let repo_dir = tempfile::tempdir().unwrap();
        let init = std::process::Command::new("git")
            .args(["init", "-q"])
            .arg(repo_dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .unwrap();
        assert!(init.success());
        let repo = Repo::open(repo_dir.path()).unwrap();
        let names = |tree: Oid| -> Vec<(String, &str)> {
            let mut entries: Vec<_> = source
                .entries(Some(&repo), tree)
                .unwrap()
                .into_iter()
                .map(|(name, _, kind)| (String::from_utf8(name).unwrap(), kind.unwrap().as_str()))
                .collect();
            entries.sort();
            entries
        };
        assert_eq!(names(root), vec![("t".to_string(), "tree")]);
        assert_eq!(names(t), vec![("lib-gpg".to_string(), "tree")]);
        assert_eq!(names(lib), vec![("keyring.gpg".to_string(), "blob")]);
        // A tree never read is missing; one read with nothing kept is empty.
        assert!(source.entries(Some(&repo), id(7, 0)).is_none());
        assert_eq!(names(other), vec![]);
    }

    #[test]
    fn a_missing_subtree_copying_a_real_trees_prefix_is_not_that_tree() {
        // `fake` names 20 bytes that start like the real tree `t` but were never read: keys are hashes
        // of the whole id, so it is a tree the walk never enters, not `t`.
        let (root, t, fake) = (id(1, 0), id(2, 0), id(2, 0x11));
        let mut records = NamedRecords::default();
        records.direct(&t, b"secret.txt", id(9, 9), true, false);
        tree(&mut records, t, &[]);
        tree(&mut records, root, &[("real", t)]);
        let other = id(3, 0);
        tree(&mut records, other, &[("fake", fake)]);
        let trees = NamedTrees::merge(vec![records]);
        assert!(!trees.collision);
        let closure = trees.closure(trees.targets.clone()).unwrap();
        assert!(closure.contains(&key_of(t.as_bytes())));
        assert!(closure.contains(&key_of(root.as_bytes())));
        assert!(!closure.contains(&key_of(other.as_bytes())));
        assert!(!closure.contains(&key_of(fake.as_bytes())));
        assert!(!trees.was_read(key_of(fake.as_bytes())));
        // A stand-in gives its key back.
        assert_eq!(
            key_of(stand_in(key_of(t.as_bytes())).as_bytes()),
            key_of(t.as_bytes())
        );
    }

    #[test]
    fn a_tree_read_twice_or_too_many_names_are_not_trusted() {
        let mut records = NamedRecords::default();
        tree(&mut records, id(1, 0), &[]);
        tree(&mut records, id(1, 0), &[]);
        assert!(NamedTrees::merge(vec![records]).collision);

        let mut records = NamedRecords::default();
        let names: Vec<String> = (0..70_000).map(|n| format!("d{n}")).collect();
        let child = id(2, 0);
        let subtrees: Vec<(&str, Oid)> = names.iter().map(|n| (n.as_str(), child)).collect();
        tree(&mut records, id(3, 0), &subtrees);
        assert!(NamedTrees::merge(vec![records]).collision);

        // A few huge names (a crafted tree) are refused before they add up.
        let mut records = NamedRecords::default();
        let huge: Vec<String> = (0..5)
            .map(|n| format!("{n}{}", "x".repeat(8 << 20)))
            .collect();
        let subtrees: Vec<(&str, Oid)> = huge.iter().map(|n| (n.as_str(), child)).collect();
        tree(&mut records, id(4, 0), &subtrees);
        assert!(records.name_bytes <= NAME_BYTES);
        assert!(NamedTrees::merge(vec![records]).collision);
    }
}
