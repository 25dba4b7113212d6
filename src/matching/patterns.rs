//! Provider patterns over raw object bytes, fast enough to run on every object in the same pass as the
//! exact-token [`Matcher`](crate::matching::exact::Matcher).
//!
//! Every match starts where a fixed literal occurs, of four kinds:
//! - a rule's prefix (`hf_`, `ghp_`, `AKIA`, `-----BEGIN `): the rules that start with it run there, as
//!   regexes anchored at that offset (compiled once, `^(?:rule)`), so the regex engine reads a token's
//!   length of bytes per candidate;
//! - an assignment keyword (`KEY`, `token`, `Secret`, `PASSWORD`, see [`assignment`]): the name around it
//!   and the value assigned to it are read, and the context rules (a value that is a key only under its
//!   provider's key name: `WANDB_API_KEY=<40 hex>`) and then the generic rule judge the value;
//! - a prefix in base64, as the first bytes of a base64 string (`echo -n KEY | base64`, a Kubernetes
//!   Secret's `data:`): the string is decoded there and the rules run on the decoded bytes;
//! - a prefix in UTF-16LE (searched only in haystacks holding a NUL byte, as every UTF-16 text of ASCII
//!   characters does).
//!
//! A tree's file names are searched for the prefixes alone ([`InNames`]).
//!
//! A search for those literals is the only thing that reads a whole object: an object with none of them
//! costs a few SIMD-accelerated multi-literal scans and no rule at all. This beats one combined regex or
//! a `RegexSet`: the literal hit already says which few rules can match and where.
//!
//! The literal search is Teddy, aho-corasick's SIMD multi-literal searcher, used directly (a `regex`
//! alternation of the same literals, what this used before, reaches Teddy too but pays the regex engine's
//! confirmation and a shared cache pool on every candidate). Teddy slows down as literals are added, so
//! they are split by kind (prefixes, keywords, base64, the short ones) into groups of at most
//! [`TEDDY_MAX`], one searcher each, and a literal that starts with a run of one byte (`-----BEGIN `) is
//! searched from after the run. Each reports leftmost-first, non-overlapping
//! matches, so every candidate offset is checked against all of its literals that begin with its byte and
//! the search resumes one byte later: no literal that starts inside another is missed. Where literals
//! are dense (`task-sk-hf_` all over a file), after `DENSE_AFTER` candidates at more than one per
//! `DENSE_SPACING` bytes, the rest of the object goes through an `aho_corasick` overlapping search
//! instead.
//!
//! A match must be a whole token (see [`Pattern`](crate::providers::Pattern)), must not be a placeholder
//! ([`crate::providers::placeholder::is_placeholder_body`]), and overlapping matches collapse to the
//! most confident one, so an `hf_` token of letters only is one `huggingface.user-token` hit, not also a
//! `huggingface.user-token-alnum` one, and a key both its provider's rule and the generic rule see is its
//! provider's.
//!
//! A hit's needle names the rule and the form it was found in (see [`PatternSet::form`]); what the token
//! is, decoded, comes from [`Detector::value`]. The rules are the built-in ones and, for an audit, the
//! custom ones of its `providers::Rules`, which the set owns and lends out ([`PatternSet::rule_set`]).

use super::{assignment, Detector, Hit, Literals, Start};
use crate::model::Encoding;
use crate::providers::{self, Provider, Rule, Rules};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine;
use regex::bytes::{Regex, RegexBuilder};
use std::fmt;

/// The longest match looked for. Token rules are far shorter; this bounds private key blocks (a
/// 4096-bit RSA key is about 3.2 KiB, a PGP key block with subkeys a few more) and keeps a `BEGIN` line
/// with no `END` from making the regex read the rest of a large object.
pub const MAX_MATCH_LEN: usize = 16 * 1024;

/// The longest token looked for in base64 or UTF-16 (decoded bytes): every token rule's, not a key block's.
const MAX_ENCODED_TOKEN: usize = 512;

/// Candidates seen before the density check applies.
const DENSE_AFTER: usize = 64;
/// Fewer bytes than this per candidate on average is dense.
const DENSE_SPACING: usize = 256;

/// The most literals one searcher takes. Teddy reads fewer bytes a second the more literals it holds:
/// on git's sources 9 literals read at about 9 GB/s, 21 at 7, 42 at 2 to 3 (and past 64 the `regex`
/// crate falls back to a slower automaton), so two searchers of 21 beat one of 42.
const TEDDY_MAX: usize = 32;

/// What finding a literal means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A rule prefix, as it is.
    Prefix,
    /// An assignment keyword: read the name and value around it.
    Keyword,
    /// A rule prefix's base64 (a string that starts with the prefix, encoded).
    Base64,
    /// A rule prefix in UTF-16LE.
    Utf16,
}

/// One prefilter literal and the rules that start with it.
struct Literal {
    text: Vec<u8>,
    role: Role,
    /// Whether the literal starts with a word character, so a match must not follow one.
    word_start: bool,
    rules: Vec<u32>,
}

/// One multi-literal searcher over some of the literals (at most [`TEDDY_MAX`]). Each literal is
/// searched from its [`search_offset`] on, and an occurrence is checked whole.
struct Searcher {
    /// Finds where any of its literals' searched text starts: fast on sparse text.
    prefilter: Prefilter,
    /// The same texts, for dense text, and the index into `literals` of each of its patterns.
    dense: (AhoCorasick, Vec<u32>),
    /// Per first byte of the searched text: the literals whose searched text starts with it.
    by_first_byte: Vec<Vec<u32>>,
}

/// Teddy, aho-corasick's SIMD multi-literal searcher, used directly: through a `regex` alternation each
/// candidate also paid the regex engine's confirmation and a cache taken from a pool that the scan's
/// threads share (a third of the keyword searcher's time on git's sources). A target without Teddy gets
/// the alternation, which picks the best searcher it has.
enum Prefilter {
    Teddy(aho_corasick::packed::Searcher),
    Alternation(Regex),
}

impl Prefilter {
    /// Where the leftmost occurrence at or after `at` starts.
    fn find_at(&self, haystack: &[u8], at: usize) -> Option<usize> {
        match self {
            Prefilter::Teddy(teddy) => teddy
                .find_in(haystack, aho_corasick::Span::from(at..haystack.len()))
                .map(|found| found.start()),
            Prefilter::Alternation(regex) => regex.find_at(haystack, at).map(|found| found.start()),
        }
    }
}

/// Where a literal's searched text begins: after a leading run of one repeated byte (`-----BEGIN ` is
/// searched as `BEGIN `). Teddy tells candidates apart by their first bytes, and runs of one byte are
/// everywhere in text (underlines, separators, rulers): searched from the start, `-----BEGIN ` stopped
/// the search at every `-----` of git's documentation.
fn search_offset(text: &[u8]) -> usize {
    const MIN_SEARCHED: usize = 4;
    let run = text.iter().take_while(|&&b| b == text[0]).count();
    if run >= 2 && text.len() - run >= MIN_SEARCHED {
        run
    } else {
        0
    }
}

