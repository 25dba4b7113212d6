//! Step 1, identify: the tokens to respond to, each shown redacted with its fingerprint, issuer and
//! source.

use super::request::{Io, Request};
use super::screen::heading;
use crate::git::Repo;
use crate::tokens;
use anyhow::Result;

/// Step 1: the tokens to respond to, each shown redacted with its fingerprint, issuer and source.
pub(super) fn identify(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
) -> Result<tokens::Collected> {
    heading(io, 1, "Identify the leaked token")?;
    let collected = tokens::collect(
        &request.tokens,
        &request.env,
        repo.workdir.as_deref(),
        io.stdin,
        io.prompter,
        io.interactive && !request.settings.dry_run,
    )?;
    for warning in &collected.warnings {
        writeln!(io.out, "  warning: {warning}")?;
    }
    for secret in &collected.secrets {
        let provider = secret.identify().map_or("unknown issuer", |(p, _)| p.name);
        writeln!(
            io.out,
            "  {}  {}  {}  (from {})",
            secret.redacted(),
            secret.fingerprint(),
            provider,
            secret.origin()
        )?;
    }
    Ok(collected)
}
