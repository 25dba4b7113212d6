//! Format-preserving `.env` reading and editing, and the policy of its private writes (which symlink may
//! be followed, where the temp file and a backup go); the bytes reach the disk through the one writer,
//! [`crate::util::fs`].
//!
//! The reader reproduces python-dotenv's parser (the loader the user's scripts run), so the value we
//! rotate is the value their programs see. The file is kept as raw bytes plus the spans of every
//! binding: untouched bytes are written back exactly, and an edit splices one value in place.

use crate::util::fs::{Atomic, Staged, Step};
use anyhow::{bail, Context, Result};
use std::fmt;
use std::fs;
use std::ops::Range;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Whether a file name is a dotenv file (`.env`, `.env.local`, `prod.env`): a file whose whole job is to
/// hold secrets. The one place that decides it; every such name contains `.env`.
pub(crate) fn is_env_file_name(name: &[u8]) -> bool {
    name == b".env" || name.starts_with(b".env.") || (name.ends_with(b".env") && name.len() > 4)
}

/// [`is_env_file_name`] of a path's last component (`config/prod.env`).
pub(crate) fn is_env_path(path: &str) -> bool {
    is_env_file_name(path.rsplit('/').next().unwrap_or(path).as_bytes())
}

/// A parsed `.env` file that can be written back byte-for-byte.
#[derive(Clone, Default)]
pub struct DotEnv {
    raw: Zeroizing<Vec<u8>>,
    bindings: Vec<Binding>,
    bom: bool,
}

/// One statement as python-dotenv splits the file: blank/comment lines, assignments, and lines it cannot
/// read (which it skips with a warning, and which we keep verbatim).
#[derive(Clone)]
struct Binding {
    /// 1-based line of the statement's first non-blank character.
    line: usize,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Blank,
    Invalid,
    Assign(Assign),
}

#[derive(Clone)]
struct Assign {
    key: String,
    /// Raw byte offset just after the key (where `=value` goes for a bare `KEY` line).
    key_end: usize,
    /// None for a bare `KEY` line: python-dotenv reads it as a key without a value and sets nothing.
    value: Option<Value>,
}

#[derive(Clone)]
struct Value {
    text: Zeroizing<String>,
    /// Raw bytes of the value as written, quotes included (an unquoted value without its comment).
    span: Range<usize>,
    quote: Quote,
}

/// How a value is written in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quote {
    None,
    Single,
    Double,
}

impl fmt::Debug for DotEnv {
    /// Values are secrets: show keys only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DotEnv")
            .field("keys", &self.keys())
            .field("bytes", &self.raw.len())
            .finish()
    }
}

/// Why [`DotEnv::set`] refused. Messages never contain the value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SetError {
    /// The key is not a shell variable name (the key, as given, is in the message).
    #[error(
        "{0:?} is not a usable variable name (letters, digits and _, not starting with a digit)"
    )]
    InvalidKey(String),
    /// No quoting makes python-dotenv read the value back as it is.
    #[error(
        "the value for {key} cannot be written so python-dotenv reads it back unchanged: {reason}"
    )]
    Unrepresentable {
        /// The key being set.
        key: String,
        /// What in the value cannot be written (never the value itself).
        reason: &'static str,
    },
    /// Writing the line would change how other lines of the file parse.
    #[error(
        "setting {key} would change how python-dotenv reads other lines of the file (an unterminated \
         quote nearby?); fix the file by hand first"
    )]
    WouldDisturbOthers {
        /// The key being set.
        key: String,
    },
}

impl DotEnv {
    /// Parses any bytes; never fails. Lines python-dotenv cannot read are kept verbatim and reported by
    /// [`DotEnv::invalid_lines`]. Invalid UTF-8 (which python-dotenv refuses outright) is read with
    /// replacement characters but still written back unchanged.
    pub fn parse(bytes: &[u8]) -> DotEnv {
        let (text, offsets, bom) = normalize(bytes);
        let bindings = Parser {
            s: &text,
            off: &offsets,
        }
        .bindings();
        DotEnv {
            raw: Zeroizing::new(bytes.to_vec()),
            bindings,
            bom,
        }
    }

