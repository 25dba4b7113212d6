//! `unleak verify`: "am I safe now?" after a rewrite; exit 0 only when nothing carries the token. The
//! work is `verify::run`.

use crate::config::VerifyConfig;
use crate::exit_codes::ExitCode;
use crate::verify;
use anyhow::Result;

pub fn run(config: VerifyConfig) -> Result<ExitCode> {
    let interactive = config.globals.prompts.interactive();
    let mut prompter = config.globals.prompts.prompter();
    let outcome = verify::run(&config.request, prompter.as_mut(), interactive)?;
    super::print_report(
        &outcome.report,
        crate::providers::Rules::builtin(),
        config.format,
        config.globals.color,
        config.output.as_deref(),
    )?;
    if outcome.never_found > 0 && !outcome.found {
        return Ok(ExitCode::Unconfirmed);
    }
    Ok(super::search_exit(
        outcome.found,
        &outcome.report.completeness,
        config.exit_zero,
    ))
}
