//! The revoke step for tokens that are not Hugging Face's: GitHub's through its public revoke endpoint
//! (confirmed with `GET /user` answering 401), every other issuer's by hand at its revoke page with what
//! to check from the provider data, and a read-only liveness check where the issuer documents one. Once a
//! token is confirmed dead, the user may add its fingerprint to `.unleak.toml` ("revoked <date>").

use super::github_api::{GithubApi, RevokeAnswer};
use super::record::{IncidentRecord, StepStatus};
use super::{open_browser, Io, Request, RevokeMethod};
use crate::liveness::{Checker, Liveness, Unknown};
use crate::providers::{Pattern, Provider};
use crate::secret::Secret;
use crate::util::time::now_rfc3339;
use anyhow::{Context, Result};
use std::path::Path;

/// Revokes a GitHub token through the public endpoint, or explains how by hand.
pub(super) fn github(
    request: &Request,
    io: &mut Io<'_>,
    api: Option<&GithubApi>,
    secret: &Secret,
    settings: &str,
    record: &mut IncidentRecord,
) -> Result<()> {
    let step = format!("revoke {}", secret.redacted());
    let Some(api) = api else {
        writeln!(
            io.out,
            "  offline: not revoked and not checked. Revoke it at {settings}."
        )?;
        record.step(
            &step,
            StepStatus::Skipped("offline: revocation not done or checked".into()),
            vec![],
        );
        return Ok(());
    };
    match api.user(secret) {
        Liveness::Dead { detail } => {
            writeln!(
                io.out,
                "  {} is already dead ({detail}).",
                secret.redacted()
            )?;
            record.event(
                now_rfc3339(),
                format!("{} confirmed dead", secret.redacted()),
            );
            record.step(
                &step,
                StepStatus::NotNeeded("already revoked".into()),
                vec![],
            );
            return offer_allowlist(request, io, secret, record);
        }
        Liveness::Live { owner, .. } => writeln!(
            io.out,
            "  It is LIVE: it works for GitHub user {}.",
            owner.as_deref().unwrap_or("?")
        )?,
        unknown => writeln!(
            io.out,
            "  Could not check it ({}); treating it as live.",
            unknown.reason()
        )?,
    }
    let method = choose(
        request,
        io,
        "Revoke now with GitHub's public revoke endpoint (recommended; the owner is notified)",
    )?;
    match method {
        RevokeMethod::Skip => {
            writeln!(
                io.out,
                "  Skipped. The token may still work: revoke it at {settings}."
            )?;
            record.step(
                &step,
                StepStatus::Skipped("skipped by the user".into()),
                vec![],
            );
            return Ok(());
        }
        RevokeMethod::Api if request.settings.dry_run => {
            writeln!(
                io.out,
                "  dry run: would POST {}/credentials/revoke (unauthenticated), then confirm with GET /user (401).",
                api.base()
            )?;
            record.step(
                &step,
                StepStatus::WouldDo("revoke through GitHub's revoke endpoint".into()),
                vec![],
            );
            return Ok(());
        }
        RevokeMethod::Api => {
            let answer = api.revoke(&[secret])?.into_iter().next();
            let failed = match answer {
                Some(RevokeAnswer::Accepted) => {
                    writeln!(
                        io.out,
                        "  GitHub accepted the revocation (202); the owner is notified."
                    )?;
                    None
                }
                Some(RevokeAnswer::Rejected) => Some(
                    "GitHub refused the request (422: validation failed, or too many requests)"
                        .to_string(),
                ),
                Some(RevokeAnswer::RateLimited) => Some(
                    "GitHub's revoke endpoint is rate limited (60 requests an hour)".to_string(),
                ),
                Some(RevokeAnswer::Other(code)) => {
                    Some(format!("GitHub's revoke endpoint answered {code}"))
                }
                None => Some("no answer".to_string()),
            };
            if let Some(why) = failed {
                writeln!(io.out, "  NOT revoked: {why}. Revoke it at {settings}.")?;
                record.step(&step, StepStatus::Failed(why), vec![]);
                return Ok(());
            }
        }
        RevokeMethod::Browser if request.settings.dry_run => {
            writeln!(io.out, "  dry run: would open {settings} and wait.")?;
            record.step(
                &step,
                StepStatus::WouldDo(format!("revoke by hand at {settings}")),
                vec![],
            );
            return Ok(());
        }
        RevokeMethod::Browser => {
            writeln!(
                io.out,
                "  Open {settings}, find the token ending in the characters shown above, and delete it."
            )?;
            open_browser(settings);
            if !request.settings.yes && !io.prompter.confirm("Done deleting it?", true, "--yes")? {
                record.step(&step, StepStatus::Skipped("not deleted yet".into()), vec![]);
                return Ok(());
            }
        }
    }
    // Confirm: the endpoint says nothing about whether the token existed; /user must now answer 401.
    let mut status = api.user(secret);
    if matches!(status, Liveness::Live { .. }) {
        std::thread::sleep(std::time::Duration::from_secs(2));
        status = api.user(secret);
    }
    match status {
        Liveness::Dead { detail } => {
            writeln!(io.out, "  Confirmed: the old token is dead ({detail}).")?;
            record.event(
                now_rfc3339(),
                format!("revocation of {} confirmed", secret.redacted()),
            );
            record.step(&step, StepStatus::Done, vec![]);
            offer_allowlist(request, io, secret, record)?;
        }
        Liveness::Live { detail, .. } => {
            writeln!(
                io.out,
                "  NOT confirmed: the token still works ({detail}). Revoke it at {settings}."
            )?;
            record.step(
                &step,
                StepStatus::Failed("the old token still works".into()),
                vec![],
            );
        }
        unknown => {
            writeln!(
                io.out,
                "  Could not confirm ({}). Check later with `unleak audit --verify`.",
                unknown.reason()
            )?;
            record.step(
                &step,
                StepStatus::Failed(format!("revocation not confirmed: {}", unknown.reason())),
                vec![],
            );
        }
    }
    Ok(())
}

