//! `unleak completions SHELL`: the shell completion script, on stdout.

use crate::cli::Cli;
use crate::exit_codes::ExitCode;
use anyhow::Result;

pub(crate) fn run(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut command = <Cli as clap::CommandFactory>::command();
    // Rendered first: clap_complete panics on a write error (`unleak completions bash | head`).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "unleak", &mut script);
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, &script)?;
    std::io::Write::flush(&mut out)?;
    Ok(ExitCode::Clean)
}
