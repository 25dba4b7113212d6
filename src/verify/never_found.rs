//! A token given in plaintext that is found nowhere: the revoked one (clean), or probably the new one
//! (unconfirmed), by what the records and its issuer say.

use super::incidents::Incidents;
use crate::model::{self, Warning};
use crate::playbook::record;
use anyhow::Result;

/// A token given in plaintext that appears nowhere and never did here is almost always the wrong
/// one (the new token `respond` wrote to .env): "clean" would answer a question nobody asked. When no
/// record names it, its issuer settles it: a dead token is the revoked one (clean); a live one is
/// probably the new one. Warns about each token left unsettled and returns how many there are.
pub(super) fn warn_never_found(
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
