//! `unleak audit`: "has anything leaked here, and what would the playbook do?" without changing a thing.
//! No prompt, no write; the network only with `--verify` (read-only whoami).

use crate::audit::{self, Allowlist};
use crate::config::AuditConfig;
use crate::exit_codes::ExitCode;
use crate::git::Repo;
use crate::issuers::liveness::Checker;
use crate::matching::patterns::PatternSet;
use crate::model::{self, Severity, Warning};
use crate::scan;
use crate::secret::Secret;
use crate::{dotenv, providers, tokens};
use anyhow::Result;
use std::collections::HashSet;
use std::path::Path;

pub fn run(config: AuditConfig) -> Result<ExitCode> {
    if !config.no_git.is_empty() {
        return run_without_git(config);
    }
    let repo = Repo::open(&config.repo)?;
    let workdir = repo.workdir.clone();
    let env_path = tokens::default_env_path(config.env_file.as_deref(), workdir.as_deref());
    let (exact, warnings) = env_values(&config, env_path.as_deref())?;
    let range_mode = config.since.is_some() || config.range.is_some();
    let (allowlist, patterns, rule_warnings) = if range_mode && config.config.is_none() {
        base_rules(&config, &repo, workdir.as_deref())?
    } else {
        let (allowlist, patterns) = rules(&config, workdir.as_deref())?;
        (allowlist, patterns, Vec::new())
    };

    let options = config.scope.scan_options("audit", config.globals.progress);
    let (mut report, secrets, env_files) = if range_mode {
        let (report, secrets) = range_report(
            &repo,
            &exact,
            &patterns,
            config.since.as_deref(),
            config.range.as_deref(),
        )?;
        (report, secrets, Vec::new())
    } else {
        let mut output =
            scan::run(&scan::Request::new(&repo, &exact, &options).with_patterns(&patterns))?;
        // A token only in the untracked .env it was read from is at risk, not leaked: the same answer
        // as scan and respond (its hygiene issue stays).
        let notes = audit::only_in_source(&mut output.report, workdir.as_deref());
        output.report.warnings.extend(notes);
        (output.report, output.secrets, output.env_files)
    };
    report.warnings.extend(warnings);
    report.warnings.extend(rule_warnings);

    let review = Review {
        repo: Some(&repo),
        allowlist: &allowlist,
        secrets: &secrets,
        env_path: env_path.as_deref(),
        env_files: &env_files,
        range_mode,
    };
    review.judge(&config, &mut report)?;
    finish(&config, &allowlist, report, &secrets)
}

/// `audit --no-git PATH...`: files on disk (or stdin) judged as a repository's findings are (allowlist,
/// baseline, `--verify`, formats, exit codes); the `.env` and `.unleak.toml` are the current folder's.
/// The `.env` whose values are searched for is not itself searched when a folder walk meets it (it is
/// where tokens belong); named explicitly, it is.
fn run_without_git(config: AuditConfig) -> Result<ExitCode> {
    let cwd = config.globals.env.current_dir()?;
    let env_path = tokens::default_env_path(config.env_file.as_deref(), Some(&cwd));
    let (exact, warnings) = env_values(&config, env_path.as_deref())?;
    let (allowlist, patterns) = rules(&config, Some(&cwd))?;
    let source = env_path.as_deref().and_then(|p| p.canonicalize().ok());
    let (mut report, secrets) = files_report(&config.no_git, &exact, &patterns, source.as_deref())?;
    report.warnings.extend(warnings);
    let review = Review {
        repo: None,
        allowlist: &allowlist,
        secrets: &secrets,
        env_path: env_path.as_deref(),
        env_files: &[],
        range_mode: true,
    };
    review.judge(&config, &mut report)?;
    finish(&config, &allowlist, report, &secrets)
}

