//! `audit --no-git PATH...`: files on disk (or stdin) as a report in the usual model.

use crate::matching::patterns::PatternSet;
use crate::model::{self, Warning};
use crate::scan;
use crate::secret::Secret;
use anyhow::Result;
use std::path::Path;

/// The report of files on disk, in the usual model: a finding per token and place, summaries per token.
pub(super) fn files_report(
    paths: &[std::path::PathBuf],
    exact: &[Secret],
    patterns: &PatternSet,
    env_source: Option<&Path>,
) -> Result<(model::Report, Vec<Secret>)> {
    let started = std::time::Instant::now();
    let mut inputs = scan::files::list(paths, env_source)?;
    let found =
        scan::staged::file_findings(&inputs.files, &mut std::io::stdin().lock(), exact, patterns);
    // Inputs that failed as they were read are unreadable, as those that failed as they were listed.
    let searched = inputs.files.len() - found.unreadable.len();
    inputs.unreadable.extend(found.unreadable);
    let discovered = found.values;
    let findings: Vec<model::Finding> = found
        .findings
        .into_iter()
        .map(scan::findings::file_finding)
        .collect();
    let mut secrets: Vec<Secret> = exact.to_vec();
    secrets.extend(discovered);
    let summaries =
        scan::findings::range_summaries(exact, &secrets, patterns.rule_set(), &findings);
    let mut warnings = vec![Warning::new(
        "no-git",
        format!(
            "files on disk were searched ({} file(s)), not a repository's history: run `unleak audit` \
             in the repository for what its commits hold",
            searched
        ),
    )];
    if inputs.links > 0 {
        warnings.push(Warning::new(
            "symlink",
            format!(
                "{} symbolic link(s) were not followed (their targets are searched where they are)",
                inputs.links
            ),
        ));
    }
    if inputs.special > 0 {
        warnings.push(Warning::new(
            "special-file",
            format!(
                "{} FIFO(s), socket(s) or device(s) in the folders were not read (git keeps none of them)",
                inputs.special
            ),
        ));
    }
    let unreadable = inputs.unreadable.len() as u64;
    let completeness = model::Completeness {
        complete: unreadable == 0,
        unreadable_objects: unreadable,
        reasons: inputs
            .unreadable
            .iter()
            .map(|why| format!("cannot read {why}"))
            .collect(),
        ..model::Completeness::default()
    };
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let report = model::Report {
        format_version: model::FORMAT_VERSION,
        tool: Default::default(),
        command: "audit".to_string(),
        repository: model::RepositoryInfo {
            path: shown.join(" "),
            bare: false,
            shallow: false,
            partial: false,
            head: None,
            remotes: Vec::new(),
        },
        secrets: summaries,
        findings,
        warnings,
        hygiene: Vec::new(),
        playbook: Vec::new(),
        verification: None,
        completeness,
        local_copies: Vec::new(),
        stats: model::Stats {
            objects: searched as u64,
            blobs: searched as u64,
            bytes: found.bytes,
            unreadable_objects: unreadable,
            elapsed_ms: started.elapsed().as_millis() as u64,
            ..model::Stats::default()
        },
    };
    Ok((report, secrets))
}
