//! What a pre-commit hook needs from git: the tokens the staged changes would add, and where hooks live.
//! Only the blobs that differ from HEAD are read, so the check costs what the commit changes, not what
//! the history holds (that is `unleak audit`'s job).

use crate::git::blob::BlobReader;
use crate::git::pack::{slide_window, Piece, PIECE};
use crate::git::Oid;
use crate::git::Repo;
use crate::matching::exact::Matcher;
use crate::matching::patterns::PatternSet;
use crate::matching::{Detector, Hit, INLINE_ALLOW};
use crate::model::{Encoding, Location, SecretRef};
use crate::sanitize::path_bytes;
use crate::secret::Secret;
use crate::util::text::{has_nul_within, GIT_BINARY_PROBE};
use anyhow::{Context, Result};
use std::collections::HashSet;
use std::path::Path;

/// A token a staged file would add to history. Names the token by redaction and fingerprint only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StagedFinding {
    /// The staged path (tokens in the path itself are redacted).
    pub path: String,
    /// In the file's contents, or in its name.
    pub location: Location,
    /// 1-based line of the occurrence (text contents only).
    pub line: Option<u32>,
    pub encoding: Encoding,
    /// The provider rule the token matches, when any.
    pub rule: Option<String>,
    /// Where the exact value came from (`.env:HF_TOKEN`) when it is one of the given secrets.
    pub origin: Option<String>,
    pub secret: SecretRef,
}

/// Tokens that the index adds relative to HEAD: every given secret (by exact value, in each form the
/// matcher knows) and every provider pattern, in each staged blob that differs from HEAD's blob at the
/// same path, and in the staged paths themselves. A token HEAD's version of the same file already holds
/// is not reported again: the commit does not add it.
///
/// The index is the one git is committing: `index_file` (`$GIT_INDEX_FILE`, which git sets for
/// `git commit -a` and `git commit <paths>`), else the repository's.
pub fn staged_findings(
    repo: &Repo,
    secrets: &[Secret],
    patterns: &PatternSet,
    index_file: Option<&Path>,
) -> Result<Vec<StagedFinding>> {
    let matcher = Matcher::new(secrets);
    let changes = repo.staged_changes(index_file)?;
    let search = Search {
        matcher: &matcher,
        secrets,
        patterns,
        values: None,
        marked: None,
    };
    let mut reader = repo.blob_reader();
    let mut out = Vec::new();
    for change in changes {
        let raw_path = &change.path[..];
        let shown = search.redact_path(raw_path);
        let mut found: Vec<StagedFinding> = search
            .tokens_in(raw_path, false)
            .into_iter()
            .map(|t| t.at(&shown, Location::Path))
            .collect();
        let tokens = search
            .tokens_in_blob(repo, &mut reader, change.new, true)
            .with_context(|| format!("cannot read the staged blob of {shown}"))?;
        if !tokens.is_empty() {
            let before = existing_fingerprints(repo, &mut reader, &search, change.old);
            found.extend(
                tokens
                    .into_iter()
                    .filter(|t| !before.contains(&t.secret.fingerprint))
                    .map(|t| t.at(&shown, Location::Blob)),
            );
        }
        found.sort_by(|a, b| (a.line, &a.secret.fingerprint).cmp(&(b.line, &b.secret.fingerprint)));
        found.dedup_by(|a, b| a.location == b.location && a.line == b.line && a.secret == b.secret);
        out.extend(found);
    }
    Ok(out)
}

/// Fingerprints of the tokens HEAD's blob already holds (none for a new file, or an unreadable one).
fn existing_fingerprints(
    repo: &Repo,
    reader: &mut BlobReader<'_>,
    search: &Search<'_>,
    old: Oid,
) -> HashSet<String> {
    if old.is_zero() {
        return HashSet::new();
    }
    let Ok(tokens) = search.tokens_in_blob(repo, reader, old, false) else {
        return HashSet::new();
    };
    tokens.into_iter().map(|t| t.secret.fingerprint).collect()
}