/// The report of files on disk, in the usual model: a finding per token and place, summaries per token.
fn files_report(
    paths: &[std::path::PathBuf],
    exact: &[Secret],
    patterns: &PatternSet,
    env_source: Option<&Path>,
) -> Result<(model::Report, Vec<Secret>)> {
    let started = std::time::Instant::now();
    let inputs = scan::files::read(paths, &mut std::io::stdin().lock(), env_source)?;
    let (found, discovered) = scan::staged::file_findings(
        inputs
            .files
            .iter()
            .map(|f| (f.shown.as_str(), f.bytes.as_slice())),
        exact,
        patterns,
    );
    let findings: Vec<model::Finding> = found
        .into_iter()
        .map(scan::findings::file_finding)
        .collect();
    let mut secrets: Vec<Secret> = exact.to_vec();
    secrets.extend(discovered);
    let summaries = scan::findings::range_summaries(exact, &secrets, &findings);
    let mut warnings = vec![Warning::new(
        "no-git",
        format!(
            "files on disk were searched ({} file(s)), not a repository's history: run `unleak audit` \
             in the repository for what its commits hold",
            inputs.files.len()
        ),
    )];
    if inputs.links > 0 {
        warnings.push(Warning::new(
            "symlink",
            format!(
                "{} symbolic link(s) were not followed (their targets are searched where they are)",
                inputs.links
            ),
        ));
    }
    let unreadable = inputs.unreadable.len() as u64;
    let completeness = model::Completeness {
        complete: unreadable == 0,
        unreadable_objects: unreadable,
        reasons: inputs
            .unreadable
            .iter()
            .map(|why| format!("cannot read {why}"))
            .collect(),
        ..model::Completeness::default()
    };
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let report = model::Report {
        format_version: model::FORMAT_VERSION,
        tool: Default::default(),
        command: "audit".to_string(),
        repository: model::RepositoryInfo {
            path: shown.join(" "),
            bare: false,
            shallow: false,
            partial: false,
            head: None,
            remotes: Vec::new(),
        },
        secrets: summaries,
        findings,
        warnings,
        hygiene: Vec::new(),
        playbook: Vec::new(),
        verification: None,
        completeness,
        local_copies: Vec::new(),
        stats: model::Stats {
            objects: inputs.files.len() as u64,
            blobs: inputs.files.len() as u64,
            bytes: inputs.files.iter().map(|f| f.bytes.len() as u64).sum(),
            unreadable_objects: unreadable,
            elapsed_ms: started.elapsed().as_millis() as u64,
            ..model::Stats::default()
        },
    };
    Ok((report, secrets))
}

/// What every audit ends with: the playbook preview, the report in its format, the exit code.
fn finish(
    config: &AuditConfig,
    allowlist: &Allowlist,
    mut report: model::Report,
    secrets: &[Secret],
) -> Result<ExitCode> {
    // Files that are not in git need no history rewrite: the preview is for a repository's audit.
    if config.no_git.is_empty() {
        report.playbook = audit::playbook_preview(&report, secrets, &config.hf_endpoint);
    }
    report.completeness.accepted = config.scope.allow_incomplete && !report.completeness.complete;

    let format = config
        .format
        .or(allowlist.defaults.format)
        .unwrap_or(crate::report::Format::Human);
    super::print_report(
        &report,
        format,
        config.globals.color,
        config.output.as_deref(),
    )?;
    let threshold = config
        .fail_on
        .or(allowlist.defaults.fail_on)
        .unwrap_or(Severity::Low);
    Ok(super::search_exit(
        audit::fails(&report, threshold),
        &report.completeness,
        config.exit_zero,
    ))
}

/// Exact values: every secret-looking value of .env, so a leak that matches no pattern is caught too;
/// with a warning per key the file sets twice. A named file that does not exist is an error.
fn env_values(
    config: &AuditConfig,
    env_path: Option<&Path>,
) -> Result<(Vec<Secret>, Vec<Warning>)> {
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
    } else if config.env_file.is_some() {
        anyhow::bail!(
            "{} does not exist",
            env_path.unwrap_or(Path::new("")).display()
        );
    }
    Ok((exact, warnings))
}

