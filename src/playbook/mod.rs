//! The guided leaked-token playbook, as `unleak respond` runs it: identify, exposure, revoke, re-create,
//! update `.env`, rewrite plan, incident record. Each step shows what it found or will do, asks before it
//! changes anything (through [`Prompter`], so tests script answers), and records how it ended. A dry run
//! walks the same code and records "would" instead of acting.

pub mod record;
mod revoke;
pub mod rewrite;

use crate::git::Repo;
use crate::issuers::github::GithubApi;
use crate::issuers::huggingface::{self, HfApi, TokenStatus, Unreachable};
use crate::model::Report;
use crate::prompt::Prompter;
use crate::providers;
use crate::scan::ScanOptions;
use crate::secret::Secret;
use crate::tokens;
use crate::tokens::TokenSpec;
use crate::util::time::now_rfc3339;
use crate::{dotenv, filter_repo, hygiene};
use anyhow::{bail, Context, Result};
use record::{IncidentRecord, StepStatus};
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// How the old token gets revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeMethod {
    /// The no-login revoke API (`POST /api/credentials/revoke`).
    Api,
    /// The settings page, by hand.
    Browser,
    /// Do not revoke now (the step stays open).
    Skip,
}

/// What `respond` was asked to do, in plain values (`config` resolves the flags into it).
#[derive(Debug, Clone)]
pub struct Request {
    /// Where to open the repository from (discovery walks up from here).
    pub repo: PathBuf,
    /// Where the leaked tokens are read from (step 1).
    pub tokens: TokenSpec,
    /// How the exposure step scans (`command: "respond"`).
    pub scan: ScanOptions,
    /// The answers the later steps read.
    pub settings: Settings,
}

/// The answers and outputs each step reads: what the flags said, nothing of clap.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Answer yes to every consent question.
    pub yes: bool,
    /// Walk the flow without prompts, writes or network writes.
    pub dry_run: bool,
    /// None: ask (with `--yes` or a dry run: the API).
    pub revoke: Option<RevokeMethod>,
    /// Where step 4 reads the new token from (with several keys: the first key's).
    pub new_token: NewTokenSource,
    /// With several keys: the environment variable holding each key's new value (`--new-token-env
    /// KEY=NAME`), by `.env` key.
    pub new_tokens: Vec<(String, String)>,
    /// Skip every network step.
    pub offline: bool,
    /// Where the incident record goes (Markdown, and JSON beside it).
    pub report: Option<PathBuf>,
    /// Where the unattended rewrite script goes.
    pub write_script: Option<PathBuf>,
    /// Rewrite with the exact token instead of a regex.
    pub literal: bool,
    /// Remove `.env` files from history instead of rewriting the token in them.
    pub remove_env_files: bool,
    /// None: ask when a binary file holds the token (mask without a terminal or with --yes).
    pub binary: Option<filter_repo::BinaryMode>,
    /// What replaces the token in files and messages.
    pub replacement: String,
    /// The remote whose history is rewritten.
    pub remote: String,
    /// The key that receives the new token; None: the leaked token's own key, else `HF_TOKEN`.
    pub update_key: Option<String>,
    /// Keep the previous .env as a private backup.
    pub backup: bool,
    /// The Hugging Face API endpoint (`HF_ENDPOINT`, else the public hub), read once by `config`.
    pub hf_endpoint: String,
    /// Where copies of the token outside history are looked for (HOME, HF_HOME, …), read by `config`.
    pub places: crate::footprint::Places,
}

/// Where the replacement token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewTokenSource {
    /// A hidden prompt, asked twice.
    Prompt,
    /// `--new-token-env NAME`: this environment variable.
    Env(String),
    /// `--new-token-stdin`: one line of standard input.
    Stdin,
}

/// Everything the flow talks to, injected so tests can drive it in-process.
pub struct Io<'a> {
    /// Asks the questions (scripted in tests).
    pub prompter: &'a mut dyn Prompter,
    /// Narrative output (stdout for humans; stderr when stdout carries JSON).
    pub out: &'a mut dyn Write,
    /// Where `--token-stdin` and `--new-token-stdin` read.
    pub stdin: &'a mut dyn BufRead,
    /// Whether questions can be asked at all.
    pub interactive: bool,
}

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

/// What step 2 hands to the later steps: where the tokens are, which of them leaked, and which
/// rewrite patterns the same pass found to match nothing else.
struct Exposure {
    report: Report,
    /// The tokens found in the repository, in the order they were given.
    leaked: Vec<Secret>,
    unique_patterns: filter_repo::unique::RewriteUniqueness,
}

