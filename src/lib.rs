//! unleak: find a leaked API token in all of a git repository's history, then walk through the
//! leaked-token playbook (revoke, re-create, update `.env`, rewrite history, verify).
//!
//! Data flows one way: `cli` (what was typed) -> `config` (what we will do) -> `scan` (object database pass
//! and provenance) -> `model` (one report model) -> `render` (its renderers) -> commands that render or plan.

#![warn(missing_docs)]

pub mod allowlist;
pub(crate) mod audit;
pub mod child;
pub mod cli;
pub mod cmd;
pub(crate) mod config;
pub mod dotenv;
pub mod environment;
pub(crate) mod exit_codes;
pub mod filter_repo;
pub mod footprint;
pub mod git;
pub mod hook;
pub(crate) mod hygiene;
pub(crate) mod issuers;
pub mod matching;
pub mod model;
pub mod playbook;
pub mod prompt;
pub mod providers;
pub mod render;
pub(crate) mod sanitize;
pub mod scan;
pub mod secret;
pub(crate) mod setup;
pub(crate) mod tokens;
pub mod util;
pub(crate) mod verify;

use clap::Parser;
use exit_codes::ExitCode;
use std::ffi::OsString;

/// Parses arguments and runs the command; errors become exit code 2 with a message on stderr.
pub fn run_from_args(args: impl IntoIterator<Item = OsString>) -> std::process::ExitCode {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version are not errors; everything else clap rejects is a usage error (2).
            if !err.use_stderr() {
                let _ = err.print();
                return ExitCode::Clean.into();
            }
            // clap quotes the offending value back ("invalid value 'hf_…' for '--color'"): a token
            // pasted into the wrong place must not reach the screen, so the message is scrubbed (and
            // printed without clap's colors).
            eprint!(
                "{}",
                sanitize::for_terminal_lines(&err.render().to_string())
            );
            return ExitCode::Error.into();
        }
    };
    match cmd::run(cli) {
        Ok(code) => code.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::Clean.into();
            }
            eprintln!(
                "unleak: error: {}",
                sanitize::for_terminal(&plain_error(&err))
            );
            ExitCode::Error.into()
        }
    }
}

/// A closed pipe (`unleak scan | head`) is the reader's choice, not our failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error chain as `{:#}` prints it, but in plain words: libgit2's errors end in
/// `; class=Config (7); code=NotFound (-3)`, which says nothing to a user; its message alone does.
fn plain_error(err: &anyhow::Error) -> String {
    err.chain()
        .map(|cause| git::plain_message(cause).unwrap_or_else(|| cause.to_string()))
        .collect::<Vec<_>>()
        .join(": ")
}
