//! The scan engine: one pass over the object database, then provenance for the few objects that matched.
//! `scan` returns the report model; commands render it or plan from it.

pub mod idhash;
pub mod objects;
pub mod provenance;
pub mod staged;
pub mod verify;

use crate::dotenv;
use crate::git::Oid;
use crate::git::{self, pack, Repo};
use crate::matching::exact::Matcher;
use crate::matching::patterns::PatternSet;
use crate::matching::Detector;
use crate::model::{
    Encoding, Finding, Location, Report, RepositoryInfo, SecretRef, SecretSummary, Severity, Stats,
    Tool, Warning,
};
use crate::sanitize::path_bytes;
use crate::secret::Secret;
use crate::util::text::{has_nul_within, GIT_BINARY_PROBE};
use crate::util::time::rfc3339;
use anyhow::{Context, Result};
use objects::{ObjectHits, PassResult};
use provenance::{Containment, TreeWalker};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// Dotenv files, for `env_history`: the tree probe looks for `.env` (every such name contains it), then
/// asks [`dotenv::is_env_file_name`].
const DOTENV_FILES: provenance::FileNames = provenance::FileNames {
    contains: b".env",
    wanted: dotenv::is_env_file_name,
};

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub threads: usize,
    pub reachable_only: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// The command name recorded in the report.
    pub command: &'static str,
    /// Also list the commits that added or changed a dotenv file (audit).
    pub env_history: bool,
}

/// What `scan_with` found: the report, every secret searched for (given and discovered), and for
/// audit the dotenv files in history as (path, commit).
pub struct ScanOutput {
    pub report: Report,
    pub secrets: Vec<Secret>,
    pub env_files: Vec<(String, String)>,
}

/// Up to this many trees hold a match (or lead to one), they are read one by one through libgit2 when
/// walked; more, and one tree-only pass reads them all.
const FEW_TREES: usize = 2048;

/// Working tree files are searched in chunks of this size, so a large untracked data file costs time
/// but not memory.
const FILE_CHUNK: usize = 4 << 20;

/// The secrets (indices) a file holds, searched in chunks that overlap by the longest needle so no
/// match is split between two chunks.
fn secrets_in_file(matcher: &Matcher, path: &std::path::Path) -> std::io::Result<Vec<usize>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let overlap = matcher.longest_needle().saturating_sub(1);
    let mut buffer = vec![0u8; FILE_CHUNK + overlap];
    let mut hits = Vec::new();
    let mut kept = 0;
    loop {
        let read = file.read(&mut buffer[kept..])?;
        if read == 0 {
            break;
        }
        let filled = kept + read;
        matcher.find_all(&buffer[..filled], &mut hits);
        let keep = overlap.min(filled);
        buffer.copy_within(filled - keep..filled, 0);
        kept = keep;
    }
    let mut secrets: Vec<usize> = hits
        .iter()
        .map(|h| matcher.needle(h.needle).secret)
        .collect();
    secrets.sort_unstable();
    secrets.dedup();
    Ok(secrets)
}

/// Scans `repo` for `secrets` and builds the report.
pub fn scan(repo: &Repo, secrets: &[Secret], options: &ScanOptions) -> Result<Report> {
    scan_with(repo, secrets, None, options).map(|out| out.report)
}

/// Scans for `secrets` and, when `patterns` is given (audit), for every provider pattern too, in the
/// same pass. Values the patterns find join the searched secrets (sorted by rule and fingerprint, after
/// the given ones), so they get the same provenance. Returns the report and that full secret list.
pub fn scan_with(
    repo: &Repo,
    secrets: &[Secret],
    patterns: Option<&PatternSet>,
    options: &ScanOptions,
) -> Result<ScanOutput> {
    scan_inner(repo, secrets, patterns, options, &[]).map(|(out, _)| out)
}

/// [`scan`] for `respond`: also decides, in the same pass, whether each of the rewrite plan's candidate
/// patterns (`candidates[i]` for `secrets[i]`, from [`crate::filter_repo::regex_pattern`]) matches
/// nothing in the object database but its token. Before, that check read every object again once per
/// pattern tried.
pub fn scan_for_rewrite(
    repo: &Repo,
    secrets: &[Secret],
    options: &ScanOptions,
    candidates: &[Vec<String>],
) -> Result<(Report, RewriteUniqueness)> {
    scan_inner(repo, secrets, None, options, candidates).map(|(out, unique)| (out.report, unique))
}

