//! Searching a delta object only where it differs from its base.
//!
//! A pack stores most objects as deltas: copy instructions that take runs of bytes from a base object,
//! and inserted bytes. On git's history nine tenths of the bytes the pass reads are copies. A search
//! that keeps each object's literal occurrences ([`Start`]s) can carry them over a delta's copies and
//! search only the rest: see [`starts_of`].

use super::{Literals, Start};
use crate::git::pack::Copied;

/// The bytes of a delta object that are not a plain copy of its base, with enough around them that no
/// literal occurrence is lost: copied back to back into one buffer, so one search call reads them all.
#[derive(Default)]
pub(crate) struct ChangedBytes {
    buffer: Vec<u8>,
    /// Per window: where it sits in `buffer`, where it came from in the object, and its length.
    windows: Vec<(usize, usize, usize)>,
    found: Vec<Start>,
}

/// A delta whose windows of changed bytes reach this share of it is searched whole.
const SEARCH_WHOLE_ABOVE: usize = 2;

/// Objects larger than this are searched whole and keep nothing for their deltas: what is kept per
/// object must stay small beside the object itself.
pub(crate) const CARRY_UP_TO: usize = 1 << 20;

/// At most this many occurrences are kept for an object's deltas (256 KiB of them). A crafted blob of
/// nothing but `sk-` has one every three bytes; past this many, the object's matches are decided as they
/// are found, holding nothing, and its deltas are searched whole.
pub(crate) const CARRY_AT_MOST: usize = 1 << 14;

/// What an object keeps for its deltas: every literal occurrence in it, or nothing (it was larger than
/// [`CARRY_UP_TO`] or held more than [`CARRY_AT_MOST`] occurrences; then its deltas are searched whole).
///
/// A visitor keeps one per delta depth and must rewrite the one for depth `d` for every object it is
/// handed at depth `d` (see [`crate::git::pack::Lineage`]): a delta takes its base's as complete.
#[derive(Default)]
pub(crate) struct Carried {
    starts: Vec<Start>,
    complete: bool,
}

impl Carried {
    /// Every occurrence, when they were kept.
    pub(crate) fn starts(&self) -> Option<&[Start]> {
        self.complete.then_some(&self.starts[..])
    }
}

/// Finds the occurrences of `literals` in `data` (see [`starts_of`]; `delta` has the copies that made
/// it and what its base kept) and keeps them in `keep` when there are few enough; returns them. When it
/// did not keep them, `keep` holds nothing and the caller searches `data` some other way.
pub(crate) fn carry<'k>(
    literals: &dyn Literals,
    data: &[u8],
    delta: Option<(&[Copied], &Carried)>,
    changed: &mut ChangedBytes,
    keep: &'k mut Carried,
) -> Option<&'k [Start]> {
    keep.starts.clear();
    let delta = delta.and_then(|(copies, base)| Some((copies, base.starts()?)));
    keep.complete = data.len() <= CARRY_UP_TO
        && starts_of(
            literals,
            data,
            delta,
            changed,
            &mut keep.starts,
            CARRY_AT_MOST,
        );
    if !keep.complete {
        keep.starts.clear();
        keep.starts.shrink_to(2 * CARRY_AT_MOST);
    }
    keep.starts()
}

