//! `unleak audit`'s work, read-only: the scan (the whole history, a range, or files on disk), judged
//! against `.unleak.toml`, the baseline and inline markers, with liveness (`--verify`), the hygiene
//! issues and a preview of what the playbook would do; the report it makes, and whether it fails.

mod baseline;
mod files;
mod hygiene;
mod preview;
mod range;
mod review;
mod rules;

use crate::git::Repo;
use crate::model::{Report, Severity, Warning};
use crate::render::Format;
use crate::scan::{self, ScanOptions};
use crate::secret::Secret;
use crate::{dotenv, tokens};
use anyhow::Result;
use review::Review;
use std::path::{Path, PathBuf};

/// What an audit is asked, in plain values (the command resolves them from its flags).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub repo: PathBuf,
    /// `--env-file`: the dotenv file whose values are searched for exactly (default: the repository's `.env`).
    pub env_file: Option<PathBuf>,
    /// `--config`: the allowlist file (default: the repository's `.unleak.toml`).
    pub config: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    /// `--verify`: ask each issuer whether the tokens still work.
    pub verify: bool,
    pub since: Option<String>,
    pub range: Option<String>,
    /// `--no-git PATH...`: files on disk (or `-`, stdin) instead of a repository; empty for git.
    pub no_git: Vec<PathBuf>,
    pub options: ScanOptions,
    /// `--allow-incomplete`: nothing found in an incomplete search counts as clean.
    pub allow_incomplete: bool,
    /// `--format` and `--fail-on` as typed; `.unleak.toml`'s `[defaults]` fill in what was not.
    pub format: Option<Format>,
    pub fail_on: Option<Severity>,
    /// The Hugging Face endpoint the preview's revoke step names.
    pub hf_endpoint: String,
    /// The process environment, read once by `config` (the shell's `HF_TOKEN`, the current directory).
    pub env: crate::environment::Environment,
    /// How git is started (to ask whether `.env` is ignored or tracked).
    pub spawner: crate::child::Spawner,
    /// The issuers' timeout and API bases (`--verify`).
    pub net: crate::issuers::Net,
}

/// A finished audit: the report, the rules it was searched with (SARIF describes each, custom ones
/// too), the format it is shown in, and whether anything at or above the threshold remains.
pub(crate) struct Outcome {
    pub report: Report,
    pub rules: crate::providers::Rules,
    pub format: Format,
    pub fails: bool,
}

/// Runs the audit asked for; changes nothing.
pub(crate) fn run(request: &Request) -> Result<Outcome> {
    if !request.no_git.is_empty() {
        return run_without_git(request);
    }
    let repo = Repo::open(&request.repo)?;
    let workdir = repo.workdir.clone();
    let env_path = tokens::default_env_path(request.env_file.as_deref(), workdir.as_deref());
    let (exact, warnings) = env_values(request, env_path.as_deref())?;
    let range_mode = request.since.is_some() || request.range.is_some();
    let (allowlist, patterns, rule_warnings) = if range_mode && request.config.is_none() {
        rules::base_rules(request, &repo, workdir.as_deref())?
    } else {
        let (allowlist, patterns) = rules::rules(request, workdir.as_deref())?;
        (allowlist, patterns, Vec::new())
    };
    let exact = rules::known_by_custom_shape(exact, patterns.rule_set());

    let options = &request.options;
    let (mut report, secrets, env_files) = if range_mode {
        let (report, secrets) = range::range_report(
            &repo,
            &exact,
            &patterns,
            request.since.as_deref(),
            request.range.as_deref(),
        )?;
        (report, secrets, Vec::new())
    } else {
        let mut output =
            scan::run(&scan::Request::new(&repo, &exact, options).with_patterns(&patterns))?;
        // A token only in the untracked .env it was read from is at risk, not leaked: the same answer
        // as scan and respond (its hygiene issue stays).
        let notes = scan::at_risk::only_in_source(&mut output.report, workdir.as_deref());
        output.report.warnings.extend(notes);
        (output.report, output.secrets, output.env_files)
    };
    report.warnings.extend(warnings);
    report.warnings.extend(rule_warnings);

    let review = Review {
        repo: Some(&repo),
        allowlist: &allowlist,
        rules: patterns.rule_set(),
        secrets: &secrets,
        env_path: env_path.as_deref(),
        env_files: &env_files,
        range_mode,
    };
    finish(request, &review, report)
}