fn scan_inner(
    repo: &Repo,
    secrets: &[Secret],
    patterns: Option<&PatternSet>,
    options: &ScanOptions,
    candidates: &[Vec<String>],
) -> Result<(ScanOutput, RewriteUniqueness)> {
    let started = Instant::now();
    // The rewrite check's probes (each token's visible start) ride along in the pass's one search.
    let probes: Vec<Option<Vec<u8>>> = if candidates.is_empty() {
        Vec::new()
    } else {
        secrets.iter().map(rewrite_probe).collect()
    };
    let probe_bytes: Vec<&[u8]> = probes.iter().map(|p| p.as_deref().unwrap_or(&[])).collect();
    let mut matcher = Matcher::with_probes(secrets, &probe_bytes);
    let order = git::odb::enumerate(&repo.objects_dirs)?;
    let enumerated = started.elapsed();
    let bar = progress_bar(options.progress, order.len() as u64);
    // Blobs, commits and tags first, trees second: by the time the trees are read, the blobs that
    // matched are known, so the tree read itself records what provenance needs (subtree edges, trees
    // holding a match) and no tree is read again. A delta and its base are always of one kind, so
    // splitting by kind inflates nothing twice.
    let not_trees = pack::KindSet::of(&[
        pack::ObjectKind::Blob,
        pack::ObjectKind::Commit,
        pack::ObjectKind::Tag,
    ]);
    let (mut pass, _) = objects::bulk_pass_with(
        &repo.git_dir,
        &order,
        not_trees,
        &matcher,
        patterns.map(|p| p as &dyn Detector),
        options.threads,
        &|done| bar.set_position(done),
        &|| (),
        &|_, _, _| {},
    )?;
    let mut target_blobs: Vec<Oid> = pass
        .hits
        .iter()
        .filter(|h| h.kind == pack::ObjectKind::Blob)
        .map(|h| h.oid)
        .chain(pass.pattern_values.iter().map(|p| p.oid))
        .collect();
    target_blobs.sort();
    target_blobs.dedup();
    // With nothing to map and no dotenv history wanted, trees are only searched (a match in a file
    // name then falls back to a tree pass of its own).
    let probe = (!target_blobs.is_empty() || options.env_history).then(|| {
        provenance::TreeProbe::new(target_blobs, options.env_history.then_some(DOTENV_FILES))
    });
    let offset = bar.position();
    // Blobs that trees name but the database lacks: a partial clone's unfetched ones, or object files
    // deleted by damage. Either way they were not searched, so the answer cannot be "clean". The tree
    // read below notes them.
    let missing = provenance::MissingBlobs::new(&order);
    let (trees, records) = objects::bulk_pass_with(
        &repo.git_dir,
        &order,
        pack::KindSet::of(&[pack::ObjectKind::Tree]),
        &matcher,
        patterns.map(|p| p as &dyn Detector),
        options.threads,
        &|done| bar.set_position(offset + done),
        &|| (provenance::TreeRecords::default(), idhash::IdSet::default()),
        &|(records, missing_here), oid, data| {
            missing.record(missing_here, oid, data);
            if let Some(probe) = &probe {
                probe.record(records, oid, data);
            }
        },
    )?;
    let (records, missing_sets): (Vec<_>, Vec<_>) = records.into_iter().unzip();
    let missing_blobs = provenance::MissingBlobs::count(missing_sets);
    drop(missing);
    let recorded = probe
        .is_some()
        .then(|| provenance::TreeRecords::merge(records));
    for warning in &trees.warnings {
        if !pass.warnings.contains(warning) {
            pass.warnings.push(warning.clone());
        }
    }
    objects::merge(&mut pass, trees);
    pass.hits.sort_by_key(|h| h.oid);
    pass.unreadable.sort_by_key(|u| u.oid);
    pass.unreadable.dedup_by_key(|u| u.oid);
    bar.finish_and_clear();
    let passed = started.elapsed();
    repo.mark_unreadable(pass.unreadable.iter().map(|u| u.oid));
    let uniqueness = if probes.is_empty() {
        RewriteUniqueness::default()
    } else {
        let decided = rewrite_uniqueness(repo, &matcher, secrets, &probes, candidates, &mut pass);
        matcher = Matcher::new(secrets);
        decided
    };

    let mut secrets = secrets.to_vec();
    if let Some(patterns) = patterns {
        let mut discovered: Vec<(&str, Secret)> = Vec::new();
        for found in &pass.pattern_values {
            let Ok(value) = std::str::from_utf8(&found.value) else {
                continue;
            };
            let rule = patterns.rule(found.rule).id;
            if !secrets.iter().any(|s| s.expose() == value)
                && !discovered.iter().any(|(_, s)| s.expose() == value)
            {
                discovered.push((rule, Secret::new(value, "pattern")));
            }
        }
        if !discovered.is_empty() {
            discovered.sort_by_cached_key(|(rule, s)| (rule.to_string(), s.fingerprint()));
            secrets.extend(discovered.into_iter().map(|(_, s)| s));
            matcher = Matcher::new(&secrets);
            // Every object that matched anything is searched again with the full matcher, so hits for
            // discovered values carry every encoding and line like the given ones.
            let mut again: Vec<Oid> = pass
                .hits
                .iter()
                .map(|h| h.oid)
                .chain(pass.pattern_values.iter().map(|p| p.oid))
                .collect();
            again.sort();
            again.dedup();
            pass.hits = objects::search_again(repo, &again, &matcher)?;
        }
        pass.pattern_values.clear();
    }
    // From here on, "the secrets" are the given ones plus any the patterns discovered.
    let all_secrets = secrets;
    let secrets: &[Secret] = &all_secrets;

    let tips = repo.tips()?;
    let mut warnings = shape_warnings(repo, &pass, missing_blobs);
    let blob_hits: idhash::IdMap<Oid, &ObjectHits> = pass
        .hits
        .iter()
        .filter(|h| h.kind == pack::ObjectKind::Blob)
        .map(|h| (h.oid, h))
        .collect();
    let name_trees: idhash::IdSet<Oid> = pass
        .hits
        .iter()
        .filter(|h| h.kind == pack::ObjectKind::Tree)
        .map(|h| h.oid)
        .collect();
    let secret_of = |needle: u32| matcher.needle(needle).secret;
    let mut walker = TreeWalker::new(repo, &matcher, &secret_of, &blob_hits, &name_trees);
    let mut env_files = Vec::new();
    if walker.has_targets() || options.env_history {
        let targets = |e: &provenance::EntryView<'_>| {
            name_trees.contains(e.tree) || (e.is_blob() && blob_hits.contains_key(e.child))
        };
        let env_names =
            |e: &provenance::EntryView<'_>| e.is_blob() && dotenv::is_env_file_name(e.name);
        let mut predicates: Vec<provenance::EntryPredicate<'_>> = vec![&targets];
        if options.env_history {
            predicates.push(&env_names);
        }
        let (graph, mut direct) = match recorded {
            // The pass recorded the graph; trees whose names matched are targets themselves.
            Some((graph, mut targets, env)) => {
                targets.extend(name_trees.iter().map(provenance::key));
                let mut direct = vec![targets];
                if options.env_history {
                    direct.push(env);
                }
                (graph, direct)
            }
            None => provenance::tree_pass(repo, &order, options.threads, &predicates)?,
        };
        let env_trees = if options.env_history {
            graph.closure(direct.pop().unwrap_or_default())
        } else {
            idhash::IdSet::default()
        };
        let target_trees = graph.closure(direct.pop().unwrap_or_default());
        drop(graph);
        // One more tree-only pass keeps just the entries the walkers follow, unless there are few such
        // trees: then each is read on its own when a walker reaches it.
        let all: idhash::IdSet<provenance::TreeKey> =
            target_trees.union(&env_trees).copied().collect();
        let keep = |e: &provenance::EntryView<'_>| {
            name_trees.contains(e.tree)
                || (e.is_tree() && all.contains(&provenance::key(e.child)))
                || (e.is_blob()
                    && (blob_hits.contains_key(e.child) || dotenv::is_env_file_name(e.name)))
        };
        // Nothing holds a target or a dotenv file (a clean audit): no tree needs reading.
        let cache = std::rc::Rc::new(if all.len() <= FEW_TREES {
            provenance::TreeCache::default()
        } else {
            provenance::TreeCache::load(repo, &order, options.threads, &all, &keep)?
        });
        if options.env_history {
            env_files = provenance::files_in_history(
                repo,
                &pass.commits,
                &env_trees,
                &cache,
                dotenv::is_env_file_name,
            );
        }
        walker.restrict_to(target_trees, cache);
    }
    let (introductions, missing_parents) = provenance::introductions(&mut walker, &pass.commits);
    if !walker.missing_trees.is_empty() {
        warnings.push(Warning::new(
            "missing-object",
            format!(
                "{} tree(s) that commits name are missing from the object database: paths under them were not searched; `git fsck` shows the damage",
                walker.missing_trees.len()
            ),
        ));
    }
    if missing_blobs > 0 && !repo.partial {
        warnings.push(Warning::new(
            "missing-object",
            format!(
                "{missing_blobs} blob(s) that trees name are missing from the object database (this is not a partial clone): they were not searched; `git fsck` shows the damage"
            ),
        ));
    }
    let (missing_trees, missing_parent_commits) = missing_named(&pass, &order, repo.shallow);
    if walker.missing_trees.is_empty() && missing_trees > 0 {
        warnings.push(Warning::new(
            "missing-object",
            format!("{missing_trees} tree(s) that commits name are missing from the object database: paths under them were not searched; `git fsck` shows the damage"),
        ));
    }
    if missing_parents == 0 && missing_parent_commits > 0 {
        warnings.push(Warning::new(
            "missing-object",
            format!("{missing_parent_commits} parent commit(s) are missing from the object database: their history was not searched; `git fsck` shows the damage"),
        ));
    }
    if missing_parents > 0 && !repo.shallow {
        warnings.push(Warning::new(
            "missing-object",
            format!("{missing_parents} parent commit(s) are missing from the object database; commits above them may be reported as introducing a token they inherited"),
        ));
    }

    // Commits to locate among the refs: introducing ones, and those whose message holds a token.
    let mut targets: Vec<Oid> = introductions.iter().map(|i| i.commit).collect();
    targets.extend(
        pass.hits
            .iter()
            .filter(|h| h.kind == pack::ObjectKind::Commit)
            .map(|h| h.oid),
    );
    targets.sort();
    targets.dedup();
    let contained = provenance::containment(&pass, &tips, &targets);
    let remote_info = repo.remotes();
    let remotes: Vec<String> = remote_info.iter().map(|r| r.name.clone()).collect();
    let reachable = options
        .reachable_only
        .then(|| provenance::reachable_commits(&pass, &tips));

    let mut builder = FindingBuilder {
        repo,
        matcher: &matcher,
        secrets,
        remotes: &remotes,
        contained: &contained,
        commit_info: HashMap::new(),
        findings: Vec::new(),
    };
    for intro in &introductions {
        if reachable
            .as_ref()
            .is_some_and(|r| !r.contains(&intro.commit))
        {
            continue;
        }
        builder.introduction(intro, &blob_hits);
    }
    for hits in &pass.hits {
        match hits.kind {
            pack::ObjectKind::Commit
                if reachable.as_ref().is_none_or(|r| r.contains(&hits.oid)) =>
            {
                builder.commit_message(hits)
            }
            pack::ObjectKind::Tag => builder.tag_message(hits, &tips, &pass),
            pack::ObjectKind::Blob
                if !walker.seen_blobs.contains(&hits.oid) && !options.reachable_only =>
            {
                builder.orphan_blob(hits)
            }
            _ => {}
        }
    }
    let mut findings = builder.findings;
    findings.sort_by(|a, b| {
        (
            &a.secret.fingerprint,
            &a.date,
            &a.commit,
            a.location,
            &a.path,
            a.line,
            a.encoding,
        )
            .cmp(&(
                &b.secret.fingerprint,
                &b.date,
                &b.commit,
                b.location,
                &b.path,
                b.line,
                b.encoding,
            ))
    });

    let live = live_state(repo, &matcher, secrets, &mut walker, &blob_hits);
    let summaries = summarize(secrets, &findings, &live, &pass);
    let commits = pass.commits.len() as u64;
    let report = Report {
        format_version: crate::model::FORMAT_VERSION,
        tool: Tool::default(),
        command: options.command.to_string(),
        repository: RepositoryInfo {
            // Rebuilt from its components: libgit2 ends a work tree's path with `/`.
            path: repo
                .workdir
                .as_deref()
                .unwrap_or(&repo.git_dir)
                .components()
                .collect::<std::path::PathBuf>()
                .display()
                .to_string(),
            bare: repo.workdir.is_none(),
            shallow: repo.shallow,
            partial: repo.partial,
            head: repo.head_commit().map(|c| c.to_string()),
            remotes: remote_info,
        },
        secrets: summaries,
        findings,
        warnings,
        hygiene: Vec::new(),
        playbook: Vec::new(),
        verification: None,
        completeness: crate::model::Completeness::new(
            repo.shallow,
            repo.partial,
            pass.unreadable.len() as u64,
            (missing_blobs
                + walker.missing_trees.len().max(missing_trees)
                + missing_parent_commits.max(if repo.shallow { 0 } else { missing_parents }))
                as u64,
        ),
        stats: Stats {
            objects: pass.objects,
            blobs: pass.blobs,
            commits,
            bytes: pass.bytes,
            unreadable_objects: pass.unreadable.len() as u64,
            elapsed_ms: started.elapsed().as_millis() as u64,
            enumerate_ms: enumerated.as_millis() as u64,
            pass_ms: (passed - enumerated).as_millis() as u64,
        },
    };
    // Untrusted text can itself hold a token (a tag subject, a file name, an author field, a branch,
    // tag or remote name, a remote URL): the report repeats none of it verbatim.
    let mut report = report;
    report.scrub_untrusted(|text| scrub_text(&matcher, secrets, text));
    Ok((
        ScanOutput {
            report,
            secrets: secrets.to_vec(),
            env_files,
        },
        uniqueness,
    ))
}

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

