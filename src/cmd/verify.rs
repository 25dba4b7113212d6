//! `unleak verify`: "am I safe now?" after a rewrite. A full scan (every object, reachable or not) plus
//! the post-rewrite checks; exit 0 only when nothing carries the token.

use crate::config::VerifyConfig;
use crate::exit_codes::ExitCode;
use crate::git::Oid;
use crate::git::Repo;
use crate::matching::{exact::Matcher, patterns::PatternSet};
use crate::model::{self, Warning};
use crate::playbook::record;
use crate::scan::{self, verify, ScanOptions};
use crate::tokens;
use anyhow::{Context, Result};

pub fn run(config: VerifyConfig) -> Result<ExitCode> {
    let local = Repo::open(&config.repo)?;
    let spec = &config.tokens;
    let mut incidents = Incidents::recall(&local, &config)?;
    let first_changed = first_changed_commits(&local, &config, &incidents)?;

    let interactive = config.globals.prompts.interactive();
    let mut prompter = config.globals.prompts.prompter();
    let fingerprints = wanted_fingerprints(&config, &mut incidents)?;
    let secrets = if fingerprints.is_empty() || !spec.is_default() {
        tokens::collect(
            spec,
            &config.globals.env,
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

    let target = Target::open(local, &config)?;
    let options = config.scope.scan_options("verify", config.globals.progress);
    let patterns = PatternSet::all();
    let (mut report, matcher) = if fingerprints.is_empty() {
        (
            scan::run(&scan::Request::new(&target.repo, &secrets, &options))?.report,
            Matcher::new(&secrets),
        )
    } else {
        let named = Named::of(&config.fingerprints, &incidents);
        by_fingerprint(
            &target.repo,
            &secrets,
            &fingerprints,
            &named,
            &patterns,
            &options,
        )?
    };
    let holds = |bytes: &[u8]| {
        matcher.is_match(bytes)
            || (!fingerprints.is_empty()
                && pattern_fingerprint_match(&patterns, bytes, &fingerprints))
    };
    let verification = verify::check(&target.repo, &holds, &first_changed, !report.found())?;
    report.warnings.append(&mut incidents.notes);
    let checker = crate::issuers::liveness::Checker::new(config.offline, &config.globals.net);
    let never_found = warn_never_found(
        &mut report,
        &secrets,
        &incidents,
        &config.fingerprints,
        &checker,
    )?;
    let found = settle_verification(&mut report, verification, &config, never_found);
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

/// The incident records verify reads: the one `respond` remembered in the git dir and one named with
/// --record. They name the old token (by fingerprint) and the commits a rewrite changed first.
struct Incidents {
    /// The record named with --record.
    named: Option<record::Recalled>,
    /// The record `respond` remembered in the git dir, when it exists and reads.
    remembered: Option<record::Recalled>,
    /// No token source at all: the remembered incident names the OLD token (`.env` now holds the new one).
    use_remembered: bool,
    /// Warnings about the records, added to the report.
    notes: Vec<Warning>,
}

impl Incidents {
    /// Reads both records. An unreadable remembered record is an error only when it is the one source
    /// of the old token; otherwise it becomes a warning.
    fn recall(local: &Repo, config: &VerifyConfig) -> Result<Incidents> {
        let remembered_path = record::incident_path(&local.common_dir());
        let named = config.record.as_deref().map(record::recall).transpose()?;
        let use_remembered =
            config.tokens.is_default() && config.fingerprints.is_empty() && named.is_none();
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
        Ok(Incidents {
            named,
            remembered,
            use_remembered,
            notes,
        })
    }

    /// The records that name the tokens verified: --record, and the remembered one when it is used.
    fn used(&self) -> impl Iterator<Item = &record::Recalled> {
        self.named
            .iter()
            .chain(self.remembered.iter().filter(move |_| self.use_remembered))
    }
}

/// First changed commits: explicit file, or filter-repo's own files; plus those the incident records
/// name. Sorted, without duplicates.
fn first_changed_commits(
    local: &Repo,
    config: &VerifyConfig,
    incidents: &Incidents,
) -> Result<Vec<Oid>> {
    let mut first_changed: Vec<Oid> = Vec::new();
    if let Some(file) = &config.first_changed {
        first_changed.extend(verify::read_first_changed(file)?);
    } else {
        first_changed.extend(record::first_changed_on_disk(&[
            &local.git_dir,
            &local.common_dir(),
        ]));
    }
    for recalled in incidents.used() {
        first_changed.extend(recalled.first_changed.iter().copied());
    }
    first_changed.sort();
    first_changed.dedup();
    Ok(first_changed)
}

/// Fingerprints: given, or from the incident records; each checked to be a plain sha256 fingerprint.
/// With only fingerprints, no plaintext is needed: candidates are found by provider pattern and
/// compared by fingerprint. Using the remembered incident is said in a note.
fn wanted_fingerprints(config: &VerifyConfig, incidents: &mut Incidents) -> Result<Vec<String>> {
    let mut fingerprints: Vec<String> = config.fingerprints.clone();
    if let Some(named) = &incidents.named {
        fingerprints.extend(named.fingerprints());
    }
    if incidents.use_remembered {
        if let Some(remembered) = &incidents.remembered {
            fingerprints.extend(remembered.fingerprints());
            let tokens: Vec<String> = remembered
                .secrets
                .iter()
                .map(|(redacted, fingerprint)| format!("{redacted} ({fingerprint})"))
                .collect();
            incidents.notes.push(Warning::new(
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
    Ok(fingerprints)
}

/// The repository verified: the local one, or with --remote a temporary mirror of what the server
/// serves, outside the repository, in a private directory removed on every exit (Ctrl-C and SIGTERM
/// included). Fields drop in order: the mirror's repository before its directory.
struct Target {
    repo: Repo,
    _mirror_dir: Option<crate::git::remote::PrivateTempDir>,
}

impl Target {
    /// Opens the local repository, or clones and opens the mirror of `config.remote`.
    fn open(local: Repo, config: &VerifyConfig) -> Result<Target> {
        let Some(remote) = &config.remote else {
            return Ok(Target {
                repo: local,
                _mirror_dir: None,
            });
        };
        let mirror_dir = crate::git::remote::PrivateTempDir::new()?;
        let mirror = mirror_dir.path().join("mirror.git");
        let url = local
            .remote_url(remote)
            .with_context(|| format!("no remote named {remote}"))?
            .with_context(|| format!("remote {remote} has no URL"))?;
        let masked = crate::git::remote::mask_url_credentials(&url);
        let shown = crate::sanitize::for_terminal(&masked);
        crate::git::remote::mirror_clone(
            &local,
            remote,
            &url,
            &shown,
            &mirror_dir,
            &mirror,
            &config.globals.spawner,
        )?;
        Ok(Target {
            repo: Repo::open(&mirror)?,
            _mirror_dir: Some(mirror_dir),
        })
    }
}

/// A token given in plaintext that appears nowhere and never did here is almost always the wrong
/// one (the new token `respond` wrote to .env): "clean" would answer a question nobody asked. When no
/// record names it, its issuer settles it: a dead token is the revoked one (clean); a live one is
/// probably the new one. Warns about each token left unsettled and returns how many there are.
fn warn_never_found(
    report: &mut model::Report,
    secrets: &[crate::secret::Secret],
    incidents: &Incidents,
    given: &[String],
    checker: &crate::issuers::liveness::Checker,
) -> Result<usize> {
    let known: Vec<String> = incidents
        .named
        .iter()
        .chain(incidents.remembered.iter())
        .flat_map(record::Recalled::fingerprints)
        .chain(given.iter().cloned())
        .collect();
    let replaced: Vec<String> = incidents
        .named
        .iter()
        .chain(incidents.remembered.iter())
        .flat_map(|r| r.replaced_by.clone())
        .collect();
    let mut never_found = 0;
    for secret in secrets {
        let fingerprint = secret.fingerprint();
        let found = report
            .secrets
            .iter()
            .any(|s| s.secret.fingerprint == fingerprint && s.found);
        if found || (known.contains(&fingerprint) && !replaced.contains(&fingerprint)) {
            continue;
        }
        let mut issuer = String::new();
        if known.is_empty() && !replaced.contains(&fingerprint) {
            let liveness = checker.check(secret)?;
            match &liveness {
                crate::issuers::liveness::Liveness::Dead { detail } => {
                    report.warnings.push(Warning::new(
                        "revoked-token",
                        format!(
                            "this token ({}, from {}) is found nowhere here, and its issuer says it is dead ({detail}): it is a revoked token, and nothing here carries it",
                            secret.redacted(),
                            secret.origin()
                        ),
                    ));
                    continue;
                }
                crate::issuers::liveness::Liveness::Live { .. } => {
                    issuer = format!(
                        "; its issuer says it works ({}), so it is probably the new token",
                        liveness.reason()
                    );
                }
                crate::issuers::liveness::Liveness::Unknown { .. } => {
                    issuer = format!(
                        "; its issuer could not say whether it is dead ({})",
                        liveness.reason()
                    );
                }
            }
        }
        never_found += 1;
        let why = if replaced.contains(&fingerprint) {
            "it is the NEW token `unleak respond` wrote to .env".to_string()
        } else if known.is_empty() {
            format!("no incident record names it{issuer}")
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
    Ok(never_found)
}

/// Puts the post-rewrite checks into the report (with a warning per leftover ref) and returns whether
/// the token was found. "Clean" in the JSON means what the exit code means: nothing found in a search
/// that saw everything, and no given token that was never found.
fn settle_verification(
    report: &mut model::Report,
    mut verification: model::Verification,
    config: &VerifyConfig,
    never_found: usize,
) -> bool {
    for leftover in &verification.leftover_refs {
        report.warnings.push(Warning::new(
            "leftover-ref",
            format!("{leftover} is left over from a rewrite; delete it (`git update-ref -d {leftover}`)"),
        ));
    }
    report.completeness.accepted = config.scope.allow_incomplete && !report.completeness.complete;
    let found = !verification.clean;
    verification.clean = verification.clean && report.completeness.allows_clean();
    if never_found > 0 && !found {
        verification.clean = false;
    }
    report.verification = Some(verification);
    found
}

/// Where each fingerprint verified came from, and what its record says of its shape.
struct Named {
    /// fingerprint -> "--fingerprint" or "the incident record PATH"
    origins: std::collections::HashMap<String, String>,
    /// Every fingerprint's record shows a provider prefix (`hf_Ab…yz`): a provider pattern finds it.
    all_shapes_known: bool,
}

impl Named {
    fn of(given: &[String], incidents: &Incidents) -> Named {
        let mut origins = std::collections::HashMap::new();
        let mut all_shapes_known = given.is_empty();
        for recalled in incidents.used() {
            for (redacted, fingerprint) in &recalled.secrets {
                origins.insert(
                    fingerprint.clone(),
                    format!("the incident record {}", recalled.path.display()),
                );
                let known = crate::providers::visible_prefixes()
                    .iter()
                    .any(|p| redacted.starts_with(p));
                all_shapes_known &= known;
            }
        }
        for fingerprint in given {
            origins.insert(fingerprint.clone(), "--fingerprint".into());
        }
        Named {
            origins,
            all_shapes_known,
        }
    }
}

/// Scans with every provider pattern and keeps only the tokens whose fingerprint was asked for (plus
/// any given in plaintext). Fingerprints found nowhere are listed as not found.
fn by_fingerprint(
    repo: &Repo,
    secrets: &[crate::secret::Secret],
    fingerprints: &[String],
    named: &Named,
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
    let mut report = scan::run(&scan::Request::new(repo, &all, options))?.report;
    // A candidate found by fingerprint is named by where the fingerprint came from.
    for summary in &mut report.secrets {
        if let Some(origin) = named.origins.get(&summary.secret.fingerprint) {
            if summary.origin == "--fingerprint" {
                summary.origin = origin.clone();
            }
        }
    }
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
                origin: named
                    .origins
                    .get(fingerprint)
                    .cloned()
                    .unwrap_or_else(|| "--fingerprint".into()),
                ..model::SecretSummary::default()
            });
        }
    }
    // Said only when it may matter: a record showing `hf_Ab…yz` names a token a pattern finds.
    if !named.all_shapes_known {
        report.warnings.push(Warning::new(
            "fingerprint-only",
            "verified by fingerprint: a token that matches no provider pattern cannot be found this way; give it in plaintext (--token-stdin) if it had no known shape",
        ));
    }
    Ok((report, Matcher::new(&all)))
}

/// Whether `bytes` hold a provider-pattern match whose fingerprint is one of `fingerprints`.
fn pattern_fingerprint_match(patterns: &PatternSet, bytes: &[u8], fingerprints: &[String]) -> bool {
    let mut hits = Vec::new();
    patterns.find_all(bytes, &mut hits);
    hits.iter().any(|h| {
        let fingerprint = crate::secret::fingerprint(&patterns.token(bytes, h));
        fingerprints.contains(&fingerprint)
    })
}
