//! Untrusted text (paths, commit messages, author names, ref names, what the user typed) passes through
//! here before it reaches a terminal: anything that looks like a secret is redacted, so a token pasted
//! into the wrong flag is not echoed back, and control characters are escaped, so a crafted file name
//! cannot move the cursor, recolor the screen or hide a line of the report.

use crate::matching::patterns::PatternSet;
use crate::matching::Hit;
use std::borrow::Cow;
use std::sync::OnceLock;

/// [`scrub_secrets`], then control characters (C0, DEL, C1) replaced with visible escapes such as
/// `\x1b`; tabs become spaces. Every line of human output goes through this.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    match scrub_secrets(text) {
        Cow::Borrowed(text) => escape_controls(text),
        Cow::Owned(text) => Cow::Owned(escape_controls(&text).into_owned()),
    }
}

/// [`for_terminal`] for a multi-line message: each line is cleaned, the line breaks are kept.
pub fn for_terminal_lines(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(line) => format!("{}\n", for_terminal(line)),
            None => for_terminal(line).into_owned(),
        })
        .collect()
}

/// A writer for narrative output made of lines of untrusted text (the `respond` walk-through): each
/// complete line goes through [`for_terminal`] as it is written; a trailing partial line on flush or drop.
pub struct TerminalWriter<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> TerminalWriter<W> {
    pub fn new(inner: W) -> Self {
        TerminalWriter {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, line: &[u8]) -> std::io::Result<()> {
        let (text, newline) = match line.strip_suffix(b"\n") {
            Some(text) => (text, true),
            None => (line, false),
        };
        let text = path_bytes(text);
        self.inner.write_all(for_terminal(&text).as_bytes())?;
        if newline {
            self.inner.write_all(b"\n")?;
        }
        Ok(())
    }
}

impl<W: std::io::Write> std::io::Write for TerminalWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = memchr::memchr(b'\n', &self.pending) {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.emit(&line)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest)?;
        }
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for TerminalWriter<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

/// Text that leaves the process in a machine format (JSON, SARIF, an incident record): secrets redacted
/// as in [`for_terminal`], control characters kept (the format escapes them).
pub fn for_record(text: &str) -> String {
    scrub_secrets(text).into_owned()
}