/// The literal every rewrite pattern of `secret` starts with: the part its redaction shows at the
/// front. Every match of a pattern starts with it, so the pass finding no other occurrence of it (or
/// only occurrences the patterns reject) proves the pattern unique.
fn rewrite_probe(secret: &Secret) -> Option<Vec<u8>> {
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

/// Takes the probe hits out of `pass` and decides each candidate pattern from them: a pattern is
/// unique unless it matches, at some probe (or token) occurrence in a blob, commit or tag, bytes that
/// are not its token. Only the objects with such an occurrence are read again, through libgit2.
fn rewrite_uniqueness(
    repo: &Repo,
    matcher: &Matcher,
    secrets: &[Secret],
    probes: &[Option<Vec<u8>>],
    candidates: &[Vec<String>],
    pass: &mut PassResult,
) -> RewriteUniqueness {
    struct Candidate {
        secret: usize,
        pattern: String,
        anchored: regex::bytes::Regex,
        unique: bool,
    }
    let mut cands: Vec<Candidate> = Vec::new();
    for (secret, patterns) in candidates.iter().enumerate().take(secrets.len()) {
        if !probes.get(secret).is_some_and(Option::is_some) || !matcher.searches_probe(secret) {
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
    let mut to_read: Vec<(Oid, Vec<usize>)> = Vec::new();
    for object in &mut pass.hits {
        let mut starts = Vec::new();
        let checked = object.kind != pack::ObjectKind::Tree;
        object.hits.retain(|hit| {
            if matcher.probe_of(hit.needle).is_some() {
                if checked {
                    starts.push(hit.start);
                }
                return false;
            }
            let needle = matcher.needle(hit.needle);
            if checked
                && needle.encoding == Encoding::Plain
                && cands.iter().any(|c| shares_probe(needle.secret, c.secret))
            {
                starts.push(hit.start);
            }
            true
        });
        if !starts.is_empty() {
            to_read.push((object.oid, starts));
        }
    }
    pass.hits.retain(|object| !object.hits.is_empty());
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

/// Trees and parent commits that commits name but the database lacks (counted without reading any
/// tree). A shallow clone's missing parents are its boundary, reported as shallow instead.
fn missing_named(pass: &PassResult, order: &git::odb::ObjectList, shallow: bool) -> (usize, usize) {
    let present: idhash::IdSet<Oid> = order.ids().collect();
    let count = |ids: &mut dyn Iterator<Item = Oid>| {
        let mut missing: Vec<Oid> = ids.filter(|t| !present.contains(t)).collect();
        missing.sort();
        missing.dedup();
        missing.len()
    };
    let trees = count(&mut pass.commits.iter().map(|c| c.tree));
    let parents = if shallow {
        0
    } else {
        count(&mut pass.commits.iter().flat_map(|c| c.parents.iter().copied()))
    };
    (trees, parents)
}

fn progress_bar(enabled: bool, total: u64) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} scanning objects {bar:30} {pos}/{len} ({rate}, {eta} left)",
        )
        .expect("valid template")
        // indicatif's {per_sec} is a float without a unit ("48213.2957/s").
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{} objects/s", state.per_sec().round() as u64);
            },
        ),
    );
    bar
}