/// Every rule of some providers (and a search's custom rules), compiled once. Holds no matched bytes;
/// `Debug` shows rule ids only.
pub struct PatternSet {
    /// The rule set it was built from: it owns the custom rules that `slots` index.
    set: Rules,
    /// Per rule, in needle order: a built-in pattern, or an index into `set`'s custom rules.
    slots: Vec<Slot>,
    /// Per rule: its shortest prefix's length, 0 for a rule without prefixes (what a placeholder check
    /// skips; asked per candidate, so computed once).
    prefix_len: Vec<usize>,
    /// Per rule: its regex anchored at the start of the haystack it is given.
    anchored: Vec<Regex>,
    /// Per rule: whether its regex has a capture group, which is then the token.
    captures: Vec<bool>,
    /// Per rule: its regex matching a whole value (`^(?:rule)$`): context rules judge values with it.
    whole: Vec<Regex>,
    /// The context rules (names and no prefix), by index.
    context: Vec<u32>,
    /// The generic rule's index, when the set has it.
    generic: Option<u32>,
    literals: Vec<Literal>,
    /// Searchers for the literals looked for everywhere.
    searchers: Vec<Searcher>,
    /// Searchers for the UTF-16 literals, run only on haystacks holding a NUL byte.
    wide: Vec<Searcher>,
    /// Searchers for the prefix literals alone: what a file name can hold (see [`InNames`]).
    names: Vec<Searcher>,
    /// The longest literal's length (asked for every object: computed once).
    longest: usize,
}

/// Where a [`PatternSet`]'s rule lives.
#[derive(Clone, Copy)]
enum Slot {
    Builtin(&'static Provider, &'static providers::Pattern),
    Custom(usize),
}

/// Literals shorter than this (`hf_`, `sk-`, `key`) have a searcher of their own: a single 3-byte literal
/// among longer ones makes Teddy compare 3-byte fingerprints for every literal, which stop far more
/// often on source text. On a sample of git's blobs the prefilter read 4.0 GB/s with `hf_` and `sk-` in
/// it and 7.6 GB/s without them; the nine short literals alone read at about 9 GB/s.
const SHORT_LITERAL: usize = 4;

impl fmt::Debug for PatternSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatternSet")
            .field("rules", &self.rules().map(|r| r.id).collect::<Vec<_>>())
            .field("literals", &self.literals.len())
            .finish()
    }
}

/// The base64 characters that stand for the first three bytes of `prefix` when it starts a base64
/// string: one 4-character group, which every prefix sharing those bytes shares (`c2st` for `sk-proj-`,
/// `sk-ant-api03-` and the other `sk-` prefixes), so the encoded forms cost a few literals, not one per
/// prefix. The rules then run on the decoded bytes and check the whole prefix.
fn base64_literal(prefix: &str) -> Vec<u8> {
    let head = &prefix.as_bytes()[..prefix.len().min(3)];
    base64::engine::general_purpose::STANDARD_NO_PAD
        .encode(head)
        .into_bytes()
}

