//! `unleak verify`'s work: "am I safe now?" after a rewrite. A full scan (every object, reachable or
//! not) for the old tokens (given in plaintext, by fingerprint, or named by an incident record), plus the
//! post-rewrite checks (`scan::after_rewrite`); clean only when nothing carries them.

mod by_fingerprint;
mod incidents;
mod never_found;
mod target;

use crate::issuers::liveness::Checker;
use crate::matching::{exact::Matcher, patterns::PatternSet};
use crate::model::{self, Report, Warning};
use crate::prompt::Prompter;
use crate::scan::{self, after_rewrite, ScanOptions};
use crate::tokens::{self, TokenSpec};
use anyhow::Result;
use incidents::{first_changed_commits, wanted_fingerprints, Incidents, Named};
use std::path::PathBuf;
use target::Target;

/// What `unleak verify` is asked, in plain values (the command resolves them from its flags).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub repo: PathBuf,
    pub tokens: TokenSpec,
    /// `--fingerprint`: old tokens named by fingerprint only.
    pub fingerprints: Vec<String>,
    /// `--record`: an incident record naming the old tokens.
    pub record: Option<PathBuf>,
    /// `--first-changed`: filter-repo's list of first changed commits.
    pub first_changed: Option<PathBuf>,
    /// `--remote`: verify what this remote serves, not the local repository.
    pub remote: Option<String>,
    /// `--offline`: the issuer is not asked about a token found nowhere.
    pub offline: bool,
    pub options: ScanOptions,
    /// `--allow-incomplete`: nothing found in an incomplete search counts as clean.
    pub allow_incomplete: bool,
    /// The process environment, read once by `config` (token variables, the current directory).
    pub env: crate::environment::Environment,
    /// How git is started for a `--remote` mirror.
    pub spawner: crate::child::Spawner,
    /// The issuers' timeout and API bases.
    pub net: crate::issuers::Net,
}

/// A finished verification: the report (its `verification` filled in), whether a token was found, and
/// how many tokens given in plaintext were found nowhere and left unsettled.
pub(crate) struct Outcome {
    pub report: Report,
    pub found: bool,
    pub never_found: usize,
}

/// Verifies; reads only (a `--remote` mirror is cloned into a private temporary directory). `prompter`
/// asks for a token when the token flags say so.
pub(crate) fn run(
    request: &Request,
    prompter: &mut dyn Prompter,
    interactive: bool,
) -> Result<Outcome> {
    let local = crate::git::Repo::open(&request.repo)?;
    let spec = &request.tokens;
    let mut incidents = Incidents::recall(&local, request)?;
    let first_changed = first_changed_commits(&local, request, &incidents)?;

    let fingerprints = wanted_fingerprints(request, &mut incidents)?;
    let secrets = if fingerprints.is_empty() || !spec.is_default() {
        tokens::collect(
            spec,
            &request.env,
            local.workdir.as_deref(),
            // Not locked: a hidden prompt may need the terminal while this reader exists.
            &mut std::io::BufReader::new(std::io::stdin()),
            prompter,
            interactive,
        )?
        .secrets
    } else {
        Vec::new()
    };

    let target = Target::open(local, request)?;
    let options = &request.options;
    let patterns = PatternSet::all();
    let (mut report, matcher) = if fingerprints.is_empty() {
        (
            scan::run(&scan::Request::new(&target.repo, &secrets, options))?.report,
            Matcher::new(&secrets),
        )
    } else {
        let named = Named::of(&request.fingerprints, &incidents);
        by_fingerprint::by_fingerprint(
            &target.repo,
            &secrets,
            &fingerprints,
            &named,
            &patterns,
            options,
        )?
    };
    let holds = |bytes: &[u8]| {
        matcher.is_match(bytes)
            || (!fingerprints.is_empty()
                && by_fingerprint::pattern_fingerprint_match(&patterns, bytes, &fingerprints))
    };
    let verification = after_rewrite::check(&target.repo, &holds, &first_changed, !report.found())?;
    report.warnings.append(&mut incidents.notes);
    let checker = Checker::new(request.offline, &request.net);
    let never_found = never_found::warn_never_found(
        &mut report,
        &secrets,
        &incidents,
        &request.fingerprints,
        &checker,
    )?;
    let found = settle_verification(&mut report, verification, request, never_found);
    Ok(Outcome {
        report,
        found,
        never_found,
    })
}

/// Puts the post-rewrite checks into the report (with a warning per leftover ref) and returns whether
/// the token was found. "Clean" in the JSON means what the exit code means: nothing found in a search
/// that saw everything, and no given token that was never found.
fn settle_verification(
    report: &mut model::Report,
    mut verification: model::Verification,
    request: &Request,
    never_found: usize,
) -> bool {
    for leftover in &verification.leftover_refs {
        report.warnings.push(Warning::new(
            "leftover-ref",
            format!("{leftover} is left over from a rewrite; delete it (`git update-ref -d {leftover}`)"),
        ));
    }
    report.completeness.accepted = request.allow_incomplete && !report.completeness.complete;
    let found = !verification.clean;
    verification.clean = verification.clean && report.completeness.allows_clean();
    if never_found > 0 && !found {
        verification.clean = false;
    }
    report.verification = Some(verification);
    found
}
