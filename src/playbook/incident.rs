//! Step 7, the incident record: written where asked (or offered), remembered in the git dir, every
//! step left open given the command that finishes it, and the last screen.

use super::record::{self, IncidentRecord, StepStatus};
use super::request::{Io, Request};
use super::screen::{can_offer, heading, offer_file};
use crate::git::Repo;
use crate::issuers::huggingface;
use crate::providers;
use crate::util::fs::{write_atomic, Atomic};
use anyhow::Result;

/// Step 7: the incident record, written where asked (or offered), remembered in the git dir, and the
/// steps left undone.
pub(super) fn record_incident(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    record: &mut IncidentRecord,
) -> Result<()> {
    // First changed commits a rewrite already left here go in too.
    let common_dir = repo.common_dir();
    record.fill_first_changed(&[&repo.git_dir, &common_dir]);
    fill_next(request, record);
    let offer = request.settings.report.is_none() && can_offer(request, io);
    if request.settings.report.is_some() || offer {
        heading(io, 7, "Incident record")?;
    }
    let offered = match offer {
        true => offer_file(
            request,
            io,
            repo,
            "incident.md",
            "Write the incident record (Markdown, and JSON beside it; mode 0600) to",
        )?,
        false => None,
    };
    if let Some(path) = request.settings.report.as_ref().or(offered.as_ref()) {
        if request.settings.dry_run {
            writeln!(
                io.out,
                "  dry run: would write {} and {}.json",
                path.display(),
                path.display()
            )?;
        } else {
            write_record(record, path)?;
            writeln!(
                io.out,
                "  wrote {} and {}.json",
                path.display(),
                path.display()
            )?;
        }
    }
    if !request.settings.dry_run {
        match record::remember(&common_dir, record) {
            Ok(path) => writeln!(
                io.out,
                "  remembered in {} (fingerprints only): `unleak verify` with no token source checks the OLD token",
                path.display()
            )?,
            Err(err) => writeln!(
                io.out,
                "  warning: could not remember the incident in the git dir ({err:#}); verify with the command below"
            )?,
        }
    }
    summarize(io, record)
}

/// Gives every step left undone or only prepared the exact command that finishes it, where the step
/// did not set one itself.
fn fill_next(request: &Request, record: &mut IncidentRecord) {
    let settings = huggingface::page_on_endpoint(
        providers::HUGGING_FACE.revoke_url.unwrap_or_default(),
        &request.settings.hf_endpoint,
    );
    for step in record.steps.iter_mut() {
        if step.next.is_some()
            || !(step.status.is_open() || matches!(step.status, StepStatus::Prepared(_)))
        {
            continue;
        }
        let next = if matches!(step.status, StepStatus::WouldDo(_)) {
            "`unleak respond` without --dry-run".to_string()
        } else if step.step.starts_with("revoke") {
            format!("delete the token at its issuer (Hugging Face: {settings}), or `unleak respond --revoke api` again; then `unleak verify`")
        } else {
            let key = step
                .step
                .strip_prefix("re-create ")
                .or_else(|| step.step.strip_prefix("update .env "));
            match (step.step.as_str(), key) {
                ("re-create" | "update .env", _) => {
                    "create a new token, then `unleak setup` (stores it in .env, mode 0600)"
                        .to_string()
                }
                (_, Some(key)) => format!(
                    "create a new {key} at its issuer, then `unleak setup --key {key}` (stores it in .env, mode 0600)"
                ),
                ("rewrite history", _) => {
                    "`unleak respond --write-script rewrite.sh`, then `bash rewrite.sh`".to_string()
                }
                _ => "fix what is named above, then `unleak respond` again".to_string(),
            }
        };
        step.next = Some(next);
    }
}

/// The last screen: what was done, what was only prepared, what is left, each with its next command;
/// then how to check the OLD token is gone.
fn summarize(io: &mut Io<'_>, record: &IncidentRecord) -> Result<()> {
    let verify = record
        .verify_command
        .clone()
        .unwrap_or_else(|| "unleak verify".into());
    writeln!(io.out)?;
    let done: Vec<&str> = record
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Done))
        .map(|s| s.step.as_str())
        .collect();
    if !done.is_empty() {
        writeln!(io.out, "Done: {}.", done.join(", "))?;
    }
    let prepared: Vec<_> = record
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Prepared(_)))
        .collect();
    for step in &prepared {
        if let StepStatus::Prepared(what) = &step.status {
            writeln!(io.out, "Prepared, not done yet: {}: {what}.", step.step)?;
        }
        if let Some(next) = &step.next {
            writeln!(io.out, "  next: {next}")?;
        }
    }
    let open = record.open_steps();
    if open == 0 && prepared.is_empty() {
        writeln!(
            io.out,
            "All steps done. Check that the OLD token is gone: `{verify}`"
        )?;
        return Ok(());
    }
    if open > 0 {
        writeln!(io.out, "{open} step(s) left undone:")?;
        for step in record.steps.iter().filter(|s| s.status.is_open()) {
            let why = match &step.status {
                StepStatus::WouldDo(why) => format!("dry run: would {why}"),
                StepStatus::Skipped(why) | StepStatus::Failed(why) => why.clone(),
                StepStatus::Done | StepStatus::NotNeeded(_) | StepStatus::Prepared(_) => {
                    String::new()
                }
            };
            writeln!(io.out, "  - {}: {why}", step.step)?;
            if let Some(next) = &step.next {
                writeln!(io.out, "    next: {next}")?;
            }
        }
    }
    let when = if prepared.is_empty()
        && !record
            .steps
            .iter()
            .any(|s| s.step == "rewrite history" && s.status.is_open())
    {
        "Then"
    } else {
        "After the rewrite"
    };
    writeln!(
        io.out,
        "{when}, check that the OLD token is gone: `{verify}`"
    )?;
    Ok(())
}

/// Writes the record as Markdown and JSON, private (0600): it names the repository and its history.
pub(super) fn write_record(record: &IncidentRecord, path: &std::path::Path) -> Result<()> {
    let json_path = std::path::PathBuf::from(format!("{}.json", path.display()));
    let private = Atomic::new(0o600, ".unleak-record-");
    write_atomic(path, record.to_markdown().as_bytes(), &private)?;
    write_atomic(
        &json_path,
        serde_json::to_string_pretty(record)?.as_bytes(),
        &private,
    )?;
    Ok(())
}