/// Whether a prefix stands for a token whose base64 and UTF-16 forms are worth a literal of their own:
/// a plain issuer prefix (`ghp_`, `sk-proj-`), not key-block armour or context (`-----BEGIN `,
/// `cohere.`). (One that is base64 already, Neptune's `eyJ…`, gets no base64 form.)
fn has_encoded_forms(prefix: &str) -> bool {
    prefix.starts_with(|c: char| c.is_ascii_alphabetic())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The size of equal chunks of at most [`TEDDY_MAX`] literals that `len` literals split into.
fn even_chunk(len: usize) -> usize {
    let chunks = len.div_ceil(TEDDY_MAX).max(1);
    len.div_ceil(chunks).max(1)
}

/// Fewer prefix literals for the same rules: every literal costs the searchers speed (see
/// [`TEDDY_MAX`]), and a rule's regex checks its whole prefix anyway. A prefix that begins with another
/// literal is searched as that one (`sk-proj-`, `sk-ant-api03-` and `sk-or-v1-` as `sk-`), and a family of
/// four or more prefixes sharing their first three bytes as those three (`xoxb-`, `xoxp-`, … as `xox`).
fn merge_prefixes(mut literals: Vec<Literal>) -> Vec<Literal> {
    const STEM: usize = 3;
    const FAMILY: usize = 4;
    let prefixes = |literals: &[Literal]| -> Vec<usize> {
        (0..literals.len())
            .filter(|&i| literals[i].role == Role::Prefix)
            .collect()
    };
    let mut stems: Vec<Vec<u8>> = Vec::new();
    for i in prefixes(&literals) {
        let text = &literals[i].text;
        if text.len() > STEM && !stems.iter().any(|s| text.starts_with(s)) {
            let stem = text[..STEM].to_vec();
            let family = prefixes(&literals)
                .into_iter()
                .filter(|&j| literals[j].text.starts_with(&stem))
                .count();
            if family >= FAMILY {
                stems.push(stem);
            }
        }
    }
    for stem in stems {
        if !literals
            .iter()
            .any(|l| l.role == Role::Prefix && l.text == stem)
        {
            literals.push(Literal {
                word_start: stem.first().is_some_and(|&b| is_word(b)),
                text: stem,
                role: Role::Prefix,
                rules: Vec::new(),
            });
        }
    }
    // Longest first, so a prefix hands its rules to the shortest literal it begins with.
    let mut order = prefixes(&literals);
    order.sort_by_key(|&i| std::cmp::Reverse(literals[i].text.len()));
    let mut dropped = vec![false; literals.len()];
    for &i in &order {
        let shorter = order.iter().copied().rev().find(|&j| {
            j != i
                && !dropped[j]
                && literals[j].text.len() < literals[i].text.len()
                && literals[i].text.starts_with(&literals[j].text)
        });
        if let Some(j) = shorter {
            let rules = std::mem::take(&mut literals[i].rules);
            for rule in rules {
                if !literals[j].rules.contains(&rule) {
                    literals[j].rules.push(rule);
                }
            }
            dropped[i] = true;
        }
    }
    literals
        .into_iter()
        .zip(dropped)
        .filter(|(_, dropped)| !dropped)
        .map(|(literal, _)| literal)
        .collect()
}

impl Searcher {
    fn new(literals: &[Literal], members: &[u32]) -> Searcher {
        let searched = |i: u32| {
            let text = &literals[i as usize].text;
            &text[search_offset(text)..]
        };
        let teddy = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(members.iter().map(|&i| searched(i)))
            .build();
        let prefilter = match teddy {
            Some(teddy) => Prefilter::Teddy(teddy),
            None => {
                let alternation: Vec<String> = members
                    .iter()
                    .map(|&i| {
                        let text = String::from_utf8_lossy(searched(i));
                        // UTF-16 literals hold NULs: escape every byte the regex syntax cares about.
                        text.chars()
                            .map(|c| match c {
                                '\0' => "\\x00".to_string(),
                                c => regex::escape(&c.to_string()),
                            })
                            .collect::<String>()
                    })
                    .collect();
                Prefilter::Alternation(
                    RegexBuilder::new(&alternation.join("|"))
                        .unicode(false)
                        .build()
                        .expect("an alternation of literals always compiles"),
                )
            }
        };
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(members.iter().map(|&i| searched(i)))
            .expect("a few dozen short literals always compile");
        let mut by_first_byte = vec![Vec::new(); 256];
        for &i in members {
            by_first_byte[usize::from(searched(i)[0])].push(i);
        }
        Searcher {
            prefilter,
            dense: (automaton, members.to_vec()),
            by_first_byte,
        }
    }

    /// The occurrences of this searcher's literals (see [`PatternSet::visit_starts`]).
    fn starts(
        &self,
        literals: &[Literal],
        haystack: &[u8],
        dense_after: usize,
        sink: &mut dyn FnMut(Start) -> bool,
    ) -> bool {
        let (dense, dense_ids) = &self.dense;
        let mut at = 0;
        let mut seen = 0usize;
        while at <= haystack.len() {
            if seen >= dense_after && at < seen.saturating_mul(DENSE_SPACING) {
                let rest = aho_corasick::Input::new(haystack).range(at..);
                for found in dense.find_overlapping_iter(rest) {
                    let literal = dense_ids[found.pattern().as_usize()];
                    let text = &literals[literal as usize].text;
                    // The searched text is the literal's tail: the literal starts earlier, if at all.
                    let Some(begin) = found.start().checked_sub(search_offset(text)) else {
                        continue;
                    };
                    if haystack[begin..].starts_with(text) && !sink(Start { at: begin, literal }) {
                        return false;
                    }
                }
                return true;
            }
            let Some(candidate) = self.prefilter.find_at(haystack, at) else {
                return true;
            };
            at = candidate + 1;
            seen += 1;
            for &index in &self.by_first_byte[usize::from(haystack[candidate])] {
                let text = &literals[index as usize].text;
                let Some(begin) = candidate.checked_sub(search_offset(text)) else {
                    continue;
                };
                if haystack[begin..].starts_with(text) {
                    let start = Start {
                        at: begin,
                        literal: index,
                    };
                    if !sink(start) {
                        return false;
                    }
                }
            }
        }
        true
    }
}

impl PatternSet {
    /// Compiles every rule of `providers` (no custom rule). Panics if a built-in regex does not compile
    /// (the provider tests compile them all, so this is a programming error, not an input error).
    pub fn new(providers: &[&'static Provider]) -> PatternSet {
        PatternSet::build(providers, Rules::builtin().clone())
    }

    /// Every built-in rule and `rules`' custom ones, after them (audit with `.unleak.toml`'s `[[rule]]`;
    /// their regexes were checked when the file loaded).
    pub(crate) fn with_rules(rules: &Rules) -> PatternSet {
        PatternSet::build(providers::all(), rules.clone())
    }

    fn build(providers: &[&'static Provider], set: Rules) -> PatternSet {
        let slots: Vec<Slot> = providers
            .iter()
            .flat_map(|&p| p.patterns.iter().map(move |pat| Slot::Builtin(p, pat)))
            .chain((0..set.custom().len()).map(Slot::Custom))
            .collect();
        let mut prefix_len = Vec::new();
        let mut anchored = Vec::new();
        let mut captures = Vec::new();
        let mut whole = Vec::new();
        let mut context = Vec::new();
        let mut generic = None;
        let mut literals: Vec<Literal> = Vec::new();
        let add = |literals: &mut Vec<Literal>, text: Vec<u8>, role: Role, rule: Option<u32>| {
            let slot = match literals
                .iter()
                .position(|l| l.text == text && l.role == role)
            {
                Some(slot) => slot,
                None => {
                    literals.push(Literal {
                        word_start: role != Role::Keyword
                            && text.first().is_some_and(|&b| is_word(b)),
                        text,
                        role,
                        rules: Vec::new(),
                    });
                    literals.len() - 1
                }
            };
            literals[slot].rules.extend(rule);
        };
        for (index, &slot) in slots.iter().enumerate() {
            let index = index as u32;
            let pattern = resolve(&set, slot);
            let compile = |shape: String| {
                RegexBuilder::new(&shape)
                    .unicode(false)
                    .build()
                    .unwrap_or_else(|e| panic!("rule {} does not compile: {e}", pattern.id))
            };
            let rule = compile(format!("^(?:{})", pattern.regex));
            captures.push(rule.captures_len() > 1);
            anchored.push(rule);
            whole.push(compile(format!("^(?:{})$", pattern.regex)));
            if pattern.prefixes.is_empty() {
                if pattern.names.is_empty() {
                    generic = Some(index);
                } else {
                    context.push(index);
                }
            }
            prefix_len.push(pattern.prefixes.iter().map(str::len).min().unwrap_or(0));
            for prefix in pattern.prefixes.iter() {
                assert!(
                    !prefix.is_empty(),
                    "rule {} has an empty prefix",
                    pattern.id
                );
                add(
                    &mut literals,
                    prefix.as_bytes().to_vec(),
                    Role::Prefix,
                    Some(index),
                );
                if has_encoded_forms(prefix) {
                    let wide = prefix.bytes().flat_map(|b| [b, 0]).collect();
                    add(&mut literals, wide, Role::Utf16, Some(index));
                    if !prefix.starts_with("eyJ") {
                        add(
                            &mut literals,
                            base64_literal(prefix),
                            Role::Base64,
                            Some(index),
                        );
                    }
                }
            }
        }
        if !context.is_empty() || generic.is_some() {
            for word in assignment::KEYWORDS {
                let title = word[..1].to_ascii_uppercase() + &word[1..];
                for text in [word.to_string(), word.to_ascii_uppercase(), title] {
                    add(&mut literals, text.into_bytes(), Role::Keyword, None);
                }
            }
        }
        let literals = merge_prefixes(literals);
        let longest = literals.iter().map(|l| l.text.len()).max().unwrap_or(0);
        // Groups of like literals: Teddy slows down as literals are added, and more so when they have
        // little in common (see TEDDY_MAX).
        let group = |keep: &dyn Fn(&Literal) -> bool| -> Vec<u32> {
            (0..literals.len() as u32)
                .filter(|&i| keep(&literals[i as usize]))
                .collect()
        };
        let short = |l: &Literal| l.role != Role::Utf16 && l.text.len() < SHORT_LITERAL;
        let groups = [
            group(&|l| l.role == Role::Prefix && !short(l)),
            group(&|l| l.role == Role::Keyword || short(l)),
            group(&|l| l.role == Role::Base64 && !short(l)),
        ];
        let searchers: Vec<Searcher> = groups
            .iter()
            .flat_map(|members| members.chunks(even_chunk(members.len())))
            .map(|members| Searcher::new(&literals, members))
            .collect();
        let names = group(&|l| l.role == Role::Prefix);
        let names = names
            .chunks(even_chunk(names.len()))
            .map(|members| Searcher::new(&literals, members))
            .collect();
        let wide = group(&|l| l.role == Role::Utf16);
        let wide = wide
            .chunks(even_chunk(wide.len()))
            .map(|members| Searcher::new(&literals, members))
            .collect();
        PatternSet {
            set,
            slots,
            prefix_len,
            anchored,
            captures,
            whole,
            context,
            generic,
            literals,
            longest,
            searchers,
            wide,
            names,
        }
    }

    /// Every rule of every known provider.
    pub fn all() -> PatternSet {
        PatternSet::new(providers::all())
    }

    /// The rule set it searches for: what the findings of its hits are judged and reported by.
    pub(crate) fn rule_set(&self) -> &Rules {
        &self.set
    }

    /// The rules, in the order a [`Hit::needle`] indexes (modulo the forms: see [`PatternSet::form`]).
    pub(crate) fn rules(&self) -> impl Iterator<Item = Rule<'_>> {
        self.slots.iter().map(|&slot| resolve(&self.set, slot))
    }

    /// The rule a hit names.
    pub(crate) fn rule(&self, needle: u32) -> Rule<'_> {
        resolve(&self.set, self.slots[needle as usize % self.slots.len()])
    }

    /// The form a hit was found in: needles count the rules once per form (plain, base64, UTF-16LE).
    pub fn form(&self, needle: u32) -> Encoding {
        match needle as usize / self.slots.len().max(1) {
            0 => Encoding::Plain,
            1 => Encoding::Base64,
            _ => Encoding::Utf16le,
        }
    }

    fn needle(&self, rule: u32, form: Encoding) -> u32 {
        let forms = match form {
            Encoding::Plain => 0,
            Encoding::Base64 => 1,
            Encoding::Utf16le => 2,
        };
        rule + forms * self.slots.len() as u32
    }

    /// Appends every match in `haystack` to `out`, in order of position; what `out` already held is left
    /// alone. Placeholders are filtered out and overlapping matches collapse to the most confident one
    /// (then the longest, then the earliest rule).
    pub fn find_all(&self, haystack: &[u8], out: &mut Vec<Hit>) {
        self.find_with(haystack, out, DENSE_AFTER);
    }

    /// [`find_all`](Self::find_all), switching to the automaton after `dense_after` dense candidates (tests
    /// force either path). Each occurrence is decided as it is found: nothing but the matches is held.
    fn find_with(&self, haystack: &[u8], out: &mut Vec<Hit>, dense_after: usize) {
        self.find_in(Scope::All, haystack, out, dense_after);
    }

    /// [`find_with`](Self::find_with) over the literals of `scope`.
    fn find_in(&self, scope: Scope, haystack: &[u8], out: &mut Vec<Hit>, dense_after: usize) {
        let first = out.len();
        self.visit_starts(scope, haystack, dense_after, &mut |start| {
            self.rules_at(haystack, start, out);
            true
        });
        self.collapse_overlaps(out, first);
    }

    /// Hands every literal occurrence to `sink`, in no particular order, until `sink` says stop
    /// (returns false; then so does this). Switches to the automaton after `dense_after` dense
    /// candidates.
    fn visit_starts(
        &self,
        scope: Scope,
        haystack: &[u8],
        dense_after: usize,
        sink: &mut dyn FnMut(Start) -> bool,
    ) -> bool {
        if scope == Scope::Names {
            return self
                .names
                .iter()
                .all(|searcher| searcher.starts(&self.literals, haystack, dense_after, sink));
        }
        for searcher in &self.searchers {
            if !searcher.starts(&self.literals, haystack, dense_after, sink) {
                return false;
            }
        }
        if !self.wide.is_empty() && memchr::memchr(0, haystack).is_some() {
            for searcher in &self.wide {
                if !searcher.starts(&self.literals, haystack, dense_after, sink) {
                    return false;
                }
            }
        }
        true
    }

    /// What a literal occurring at `start` leads to.
    fn rules_at(&self, haystack: &[u8], start: Start, out: &mut Vec<Hit>) {
        let literal = &self.literals[start.literal as usize];
        let at = start.at;
        if literal.word_start && at > 0 && is_word(haystack[at - 1]) {
            return;
        }
        match literal.role {
            Role::Prefix => {
                let window = &haystack[at..haystack.len().min(at + MAX_MATCH_LEN)];
                for &rule in &literal.rules {
                    if let Some((from, to)) = self.token_at(window, rule, self.prefix_len(rule)) {
                        out.push(Hit {
                            needle: rule,
                            start: at + from,
                            end: at + to,
                        });
                    }
                }
            }
            Role::Keyword => self.assignment_at(haystack, at, literal.text.len(), out),
            Role::Base64 => {
                let run = &haystack[at..haystack.len().min(at + MAX_ENCODED_TOKEN * 4 / 3 + 4)];
                let (decoded, run_len) = decode_base64_run(run);
                for &rule in &literal.rules {
                    if let Some((0, to)) = self.token_at(&decoded, rule, self.prefix_len(rule)) {
                        // Whole 4-character groups, so the hit decodes on its own (see `token`).
                        out.push(Hit {
                            needle: self.needle(rule, Encoding::Base64),
                            start: at,
                            end: at + run_len.min(to.div_ceil(3) * 4),
                        });
                    }
                }
            }
            Role::Utf16 => {
                if at >= 2 && haystack[at - 1] == 0 && is_word(haystack[at - 2]) {
                    return;
                }
                let narrow: Vec<u8> = haystack[at..haystack.len().min(at + 2 * MAX_ENCODED_TOKEN)]
                    .chunks_exact(2)
                    .take_while(|pair| pair[1] == 0 && pair[0] != 0 && pair[0].is_ascii())
                    .map(|pair| pair[0])
                    .collect();
                for &rule in &literal.rules {
                    let prefix_len = literal.text.len() / 2;
                    if let Some((0, to)) = self.token_at(&narrow, rule, prefix_len) {
                        out.push(Hit {
                            needle: self.needle(rule, Encoding::Utf16le),
                            start: at,
                            end: at + 2 * to,
                        });
                    }
                }
            }
        }
    }

    /// The length of a rule's shortest prefix: what a placeholder check skips.
    fn prefix_len(&self, rule: u32) -> usize {
        self.prefix_len[rule as usize]
    }

    /// Where `rule` matches a whole token at the start of `window` (its capture group, when it has one):
    /// not longer than the rule allows, not a placeholder.
    fn token_at(&self, window: &[u8], rule: u32, prefix_len: usize) -> Option<(usize, usize)> {
        let regex = &self.anchored[rule as usize];
        if self.captures[rule as usize] {
            let group = regex.captures(window)?.get(1)?;
            let body = std::str::from_utf8(group.as_bytes()).ok()?;
            return (!providers::placeholder::is_placeholder_body(body))
                .then_some((group.start(), group.end()));
        }
        let found = regex.find(window)?;
        let token = &window[..found.end()];
        // A token character right after the match means the real token is longer than the rule
        // allows (or than the window): not this kind of token.
        if token.last().is_some_and(|&b| is_token(b))
            && window.get(found.end()).is_some_and(|&b| is_token(b))
        {
            return None;
        }
        let body = token.get(prefix_len..).unwrap_or_default();
        if std::str::from_utf8(body).is_ok_and(providers::placeholder::is_placeholder_body) {
            return None;
        }
        Some((0, found.end()))
    }

    /// The context rules and then the generic rule judge the value assigned around the keyword at `at`;
    /// a value that is base64 of text is judged decoded too (a Kubernetes Secret's `data:`).
    fn assignment_at(&self, haystack: &[u8], at: usize, len: usize, out: &mut Vec<Hit>) {
        let Some(found) = assignment::around(haystack, at, len) else {
            return;
        };
        let value = &haystack[found.value.clone()];
        // Base64 of text first (a Kubernetes Secret's `data:`): the encoded string would pass for a
        // secret itself, but the key is what it decodes to. Random key material never decodes to text.
        let Some(decoded) = decode_base64_text(value) else {
            if let Some(rule) = self.judge(haystack, &found, value) {
                out.push(Hit {
                    needle: rule,
                    start: found.value.start,
                    end: found.value.end,
                });
            }
            return;
        };
        let whole_token = (0..self.slots.len())
            .filter(|&i| self.prefix_len[i] > 0)
            .find(|&i| self.whole[i].is_match(&decoded))
            .map(|i| i as u32);
        if let Some(rule) = whole_token.or_else(|| self.judge(haystack, &found, &decoded)) {
            out.push(Hit {
                needle: self.needle(rule, Encoding::Base64),
                start: found.value.start,
                end: found.value.end,
            });
        }
    }

    /// The rule that takes `value` (the assignment's, or its decoding) as a key: a context rule whose
    /// names hold the assignment's name, whose context words stand near, and whose shape the value has;
    /// else the generic rule, for a secret's name joined by an operator to a secret-looking value.
    fn judge(&self, haystack: &[u8], found: &assignment::Assignment, value: &[u8]) -> Option<u32> {
        let name = &haystack[found.name.clone()];
        for &rule in &self.context {
            let pattern = self.rule(rule);
            let named = pattern
                .names
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(name));
            if named
                && self.whole[rule as usize].is_match(value)
                && is_near(haystack, found, pattern.near)
                && !std::str::from_utf8(value)
                    .is_ok_and(providers::placeholder::is_placeholder_body)
            {
                return Some(rule);
            }
        }
        let generic = self.generic?;
        let joined =
            found.joint == assignment::Joint::Operator || is_dockerfile_env(haystack, found);
        (joined && assignment::is_secret_name(name) && assignment::is_secret_value(value))
            .then_some(generic)
    }

    /// Keeps one hit per run of overlapping hits in `out[first..]`: the most confident, then the longest,
    /// then the one of the earliest rule.
    fn collapse_overlaps(&self, out: &mut Vec<Hit>, first: usize) {
        let rank = |h: &Hit| {
            (
                self.rule(h.needle).confidence,
                h.end - h.start,
                std::cmp::Reverse(h.needle),
            )
        };
        out[first..].sort_unstable_by_key(|h| (h.start, std::cmp::Reverse(h.end), h.needle));
        let mut kept = first;
        for i in first..out.len() {
            let hit = out[i];
            if kept > first && out[kept - 1].end > hit.start {
                if rank(&hit) > rank(&out[kept - 1]) {
                    out[kept - 1] = hit;
                }
                continue;
            }
            out[kept] = hit;
            kept += 1;
        }
        out.truncate(kept);
    }

    /// The token a hit stands for, decoded: the matched bytes, or what its base64 or UTF-16 form decodes
    /// to. Wiped on drop.
    pub fn token(&self, haystack: &[u8], hit: &Hit) -> zeroize::Zeroizing<Vec<u8>> {
        let found = &haystack[hit.start..hit.end];
        let rule = hit.needle as usize % self.slots.len().max(1);
        let decoded = match self.form(hit.needle) {
            Encoding::Plain => return zeroize::Zeroizing::new(found.to_vec()),
            Encoding::Utf16le => found.iter().step_by(2).copied().collect(),
            Encoding::Base64 => decode_base64_run(found).0,
        };
        let decoded = zeroize::Zeroizing::new(decoded);
        if self.prefix_len[rule] > 0 {
            if let Some((from, to)) =
                self.token_at(&decoded, rule as u32, self.prefix_len(rule as u32))
            {
                return zeroize::Zeroizing::new(decoded[from..to].to_vec());
            }
        }
        let end = decoded
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        zeroize::Zeroizing::new(decoded[..end].to_vec())
    }
}