/// Warnings about what the scan could not see.
fn shape_warnings(repo: &Repo, pass: &PassResult, missing_blobs: usize) -> Vec<Warning> {
    let mut warnings: Vec<Warning> = pass
        .warnings
        .iter()
        .map(|w| Warning::new("pack-fallback", w.clone()))
        .collect();
    if repo.shallow {
        warnings.push(Warning::new(
            "shallow",
            "this is a shallow clone: history past the shallow boundary was not searched; run `git fetch --unshallow` and scan again",
        ));
    }
    if repo.partial {
        warnings.push(Warning::new(
            "partial-clone",
            format!(
                "this is a partial clone: {missing_blobs} blob(s) the server did not send were not searched ({} object(s) could not be read); a full `git clone --mirror` can be scanned completely",
                pass.unreadable.len()
            ),
        ));
    }
    for bad in pass.unreadable.iter().take(20) {
        if !repo.partial {
            warnings.push(Warning::new(
                "unreadable-object",
                format!(
                    "object {} could not be read ({}); it was skipped. `git fsck` shows the damage",
                    bad.oid, bad.reason
                ),
            ));
        }
    }
    if pass.unreadable.len() > 20 && !repo.partial {
        warnings.push(Warning::new(
            "unreadable-object",
            format!(
                "{} more object(s) could not be read",
                pass.unreadable.len() - 20
            ),
        ));
    }
    for path in repo.submodule_paths() {
        warnings.push(Warning::new(
            "submodule",
            format!("submodule {path} was not entered: it has its own history; run `unleak scan {path}` as well"),
        ));
    }
    if pass.lfs_pointers > 0 {
        warnings.push(Warning::new(
            "lfs",
            format!(
                "{} Git LFS pointer file(s): LFS content lives outside git and was not searched",
                pass.lfs_pointers
            ),
        ));
    }
    warnings
}