    /// The bytes to write back: exactly the parsed bytes, with any [`DotEnv::set`] edits spliced in.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.raw.to_vec()
    }

    /// The value a loader sees for `key`: the last assignment wins, as in python-dotenv. `None` when the
    /// key is absent or its last occurrence is a bare `KEY` without `=` (python-dotenv then sets nothing).
    /// Values are literal: python-dotenv would additionally expand `${VAR}` (see [`DotEnv::set`]).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.assigns()
            .filter(|a| a.key == key)
            .last()
            .and_then(|a| a.value.as_ref())
            .map(|v| v.text.as_str())
    }

    /// Every key that has a value, with the value a loader sees, in order of first appearance.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.loaded()
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v.to_string())))
            .collect()
    }

    /// Every key python-dotenv reads (with or without a value), in order of first appearance.
    pub fn keys(&self) -> Vec<String> {
        self.loaded().into_iter().map(|(k, _)| k).collect()
    }

    /// Keys assigned more than once (the last one wins; callers warn).
    pub fn duplicate_keys(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for a in self.assigns() {
            let count = seen.entry(a.key.as_str()).or_insert(0u32);
            *count += 1;
            if *count == 2 {
                out.push(a.key.clone());
            }
        }
        out
    }

    /// 1-based lines python-dotenv cannot parse and skips (it logs a warning for each).
    pub fn invalid_lines(&self) -> Vec<usize> {
        self.bindings
            .iter()
            .filter(|b| matches!(b.kind, Kind::Invalid))
            .map(|b| b.line)
            .collect()
    }

    /// Whether the file starts with a UTF-8 byte-order mark. We read it as an encoding marker;
    /// python-dotenv reads it as part of the first key, so that key is invisible to it. Callers warn.
    pub fn has_bom(&self) -> bool {
        self.bom
    }

    /// Drops a leading byte-order mark (nothing else changes), so python-dotenv sees the first key under
    /// its real name. Returns whether there was one.
    pub fn strip_bom(&mut self) -> bool {
        if !self.bom {
            return false;
        }
        *self = DotEnv::parse(&self.raw[3..]);
        true
    }

    /// The first key of the file, the one a byte-order mark hides from python-dotenv.
    pub(crate) fn first_key(&self) -> Option<&str> {
        self.bindings.iter().find_map(|b| match &b.kind {
            Kind::Assign(a) => Some(a.key.as_str()),
            Kind::Invalid => Some(""),
            Kind::Blank => None,
        })
    }

    /// Sets `key` to `value`. Every assignment of `key` is rewritten in place (so no copy of an old,
    /// possibly leaked, value survives in a duplicate line), keeping `export`, spacing, the trailing
    /// comment and the quoting where the new value allows it; when the key is absent, `KEY=value` is
    /// appended. Every other byte stays as it was.
    ///
    /// The edit is checked by parsing the result: `key` must read back as `value` and every other key
    /// must keep its value; otherwise another quoting is tried, and then the edit is refused. Refused too:
    /// values python-dotenv cannot read back unchanged (it expands `${VAR}` whatever the quoting; a NUL
    /// cannot live in an environment variable).
    ///
    /// This is the edit `unleak respond` makes when it rotates a token: parse, `set`, [`write_private`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SetError> {
        if !is_valid_key(key) {
            return Err(SetError::InvalidKey(key.to_string()));
        }
        let unrepresentable = |reason| SetError::Unrepresentable {
            key: key.to_string(),
            reason,
        };
        if value.contains('\0') {
            return Err(unrepresentable("it contains a NUL character"));
        }
        if interpolates(value) {
            return Err(unrepresentable(
                "python-dotenv would expand its ${...} part whatever the quoting",
            ));
        }
        let mut any = false;
        // Per-occurrence preference first (keep each line's quoting), then each style for all lines.
        for forced in [
            None,
            Some(Quote::None),
            Some(Quote::Single),
            Some(Quote::Double),
        ] {
            let Some(candidate) = self.edited(key, value, forced) else {
                continue;
            };
            any = true;
            let parsed = DotEnv::parse(&candidate);
            if parsed.get(key) == Some(value) && parsed.others_unchanged(self, key) {
                *self = parsed;
                return Ok(());
            }
        }
        if any {
            Err(SetError::WouldDisturbOthers {
                key: key.to_string(),
            })
        } else {
            Err(unrepresentable(
                "no quoting keeps it intact (it ends with a backslash and has spaces or quotes)",
            ))
        }
    }

    /// The file's bytes with every assignment of `key` set to `value` (or one appended), each value
    /// encoded in `forced` quoting, or in its line's own quoting where possible. None when `forced` cannot
    /// encode the value.
    fn edited(&self, key: &str, value: &str, forced: Option<Quote>) -> Option<Vec<u8>> {
        let preferred = |own: Option<Quote>| -> Option<String> {
            match forced {
                Some(q) => encode(value, q),
                None => own
                    .and_then(|q| encode(value, q))
                    .or_else(|| {
                        [Quote::None, Quote::Single, Quote::Double]
                            .into_iter()
                            .find_map(|q| encode(value, q))
                    })
                    .or_else(|| encode_bare(value)),
            }
        };
        let mut out: Vec<u8> = Vec::with_capacity(self.raw.len() + value.len() + key.len() + 4);
        let mut cursor = 0;
        let mut found = false;
        for a in self.assigns().filter(|a| a.key == key) {
            found = true;
            match &a.value {
                Some(v) => {
                    let enc = preferred(Some(v.quote))?;
                    out.extend_from_slice(&self.raw[cursor..v.span.start]);
                    out.extend_from_slice(enc.as_bytes());
                    cursor = v.span.end;
                }
                None => {
                    let enc = preferred(None)?;
                    out.extend_from_slice(&self.raw[cursor..a.key_end]);
                    out.push(b'=');
                    out.extend_from_slice(enc.as_bytes());
                    cursor = a.key_end;
                }
            }
        }
        out.extend_from_slice(&self.raw[cursor..]);
        if !found {
            let enc = preferred(None)?;
            let eol: &[u8] = if memchr::memmem::find(&self.raw, b"\r\n").is_some() {
                b"\r\n"
            } else {
                b"\n"
            };
            let body = &self.raw[if self.bom { 3 } else { 0 }..];
            if !body.is_empty() && !matches!(body.last(), Some(b'\n' | b'\r')) {
                out.extend_from_slice(eol);
            }
            out.extend_from_slice(key.as_bytes());
            out.push(b'=');
            out.extend_from_slice(enc.as_bytes());
            out.extend_from_slice(eol);
        }
        Some(out)
    }

    fn others_unchanged(&self, before: &DotEnv, key: &str) -> bool {
        let strip = |d: &DotEnv| -> Vec<(String, Option<String>)> {
            d.loaded()
                .into_iter()
                .filter(|(k, _)| k != key)
                .map(|(k, v)| (k, v.map(str::to_string)))
                .collect()
        };
        let (a, b) = (Zeroizing::new(strip(before)), Zeroizing::new(strip(self)));
        a.iter()
            .map(|(k, v)| (k, v.as_deref()))
            .eq(b.iter().map(|(k, v)| (k, v.as_deref())))
    }

    fn assigns(&self) -> impl Iterator<Item = &Assign> {
        self.bindings.iter().filter_map(|b| match &b.kind {
            Kind::Assign(a) => Some(a),
            _ => None,
        })
    }

    /// python-dotenv's dict: first-appearance order, last value (None for a bare key).
    /// Linear in the keys (a map from key to slot): 10,000 keys once took seconds.
    fn loaded(&self) -> Vec<(String, Option<&str>)> {
        let mut out: Vec<(String, Option<&str>)> = Vec::new();
        let mut slot_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for a in self.assigns() {
            let v = a.value.as_ref().map(|v| v.text.as_str());
            match slot_of.get(a.key.as_str()) {
                Some(&slot) => out[slot].1 = v,
                None => {
                    slot_of.insert(a.key.as_str(), out.len());
                    out.push((a.key.clone(), v));
                }
            }
        }
        out
    }
}

