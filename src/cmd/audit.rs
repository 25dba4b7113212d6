//! `unleak audit`: "has anything leaked here, and what would the playbook do?" without changing a thing.
//! No prompt, no write; the network only with `--verify` (read-only whoami). The work is `audit::run`.

use crate::audit;
use crate::config::AuditConfig;
use crate::exit_codes::ExitCode;
use anyhow::Result;

pub fn run(config: AuditConfig) -> Result<ExitCode> {
    let request = audit::Request {
        options: config.scope.scan_options("audit", config.globals.progress),
        allow_incomplete: config.scope.allow_incomplete,
        repo: config.repo,
        env_file: config.env_file,
        config: config.config,
        baseline: config.baseline,
        verify: config.verify,
        since: config.since,
        range: config.range,
        no_git: config.no_git,
        format: config.format,
        fail_on: config.fail_on,
        hf_endpoint: config.hf_endpoint,
        env: config.globals.env,
        spawner: config.globals.spawner,
        net: config.globals.net,
    };
    let outcome = audit::run(&request)?;
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
