//! `unleak scan`: find known tokens everywhere in a repository.

use crate::config::ScanConfig;
use crate::exit_codes::ExitCode;
use crate::git::Repo;
use crate::model::Warning;
use crate::scan;
use crate::tokens;
use anyhow::Result;

pub fn run(config: ScanConfig) -> Result<ExitCode> {
    let repo = Repo::open(&config.repo)?;
    let interactive = config.globals.prompts.interactive();
    let mut prompter = config.globals.prompts.prompter();
    let collected = tokens::collect(
        &config.tokens,
        &config.globals.env,
        repo.workdir.as_deref(),
        // Not locked: a hidden prompt may need the terminal while this reader exists.
        &mut std::io::BufReader::new(std::io::stdin()),
        prompter.as_mut(),
        interactive,
    )?;
    let options = config.scope.scan_options("scan", config.globals.progress);
    let mut report = scan::run(&scan::Request::new(&repo, &collected.secrets, &options))?.report;
    let notes = scan::at_risk::only_in_source(&mut report, repo.workdir.as_deref());
    report.warnings.extend(notes);
    report.local_copies = crate::footprint::find(&repo, &collected.secrets, &config.places);
    for warning in collected.warnings {
        report
            .warnings
            .push(Warning::new("env-duplicate-key", warning));
    }
    report.completeness.accepted = config.scope.allow_incomplete && !report.completeness.complete;
    super::print_report(
        &report,
        crate::providers::Rules::builtin(),
        config.format,
        config.globals.color,
        config.output.as_deref(),
    )?;
    Ok(super::search_exit(
        report.found(),
        &report.completeness,
        config.exit_zero,
    ))
}
