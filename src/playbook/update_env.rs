//! Step 5, update `.env`: the new token written in place (atomic, 0600) under its key, and the hygiene
//! around the file (ignore rule, untracking, shell variables that would override it, remote URLs).

use super::exposure::fix_remote_urls;
use super::record::{IncidentRecord, StepStatus};
use super::recreate::Rotation;
use super::request::{Io, Request};
use super::screen::heading;
use crate::git::Repo;
use crate::secret::Secret;
use crate::tokens;
use crate::util::time::now_rfc3339;
use crate::{dotenv, hygiene};
use anyhow::Result;

/// Step 5: the new token into `.env` in place (atomic, 0600), and the hygiene around it (ignore rule,
/// untracking, shell variables that would override it).
pub(super) fn update_env(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    leaked: &[Secret],
    rotation: &Rotation<'_>,
    new_token: Option<&Secret>,
    record: &mut IncidentRecord,
) -> Result<()> {
    heading(io, 5, "Update .env")?;
    let step = rotation.step("update .env");
    let step = step.as_str();
    let Some(path) =
        tokens::default_env_path(request.tokens.env_file.as_deref(), repo.workdir.as_deref())
    else {
        writeln!(
            io.out,
            "  A bare repository has no .env; update the file your scripts load by hand."
        )?;
        record.step(
            step,
            StepStatus::NotNeeded("bare repository".into()),
            vec![],
        );
        return Ok(());
    };
    let key = rotation.key.clone();
    let shown = path.display().to_string();
    let current = if path.exists() {
        dotenv::read(&path)?
    } else {
        dotenv::DotEnv::parse(b"")
    };
    // Compare the environment with the value the file will hold (the old one when nothing is written).
    // The file's hygiene (ignore, untrack) is the first key's step; later keys say only their own.
    let file_level = !rotation.several || rotation.first;
    let (hygiene, mut notes) = env_hygiene(
        request,
        io,
        &path,
        &key,
        new_token.unwrap_or(rotation.old),
        file_level,
    )?;
    let Some(new_token) = new_token else {
        let status = would_update_env(request, io, &key, &shown, &hygiene.actions)?;
        record.step(step, status, notes);
        return Ok(());
    };
    if !request.settings.yes
        && !io.prompter.confirm(
            &format!("Write the new token to {shown} ({key})?"),
            true,
            "--yes",
        )?
    {
        record.step(step, StepStatus::Skipped("declined".into()), notes);
        return Ok(());
    }
    let mut edited = current.clone();
    if let Err(err) = edited.set(&key, new_token.expose()) {
        writeln!(io.out, "  cannot set {key}: {err}. Edit {shown} by hand.")?;
        record.step(step, StepStatus::Failed(err.to_string()), notes);
        return Ok(());
    }
    let bytes = zeroize::Zeroizing::new(edited.to_bytes());
    let outcome = dotenv::write_private(&path, &bytes, request.settings.backup)?;
    record.replaced_by.push(new_token.fingerprint());
    tell_env_written(io, &outcome, &key, &shown, new_token, &mut notes)?;
    // With several keys, the others' old values are still there until their own step 5.
    let left = if rotation.several {
        std::slice::from_ref(rotation.old)
    } else {
        leaked
    };
    warn_leaked_left(io, &bytes, left, &shown, &mut notes)?;
    apply_hygiene(request, io, &hygiene.actions, &mut notes)?;
    fix_remote_urls(request, io, repo, leaked, &mut notes)?;
    record.event(
        now_rfc3339(),
        format!("{shown} updated with {}", new_token.redacted()),
    );
    record.step(step, StepStatus::Done, notes);
    Ok(())
}

/// The hygiene plan around `.env` (ignore rule, untracking, shell variables that would override it),
/// comparing the environment with `value`; its warnings are shown and become the step's first notes.
/// Without `file_level` (a later key of several), only what concerns this key.
fn env_hygiene(
    request: &Request,
    io: &mut Io<'_>,
    path: &std::path::Path,
    key: &str,
    value: &Secret,
    file_level: bool,
) -> Result<(hygiene::Plan, Vec<String>)> {
    let mut hygiene = hygiene::plan(path, key, value.expose(), &request.env, &request.spawner)?;
    if !file_level {
        // Said (and done) once, at the first key of the file; what is about this key is kept.
        hygiene.actions.clear();
        hygiene
            .warnings
            .retain(|w| matches!(w, hygiene::Warning::EnvironmentOverrides { .. }));
    }
    let mut notes = Vec::new();
    for warning in &hygiene.warnings {
        writeln!(io.out, "  warning: {warning}")?;
        notes.push(format!("warning: {warning}"));
    }
    Ok((hygiene, notes))
}

