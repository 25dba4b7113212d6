//! The guided leaked-token playbook, as `unleak respond` runs it: identify, exposure, revoke, re-create,
//! update `.env`, rewrite plan, incident record. Each step shows what it found or will do, asks before it
//! changes anything (through [`Prompter`](crate::prompt::Prompter), so tests script answers), and records
//! how it ended. A dry run walks the same code and records "would" instead of acting.
//!
//! This file is the order of the steps and nothing else. Each step is a file of its own (`identify`,
//! `exposure`, `revoke`, `recreate`, `update_env`, `rewrite`, `incident`); what they all read is in
//! `request` (the plain-value [`Request`] and the [`Io`] it talks through) and `record` (the incident
//! record each step adds to); what they share on screen is in `screen`. Those three import no step, and
//! a step imports only from an earlier step (`rewrite` reads `exposure`'s findings, `update_env` its
//! remote-URL fix and `recreate`'s rotation), never this file.

mod exposure;
mod identify;
mod incident;
pub mod record;
mod recreate;
mod request;
mod revoke;
pub mod rewrite;
mod screen;
mod update_env;

pub use request::{Io, NewTokenSource, Request, RevokeMethod, Settings};
pub use rewrite::binary_blobs;

use crate::git::Repo;
use crate::util::time::now_rfc3339;
use anyhow::{bail, Result};
use exposure::exposure;
use identify::identify;
use incident::{record_incident, write_record};
use record::{IncidentRecord, StepStatus};
use recreate::{recreate, rotations};
use revoke::revoke_leaked;
use rewrite::rewrite_plan;
use update_env::update_env;

/// The outcome of a run: the record, and whether steps were left undone.
pub struct Outcome {
    /// Every step and how it ended.
    pub record: IncidentRecord,
    /// Whether any token was found in the repository.
    pub leaked: bool,
}

/// Runs the whole playbook.
///
/// With `--report`, the record is written on every exit path: when a step fails (an API timeout, a
/// refused write), what was done until then is written, with the error, before the error is returned.
pub fn respond(request: &Request, io: &mut Io<'_>) -> Result<Outcome> {
    let mut partial = None;
    let result = respond_recorded(request, io, &mut partial);
    if let (Err(err), Some(mut record), Some(path)) = (&result, partial, &request.settings.report) {
        if !request.settings.dry_run {
            let why = crate::sanitize::for_record(&format!("{err:#}"));
            record.event(now_rfc3339(), format!("stopped by an error: {why}"));
            record.step("stopped", StepStatus::Failed(why), vec![]);
            match write_record(&record, path) {
                Ok(()) => writeln!(
                    io.out,
                    "\n  The run stopped; wrote what was done to {} and {}.json",
                    path.display(),
                    path.display()
                )?,
                Err(write_err) => writeln!(
                    io.out,
                    "\n  warning: could not write the incident record: {write_err:#}"
                )?,
            }
        }
    }
    result
}

/// The playbook; `partial` holds the record as it grows, so [`respond`] can write it if a step fails.
fn respond_recorded(
    request: &Request,
    io: &mut Io<'_>,
    partial: &mut Option<IncidentRecord>,
) -> Result<Outcome> {
    let repo = Repo::open(&request.repo)?;
    preflight(request, io)?;
    let now = now_rfc3339();
    let repo_path = repo.shown_path().to_string();
    let record = partial.insert(IncidentRecord::new(repo_path, request.settings.dry_run));

    // The seven steps of docs/playbook.md, each one unit: what it needs in, what it hands on.
    let collected = identify(request, io, &repo)?; // 1. which tokens
    let Some(exposure) = exposure(request, io, &repo, collected.secrets, &now, record)? else {
        // 2. where they are; nothing leaked here ends the run
        return Ok(Outcome {
            record: partial.take().expect("set above"),
            leaked: false,
        });
    };
    let leaked = &exposure.leaked;
    let rotations = rotations(request, &repo, leaked);
    // A new value named for a key that holds no leaked token would be silently unused: say so before
    // anything is revoked or written.
    for (key, _) in &request.settings.new_tokens {
        if !rotations.iter().any(|r| r.key == *key) {
            let keys: Vec<&str> = rotations.iter().map(|r| r.key.as_str()).collect();
            bail!(
                "--new-token-env {key}=…: no leaked token is kept under {key} (the keys to rotate: {}). \
                 Nothing was changed.",
                keys.join(", ")
            );
        }
    }
    let hf = revoke_leaked(request, io, leaked, record)?; // 3. revoke each
    for rotation in rotations {
        let new_token = recreate(request, io, hf.as_ref(), leaked, &rotation, record)?; // 4. new
        update_env(
            request,
            io,
            &repo,
            leaked,
            &rotation,
            new_token.as_ref(),
            record,
        )?; // 5. .env
    }
    rewrite_plan(request, io, &repo, &exposure, record)?; // 6. history
    record_incident(request, io, &repo, record)?; // 7. the record, and what is left
    Ok(Outcome {
        record: partial.take().expect("set above"),
        leaked: true,
    })
}

/// Without a terminal, every question needs a flag: find out before anything changes.
fn preflight(request: &Request, io: &Io<'_>) -> Result<()> {
    // A named variable that holds nothing is a missing answer too, found before the revoke step acts.
    let named = request.settings.new_tokens.iter().map(|(_, var)| var);
    let plain = match &request.settings.new_token {
        NewTokenSource::Env(name) => Some(name),
        _ => None,
    };
    for name in plain.into_iter().chain(named) {
        if !request.settings.dry_run && request.env.secret(name).is_none_or(|v| v.trim().is_empty())
        {
            bail!("--new-token-env: {name} is not set (or empty). Nothing was changed.");
        }
    }
    if io.interactive || request.settings.dry_run {
        return Ok(());
    }
    let mut missing = Vec::new();
    if request.settings.revoke.is_none() && !request.settings.yes {
        missing.push("--revoke api|browser|skip (or --yes)");
    }
    if request.settings.new_token == NewTokenSource::Prompt
        && request.settings.new_tokens.is_empty()
    {
        missing.push("--new-token-env NAME or --new-token-stdin");
    }
    if !request.settings.yes {
        missing.push("--yes (to consent to writing .env)");
    }
    if request.settings.new_token == NewTokenSource::Stdin && request.tokens.stdin {
        bail!(
            "--token-stdin and --new-token-stdin cannot both read stdin; use --new-token-env NAME"
        );
    }
    if !missing.is_empty() {
        bail!(
            "no terminal to ask on, and no answer given for: {}. Nothing was changed.",
            missing.join("; ")
        );
    }
    Ok(())
}