/// A name we are willing to write: POSIX environment variable syntax.
pub(crate) fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether python-dotenv's `${NAME}` / `${NAME:-default}` expansion would change this value.
fn interpolates(value: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"\$\{[^}:]*(?::-[^}]*)?\}").expect("valid regex"))
        .is_match(value)
}

/// Characters that need no quoting anywhere (python-dotenv, shells sourcing the file, other loaders).
fn is_plain(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/+@%,~=".contains(c))
}

/// `value` written in `quote`, or None when that quoting cannot hold it.
fn encode(value: &str, quote: Quote) -> Option<String> {
    match quote {
        Quote::None => is_plain(value).then(|| value.to_string()),
        // Inside quotes a final backslash would escape the closing quote for python-dotenv's scanner.
        Quote::Single if value.ends_with('\\') || value.contains(['\r', '\n']) => None,
        // Single quotes keep newlines literally, but a file read in text mode turns a CR into LF.
        Quote::Single => Some(format!(
            "'{}'",
            value.replace('\\', "\\\\").replace('\'', "\\'")
        )),
        Quote::Double if value.ends_with('\\') => None,
        Quote::Double => {
            let mut out = String::with_capacity(value.len() + 2);
            out.push('"');
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('"');
            Some(out)
        }
    }
}

/// The last resort for a value quotes cannot hold (one ending with a backslash): unquoted, when
/// python-dotenv reads it back whole (no edge spaces, no ` #`, no leading quote, one line).
fn encode_bare(value: &str) -> Option<String> {
    let first = value.chars().next()?;
    let last = value.chars().last()?;
    let chars: Vec<char> = value.chars().collect();
    let comment = chars.windows(2).any(|w| py_space(w[0]) && w[1] == '#');
    (!py_space(first)
        && !py_space(last)
        && first != '\''
        && first != '"'
        && !comment
        && !value.contains(['\r', '\n']))
    .then(|| value.to_string())
}

