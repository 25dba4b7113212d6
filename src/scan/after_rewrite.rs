//! Checks that only matter after a history rewrite: the first changed commits are gone, no ref still
//! holds them, and no file git keeps beside the object database (filter-repo's own directory, reflogs,
//! `ORIG_HEAD`, `FETCH_HEAD`, packed refs…) still carries the token.

use crate::git::Oid;
use crate::git::Repo;
use crate::model::{FirstChanged, Verification};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Files under the git directory larger than this are not read (packs live under `objects/`).
const MAX_GIT_FILE: u64 = 64 * 1024 * 1024;

pub fn check(
    repo: &Repo,
    holds: &dyn Fn(&[u8]) -> bool,
    first_changed: &[Oid],
    findings_clean: bool,
) -> Result<Verification> {
    let mut verification = Verification::default();
    for name in repo.reference_names()? {
        if name.starts_with("refs/original/") || name.starts_with("refs/replace/") {
            verification.leftover_refs.push(name);
        }
    }
    let tips = repo.tips()?;
    for oid in first_changed {
        let exists = repo.may_read(*oid) && repo.has_commit(*oid);
        let mut refs = Vec::new();
        if exists {
            for tip in &tips {
                let Some(tip_commit) = repo.peel_to_commit(tip.target) else {
                    continue;
                };
                // libgit2's walk would read every commit below the tip, damaged ones too: with damage
                // the answer is "incomplete" anyway, so only a tip that is the commit itself counts.
                if tip_commit == *oid
                    || (!repo.has_unreadable() && repo.is_descendant(tip_commit, *oid))
                {
                    refs.push(tip.name.clone());
                }
            }
        }
        refs.sort();
        refs.dedup();
        verification.first_changed.push(FirstChanged {
            commit: oid.to_string(),
            exists,
            refs,
        });
    }
    let mut dirs = vec![repo.git_dir.clone()];
    let common = repo.common_dir();
    if !dirs.contains(&common) {
        dirs.push(common);
    }
    for dir in &dirs {
        scan_git_dir(dir, dir, holds, &mut verification.git_dir_files);
    }
    verification.git_dir_files.sort();
    verification.git_dir_files.dedup();
    if let Some(workdir) = &repo.workdir {
        scan_leftovers(workdir, workdir, holds, &mut verification.leftover_files);
        verification.leftover_files.sort();
    }
    verification.clean = findings_clean
        && verification.git_dir_files.is_empty()
        && verification.leftover_files.is_empty()
        && verification.first_changed.iter().all(|c| c.refs.is_empty());
    Ok(verification)
}

fn scan_git_dir(root: &Path, dir: &Path, holds: &dyn Fn(&[u8]) -> bool, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            // Objects were scanned object by object; linked worktrees' dirs are their own repositories.
            if dir == root && (entry.file_name() == "objects" || entry.file_name() == "worktrees") {
                continue;
            }
            scan_git_dir(root, &path, holds, out);
        } else if meta.is_file() && meta.len() <= MAX_GIT_FILE {
            if let Ok(bytes) = std::fs::read(&path) {
                if holds(&bytes) {
                    out.push(relative(root, &path));
                }
            }
        }
    }
}

/// Names unleak gives its own copies of a `.env`: `NAME.unleak-backup-TIME` and `.NAME.unleak-XXXX.tmp`.
fn is_unleak_leftover(name: &str) -> bool {
    name.contains(".unleak-backup-")
        || (name.starts_with('.') && name.contains(".unleak-") && name.ends_with(".tmp"))
}

/// Walks the work tree (not `.git`, not through symlinks) for unleak's own leftovers holding the token.
fn scan_leftovers(root: &Path, dir: &Path, holds: &dyn Fn(&[u8]) -> bool, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        if kind.is_dir() {
            if name != ".git" {
                scan_leftovers(root, &entry.path(), holds, out);
            }
        } else if kind.is_file() && is_unleak_leftover(&name.to_string_lossy()) {
            let small = entry.metadata().is_ok_and(|m| m.len() <= MAX_GIT_FILE);
            if let Some(bytes) = small.then(|| std::fs::read(entry.path()).ok()).flatten() {
                if holds(&bytes) {
                    let path = entry.path();
                    out.push(
                        path.strip_prefix(root)
                            .unwrap_or(&path)
                            .display()
                            .to_string(),
                    );
                }
            }
        }
    }
}