/// Any other issuer: where to revoke it and what to check, and whether it still works when the issuer
/// documents a read-only check.
pub(super) fn by_hand(
    request: &Request,
    io: &mut Io<'_>,
    provider: &Provider,
    pattern: &Pattern,
    secret: &Secret,
    record: &mut IncidentRecord,
) -> Result<()> {
    let step = format!("revoke {}", secret.redacted());
    let settings = provider.revoke_url.unwrap_or("the issuer's settings page");
    let checker = Checker::new(request.settings.offline);
    let liveness = checker.check(secret)?;
    match &liveness {
        Liveness::Dead { detail } => {
            writeln!(
                io.out,
                "  {} ({}) is already dead ({detail}).",
                secret.redacted(),
                provider.name
            )?;
            record.event(
                now_rfc3339(),
                format!("{} confirmed dead", secret.redacted()),
            );
            record.step(
                &step,
                StepStatus::NotNeeded("already revoked".into()),
                vec![],
            );
            return offer_allowlist(request, io, secret, record);
        }
        Liveness::Live { owner, detail } => writeln!(
            io.out,
            "  {} ({}) is LIVE ({detail}{}).",
            secret.redacted(),
            provider.name,
            owner
                .as_deref()
                .map(|o| format!(", owner {o}"))
                .unwrap_or_default()
        )?,
        Liveness::Unknown { reason, .. } => {
            let why = liveness.reason();
            match reason {
                Unknown::NoCheck | Unknown::Offline => writeln!(
                    io.out,
                    "  {} ({}): liveness not checked ({why}).",
                    secret.redacted(),
                    provider.name
                )?,
                _ => writeln!(
                    io.out,
                    "  {} ({}): could not tell whether it works ({why}).",
                    secret.redacted(),
                    provider.name
                )?,
            }
        }
    }
    writeln!(
        io.out,
        "  {} has no revoke API unleak can call: revoke it at {settings}.",
        provider.name
    )?;
    writeln!(io.out, "  What to do and check: {}", pattern.help)?;
    record.step(
        &step,
        StepStatus::Skipped(format!("revoke by hand at {settings}")),
        vec![format!(
            "liveness: {} ({})",
            liveness.label(),
            liveness.reason()
        )],
    );
    Ok(())
}

