//! `audit --since`/`--range` (pull-request mode): what the commits of a range add, as a report in the
//! usual model.

use crate::git::Repo;
use crate::matching::patterns::PatternSet;
use crate::model::{self, Warning};
use crate::scan;
use crate::secret::Secret;
use anyhow::Result;

/// Pull-request mode: a report of what the commits of the range add, in the usual model (so exit codes,
/// baselines, allowlists, --verify and SARIF work as for a full audit). A finding is high when a
/// remote-tracking ref already holds its commit, else medium.
pub(super) fn range_report(
    repo: &Repo,
    exact: &[Secret],
    patterns: &PatternSet,
    since: Option<&str>,
    range: Option<&str>,
) -> Result<(model::Report, Vec<Secret>)> {
    let started = std::time::Instant::now();
    let commits = scan::staged::range_commits(repo, since, range)?;
    let marked = std::cell::Cell::new(0);
    let (found, discovered) =
        scan::staged::range_findings(repo, &commits, exact, patterns, false, &marked)?;
    let remote_tips: Vec<crate::git::Oid> = repo.remote_tracking_tips();
    let pushed = |commit: crate::git::Oid| {
        remote_tips
            .iter()
            .any(|&tip| tip == commit || repo.is_descendant(tip, commit))
    };
    let findings: Vec<model::Finding> = found
        .into_iter()
        .map(|f| {
            let is_pushed = pushed(f.commit);
            scan::findings::range_finding(f, is_pushed, patterns.rule_set())
        })
        .collect();
    let mut secrets: Vec<Secret> = exact.to_vec();
    secrets.extend(discovered);
    let summaries =
        scan::findings::range_summaries(exact, &secrets, patterns.rule_set(), &findings);
    let elapsed = started.elapsed().as_millis() as u64;
    let report = model::Report {
        format_version: model::FORMAT_VERSION,
        tool: Default::default(),
        command: "audit".to_string(),
        repository: repo.info(Vec::new()),
        secrets: summaries,
        findings,
        warnings: std::iter::once(Warning::new(
            "range",
            format!(
                "pull-request mode: only what {} commit(s) add was searched, not the whole history",
                commits.len()
            ),
        ))
        .chain((marked.get() > 0).then(|| {
            Warning::new(
                "inline-allow-in-range",
                format!(
                    "{} match(es) sit on lines marked `unleak:allow` and are reported anyway: a range audit does not honour markers the change under review adds; allow them in the base's .unleak.toml",
                    marked.get()
                ),
            )
        }))
        .collect(),
        hygiene: Vec::new(),
        playbook: Vec::new(),
        local_copies: Vec::new(),
        verification: None,
        // The range is the whole question here: history outside it (a shallow CI checkout's) is not
        // part of the answer, so only what the range could not read would make it incomplete.
        completeness: model::Completeness::new(false, repo.partial, 0, 0),
        stats: model::Stats {
            commits: commits.len() as u64,
            elapsed_ms: elapsed,
            ..Default::default()
        },
    };
    Ok((report, secrets))
}
