//! `unleak verify`: "am I safe now?" after a rewrite. A full scan (every object, reachable or not) plus
//! the post-rewrite checks; exit 0 only when nothing carries the token.

use crate::config::VerifyConfig;
use crate::exit_codes::ExitCode;
use crate::git::Oid;
use crate::git::Repo;
use crate::matching::{exact::Matcher, patterns::PatternSet};
use crate::model::{self, Warning};
use crate::playbook::record;
use crate::prompt::{NoTerminal, Prompter, TerminalPrompter};
use crate::scan::{self, verify, ScanOptions};
use crate::tokens;
use anyhow::{Context, Result};

pub fn run(config: VerifyConfig) -> Result<ExitCode> {
    let local = Repo::open(&config.repo)?;
    let spec = &config.tokens;

    // The incident `respond` remembered in the git dir, and one named with --record.
    let common_dir = local.common_dir();
    let remembered_path = record::incident_path(&common_dir);
    let named = config.record.as_deref().map(record::recall).transpose()?;
    // No token source at all: the remembered incident names the OLD token (`.env` now holds the new one).
    let use_remembered = spec.is_default() && config.fingerprints.is_empty() && named.is_none();
    let mut notes: Vec<Warning> = Vec::new();
    let remembered = match record::recall(&remembered_path) {
        _ if !remembered_path.is_file() => None,
        Ok(recalled) => Some(recalled),
        // Needed: the OLD token is named nowhere else.
        Err(err) if use_remembered => {
            return Err(err.context("the incident `unleak respond` remembered cannot be read; verify with --fingerprint sha256:… or --record PATH.json"));
        }
        Err(err) => {
            notes.push(Warning::new(
                "incident-record",
                format!("the remembered incident is unreadable and was not used: {err:#}"),
            ));
            None
        }
    };

    // First changed commits: explicit file, the incident records, or filter-repo's own files.
    let mut first_changed: Vec<Oid> = Vec::new();
    if let Some(file) = &config.first_changed {
        first_changed.extend(verify::read_first_changed(file)?);
    } else {
        first_changed.extend(record::first_changed_on_disk(&[
            &local.git_dir,
            &common_dir,
        ]));
    }
    if let Some(named) = &named {
        first_changed.extend(named.first_changed.iter().copied());
    }
    if let (true, Some(remembered)) = (use_remembered, &remembered) {
        first_changed.extend(remembered.first_changed.iter().copied());
    }
    first_changed.sort();
    first_changed.dedup();

    let interactive = TerminalPrompter::available();
    let mut prompter: Box<dyn Prompter> = if interactive {
        Box::new(TerminalPrompter)
    } else {
        Box::new(NoTerminal)
    };
    // Fingerprints: given, or from the incident record. With only fingerprints, no plaintext is needed:
    // candidates are found by provider pattern and compared by fingerprint.
    let mut fingerprints: Vec<String> = config.fingerprints.clone();
    if let Some(named) = &named {
        fingerprints.extend(named.fingerprints());
    }
    if use_remembered {
        if let Some(remembered) = &remembered {
            fingerprints.extend(remembered.fingerprints());
            let tokens: Vec<String> = remembered
                .secrets
                .iter()
                .map(|(redacted, fingerprint)| format!("{redacted} ({fingerprint})"))
                .collect();
            notes.push(Warning::new(
                "incident-record",
                format!(
                    "no token source given: verifying the OLD token(s) of the incident `unleak respond` recorded{} in {}: {}",
                    remembered.at.as_deref().map_or(String::new(), |at| format!(" at {at}")),
                    remembered.path.display(),
                    tokens.join(", ")
                ),
            ));
        }
    }
    for fingerprint in &fingerprints {
        if fingerprint.starts_with("keyed:") {
            anyhow::bail!(
                "{fingerprint} is a keyed fingerprint: the value is guessable (such as a password), so reports \
name it with a key that lives only for one run. Verify with the value itself (--env-file/--key, \
--token-env or --token-stdin)"
            );
        }
        let hex = fingerprint.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!(
                "{fingerprint} is not a fingerprint (sha256: and 64 hex digits, as scan prints)"
            );
        }
    }
    fingerprints.sort();
    fingerprints.dedup();
    let secrets = if fingerprints.is_empty() || !spec.is_default() {
        tokens::collect(
            spec,
            local.workdir.as_deref(),
            // Not locked: a hidden prompt may need the terminal while this reader exists.
            &mut std::io::BufReader::new(std::io::stdin()),
            prompter.as_mut(),
            interactive,
        )?
        .secrets
    } else {
        Vec::new()
    };

    // With --remote: a temporary mirror of what the server serves, outside the repository, in a private
    // directory removed on every exit (Ctrl-C and SIGTERM included).
    let mirror_dir;
    let target = match &config.remote {
        Some(remote) => {
            mirror_dir = crate::git::remote::PrivateTempDir::new()?;
            let mirror = mirror_dir.path().join("mirror.git");
            let url = local
                .remote_url(remote)
                .with_context(|| format!("no remote named {remote}"))?
                .with_context(|| format!("remote {remote} has no URL"))?;
            let masked = crate::git::remote::mask_url_credentials(&url);
            let shown = crate::sanitize::for_terminal(&masked);
            crate::git::remote::mirror_clone(&local, remote, &url, &shown, &mirror_dir, &mirror)?;
            Repo::open(&mirror)?
        }
        None => local,
    };
    let options = config.scope.scan_options("verify", config.globals.progress);
    let patterns = PatternSet::all();
    let (mut report, matcher) = if fingerprints.is_empty() {
        (
            scan::scan(&target, &secrets, &options)?,
            Matcher::new(&secrets),
        )
    } else {
        by_fingerprint(&target, &secrets, &fingerprints, &patterns, &options)?
    };
    let holds = |bytes: &[u8]| {
        matcher.is_match(bytes)
            || (!fingerprints.is_empty()
                && pattern_fingerprint_match(&patterns, bytes, &fingerprints))
    };
    let verification = verify::check(&target, &holds, &first_changed, !report.found())?;
    report.warnings.extend(notes);
    // A token given in plaintext that appears nowhere and never did here is almost always the wrong
    // one (the new token `respond` wrote to .env): "clean" would answer a question nobody asked.
    let known: Vec<String> = named
        .iter()
        .chain(remembered.iter())
        .flat_map(record::Recalled::fingerprints)
        .chain(config.fingerprints.iter().cloned())
        .collect();
    let replaced: Vec<String> = named
        .iter()
        .chain(remembered.iter())
        .flat_map(|r| r.replaced_by.clone())
        .collect();
    let mut never_found = 0;
    for secret in &secrets {
        let fingerprint = secret.fingerprint();
        let found = report
            .secrets
            .iter()
            .any(|s| s.secret.fingerprint == fingerprint && s.found);
        if found || (known.contains(&fingerprint) && !replaced.contains(&fingerprint)) {
            continue;
        }
        never_found += 1;
        let why = if replaced.contains(&fingerprint) {
            "it is the NEW token `unleak respond` wrote to .env".to_string()
        } else if known.is_empty() {
            "no incident record names it".to_string()
        } else {
            "the incident record does not name it".to_string()
        };
        let command = if known.is_empty() {
            "check the old token with `unleak verify --fingerprint sha256:…` (its fingerprint, as scan printed it) or `--record INCIDENT.json`".to_string()
        } else {
            format!(
                "check the old token with `{}`",
                record::verify_command(&known)
            )
        };
        report.warnings.push(Warning::new(
            "never-found",
            format!(
                "this token ({}, from {}) was never found here: is it the new one? ({why}); {command}",
                secret.redacted(),
                secret.origin()
            ),
        ));
    }
    for leftover in &verification.leftover_refs {
        report.warnings.push(Warning::new(
            "leftover-ref",
            format!("{leftover} is left over from a rewrite; delete it (`git update-ref -d {leftover}`)"),
        ));
    }
    let mut verification = verification;
    report.completeness.accepted = config.scope.allow_incomplete && !report.completeness.complete;
    let found = !verification.clean;
    // "Clean" in the JSON means what the exit code means: nothing found in a search that saw everything.
    verification.clean = verification.clean && report.completeness.allows_clean();
    report.verification = Some(verification);

    if never_found > 0 && !found {
        if let Some(v) = report.verification.as_mut() {
            v.clean = false;
        }
    }
    super::print_report(
        &report,
        config.format,
        config.globals.color,
        config.output.as_deref(),
    )?;
    if never_found > 0 && !found {
        return Ok(ExitCode::Unconfirmed);
    }
    Ok(super::search_exit(
        found,
        &report.completeness,
        config.exit_zero,
    ))
}