struct Search<'a> {
    matcher: &'a Matcher,
    secrets: &'a [Secret],
    patterns: &'a PatternSet,
    /// Collects the values pattern matches found, when the caller needs them (audit --verify).
    values: Option<&'a std::cell::RefCell<Vec<Secret>>>,
    /// Counts tokens on lines marked `unleak:allow` that are reported anyway (a range audit does not
    /// honour the markers the change under review adds); None: such lines are skipped.
    marked: Option<&'a std::cell::Cell<usize>>,
}

/// A token found in some bytes, before it is placed at a path.
struct Token {
    line: Option<u32>,
    encoding: Encoding,
    rule: Option<String>,
    origin: Option<String>,
    secret: SecretRef,
}

impl Token {
    fn at(self, path: &str, location: Location) -> StagedFinding {
        StagedFinding {
            path: path.to_string(),
            location,
            line: self.line,
            encoding: self.encoding,
            rule: self.rule,
            origin: self.origin,
            secret: self.secret,
        }
    }
}

impl Search<'_> {
    /// Every token in `bytes`: exact secrets first (they carry an origin), then pattern matches that are
    /// not one of them. With `lines`, text gets line numbers.
    fn tokens_in(&self, bytes: &[u8], lines: bool) -> Vec<Token> {
        let mut scan = self.scan(lines);
        scan.piece(Piece {
            data: bytes,
            offset: 0,
            total: bytes.len() as u64,
            fresh: 0,
        });
        scan.finish()
    }

    /// [`Search::tokens_in`] for bytes read from `input` (a file, stdin) in pieces of [`PIECE`] bytes, so
    /// that a piece and its overlap are held, never the whole; also returns how many bytes were read.
    /// A piece goes to the search only once a byte past it was read: the last piece must know it is the
    /// last (see [`Scan::piece`]), and the length is not known ahead.
    fn tokens_in_reader(
        &self,
        input: &mut dyn std::io::Read,
        lines: bool,
    ) -> std::io::Result<(Vec<Token>, u64)> {
        let mut scan = self.scan(lines);
        let overlap = scan.overlap();
        let full = PIECE + overlap;
        let mut window: Vec<u8> = Vec::new();
        let mut offset = 0u64;
        let mut fresh = 0usize;
        loop {
            // Fill the window and one byte more, or up to the end of the input.
            let mut ended = false;
            while window.len() <= full {
                let start = window.len();
                window.resize(full + 1, 0);
                let read = loop {
                    match input.read(&mut window[start..]) {
                        Ok(read) => break read,
                        Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(err) => return Err(err),
                    }
                };
                window.truncate(start + read);
                if read == 0 {
                    ended = true;
                    break;
                }
            }
            if ended {
                let total = offset + window.len() as u64;
                scan.piece(Piece {
                    data: &window,
                    offset,
                    total,
                    fresh,
                });
                return Ok((scan.finish(), total));
            }
            let extra = window.split_off(full);
            scan.piece(Piece {
                data: &window,
                offset,
                total: u64::MAX,
                fresh,
            });
            slide_window(&mut window, overlap, &mut offset, &mut fresh);
            window.extend_from_slice(&extra);
        }
    }

    /// [`Search::tokens_in`] for blob `oid`, read in pieces ([`BlobReader`]) so that only a window of it
    /// is held; a blob our reader leaves to libgit2 is read whole, as before.
    fn tokens_in_blob(
        &self,
        repo: &Repo,
        reader: &mut BlobReader<'_>,
        oid: Oid,
        lines: bool,
    ) -> Result<Vec<Token>> {
        let mut scan = self.scan(lines);
        match reader.stream(oid, scan.overlap(), &mut |piece| scan.piece(piece)) {
            Ok(()) => Ok(scan.finish()),
            Err(err) if err.read_elsewhere() => Ok(self.tokens_in(&repo.read_blob(oid)?, lines)),
            Err(err) => Err(err.into()),
        }
    }

    /// A search of one text or blob handed over in pieces (see [`Scan`]).
    fn scan(&self, lines: bool) -> Scan<'_, '_> {
        let context = Detector::overlap(self.matcher).max(Detector::overlap(self.patterns));
        Scan {
            search: self,
            lines,
            context,
            text: false,
            newlines: 0,
            left_marked: false,
            open: false,
            open_start: 0,
            open_marked: false,
            exact: Vec::new(),
            patterns: Vec::new(),
        }
    }

    /// The path for display, with any token in it (exact or pattern) replaced by its redaction.
    fn redact_path(&self, raw: &[u8]) -> String {
        let mut spans: Vec<(usize, usize, String)> = Vec::new();
        let mut hits = Vec::new();
        self.matcher.find_all(raw, &mut hits);
        for hit in hits {
            let secret = &self.secrets[self.matcher.needle(hit.needle).secret];
            spans.push((hit.start, hit.end, secret.redacted()));
        }
        let mut found = Vec::new();
        self.patterns.find_all(raw, &mut found);
        for hit in found {
            let value = String::from_utf8_lossy(&self.patterns.token(raw, &hit)).into_owned();
            spans.push((hit.start, hit.end, crate::secret::redact(&value)));
        }
        spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
        let mut out = String::new();
        let mut at = 0;
        for (start, end, redacted) in spans {
            if start < at {
                continue;
            }
            out.push_str(&path_bytes(&raw[at..start]));
            out.push_str(&redacted);
            at = end;
        }
        out.push_str(&path_bytes(&raw[at..]));
        out
    }
}

