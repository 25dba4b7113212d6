//! `unleak setup`: store a token in `.env` safely (see `setup`): the value from a hidden prompt or one
//! line of piped stdin, never from an argument. Exit 1 when a step was left undone.

use crate::config::SetupConfig;
use crate::exit_codes::ExitCode;
use crate::setup::{self, Io};
use anyhow::{bail, Result};
use std::io::{BufRead, IsTerminal};

pub fn run(config: SetupConfig) -> Result<ExitCode> {
    if config.request.value_stdin && std::io::stdin().is_terminal() {
        bail!(
            "--value-stdin reads a pipe, and here stdin is a terminal that would show the token as you \
             type it; leave --value-stdin out to get a hidden prompt"
        );
    }
    let interactive = config.prompts.interactive();
    let mut prompter = config.prompts.prompter();
    let cwd = config.env.current_dir()?;
    let env = config.env.clone();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    // Lock stdin only to read the value from it: the hidden prompt reads stdin itself and would wait
    // forever on a lock held here.
    let mut piped: Box<dyn BufRead> = if config.request.value_stdin {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::empty())
    };
    let mut io = Io {
        out: &mut stdout.lock(),
        err: &mut stderr.lock(),
        stdin: &mut piped,
        prompter: prompter.as_mut(),
        interactive,
    };
    let steps_left = setup::setup(&config.request, &cwd, &env, &mut io)?;
    Ok(if steps_left {
        ExitCode::Found
    } else {
        ExitCode::Clean
    })
}
