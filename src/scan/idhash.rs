//! Hash maps keyed by object ids (or their first eight bytes). Object ids are already uniformly
//! distributed, so hashing them again with SipHash only costs time: it was a sixth of audit's time on
//! git's history. This hasher folds the id's bytes instead. (A repository crafted to collide ids in
//! their low bits could slow a scan down; it cannot change its result.)

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Folds the bytes it is given; `finish` is the fold.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(23) ^ u64::from_le_bytes(word);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(23) ^ n;
    }

    /// Four-byte keys (tree keys) are spread over all 64 bits: the table reads the top bits too.
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }

    /// A `usize` is a length or an address, not a uniform id: spread like a tree key (an address's low
    /// bits are its alignment, its high bits the heap's).
    fn write_usize(&mut self, n: usize) {
        self.write_u64((n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
}

pub type BuildIdHasher = BuildHasherDefault<IdHasher>;
pub type IdMap<K, V> = HashMap<K, V, BuildIdHasher>;
pub type IdSet<K> = HashSet<K, BuildIdHasher>;