/// Whether a found token's line carries `unleak:allow`, as far as the pieces read so far tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Absent,
    Present,
    /// The line is still open at the end of the last piece: decided when it ends.
    Open,
}

/// A token a [`Scan`] found, before the marker on its line is weighed.
struct Found {
    token: Token,
    marker: Marker,
    /// A pattern match's value (for [`Search::values`]); None for an exact secret.
    value: Option<Secret>,
    /// A pattern match that is one of the exact secrets: weighed for markers like every match (the
    /// count of marked matches includes it), never reported (its exact hit is).
    duplicate: bool,
}

/// One text or blob searched a piece at a time (a whole text is one piece), with the answer a search
/// of the whole gives: the same tokens in the same order, the same lines, the same markers.
///
/// The pieces overlap by twice `context` (the detectors' overlap: the longest match they report), and
/// each piece reports the matches that start in its middle: from half the overlap it repeats to half
/// the overlap the next one will. So every match is judged in one piece, whole, with `context` bytes
/// before it (what a provider pattern looks at before a value). Lines are counted across pieces; a
/// line that runs past a piece's edge carries what was seen of it (`left_marked`, `open_*`), so an
/// `unleak:allow` anywhere on a long line is weighed as in the whole text.
struct Scan<'s, 'a> {
    search: &'s Search<'a>,
    lines: bool,
    context: usize,
    /// Text (no NUL in git's probe of the first bytes): only text has lines and markers.
    text: bool,
    /// Newlines before the current piece.
    newlines: u64,
    /// Whether a marker starts on the line holding the current piece's first byte, before that byte.
    left_marked: bool,
    /// Whether found tokens sit on the line still open at the end of the last piece ...
    open: bool,
    /// ... where that line starts (or the piece it was first seen in does) ...
    open_start: u64,
    /// ... and whether a marker was seen on it so far.
    open_marked: bool,
    exact: Vec<Found>,
    patterns: Vec<Found>,
}

impl Scan<'_, '_> {
    /// How far the pieces handed to [`Scan::piece`] must overlap.
    fn overlap(&self) -> usize {
        2 * self.context
    }