/// The allowlist, defaults and custom rules (read before the scan: custom rules are scanned for), and
/// the provider patterns with the custom rule registered.
fn rules(config: &AuditConfig, workdir: Option<&Path>) -> Result<(Allowlist, PatternSet)> {
    let config_path = config.config.clone().or_else(|| {
        workdir
            .map(|w| w.join(".unleak.toml"))
            .filter(|p| p.is_file())
    });
    let allowlist = match &config_path {
        Some(path) => Allowlist::load(path)?,
        None => Allowlist::default(),
    };
    let patterns = match audit::custom_provider(&allowlist.rule) {
        Some(custom) => {
            providers::register_custom(custom);
            PatternSet::new(&providers::with_custom())
        }
        None => PatternSet::all(),
    };
    Ok((allowlist, patterns))
}

/// A range audit's rules: the allowlist, defaults and custom rules of `.unleak.toml` as the base commit
/// has it, never as the change under review has it (a pull request adding `[[allow]] path = "**"`
/// would otherwise pass its own review); `--config PATH` still wins. Says so when the checkout's file
/// differs.
fn base_rules(
    config: &AuditConfig,
    repo: &Repo,
    workdir: Option<&Path>,
) -> Result<(Allowlist, PatternSet, Vec<Warning>)> {
    let mut warnings = Vec::new();
    let base = scan::staged::range_base(repo, config.since.as_deref(), config.range.as_deref())?;
    let at_base = repo.file_at(base, ".unleak.toml").map_err(|err| {
        anyhow::anyhow!(
            "cannot read .unleak.toml at the range's base {base}: {}",
            err.message()
        )
    })?;
    let name = std::path::PathBuf::from(format!("{base}:.unleak.toml"));
    let allowlist = match &at_base {
        Some(bytes) => Allowlist::parse(&String::from_utf8_lossy(bytes), &name)?,
        None => Allowlist::default(),
    };
    let checkout = workdir.and_then(|w| std::fs::read(w.join(".unleak.toml")).ok());
    if checkout != at_base {
        warnings.push(Warning::new(
            "allowlist-from-base",
            format!(
                "the checkout's .unleak.toml differs from the range's base ({base}): a range audit takes the allowlist and custom rules from the base, so the change under review cannot allow its own findings; its edits apply once merged"
            ),
        ));
    }
    let patterns = match audit::custom_provider(&allowlist.rule) {
        Some(custom) => {
            providers::register_custom(custom);
            PatternSet::new(&providers::with_custom())
        }
        None => PatternSet::all(),
    };
    Ok((allowlist, patterns, warnings))
}

/// What the audit judges once the scan is done, and from what.
struct Review<'a> {
    /// None for `--no-git`: no inline markers to read back, no hygiene of a checkout.
    repo: Option<&'a Repo>,
    allowlist: &'a Allowlist,
    secrets: &'a [Secret],
    env_path: Option<&'a Path>,
    env_files: &'a [(String, String)],
    /// `--since`/`--range`: the commits are judged, not the checkout.
    range_mode: bool,
}

impl Review<'_> {
    /// Suppresses what the allowlist, the baseline and inline markers accept, checks liveness, adds the
    /// hygiene issues, and says how much was suppressed.
    fn judge(&self, config: &AuditConfig, report: &mut model::Report) -> Result<()> {
        let baseline = match &config.baseline {
            Some(path) => audit::load_baseline(path)?,
            None => HashSet::new(),
        };
        let repo = self.repo.filter(|_| !self.range_mode);
        let inline = repo.map_or(0, |repo| audit::suppress_inline(repo, report));
        let suppressed = inline + audit::suppress(report, self.allowlist, &baseline);
        // Liveness before hygiene: a token confirmed dead is reported at low severity everywhere.
        if config.verify {
            verify_live(report, self.secrets, &config.globals.net)?;
        } else if report.secrets.iter().any(|s| s.found) {
            report.warnings.push(Warning::new(
                "not-verified",
                "not checked whether the tokens still work (--verify asks each issuer's read-only identity API)",
            ));
        }
        // Hygiene looks at what is left, so an accepted token is not reported again as hardcoded.
        // Pull-request mode judges the commits, not the working tree: no hygiene of the checkout.
        if let Some(repo) = repo {
            report.hygiene = audit::hygiene_issues(
                repo,
                report,
                self.secrets,
                self.env_path,
                self.env_files,
                &config.globals.env,
                &config.globals.spawner,
            )?;
        }
        report
            .hygiene
            .retain(|issue| !self.allowlist.allows_issue(issue));
        let suppressed = suppressed + audit::suppress_hygiene(report, &baseline);
        report
            .warnings
            .extend(audit::suppressed_warning(suppressed));
        Ok(())
    }
}

