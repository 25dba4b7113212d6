//! What names the old tokens `unleak verify` looks for: the incident records (`--record`, and the one
//! `respond` remembered in the git dir), `--fingerprint`, and the commits a rewrite changed first.

use super::Request;
use crate::git::{Oid, Repo};
use crate::model::Warning;
use crate::playbook::record;
use crate::scan::after_rewrite;
use anyhow::Result;

/// The incident records verify reads: the one `respond` remembered in the git dir and one named with
/// --record. They name the old token (by fingerprint) and the commits a rewrite changed first.
pub(super) struct Incidents {
    /// The record named with --record.
    pub(super) named: Option<record::Recalled>,
    /// The record `respond` remembered in the git dir, when it exists and reads.
    pub(super) remembered: Option<record::Recalled>,
    /// No token source at all: the remembered incident names the OLD token (`.env` now holds the new one).
    pub(super) use_remembered: bool,
    /// Warnings about the records, added to the report.
    pub(super) notes: Vec<Warning>,
}

impl Incidents {
    /// Reads both records. An unreadable remembered record is an error only when it is the one source
    /// of the old token; otherwise it becomes a warning.
    pub(super) fn recall(local: &Repo, request: &Request) -> Result<Incidents> {
        let remembered_path = record::incident_path(&local.common_dir());
        let named = request.record.as_deref().map(record::recall).transpose()?;
        let use_remembered =
            request.tokens.is_default() && request.fingerprints.is_empty() && named.is_none();
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
    pub(super) fn used(&self) -> impl Iterator<Item = &record::Recalled> {
        self.named
            .iter()
            .chain(self.remembered.iter().filter(move |_| self.use_remembered))
    }
}

/// First changed commits: explicit file, or filter-repo's own files; plus those the incident records
/// name. Sorted, without duplicates.
pub(super) fn first_changed_commits(
    local: &Repo,
    request: &Request,
    incidents: &Incidents,
) -> Result<Vec<Oid>> {
    let mut first_changed: Vec<Oid> = Vec::new();
    if let Some(file) = &request.first_changed {
        first_changed.extend(after_rewrite::read_first_changed(file)?);
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
pub(super) fn wanted_fingerprints(
    request: &Request,
    incidents: &mut Incidents,
) -> Result<Vec<String>> {
    let mut fingerprints: Vec<String> = request.fingerprints.clone();
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

/// Where each fingerprint verified came from, and what its record says of its shape.
pub(super) struct Named {
    /// fingerprint -> "--fingerprint" or "the incident record PATH"
    pub(super) origins: std::collections::HashMap<String, String>,
    /// Every fingerprint's record shows a provider prefix (`hf_Ab…yz`): a provider pattern finds it.
    pub(super) all_shapes_known: bool,
}

impl Named {
    pub(super) fn of(given: &[String], incidents: &Incidents) -> Named {
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