    /// Searches one piece (they come in order; see [`Piece`]).
    fn piece(&mut self, piece: Piece<'_>) {
        let Piece {
            data,
            offset,
            total,
            fresh,
        } = piece;
        let len = data.len();
        // A piece that only repeats the end of the one before holds nothing new.
        if offset > 0 && offset + fresh as u64 >= total {
            return;
        }
        let last = offset + len as u64 >= total;
        if offset == 0 {
            self.text = self.lines && !has_nul_within(data, GIT_BINARY_PROBE);
        }
        let keep = self.overlap().min(len);
        // The matches this piece reports start in [from, to).
        let from = fresh / 2;
        let to = if last { len } else { len - keep + keep / 2 };
        if self.text && self.open {
            self.continue_open_line(data, offset, fresh, last);
        }
        let search = self.search;
        let mut hits = Vec::new();
        search.matcher.find_all(data, &mut hits);
        let mut lines = LineCounter::default();
        for hit in hits.iter().filter(|h| (from..to).contains(&h.start)) {
            let (line, marker) = self.place(data, offset, hit.start, last, &mut lines);
            let needle = search.matcher.needle(hit.needle);
            let secret = &search.secrets[needle.secret];
            self.exact.push(Found {
                token: Token {
                    line,
                    encoding: needle.encoding,
                    rule: secret
                        .identify_in(search.patterns.rule_set())
                        .map(|r| r.id.to_string()),
                    origin: Some(secret.origin().to_string()),
                    secret: SecretRef {
                        redacted: secret.redacted(),
                        fingerprint: secret.fingerprint(),
                    },
                },
                marker,
                value: None,
                duplicate: false,
            });
        }
        let mut found: Vec<Hit> = Vec::new();
        search.patterns.find_all(data, &mut found);
        let mut lines = LineCounter::default();
        for hit in found.iter().filter(|h| (from..to).contains(&h.start)) {
            let (line, marker) = self.place(data, offset, hit.start, last, &mut lines);
            let token = search.patterns.token(data, hit);
            let value = Secret::new(String::from_utf8_lossy(&token).into_owned(), "pattern")
                .with_rule(search.patterns.rule(hit.needle).owned_id());
            let duplicate = search.secrets.iter().any(|s| s == &value);
            self.patterns.push(Found {
                token: Token {
                    line,
                    encoding: search.patterns.form(hit.needle),
                    rule: Some(search.patterns.rule(hit.needle).id.to_string()),
                    origin: None,
                    secret: SecretRef {
                        redacted: value.redacted(),
                        fingerprint: value.fingerprint(),
                    },
                },
                marker,
                value: Some(value),
                duplicate,
            });
        }
        if !last && self.text {
            self.advance(data, offset, len - keep);
        }
    }

    /// The line of the match at `at` in the piece, and what is known of a marker on it.
    fn place(
        &mut self,
        data: &[u8],
        offset: u64,
        at: usize,
        last: bool,
        lines: &mut LineCounter,
    ) -> (Option<u32>, Marker) {
        if !self.text {
            return (None, Marker::Absent);
        }
        let line = Some((self.newlines + lines.before(data, at)) as u32 + 1);
        let (start, before) = match memchr::memrchr(b'\n', &data[..at]) {
            Some(i) => (i + 1, false),
            None => (0, offset > 0 && self.left_marked),
        };
        let weigh = |marked: bool| {
            if marked {
                Marker::Present
            } else {
                Marker::Absent
            }
        };
        match memchr::memchr(b'\n', &data[at..]) {
            Some(i) => (line, weigh(before || has_marker(&data[start..at + i]))),
            None if last => (line, weigh(before || has_marker(&data[start..]))),
            None => {
                if !self.open {
                    self.open = true;
                    self.open_start = offset + start as u64;
                    self.open_marked = false;
                }
                self.open_marked |= before || has_marker(&data[start..]);
                (line, Marker::Open)
            }
        }
    }

    /// The line the last piece left open goes on in this one: weighs what of it this piece holds, and
    /// settles its tokens when it ends here.
    fn continue_open_line(&mut self, data: &[u8], offset: u64, fresh: usize, last: bool) {
        let fresh = fresh.min(data.len());
        let from = (self.open_start.max(offset) - offset).min(fresh as u64) as usize;
        let end = memchr::memchr(b'\n', &data[fresh..]).map(|i| fresh + i);
        self.open_marked |= has_marker(&data[from..end.unwrap_or(data.len())]);
        if end.is_some() || last {
            self.settle();
        }
    }