/// Turns provenance into findings, reading commit metadata once per commit.
struct FindingBuilder<'a> {
    repo: &'a Repo,
    matcher: &'a Matcher,
    secrets: &'a [Secret],
    remotes: &'a [String],
    contained: &'a idhash::IdMap<Oid, Containment>,
    commit_info: HashMap<Oid, CommitInfo>,
    findings: Vec<Finding>,
}

/// Where a finding sits, before provenance is attached.
struct Site {
    location: Location,
    encoding: Encoding,
    object: Oid,
    commit: Option<Oid>,
    path: Option<String>,
    lines: Vec<u32>,
}

#[derive(Clone, Default)]
struct CommitInfo {
    author: Option<String>,
    date: Option<String>,
    summary: Option<String>,
}

impl FindingBuilder<'_> {
    fn secret_ref(&self, index: usize) -> SecretRef {
        SecretRef {
            redacted: self.secrets[index].redacted(),
            fingerprint: self.secrets[index].fingerprint(),
        }
    }

    fn rule_of(&self, secret: usize) -> Option<String> {
        crate::providers::identify_rule(self.secrets[secret].expose())
            .map(|(_, rule)| rule.id.to_string())
    }

    fn info(&mut self, commit: Oid) -> CommitInfo {
        if let Some(info) = self.commit_info.get(&commit) {
            return info.clone();
        }
        let info = Some(commit)
            .filter(|c| self.repo.may_read(*c))
            .and_then(|c| self.repo.commit_meta(c).ok())
            .map(|c| CommitInfo {
                author: Some(format!(
                    "{} <{}>",
                    String::from_utf8_lossy(&c.author.name),
                    String::from_utf8_lossy(&c.author.email)
                )),
                date: Some(rfc3339(c.author.seconds, c.author.offset_minutes)),
                summary: c
                    .summary
                    .as_deref()
                    .map(|s| String::from_utf8_lossy(s).into_owned()),
            })
            .unwrap_or_default();
        self.commit_info.insert(commit, info.clone());
        info
    }

    fn push(&mut self, secret: usize, site: Site) {
        let Site {
            location,
            encoding,
            object,
            commit,
            path,
            lines,
        } = site;
        let info = commit.map(|c| self.info(c)).unwrap_or_default();
        let containment = commit
            .and_then(|c| self.contained.get(&c).cloned())
            .unwrap_or_default();
        let finding_remotes = remotes_of(&containment.refs, self.remotes);
        let reachable = !containment.refs.is_empty();
        self.findings.push(Finding {
            rule: self.rule_of(secret),
            severity: Severity::exposure(!finding_remotes.is_empty(), reachable),
            secret: self.secret_ref(secret),
            location,
            encoding,
            object: object.to_string(),
            commit: commit.map(|c| c.to_string()),
            path,
            line: lines.first().copied(),
            lines: if lines.len() > 1 { lines } else { Vec::new() },
            author: info.author,
            date: info.date,
            summary: info.summary,
            reachable,
            pushed: !finding_remotes.is_empty(),
            remotes: finding_remotes,
            refs: containment.refs,
            reflogs: containment.reflogs,
        });
    }

    fn introduction(
        &mut self,
        intro: &provenance::Introduction,
        blob_hits: &idhash::IdMap<Oid, &ObjectHits>,
    ) {
        let path = path_bytes(&intro.hit.path);
        if intro.hit.name_needle.is_some() {
            for &secret in &intro.secrets {
                self.push(
                    secret,
                    Site {
                        location: Location::Path,
                        encoding: Encoding::Plain,
                        object: intro.hit.object,
                        commit: Some(intro.commit),
                        path: Some(path.clone()),
                        lines: Vec::new(),
                    },
                );
            }
            return;
        }
        let Some(hits) = blob_hits.get(&intro.hit.object) else {
            return;
        };
        self.blob_findings(hits, Some(intro.commit), Some(path), Some(&intro.secrets));
    }

    /// One finding per (secret, encoding) of a matching blob; `only` limits it to those secrets.
    fn blob_findings(
        &mut self,
        hits: &ObjectHits,
        commit: Option<Oid>,
        path: Option<String>,
        only: Option<&[usize]>,
    ) {
        for (secret, encoding, lines) in self.group_blob_hits(hits) {
            if only.is_none_or(|only| only.contains(&secret)) {
                self.push(
                    secret,
                    Site {
                        location: Location::Blob,
                        encoding,
                        object: hits.oid,
                        commit,
                        path: path.clone(),
                        lines,
                    },
                );
            }
        }
    }

    fn orphan_blob(&mut self, hits: &ObjectHits) {
        self.blob_findings(hits, None, None, None);
    }

    /// Groups a blob's hits by (secret, encoding), with line numbers when the blob is text.
    fn group_blob_hits(&self, hits: &ObjectHits) -> Vec<(usize, Encoding, Vec<u32>)> {
        // A blob the pass searched in pieces is not read whole again for line numbers: its findings
        // carry none, and memory stays bounded.
        let small = self
            .repo
            .object_size(hits.oid)
            .is_some_and(|size| size <= pack::PIECES_ABOVE);
        let data = small.then(|| self.repo.read_blob(hits.oid).ok()).flatten();
        let text = data
            .as_deref()
            .filter(|c| !has_nul_within(c, GIT_BINARY_PROBE));
        let mut groups: BTreeMap<(usize, Encoding), Vec<u32>> = BTreeMap::new();
        for hit in &hits.hits {
            let needle = self.matcher.needle(hit.needle);
            let lines = groups.entry((needle.secret, needle.encoding)).or_default();
            if let Some(content) = text {
                lines.push(line_of(content, hit.start));
            }
        }
        groups
            .into_iter()
            .map(|((secret, encoding), mut lines)| {
                lines.sort_unstable();
                lines.dedup();
                (secret, encoding, lines)
            })
            .collect()
    }

    fn message_groups(
        &self,
        hits: &ObjectHits,
        data: &[u8],
    ) -> BTreeMap<(usize, Encoding), Vec<u32>> {
        let mut groups: BTreeMap<(usize, Encoding), Vec<u32>> = BTreeMap::new();
        for hit in &hits.hits {
            let needle = self.matcher.needle(hit.needle);
            let lines = groups.entry((needle.secret, needle.encoding)).or_default();
            if hit.start >= hits.message_start {
                lines.push(line_of(
                    &data[hits.message_start..],
                    hit.start - hits.message_start,
                ));
            }
        }
        groups
    }

    fn commit_message(&mut self, hits: &ObjectHits) {
        let Some((_, data)) = self.repo.read_object(hits.oid) else {
            return;
        };
        for ((secret, encoding), lines) in self.message_groups(hits, &data) {
            self.push(
                secret,
                Site {
                    location: Location::CommitMessage,
                    encoding,
                    object: hits.oid,
                    commit: Some(hits.oid),
                    path: None,
                    lines,
                },
            );
        }
    }

    fn tag_message(&mut self, hits: &ObjectHits, tips: &[git::Tip], pass: &PassResult) {
        let Some((_, data)) = self.repo.read_object(hits.oid) else {
            return;
        };
        let groups = self.message_groups(hits, &data);
        let target = pass
            .tags
            .iter()
            .find(|t| t.oid == hits.oid)
            .map(|t| t.target);
        let refs: Vec<String> = tips
            .iter()
            .filter(|t| t.target == hits.oid)
            .map(|t| t.name.clone())
            .collect();
        let summary = String::from_utf8_lossy(&data[hits.message_start.min(data.len())..])
            .lines()
            .next()
            .map(str::to_string);
        let tagger = self.repo.tagger(hits.oid).map(|s| {
            (
                format!(
                    "{} <{}>",
                    String::from_utf8_lossy(&s.name),
                    String::from_utf8_lossy(&s.email)
                ),
                rfc3339(s.seconds, s.offset_minutes),
            )
        });
        for ((secret, encoding), lines) in groups {
            let finding_remotes = remotes_of(&refs, self.remotes);
            self.findings.push(Finding {
                rule: self.rule_of(secret),
                severity: Severity::exposure(!finding_remotes.is_empty(), !refs.is_empty()),
                secret: self.secret_ref(secret),
                location: Location::TagMessage,
                encoding,
                object: hits.oid.to_string(),
                commit: target
                    .and_then(|t| self.repo.peel_to_commit(t))
                    .map(|c| c.to_string()),
                path: None,
                line: lines.first().copied(),
                lines: if lines.len() > 1 { lines } else { Vec::new() },
                author: tagger.as_ref().map(|t| t.0.clone()),
                date: tagger.as_ref().map(|t| t.1.clone()),
                summary: summary.clone(),
                refs: refs.clone(),
                reflogs: Vec::new(),
                reachable: !refs.is_empty(),
                pushed: !finding_remotes.is_empty(),
                remotes: finding_remotes,
            });
        }
    }
}

