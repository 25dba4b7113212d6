//! `unleak audit`: "has anything leaked here, and what would the playbook do?" without changing a thing.
//! No prompt, no write; the network only with `--verify` (read-only whoami).

use crate::audit::{self, Allowlist};
use crate::cli::{AuditArgs, FailOn};
use crate::config::{resolve_repo_path, Globals, Scope};
use crate::exit_codes::ExitCode;
use crate::playbook::hf_api::{HfApi, TokenStatus};
use crate::report::{self, Severity, Warning};
use crate::scan::{self, patterns::PatternSet, repo::Repo, ScanOptions};
use crate::secret::Secret;
use crate::{dotenv, providers, tokens};
use anyhow::Result;
use std::collections::HashSet;

pub fn run(args: AuditArgs, globals: &Globals) -> Result<ExitCode> {
    let repo = Repo::open(&resolve_repo_path(args.repo)?)?;
    let scope = Scope::from_args(args.scope);
    let workdir = repo.workdir.clone();

    // Exact values: every secret-looking value of .env, so a leak that matches no pattern is caught too.
    let env_path = tokens::default_env_path(args.env_file.as_deref(), workdir.as_deref());
    let mut exact: Vec<Secret> = Vec::new();
    let mut warnings = Vec::new();
    if let Some(path) = env_path.as_ref().filter(|p| p.is_file()) {
        let env = dotenv::read(path)?;
        for (key, value) in env.entries() {
            if tokens::looks_like_secret(&value) && !exact.iter().any(|s| s.expose() == value) {
                exact.push(Secret::new(value, format!("{}:{key}", path.display())));
            }
        }
        for key in env.duplicate_keys() {
            warnings.push(Warning::new(
                "env-duplicate-key",
                format!(
                    "{} sets {key} more than once; the last one wins",
                    path.display()
                ),
            ));
        }
    } else if args.env_file.is_some() {
        anyhow::bail!("{} does not exist", env_path.unwrap_or_default().display());
    }

    let patterns = PatternSet::all();
    let options = ScanOptions {
        threads: scope.threads,
        reachable_only: scope.reachable_only,
        progress: globals.progress,
        command: "audit",
        env_history: true,
    };
    let output = scan::scan_with(&repo, &exact, Some(&patterns), &options)?;
    let mut report = output.report;
    report.warnings.extend(warnings);

    // Accepted findings: the allowlist and the baseline.
    let config_path = args.config.clone().or_else(|| {
        workdir
            .as_ref()
            .map(|w| w.join(".unleak.toml"))
            .filter(|p| p.is_file())
    });
    let allowlist = match &config_path {
        Some(path) => Allowlist::load(path)?,
        None => Allowlist::default(),
    };
    let baseline = match &args.baseline {
        Some(path) => audit::load_baseline(path)?,
        None => HashSet::new(),
    };
    let suppressed = audit::suppress(&mut report, &allowlist, &baseline);
    // Hygiene looks at what is left, so an accepted token is not reported again as hardcoded.
    report.hygiene = audit::hygiene_issues(&repo, &report, env_path.as_deref(), &output.env_files)?;
    report
        .hygiene
        .retain(|issue| !allowlist.allows_issue(issue));
    report
        .warnings
        .extend(audit::suppressed_warning(suppressed));

    if args.verify {
        verify_live(&mut report, &output.secrets)?;
    } else if report.secrets.iter().any(|s| s.found) {
        report.warnings.push(Warning::new(
            "not-verified",
            "offline: whether the tokens still work was not checked (--verify asks Hugging Face's whoami)",
        ));
    }
    report.playbook = audit::playbook_preview(&report, &output.secrets);

    super::print_report(
        &report,
        args.output.format,
        globals.color,
        args.output.output.as_deref(),
    )?;
    let threshold = match args.fail_on {
        FailOn::High => Severity::High,
        FailOn::Medium => Severity::Medium,
        FailOn::Low => Severity::Low,
    };
    Ok(super::found_exit(
        audit::fails(&report, threshold),
        args.output.exit_zero,
    ))
}

/// Labels each Hugging Face token live, dead or unknown with the read-only whoami call.
fn verify_live(report: &mut report::Report, secrets: &[Secret]) -> Result<()> {
    let api = HfApi::from_env()?;
    for summary in &mut report.secrets {
        let Some(secret) = secrets
            .iter()
            .find(|s| s.fingerprint() == summary.secret.fingerprint)
        else {
            continue;
        };
        let is_hf = providers::identify(secret.expose())
            .is_some_and(|p| p.id == providers::HUGGING_FACE.id);
        summary.live = Some(
            if !is_hf {
                "unknown"
            } else {
                match api.whoami(secret) {
                    Ok(TokenStatus::Valid(_)) => "live",
                    Ok(TokenStatus::Invalid) | Ok(TokenStatus::Denied) => "dead",
                    _ => "unknown",
                }
            }
            .to_string(),
        );
    }
    Ok(())
}
