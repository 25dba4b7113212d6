//! One multi-needle matcher for every token in every form a leak takes: plain bytes, base64 (all three
//! alignments, so a token inside a longer base64 string is found too) and UTF-16LE. All needles are
//! searched in a single pass over each object.

use super::{Detector, Hit, Literals, Start};
use crate::model::Encoding;
use crate::secret::Secret;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine;
use std::fmt;

/// What a needle stands for; the needle bytes themselves live only inside the automaton.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NeedleInfo {
    pub(crate) secret: usize,
    pub(crate) encoding: Encoding,
}

/// The compiled matcher. Its `Debug` never shows needle bytes (they are derived from secrets).
pub struct Matcher {
    search: Option<Search>,
    needles: Vec<NeedleInfo>,
    /// Per needle: its length, and the needles that are a proper prefix of it (which occur wherever
    /// it does, and which a leftmost-longest search does not report there).
    lengths: Vec<usize>,
    prefixes_of: Vec<Vec<u32>>,
    longest: usize,
    /// Needles from this index on are probes (see [`Matcher::with_probes`]), not token forms.
    first_probe: usize,
}

/// A few needles go to Teddy, aho-corasick's SIMD literal searcher, used directly: the automaton's own
/// choice for them is a rare-byte prefilter that stops on every '_' or 'h' of a source tree (it cost
/// half the pass on git's history). Many needles (`--all-keys` on a large `.env`) use the automaton.
enum Search {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matcher")
            .field("needles", &self.needles.len())
            .finish()
    }
}

/// Base64 needles shorter than this match too easily by chance to be worth reporting.
const MIN_BASE64_NEEDLE: usize = 8;

impl Matcher {
    /// A matcher for every form of every secret (plain, base64, UTF-16LE); a hit's `needle(..).secret`
    /// is the index of its secret in `secrets`. Base64 forms too short to be told from chance are left
    /// out.
    pub fn new(secrets: &[Secret]) -> Matcher {
        Matcher::with_probes(secrets, &[])
    }

    /// A matcher that also finds `probes`: short literals searched in the same pass at no extra cost
    /// (the rewrite plan's uniqueness check looks for the visible start of its patterns this way). A
    /// probe's hits have `needle(..).secret` set to the probe's index; [`Matcher::probe_of`] tells them
    /// apart. Token needles keep the indices [`Matcher::new`] gives them.
    pub(crate) fn with_probes(secrets: &[Secret], probes: &[&[u8]]) -> Matcher {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut needles = Vec::new();
        // Linear in the needles (a hook with a 10,000-key `.env` spent seconds comparing each form
        // with every other): a set of the forms' hashes finds repeats, which are then compared.
        let mut by_hash: std::collections::HashMap<u64, Vec<u32>> =
            std::collections::HashMap::new();
        let state = std::collections::hash_map::RandomState::new();
        let hash_of = |bytes: &[u8]| std::hash::BuildHasher::hash_one(&state, bytes);
        for (index, secret) in secrets.iter().enumerate() {
            for (encoding, bytes) in forms(secret) {
                let same = by_hash.entry(hash_of(&bytes)).or_default();
                if !same.iter().any(|&i| patterns[i as usize] == *bytes) {
                    same.push(patterns.len() as u32);
                    patterns.push(bytes.to_vec());
                    needles.push(NeedleInfo {
                        secret: index,
                        encoding,
                    });
                }
            }
        }
        let first_probe = needles.len();
        for (index, probe) in probes.iter().enumerate() {
            // A probe equal to a token form would steal its hits; its secret is then checked the
            // slow way (the caller sees no hit for it and must not take silence for "unique").
            let same = by_hash.entry(hash_of(probe)).or_default();
            if !probe.is_empty() && !same.iter().any(|&i| patterns[i as usize] == *probe) {
                same.push(patterns.len() as u32);
                patterns.push(probe.to_vec());
                needles.push(NeedleInfo {
                    secret: index,
                    encoding: Encoding::Plain,
                });
            }
        }
        let search = if patterns.is_empty() {
            None
        } else {
            let packed = aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
                .builder()
                .extend(&patterns)
                .build();
            Some(match packed {
                Some(searcher) => Search::Packed(searcher),
                None => Search::Automaton(
                    AhoCorasickBuilder::new()
                        .match_kind(MatchKind::LeftmostLongest)
                        .build(&patterns)
                        .expect("literal needles always compile"),
                ),
            })
        };
        let longest = patterns.iter().map(Vec::len).max().unwrap_or(0);
        let lengths = patterns.iter().map(Vec::len).collect();
        // For each needle, the shorter needles it starts with: looked up by each shorter length the
        // needles have (a handful), not by comparing every pair.
        let mut lengths_seen: Vec<usize> = patterns.iter().map(Vec::len).collect();
        lengths_seen.sort_unstable();
        lengths_seen.dedup();
        let prefixes_of = patterns
            .iter()
            .map(|long| {
                let mut found: Vec<u32> = Vec::new();
                for &len in lengths_seen.iter().take_while(|&&len| len < long.len()) {
                    let head = &long[..len];
                    if let Some(same) = by_hash.get(&hash_of(head)) {
                        found.extend(same.iter().filter(|&&j| patterns[j as usize] == *head));
                    }
                }
                found.sort_unstable();
                found
            })
            .collect();
        for p in &mut patterns {
            zeroize::Zeroize::zeroize(p);
        }
        Matcher {
            search,
            needles,
            lengths,
            prefixes_of,
            longest,
            first_probe,
        }
    }