/// Step 2: scans every object for the tokens and says where each is (commits, refs, pushed or not).
/// None when none of them leaked into this repository: no later step is needed.
fn exposure(
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
    let at_risk = crate::audit::only_in_source(&mut report, repo.workdir.as_deref());
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

/// Step 3: revokes each leaked token with its issuer (or says how by hand). Returns the Hugging Face
/// API (None offline), which step 4 uses to check the new token.
fn revoke_leaked(
    request: &Request,
    io: &mut Io<'_>,
    leaked: &[Secret],
    record: &mut IncidentRecord,
) -> Result<Option<HfApi>> {
    heading(io, 3, "Revoke the old token")?;
    let hf = if request.settings.offline {
        None
    } else {
        Some(HfApi::new(&request.settings.hf_endpoint)?)
    };
    // GitHub's base is read only when a GitHub token needs it.
    let github = if request.settings.offline || !leaked.iter().any(GithubApi::revocable) {
        None
    } else {
        Some(GithubApi::from_env()?)
    };
    for secret in leaked {
        revoke::revoke(request, io, hf.as_ref(), github.as_ref(), secret, record)?;
    }
    Ok(hf)
}

/// Step 1: the tokens to respond to, each shown redacted with its fingerprint, issuer and source.
fn identify(request: &Request, io: &mut Io<'_>, repo: &Repo) -> Result<tokens::Collected> {
    heading(io, 1, "Identify the leaked token")?;
    let collected = tokens::collect(
        &request.tokens,
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

/// Step 7: the incident record, written where asked (or offered), remembered in the git dir, and the
/// steps left undone.
fn record_incident(
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

/// Sets the next command of the step named `step` (the last one of that name).
fn set_next(record: &mut IncidentRecord, step: &str, next: String) {
    if let Some(last) = record.steps.iter_mut().rev().find(|s| s.step == step) {
        last.next = Some(next);
    }
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

/// Whether a file the flags did not ask for may be offered: only to a person at a terminal, not in a
/// dry run, and not under `--yes` (which answers the questions asked, and asks for no extra files).
fn can_offer(request: &Request, io: &Io<'_>) -> bool {
    io.interactive && !request.settings.dry_run && !request.settings.yes
}

/// Offers to write a file beside the repository (never inside it, where it could be committed), at a
/// name that does not exist yet: `<repo>-<suffix>`, then `<repo>-2-<suffix>`, … Returns the accepted path.
fn offer_file(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    suffix: &str,
    question: &str,
) -> Result<Option<std::path::PathBuf>> {
    if !can_offer(request, io) {
        return Ok(None);
    }
    let root = repo.workdir.clone().unwrap_or_else(|| repo.git_dir.clone());
    let root = root.canonicalize().unwrap_or(root);
    let dir = root.parent().unwrap_or(std::path::Path::new("."));
    let name = root.file_name().map_or("repository".into(), |n| {
        n.to_string_lossy().trim_end_matches(".git").to_string()
    });
    let mut path = dir.join(format!("{name}-{suffix}"));
    let mut n = 2;
    while path.exists() || std::path::Path::new(&format!("{}.json", path.display())).exists() {
        path = dir.join(format!("{name}-{n}-{suffix}"));
        n += 1;
    }
    let flag = if suffix.ends_with(".sh") {
        "--write-script PATH"
    } else {
        "--report PATH"
    };
    if io
        .prompter
        .confirm(&format!("{question} {}?", path.display()), true, flag)?
    {
        Ok(Some(path))
    } else {
        Ok(None)
    }
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
        if !request.settings.dry_run
            && crate::secret::env_var(name).is_none_or(|v| v.trim().is_empty())
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

/// A step's heading: `[n/7] title`.
fn heading(io: &mut Io<'_>, n: u32, title: &str) -> Result<()> {
    writeln!(io.out, "\n[{n}/7] {title}")?;
    Ok(())
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

/// One line for an unreachable API; every later step goes on without it.
fn say_unreachable(down: &Unreachable) -> String {
    format!("{down}. Going on without the API (`--offline` skips it from the start).")
}

/// What whoami said, in words (never a debug dump).
fn describe_status(status: &TokenStatus) -> String {
    match status {
        TokenStatus::Valid(owner) => format!(
            "the old token still works (whoami answers 200 for user {})",
            owner.user
        ),
        TokenStatus::Invalid => "whoami answers 401 (invalid)".into(),
        TokenStatus::Denied => "whoami answers 403 (denied)".into(),
        TokenStatus::RateLimited => "whoami answers 429 (rate limited)".into(),
        TokenStatus::Unexpected(code) => format!("whoami answers HTTP {code}"),
    }
}

/// Opens `url` in a browser when there is a display (macOS, X11, Wayland); otherwise the printed URL is
/// the way.
fn open_browser(url: &str) {
    let has_display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if cfg!(target_os = "macos") || has_display {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        let _ = crate::child::command(opener)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

/// One key of the incident, rotated by steps 4 and 5: the leaked value and the `.env` key that holds it.
/// An incident of one key keeps the steps' plain names; with several, each step names its key.
struct Rotation<'a> {
    old: &'a Secret,
    key: String,
    /// Whether the incident has several keys (the steps then say which).
    several: bool,
    /// Whether this is the incident's first key (the one a plain `--new-token-env NAME` answers).
    first: bool,
}

impl Rotation<'_> {
    /// A step's name: `re-create`, or `re-create WANDB_API_KEY` when there are several keys.
    fn step(&self, name: &str) -> String {
        if self.several {
            format!("{name} {}", self.key)
        } else {
            name.to_string()
        }
    }

    /// Where this key's new value comes from: its own `--new-token-env KEY=NAME`, else (first key) the
    /// plain source, else a prompt that may be skipped.
    fn source(&self, request: &Request) -> NewTokenSource {
        let named = request
            .settings
            .new_tokens
            .iter()
            .find(|(key, _)| *key == self.key);
        match named {
            Some((_, var)) => NewTokenSource::Env(var.clone()),
            None if self.first => request.settings.new_token.clone(),
            None => NewTokenSource::Prompt,
        }
    }
}

/// The keys to rotate: each leaked token under the `.env` key it was read from (or its provider's usual
/// name); one token alone under `--update-key` or the key it came from, as before.
fn rotations<'a>(request: &Request, repo: &Repo, leaked: &'a [Secret]) -> Vec<Rotation<'a>> {
    let path =
        tokens::default_env_path(request.tokens.env_file.as_deref(), repo.workdir.as_deref());
    let several = leaked.len() > 1;
    leaked
        .iter()
        .enumerate()
        .map(|(i, old)| {
            let from_env = path.as_deref().and_then(|path| {
                let (file, key) = old.origin().rsplit_once(':')?;
                (std::path::Path::new(file) == path).then(|| key.to_string())
            });
            let key = match (several, path.as_deref()) {
                (false, Some(path)) => key_to_update(request, leaked, path),
                _ => from_env
                    .or_else(|| {
                        old.identify()
                            .and_then(|(p, _)| p.env_vars.first())
                            .map(|k| k.to_string())
                    })
                    .unwrap_or_else(|| tokens::DEFAULT_KEY.to_string()),
            };
            Rotation {
                old,
                key,
                several,
                first: i == 0,
            }
        })
        .collect()
}

/// Step 4: the new token, least privilege, read and checked (the API, or the issuer's read-only check).
/// None in a dry run, or when no new value was given for this key (the step is left open).
fn recreate(
    request: &Request,
    io: &mut Io<'_>,
    api: Option<&HfApi>,
    leaked: &[Secret],
    rotation: &Rotation<'_>,
    record: &mut IncidentRecord,
) -> Result<Option<Secret>> {
    let step = rotation.step("re-create");
    let old = rotation.old;
    let provider = old.identify().map(|(p, _)| p);
    let is_hf = provider.is_some_and(|p| p.id == providers::HUGGING_FACE.id);
    if rotation.several {
        let issuer = provider.map_or("its issuer", |p| p.name);
        heading(
            io,
            4,
            &format!("Create a new {} ({issuer}, least privilege)", rotation.key),
        )?;
    } else {
        heading(io, 4, "Create a new token (least privilege)")?;
    }
    if is_hf || provider.is_none() {
        writeln!(
            io.out,
            "  Least privilege: a fine-grained token scoped to the repos it needs, or a read token when your \
scripts only download. Avoid write tokens."
        )?;
    } else {
        writeln!(
            io.out,
            "  Least privilege: the narrowest key the issuer offers (one project or workspace, read-only \
where your code only reads, a spend limit where there is one)."
        )?;
    }
    let create_url = provider.and_then(|p| p.create_url);
    if let Some(url) = create_url {
        writeln!(
            io.out,
            "  Create it at {}",
            huggingface::page_on_endpoint(url, &request.settings.hf_endpoint)
        )?;
    }
    let new = match rotation.source(request) {
        _ if request.settings.dry_run => {
            writeln!(io.out, "  dry run: would read the new token and check it.")?;
            record.step(
                &step,
                StepStatus::WouldDo("take and check a new token".into()),
                vec![],
            );
            return Ok(None);
        }
        NewTokenSource::Prompt if rotation.several && !rotation.first && !io.interactive => {
            let page = create_url.map(|u| format!(" at {u}")).unwrap_or_default();
            writeln!(
                io.out,
                "  no new value given for {} (--new-token-env {}=NAME): create one{page}, then run \
`unleak setup --key {}`.",
                rotation.key, rotation.key, rotation.key
            )?;
            record.step(
                &step,
                StepStatus::Skipped(format!(
                    "no new value given: create one{page}, then `unleak setup --key {}`",
                    rotation.key
                )),
                vec![],
            );
            return Ok(None);
        }
        NewTokenSource::Env(name) => (
            normalized(Secret::new(
                crate::secret::env_var(&name)
                    .filter(|v| !v.trim().is_empty())
                    .with_context(|| format!("--new-token-env: {name} is not set"))?
                    .trim(),
                format!("${name}"),
            ))?,
            None,
        ),
        NewTokenSource::Stdin => {
            // Wiped on every path, an early `?` included.
            let mut line = zeroize::Zeroizing::new(String::new());
            io.stdin
                .read_line(&mut line)
                .context("cannot read the new token from stdin")?;
            (normalized(Secret::new(line.trim(), "stdin"))?, None)
        }
        NewTokenSource::Prompt => loop {
            // At the prompt a wrong paste is asked again, not the end of the run.
            let new = if rotation.several {
                io.prompter.secret(
                    &format!(
                        "New value for {} (input hidden; empty skips this key)",
                        rotation.key
                    ),
                    true,
                    &format!("--new-token-env {}=NAME", rotation.key),
                )?
            } else {
                io.prompter.secret(
                    "New token (input hidden)",
                    true,
                    "--new-token-env NAME or --new-token-stdin",
                )?
            };
            if rotation.several && new.expose().trim().is_empty() {
                writeln!(
                    io.out,
                    "  skipped: {} keeps its old value for now.",
                    rotation.key
                )?;
                record.step(
                    &step,
                    StepStatus::Skipped("no new value given".into()),
                    vec![],
                );
                return Ok(None);
            }
            let new = match normalized(new) {
                Ok(new) => new,
                Err(err) => {
                    writeln!(io.out, "  {err:#}; try again (Ctrl-C stops).")?;
                    continue;
                }
            };
            match check_new_token(io, api, leaked, rotation, &new)? {
                Ok(notes) => break (new, Some(notes)),
                Err(problem) => writeln!(io.out, "  {problem}; try again (Ctrl-C stops).")?,
            }
        },
    };
    let (new, notes) = match new {
        (new, Some(notes)) => (new, notes),
        (new, None) => match check_new_token(io, api, leaked, rotation, &new)? {
            Ok(notes) => (new, notes),
            Err(problem) => bail!("{problem}; nothing was written"),
        },
    };
    record.event(now_rfc3339(), format!("rotated to {}", new.redacted()));
    record.step(&step, StepStatus::Done, notes);
    Ok(Some(new))
}

/// The same normalization as every token source: a BOM or zero-width space must not reach `.env`.
fn normalized(new: Secret) -> Result<Secret> {
    Ok(Secret::new(
        tokens::normalize(new.expose(), new.origin())?.as_str(),
        new.origin().to_string(),
    ))
}

/// Whether `new` can replace the leaked token: not empty, not a leaked one, the same issuer, and working
/// (whoami) when the API is there. `Ok(Err(problem))` is a wrong token, in words; an unreachable API
/// is one line and a note, not a failure.
fn check_new_token(
    io: &mut Io<'_>,
    api: Option<&HfApi>,
    leaked: &[Secret],
    rotation: &Rotation<'_>,
    new: &Secret,
) -> Result<std::result::Result<Vec<String>, String>> {
    let provider = rotation.old.identify().map(|(p, _)| p);
    if new.expose().is_empty() {
        return Ok(Err("no new token was given".into()));
    }
    if leaked.iter().any(|old| old == new) {
        return Ok(Err(
            "that is the leaked token: create a new one first".into()
        ));
    }
    if let Some(provider) = provider {
        // Its own shape, or (a key whose value is not distinctive) the key it will be kept under.
        let ok = providers::identify_keyed(&rotation.key, new.expose())
            .is_some_and(|(p, _)| p.id == provider.id);
        if !ok {
            return Ok(Err(format!(
                "the new token ({}) does not look like a {} token; check what was pasted",
                new.redacted(),
                provider.name
            )));
        }
    }
    let mut notes = vec![format!(
        "new token {} ({})",
        new.redacted(),
        new.fingerprint()
    )];
    // Hugging Face's whoami checks an HF token; any other issuer's through its own read-only check.
    let is_hf = provider.is_some_and(|p| p.id == providers::HUGGING_FACE.id);
    let api = match api {
        None => {
            writeln!(io.out, "  offline: the new token was not checked.")?;
            notes.push("not checked: offline".into());
            return Ok(Ok(notes));
        }
        Some(_) if !is_hf => {
            let new = &match providers::identify_keyed(&rotation.key, new.expose()) {
                Some((_, rule)) => new.clone().with_rule(rule.id),
                None => new.clone(),
            };
            match crate::issuers::liveness::Checker::new(false).check(new)? {
                crate::issuers::liveness::Liveness::Dead { detail } => {
                    return Ok(Err(format!(
                        "the new token {} does not work ({detail})",
                        new.redacted()
                    )))
                }
                other => writeln!(
                    io.out,
                    "  New token {}: {} ({}).",
                    new.redacted(),
                    other.label(),
                    other.reason()
                )?,
            }
            return Ok(Ok(notes));
        }
        Some(api) => api,
    };
    check_with_whoami(io, api, new, notes)
}

/// Step 4's check of a new Hugging Face token: whoami must say it works (a write token is warned about);
/// an unreachable API or a rate limit leaves it unchecked, in a note.
fn check_with_whoami(
    io: &mut Io<'_>,
    api: &HfApi,
    new: &Secret,
    mut notes: Vec<String>,
) -> Result<std::result::Result<Vec<String>, String>> {
    let status = match api.whoami(new) {
        Ok(status) => status,
        Err(err) => match huggingface::is_unreachable(&err) {
            Some(down) => {
                writeln!(io.out, "  {}", say_unreachable(down))?;
                writeln!(
                    io.out,
                    "  The new token was not checked; `unleak audit --verify` can later."
                )?;
                notes.push(format!("not checked: {}", down.reason));
                return Ok(Ok(notes));
            }
            None => return Err(err),
        },
    };
    match status {
        TokenStatus::Valid(owner) => {
            writeln!(
                io.out,
                "  New token {} works: user {}, token \"{}\", role {}.",
                new.redacted(),
                owner.user,
                owner.token_name.as_deref().unwrap_or("?"),
                owner.role.as_deref().unwrap_or("?")
            )?;
            if owner.role.as_deref() == Some("write") {
                writeln!(io.out, "  warning: this is a WRITE token. If your scripts only read, use a read or fine-grained token.")?;
                notes.push("warning: the new token has the write role".into());
            }
        }
        TokenStatus::RateLimited => writeln!(
            io.out,
            "  Could not check the new token: rate limited (429)."
        )?,
        other => {
            return Ok(Err(format!(
                "the new token {} does not work ({})",
                new.redacted(),
                describe_status(&other)
            )))
        }
    }
    Ok(Ok(notes))
}

/// Step 5: the new token into `.env` in place (atomic, 0600), and the hygiene around it (ignore rule,
/// untracking, shell variables that would override it).
fn update_env(
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
    io: &mut Io<'_>,
    path: &std::path::Path,
    key: &str,
    value: &Secret,
    file_level: bool,
) -> Result<(hygiene::Plan, Vec<String>)> {
    let mut hygiene = hygiene::plan(
        path,
        key,
        value.expose(),
        &hygiene::Environment::from_process(key),
    )?;
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

/// The key that receives the new token: `--update-key`, else the key that held the leaked token when it
/// came from this file, else the provider's usual one.
fn key_to_update(request: &Request, leaked: &[Secret], path: &std::path::Path) -> String {
    request.settings.update_key.clone().unwrap_or_else(|| {
        leaked
            .iter()
            .find_map(|s| {
                let (file, key) = s.origin().rsplit_once(':')?;
                (std::path::Path::new(file) == path).then(|| key.to_string())
            })
            .unwrap_or_else(|| tokens::DEFAULT_KEY.to_string())
    })
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
        for follow_up in hygiene::apply(action)? {
            writeln!(io.out, "  warning: {follow_up}")?;
        }
        writeln!(io.out, "  {}", action.describe(true))?;
        notes.push(action.describe(true));
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
fn fix_remote_urls(
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

/// Step 6: the git-filter-repo plan for the history step 2 found, printed, and written as a script
/// where asked (or offered).
fn rewrite_plan(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    exposure: &Exposure,
    record: &mut IncidentRecord,
) -> Result<()> {
    heading(io, 6, "Rewrite history")?;
    let Exposure { report, .. } = exposure;
    const STEP: &str = "rewrite history";
    // The token is in the working tree only (an untracked .env): git never recorded it, so there is no
    // history to rewrite and a force-push would only disturb collaborators.
    if report.findings.is_empty() {
        let places: Vec<&str> = report
            .secrets
            .iter()
            .flat_map(|s| s.in_worktree.iter().chain(&s.in_index).chain(&s.in_head))
            .map(String::as_str)
            .collect();
        writeln!(
            io.out,
            "  No rewrite needed: git never recorded the token (it is only in {}, outside history). Keep it out of commits: .env belongs in .gitignore.",
            if places.is_empty() { "the working tree".to_string() } else { places.join(", ") }
        )?;
        record.step(
            STEP,
            StepStatus::NotNeeded("the token is in no git object: nothing to rewrite".into()),
            vec![],
        );
        return Ok(());
    }
    let repo_path = repo.workdir.clone().unwrap_or_else(|| repo.git_dir.clone());
    let plan = plan_rewrite(request, io, repo, &repo_path, exposure)?;
    let text = plan.render_text();
    // A few lines here; the whole plan (a hundred lines) when it is not written to a script, where
    // it is the only copy the user gets, and in the script and the record otherwise.
    for line in plan.render_summary().lines() {
        writeln!(io.out, "  {line}")?;
    }
    record.rewrite_plan = Some(text.clone());
    let show_all = |io: &mut Io<'_>| -> Result<()> {
        writeln!(io.out, "\n  The plan in full:")?;
        for line in text.lines() {
            writeln!(io.out, "  {line}")?;
        }
        Ok(())
    };
    if let Some(blocked) = &plan.blocked {
        record.step(STEP, StepStatus::Failed(blocked.clone()), vec![]);
        return Ok(());
    }
    let offered = match &request.settings.write_script {
        Some(_) => None,
        None => offer_file(
            request,
            io,
            repo,
            "rewrite.sh",
            "Write this plan as a script (mode 0700) to",
        )?,
    };
    let Some(path) = request.settings.write_script.as_ref().or(offered.as_ref()) else {
        show_all(io)?;
        record.step(
            STEP,
            StepStatus::Skipped(
                "plan printed; run it, or write it with --write-script PATH".into(),
            ),
            vec![],
        );
        return Ok(());
    };
    if request.settings.dry_run {
        show_all(io)?;
        writeln!(
            io.out,
            "  dry run: would write the script to {}",
            path.display()
        )?;
        record.step(
            STEP,
            StepStatus::WouldDo(format!("write {}", path.display())),
            vec![],
        );
        return Ok(());
    }
    let notes = commit_respond_changes(request, io, &repo_path, plan.pushes)?;
    rewrite::write_script(&plan, path)?;
    let run = format!(
        "bash {}",
        crate::util::shell::quote(&path.display().to_string())
    );
    writeln!(
        io.out,
        "  Wrote {} (0700; each step says why it runs: less {}). History is not rewritten yet: run it: {run}",
        path.display(),
        crate::util::shell::quote(&path.display().to_string()),
    )?;
    // Writing the script is the step this command can do; running it (a force-push) is the user's call.
    // Declined or other uncommitted changes: the script refuses to start until they are committed.
    let uncommitted = notes
        .iter()
        .any(|n| n.starts_with("declined: commit") || n.starts_with("uncommitted changes"));
    let run = if uncommitted {
        format!(
            "commit or stash the uncommitted changes first (what respond staged: git commit -m {}; the script pushes that commit), then {run}",
            crate::util::shell::quote(&format!("{} (.env)", filter_repo::UNTRACK_SUBJECT))
        )
    } else {
        run
    };
    record.step(
        STEP,
        StepStatus::Prepared(format!(
            "script written to {}; history is not rewritten until it runs",
            path.display()
        )),
        notes,
    );
    set_next(record, STEP, run);
    Ok(())
}

/// The git-filter-repo plan (pure: nothing is written) for the leaked tokens, with the rewrite patterns
/// step 2 found unique (any other checked now) and the binary files' mode (`--binary`, or asked).
fn plan_rewrite(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    repo_path: &std::path::Path,
    exposure: &Exposure,
) -> Result<filter_repo::RewritePlan> {
    let Exposure {
        report,
        leaked,
        unique_patterns,
    } = exposure;
    let remote_url = repo.remote_url(&request.settings.remote).ok().flatten();
    let threads = request.scan.threads;
    let unique = |secret: &Secret, pattern: &str| {
        unique_patterns.get(pattern).unwrap_or_else(|| {
            filter_repo::unique::pattern_matches_only(repo, pattern, secret, threads)
                .unwrap_or(false)
        })
    };
    let binary_blobs = binary_blobs(repo, report);
    let binary = choose_binary_mode(request, io, report, &binary_blobs)?;
    let unleak = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .unwrap_or_else(|_| std::path::PathBuf::from("unleak"));
    let input = filter_repo::RewriteInput {
        secrets: leaked,
        report,
        remote_name: &request.settings.remote,
        remote_url: remote_url.as_deref(),
        repo_path,
        literal: request.settings.literal,
        remove_env_files: request.settings.remove_env_files,
        filter_repo: crate::git::command::detect_filter_repo(),
        regex_is_unique: &unique,
        binary_blobs: &binary_blobs,
        binary,
        replacement: &request.settings.replacement,
        unleak: &unleak,
    };
    Ok(filter_repo::plan(&input))
}

/// The found blobs git-filter-repo treats as binary (a NUL in the first 8 KiB): its --replace-text
/// skips them, so the plan masks or strips them. A blob that cannot be read is left out (the scan read
/// it, so this is rare) and then handled as text.
pub fn binary_blobs(repo: &Repo, report: &Report) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.location == crate::model::Location::Blob)
    {
        if out.contains(&f.object) {
            continue;
        }
        let Ok(oid) = crate::git::Oid::from_str(&f.object) else {
            continue;
        };
        if let Ok(blob) = repo.read_blob(oid) {
            if filter_repo::is_binary_for_filter_repo(&blob) {
                out.insert(f.object.clone());
            }
        }
    }
    out
}

/// `--binary`, or the question (each binary file and what each choice does to it), or mask.
fn choose_binary_mode(
    request: &Request,
    io: &mut Io<'_>,
    report: &Report,
    binary_blobs: &std::collections::BTreeSet<String>,
) -> Result<filter_repo::BinaryMode> {
    use filter_repo::BinaryMode;
    let files = filter_repo::binary_files(report, binary_blobs);
    if let Some(mode) = request.settings.binary {
        return Ok(mode);
    }
    if files.is_empty() || !io.interactive || request.settings.yes || request.settings.dry_run {
        return Ok(BinaryMode::default());
    }
    writeln!(
        io.out,
        "  Binary files hold the token; git-filter-repo's text replacement skips them:"
    )?;
    for file in &files {
        writeln!(io.out, "    mask:  {}", file.describe(BinaryMode::Mask))?;
        writeln!(io.out, "    strip: {}", file.describe(BinaryMode::Strip))?;
    }
    let choices = [
        "Mask the token in place (same length; the files keep working) (recommended)",
        "Strip those files from the commits listed (rebuild or re-add them afterwards)",
    ];
    Ok(
        match io.prompter.select(
            "What should the rewrite do with the binary files?",
            &choices,
            0,
            "--binary mask|strip",
        )? {
            1 => BinaryMode::Strip,
            _ => BinaryMode::Mask,
        },
    )
}

/// The script refuses to run over uncommitted changes to tracked files (filter-repo resets the work
/// tree), and step 5 leaves some: `.env` removed from the index, `.gitignore` edited. With consent they
/// are committed now, so the script runs as written; anything else is the user's to commit or stash.
fn commit_respond_changes(
    request: &Request,
    io: &mut Io<'_>,
    workdir: &std::path::Path,
    pushes: bool,
) -> Result<Vec<String>> {
    // The repository's own config picks no program here: no hook, filter driver, signing program.
    let git = |args: &[&str]| crate::git::command::git_in(workdir).args(args).output();
    // Untracked files are listed too: a `.gitignore` this run created is untracked, and left out it
    // would stay on this machine while the remote still tracks `.env`.
    let Ok(status) = git(&["status", "--porcelain", "--untracked-files=normal"]) else {
        return Ok(Vec::new());
    };
    if !status.status.success() {
        return Ok(Vec::new());
    }
    let text = String::from_utf8_lossy(&status.stdout).to_string();
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut untracked = Vec::new();
    let mut gitignore = Vec::new();
    let mut new_files = Vec::new();
    let mut other = false;
    for line in text.lines() {
        let (code, path) = line.split_at(line.len().min(3));
        let name = path.rsplit('/').next().unwrap_or(path);
        match code {
            "D  " if dotenv::is_env_path(path) => untracked.push(path.to_string()),
            " M " | "M  " | "MM " | "A  " | "AM " if name == ".gitignore" => {
                gitignore.push(path.to_string())
            }
            "?? " if name == ".gitignore" => {
                gitignore.push(path.to_string());
                new_files.push(path.to_string());
            }
            // Other untracked files do not stop the script (it checks tracked files only).
            "?? " => {}
            _ => other = true,
        }
    }
    let refuse = "  The rewrite script stops at its first check while tracked files have uncommitted changes (filter-repo resets the working tree): commit or stash them, then run it.";
    // A new `.gitignore` alone stops nothing: it goes with an untracking, else it is left to the user.
    if untracked.is_empty() {
        gitignore.retain(|p| !new_files.contains(p));
    }
    if !other && untracked.is_empty() && gitignore.is_empty() {
        return Ok(Vec::new());
    }
    if other {
        writeln!(io.out, "{refuse}")?;
        return Ok(vec![
            "uncommitted changes: commit or stash them before running the script".into(),
        ]);
    }
    let what: Vec<String> = untracked
        .iter()
        .map(|p| format!("stop tracking {p}"))
        .chain(gitignore.iter().map(|p| {
            let how = if new_files.contains(p) {
                "created"
            } else {
                "edited"
            };
            format!("{p} {how}")
        }))
        .collect();
    let question = format!(
        "Commit what this run changed ({}) so the rewrite script can run{}?",
        what.join(", "),
        if pushes {
            " (it pushes this commit after the rewrite, so the remote stops tracking it too)"
        } else {
            ""
        }
    );
    if !request.settings.yes && !io.prompter.confirm(&question, true, "--yes")? {
        writeln!(io.out, "{refuse}")?;
        return Ok(vec![
            "declined: commit the untracking before running the script".into(),
        ]);
    }
    if !gitignore.is_empty() {
        let mut args = vec!["add", "--"];
        args.extend(gitignore.iter().map(String::as_str));
        let out = git(&args).context("cannot run git add")?;
        if !out.status.success() {
            bail!(
                "git add .gitignore failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    let message = format!("{} ({})", filter_repo::UNTRACK_SUBJECT, what.join(", "));
    let out = git(&["commit", "--quiet", "-m", &message]).context("cannot run git commit")?;
    if !out.status.success() {
        bail!(
            "git commit failed ({}): commit the staged changes yourself, then run the script",
            crate::sanitize::for_terminal(&String::from_utf8_lossy(&out.stderr)).trim()
        );
    }
    writeln!(io.out, "  Committed: {message}.")?;
    // Every value, ours (`false`, from the command line) last: any `true` before it is the user's wish.
    let signs = git(&["config", "--type=bool", "--get-all", "commit.gpgSign"]).is_ok_and(|out| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == "true")
    });
    if signs {
        writeln!(
            io.out,
            "  Not signed: unleak runs no signing program a repository's config names. Sign it yourself if you need to: git commit --amend --no-edit -S"
        )?;
    }
    Ok(vec![format!("committed: {message}")])
}

/// Writes the record as Markdown and JSON, private (0600): it names the repository and its history.
fn write_record(record: &IncidentRecord, path: &std::path::Path) -> Result<()> {
    let json_path = std::path::PathBuf::from(format!("{}.json", path.display()));
    write_private_file(path, record.to_markdown().as_bytes())?;
    write_private_file(&json_path, serde_json::to_string_pretty(record)?.as_bytes())?;
    Ok(())
}

/// Writes one record file atomically, mode 0600.
fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let opts = crate::util::fs::Atomic {
        mode: 0o600,
        prefix: ".unleak-record-",
    };
    crate::util::fs::write_atomic(path, bytes, &opts)
        .with_context(|| format!("cannot write {}", path.display()))
}
