//! Which rewrite patterns match nothing but their token: the one part of the rewrite that reads the
//! repository (the plan itself stays pure). `respond`'s scan searches, in its one pass, for each token's
//! visible start (a probe); only the few objects where one occurs are read again to decide each pattern.

use crate::git::{odb, pack, Repo};
use crate::scan::{self, ProbeSites, ScanOptions};
use crate::secret::Secret;
use anyhow::{Context, Result};

/// Whether each candidate rewrite pattern matches only its token, as decided during the scan's pass.
#[derive(Debug, Default, Clone)]
pub struct RewriteUniqueness {
    decided: Vec<(String, bool)>,
}

impl RewriteUniqueness {
    /// Some(unique) for a pattern the pass decided; None for one it could not (check it with
    /// [`pattern_matches_only`]).
    pub fn get(&self, pattern: &str) -> Option<bool> {
        self.decided
            .iter()
            .find(|(p, _)| p == pattern)
            .map(|(_, unique)| *unique)
    }
}

/// Scans `repo` for `secrets` (the engine's [`scan::run`]) and decides, from the same pass, whether
/// each pattern the plan may try (`super::regex_candidates`) matches nothing in the object database but
/// its token. Before, that check read every object again once per pattern tried.
pub fn scan(
    repo: &Repo,
    secrets: &[Secret],
    options: &ScanOptions,
) -> Result<(crate::model::Report, RewriteUniqueness)> {
    let candidates: Vec<Vec<String>> = secrets.iter().map(super::regex_candidates).collect();
    // Each token's visible start rides along in the pass's one search.
    let probes: Vec<Option<Vec<u8>>> = if candidates.is_empty() {
        Vec::new()
    } else {
        secrets.iter().map(probe).collect()
    };
    let output = scan::run(&scan::Request::new(repo, secrets, options).with_probes(&probes))?;
    let uniqueness = if probes.is_empty() {
        RewriteUniqueness::default()
    } else {
        decide(repo, secrets, &probes, &candidates, &output.probe_sites)
    };
    Ok((output.report, uniqueness))
}

/// The literal every rewrite pattern of `secret` starts with: the part its redaction shows at the
/// front. Every match of a pattern starts with it, so the pass finding no other occurrence of it (or
/// only occurrences the patterns reject) proves the pattern unique.
fn probe(secret: &Secret) -> Option<Vec<u8>> {
    let value = secret.expose();
    if !value.is_ascii() {
        return None;
    }
    let redacted = secret.redacted();
    let (head, _) = redacted.split_once('…')?;
    (!head.is_empty() && head.len() < value.len()).then(|| value.as_bytes()[..head.len()].to_vec())
}

/// More objects holding a probe than this are not read one by one: the undecided patterns fall back
/// to a pass of their own.
const MAX_PROBE_OBJECTS: usize = 4096;

/// Decides each candidate pattern from where the pass found the probes: a pattern is unique unless it
/// matches, at some probe (or token) occurrence in a blob, commit or tag, bytes that are not its
/// token. Only the objects with such an occurrence are read again, through libgit2.
fn decide(
    repo: &Repo,
    secrets: &[Secret],
    probes: &[Option<Vec<u8>>],
    candidates: &[Vec<String>],
    sites: &ProbeSites,
) -> RewriteUniqueness {
    struct Candidate {
        secret: usize,
        pattern: String,
        anchored: regex::bytes::Regex,
        unique: bool,
    }
    let mut cands: Vec<Candidate> = Vec::new();
    for (secret, patterns) in candidates.iter().enumerate().take(secrets.len()) {
        let searched = sites.searched.get(secret).copied().unwrap_or(false);
        if !probes.get(secret).is_some_and(Option::is_some) || !searched {
            continue;
        }
        for pattern in patterns {
            if let Ok(anchored) = regex::bytes::Regex::new(&format!("^(?:{pattern})")) {
                cands.push(Candidate {
                    secret,
                    pattern: pattern.clone(),
                    anchored,
                    unique: true,
                });
            }
        }
    }
    // Where a token of one secret starts, a longer needle hides a probe of another that starts the
    // same way: those places are checked too.
    let shares_probe = |token: usize, other: usize| {
        token != other
            && probes[other]
                .as_deref()
                .is_some_and(|p| secrets[token].expose().as_bytes().starts_with(p))
    };
    let to_read: Vec<(crate::git::Oid, Vec<usize>)> = sites
        .objects
        .iter()
        .map(|(oid, at)| {
            let starts = at
                .iter()
                .filter(|site| match site.token {
                    None => true,
                    Some(token) => cands.iter().any(|c| shares_probe(token, c.secret)),
                })
                .map(|site| site.start)
                .collect::<Vec<usize>>();
            (*oid, starts)
        })
        .filter(|(_, starts)| !starts.is_empty())
        .collect();
    if to_read.len() > MAX_PROBE_OBJECTS {
        return RewriteUniqueness::default();
    }
    for (oid, starts) in &to_read {
        // The full pass skips an object it cannot read as well.
        let Some((_, data)) = repo.read_object(*oid) else {
            continue;
        };
        for &start in starts {
            let Some(rest) = data.get(start..) else {
                continue;
            };
            for cand in cands.iter_mut().filter(|c| c.unique) {
                if let Some(m) = cand.anchored.find(rest) {
                    if m.as_bytes() != secrets[cand.secret].expose().as_bytes() {
                        cand.unique = false;
                    }
                }
            }
        }
    }
    RewriteUniqueness {
        decided: cands.into_iter().map(|c| (c.pattern, c.unique)).collect(),
    }
}

/// Whether every match of `pattern` in the object database's blobs, commits and tags is `secret` itself.
/// The rewrite plan uses a regex that hides the middle of the token; filter-repo would replace anything
/// else it matches too, so the plan only uses a pattern this pass has shown to be unique.
pub fn pattern_matches_only(
    repo: &Repo,
    pattern: &str,
    secret: &Secret,
    threads: usize,
) -> Result<bool> {
    let regex = regex::bytes::Regex::new(pattern)
        .with_context(|| format!("the rewrite pattern {pattern} does not compile"))?;
    let order = odb::enumerate(&repo.objects_dirs)?;
    let token = secret.expose().as_bytes();
    // filter-repo replaces text in blobs (--replace-text) and messages (--replace-message): trees are
    // never inflated for this check.
    let kinds = pack::KindSet::of(&[
        pack::ObjectKind::Blob,
        pack::ObjectKind::Commit,
        pack::ObjectKind::Tag,
    ]);
    // Large blobs in overlapping pieces (bounded memory); a match is token-sized, far below the overlap.
    let pieces = pack::Pieces {
        visit: &|unique: &mut bool, _oid, piece: pack::Piece<'_>| {
            if *unique {
                *unique = regex.find_iter(piece.data).all(|m| m.as_bytes() == token);
            }
        },
        overlap: token.len().max(4096),
    };
    let scope = odb::PassScope {
        git_dir: &repo.git_dir,
        objects: &order,
        kinds,
        threads,
        progress: &|_| {},
    };
    let passed = odb::read_objects_in_pieces(
        &scope,
        &odb::Visitor {
            init: &|| true,
            visit: &|unique: &mut bool, _oid, object, _lineage| {
                let Ok((kind, data)) = object else { return };
                if *unique && kind != pack::ObjectKind::Tree {
                    *unique = regex.find_iter(data).all(|m| m.as_bytes() == token);
                }
            },
            pieces: Some(&pieces),
        },
    )?;
    Ok(passed.states.into_iter().all(|unique| unique))
}