/// Python's `str.isspace`, which its `\s` follows: Unicode White_Space plus the separators 0x1C-0x1F.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Whitespace that does not end a line (`[^\S\r\n]`).
fn hspace(c: char) -> bool {
    py_space(c) && c != '\n' && c != '\r'
}

/// The text python-dotenv sees (UTF-8, universal newlines: CRLF and CR become LF), with the raw byte
/// offset of every character (plus one for the end) so spans map back to the file. A BOM is skipped.
fn normalize(bytes: &[u8]) -> (Zeroizing<Vec<char>>, Vec<usize>, bool) {
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let start = if bom { 3 } else { 0 };
    let mut text = Zeroizing::new(Vec::with_capacity(bytes.len() - start));
    let mut off = Vec::with_capacity(bytes.len() - start + 1);
    let mut pos = start;
    for chunk in bytes[start..].utf8_chunks() {
        for (i, c) in chunk.valid().char_indices() {
            text.push(c);
            off.push(pos + i);
        }
        pos += chunk.valid().len();
        for _ in chunk.invalid() {
            text.push(char::REPLACEMENT_CHARACTER);
            off.push(pos);
            pos += 1;
        }
    }
    off.push(bytes.len());
    // Universal newlines: "\r\n" -> "\n" (dropping the "\n" char, keeping the "\r" offset), "\r" -> "\n".
    let mut out_text = Zeroizing::new(Vec::with_capacity(text.len()));
    let mut out_off = Vec::with_capacity(off.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == '\r' {
            out_text.push('\n');
            out_off.push(off[i]);
            i += if text.get(i + 1) == Some(&'\n') { 2 } else { 1 };
        } else {
            out_text.push(text[i]);
            out_off.push(off[i]);
            i += 1;
        }
    }
    out_off.push(bytes.len());
    (out_text, out_off, bom)
}

/// python-dotenv 1.x's `parse_stream`, transcribed: same regexes, same backtracking results, same error
/// recovery (skip to the end of the line where reading stopped).
struct Parser<'a> {
    s: &'a [char],
    off: &'a [usize],
}