/// Scans with every provider pattern and keeps only the tokens whose fingerprint was asked for (plus
/// any given in plaintext). Fingerprints found nowhere are listed as not found.
fn by_fingerprint(
    repo: &Repo,
    secrets: &[crate::secret::Secret],
    fingerprints: &[String],
    patterns: &PatternSet,
    options: &ScanOptions,
) -> Result<(model::Report, Matcher)> {
    // Values with a wanted fingerprint, in every form the plaintext scan searches; then a plain scan
    // for them (and any given in plaintext), so both paths report the same findings.
    let mut all: Vec<crate::secret::Secret> = secrets.to_vec();
    for candidate in
        verify::candidates_by_fingerprint(repo, patterns, fingerprints, options.threads)?
    {
        if !all.contains(&candidate) {
            all.push(candidate);
        }
    }
    let mut report = scan::scan(repo, &all, options)?;
    for fingerprint in fingerprints {
        if !report
            .secrets
            .iter()
            .any(|s| &s.secret.fingerprint == fingerprint)
        {
            report.secrets.push(model::SecretSummary {
                secret: model::SecretRef {
                    redacted: "(fingerprint only)".into(),
                    fingerprint: fingerprint.clone(),
                },
                origin: "--fingerprint".into(),
                provider: None,
                rule: None,
                severity: None,
                live: None,
                live_reason: None,
                found: false,
                findings: 0,
                introducing_commits: Vec::new(),
                refs: Vec::new(),
                pushed: false,
                remotes: Vec::new(),
                in_head: Vec::new(),
                in_index: Vec::new(),
                in_worktree: Vec::new(),
                first_exposure: None,
            });
        }
    }
    report.warnings.push(Warning::new(
        "fingerprint-only",
        "verified by fingerprint: a token that matches no provider pattern cannot be found this way; give it in plaintext (--token-stdin) if it had no known shape",
    ));
    Ok((report, Matcher::new(&all)))
}

/// Whether `bytes` hold a provider-pattern match whose fingerprint is one of `fingerprints`.
fn pattern_fingerprint_match(patterns: &PatternSet, bytes: &[u8], fingerprints: &[String]) -> bool {
    let mut hits = Vec::new();
    patterns.find_all(bytes, &mut hits);
    hits.iter().any(|h| {
        let fingerprint = crate::secret::fingerprint(&bytes[h.start..h.end]);
        fingerprints.contains(&fingerprint)
    })
}