/// How to revoke: the flag, `--yes`/dry run (the API), or a question.
fn choose(request: &Request, io: &mut Io<'_>, api_choice: &str) -> Result<RevokeMethod> {
    Ok(match request.settings.revoke {
        Some(method) => method,
        None if request.settings.yes || request.settings.dry_run => RevokeMethod::Api,
        None => {
            let choices = [
                api_choice,
                "Open the settings page and delete it myself",
                "Skip for now",
            ];
            match io.prompter.select(
                "How do you want to revoke it?",
                &choices,
                0,
                "--revoke api|browser|skip",
            )? {
                0 => RevokeMethod::Api,
                1 => RevokeMethod::Browser,
                _ => RevokeMethod::Skip,
            }
        }
    })
}

/// A dead token is no longer a live credential: offer to accept its findings in `.unleak.toml` by
/// fingerprint, with reason "revoked <date>", so later audits stop failing on it (`--yes` accepts).
pub(super) fn offer_allowlist(
    request: &Request,
    io: &mut Io<'_>,
    secret: &Secret,
    record: &mut IncidentRecord,
) -> Result<()> {
    let Some(workdir) = crate::git::Repo::open(&request.repo)?.workdir else {
        return Ok(());
    };
    let path = workdir.join(".unleak.toml");
    let fingerprint = secret.fingerprint();
    let date = now_rfc3339().get(..10).unwrap_or_default().to_string();
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    if existing.contains(&fingerprint) {
        return Ok(());
    }
    if !existing.is_empty() && crate::audit::Allowlist::load(&path).is_err() {
        writeln!(
            io.out,
            "  {} is not a valid allowlist: not adding {fingerprint} to it.",
            path.display()
        )?;
        return Ok(());
    }
    let entry =
        format!("\n[[allow]]\nfingerprint = \"{fingerprint}\"\nreason = \"revoked {date}\"\n");
    if request.settings.dry_run {
        writeln!(
            io.out,
            "  dry run: would offer to add {fingerprint} to {} (reason \"revoked {date}\").",
            path.display()
        )?;
        return Ok(());
    }
    let question = format!(
        "Add {fingerprint} to {} as \"revoked {date}\", so audits stop failing on it?",
        path.display()
    );
    let consent = if request.settings.yes {
        true
    } else if io.interactive {
        io.prompter.confirm(&question, true, "--yes")?
    } else {
        false
    };
    if !consent {
        writeln!(
            io.out,
            "  Not added to the allowlist. To accept it later, add to .unleak.toml:{}",
            entry.replace('\n', "\n    ")
        )?;
        return Ok(());
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&entry);
    write_atomic(&path, text.as_bytes())?;
    writeln!(
        io.out,
        "  Added {fingerprint} to {} (reason \"revoked {date}\"). The rewrite below still removes it from history.",
        path.display()
    )?;
    record.event(
        now_rfc3339(),
        format!("{} allowlisted as revoked {date}", secret.redacted()),
    );
    Ok(())
}

/// Temp file in the same directory, fsync, rename; the mode of the file it replaces (else 0644).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o644);
    let opts = crate::util::fs::Atomic {
        mode,
        prefix: ".unleak-",
    };
    crate::util::fs::write_atomic(path, bytes, &opts)
        .with_context(|| format!("cannot write {}", path.display()))
}
