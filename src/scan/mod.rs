//! The scan engine: one pass over the object database, then provenance for the few objects that matched.
//! [`run`] is its one entry: a [`Request`] in (the repository, the tokens, what else to search in the
//! same pass), a [`ScanOutput`] out (the report model, which commands render or plan from).

pub(crate) mod after_rewrite;
pub(crate) mod at_risk;
pub(crate) mod files;
pub(crate) mod findings;
pub(crate) mod history;
pub(crate) mod idhash;
pub(crate) mod named;
pub mod objects;
pub(crate) mod provenance;
pub(crate) mod staged;

use crate::dotenv;
use crate::git::Oid;
use crate::git::{self, pack, Repo};
use crate::matching::exact::Matcher;
use crate::matching::patterns::{InNames, PatternSet};
use crate::matching::Detector;
use crate::model::{Encoding, Finding, Report, SecretSummary, Stats, Tool, Warning};
use crate::providers::{Rule, Rules};
use crate::secret::Secret;
use anyhow::Result;
pub use findings::scrub_text;
use history::CommitGraph;
use objects::{ObjectHits, PassResult};
use provenance::{Containment, Recorded, Restriction, TreeWalker};
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
    /// Worker threads for the object pass.
    pub threads: usize,
    /// Report only findings reachable from a ref, stash or reflog entry (`--reachable-only`).
    pub reachable_only: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// The command name recorded in the report.
    pub command: &'static str,
    /// Also list the commits that added or changed a dotenv file (audit).
    pub env_history: bool,
    /// Hash every object read against its id (`--verify-object-ids`, see
    /// [`git::odb::ObjectList::verify_object_ids`]).
    pub verify_object_ids: bool,
    /// How provenance reads trees (`UNLEAK_TREE_READ`, read by `config`; the default lets the scan choose).
    pub tree_read: TreeRead,
}

/// What the engine is asked: where to look, for what, and how to run.
pub struct Request<'a> {
    /// The repository, opened once by the caller.
    pub repo: &'a Repo,
    /// The tokens searched for.
    pub secrets: &'a [Secret],
    /// Audit: every provider pattern too, in the same pass. Values the patterns find join the searched
    /// secrets (sorted by rule and fingerprint, after the given ones), so they get the same provenance.
    pub patterns: Option<&'a PatternSet>,
    /// How the scan runs.
    pub options: &'a ScanOptions,
    /// More literals searched in the same pass, `probes[i]` standing for `secrets[i]` (None: none for
    /// it): where they occur comes back as [`ScanOutput::probe_sites`] and is kept out of the report.
    /// The rewrite check asks for them (`filter_repo::unique`), so it reads no object twice.
    pub probes: &'a [Option<Vec<u8>>],
}