    /// Decides the tokens on the open line: it has ended.
    fn settle(&mut self) {
        let marker = if self.open_marked {
            Marker::Present
        } else {
            Marker::Absent
        };
        for found in self.exact.iter_mut().chain(self.patterns.iter_mut()) {
            if found.marker == Marker::Open {
                found.marker = marker;
            }
        }
        self.open = false;
    }

    /// Carries what the next piece needs to know of the bytes before it (it starts at `next`).
    fn advance(&mut self, data: &[u8], offset: u64, next: usize) {
        self.newlines += memchr::memchr_iter(b'\n', &data[..next]).count() as u64;
        // Markers that start before `next` (this piece holds them whole).
        let reach = (next + INLINE_ALLOW.len() - 1).min(data.len());
        self.left_marked = match memchr::memrchr(b'\n', &data[..next]) {
            Some(i) => has_marker(&data[i + 1..reach]),
            None => (offset > 0 && self.left_marked) || has_marker(&data[..reach]),
        };
    }

    /// The tokens found, exact secrets first, without those on marked lines (or with them, counted,
    /// when the search only counts markers).
    fn finish(mut self) -> Vec<Token> {
        if self.open {
            self.settle();
        }
        let search = self.search;
        let mut out = Vec::new();
        for found in self.exact.into_iter().chain(self.patterns) {
            let marked = found.marker == Marker::Present;
            // `unleak:allow` on the line accepts what is on it (text only), unless markers are only
            // counted.
            let allowed = match search.marked {
                Some(count) => {
                    count.set(count.get() + usize::from(marked));
                    false
                }
                None => marked,
            };
            if allowed || found.duplicate {
                continue;
            }
            if let (Some(values), Some(value)) = (search.values, found.value) {
                let mut values = values.borrow_mut();
                if !values.iter().any(|v| v == &value) {
                    values.push(value);
                }
            }
            out.push(found.token);
        }
        out
    }
}

/// Newlines before an offset of one piece, counted on from the last offset asked (offsets asked in
/// order cost one pass over the piece).
#[derive(Default)]
struct LineCounter {
    at: usize,
    count: u64,
}

impl LineCounter {
    fn before(&mut self, data: &[u8], at: usize) -> u64 {
        if at < self.at {
            *self = LineCounter::default();
        }
        self.count += memchr::memchr_iter(b'\n', &data[self.at..at]).count() as u64;
        self.at = at;
        self.count
    }
}

/// Whether `bytes` (part of one line) hold the `unleak:allow` marker.
fn has_marker(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, INLINE_ALLOW).is_some()
}

/// A token a commit of a range adds (pull-request mode).
#[derive(Debug, Clone)]
pub struct RangeFinding {
    pub commit: Oid,
    /// The blob holding it, or the commit itself for a message or path.
    pub object: Oid,
    pub found: StagedFinding,
    pub author: Option<String>,
    /// Author date, RFC 3339.
    pub date: Option<String>,
    /// First line of the message, tokens redacted.
    pub summary: Option<String>,
}

/// The commits of `A..B` (or `REV..HEAD` for `since`), newest first. In a shallow clone every commit of
/// the range and the base must be present: the error says so instead of scanning less.
pub fn range_commits(repo: &Repo, since: Option<&str>, range: Option<&str>) -> Result<Vec<Oid>> {
    let (from, to) = range_ends(since, range)?;
    let (from, to) = (
        resolve_range_end(repo, &from)?,
        resolve_range_end(repo, &to)?,
    );
    Ok(repo.commits_in_range(from, to)?)
}

/// The base of a range audit (`--since REV`, or `A` of `--range A..B`), as a commit: what the change
/// under review is judged against, and where its allowlist is read from.
pub fn range_base(repo: &Repo, since: Option<&str>, range: Option<&str>) -> Result<Oid> {
    let (from, _) = range_ends(since, range)?;
    resolve_range_end(repo, &from)
}

