//! One function per subcommand; each takes its resolved config and returns the exit code.

pub mod audit;
pub mod hook;
pub mod respond;
pub mod scan;
pub mod setup;
pub mod verify;

use crate::cli::{Cli, Command};
use crate::exit_codes::ExitCode;
use anyhow::Result;

pub fn run(cli: Cli) -> Result<ExitCode> {
    let globals = crate::config::Globals::resolve(&cli);
    match cli.command {
        Command::Scan(args) => scan::run(crate::config::ScanConfig::resolve(args, &globals)?),
        Command::Audit(args) => audit::run(args, &globals),
        Command::Respond(args) => {
            respond::run(crate::config::RespondConfig::resolve(args, &globals)?)
        }
        Command::Verify(args) => verify::run(args, &globals),
        Command::Setup(args) => setup::run(args, &globals),
        Command::Hook(args) => hook::run(args, &globals),
    }
}

/// Renders a finished report on stdout in the chosen format.
fn print_report(
    report: &crate::model::Report,
    format: crate::report::Format,
    color: bool,
) -> Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    crate::report::render(
        report,
        format,
        crate::report::human::Style { color },
        &mut out,
    )?;
    out.flush()?;
    Ok(())
}