impl<'a> Request<'a> {
    /// A plain scan of `repo` for `secrets`: no pattern, no probe.
    pub fn new(repo: &'a Repo, secrets: &'a [Secret], options: &'a ScanOptions) -> Request<'a> {
        Request {
            repo,
            secrets,
            patterns: None,
            options,
            probes: &[],
        }
    }

    /// Also searches for every rule of `patterns` (audit).
    pub fn with_patterns(self, patterns: &'a PatternSet) -> Request<'a> {
        Request {
            patterns: Some(patterns),
            ..self
        }
    }

    /// Also searches for `probes` (see [`Request::probes`]).
    pub fn with_probes(self, probes: &'a [Option<Vec<u8>>]) -> Request<'a> {
        Request { probes, ..self }
    }
}

/// What [`run`] found: the report, every secret searched for (given and discovered), for audit the
/// dotenv files in history as (path, commit), and where the request's probes occur.
pub struct ScanOutput {
    /// The report, ready to render.
    pub report: Report,
    /// Every secret searched for: the given ones, then (audit) the values patterns discovered.
    pub secrets: Vec<Secret>,
    /// Audit: dotenv files in history, as (path, commit that added or changed it).
    pub env_files: Vec<(String, String)>,
    /// Where the request's probes, and the given tokens in plain text, start in blobs, commits and
    /// tags (empty without probes).
    pub probe_sites: ProbeSites,
}

/// Where a request's probes occur, and where its plain tokens do, in the blobs, commits and tags the
/// pass read (a tree's names are not text a rewrite replaces).
#[derive(Debug, Default)]
pub struct ProbeSites {
    /// Per secret: whether its probe was searched (a probe equal to a token's form is not a needle of
    /// its own, so it cannot be told apart from the token).
    pub searched: Vec<bool>,
    /// Each object holding a probe or a plain token: where each starts (in the pass's order).
    pub objects: Vec<(Oid, Vec<Site>)>,
}

/// One place a probe or a plain token starts in an object.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    /// Where it starts, in bytes from the object's start.
    pub start: usize,
    /// The secret whose plain token starts here; None for a probe.
    pub token: Option<usize>,
}

/// Up to this many trees hold a match (or lead to one), they are read one by one through libgit2 when
/// walked; more, and one tree-only pass reads them all.
const FEW_TREES: usize = 2048;

/// How provenance reads the trees that lead to a match. Chosen by the command and the history's size;
/// `UNLEAK_TREE_READ` (`one-by-one`, `tree-pass`, `named`) forces one, so the tests run every way on
/// their small repositories (where only the first would be taken) and check they report the same. It
/// changes how trees are read, never what is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TreeRead {
    /// Scan: one by one up to [`FEW_TREES`], else one more tree-only pass. Audit: the graph with names.
    #[default]
    Chosen,
    /// Each tree through libgit2 when a walker reaches it.
    OneByOne,
    /// One more tree-only pass over the trees that lead to a match.
    TreePass,
    /// The graph with names the tree read records (see [`named`]).
    Named,
}

impl TreeRead {
    /// The way `UNLEAK_TREE_READ` names; anything else (or unset) lets the scan choose.
    pub fn from_name(name: Option<&str>) -> TreeRead {
        match name {
            Some("one-by-one") => TreeRead::OneByOne,
            Some("tree-pass") => TreeRead::TreePass,
            Some("named") => TreeRead::Named,
            _ => TreeRead::Chosen,
        }
    }

    /// Whether the tree read records the graph with names.
    fn with_names(self, options: &ScanOptions) -> bool {
        match self {
            TreeRead::Chosen => options.env_history,
            TreeRead::Named => true,
            TreeRead::OneByOne | TreeRead::TreePass => false,
        }
    }

