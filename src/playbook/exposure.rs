//! Step 2, exposure: where each token is in history (commits, refs, pushed or not) and on this machine
//! outside it, and which tokens leaked at all. What it finds ([`Exposure`]) is what steps 5 and 6 read.

use super::record::{self, IncidentRecord, StepStatus};
use super::request::{Io, Request};
use super::screen::heading;
use crate::filter_repo;
use crate::git::Repo;
use crate::model::Report;
use crate::secret::Secret;
use anyhow::Result;

/// What step 2 hands to the later steps: where the tokens are, which of them leaked, and which
/// rewrite patterns the same pass found to match nothing else.
pub(super) struct Exposure {
    pub(super) report: Report,
    /// The tokens found in the repository, in the order they were given.
    pub(super) leaked: Vec<Secret>,
    pub(super) unique_patterns: filter_repo::unique::RewriteUniqueness,
}

/// Step 2: scans every object for the tokens and says where each is (commits, refs, pushed or not).
/// None when none of them leaked into this repository: no later step is needed.
pub(super) fn exposure(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    secrets: Vec<Secret>,
    detected: &str,
    record: &mut IncidentRecord,
) -> Result<Option<Exposure>> {
    heading(io, 2, "Exposure: where it is in history")?;
    // The scan also decides which rewrite patterns are unique (step 6), in the same pass.
    let (mut report, unique_patterns) = filter_repo::unique::scan(repo, &secrets, &request.scan)?;
    // Only in the untracked .env it was read from: at risk, not leaked (scan and audit say the same).
    let at_risk = crate::scan::at_risk::only_in_source(&mut report, repo.workdir.as_deref());
    report.local_copies = crate::footprint::find(repo, &secrets, &request.settings.places);
    record.event(detected.to_string(), "leak detected by unleak respond");
    record.secrets = report.secrets.clone();
    record.findings = report.findings.clone();
    for summary in &report.secrets {
        if let Some(first) = &summary.first_exposure {
            record.event(
                first.clone(),
                format!("first exposure of {}", summary.secret.redacted),
            );
        }
    }
    describe_exposure(&report, io)?;
    for note in &at_risk {
        writeln!(io.out, "  {}", note.message)?;
    }
    describe_local_copies(&report, io)?;
    let all = secrets.clone();
    let leaked: Vec<Secret> = secrets
        .into_iter()
        .zip(&report.secrets)
        .filter(|(_, s)| s.found)
        .map(|(secret, _)| secret)
        .collect();
    if leaked.is_empty() {
        writeln!(
            io.out,
            "\n  Nothing leaked into this repository: no step is needed here."
        )?;
        let mut notes = Vec::new();
        fix_remote_urls(request, io, repo, &all, &mut notes)?;
        record.step(
            "exposure",
            StepStatus::NotNeeded("token not found in the repository".into()),
            notes,
        );
        return Ok(None);
    }
    record.step("exposure", StepStatus::Done, vec![]);
    let old_fingerprints: Vec<String> = leaked.iter().map(Secret::fingerprint).collect();
    let mut verify = record::verify_command(&old_fingerprints);
    // With a remote, what a new clone gets is what matters most: check it too.
    if repo
        .remote_url(&request.settings.remote)
        .ok()
        .flatten()
        .is_some()
    {
        verify.push_str(&format!(
            " --remote {}",
            crate::util::shell::quote(&request.settings.remote)
        ));
    }
    record.verify_command = Some(verify);
    Ok(Some(Exposure {
        report,
        leaked,
        unique_patterns,
    }))
}

/// Step 2 in words: for each token, the commits and refs that carry it, pushed or not, still in HEAD.
fn describe_exposure(report: &Report, io: &mut Io<'_>) -> Result<()> {
    for s in &report.secrets {
        if !s.found && !s.in_worktree.is_empty() {
            continue; // at risk only: said in its own note
        }
        if !s.found {
            let elsewhere = report
                .local_copies
                .iter()
                .any(|c| c.secret.fingerprint == s.secret.fingerprint);
            writeln!(
                io.out,
                "  {}: {}",
                s.secret.redacted,
                if elsewhere {
                    "not in history or the working tree (copies outside history below)"
                } else {
                    "not found in this repository"
                }
            )?;
            continue;
        }
        writeln!(
            io.out,
            "  {}: introduced by {} commit(s); carried by {}",
            s.secret.redacted,
            s.introducing_commits.len(),
            if s.refs.is_empty() {
                "no ref (only reflogs or unreachable objects)".to_string()
            } else {
                s.refs.join(", ")
            }
        )?;
        if s.pushed {
            writeln!(
                io.out,
                "  PUSHED to {}: assume it is public and was copied. Revoke it first.",
                s.remotes.join(", ")
            )?;
        } else {
            writeln!(
                io.out,
                "  Not pushed to any remote this clone knows: a local rewrite before any push is enough; revoke it anyway."
            )?;
        }
        if !s.in_head.is_empty() {
            writeln!(io.out, "  still in HEAD: {}", s.in_head.join(", "))?;
        }
        if let Some(first) = &s.first_exposure {
            writeln!(io.out, "  first exposure: {first}")?;
        }
    }
    Ok(())
}

/// Copies of the tokens outside history on this machine (remote URLs, credential files, shell
/// history), each named with its fix; the ones in this repository's remote URLs are offered in step 5.
fn describe_local_copies(report: &Report, io: &mut Io<'_>) -> Result<()> {
    if report.local_copies.is_empty() {
        return Ok(());
    }
    writeln!(
        io.out,
        "  Outside history, on this machine (a copy here outlives the rewrite):"
    )?;
    for copy in &report.local_copies {
        writeln!(
            io.out,
            "    {} in {} ({})\n      fix: {}",
            copy.secret.redacted, copy.place, copy.path, copy.fix
        )?;
    }
    Ok(())
}

/// Offers to remove the tokens from this repository's remote URLs (`git remote set-url` to the URL
/// without credentials), each asked first; a dry run says what it would do.
pub(super) fn fix_remote_urls(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    secrets: &[Secret],
    notes: &mut Vec<String>,
) -> Result<()> {
    for fix in crate::footprint::remote_fixes(repo, secrets) {
        let what = format!(
            "remove the token from remote {}'s {}URL ({})",
            fix.shown_name,
            if fix.push { "push " } else { "" },
            fix.command()
        );
        if request.settings.dry_run {
            writeln!(io.out, "  dry run: would {what}")?;
            continue;
        }
        let question = format!("{}{}?", what[..1].to_uppercase(), &what[1..]);
        let consent = request.settings.yes
            || (io.interactive && io.prompter.confirm(&question, true, "--yes")?);
        if !consent {
            writeln!(io.out, "  left as is: {what}")?;
            notes.push(format!("declined: {what}"));
            continue;
        }
        crate::footprint::apply(repo, &fix)?;
        writeln!(
            io.out,
            "  Done: {}; git asks for the new token at the next push (or a credential helper gives it).",
            fix.command()
        )?;
        notes.push(format!("done: {}", fix.command()));
    }
    Ok(())
}