/// Replaces every part of `text` that looks like a secret with its redaction ([`crate::secret::redact`]):
/// what a provider pattern matches, and any long, varied word of letters and digits that no pattern knows
/// (see [`looks_random`]). Git object ids and `sha256:` fingerprints are left alone.
pub fn scrub_secrets(text: &str) -> Cow<'_, str> {
    static PATTERNS: OnceLock<PatternSet> = OnceLock::new();
    let mut spans: Vec<(usize, usize, ())> = Vec::new();
    let mut hits: Vec<Hit> = Vec::new();
    PATTERNS
        .get_or_init(PatternSet::all)
        .find_all(text.as_bytes(), &mut hits);
    spans.extend(hits.iter().map(|h| (h.start, h.end, ())));
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if !is_word_byte(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && is_word_byte(bytes[at]) {
            at += 1;
        }
        if looks_random(&text[start..at]) {
            spans.push((start, at, ()));
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(splice_redactions(text, spans, |(), matched| {
        crate::secret::redact(matched)
    }))
}

/// The one redaction splicer, behind [`scrub_secrets`] (what looks like a secret) and the engine's
/// `scan::findings::scrub_text` (the searched tokens, in every form): `text` with each span
/// `(start, end, what)` replaced by `redaction(what, the text it covers)`. Spans are taken by where
/// they start, the longest first (equal ones in the order given); a span that overlaps one already
/// taken, or that would cut a character, is left out.
pub fn splice_redactions<T>(
    text: &str,
    mut spans: Vec<(usize, usize, T)>,
    redaction: impl Fn(&T, &str) -> String,
) -> String {
    spans.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, what) in spans {
        if start < at || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&redaction(&what, &text[start..end]));
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The generic secret check for a word no provider pattern matched: at least [`RANDOM_MIN_LEN`]
/// characters, at least two of lower case, upper case and digits, and a varied character distribution
/// (over 3.5 bits per character: English identifiers and words stay under it; 20 random characters of
/// a 62-letter alphabet average about 4). A lower-case hex string of 40 or 64 digits is a git object id
/// or a fingerprint, never redacted.
pub fn looks_random(word: &str) -> bool {
    if word.len() < RANDOM_MIN_LEN {
        return false;
    }
    let hex = word.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if hex && (word.len() == 40 || word.len() == 64) {
        return false;
    }
    let classes = [
        word.bytes().any(|b| b.is_ascii_lowercase()),
        word.bytes().any(|b| b.is_ascii_uppercase()),
        word.bytes().any(|b| b.is_ascii_digit()),
    ];
    classes.iter().filter(|&&c| c).count() >= 2 && crate::util::text::shannon_entropy(word) > 3.5
}

/// Shortest word the generic check redacts: shorter random words (temp file suffixes, abbreviated
/// object ids) are not credentials.
pub const RANDOM_MIN_LEN: usize = 20;

/// Words are runs of letters and digits: `-` and `_` separate them, so names made of parts (a
/// timestamped file name, `first_changed_commits`) are judged part by part. Tokens with such separators
/// are the provider patterns' job.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '\t' => out.push(' '),
            c if is_bidi(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c if is_unsafe(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Git paths are bytes: show them as UTF-8 where they are, with `\xNN` escapes where they are not.
pub fn path_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || ('\u{80}'..='\u{9f}').contains(&c) || is_bidi(c)
}

/// Text-direction controls (embeddings, overrides, isolates, marks): a file name or subject holding
/// U+202E shows its text reversed, so what the terminal shows is not what is there ("Trojan Source").
/// Escaped as `\u{202e}`.
fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #25: U+202E and the other direction controls were printed raw.
    #[test]
    fn bidi_controls_are_escaped() {
        for (c, shown) in [
            ('\u{202e}', "\\u{202e}"),
            ('\u{202a}', "\\u{202a}"),
            ('\u{2066}', "\\u{2066}"),
            ('\u{2069}', "\\u{2069}"),
            ('\u{200f}', "\\u{200f}"),
        ] {
            let text = format!("a{c}b.txt");
            assert_eq!(for_terminal(&text), format!("a{shown}b.txt"));
        }
        assert_eq!(for_terminal("naïve ü"), "naïve ü");
    }

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(for_terminal("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(for_terminal("line\nnext"), "line\\x0anext");
        assert_eq!(for_terminal("plain é"), "plain é");
    }

    #[test]
    fn redacts_what_looks_like_a_secret() {
        let token = format!("hf_{}", "AbcdEfghIjklMnopQrstUvwxYzabCdefGh");
        let shown = for_terminal(&format!("invalid value '{token}' for '--color'")).into_owned();
        assert!(!shown.contains(&token), "{shown}");
        assert!(shown.contains("hf_Ab…Gh"), "{shown}");
        let generic = "q8Xv2LmN7pRt4KwZ9sBy3Hd";
        let shown = scrub_secrets(&format!("no variable {generic} set")).into_owned();
        assert!(!shown.contains(generic), "{shown}");
        // Ordinary words, identifiers, object ids and fingerprints stay as they are.
        for plain in [
            "error: --token-env HUGGING_FACE_HUB_TOKEN is not set",
            "commit 3b18e512dba79e4c8300dd08aeb37f8e728b8dad on refs/heads/feature-branch-name",
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "filter-repo's first-changed-commits file in /tmp/.tmpAb3dE9/repo",
            "kept as .git/unleak/backups/.env.unleak-backup-20260101T000001Z",
            "a UUID 123e4567-e89b-12d3-a456-426614174000 and unleak-0.1.0-x86_64-unknown-linux-gnu",
            "café: naïve",
        ] {
            assert_eq!(scrub_secrets(plain), plain);
        }
    }

    #[test]
    fn escapes_invalid_utf8_in_paths() {
        assert_eq!(path_bytes(b"caf\xe9.txt"), "caf\\xe9.txt");
        assert_eq!(path_bytes("ok/é".as_bytes()), "ok/é");
    }

    /// The splice keeps the first of two spans that start together when it is the longest, drops what
    /// overlaps a span already taken and what would cut a character, and keeps the rest of the text.
    #[test]
    fn splices_the_longest_span_first_and_skips_overlaps() {
        let text = "ab cdef gé h";
        let spans = vec![
            (3, 5, 'x'),
            (3, 7, 'y'),
            (4, 6, 'z'),
            (9, 10, 'w'),
            (12, 13, 'v'),
        ];
        let out = splice_redactions(text, spans, |what, covered| format!("[{what}:{covered}]"));
        assert_eq!(out, "ab [y:cdef] gé [v:h]");
    }
}