    /// Up to how many trees leading to a match are read one by one.
    fn few_trees(self) -> usize {
        match self {
            TreeRead::OneByOne => usize::MAX,
            TreeRead::TreePass => 0,
            TreeRead::Chosen | TreeRead::Named => FEW_TREES,
        }
    }
}

/// Scans the request's repository for its secrets (and patterns and probes) and builds the report:
/// the engine's one entry.
pub fn run(request: &Request<'_>) -> Result<ScanOutput> {
    let Request {
        repo,
        secrets,
        patterns,
        options,
        ..
    } = *request;
    let started = Instant::now();
    // Refs, reflog and stash entries: the tree read checks that the database holds what they name.
    let tips = repo.tips()?;
    let (mut objects, recorded) = object_pass(request, &tips)?;
    let probe_sites = std::mem::take(&mut objects.probe_sites);
    // From here on, "the secrets" are the given ones plus any the patterns discovered.
    let all_secrets = add_discovered(repo, secrets, patterns, &mut objects)?;
    let secrets: &[Secret] = &all_secrets;
    let objects = objects;
    let pass = &objects.pass;
    let matcher = &objects.matcher;

    let targets = Targets::of(pass);
    let (blob_hits, name_trees) = (&targets.blobs, &targets.name_trees);
    let secret_of = |needle: u32| matcher.needle(needle).secret;
    let mut walker = TreeWalker::new(repo, matcher, &secret_of, blob_hits, name_trees);
    let parallel = options.threads > 1;
    // Introductions, ref containment and `--reachable-only` read the commit graph. A scan that found
    // nothing in a file, a name or a commit message reads none of them: it builds an empty graph (git's
    // 200k commits cost 50 ms). The graph is built beside the mapping of the trees, which leaves a
    // processor free.
    let needs_graph = walker.has_targets()
        || options.reachable_only
        || pass.hits.iter().any(|h| h.kind == pack::ObjectKind::Commit);
    let graphed: &[objects::CommitRecord] = if needs_graph { &pass.commits } else { &[] };
    let (env_files, graph) = std::thread::scope(|scope| {
        let graph = (parallel && needs_graph).then(|| scope.spawn(|| CommitGraph::of(graphed)));
        let env_files = map_trees(request, &mut walker, &objects, recorded, &targets);
        let graph = match graph.map(|graph| graph.join()) {
            Some(Ok(graph)) => graph,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => CommitGraph::of(graphed),
        };
        env_files.map(|env_files| (env_files, graph))
    })?;
    let (introductions, missing_parents) =
        provenance::introductions(&mut walker, &pass.commits, &graph, parallel);
    let missing = Missing::count(repo, &objects, &walker, missing_parents);
    let mut warnings = shape_warnings(repo, pass, objects.lacking.blobs);
    warnings.extend(missing.warnings(repo));

    let located = locate(
        repo,
        &graph,
        pass,
        tips,
        &introductions,
        options.reachable_only,
    );
    // Audit's custom rules come with its patterns; every other scan knows the built-in rules.
    let rules = patterns.map_or(Rules::builtin(), PatternSet::rule_set);
    let findings = findings::build(findings::Sources {
        repo,
        matcher,
        secrets,
        rules,
        remotes: &located.remotes,
        contained: &located.contained,
        tips: &located.tips,
        reachable: located.reachable.as_ref(),
        reachable_only: options.reachable_only,
        introductions: &introductions,
        blob_hits,
        seen_blobs: &walker.seen_blobs,
        pass,
    });
    let live = findings::live_state(repo, matcher, secrets, &mut walker, blob_hits);
    let summaries = findings::summarize(secrets, rules, &findings, &live, pass);
    let body = Body {
        summaries,
        findings,
        warnings,
        remotes: located.remote_info,
        // Reading HEAD's tree for the live state can add to the walk's missing trees: counted now.
        missing: missing.total(walker.missing_trees.len()),
    };
    let mut report = assemble(request, &objects, body, started);
    // Untrusted text can itself hold a token (a tag subject, a file name, an author field, a branch,
    // tag or remote name, a remote URL): the report repeats none of it verbatim.
    report.scrub_untrusted(|text| scrub_text(matcher, secrets, text));
    Ok(ScanOutput {
        report,
        secrets: all_secrets.clone(),
        env_files,
        probe_sites,
    })
}

/// What the object pass leaves: every object's hits, the matcher that found them, and what it noticed.
struct ObjectPass {
    pass: PassResult,
    matcher: Matcher,
    order: git::odb::ObjectList,
    /// What objects name that the database lacks.
    lacking: Lacking,
    probe_sites: ProbeSites,
    enumerated: std::time::Duration,
    passed: std::time::Duration,
}

/// One read of every object: blobs, commits and tags first, trees second, searched for the request's
/// secrets (and patterns, and probes: their sites are taken out of the hits).
fn object_pass(request: &Request<'_>, tips: &[git::Tip]) -> Result<(ObjectPass, Option<Recorded>)> {
    let Request {
        repo,
        secrets,
        patterns,
        options,
        probes,
    } = *request;
    let started = Instant::now();
    // The probes ride along in the pass's one search.
    let probe_bytes: Vec<&[u8]> = probes.iter().map(|p| p.as_deref().unwrap_or(&[])).collect();
    let mut matcher = Matcher::with_probes(secrets, &probe_bytes);
    let mut order = git::odb::enumerate(&repo.objects_dirs)?;
    order.verify_object_ids(options.verify_object_ids);
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
    let scope = git::odb::PassScope {
        git_dir: &repo.git_dir,
        objects: &order,
        kinds: not_trees,
        threads: options.threads,
        progress: &|done| bar.set_position(done),
    };
    let names = patterns.map(PatternSet::in_names);
    let (mut pass, _) = objects::bulk_pass_with(
        &scope,
        detectors(&matcher, patterns, names.as_ref()),
        &objects::TreeHook {
            init: &|| (),
            on_tree: &|_, _| {},
        },
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
        // Audit walks the graph with names: however many trees lead to a match, none is read again.
        provenance::TreeProbe::new(
            target_blobs,
            options.env_history.then_some(DOTENV_FILES),
            options.tree_read.with_names(options),
        )
    });
    let listed = Listed {
        order: &order,
        commits: &pass.commits,
        tips,
    };
    let (trees, lacking, recorded) = read_trees(request, listed, &matcher, &bar, probe.as_ref())?;
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
    let probe_sites = if probes.is_empty() {
        ProbeSites::default()
    } else {
        let sites = take_probe_sites(&matcher, secrets.len(), &mut pass);
        matcher = Matcher::new(secrets);
        sites
    };
    let objects = ObjectPass {
        pass,
        matcher,
        order,
        lacking,
        probe_sites,
        enumerated,
        passed,
    };
    Ok((objects, recorded))
}

