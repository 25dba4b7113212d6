//! What a pre-commit hook needs from git: the tokens the staged changes would add, and where hooks live.
//! Only the blobs that differ from HEAD are read, so the check costs what the commit changes, not what
//! the history holds (that is `unleak audit`'s job).

use crate::git::Oid;
use crate::git::Repo;
use crate::matching::exact::Matcher;
use crate::matching::patterns::PatternSet;
use crate::matching::Hit;
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
    let mut out = Vec::new();
    for change in changes {
        let raw_path = &change.path[..];
        let shown = search.redact_path(raw_path);
        let mut found: Vec<StagedFinding> = search
            .tokens_in(raw_path, false)
            .into_iter()
            .map(|t| t.at(&shown, Location::Path))
            .collect();
        let blob = repo
            .read_blob(change.new)
            .with_context(|| format!("cannot read the staged blob of {shown}"))?;
        let tokens = search.tokens_in(&blob, true);
        if !tokens.is_empty() {
            let before = existing_fingerprints(repo, &search, change.old);
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

/// Fingerprints of the tokens HEAD's blob already holds (none for a new file).
fn existing_fingerprints(repo: &Repo, search: &Search<'_>, old: Oid) -> HashSet<String> {
    if old.is_zero() {
        return HashSet::new();
    }
    let Ok(blob) = repo.read_blob(old) else {
        return HashSet::new();
    };
    search
        .tokens_in(&blob, false)
        .into_iter()
        .map(|t| t.secret.fingerprint)
        .collect()
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
        let text = lines && !has_nul_within(bytes, GIT_BINARY_PROBE);
        let line = |offset: usize| text.then(|| super::line_of(bytes, offset));
        // `unleak:allow` on the line accepts what is on it (text only), unless markers are only counted.
        let allowed = |offset: usize| {
            let marked = text && crate::matching::line_allows(bytes, offset);
            match self.marked {
                Some(count) => {
                    count.set(count.get() + usize::from(marked));
                    false
                }
                None => marked,
            }
        };
        let mut out = Vec::new();
        let mut hits = Vec::new();
        self.matcher.find_all(bytes, &mut hits);
        hits.retain(|hit| !allowed(hit.start));
        for hit in &hits {
            let needle = self.matcher.needle(hit.needle);
            let secret = &self.secrets[needle.secret];
            out.push(Token {
                line: line(hit.start),
                encoding: needle.encoding,
                rule: secret.identify().map(|(_, r)| r.id.to_string()),
                origin: Some(secret.origin().to_string()),
                secret: SecretRef {
                    redacted: secret.redacted(),
                    fingerprint: secret.fingerprint(),
                },
            });
        }
        let mut found: Vec<Hit> = Vec::new();
        self.patterns.find_all(bytes, &mut found);
        found.retain(|hit| !allowed(hit.start));
        for hit in found {
            let token = self.patterns.token(bytes, &hit);
            let value = Secret::new(String::from_utf8_lossy(&token).into_owned(), "pattern")
                .with_rule(self.patterns.rule(hit.needle).id);
            let fingerprint = value.fingerprint();
            let exact = self.secrets.iter().any(|s| s == &value);
            if exact {
                continue;
            }
            if let Some(values) = self.values {
                let mut values = values.borrow_mut();
                if !values.iter().any(|v| v == &value) {
                    values.push(value.clone());
                }
            }
            out.push(Token {
                line: line(hit.start),
                encoding: self.patterns.form(hit.needle),
                rule: Some(self.patterns.rule(hit.needle).id.to_string()),
                origin: None,
                secret: SecretRef {
                    redacted: value.redacted(),
                    fingerprint,
                },
            });
        }
        out
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
            let blob = repo
                .read_blob(new)
                .with_context(|| format!("cannot read blob {new} ({shown}) of {id}"))?;
            let tokens = search.tokens_in(&blob, true);
            if tokens.is_empty() {
                continue;
            }
            let before = existing_fingerprints(repo, &search, old);
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

/// Tokens in files read from disk or stdin (`audit --no-git`): the same search as a commit's blobs (text
/// gets line numbers, `unleak:allow` lines are accepted), each file's name included. Also returns the
/// values pattern matches found (for `--verify`).
pub fn file_findings<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    secrets: &[Secret],
    patterns: &PatternSet,
) -> (Vec<StagedFinding>, Vec<Secret>) {
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
    for (name, bytes) in files {
        let shown = search.redact_path(name.as_bytes());
        for token in search.tokens_in(name.as_bytes(), false) {
            out.push(token.at(&shown, Location::Path));
        }
        let mut found: Vec<StagedFinding> = search
            .tokens_in(bytes, true)
            .into_iter()
            .map(|t| t.at(&shown, Location::Blob))
            .collect();
        found.sort_by(|a, b| (a.line, &a.secret.fingerprint).cmp(&(b.line, &b.secret.fingerprint)));
        found.dedup_by(|a, b| a.line == b.line && a.secret == b.secret);
        out.extend(found);
    }
    (out, values.into_inner())
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