impl Parser<'_> {
    fn bindings(&self) -> Vec<Binding> {
        let mut out = Vec::new();
        let mut pos = 0;
        let mut line = 1;
        while pos < self.s.len() {
            let (binding_end, kind, first) = self.binding(pos);
            let first_line = line
                + self.s[pos..first.min(binding_end)]
                    .iter()
                    .filter(|c| **c == '\n')
                    .count();
            line += self.s[pos..binding_end]
                .iter()
                .filter(|c| **c == '\n')
                .count();
            out.push(Binding {
                line: first_line,
                kind,
            });
            pos = binding_end;
        }
        out
    }

    fn peek(&self, pos: usize) -> Option<char> {
        self.s.get(pos).copied()
    }

    fn skip(&self, mut pos: usize, pred: impl Fn(char) -> bool) -> usize {
        while pos < self.s.len() && pred(self.s[pos]) {
            pos += 1;
        }
        pos
    }

    fn line_end(&self, pos: usize) -> usize {
        self.skip(pos, |c| c != '\n')
    }

    /// One statement from `mark`: (end, kind, position of its first non-blank character).
    fn binding(&self, mark: usize) -> (usize, Kind, usize) {
        let start = self.skip(mark, py_space);
        if start == self.s.len() {
            return (start, Kind::Blank, start);
        }
        let mut pos = start;
        match self.assignment(&mut pos) {
            Ok(kind) => (pos, kind, start),
            Err(()) => {
                // `_rest_of_line` from wherever reading stopped.
                let end = self.line_end(pos);
                let end = if self.peek(end) == Some('\n') {
                    end + 1
                } else {
                    end
                };
                (end, Kind::Invalid, start)
            }
        }
    }

    /// Advances `pos` over what it reads, leaving it where reading stopped on error.
    fn assignment(&self, pos: &mut usize) -> Result<Kind, ()> {
        // `(?:export[^\S\r\n]+)?`
        let export: Vec<char> = "export".chars().collect();
        if self.s[*pos..].starts_with(&export) && self.peek(*pos + 6).is_some_and(hspace) {
            *pos = self.skip(*pos + 6, hspace);
        }
        let key = match self.peek(*pos) {
            Some('#') => None,
            Some('\'') => {
                // `'([^']+)'`
                let close = (*pos + 1..self.s.len()).find(|&i| self.s[i] == '\'');
                match close {
                    Some(close) if close > *pos + 1 => {
                        let key: String = self.s[*pos + 1..close].iter().collect();
                        *pos = close + 1;
                        Some(key)
                    }
                    _ => return Err(()),
                }
            }
            _ => {
                // `([^=\#\s]+)`
                let end = self.skip(*pos, |c| c != '=' && c != '#' && !py_space(c));
                if end == *pos {
                    return Err(());
                }
                let key: String = self.s[*pos..end].iter().collect();
                *pos = end;
                Some(key)
            }
        };
        let key_end = self.off[*pos];
        *pos = self.skip(*pos, hspace);
        let mut value = None;
        if self.peek(*pos) == Some('=') {
            *pos = self.skip(*pos + 1, hspace);
            value = Some(self.value(pos)?);
        }
        // `(?:[^\S\r\n]*#[^\r\n]*)?`
        let after = self.skip(*pos, hspace);
        if self.peek(after) == Some('#') {
            *pos = self.line_end(after);
        }
        // `[^\S\r\n]*(?:\r\n|\n|\r|$)`, all or nothing.
        let after = self.skip(*pos, hspace);
        match self.peek(after) {
            Some('\n') => *pos = after + 1,
            None => *pos = after,
            Some(_) => return Err(()),
        }
        Ok(match key {
            None => Kind::Blank,
            Some(key) => Kind::Assign(Assign {
                key,
                key_end,
                value,
            }),
        })
    }

    fn value(&self, pos: &mut usize) -> Result<Value, ()> {
        let start = *pos;
        match self.peek(start) {
            Some(q @ ('\'' | '"')) => {
                let close = self.closing_quote(start, q).ok_or(())?;
                let inner: Zeroizing<String> =
                    Zeroizing::new(self.s[start + 1..close].iter().collect());
                *pos = close + 1;
                let (text, quote) = if q == '\'' {
                    (decode_escapes(&inner, "\\'"), Quote::Single)
                } else {
                    (decode_escapes(&inner, "\\'\"abfnrtv"), Quote::Double)
                };
                Ok(Value {
                    text,
                    span: self.off[start]..self.off[*pos],
                    quote,
                })
            }
            None | Some('\n') => Ok(Value {
                text: Zeroizing::new(String::new()),
                span: self.off[start]..self.off[start],
                quote: Quote::None,
            }),
            Some(_) => {
                // `([^\r\n]*)`, then `re.sub(r"\s+#.*", "", part).rstrip()`.
                let end = self.line_end(start);
                let part = &self.s[start..end];
                let mut cut = part.len();
                let mut i = 0;
                while i < part.len() {
                    if py_space(part[i]) {
                        let run_end = i + part[i..].iter().take_while(|c| py_space(**c)).count();
                        if part.get(run_end) == Some(&'#') {
                            cut = i;
                            break;
                        }
                        i = run_end;
                    } else {
                        i += 1;
                    }
                }
                while cut > 0 && py_space(part[cut - 1]) {
                    cut -= 1;
                }
                *pos = end;
                Ok(Value {
                    text: Zeroizing::new(part[..cut].iter().collect()),
                    span: self.off[start]..self.off[start + cut],
                    quote: Quote::None,
                })
            }
        }
    }

    /// Where python's `q((?:\\q|[^q])*)q` ends, opening at `open`. The greedy loop pairs `\q`; it stops
    /// at the first unpaired `q`. At the end of the input it backtracks to the last `\q` pair, whose quote
    /// then closes the value.
    fn closing_quote(&self, open: usize, q: char) -> Option<usize> {
        let mut i = open + 1;
        let mut last_pair = None;
        while i < self.s.len() {
            if self.s[i] == '\\' && self.peek(i + 1) == Some(q) {
                last_pair = Some(i + 1);
                i += 2;
            } else if self.s[i] == q {
                return Some(i);
            } else {
                i += 1;
            }
        }
        last_pair
    }
}

/// python-dotenv's escape decoding: `\` followed by one of `escapable` becomes that character's meaning
/// (`codecs.decode(.., "unicode-escape")`); any other backslash stays.
fn decode_escapes(inner: &str, escapable: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(inner.len()));
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next) = chars.peek().filter(|n| escapable.contains(**n)) {
                chars.next();
                out.push(match next {
                    'a' => '\x07',
                    'b' => '\x08',
                    'f' => '\x0c',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\x0b',
                    other => other,
                });
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Reads and parses a `.env` file (through a symlink, like every loader).
pub fn read(path: &Path) -> Result<DotEnv> {
    // A regular file of at most MAX_DOTENV bytes: a repository can ship `.env -> /dev/zero`, which a
    // plain read would never finish.
    let bytes = Zeroizing::new(
        crate::util::fs::read_regular(path, MAX_DOTENV)
            .with_context(|| format!("cannot read {}", path.display()))?,
    );
    Ok(DotEnv::parse(&bytes))
}

/// The largest `.env` read: far past any real one (100,000 keys fit in a few MiB).
pub const MAX_DOTENV: u64 = 64 << 20;

/// What [`write_private`] did, for the caller to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The file actually replaced: the final target when `path` was a symlink.
    pub written: PathBuf,
    /// `path` was a symlink (it still is; its target was rewritten).
    pub via_symlink: bool,
    /// There was no file before.
    pub created: bool,
    /// Permission bits of the old file, if any.
    pub old_mode: Option<u32>,
    /// The old file was readable by group or others: whatever it held may have been read.
    pub old_exposed: bool,
    /// Where the old content was kept (only when asked), mode 0600.
    pub backup: Option<PathBuf>,
    /// Temp files of an earlier interrupted write (holding a secret) that were removed.
    pub(crate) removed_stale: Vec<PathBuf>,
}