fn relative(root: &Path, path: &Path) -> String {
    let name = root.file_name().map(PathBuf::from).unwrap_or_default();
    name.join(path.strip_prefix(root).unwrap_or(path))
        .display()
        .to_string()
}

/// Reads filter-repo's `first-changed-commits` file: one `OLD NEW` pair a line; the old ids are the
/// commits that must be gone (a plain list of ids, as in an incident record, works too).
pub fn read_first_changed(path: &Path) -> Result<Vec<Oid>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(|word| {
            Oid::from_str(word)
                .with_context(|| format!("{}: {word} is not a commit id", path.display()))
        })
        .collect()
}

/// Finds the values, in every object, whose fingerprint is one of `fingerprints`: provider-pattern
/// matches in the plain bytes, in UTF-16LE text (read back as bytes) and in base64 runs (decoded at each
/// of the four character offsets). These are the forms the plaintext matcher searches, so a fingerprint
/// finds what the plaintext would. The values found become ordinary secrets for a full scan.
pub fn candidates_by_fingerprint(
    repo: &Repo,
    patterns: &crate::matching::patterns::PatternSet,
    fingerprints: &[String],
    threads: usize,
) -> Result<Vec<crate::secret::Secret>> {
    let order = crate::git::odb::enumerate(&repo.objects_dirs)?;
    let states = crate::git::odb::for_each_object(
        &repo.git_dir,
        &order,
        threads,
        &|_| {},
        &Vec::<zeroize::Zeroizing<String>>::new,
        &|found: &mut Vec<zeroize::Zeroizing<String>>, _oid, object| {
            let Ok((_, data)) = object else { return };
            for_each_form(data, &mut |form| {
                let mut hits = Vec::new();
                patterns.find_all(form, &mut hits);
                for hit in hits {
                    // Decoded: a prefix found in base64 or UTF-16 stands for the token it decodes to.
                    let value = patterns.token(form, &hit);
                    if fingerprints.contains(&crate::secret::fingerprint(&value)) {
                        if let Ok(text) = std::str::from_utf8(&value) {
                            if !found.iter().any(|f| f.as_str() == text) {
                                found.push(zeroize::Zeroizing::new(text.to_string()));
                            }
                        }
                    }
                }
            });
        },
    )?;
    let mut out: Vec<crate::secret::Secret> = Vec::new();
    for value in states.into_iter().flatten() {
        let secret = crate::secret::Secret::new(value.as_str(), "--fingerprint");
        if !out.contains(&secret) {
            out.push(secret);
        }
    }
    out.sort_by_cached_key(|s| s.fingerprint());
    Ok(out)
}

/// Decodes any slice of a base64 run: no padding needed, and a cut last group's spare bits ignored.
const LENIENT_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Shortest base64 run worth decoding: a token of 8 characters or more takes at least 11.
const MIN_BASE64_RUN: usize = 11;

/// Hands `visit` the bytes themselves, then each UTF-16LE text run narrowed to one byte per character,
/// then each base64 run decoded at the four character offsets.
fn for_each_form(data: &[u8], visit: &mut dyn FnMut(&[u8])) {
    use base64::Engine;
    visit(data);
    // UTF-16LE: ASCII characters followed by a zero byte, at either byte alignment.
    for align in 0..2 {
        let mut narrow: Vec<u8> = Vec::new();
        let mut i = align;
        while i + 1 < data.len() {
            if data[i + 1] == 0 && data[i].is_ascii_graphic() {
                narrow.push(data[i]);
            } else if !narrow.is_empty() {
                if narrow.len() >= crate::secret::Secret::MIN_LEN {
                    visit(&narrow);
                }
                narrow.clear();
            }
            i += 2;
        }
        if narrow.len() >= crate::secret::Secret::MIN_LEN {
            visit(&narrow);
        }
    }
    // Base64: every run of the standard alphabet, decoded from each offset (a token inside a longer
    // encoded string starts at any of the three byte positions of a group).
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let mut start = 0;
    while start < data.len() {
        if !is_b64(data[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < data.len() && is_b64(data[end]) {
            end += 1;
        }
        if end - start >= MIN_BASE64_RUN {
            for offset in 0..4 {
                let run = &data[start + offset..end];
                // A lone last character holds no whole byte.
                let usable = run.len() - usize::from(run.len() % 4 == 1);
                let mut decoded = Vec::new();
                if LENIENT_BASE64
                    .decode_vec(&run[..usable], &mut decoded)
                    .is_ok()
                {
                    visit(&decoded);
                }
            }
        }
        start = end;
    }
}
