//! `unleak verify --fingerprint` (and incident records): old tokens named by fingerprint only, found by
//! provider pattern and compared by fingerprint, so no plaintext is needed.

use super::incidents::Named;
use crate::git::Repo;
use crate::matching::{exact::Matcher, patterns::PatternSet};
use crate::model::{self, Warning};
use crate::scan::{self, after_rewrite, ScanOptions};
use anyhow::Result;

/// Scans with every provider pattern and keeps only the tokens whose fingerprint was asked for (plus
/// any given in plaintext). Fingerprints found nowhere are listed as not found.
pub(super) fn by_fingerprint(
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
        after_rewrite::candidates_by_fingerprint(repo, patterns, fingerprints, options.threads)?
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
pub(super) fn pattern_fingerprint_match(
    patterns: &PatternSet,
    bytes: &[u8],
    fingerprints: &[String],
) -> bool {
    let mut hits = Vec::new();
    patterns.find_all(bytes, &mut hits);
    hits.iter().any(|h| {
        let fingerprint = crate::secret::fingerprint(&patterns.token(bytes, h));
        fingerprints.contains(&fingerprint)
    })
}