/// The rule a slot names, in `set` (which holds the custom rules).
fn resolve(set: &Rules, slot: Slot) -> Rule<'_> {
    match slot {
        Slot::Builtin(provider, pattern) => Rule::from_builtin(provider, pattern),
        Slot::Custom(i) => Rule::from_custom(&set.custom()[i]),
    }
}

/// Whether the assignment is a Dockerfile's `ENV NAME value`: the one place a bare space joins a name
/// to its value that the generic rule trusts.
fn is_dockerfile_env(haystack: &[u8], found: &assignment::Assignment) -> bool {
    let line_start = memchr::memrchr(b'\n', &haystack[..found.name.start]).map_or(0, |i| i + 1);
    let before = &haystack[line_start..found.name.start];
    let trimmed = before.trim_ascii_start();
    trimmed.len() >= 4
        && trimmed[..4].eq_ignore_ascii_case(b"ENV ")
        && trimmed[4..].trim_ascii().is_empty()
}

/// Whether one of `words` stands on the assignment's line or within the 256 bytes before it; true when
/// there are none to look for.
fn is_near(haystack: &[u8], found: &assignment::Assignment, words: &[&str]) -> bool {
    if words.is_empty() {
        return true;
    }
    let line_start = memchr::memrchr(b'\n', &haystack[..found.name.start]).map_or(0, |i| i + 1);
    let region = &haystack[line_start.saturating_sub(256)..found.value.end];
    words
        .iter()
        .any(|w| memchr::memmem::find(region, w.as_bytes()).is_some())
}

