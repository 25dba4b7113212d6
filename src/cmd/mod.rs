//! One function per subcommand; each takes its resolved config and returns the exit code.

pub(crate) mod audit;
mod completions;
pub(crate) mod hook;
mod man;
pub(crate) mod respond;
pub(crate) mod scan;
pub(crate) mod setup;
pub(crate) mod verify;

use crate::cli::{Cli, Command};
use crate::exit_codes::ExitCode;
use anyhow::Result;

pub(crate) fn run(cli: Cli) -> Result<ExitCode> {
    let globals = crate::config::Globals::resolve(&cli);
    match cli.command {
        Command::Scan(args) => scan::run(crate::config::ScanConfig::resolve(args, &globals)?),
        Command::Audit(args) => audit::run(crate::config::AuditConfig::resolve(args, &globals)?),
        Command::Respond(args) => {
            respond::run(crate::config::RespondConfig::resolve(args, &globals)?)
        }
        Command::Verify(args) => verify::run(crate::config::VerifyConfig::resolve(args, &globals)?),
        Command::Setup(args) => setup::run(crate::config::SetupConfig::resolve(args, &globals)?),
        Command::Hook(args) => hook::run(crate::config::HookConfig::resolve(args, &globals)?),
        Command::Completions { shell } => completions::run(shell),
        Command::Man { dir } => man::run(dir, globals.quiet),
    }
}

/// The search answer ([`ExitCode::for_search`]), with `--exit-zero` turning "found" into 0 for a CI step
/// that uploads the report. An incomplete search stays 2 (and errors never reach here: they exit 2).
fn search_exit(
    found: bool,
    completeness: &crate::model::Completeness,
    exit_zero: bool,
) -> ExitCode {
    match ExitCode::for_search(found, completeness.allows_clean()) {
        ExitCode::Found if exit_zero => ExitCode::Clean,
        code => code,
    }
}

/// Renders a finished report on stdout in the chosen format, or into `output` (`-o FILE`): rendered in
/// full first, then written to a temporary file beside it and renamed, so a reader (a CI upload step)
/// never sees half a report, and a failed run leaves the previous file as it was.
fn print_report(
    report: &crate::model::Report,
    rules: &crate::providers::Rules,
    format: crate::render::Format,
    color: bool,
    output: Option<&std::path::Path>,
) -> Result<()> {
    use std::io::Write;
    if let Some(path) = output {
        let mut bytes = Vec::new();
        crate::render::render(
            report,
            rules,
            format,
            crate::render::human::Style { color: false },
            &mut bytes,
        )?;
        return Ok(crate::util::fs::write_atomic(path, &bytes, &REPORT_FILE)?);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    crate::render::render(
        report,
        rules,
        format,
        crate::render::human::Style { color },
        &mut out,
    )?;
    out.flush()?;
    Ok(())
}

/// How a report or a man page is written: mode 0644 (it holds no secret value), atomically.
const REPORT_FILE: crate::util::fs::Atomic<'static> =
    crate::util::fs::Atomic::new(0o644, ".unleak-report-");