/// Writes `bytes` to `path` so that a crash or `kill -9` at any instant leaves the old file or the new
/// one, never a mix or an empty file, and nobody but the owner can read the result:
/// resolve symlinks; create a 0600 temp file in the target's directory; write; fsync; rename it over the
/// target; fsync the directory. A read-only file or directory is refused (even for root) and left as it
/// was. With `backup`, the old content is first copied to a 0600 file beside it; without, no copy of it
/// is left anywhere.
///
/// `unleak setup` and `unleak respond` both write `.env` through this.
pub fn write_private(path: &Path, bytes: &[u8], backup: bool) -> Result<WriteOutcome> {
    let dest = Destination::resolve(path)?;
    let old = dest.check_writable()?;

    // Inside a work tree, the temp file (which holds the secret until the rename) and any backup go
    // under the git directory, where no `git add` or push can reach them after a crash.
    let private = private_dir(&dest.dir);
    let temp_dir = private
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
        .filter(|p| same_device(p, &dest.dir))
        .cloned()
        .unwrap_or_else(|| dest.dir.clone());
    // A backup holds the old token: in a work tree, only the private directory will do (beside the
    // file it would be one `git add .` from a commit); outside one, beside the file. Decided before
    // anything is written.
    let backups = match (&old, backup, &private) {
        (Some(_), true, Ok(Some(private))) => Some((private.join("backups"), true)),
        // The user's own directory: its mode is theirs.
        (Some(_), true, Ok(None)) => Some((dest.dir.clone(), false)),
        (Some(_), true, Err(err)) => bail!(
            "--backup: no private place to keep a copy of {} ({err:#}); nothing was written. \
             Make that directory usable, or run without --backup",
            dest.shown
        ),
        _ => None,
    };
    let mut removed_stale = remove_stale_temps(&dest.dir, &dest.name);
    if temp_dir != dest.dir {
        removed_stale.extend(remove_stale_temps(&temp_dir, &dest.name));
    }
    let temp = dest.write_temp(&temp_dir, old.as_ref(), bytes)?;

    let backup_path = match backups {
        Some((backups, private)) => {
            if private {
                crate::util::fs::private_dir(&backups)?;
            }
            Some(write_backup(&dest.target, &backups, &dest.name)?)
        }
        None => None,
    };

    temp.commit().map_err(|err| {
        let shown = &dest.shown;
        let why = match err.step {
            Step::SyncDir => format!("wrote {shown} but could not flush its directory to disk"),
            _ => format!("cannot replace {shown}; the old file is unchanged"),
        };
        anyhow::Error::new(err.into_io()).context(why)
    })?;

    let old_mode = old.as_ref().map(|m| m.permissions().mode() & 0o7777);
    Ok(WriteOutcome {
        written: dest.target,
        via_symlink: dest.via_symlink,
        created: old.is_none(),
        old_mode,
        old_exposed: old_mode.is_some_and(|m| m & 0o044 != 0),
        backup: backup_path,
        removed_stale,
    })
}

/// The file [`write_private`] replaces: `path` with its symlinks resolved (a link into another
/// repository refused), its directory and name, and how messages show it.
struct Destination {
    target: PathBuf,
    via_symlink: bool,
    dir: PathBuf,
    name: String,
    shown: String,
}