/// What objects name that the object database lacks, as the tree read counts them.
#[derive(Clone, Copy, Default)]
struct Lacking {
    /// Blobs that trees name.
    blobs: usize,
    /// Subtrees that trees name.
    subtrees: usize,
    /// Trees that commits name.
    named_trees: usize,
    /// Parents that commits name (none counted in a shallow clone, whose history stops on purpose).
    parent_commits: usize,
    /// Objects that refs, reflog and stash entries name but the database lacks (a damaged
    /// repository: the history they name cannot be searched).
    tips: usize,
}

/// What the tree read checks against the set of every object id: the objects listed, the commits the
/// first read parsed (their trees and parents), and the refs, reflog and stash entries.
#[derive(Clone, Copy)]
struct Listed<'a> {
    order: &'a git::odb::ObjectList,
    commits: &'a [objects::CommitRecord],
    tips: &'a [git::Tip],
}

/// The tree read: searches every tree (a token in a file name) and, with a probe, records the tree
/// graph provenance needs; also counts the blobs trees name that the database lacks, and (with the
/// same set of every object id) the trees and parents that `commits` name and the objects `tips` name.
fn read_trees(
    request: &Request<'_>,
    Listed {
        order,
        commits,
        tips,
    }: Listed<'_>,
    matcher: &Matcher,
    bar: &indicatif::ProgressBar,
    probe: Option<&provenance::TreeProbe>,
) -> Result<(PassResult, Lacking, Option<Recorded>)> {
    let Request {
        repo,
        patterns,
        options,
        ..
    } = *request;
    let offset = bar.position();
    // Blobs that trees name but the database lacks: a partial clone's unfetched ones, or object files
    // deleted by damage. Either way they were not searched, so the answer cannot be "clean". The tree
    // read below notes them.
    let missing = provenance::MissingBlobs::new(order);
    let scope = git::odb::PassScope {
        git_dir: &repo.git_dir,
        objects: order,
        kinds: pack::KindSet::of(&[pack::ObjectKind::Tree]),
        threads: options.threads,
        progress: &|done| bar.set_position(offset + done),
    };
    let names = patterns.map(PatternSet::in_names);
    let (trees, records) = objects::bulk_pass_with(
        &scope,
        detectors(matcher, patterns, names.as_ref()),
        &objects::TreeHook {
            init: &|| {
                (
                    provenance::TreeRecords::default(),
                    provenance::MissingHere::default(),
                )
            },
            on_tree: &|(records, missing_here), tree| match probe {
                Some(probe) => probe.record(records, &missing, missing_here, tree),
                None => missing.record(missing_here, tree),
            },
        },
    )?;
    let mut trees = trees;
    let (records, missing_sets): (Vec<_>, Vec<_>) = records.into_iter().unzip();
    let (blobs, subtrees, malformed) = provenance::MissingBlobs::count(missing_sets);
    let named = missing_named(commits, tips, |id| missing.is_present(id), repo.shallow);
    drop(missing);
    // Entries after a malformed one cannot be seen (git itself refuses such a tree): the tree counts as
    // unreadable, so the answer is incomplete, and no walker reads it.
    trees
        .unreadable
        .extend(malformed.into_iter().map(|oid| objects::Unreadable {
            oid,
            reason: "a tree entry is malformed; the entries after it cannot be read".into(),
        }));
    let recorded = probe.map(|probe| provenance::TreeRecords::merge(records, probe.with_names()));
    let lacking = Lacking {
        blobs,
        subtrees,
        ..named
    };
    Ok((trees, lacking, recorded))
}