/// Decodes the run of standard base64 characters at the start of `run`, whole 4-character groups and a
/// final partial one, up to the first other byte (padding ends it); and the run's length.
fn decode_base64_run(run: &[u8]) -> (Vec<u8>, usize) {
    let len = run
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/'))
        .unwrap_or(run.len());
    let mut usable = len - len % 4;
    if len % 4 >= 2 {
        usable = len;
    }
    let engine = &base64::engine::general_purpose::STANDARD_NO_PAD;
    let decoded = engine
        .decode(&run[..usable])
        .or_else(|_| engine.decode(&run[..len - len % 4]))
        .unwrap_or_default();
    (decoded, len)
}

/// A value that is base64 (standard alphabet, padded or not) of printable text, at least 8 characters
/// once decoded: what a Kubernetes Secret's `data:` holds. `None` for anything else.
fn decode_base64_text(value: &[u8]) -> Option<Vec<u8>> {
    if value.len() < 12 {
        return None;
    }
    let unpadded = value
        .strip_suffix(b"==")
        .or(value.strip_suffix(b"="))
        .unwrap_or(value);
    if !unpadded
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        || unpadded.len() % 4 == 1
    {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(unpadded)
        .ok()?;
    let text_end = decoded
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let text = &decoded[..text_end];
    (text.len() >= 8 && text.iter().all(|b| b.is_ascii_graphic())).then(|| text.to_vec())
}

/// How far pieces of a large haystack overlap for provider patterns: a token or key longer than this
/// that straddles two pieces is not matched (provider tokens are under 200 bytes; PEM keys are longer,
/// and are found when they sit inside one piece, as nearly all do: a piece is 8 MiB).
const PATTERN_OVERLAP: usize = 4096;

/// Which literals a search looks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Every literal: prefixes, keywords, base64, UTF-16.
    All,
    /// The prefixes alone (see [`InNames`]).
    Names,
}

impl PatternSet {
    /// [`Literals::starts_until`] over the literals of `scope`.
    fn starts_in(&self, scope: Scope, haystack: &[u8], out: &mut Vec<Start>, cap: usize) -> bool {
        let first = out.len();
        let complete = self.visit_starts(scope, haystack, DENSE_AFTER, &mut |start| {
            out.push(start);
            out.len() - first <= cap
        });
        out[first..].sort_unstable();
        complete
    }

    /// The same rules, searched for as a file name can hold them (see [`InNames`]).
    pub fn in_names(&self) -> InNames<'_> {
        InNames(self)
    }
}

/// The rules as a tree object's file names can hold them: a name is a token or holds one (a key file
/// named after its key), so only the rules' prefixes are looked for there, plain. A name is no
/// assignment (`key = value`) and no base64 or UTF-16 text, and a tree's binary ids and NUL bytes made
/// the keyword, base64 and UTF-16 searchers run over every tree for nothing (about 5% of an audit of
/// git's history, where trees are 41% of the bytes).
pub struct InNames<'a>(&'a PatternSet);

impl Literals for InNames<'_> {
    fn starts_until(&self, haystack: &[u8], out: &mut Vec<Start>, cap: usize) -> bool {
        self.0.starts_in(Scope::Names, haystack, out, cap)
    }

    fn literal_len(&self, literal: u32) -> usize {
        self.0.literal_len(literal)
    }

    fn longest_literal(&self) -> usize {
        self.0.longest_literal()
    }
}

