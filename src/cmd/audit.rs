//! `unleak audit`: "has anything leaked here, and what would the playbook do?" without changing a thing.
//! No prompt, no write; the network only with `--verify` (read-only whoami). The work is `audit::run`.

use crate::audit;
use crate::config::AuditConfig;
use crate::exit_codes::ExitCode;
use anyhow::Result;

pub fn run(config: AuditConfig) -> Result<ExitCode> {
    let outcome = audit::run(&config.request)?;
    super::print_report(
        &outcome.report,
        &outcome.rules,
        outcome.format,
        config.globals.color,
        config.output.as_deref(),
    )?;
    Ok(super::search_exit(
        outcome.fails,
        &outcome.report.completeness,
        config.exit_zero,
    ))
}