/// What provenance maps back to commits: the matching blobs by id, and the trees whose entry names
/// hold a token.
struct Targets<'a> {
    blobs: idhash::IdMap<Oid, &'a ObjectHits>,
    name_trees: idhash::IdSet<Oid>,
}

impl<'a> Targets<'a> {
    fn of(pass: &'a PassResult) -> Targets<'a> {
        let blobs = pass
            .hits
            .iter()
            .filter(|h| h.kind == pack::ObjectKind::Blob)
            .map(|h| (h.oid, h))
            .collect();
        let name_trees = pass
            .hits
            .iter()
            .filter(|h| h.kind == pack::ObjectKind::Tree)
            .map(|h| h.oid)
            .collect();
        Targets { blobs, name_trees }
    }
}

/// The searched secrets: the given ones, then (audit) the values the patterns found, sorted by rule and
/// fingerprint. When there are such values, every object that matched anything is searched again with
/// the full matcher, so their hits carry every encoding and line like the given ones.
fn add_discovered(
    repo: &Repo,
    secrets: &[Secret],
    patterns: Option<&PatternSet>,
    objects: &mut ObjectPass,
) -> Result<Vec<Secret>> {
    let mut secrets = secrets.to_vec();
    let Some(patterns) = patterns else {
        return Ok(secrets);
    };
    let pass = &mut objects.pass;
    let rules = patterns.rule_set();
    let mut discovered: Vec<(&str, Secret)> = Vec::new();
    for found in &pass.pattern_values {
        let Ok(value) = std::str::from_utf8(&found.value) else {
            continue;
        };
        let rule = patterns.rule(found.rule);
        // A value found by several rules (the generic one in one file, its provider's context rule in
        // another) is known by the most confident.
        let more_confident =
            |known: Option<Rule<'_>>| known.is_none_or(|known| rule.confidence > known.confidence);
        if let Some(given) = secrets.iter_mut().find(|s| s.expose() == value) {
            if more_confident(given.identify_in(rules)) {
                *given = given.clone().with_rule(rule.owned_id());
            }
        } else if let Some((id, known)) = discovered.iter_mut().find(|(_, s)| s.expose() == value) {
            if more_confident(known.identify_in(rules)) {
                *id = rule.id;
                *known = known.clone().with_rule(rule.owned_id());
            }
        } else {
            discovered.push((
                rule.id,
                Secret::new(value, "pattern").with_rule(rule.owned_id()),
            ));
        }
    }
    if !discovered.is_empty() {
        discovered.sort_by_cached_key(|(rule, s)| (rule.to_string(), s.fingerprint()));
        secrets.extend(discovered.into_iter().map(|(_, s)| s));
        objects.matcher = Matcher::new(&secrets);
        let mut again: Vec<Oid> = pass
            .hits
            .iter()
            .map(|h| h.oid)
            .chain(pass.pattern_values.iter().map(|p| p.oid))
            .collect();
        again.sort();
        again.dedup();
        pass.hits = objects::search_again(repo, &again, &objects.matcher)?;
    }
    pass.pattern_values.clear();
    Ok(secrets)
}

/// Readies `walker` for the trees that hold a match (or lead to one), from the graph the tree read
/// recorded or else a tree pass of their own; for audit, also lists the dotenv files in history.
fn map_trees(
    request: &Request<'_>,
    walker: &mut TreeWalker<'_>,
    objects: &ObjectPass,
    recorded: Option<Recorded>,
    targets: &Targets<'_>,
) -> Result<Vec<(String, String)>> {
    let Request { repo, options, .. } = *request;
    let (blob_hits, name_trees) = (&targets.blobs, &targets.name_trees);
    let mut env_files = Vec::new();
    if !walker.has_targets() && !options.env_history {
        return Ok(env_files);
    }
    let recorded = match recorded {
        Some(Recorded::Named(named)) if !named.collision => {
            match walk_named(request, walker, objects, named, name_trees) {
                Some(env_files) => return Ok(env_files),
                // The closure did not settle (a crafted nesting): read trees by full id.
                None => None,
            }
        }
        Some(Recorded::Keys {
            graph,
            targets,
            wanted,
        }) => Some((graph, targets, wanted)),
        // Two trees share their first eight bytes: the named graph cannot tell them apart, so the
        // trees are read again by full id.
        Some(Recorded::Named(_)) | None => None,
    };
    let targets = |e: &provenance::EntryView<'_>| {
        name_trees.contains(e.tree) || (e.is_blob() && blob_hits.contains_key(e.child))
    };
    let env_names = |e: &provenance::EntryView<'_>| e.is_blob() && dotenv::is_env_file_name(e.name);
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
        None => provenance::tree_pass(repo, &objects.order, options.threads, &predicates)?,
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
    let all: idhash::IdSet<provenance::TreeKey> = target_trees.union(&env_trees).copied().collect();
    let keep = |e: &provenance::EntryView<'_>| {
        name_trees.contains(e.tree)
            || (e.is_tree() && all.contains(&provenance::key(e.child)))
            || (e.is_blob()
                && (blob_hits.contains_key(e.child) || dotenv::is_env_file_name(e.name)))
    };
    // Nothing holds a target or a dotenv file (a clean audit): no tree needs reading.
    let cache = std::rc::Rc::new(if all.len() <= options.tree_read.few_trees() {
        provenance::TreeCache::default()
    } else {
        provenance::TreeCache::load(repo, &objects.order, options.threads, &all, &keep)?
    });
    if options.env_history {
        env_files = provenance::files_in_history(
            repo,
            &objects.pass.commits,
            &Restriction::Keys(env_trees, cache.clone()),
            dotenv::is_env_file_name,
        );
    }
    walker.restrict_to(Restriction::Keys(target_trees, cache));
    Ok(env_files)
}