impl Detector for InNames<'_> {
    fn find_all(&self, haystack: &[u8], out: &mut Vec<Hit>) {
        self.0.find_in(Scope::Names, haystack, out, DENSE_AFTER);
    }

    fn token(&self, haystack: &[u8], hit: &Hit) -> zeroize::Zeroizing<Vec<u8>> {
        self.0.token(haystack, hit)
    }

    fn confirm(&self, haystack: &[u8], starts: &[Start], out: &mut Vec<Hit>) {
        Detector::confirm(self.0, haystack, starts, out);
    }

    fn overlap(&self) -> usize {
        Detector::overlap(self.0)
    }
}

impl Literals for PatternSet {
    fn starts_until(&self, haystack: &[u8], out: &mut Vec<Start>, cap: usize) -> bool {
        self.starts_in(Scope::All, haystack, out, cap)
    }

    fn literal_len(&self, literal: u32) -> usize {
        self.literals[literal as usize].text.len()
    }

    fn longest_literal(&self) -> usize {
        self.longest
    }
}

impl Detector for PatternSet {
    fn find_all(&self, haystack: &[u8], out: &mut Vec<Hit>) {
        PatternSet::find_all(self, haystack, out);
    }

    fn token(&self, haystack: &[u8], hit: &Hit) -> zeroize::Zeroizing<Vec<u8>> {
        PatternSet::token(self, haystack, hit)
    }

    /// The rules that begin with each literal run where it occurs (see [`PatternSet::rules_at`]);
    /// overlapping matches then collapse to one.
    fn confirm(&self, haystack: &[u8], starts: &[Start], out: &mut Vec<Hit>) {
        let first = out.len();
        for &start in starts {
            self.rules_at(haystack, start, out);
        }
        self.collapse_overlaps(out, first);
    }

    fn overlap(&self) -> usize {
        PATTERN_OVERLAP
    }
}