/// Appends to `out` every occurrence of `literals` in `data`, sorted, and returns true; or, past `cap`
/// occurrences, returns false with `out` holding some (see [`Literals::starts_until`]). `delta` holds
/// the copies that made `data` from its base and the base's own occurrences (all of them): then only
/// the bytes the delta did not copy are searched, with `longest_literal - 1` bytes either side.
///
/// Why that finds everything: an occurrence that lies inside one copied range is a copy of one in the
/// base, so it is carried over from the base's list (shifted by the copy). Any other occurrence
/// overlaps bytes the delta inserted, or straddles the seam between two copies; either way it lies
/// within a literal's length of the edge of a copied range, inside a window that is searched. The
/// base's list is complete by the same argument, down to an object stored whole, which is searched
/// whole. A detector then decides matches on the whole object ([`super::Detector::confirm`]), so what surrounds one
/// (a word character before an `hf_`) is read as it is in this object, not in the base.
pub(crate) fn starts_of(
    literals: &dyn Literals,
    data: &[u8],
    delta: Option<(&[Copied], &[Start])>,
    changed: &mut ChangedBytes,
    out: &mut Vec<Start>,
    cap: usize,
) -> bool {
    let longest = literals.longest_literal();
    let Some((copies, base)) = delta.filter(|_| longest > 0) else {
        return literals.starts_until(data, out, cap);
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
        return literals.starts_until(data, out, cap);
    }
    let first = out.len();
    buffer.clear();
    for (at, start, len) in windows.iter_mut() {
        *at = buffer.len();
        buffer.extend_from_slice(&data[*start..*start + *len]);
    }
    found.clear();
    if !literals.starts_until(buffer, found, cap) {
        return false;
    }
    // Occurrences that run from one window into the next exist only in the buffer.
    let mut window = 0;
    for start in found.iter() {
        while windows[window].0 + windows[window].2 <= start.at {
            window += 1;
        }
        let (at, from, len) = windows[window];
        if start.at + literals.literal_len(start.literal) <= at + len {
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
                if start.at + literals.literal_len(start.literal) <= end {
                    out.push(Start {
                        at: copy.target + (start.at - copy.source),
                        literal: start.literal,
                    });
                }
            }
            // Copies may repeat a run of the base that holds many occurrences.
            if out.len() - first > cap {
                return false;
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
    true
}

/// Random delta chains for the property tests here and in `scan::provenance`.
#[cfg(test)]
pub(crate) mod random {
    use crate::git::pack::Copied;

    /// A small random generator: the cases want many shapes, not shrinking.
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        /// A generator for case `case`, the same from run to run.
        pub(crate) fn for_case(case: u64) -> Rng {
            Rng(0x9e37_79b9_7f4a_7c15 ^ (case + 1).wrapping_mul(0x2545_f491_4f6c_dd1d))
        }

        pub(crate) fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    /// A random delta of `base` in up to `ops` instructions, as git's would make it: copies of random
    /// ranges (cutting through whatever `base` holds) and inserts of what `insert` makes.
    pub(crate) fn delta_of(
        rng: &mut Rng,
        base: &[u8],
        ops: usize,
        mut insert: impl FnMut(&mut Rng) -> Vec<u8>,
    ) -> (Vec<u8>, Vec<Copied>) {
        let (mut out, mut copies) = (Vec::new(), Vec::new());
        for _ in 0..rng.below(ops) + 1 {
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
                out.extend(insert(rng));
            }
        }
        (out, copies)
    }
}

#[cfg(test)]
mod tests {
    use super::random::{delta_of, Rng};
    use super::*;
    use crate::matching::exact::Matcher;
    use crate::matching::patterns::PatternSet;
    use crate::matching::Detector;
    use crate::providers::examples::expand_with_seed;
    use crate::secret::Secret;

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
                let (next, copies) = delta_of(&mut rng, &object, 12, |rng| {
                    let len = rng.below(40);
                    text(rng, pieces, len)
                });
                let mut carried = Vec::new();
                let delta = Some((&copies[..], &level[..]));
                assert!(starts_of(
                    detector,
                    &next,
                    delta,
                    &mut changed,
                    &mut carried,
                    usize::MAX
                ));
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

    /// An object dense with literals, or large, keeps nothing for its deltas (a crafted blob of `sk-`
    /// must not cost memory by the occurrence), and a delta of such a base is searched whole.
    #[test]
    fn dense_or_large_objects_keep_nothing_and_their_deltas_are_searched_whole() {
        let set = PatternSet::all();
        let mut changed = ChangedBytes::default();
        let mut keep = Carried::default();
        let dense = b"sk-".repeat(CARRY_AT_MOST + 1);
        assert!(carry(&set, &dense, None, &mut changed, &mut keep).is_none());
        assert!(keep.starts().is_none());
        assert!(keep.starts.capacity() <= 2 * CARRY_AT_MOST);
        let large = vec![b'x'; CARRY_UP_TO + 1];
        assert!(carry(&set, &large, None, &mut changed, &mut keep).is_none());

        // Long enough that a delta copying all of it would search only its two ends.
        let pad = "x".repeat(100);
        let small = format!("{pad} 'hf_{}' {pad}", "Abcdefghij".repeat(3) + "Abcd").into_bytes();
        let mut whole = Vec::new();
        set.starts(&small, &mut whole);
        assert!(!whole.is_empty());
        // The copy says "all of it came from the base", but the base kept nothing: searched whole.
        let copies = [Copied {
            target: 0,
            source: 0,
            len: small.len(),
        }];
        let mut delta = Carried::default();
        let kept = carry(
            &set,
            &small,
            Some((&copies, &keep)),
            &mut changed,
            &mut delta,
        );
        assert_eq!(kept, Some(&whole[..]));
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