/// `--since`/`--range` as the two revisions they name.
fn range_ends(since: Option<&str>, range: Option<&str>) -> Result<(String, String)> {
    Ok(match (since, range) {
        (Some(rev), _) => (rev.to_string(), "HEAD".to_string()),
        (None, Some(spec)) => {
            if spec.contains("...") {
                anyhow::bail!(
                    "--range {spec}: use A..B (two dots): the commits B has and A has not"
                );
            }
            let (a, b) = spec
                .split_once("..")
                .with_context(|| format!("--range {spec}: expected A..B"))?;
            (
                a.to_string(),
                if b.is_empty() {
                    "HEAD".into()
                } else {
                    b.to_string()
                },
            )
        }
        (None, None) => anyhow::bail!("no range given"),
    })
}

fn resolve_range_end(repo: &Repo, rev: &str) -> Result<Oid> {
    let commit = repo.rev_parse_commit(rev).map_err(|err| {
        let hint = if repo.shallow {
            " This is a shallow clone: fetch the base too (actions/checkout: fetch-depth: 0, or \
             `git fetch --deepen=N` with N at least the number of commits in the range plus one)."
        } else {
            ""
        };
        anyhow::anyhow!("cannot resolve {rev}: {}.{hint}", err.message())
    })?;
    commit.with_context(|| format!("{rev} is not a commit"))
}

/// What each commit adds relative to its parents: tokens in blobs that differ from every parent's blob
/// at that path (minus tokens the first parent's version already held), in added paths, and in the
/// commit message. The cost is what the range changes, not what the history holds.
/// With `inline_allow` false (a range audit), a token on a line marked `unleak:allow` is reported like
/// any other, and counted in `marked`: the marker is part of the change under review, which must not
/// silence its own findings. The hooks (the user's own commits) pass true.
pub fn range_findings(
    repo: &Repo,
    commits: &[Oid],
    secrets: &[Secret],
    patterns: &PatternSet,
    inline_allow: bool,
    marked: &std::cell::Cell<usize>,
) -> Result<(Vec<RangeFinding>, Vec<Secret>)> {
    let matcher = Matcher::new(secrets);
    let values = std::cell::RefCell::new(Vec::new());
    let search = Search {
        matcher: &matcher,
        secrets,
        patterns,
        values: Some(&values),
        marked: (!inline_allow).then_some(marked),
    };
    let mut reader = repo.blob_reader();
    let mut out = Vec::new();
    for &id in commits {
        let commit = repo
            .commit_meta(id)
            .with_context(|| format!("cannot read commit {id}"))?;
        let added = repo.commit_changes(id)?;
        let author = &commit.author;
        let meta = |found: StagedFinding, object: Oid| RangeFinding {
            commit: id,
            object,
            found,
            author: std::str::from_utf8(&author.name).ok().map(|n| {
                crate::sanitize::for_terminal(&search.redact_path(n.as_bytes())).into_owned()
            }),
            date: Some(crate::util::time::rfc3339(
                author.seconds,
                author.offset_minutes,
            )),
            summary: commit.summary.as_deref().map(|s| search.redact_path(s)),
        };
        for change in added {
            let (raw_path, new, old) = (change.path, change.new, change.old);
            let shown = search.redact_path(&raw_path);
            for token in search.tokens_in(&raw_path, false) {
                out.push(meta(token.at(&shown, Location::Path), id));
            }
            let tokens = search
                .tokens_in_blob(repo, &mut reader, new, true)
                .with_context(|| format!("cannot read blob {new} ({shown}) of {id}"))?;
            if tokens.is_empty() {
                continue;
            }
            let before = existing_fingerprints(repo, &mut reader, &search, old);
            let mut found: Vec<StagedFinding> = tokens
                .into_iter()
                .filter(|t| !before.contains(&t.secret.fingerprint))
                .map(|t| t.at(&shown, Location::Blob))
                .collect();
            found.sort_by(|a, b| {
                (a.line, &a.secret.fingerprint).cmp(&(b.line, &b.secret.fingerprint))
            });
            found.dedup_by(|a, b| a.line == b.line && a.secret == b.secret);
            out.extend(found.into_iter().map(|f| meta(f, new)));
        }
        for token in search.tokens_in(&commit.message, true) {
            out.push(meta(token.at("", Location::CommitMessage), id));
        }
    }
    Ok((out, values.into_inner()))
}

