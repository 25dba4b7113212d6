//! `unleak verify`: "am I safe now?" after a rewrite. A full scan (every object, reachable or not) plus
//! the post-rewrite checks; exit 0 only when nothing carries the token.

use crate::cli::VerifyArgs;
use crate::config::{resolve_repo_path, Globals, Scope, TokenSpec};
use crate::exit_codes::ExitCode;
use crate::prompt::{NoTerminal, Prompter, TerminalPrompter};
use crate::report::{self, Warning};
use crate::scan::{self, matcher::Matcher, patterns::PatternSet, repo::Repo, verify, ScanOptions};
use crate::tokens;
use anyhow::{bail, Context, Result};
use git2::Oid;
use std::path::{Path, PathBuf};

pub fn run(args: VerifyArgs, globals: &Globals) -> Result<ExitCode> {
    let repo_path = resolve_repo_path(args.repo)?;
    let local = Repo::open(&repo_path)?;
    let spec = TokenSpec::from_args(args.token);
    let scope = Scope::from_args(args.scope);

    // First changed commits: explicit file, the incident record, or filter-repo's own file.
    let mut first_changed: Vec<Oid> = Vec::new();
    if let Some(file) = &args.first_changed {
        first_changed.extend(verify::read_first_changed(file)?);
    } else {
        let default = local
            .git
            .commondir()
            .join("filter-repo")
            .join("first-changed-commits");
        if default.is_file() {
            first_changed.extend(verify::read_first_changed(&default)?);
        }
    }
    if let Some(record) = &args.record {
        first_changed.extend(record_first_changed(record)?);
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
    let mut fingerprints: Vec<String> = args.fingerprint.clone();
    if let Some(record) = &args.record {
        fingerprints.extend(record_fingerprints(record)?);
    }
    for fingerprint in &fingerprints {
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
            &spec,
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

    // With --remote: a temporary mirror of what the server serves, outside the repository.
    let mirror_dir;
    let target = match &args.remote {
        Some(remote) => {
            mirror_dir = tempfile::Builder::new()
                .prefix("unleak-verify-")
                .tempdir()
                .context("cannot create a temporary directory")?;
            let mirror = mirror_dir.path().join("mirror.git");
            fetch_mirror(&local, remote, &mirror)?;
            Repo::open(&mirror)?
        }
        None => local,
    };
    let options = ScanOptions {
        threads: scope.threads,
        reachable_only: false,
        progress: globals.progress,
        command: "verify",
        env_history: false,
    };
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
    for leftover in &verification.leftover_refs {
        report.warnings.push(Warning::new(
            "leftover-ref",
            format!("{leftover} is left over from a rewrite; delete it (`git update-ref -d {leftover}`)"),
        ));
    }
    let clean = verification.clean;
    report.verification = Some(verification);

    super::print_report(
        &report,
        args.output.format,
        globals.color,
        args.output.output.as_deref(),
    )?;
    Ok(super::found_exit(!clean, args.output.exit_zero))
}

/// `git clone --mirror --no-local`: only what the remote serves (reachable objects), never its
/// unreachable leftovers, as a local clone's hard links would bring.
fn fetch_mirror(local: &Repo, remote: &str, mirror: &Path) -> Result<()> {
    let url = local
        .git
        .find_remote(remote)
        .with_context(|| format!("no remote named {remote}"))?
        .url()
        .map(str::to_string)
        .with_context(|| format!("remote {remote} has no URL"))?;
    // A relative path URL is relative to the repository.
    let url = if Path::new(&url).is_relative() && !url.contains("://") && !url.contains(':') {
        local
            .workdir
            .clone()
            .unwrap_or_else(|| local.git_dir.clone())
            .join(&url)
            .display()
            .to_string()
    } else {
        url
    };
    let status = std::process::Command::new("git")
        .args(["clone", "--quiet", "--mirror", "--no-local", "--"])
        .arg(&url)
        .arg(mirror)
        .stdin(std::process::Stdio::null())
        .status()
        .context("cannot run git")?;
    if !status.success() {
        bail!("git clone --mirror of remote {remote} failed ({status})");
    }
    Ok(())
}

/// Scans with every provider pattern and keeps only the tokens whose fingerprint was asked for (plus
/// any given in plaintext). Fingerprints found nowhere are listed as not found.
fn by_fingerprint(
    repo: &Repo,
    secrets: &[crate::secret::Secret],
    fingerprints: &[String],
    patterns: &PatternSet,
    options: &ScanOptions,
) -> Result<(report::Report, Matcher)> {
    let output = scan::scan_with(repo, secrets, Some(patterns), options)?;
    let wanted = |fingerprint: &str| {
        fingerprints.iter().any(|f| f == fingerprint)
            || secrets.iter().any(|s| s.fingerprint() == fingerprint)
    };
    let mut report = output.report;
    report.findings.retain(|f| wanted(&f.secret.fingerprint));
    report.secrets.retain(|s| wanted(&s.secret.fingerprint));
    for fingerprint in fingerprints {
        if !report
            .secrets
            .iter()
            .any(|s| &s.secret.fingerprint == fingerprint)
        {
            report.secrets.push(report::SecretSummary {
                secret: report::SecretRef {
                    redacted: "(fingerprint only)".into(),
                    fingerprint: fingerprint.clone(),
                },
                origin: "--fingerprint".into(),
                provider: None,
                rule: None,
                severity: None,
                live: None,
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
    let kept: Vec<crate::secret::Secret> = output
        .secrets
        .into_iter()
        .filter(|s| wanted(&s.fingerprint()))
        .collect();
    Ok((report, Matcher::new(&kept)))
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

fn record_fingerprints(path: &PathBuf) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an incident record (JSON)", path.display()))?;
    Ok(json["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["secret"]["fingerprint"].as_str().map(str::to_string))
        .collect())
}

fn record_first_changed(path: &PathBuf) -> Result<Vec<Oid>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an incident record (JSON)", path.display()))?;
    json["first_changed_commits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(|s| Oid::from_str(s).with_context(|| format!("{}: bad commit id {s}", path.display())))
        .collect()
}