    /// Whether probe `index` is searched (a probe equal to a token form is not).
    pub(crate) fn searches_probe(&self, index: usize) -> bool {
        self.needles[self.first_probe..]
            .iter()
            .any(|n| n.secret == index)
    }

    /// The probe index of a probe's needle; None for a token form.
    pub(crate) fn probe_of(&self, id: u32) -> Option<usize> {
        let info = self.needles.get(id as usize)?;
        (id as usize >= self.first_probe).then_some(info.secret)
    }

    /// The length of the longest needle (for searching a stream in overlapping chunks).
    pub(crate) fn longest_needle(&self) -> usize {
        self.longest
    }

    pub(crate) fn needle(&self, id: u32) -> NeedleInfo {
        self.needles[id as usize]
    }

    /// Appends every match in `haystack` to `out`, leftmost-longest and not overlapping: a needle that
    /// sits inside a longer one's match (one `.env` value inside another) is reported as the longer.
    pub(crate) fn find_all(&self, haystack: &[u8], out: &mut Vec<Hit>) {
        let hit = |m: aho_corasick::Match| Hit {
            needle: m.pattern().as_u32(),
            start: m.start(),
            end: m.end(),
        };
        match &self.search {
            Some(Search::Packed(searcher)) => out.extend(searcher.find_iter(haystack).map(hit)),
            Some(Search::Automaton(ac)) => out.extend(ac.find_iter(haystack).map(hit)),
            None => {}
        }
    }

    /// The leftmost-longest needle occurrence starting at or after `at`.
    fn next_occurrence(&self, haystack: &[u8], at: usize) -> Option<aho_corasick::Match> {
        match &self.search {
            Some(Search::Packed(searcher)) => {
                searcher.find_in(haystack, aho_corasick::Span::from(at..haystack.len()))
            }
            Some(Search::Automaton(ac)) => ac.find(aho_corasick::Input::new(haystack).range(at..)),
            None => None,
        }
    }

    /// Whether `haystack` holds any needle (cheaper than collecting them).
    pub(crate) fn is_match(&self, haystack: &[u8]) -> bool {
        match &self.search {
            Some(Search::Packed(searcher)) => searcher.find(haystack).is_some(),
            Some(Search::Automaton(ac)) => ac.is_match(haystack),
            None => false,
        }
    }
}

impl Literals for Matcher {
    /// Every needle occurrence: the search gives the longest needle at each position where one starts,
    /// and the needles that are prefixes of it occur there too.
    fn starts_until(&self, haystack: &[u8], out: &mut Vec<Start>, cap: usize) -> bool {
        let first = out.len();
        let mut at = 0;
        while at < haystack.len() {
            if out.len() - first > cap {
                return false;
            }
            let Some(found) = self.next_occurrence(haystack, at) else {
                break;
            };
            let start = found.start();
            let needle = found.pattern().as_u32();
            out.push(Start {
                at: start,
                literal: needle,
            });
            out.extend(
                self.prefixes_of[needle as usize]
                    .iter()
                    .map(|&literal| Start { at: start, literal }),
            );
            at = start + 1;
        }
        out[first..].sort_unstable();
        true
    }

    fn literal_len(&self, literal: u32) -> usize {
        self.lengths[literal as usize]
    }

    fn longest_literal(&self) -> usize {
        self.longest
    }
}

impl Detector for Matcher {
    fn find_all(&self, haystack: &[u8], out: &mut Vec<Hit>) {
        Matcher::find_all(self, haystack, out);
    }

    /// Leftmost-longest and not overlapping: at each position the longest needle there, unless an
    /// earlier match covers the position.
    fn confirm(&self, _haystack: &[u8], starts: &[Start], out: &mut Vec<Hit>) {
        let mut covered = 0;
        for here in starts.chunk_by(|a, b| a.at == b.at) {
            let at = here[0].at;
            if at < covered {
                continue;
            }
            let longest = here
                .iter()
                .max_by_key(|s| self.lengths[s.literal as usize])
                .expect("a group is never empty");
            covered = at + self.lengths[longest.literal as usize];
            out.push(Hit {
                needle: longest.literal,
                start: at,
                end: covered,
            });
        }
    }