/// What [`file_findings`] found in files on disk or stdin.
pub struct FileFindings {
    pub findings: Vec<StagedFinding>,
    /// The values pattern matches found (for `--verify`).
    pub values: Vec<Secret>,
    /// The inputs that could not be read, each `name: why`.
    pub unreadable: Vec<String>,
    /// Bytes read, over every input.
    pub bytes: u64,
}

/// Tokens in files read from disk or stdin (`audit --no-git`): the same search as a commit's blobs (text
/// gets line numbers, `unleak:allow` lines are accepted), each file's name included. Each input is read
/// in pieces, one input at a time: memory holds a piece, whatever the files' sizes.
pub fn file_findings(
    files: &[super::files::Input],
    stdin: &mut dyn std::io::Read,
    secrets: &[Secret],
    patterns: &PatternSet,
) -> FileFindings {
    let matcher = Matcher::new(secrets);
    let values = std::cell::RefCell::new(Vec::new());
    let search = Search {
        matcher: &matcher,
        secrets,
        patterns,
        values: Some(&values),
        marked: None,
    };
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    let mut bytes = 0;
    for file in files {
        let name = file.shown.as_str();
        let read = file
            .open(stdin)
            .and_then(|mut input| search.tokens_in_reader(&mut input, true));
        let tokens = match read {
            Ok((tokens, read)) => {
                bytes += read;
                tokens
            }
            Err(err) => {
                unreadable.push(format!("{name}: {err}"));
                continue;
            }
        };
        let shown = search.redact_path(name.as_bytes());
        for token in search.tokens_in(name.as_bytes(), false) {
            out.push(token.at(&shown, Location::Path));
        }
        let mut found: Vec<StagedFinding> = tokens
            .into_iter()
            .map(|t| t.at(&shown, Location::Blob))
            .collect();
        found.sort_by(|a, b| (a.line, &a.secret.fingerprint).cmp(&(b.line, &b.secret.fingerprint)));
        found.dedup_by(|a, b| a.line == b.line && a.secret == b.secret);
        out.extend(found);
    }
    FileFindings {
        findings: out,
        values: values.into_inner(),
        unreadable,
        bytes,
    }
}