/// `audit --no-git PATH...`: files on disk (or stdin) judged as a repository's findings are (allowlist,
/// baseline, `--verify`, formats, exit codes); the `.env` and `.unleak.toml` are the current folder's.
/// The `.env` whose values are searched for is not itself searched when a folder walk meets it (it is
/// where tokens belong); named explicitly, it is.
fn run_without_git(request: &Request) -> Result<Outcome> {
    let cwd = request.env.current_dir()?;
    let env_path = tokens::default_env_path(request.env_file.as_deref(), Some(&cwd));
    let (exact, warnings) = env_values(request, env_path.as_deref())?;
    let (allowlist, patterns) = rules::rules(request, Some(&cwd))?;
    let exact = rules::known_by_custom_shape(exact, patterns.rule_set());
    let source = env_path.as_deref().and_then(|p| p.canonicalize().ok());
    let (mut report, secrets) =
        files::files_report(&request.no_git, &exact, &patterns, source.as_deref())?;
    report.warnings.extend(warnings);
    let review = Review {
        repo: None,
        allowlist: &allowlist,
        rules: patterns.rule_set(),
        secrets: &secrets,
        env_path: env_path.as_deref(),
        env_files: &[],
        range_mode: true,
    };
    finish(request, &review, report)
}

/// What every audit ends with: the review (allowlist, baseline, markers, liveness, hygiene), the
/// playbook preview, the format (`--format`, else `[defaults]`, else human), and whether anything at or
/// above the threshold (`--fail-on`, else `[defaults]`, else low) remains.
fn finish(request: &Request, review: &Review<'_>, mut report: Report) -> Result<Outcome> {
    review.judge(request, &mut report)?;
    let Review {
        allowlist,
        rules,
        secrets,
        ..
    } = *review;
    // Files that are not in git need no history rewrite: the preview is for a repository's audit.
    if request.no_git.is_empty() {
        report.playbook = preview::playbook_preview(&report, secrets, rules, &request.hf_endpoint);
    }
    report.completeness.accepted = request.allow_incomplete && !report.completeness.complete;

    let format = request
        .format
        .or(allowlist.defaults.format)
        .unwrap_or(Format::Human);
    let threshold = request
        .fail_on
        .or(allowlist.defaults.fail_on)
        .unwrap_or(Severity::Low);
    Ok(Outcome {
        fails: fails(&report, threshold),
        report,
        rules: rules.clone(),
        format,
    })
}

/// Exact values: every secret-looking value of .env, so a leak that matches no pattern is caught too;
/// with a warning per key the file sets twice. A named file that does not exist is an error.
fn env_values(request: &Request, env_path: Option<&Path>) -> Result<(Vec<Secret>, Vec<Warning>)> {
    let mut exact: Vec<Secret> = Vec::new();
    let mut warnings = Vec::new();
    if let Some(path) = env_path.filter(|p| p.is_file()) {
        let env = dotenv::read(path)?;
        for (key, value) in env.entries() {
            // The same normalization as every token source; a value it refuses is no token.
            let origin = format!("{}:{key}", path.display());
            let Ok(value) = tokens::normalize(&value, &origin) else {
                continue;
            };
            if tokens::looks_like_secret(&value) && !exact.iter().any(|s| s.expose() == *value) {
                exact.push(Secret::new(value.as_str(), origin));
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
    } else if request.env_file.is_some() {
        anyhow::bail!(
            "{} does not exist",
            env_path.unwrap_or(Path::new("")).display()
        );
    }
    Ok((exact, warnings))
}

/// Whether anything at or above `threshold` remains.
pub(crate) fn fails(report: &Report, threshold: Severity) -> bool {
    report.findings.iter().any(|f| f.severity >= threshold)
        || report
            .secrets
            .iter()
            .any(|s| s.severity.is_some_and(|v| v >= threshold))
        || report.hygiene.iter().any(|h| h.severity >= threshold)
}