/// Remotes whose tracking refs are among `refs` (a ref `refs/remotes/<remote>/<branch>`; remote names may
/// contain slashes, so the longest configured name wins).
fn remotes_of(refs: &[String], remotes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in refs {
        let Some(rest) = name.strip_prefix("refs/remotes/") else {
            continue;
        };
        let remote = remotes
            .iter()
            .filter(|r| rest.starts_with(&format!("{r}/")))
            .max_by_key(|r| r.len())
            .cloned()
            .or_else(|| rest.split('/').next().map(str::to_string));
        if let Some(remote) = remote {
            if !out.contains(&remote) {
                out.push(remote);
            }
        }
    }
    out.sort();
    out
}

/// `text` with every occurrence of a searched token (in any form the matcher knows) replaced by that
/// token's redaction: names and paths in the report can hold a token themselves.
pub fn scrub_text(matcher: &Matcher, secrets: &[Secret], text: String) -> String {
    let mut hits = Vec::new();
    matcher.find_all(text.as_bytes(), &mut hits);
    if hits.is_empty() {
        return text;
    }
    hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for hit in hits {
        if hit.start < at || !text.is_char_boundary(hit.start) || !text.is_char_boundary(hit.end) {
            continue;
        }
        out.push_str(&text[at..hit.start]);
        out.push_str(&secrets[matcher.needle(hit.needle).secret].redacted());
        at = hit.end;
    }
    out.push_str(&text[at..]);
    out
}