/// [`map_trees`] over the graph with names the tree read recorded (audit): no tree is read again.
/// None when the graph's closure does not settle (see [`named::NamedTrees::closure`]).
fn walk_named(
    request: &Request<'_>,
    walker: &mut TreeWalker<'_>,
    objects: &ObjectPass,
    named: named::NamedTrees,
    name_trees: &idhash::IdSet<Oid>,
) -> Option<Vec<(String, String)>> {
    let Request { repo, options, .. } = *request;
    // Trees whose names matched are targets themselves.
    let targets = named
        .targets
        .iter()
        .copied()
        .chain(name_trees.iter().map(|t| named::key_of(t.as_bytes())));
    // The two closures are independent passes over the graph: with a second thread, side by side.
    let env_closure = || match options.env_history {
        true => named.closure(named.wanted.iter().copied()),
        false => Some(idhash::IdSet::default()),
    };
    let (target_trees, env_trees) = if options.threads > 1 && options.env_history {
        std::thread::scope(|scope| {
            let env_trees = scope.spawn(env_closure);
            let target_trees = named.closure(targets);
            match env_trees.join() {
                Ok(env_trees) => (target_trees, env_trees),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    } else {
        (named.closure(targets), env_closure())
    };
    let (target_trees, env_trees) = (target_trees?, env_trees?);
    let keep = target_trees.union(&env_trees).copied().collect();
    let source = std::sync::Arc::new(named::NamedSource::new(
        named,
        keep,
        name_trees.iter().copied(),
    ));
    let mut env_files = Vec::new();
    if options.env_history {
        env_files = provenance::files_in_history(
            repo,
            &objects.pass.commits,
            &Restriction::Named(env_trees, source.clone()),
            dotenv::is_env_file_name,
        );
    }
    walker.restrict_to(Restriction::Named(target_trees, source));
    Some(env_files)
}

/// Objects that something names but the database lacks, as the pass, the tree walk and the history
/// walk saw them.
struct Missing {
    /// What the tree read counted.
    lacking: Lacking,
    /// Trees the walk from commits reached but could not read.
    walked_trees: usize,
    /// Parents the introduction walk could not read.
    parents: usize,
    shallow: bool,
}

impl Missing {
    fn count(
        repo: &Repo,
        objects: &ObjectPass,
        walker: &TreeWalker<'_>,
        parents: usize,
    ) -> Missing {
        Missing {
            lacking: objects.lacking,
            walked_trees: walker.missing_trees.len(),
            parents,
            shallow: repo.shallow,
        }
    }

    /// How many objects are missing, for the report's completeness; `walked_trees` is the walk's count
    /// at the end (reading HEAD's tree for the live state can add to it).
    fn total(&self, walked_trees: usize) -> u64 {
        let lacking = &self.lacking;
        (lacking.blobs
            + walked_trees.max(lacking.named_trees + lacking.subtrees)
            + lacking
                .parent_commits
                .max(if self.shallow { 0 } else { self.parents })
            + lacking.tips) as u64
    }

    fn warnings(&self, repo: &Repo) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let mut missing = |text: String| warnings.push(Warning::new("missing-object", text));
        if self.lacking.tips > 0 {
            missing(format!("{} object(s) that refs, reflog or stash entries name are missing from the object database: the history they name was not searched; `git fsck` shows the damage", self.lacking.tips));
        }
        if self.walked_trees > 0 {
            missing(format!("{} tree(s) that commits name are missing from the object database: paths under them were not searched; `git fsck` shows the damage", self.walked_trees));
        }
        let missing_blobs = self.lacking.blobs;
        if missing_blobs > 0 && !repo.partial {
            missing(format!("{missing_blobs} blob(s) that trees name are missing from the object database (this is not a partial clone): they were not searched; `git fsck` shows the damage"));
        }
        if self.walked_trees == 0 && self.lacking.subtrees > 0 {
            let why = if repo.partial {
                "the server did not send them (a partial clone)"
            } else {
                "`git fsck` shows the damage"
            };
            missing(format!("{} tree(s) that other trees name are missing from the object database: paths under them were not searched; {why}", self.lacking.subtrees));
        }
        let missing_trees = self.lacking.named_trees;
        if self.walked_trees == 0 && missing_trees > 0 {
            missing(format!("{missing_trees} tree(s) that commits name are missing from the object database: paths under them were not searched; `git fsck` shows the damage"));
        }
        let (missing_parents, missing_parent_commits) = (self.parents, self.lacking.parent_commits);
        if missing_parents == 0 && missing_parent_commits > 0 {
            missing(format!("{missing_parent_commits} parent commit(s) are missing from the object database: their history was not searched; `git fsck` shows the damage"));
        }
        if missing_parents > 0 && !repo.shallow {
            missing(format!("{missing_parents} parent commit(s) are missing from the object database; commits above them may be reported as introducing a token they inherited"));
        }
        warnings
    }
}

/// Where the commits that findings name sit among the refs and remotes.
struct Located {
    tips: Vec<git::Tip>,
    contained: idhash::IdMap<Oid, Containment>,
    remote_info: Vec<crate::model::RemoteInfo>,
    remotes: Vec<String>,
    /// With `reachable_only`, the commits some ref reaches.
    reachable: Option<idhash::IdSet<Oid>>,
}

/// Locates among the refs the introducing commits and those whose message holds a token.
fn locate(
    repo: &Repo,
    graph: &CommitGraph,
    pass: &PassResult,
    tips: Vec<git::Tip>,
    introductions: &[provenance::Introduction],
    reachable_only: bool,
) -> Located {
    let mut targets: Vec<Oid> = introductions.iter().map(|i| i.commit).collect();
    targets.extend(
        pass.hits
            .iter()
            .filter(|h| h.kind == pack::ObjectKind::Commit)
            .map(|h| h.oid),
    );
    targets.sort();
    targets.dedup();
    let contained = provenance::containment(graph, pass, &tips, &targets);
    let remote_info = repo.remotes();
    let remotes: Vec<String> = remote_info.iter().map(|r| r.name.clone()).collect();
    let reachable = reachable_only.then(|| provenance::reachable_commits(graph, pass, &tips));
    Located {
        tips,
        contained,
        remote_info,
        remotes,
        reachable,
    }
}

/// What the stages after the object pass found, for the report.
struct Body {
    summaries: Vec<SecretSummary>,
    findings: Vec<Finding>,
    warnings: Vec<Warning>,
    remotes: Vec<crate::model::RemoteInfo>,
    /// Objects something names that the database lacks (see [`Missing::total`]).
    missing: u64,
}

/// The report from its parts: the repository, the secrets, findings and warnings, completeness, stats.
fn assemble(request: &Request<'_>, objects: &ObjectPass, body: Body, started: Instant) -> Report {
    let Request { repo, options, .. } = *request;
    let pass = &objects.pass;
    Report {
        format_version: crate::model::FORMAT_VERSION,
        tool: Tool::default(),
        command: options.command.to_string(),
        repository: repo.info(body.remotes),
        secrets: body.summaries,
        findings: body.findings,
        warnings: body.warnings,
        hygiene: Vec::new(),
        playbook: Vec::new(),
        local_copies: Vec::new(),
        verification: None,
        completeness: crate::model::Completeness::new(
            repo.shallow,
            repo.partial,
            pass.unreadable.len() as u64,
            body.missing,
        ),
        stats: Stats {
            objects: pass.objects,
            blobs: pass.blobs,
            commits: pass.commits.len() as u64,
            bytes: pass.bytes,
            unreadable_objects: pass.unreadable.len() as u64,
            elapsed_ms: started.elapsed().as_millis() as u64,
            enumerate_ms: objects.enumerated.as_millis() as u64,
            pass_ms: (objects.passed - objects.enumerated).as_millis() as u64,
        },
    }
}

/// The pass's searchers: the matcher, and (audit) the provider patterns, whole and as file names hold
/// them (`names`, made by the caller from the same patterns: [`PatternSet::in_names`]).
fn detectors<'a>(
    matcher: &'a Matcher,
    patterns: Option<&'a PatternSet>,
    names: Option<&'a InNames<'a>>,
) -> objects::Detectors<'a> {
    objects::Detectors {
        known: matcher,
        discover: patterns.map(|p| p as &dyn Detector),
        discover_names: names.map(|n| n as &dyn Detector),
    }
}