/// Step 5 without a new token (a dry run, or none was made): says what would be written and done, and
/// returns the step's status.
fn would_update_env(
    request: &Request,
    io: &mut Io<'_>,
    key: &str,
    shown: &str,
    actions: &[hygiene::Action],
) -> Result<StepStatus> {
    let what = format!("set {key} in {shown} to the new token (atomic write, mode 0600)");
    writeln!(
        io.out,
        "  {}: would {what}",
        if request.settings.dry_run {
            "dry run"
        } else {
            "no new token"
        }
    )?;
    for action in actions {
        writeln!(io.out, "  {}", action.describe(false))?;
    }
    Ok(if request.settings.dry_run {
        StepStatus::WouldDo(what)
    } else {
        StepStatus::Skipped("no new token".into())
    })
}

/// Says what writing `.env` did: the new token's redaction, an old mode that let others read the old
/// token, the backup that still holds it.
fn tell_env_written(
    io: &mut Io<'_>,
    outcome: &dotenv::WriteOutcome,
    key: &str,
    shown: &str,
    new_token: &Secret,
    notes: &mut Vec<String>,
) -> Result<()> {
    writeln!(
        io.out,
        "  {key} in {shown} now holds {} (mode 0600, written atomically).",
        new_token.redacted()
    )?;
    if outcome.old_exposed {
        let mode = outcome
            .old_mode
            .map_or(String::new(), |m| format!(" ({:o})", m & 0o777));
        writeln!(io.out, "  warning: the old file was readable by other users{mode}: they may have read the old token.")?;
        notes.push("the old .env was readable by other users".into());
    }
    if let Some(backup) = &outcome.backup {
        writeln!(
            io.out,
            "  backup of the old file (holds the OLD token; delete it when done): {}",
            backup.display()
        )?;
    }
    Ok(())
}

/// Other keys may still hold a leaked value (a duplicate under another name): each is warned about.
fn warn_leaked_left(
    io: &mut Io<'_>,
    bytes: &[u8],
    leaked: &[Secret],
    shown: &str,
    notes: &mut Vec<String>,
) -> Result<()> {
    let after = dotenv::DotEnv::parse(bytes);
    for (other, value) in after.entries() {
        if leaked.iter().any(|s| s.expose() == value) {
            writeln!(
                io.out,
                "  warning: {other} in {shown} still holds a leaked token; replace or remove it."
            )?;
            notes.push(format!("warning: {other} still holds a leaked token"));
        }
    }
    Ok(())
}

/// Applies the hygiene actions around `.env` (ignore rule, untracking), each asked first when it needs
/// consent; what was done or declined goes into the step's notes.
fn apply_hygiene(
    request: &Request,
    io: &mut Io<'_>,
    actions: &[hygiene::Action],
    notes: &mut Vec<String>,
) -> Result<()> {
    for action in actions {
        let consent = !action.needs_consent()
            || request.settings.yes
            || io
                .prompter
                .confirm(&consent_question(action), true, "--yes")?;
        if !consent {
            writeln!(io.out, "  left as is: {}", action.describe(false))?;
            notes.push(format!("declined: {}", action.describe(false)));
            continue;
        }
        for follow_up in hygiene::apply(action, &request.spawner)? {
            writeln!(io.out, "  warning: {follow_up}")?;
        }
        writeln!(io.out, "  {}", action.describe(true))?;
        notes.push(action.describe(true));
    }
    Ok(())
}

/// "would remove .env from the git index…" as a question: "Remove .env from the git index…?"
fn consent_question(action: &hygiene::Action) -> String {
    let text = action.describe(false);
    let text = text.strip_prefix("would ").unwrap_or(&text);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}?", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}
