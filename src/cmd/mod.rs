//! One function per subcommand; each takes its resolved config and returns the exit code.

pub(crate) mod audit;
pub mod hook;
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
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            // Rendered first: clap_complete panics on a write error (`unleak completions bash | head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "unleak", &mut script);
            let mut out = std::io::stdout().lock();
            std::io::Write::write_all(&mut out, &script)?;
            std::io::Write::flush(&mut out)?;
            Ok(ExitCode::Clean)
        }
        Command::Man { dir } => {
            let command = <Cli as clap::CommandFactory>::command();
            match dir {
                Some(dir) => man_pages(command, &dir, globals.quiet)?,
                None => {
                    let mut out = std::io::stdout().lock();
                    clap_mangen::Man::new(command).render(&mut out)?;
                    std::io::Write::flush(&mut out)?;
                }
            }
            Ok(ExitCode::Clean)
        }
    }
}

/// `unleak man --dir DIR`: one page per command, named as the pages refer to each other (unleak.1 lists
/// unleak-scan(1), unleak-hook.1 lists unleak-hook-install(1), ...), so no reference dangles. Each page
/// is rendered in full, then written atomically.
fn man_pages(command: clap::Command, dir: &std::path::Path, quiet: bool) -> Result<()> {
    use anyhow::Context;
    fn pages(command: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            pages(sub.clone(), out)?;
        }
        let man = clap_mangen::Man::new(command);
        let mut bytes = Vec::new();
        man.render(&mut bytes)?;
        out.push((man.get_filename(), bytes));
        Ok(())
    }
    // As clap_mangen's generate_to: no `help` pseudo-command, and built, so a nested command's name
    // is its whole path (unleak-hook-install).
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let mut rendered = Vec::new();
    pages(command, &mut rendered)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    rendered.sort();
    for (name, bytes) in &rendered {
        crate::util::fs::write_atomic(&dir.join(name), bytes, &REPORT_FILE)?;
    }
    if !quiet {
        let mut out = std::io::stdout().lock();
        std::io::Write::write_all(
            &mut out,
            format!(
                "Wrote {} man pages to {} (unleak.1 and one per subcommand). In a man1 folder on \
                 MANPATH (e.g. ~/.local/share/man/man1) `man unleak-scan` finds them; `man -l FILE` \
                 reads one anywhere.\n",
                rendered.len(),
                crate::sanitize::for_terminal(&dir.display().to_string())
            )
            .as_bytes(),
        )?;
    }
    Ok(())
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
    format: crate::report::Format,
    color: bool,
    output: Option<&std::path::Path>,
) -> Result<()> {
    use std::io::Write;
    if let Some(path) = output {
        let mut bytes = Vec::new();
        crate::report::render(
            report,
            format,
            crate::report::human::Style { color: false },
            &mut bytes,
        )?;
        return Ok(crate::util::fs::write_atomic(path, &bytes, &REPORT_FILE)?);
    }
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

/// How a report or a man page is written: mode 0644 (it holds no secret value), atomically.
const REPORT_FILE: crate::util::fs::Atomic<'static> =
    crate::util::fs::Atomic::new(0o644, ".unleak-report-");