impl Destination {
    /// Resolves `path` to the file that will be written.
    fn resolve(path: &Path) -> Result<Destination> {
        let (target, via_symlink) = resolve_symlinks(path)?;
        if via_symlink {
            refuse_repository_link(path, &target)?;
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .with_context(|| format!("{} does not name a file", target.display()))?
            .to_string_lossy()
            .into_owned();
        let shown = if via_symlink {
            format!(
                "{} (the target of symlink {})",
                target.display(),
                path.display()
            )
        } else {
            target.display().to_string()
        };
        Ok(Destination {
            target,
            via_symlink,
            dir,
            name,
            shown,
        })
    }

    /// The old file's metadata (None when there is none), after refusing what must not be replaced: a
    /// non-regular file, a read-only file, a read-only directory (even for root).
    fn check_writable(&self) -> Result<Option<fs::Metadata>> {
        let shown = &self.shown;
        let old = match fs::metadata(&self.target) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot inspect {shown}")),
        };
        if let Some(meta) = &old {
            if !meta.is_file() {
                bail!("{shown} is not a regular file; nothing was written");
            }
            if meta.permissions().mode() & 0o222 == 0 {
                bail!(
                    "{shown} is read-only (mode {:04o}); nothing was written. Make it writable \
                     (chmod u+w) if you mean to change it",
                    meta.permissions().mode() & 0o7777
                );
            }
        }
        let dir_meta = fs::metadata(&self.dir)
            .with_context(|| format!("cannot inspect the directory {}", self.dir.display()))?;
        if dir_meta.permissions().mode() & 0o222 == 0 {
            bail!(
                "the directory {} is read-only (mode {:04o}), so {} cannot be replaced safely; nothing \
                 was written. Make it writable (chmod u+w) and run again",
                self.dir.display(),
                dir_meta.permissions().mode() & 0o7777,
                self.name
            );
        }
        Ok(old)
    }

    /// The new content in a 0600 temp file in `temp_dir` (mode set before the first byte, the old
    /// file's owner kept when possible), synced to disk and ready to rename over the target: the one
    /// writer's first half ([`crate::util::fs::stage`]).
    fn write_temp(
        &self,
        temp_dir: &Path,
        old: Option<&fs::Metadata>,
        bytes: &[u8],
    ) -> Result<Staged> {
        let name = &self.name;
        let temp_prefix = format!(".{name}.unleak-");
        let opts = Atomic {
            suffix: ".tmp",
            temp_dir: Some(temp_dir),
            // Keep the owner when root edits someone's file; best effort (only root may chown).
            owner: old.map(|meta| (meta.uid(), meta.gid())),
            ..Atomic::new(0o600, &temp_prefix)
        };
        crate::util::fs::stage(&self.target, bytes, &opts).map_err(|err| {
            let why = match err.step {
                Step::Create => format!(
                    "cannot create a temporary file in {} to replace {name}; nothing was written",
                    self.dir.display()
                ),
                _ => format!(
                    "cannot write a temporary file in {}; nothing was written",
                    self.dir.display()
                ),
            };
            anyhow::Error::new(err.into_io()).context(why)
        })
    }
}

/// A symlink inside a git work tree may come with the repository (a clone brings it): writing through
/// it must not put the token outside the work tree, into the git directory, or into a tracked file
/// (where the next commit would publish it). Links outside any work tree are the user's own.
fn refuse_repository_link(link: &Path, target: &Path) -> Result<()> {
    let Some(link_dir) = std::path::absolute(link)
        .ok()
        .and_then(|a| a.parent().map(Path::to_path_buf))
    else {
        return Ok(());
    };
    let Some(repo) = crate::git::discover(&link_dir) else {
        return Ok(());
    };
    let (Some(workdir), Ok(link_dir)) = (
        repo.workdir().and_then(|w| w.canonicalize().ok()),
        link_dir.canonicalize(),
    ) else {
        return Ok(());
    };
    if !link_dir.starts_with(&workdir) {
        return Ok(());
    }
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Ok(());
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let resolved = match parent.canonicalize() {
        Ok(dir) => dir.join(name),
        // The target's directory does not exist: the write fails later with its own message.
        Err(_) => return Ok(()),
    };
    let in_git_dir = [repo.git_dir(), repo.common_dir()]
        .iter()
        .filter_map(|d| d.canonicalize().ok())
        .any(|d| resolved.starts_with(d));
    let how = format!(
        "Nothing was written. If {} is really where you keep the token, pass it with --env-file; \
         otherwise replace the symlink with a file of its own (`rm {}`) and run again",
        resolved.display(),
        link.display()
    );
    if !resolved.starts_with(&workdir) || in_git_dir {
        bail!(
            "{} is a symlink to {}, outside the repository's work tree {}: a cloned repository can ship \
             such a link to make the token land somewhere else. {how}",
            link.display(),
            resolved.display(),
            workdir.display()
        );
    }
    let tracked = resolved
        .strip_prefix(&workdir)
        .ok()
        .is_some_and(|rel| repo.is_tracked(rel).unwrap_or(false));
    if tracked {
        bail!(
            "{} is a symlink to {}, a file git tracks: the token would go into the next commit. {how}",
            link.display(),
            resolved.display()
        );
    }
    // A link the repository itself supplies (git tracks the link) is its author's choice of where the
    // token goes, not the user's.
    let link_tracked = link_dir
        .join(link.file_name().unwrap_or_default())
        .strip_prefix(&workdir)
        .ok()
        .is_some_and(|rel| repo.is_tracked(rel).unwrap_or(false));
    if link_tracked {
        bail!(
            "{} is a symlink the repository supplies (git tracks it), pointing at {}: the repository, not \
             you, would choose where the token goes. {how}",
            link.display(),
            resolved.display()
        );
    }
    // Inside a submodule or another repository nested in the work tree, the outer repository's
    // index says nothing of whether git tracks the file.
    let nested = crate::git::discover(resolved.parent().unwrap_or(&workdir))
        .and_then(|inner| inner.workdir().and_then(|w| w.canonicalize().ok()))
        .is_some_and(|inner| inner != workdir);
    if nested {
        bail!(
            "{} is a symlink to {}, inside a submodule or another repository nested in this work tree: \
             the token could go into that repository's next commit. {how}",
            link.display(),
            resolved.display()
        );
    }
    // A dangling link would create a new file where the link says, one git does not ignore.
    if fs::symlink_metadata(&resolved).is_err() {
        bail!(
            "{} is a symlink to {}, which does not exist: writing through it would create a new file \
             the repository chose, which git may not ignore. {how}",
            link.display(),
            resolved.display()
        );
    }
    Ok(())
}