/// `\w` in ASCII: a match that starts with one must not follow one.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Characters tokens are made of: a match that ends with one must not be followed by one.
fn is_token(b: u8) -> bool {
    is_word(b) || b == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::examples::{expand, expand_with_seed};
    use crate::providers::{Confidence, Pattern};

    fn set() -> PatternSet {
        PatternSet::all()
    }

    /// The built-in rules of a set without custom ones, in needle order: their examples and negatives.
    fn builtin(set: &PatternSet) -> Vec<&'static Pattern> {
        set.rules().map(|r| r.builtin.expect("built-in")).collect()
    }

    fn hits(set: &PatternSet, haystack: &[u8]) -> Vec<Hit> {
        let mut out = Vec::new();
        set.find_all(haystack, &mut out);
        out
    }

    fn ids<'s>(set: &'s PatternSet, haystack: &[u8]) -> Vec<&'s str> {
        hits(set, haystack)
            .iter()
            .map(|h| set.rule(h.needle).id)
            .collect()
    }

    /// Ways a token sits in a file: bare, as a `.env` value, quoted in code, in JSON, in YAML, in a URL.
    const CONTEXTS: &[(&str, &str)] = &[
        ("", ""),
        ("TOKEN=", "\n"),
        ("token = \"", "\"\n"),
        ("{\"key\": \"", "\"}"),
        ("  api_key: '", "'\n"),
        ("see https://example.com/?t=", "&x=1 and more"),
        ("line one\nexport KEY=", " # comment"),
        ("\t", "\r\n"),
    ];

    /// Whether a rule's whole match is its token: it has a prefix and no capture group (context rules,
    /// capture rules and the generic rule match a value inside their example text).
    fn whole_token(pattern: &Pattern) -> bool {
        !pattern.prefixes.is_empty()
            && regex::Regex::new(pattern.regex).unwrap().captures_len() == 1
    }

    /// Contexts that assign to a secret-sounding name: the generic rule may report whatever stands there.
    fn secret_context(before: &str) -> bool {
        ["TOKEN=", "token = ", "api_key: ", "KEY="]
            .iter()
            .any(|c| before.contains(c))
    }

    #[test]
    fn every_example_of_a_context_rule_is_one_hit_of_it_in_every_context() {
        let set = set();
        for (index, pattern) in builtin(&set).iter().enumerate() {
            if whole_token(pattern) {
                continue;
            }
            for template in pattern.examples {
                let example = expand(template);
                for (before, after) in CONTEXTS {
                    let text = format!("{before}{example}{after}");
                    let found = hits(&set, text.as_bytes());
                    let shown: Vec<_> = found.iter().map(|h| set.rule(h.needle).id).collect();
                    assert_eq!(
                        found.len(),
                        1,
                        "{} {template:?} in {before:?}..{after:?}: {shown:?}",
                        pattern.id
                    );
                    assert_eq!(
                        found[0].needle, index as u32,
                        "{} in {before:?}: {shown:?}",
                        pattern.id
                    );
                    let token = set.token(text.as_bytes(), &found[0]);
                    let shape =
                        regex::bytes::Regex::new(&format!("^(?:{})$", pattern.regex)).unwrap();
                    assert!(
                        whole_token(pattern)
                            || pattern.prefixes.is_empty() && shape.is_match(&token)
                            || !pattern.prefixes.is_empty()
                                && example
                                    .as_bytes()
                                    .windows(token.len())
                                    .any(|w| w == &token[..]),
                        "{} {template:?}",
                        pattern.id
                    );
                }
            }
        }
    }

    #[test]
    fn every_example_is_one_hit_of_its_rule_in_every_context() {
        let set = set();
        for (index, pattern) in builtin(&set).iter().enumerate() {
            if !whole_token(pattern) {
                continue;
            }
            for template in pattern.examples {
                let token = expand(template);
                for (before, after) in CONTEXTS {
                    let text = format!("{before}{token}{after}");
                    let found = hits(&set, text.as_bytes());
                    assert_eq!(
                        found,
                        vec![Hit {
                            needle: index as u32,
                            start: before.len(),
                            end: before.len() + token.len()
                        }],
                        "{} {template:?} in {before:?}..{after:?}: {:?}",
                        pattern.id,
                        found
                            .iter()
                            .map(|h| set.rule(h.needle).id)
                            .collect::<Vec<_>>()
                    );
                }
            }
        }
    }

    #[test]
    fn no_negative_is_found() {
        let set = set();
        for pattern in builtin(&set) {
            for template in pattern.negatives {
                let text = expand(template);
                for (before, after) in CONTEXTS {
                    let text = format!("{before}{text}{after}");
                    let mut found = ids(&set, text.as_bytes());
                    if secret_context(before) && pattern.id != "generic.secret-assignment" {
                        found.retain(|id| *id != "generic.secret-assignment");
                    }
                    assert_eq!(
                        found,
                        Vec::<&str>::new(),
                        "{} negative {template:?} in {before:?}..{after:?}",
                        pattern.id
                    );
                }
            }
        }
    }

    #[test]
    fn placeholders_are_ignored() {
        let set = set();
        for template in [
            "HF_TOKEN=hf_{x*34}",
            "HF_TOKEN=hf_{X*34}",
            "HF_TOKEN=hf_{Ab*17}",
            "HF_TOKEN=hf_{abc*11}d",
            "HF_TOKEN=your_token_here",
            "HF_TOKEN=hf_your_token_here",
            "hf_ExampleTokenPleaseReplace{alpha:9}",
            "GITHUB_TOKEN=ghp_{0*36}",
            "AWS_ACCESS_KEY_ID=AKIA{upper:9}EXAMPLE",
            "OPENAI_API_KEY=sk-{x*20}T3BlbkFJ{x*20}",
            "STRIPE=sk_live_{0*30}",
            "-----BEGIN PRIVATE KEY-----\n{.*100}\n-----END PRIVATE KEY-----",
        ] {
            assert!(
                hits(&set, expand(template).as_bytes()).is_empty(),
                "{template}"
            );
        }
    }

    #[test]
    fn letters_only_hf_token_is_one_high_confidence_hit() {
        let set = set();
        let token = expand("hf_{alpha:34}");
        let found = hits(&set, format!("HF_TOKEN={token}\n").as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(set.rule(found[0].needle).id, "huggingface.user-token");
        assert_eq!(set.rule(found[0].needle).confidence, Confidence::High);
        assert_eq!(set.rule(found[0].needle).provider.id, "huggingface");

        let mixed = expand("hf_{alnum:34}");
        let found = hits(&set, mixed.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(set.rule(found[0].needle).id, "huggingface.user-token-alnum");
        assert_eq!(set.rule(found[0].needle).confidence, Confidence::Medium);
    }

    #[test]
    fn matches_at_buffer_start_and_end() {
        let set = set();
        for template in ["hf_{alpha:34}", "AKIA{upper:16}", "glpat-{alnum:20}"] {
            let token = expand(template);
            assert_eq!(hits(&set, token.as_bytes()).len(), 1, "{template} alone");
            let text = format!("{token} middle {token}");
            let found = hits(&set, text.as_bytes());
            assert_eq!(found.len(), 2, "{template}");
            assert_eq!((found[0].start, found[0].end), (0, token.len()));
            assert_eq!(found[1].end, text.len());
        }
        // A match cut short by the end of the buffer is not a match.
        let token = expand("hf_{alpha:34}");
        assert!(hits(&set, &token.as_bytes()[..36]).is_empty());
    }

    /// `-----BEGIN ` is searched from `BEGIN `: a block at the very start of a haystack, one after a longer
    /// run of dashes, and dense dashes (the automaton path) are all still found where they begin.
    #[test]
    fn a_literal_searched_after_its_leading_run_is_found_where_it_begins() {
        assert_eq!(search_offset(b"-----BEGIN "), 5);
        assert_eq!(search_offset(b"hf_"), 0);
        assert_eq!(search_offset(b"----x"), 0, "too little left to search");
        let set = set();
        let key = expand(
            "-----BEGIN RSA PRIVATE KEY-----\n{b64:64}\n{b64:64}\n-----END RSA PRIVATE KEY-----",
        );
        let found = hits(&set, key.as_bytes());
        assert_eq!((found.len(), found[0].start), (1, 0));
        let text = format!("---{key}\n");
        let found = hits(&set, text.as_bytes());
        assert_eq!((found.len(), found[0].start), (1, 3));
        let dense = format!("{}{key}", "----- -----BEGI\n".repeat(200));
        for dense_after in [0, DENSE_AFTER] {
            let mut out = Vec::new();
            set.find_with(dense.as_bytes(), &mut out, dense_after);
            assert_eq!(out.len(), 1, "dense_after {dense_after}");
            assert_eq!(out[0].start, dense.len() - key.len());
        }
    }

    #[test]
    fn tokens_glued_to_word_characters_are_not_found() {
        let set = set();
        let token = expand("ghp_{alnum:36}");
        for text in [
            format!("x{token}"),
            format!("{token}x"),
            format!("_{token}"),
            format!("{token}-x"),
            format!("9{token}"),
        ] {
            assert!(hits(&set, text.as_bytes()).is_empty(), "{text}");
        }
        for text in [
            format!("-{token}."),
            format!("({token})"),
            format!("/{token}/"),
        ] {
            assert_eq!(hits(&set, text.as_bytes()).len(), 1, "{text}");
        }
    }

    #[test]
    fn several_tokens_come_back_in_order_and_out_is_appended_to() {
        let set = set();
        let text = format!(
            "a={}\nb={}\nc={}\n",
            expand("AKIA{upper:16}"),
            expand("npm_{alnum:36}"),
            expand("hf_{alpha:34}")
        );
        let mut out = vec![Hit {
            needle: 999,
            start: 0,
            end: 0,
        }];
        set.find_all(text.as_bytes(), &mut out);
        assert_eq!(out[0].needle, 999);
        let got: Vec<&str> = out[1..].iter().map(|h| set.rule(h.needle).id).collect();
        assert_eq!(
            got,
            [
                "aws.access-key-id",
                "npm.access-token",
                "huggingface.user-token"
            ]
        );
        assert!(out[1..].windows(2).all(|w| w[0].end <= w[1].start));
    }

    #[test]
    fn distinct_tokens_from_seeds_are_all_found() {
        let set = set();
        let text: String = (0..50)
            .map(|seed| format!("T{seed}={}\n", expand_with_seed("hf_{alpha:34}", seed)))
            .collect();
        assert_eq!(hits(&set, text.as_bytes()).len(), 50);
    }

    /// Random bytes avoiding the first byte of every literal: the prefilter rejects the whole buffer. Then the
    /// same buffer with tokens planted in it finds exactly those.
    #[test]
    fn big_random_haystack() {
        let set = set();
        let starts: Vec<u8> = set
            .rules()
            .flat_map(|r| r.prefixes.iter().map(|p| p.as_bytes()[0]))
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut haystack: Vec<u8> = Vec::with_capacity(8 << 20);
        while haystack.len() < 8 << 20 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = (state >> 24) as u8;
            if !starts.contains(&b) {
                haystack.push(b);
            }
        }
        assert!(hits(&set, &haystack).is_empty());

        let token = expand("sk-ant-api03-{url:93}AA");
        let mut planted = haystack.clone();
        for at in [0usize, 1 << 20, 5 << 20] {
            planted[at] = b'\n';
            planted.splice(at + 1..at + 1, token.bytes().chain(*b"\n"));
        }
        let tail = format!("\n{token}");
        planted.extend_from_slice(tail.as_bytes());
        let found = hits(&set, &planted);
        assert_eq!(found.len(), 4);
        assert!(found.iter().all(
            |h| set.rule(h.needle).id == "anthropic.api-key" && h.end - h.start == token.len()
        ));
        assert_eq!(found[3].end, planted.len());
    }

    #[test]
    fn dense_literals_switch_paths_without_losing_tokens() {
        let set = set();
        let tokens: Vec<String> = (0..20)
            .map(|seed| expand_with_seed("ghp_{alnum:36}", seed))
            .collect();
        let mut text = String::new();
        for token in &tokens {
            text.push_str(&"task-sk-hf_ AKIA xoxb-\n".repeat(40));
            text.push_str(&format!("GH={token}\n"));
        }
        let found = hits(&set, text.as_bytes());
        assert_eq!(found.len(), tokens.len());
        for dense_after in [0, usize::MAX] {
            let mut other = Vec::new();
            set.find_with(text.as_bytes(), &mut other, dense_after);
            assert_eq!(other, found, "dense_after {dense_after}");
        }
    }

    #[test]
    fn a_begin_line_without_end_is_bounded() {
        let set = set();
        let mut text = String::new();
        for _ in 0..200 {
            text.push_str("-----BEGIN RSA PRIVATE KEY-----\n");
            text.push_str(&expand("{b64:64}\n").repeat(4));
        }
        assert!(hits(&set, text.as_bytes()).is_empty());
    }

    /// A set's custom rules are its own: two sets with different ones, in one process, each find what
    /// theirs describe (custom rules were once registered process-wide, the first set winning).
    #[test]
    fn two_sets_with_different_custom_rules_find_differently() {
        let custom = |id: &str, regex: &str, confidence| {
            let prefixes = ["acme_".to_string()];
            let rule =
                providers::CustomPattern::new(id, "ACME key", regex, &prefixes, confidence, None);
            PatternSet::with_rules(&Rules::with_custom(vec![rule.unwrap()]))
        };
        let letters = custom("acme.letters", "acme_[A-Za-z]{32}", Confidence::Low);
        let digits = custom("acme.digits", "acme_[0-9]{32}", Confidence::High);
        let text = format!(
            "one {} two {} three",
            expand("acme_{alpha:32}"),
            expand("acme_{digits:32}")
        );
        assert_eq!(ids(&letters, text.as_bytes()), ["acme.letters"]);
        assert_eq!(ids(&digits, text.as_bytes()), ["acme.digits"]);
        assert!(ids(&set(), text.as_bytes()).is_empty());
        let found = hits(&letters, text.as_bytes());
        let rule = letters.rule(found[0].needle);
        assert_eq!(
            (rule.provider.id, rule.confidence),
            ("custom", Confidence::Low)
        );
        assert_eq!(
            letters.rule_set().rule("acme.letters").map(|r| r.id),
            Some("acme.letters")
        );
        assert!(digits.rule_set().rule("acme.letters").is_none());
        // The built-in rules still come first, and still find theirs.
        let hf = expand("hf_{alpha:34}");
        assert_eq!(ids(&letters, hf.as_bytes()), ["huggingface.user-token"]);
    }

    #[test]
    fn subsets_and_debug() {
        let set = PatternSet::new(&[&crate::providers::GITHUB]);
        assert!(set.rules().all(|r| r.id.starts_with("github.")));
        assert!(hits(&set, expand("hf_{alpha:34}").as_bytes()).is_empty());
        let empty = PatternSet::new(&[]);
        assert!(hits(&empty, b"anything").is_empty());
        let shown = format!("{:?}", PatternSet::all());
        assert!(shown.contains("huggingface.user-token"), "{shown}");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn whole(regex: &str) -> regex::bytes::Regex {
            regex::bytes::Regex::new(&format!("^(?:{regex})$")).unwrap()
        }

        proptest! {
            /// On any bytes: hits are in bounds, in order, disjoint, and each is a whole match of its rule.
            #[test]
            fn hits_are_disjoint_whole_matches(
                noise in proptest::collection::vec(any::<u8>(), 0..2048),
                seed in any::<u64>(),
                at in any::<prop::sample::Index>(),
                which in any::<prop::sample::Index>(),
            ) {
                let set = PatternSet::all();
                let rules = builtin(&set);
                let pattern = rules[which.index(rules.len())];
                let token = expand_with_seed(pattern.examples[0], seed);
                let mut haystack = noise.clone();
                haystack.splice(at.index(noise.len() + 1)..at.index(noise.len() + 1), token.bytes());
                let found = hits(&set, &haystack);
                for dense_after in [0, usize::MAX] {
                    let mut other = Vec::new();
                    set.find_with(&haystack, &mut other, dense_after);
                    prop_assert_eq!(&other, &found);
                }
                for pair in found.windows(2) {
                    prop_assert!(pair[0].end <= pair[1].start);
                }
                for hit in &found {
                    prop_assert!(hit.start < hit.end && hit.end <= haystack.len());
                    let rule = set.rule(hit.needle);
                    if regex::Regex::new(rule.regex).unwrap().captures_len() == 1 {
                        prop_assert!(whole(rule.regex).is_match(&set.token(&haystack, hit)));
                    }
                }
            }

            /// A token set apart by separators is always found, whatever random bytes surround it.
            #[test]
            fn separated_tokens_are_found(
                before in proptest::collection::vec(any::<u8>(), 0..512),
                after in proptest::collection::vec(any::<u8>(), 0..512),
                seed in any::<u64>(),
                which in any::<prop::sample::Index>(),
            ) {
                let set = PatternSet::all();
                let rules = builtin(&set);
                let simple: Vec<_> = rules.iter().filter(|r| whole_token(r)).collect();
                let pattern = simple[which.index(simple.len())];
                let token = expand_with_seed(pattern.examples[0], seed);
                // A random body can spell a stand-in word ("…SAMPLE…" in an AWS key id): the filter
                // drops it on purpose, so such a draw says nothing about the search.
                let body = pattern.prefixes.iter().find_map(|p| token.strip_prefix(p)).unwrap_or(&token);
                prop_assume!(!crate::providers::placeholder::is_placeholder_body(body));
                let mut haystack = before.clone();
                haystack.extend_from_slice(b" \n");
                let start = haystack.len();
                haystack.extend_from_slice(token.as_bytes());
                haystack.extend_from_slice(b"\n ");
                haystack.extend_from_slice(&after);
                let found = hits(&set, &haystack);
                prop_assert!(
                    found.iter().any(|h| h.start == start
                        && h.end == start + token.len()
                        && set.rule(h.needle).id == pattern.id),
                    "{} not found", pattern.id
                );
            }
        }
    }

    /// Not a timed test: it checks that dense prefixes and plain code yield nothing, and
    /// `cargo test --release -- --nocapture throughput` prints MiB/s for a look when changing the prefilter.
    #[test]
    fn throughput() {
        let set = set();
        let code: &[u8] =
            b"let value = compute(alpha, beta) + gamma; // some commentary about it\n";
        // Prefixes everywhere, none of them a token: the worst case for the prefilter.
        let dense: &[u8] =
            b"task-AKIA sk-hf_ ghp_ASIA xoxb--- -----BEGIN x hooks.slack.com/x npm_ AIza\n";
        for (name, line) in [("code", code), ("prefix-dense", dense)] {
            let haystack: Vec<u8> = line.iter().copied().cycle().take(2 << 20).collect();
            let started = std::time::Instant::now();
            let found = hits(&set, &haystack);
            let elapsed = started.elapsed();
            assert!(found.is_empty());
            eprintln!(
                "{name}: {} MiB in {elapsed:?}: {:.0} MiB/s",
                haystack.len() >> 20,
                (haystack.len() >> 20) as f64 / elapsed.as_secs_f64()
            );
        }
    }

    /// Our own sources must not hold anything our rules would report: examples are templates.
    #[test]
    fn provider_sources_hold_no_literal_tokens() {
        let set = set();
        for (name, source) in [
            ("providers/mod.rs", include_str!("../providers/mod.rs")),
            (
                "providers/examples.rs",
                include_str!("../providers/examples.rs"),
            ),
            (
                "providers/huggingface.rs",
                include_str!("../providers/huggingface.rs"),
            ),
            (
                "providers/github.rs",
                include_str!("../providers/github.rs"),
            ),
            (
                "providers/gitlab.rs",
                include_str!("../providers/gitlab.rs"),
            ),
            (
                "providers/openai.rs",
                include_str!("../providers/openai.rs"),
            ),
            (
                "providers/anthropic.rs",
                include_str!("../providers/anthropic.rs"),
            ),
            ("providers/aws.rs", include_str!("../providers/aws.rs")),
            ("providers/slack.rs", include_str!("../providers/slack.rs")),
            (
                "providers/stripe.rs",
                include_str!("../providers/stripe.rs"),
            ),
            (
                "providers/google.rs",
                include_str!("../providers/google.rs"),
            ),
            ("providers/npm.rs", include_str!("../providers/npm.rs")),
            ("providers/pypi.rs", include_str!("../providers/pypi.rs")),
            (
                "providers/private_key.rs",
                include_str!("../providers/private_key.rs"),
            ),
            ("matching/patterns.rs", include_str!("patterns.rs")),
        ] {
            let found = ids(&set, source.as_bytes());
            assert!(found.is_empty(), "{name}: {found:?}");
        }
    }
}