/// Labels each token live, dead or unknown (with why) by its issuer's read-only identity call. A token
/// confirmed dead is no longer a live credential: its findings drop to low severity (still reported, so
/// history gets cleaned, but `--fail-on medium` no longer fails on a rotated token).
fn verify_live(
    report: &mut model::Report,
    secrets: &[Secret],
    net: &crate::issuers::Net,
) -> Result<()> {
    let checker = Checker::new(false, net);
    let mut dead = HashSet::new();
    for summary in &mut report.secrets {
        let Some(secret) = secrets
            .iter()
            .find(|s| s.fingerprint() == summary.secret.fingerprint)
        else {
            continue;
        };
        let liveness = checker.check(secret)?;
        if liveness.is_dead() {
            dead.insert(summary.secret.fingerprint.clone());
            summary.severity = summary.severity.map(|_| Severity::Low);
        }
        summary.live = Some(liveness.label().to_string());
        summary.live_reason = Some(liveness.reason());
    }
    for finding in &mut report.findings {
        if dead.contains(&finding.secret.fingerprint) {
            finding.severity = Severity::Low;
        }
    }
    Ok(())
}

/// Pull-request mode: a report of what the commits of the range add, in the usual model (so exit codes,
/// baselines, allowlists, --verify and SARIF work as for a full audit). A finding is high when a
/// remote-tracking ref already holds its commit, else medium.
fn range_report(
    repo: &Repo,
    exact: &[Secret],
    patterns: &PatternSet,
    since: Option<&str>,
    range: Option<&str>,
) -> Result<(model::Report, Vec<Secret>)> {
    let started = std::time::Instant::now();
    let commits = scan::staged::range_commits(repo, since, range)?;
    let marked = std::cell::Cell::new(0);
    let (found, discovered) =
        scan::staged::range_findings(repo, &commits, exact, patterns, false, &marked)?;
    let remote_tips: Vec<crate::git::Oid> = repo.remote_tracking_tips();
    let pushed = |commit: crate::git::Oid| {
        remote_tips
            .iter()
            .any(|&tip| tip == commit || repo.is_descendant(tip, commit))
    };
    let findings: Vec<model::Finding> = found
        .into_iter()
        .map(|f| {
            let is_pushed = pushed(f.commit);
            scan::findings::range_finding(f, is_pushed)
        })
        .collect();
    let mut secrets: Vec<Secret> = exact.to_vec();
    secrets.extend(discovered);
    let summaries = scan::findings::range_summaries(exact, &secrets, &findings);
    let elapsed = started.elapsed().as_millis() as u64;
    let report = model::Report {
        format_version: model::FORMAT_VERSION,
        tool: Default::default(),
        command: "audit".to_string(),
        repository: repo.info(Vec::new()),
        secrets: summaries,
        findings,
        warnings: std::iter::once(Warning::new(
            "range",
            format!(
                "pull-request mode: only what {} commit(s) add was searched, not the whole history",
                commits.len()
            ),
        ))
        .chain((marked.get() > 0).then(|| {
            Warning::new(
                "inline-allow-in-range",
                format!(
                    "{} match(es) sit on lines marked `unleak:allow` and are reported anyway: a range audit does not honour markers the change under review adds; allow them in the base's .unleak.toml",
                    marked.get()
                ),
            )
        }))
        .collect(),
        hygiene: Vec::new(),
        playbook: Vec::new(),
        local_copies: Vec::new(),
        verification: None,
        // The range is the whole question here: history outside it (a shallow CI checkout's) is not
        // part of the answer, so only what the range could not read would make it incomplete.
        completeness: model::Completeness::new(false, repo.partial, 0, 0),
        stats: model::Stats {
            commits: commits.len() as u64,
            elapsed_ms: elapsed,
            ..Default::default()
        },
    };
    Ok((report, secrets))
}