/// Takes the probe hits out of `pass` and lists, for each blob, commit and tag, where a probe or a
/// plain token (of the first `secrets` secrets) starts.
fn take_probe_sites(matcher: &Matcher, secrets: usize, pass: &mut PassResult) -> ProbeSites {
    let mut objects = Vec::new();
    for object in &mut pass.hits {
        let mut sites = Vec::new();
        let checked = object.kind != pack::ObjectKind::Tree;
        object.hits.retain(|hit| {
            if matcher.probe_of(hit.needle).is_some() {
                if checked {
                    sites.push(Site {
                        start: hit.start,
                        token: None,
                    });
                }
                return false;
            }
            let needle = matcher.needle(hit.needle);
            if checked && needle.encoding == Encoding::Plain {
                sites.push(Site {
                    start: hit.start,
                    token: Some(needle.secret),
                });
            }
            true
        });
        if !sites.is_empty() {
            objects.push((object.oid, sites));
        }
    }
    pass.hits.retain(|object| !object.hits.is_empty());
    ProbeSites {
        searched: (0..secrets).map(|i| matcher.searches_probe(i)).collect(),
        objects,
    }
}

/// Trees and parent commits that commits name, and objects that `tips` name, but the database lacks
/// (counted without reading any tree). A shallow clone's missing parents are its boundary, reported as
/// shallow instead.
fn missing_named(
    commits: &[objects::CommitRecord],
    tips: &[git::Tip],
    present: impl Fn(&Oid) -> bool,
    shallow: bool,
) -> Lacking {
    let count = |ids: &mut dyn Iterator<Item = Oid>| {
        let mut missing: Vec<Oid> = ids.filter(|t| !present(t)).collect();
        missing.sort();
        missing.dedup();
        missing.len()
    };
    Lacking {
        named_trees: count(&mut commits.iter().map(|c| c.tree)),
        parent_commits: if shallow {
            0
        } else {
            count(&mut commits.iter().flat_map(|c| c.parents.iter().copied()))
        },
        tips: count(&mut tips.iter().map(|tip| tip.target)),
        ..Lacking::default()
    }
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
