//! `unleak setup`: store a token in `.env` safely. STUB, being completed.

use crate::cli::SetupArgs;
use crate::config::Globals;
use crate::exit_codes::ExitCode;
use anyhow::{bail, Result};

pub fn run(_args: SetupArgs, _globals: &Globals) -> Result<ExitCode> {
    bail!("unleak setup is not implemented yet")
}