fn line_of(content: &[u8], offset: usize) -> u32 {
    memchr::memchr_iter(b'\n', &content[..offset.min(content.len())]).count() as u32 + 1
}

/// Where each token still lives right now: HEAD's tree, the index, the working tree.
struct LiveState {
    in_head: Vec<Vec<String>>,
    in_index: Vec<Vec<String>>,
    in_worktree: Vec<Vec<String>>,
}

fn live_state(
    repo: &Repo,
    matcher: &Matcher,
    secrets: &[Secret],
    walker: &mut TreeWalker<'_>,
    blob_hits: &idhash::IdMap<Oid, &ObjectHits>,
) -> LiveState {
    let count = secrets.len();
    let mut live = LiveState {
        in_head: vec![Vec::new(); count],
        in_index: vec![Vec::new(); count],
        in_worktree: vec![Vec::new(); count],
    };
    if let Some(tree) = repo
        .head_commit()
        .filter(|c| repo.may_read(*c))
        .and_then(|c| repo.commit_meta(c).ok())
        .map(|c| c.tree)
    {
        for hit in walker.hits(tree).iter() {
            for secret in walker.secrets_of(hit) {
                live.in_head[secret].push(scrub_text(matcher, secrets, path_bytes(&hit.path)));
            }
        }
    }
    let mut hits = Vec::new();
    for (path, oid) in repo.index_entries() {
        hits.clear();
        matcher.find_all(&path, &mut hits);
        if let Some(blob) = blob_hits.get(&oid) {
            hits.extend_from_slice(&blob.hits);
        }
        for hit in &hits {
            live.in_index[matcher.needle(hit.needle).secret].push(scrub_text(
                matcher,
                secrets,
                path_bytes(&path),
            ));
        }
    }
    if let Some(workdir) = &repo.workdir {
        for file in repo.worktree_candidates() {
            let Ok(meta) = std::fs::symlink_metadata(&file) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let shown = file
                .strip_prefix(workdir)
                .unwrap_or(&file)
                .display()
                .to_string();
            // A git directory inside the work tree (a mirror kept beside sources) is not a file anyone
            // commits; its objects were scanned one by one.
            if file.starts_with(&repo.git_dir) {
                continue;
            }
            for secret in secrets_in_file(matcher, &file).unwrap_or_default() {
                live.in_worktree[secret].push(shown.clone());
            }
        }
    }
    for list in live
        .in_head
        .iter_mut()
        .chain(live.in_index.iter_mut())
        .chain(live.in_worktree.iter_mut())
    {
        list.sort();
        list.dedup();
    }
    live
}