/// `<git dir>/unleak` (created 0700) when `dir` is inside a git work tree; None elsewhere; an error when
/// it is inside one but that directory cannot be made private.
fn private_dir(dir: &Path) -> Result<Option<PathBuf>> {
    let Some(repo) = crate::git::discover(dir) else {
        return Ok(None);
    };
    let (Some(workdir), Ok(dir)) = (
        repo.workdir().and_then(|w| w.canonicalize().ok()),
        dir.canonicalize(),
    ) else {
        return Ok(None);
    };
    if !dir.starts_with(&workdir) {
        return Ok(None);
    }
    let private = repo.git_dir().join("unleak");
    crate::util::fs::private_dir(&private)?;
    Ok(Some(private))
}

/// Whether a rename from `a` to `b` can be atomic (same filesystem).
fn same_device(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => false,
    }
}

/// Follows a chain of symlinks to the file it ends at (which may not exist yet).
fn resolve_symlinks(path: &Path) -> Result<(PathBuf, bool)> {
    let mut current = path.to_path_buf();
    let mut via = false;
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)
                    .with_context(|| format!("cannot read the symlink {}", current.display()))?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
                via = true;
            }
            _ => return Ok((current, via)),
        }
    }
    bail!("{} is a symlink loop", path.display())
}

/// Temp files left by a write that was killed hold a secret: remove those old enough that no live
/// writer can still own them.
fn remove_stale_temps(dir: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!(".{name}.unleak-");
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if !(file_name.starts_with(&prefix) && file_name.ends_with(".tmp")) {
            continue;
        }
        let old_enough = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(60));
        if old_enough && fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// Copies the old file to `NAME.unleak-backup-<time>` (0600, created exclusively, fsynced).
fn write_backup(target: &Path, dir: &Path, name: &str) -> Result<PathBuf> {
    let content = Zeroizing::new(
        fs::read(target)
            .with_context(|| format!("cannot read {} to back it up", target.display()))?,
    );
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]"
        ))
        .unwrap_or_default();
    for n in 0..100 {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        let path = dir.join(format!("{name}.unleak-backup-{stamp}{suffix}"));
        match crate::util::fs::create_new(&path, &content, 0o600) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                let why = match e.step {
                    Step::Create => format!("cannot create the backup {}", path.display()),
                    _ => format!("cannot write the backup {}", path.display()),
                };
                return Err(anyhow::Error::new(e.into_io()).context(why));
            }
        }
    }
    bail!("cannot find a free backup name beside {}", target.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// python-dotenv's quoted-value regex backtracks to the last `\"` when no closing quote follows;
    /// these expectations were read from python-dotenv 1.2.
    #[test]
    fn quoted_values_follow_python_backtracking() {
        let env = DotEnv::parse(b"Q=\"a\\\"\nB=1\n");
        assert_eq!(env.get("Q"), Some("a\\"));
        assert_eq!(env.get("B"), Some("1"));
        let env = DotEnv::parse(b"Q=\"a\\\\\"\nB=\"x\"\nC=2\n");
        assert_eq!(env.get("Q"), None);
        assert_eq!(env.get("B"), None);
        assert_eq!(env.get("C"), Some("2"));
        assert_eq!(env.invalid_lines(), vec![1]);
    }

    #[test]
    fn unquoted_values_lose_comments_and_edge_spaces() {
        let env = DotEnv::parse(b"A=x # c\nB=x#y\nC= #c\nD=a \t b  \n");
        assert_eq!(env.get("A"), Some("x"));
        assert_eq!(env.get("B"), Some("x#y"));
        assert_eq!(env.get("C"), Some("#c"));
        assert_eq!(env.get("D"), Some("a \t b"));
    }
}