/// Tokens in a commit message being written (a commit-msg hook), anywhere in the file git hands the
/// hook, comment lines included.
pub fn message_findings(
    message: &[u8],
    secrets: &[Secret],
    patterns: &PatternSet,
) -> Vec<StagedFinding> {
    let matcher = Matcher::new(secrets);
    let search = Search {
        matcher: &matcher,
        secrets,
        patterns,
        values: None,
        marked: None,
    };
    // The whole file: what git stores depends on the cleanup mode (`-m` and `-F` keep `#` lines, so
    // does `--cleanup=verbatim`; `core.commentChar` changes which lines are comments; only `-v` or
    // `--cleanup=scissors` cut at the scissors line), and the hook sees none of that. A token in a
    // comment or below the scissors is blocked too: a `--no-verify` away if it really is not stored.
    search
        .tokens_in(message, true)
        .into_iter()
        .map(|t| t.at("commit message", Location::CommitMessage))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::examples::expand_with_seed;

    /// Hands `bytes` to `scan` as the blob reader would, with pieces of `piece` bytes (8 MiB in the
    /// reader) and the scan's overlap: handed over when full and more follows, slid, once more at the
    /// end.
    fn in_pieces(scan: &mut Scan<'_, '_>, bytes: &[u8], piece: usize) {
        let overlap = scan.overlap();
        let cap = (piece + overlap).min(bytes.len());
        let (mut window, mut offset, mut fresh, mut at) = (Vec::new(), 0u64, 0usize, 0usize);
        loop {
            let take = (cap - window.len()).min(bytes.len() - at);
            window.extend_from_slice(&bytes[at..at + take]);
            at += take;
            let hand = |window: &[u8], offset, fresh, scan: &mut Scan<'_, '_>| {
                scan.piece(Piece {
                    data: window,
                    offset,
                    total: bytes.len() as u64,
                    fresh,
                })
            };
            hand(&window, offset, fresh, scan);
            if at == bytes.len() {
                break;
            }
            crate::git::pack::slide_window(&mut window, overlap, &mut offset, &mut fresh);
        }
    }

    /// A text of short and long lines, tokens (a known secret, pattern matches, in base64 too) and
    /// `unleak:allow` markers placed anywhere, from `seed`.
    fn text(seed: u64, known: &str) -> Vec<u8> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let mut out = Vec::new();
        while out.len() < 60_000 {
            match next(9) {
                0 => out.extend_from_slice(format!("HF_TOKEN={known}").as_bytes()),
                1 => out.extend_from_slice(
                    expand_with_seed("token = \"hf_{alpha:34}\"", next(1 << 30)).as_bytes(),
                ),
                2 => out.extend_from_slice(b" # unleak:allow "),
                3 => out.push(b'\n'),
                4 => out.extend(std::iter::repeat_n(b'x', next(9000) as usize)),
                5 => out.extend_from_slice(b"\n\n\n"),
                6 => out.extend_from_slice(b"unleak:al"),
                _ => out.extend_from_slice(b"some words; "),
            }
        }
        out
    }

    #[test]
    fn a_text_searched_in_pieces_gives_what_the_whole_gives() {
        let known = Secret::new(expand_with_seed("hf_{alpha:34}", 7), ".env:HF_TOKEN");
        let secrets = [known];
        let matcher = Matcher::new(&secrets);
        let patterns = PatternSet::all();
        for seed in 0..8 {
            let bytes = text(seed, secrets[0].expose());
            for counted in [false, true] {
                let run = |piece: Option<usize>| {
                    let (values, marked) =
                        (std::cell::RefCell::new(Vec::new()), std::cell::Cell::new(0));
                    let search = Search {
                        matcher: &matcher,
                        secrets: &secrets,
                        patterns: &patterns,
                        values: Some(&values),
                        marked: counted.then_some(&marked),
                    };
                    let tokens = match piece {
                        None => search.tokens_in(&bytes, true),
                        Some(piece) => {
                            let mut scan = search.scan(true);
                            in_pieces(&mut scan, &bytes, piece);
                            scan.finish()
                        }
                    };
                    let found: Vec<StagedFinding> = tokens
                        .into_iter()
                        .map(|t| t.at("f", Location::Blob))
                        .collect();
                    let values: Vec<String> = values
                        .into_inner()
                        .iter()
                        .map(|v| v.fingerprint())
                        .collect();
                    (found, values, marked.get())
                };
                let whole = run(None);
                assert!(!whole.0.is_empty(), "seed {seed}: the text holds tokens");
                for piece in [300, 5000, 20_000] {
                    assert_eq!(run(Some(piece)), whole, "seed {seed}, pieces of {piece}");
                }
            }
        }
    }

    #[test]
    fn binary_bytes_have_no_lines_in_pieces_either() {
        let secrets = [Secret::new(expand_with_seed("hf_{alpha:34}", 3), "x")];
        let matcher = Matcher::new(&secrets);
        let patterns = PatternSet::all();
        let mut bytes = vec![0u8; 30_000];
        bytes.extend_from_slice(secrets[0].expose().as_bytes());
        bytes.extend_from_slice(b"\n# unleak:allow\n");
        let search = Search {
            matcher: &matcher,
            secrets: &secrets,
            patterns: &patterns,
            values: None,
            marked: None,
        };
        let mut scan = search.scan(true);
        in_pieces(&mut scan, &bytes, 1000);
        let found = scan.finish();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, None);
    }
}
