//! `unleak respond`: the guided playbook.

use crate::config::RespondConfig;
use crate::exit_codes::ExitCode;
use crate::playbook::{self, Io};
use crate::render::Format;
use crate::sanitize::TerminalWriter;
use anyhow::Result;
use std::io::Write;

pub fn run(config: RespondConfig) -> Result<ExitCode> {
    if config.format == Format::Sarif {
        anyhow::bail!("respond writes an incident record, not SARIF: use --format json, or `unleak audit --format sarif`");
    }
    let interactive = config.prompts.interactive();
    let mut prompter = config.prompts.prompter();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    // Paths, remote URLs and names from the API are untrusted: every narrative line is sanitized.
    let mut narrative: Box<dyn Write> = match config.format {
        Format::Human => Box::new(TerminalWriter::new(stdout.lock())),
        Format::Json | Format::Sarif => Box::new(TerminalWriter::new(stderr.lock())),
    };
    // Not locked for the whole run: the hidden prompt reads the terminal too, and would wait forever.
    let mut stdin = std::io::BufReader::new(std::io::stdin());
    let mut io = Io {
        prompter: prompter.as_mut(),
        out: narrative.as_mut(),
        stdin: &mut stdin,
        interactive,
    };
    let outcome = playbook::respond(&config.request, &mut io)?;
    narrative.flush()?;
    drop(narrative);
    if config.format == Format::Json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &outcome.record)?;
        writeln!(out)?;
    }
    Ok(if outcome.leaked && outcome.record.open_steps() > 0 {
        ExitCode::Found
    } else {
        ExitCode::Clean
    })
}