    fn overlap(&self) -> usize {
        self.longest_needle()
    }
}

/// Every byte string the token takes in a leak: itself, its base64 forms at the three alignments, and
/// UTF-16LE. The rewrite plan replaces these same forms, so what the scan finds, the rewrite removes.
pub(crate) fn forms(secret: &Secret) -> Vec<(Encoding, zeroize::Zeroizing<Vec<u8>>)> {
    let value = secret.expose().as_bytes();
    let mut out = vec![(Encoding::Plain, zeroize::Zeroizing::new(value.to_vec()))];
    for shift in 0..3 {
        let needle = base64_needle(value, shift);
        if needle.len() >= MIN_BASE64_NEEDLE
            && needle != value
            && !out.iter().any(|(_, b)| **b == needle)
        {
            out.push((Encoding::Base64, zeroize::Zeroizing::new(needle)));
        }
    }
    out.push((
        Encoding::Utf16le,
        zeroize::Zeroizing::new(utf16le(secret.expose())),
    ));
    out
}

/// The base64 characters that depend only on `value` when it starts `shift` bytes into a 3-byte group.
/// Characters that also encode bits of the neighbouring (unknown) bytes are left out.
fn base64_needle(value: &[u8], shift: usize) -> Vec<u8> {
    let mut padded = vec![0u8; shift];
    padded.extend_from_slice(value);
    let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&padded);
    let lead = (shift * 8).div_ceil(6);
    let determined = (padded.len() * 8) / 6;
    zeroize::Zeroize::zeroize(&mut padded);
    if determined <= lead {
        return Vec::new();
    }
    encoded.as_bytes()[lead..determined].to_vec()
}

fn utf16le(value: &str) -> Vec<u8> {
    value.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake token, built at run time so no token-shaped literal sits in the source.
    fn token() -> Secret {
        Secret::new(
            format!("hf_{}", "TestTokenAbcdefghijklmnopqrstuvwx"),
            "test",
        )
    }

    #[test]
    fn finds_base64_at_every_alignment() {
        let matcher = Matcher::new(&[token()]);
        for prefix in ["", "a", "ab", "abc"] {
            let mut blob = prefix.as_bytes().to_vec();
            blob.extend_from_slice(token().expose().as_bytes());
            blob.extend_from_slice(b"\n tail");
            let encoded = base64::engine::general_purpose::STANDARD.encode(&blob);
            let mut hits = Vec::new();
            matcher.find_all(encoded.as_bytes(), &mut hits);
            assert!(
                hits.iter()
                    .any(|h| matcher.needle(h.needle).encoding == Encoding::Base64),
                "prefix {prefix:?}"
            );
        }
    }

    #[test]
    fn finds_utf16le_and_plain() {
        let matcher = Matcher::new(&[token()]);
        let mut hits = Vec::new();
        matcher.find_all(&utf16le(&format!("x={}", token().expose())), &mut hits);
        assert_eq!(matcher.needle(hits[0].needle).encoding, Encoding::Utf16le);
        hits.clear();
        matcher.find_all(format!("T={}\n", token().expose()).as_bytes(), &mut hits);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].start, 2);
    }

    #[test]
    fn debug_shows_no_needles() {
        let shown = format!("{:?}", Matcher::new(&[token()]));
        assert!(!shown.contains("hf_"));
    }

    /// Matches decided from every needle occurrence are what one leftmost-longest search reports,
    /// with needles that are prefixes of others (a second token, a probe) starting where they do.
    #[test]
    fn matches_from_occurrences_are_leftmost_longest() {
        let long = token();
        let short = Secret::new(&long.expose()[..20], "short");
        let probe = long.expose().as_bytes()[..5].to_vec();
        let secrets = [long, short];
        let matcher = Matcher::with_probes(&secrets, &[&probe]);
        let mut needles: Vec<Vec<u8>> = Vec::new();
        for secret in &secrets {
            for (_, form) in forms(secret) {
                if !needles.contains(&*form) {
                    needles.push(form.to_vec());
                }
            }
        }
        needles.push(probe);
        let reference = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&needles)
            .unwrap();
        let mut state = 0x853c_49e6_748f_ea9bu64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for case in 0..2000 {
            let mut haystack = Vec::new();
            for _ in 0..next(8) {
                let needle = &needles[next(needles.len())];
                haystack.extend_from_slice(&needle[..next(needle.len() + 1).max(1)]);
                haystack.extend((0..next(3)).map(|_| b'x'));
            }
            let expected: Vec<Hit> = reference
                .find_iter(&haystack)
                .map(|m| Hit {
                    needle: m.pattern().as_u32(),
                    start: m.start(),
                    end: m.end(),
                })
                .collect();
            let mut found = Vec::new();
            matcher.find_all(&haystack, &mut found);
            assert_eq!(found, expected, "case {case}");
        }
    }
}