fn summarize(
    secrets: &[Secret],
    findings: &[Finding],
    live: &LiveState,
    pass: &PassResult,
) -> Vec<SecretSummary> {
    let times: HashMap<String, i64> = pass
        .commits
        .iter()
        .map(|c| (c.oid.to_string(), c.commit_time))
        .collect();
    secrets
        .iter()
        .enumerate()
        .map(|(i, secret)| {
            let fingerprint = secret.fingerprint();
            let mine: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.secret.fingerprint == fingerprint)
                .collect();
            let mut introducing: Vec<String> =
                mine.iter().filter_map(|f| f.commit.clone()).collect();
            introducing.sort();
            introducing.dedup();
            let mut refs: Vec<String> = mine.iter().flat_map(|f| f.refs.clone()).collect();
            refs.sort();
            refs.dedup();
            let mut remotes: Vec<String> = mine.iter().flat_map(|f| f.remotes.clone()).collect();
            remotes.sort();
            remotes.dedup();
            let earliest = |pushed_only: bool| {
                mine.iter()
                    .filter(|f| !pushed_only || f.pushed)
                    .filter_map(|f| f.commit.as_ref().and_then(|c| times.get(c)))
                    .min()
                    .copied()
            };
            let rule = crate::providers::identify_rule(secret.expose());
            let live_found = !live.in_head[i].is_empty()
                || !live.in_index[i].is_empty()
                || !live.in_worktree[i].is_empty();
            let first = earliest(true)
                .or_else(|| earliest(false))
                .map(|t| rfc3339(t, 0));
            SecretSummary {
                secret: SecretRef {
                    redacted: secret.redacted(),
                    fingerprint,
                },
                origin: secret.origin().to_string(),
                provider: rule.map(|(p, _)| p.id.to_string()),
                rule: rule.map(|(_, r)| r.id.to_string()),
                severity: mine
                    .iter()
                    .map(|f| f.severity)
                    .max()
                    .or_else(|| live_found.then_some(Severity::Medium)),
                found: !mine.is_empty()
                    || !live.in_head[i].is_empty()
                    || !live.in_index[i].is_empty()
                    || !live.in_worktree[i].is_empty(),
                findings: mine.len(),
                introducing_commits: introducing,
                pushed: !remotes.is_empty(),
                remotes,
                refs,
                in_head: live.in_head[i].clone(),
                in_index: live.in_index[i].clone(),
                in_worktree: live.in_worktree[i].clone(),
                first_exposure: first,
                live: None,
                live_reason: None,
            }
        })
        .collect()
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
    let order = git::odb::enumerate(&repo.objects_dirs)?;
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
    let passed = git::odb::read_objects_in_pieces(
        &repo.git_dir,
        &order,
        kinds,
        threads,
        &|_| {},
        &|| true,
        &|unique: &mut bool, _oid, object| {
            let Ok((kind, data)) = object else { return };
            if *unique && kind != pack::ObjectKind::Tree {
                *unique = regex.find_iter(data).all(|m| m.as_bytes() == token);
            }
        },
        Some(&pieces),
    )?;
    Ok(passed.states.into_iter().all(|unique| unique))
}
