//! What the playbook would do for each token an audit found (`unleak respond`'s steps, shown, not run).

use crate::model::{PlaybookPreview, Report};
use crate::providers;
use crate::secret::Secret;

pub(crate) fn playbook_preview(
    report: &Report,
    secrets: &[Secret],
    rules: &providers::Rules,
    hf_endpoint: &str,
) -> Vec<PlaybookPreview> {
    report
        .secrets
        .iter()
        .filter(|s| s.found)
        .filter_map(|summary| {
            let secret = secrets.iter().find(|s| s.fingerprint() == summary.secret.fingerprint)?;
            // The generic rule names no issuer: as unknown as a value no rule knows.
            let provider = secret
                .identify_in(rules)
                .map(|r| r.provider)
                .filter(|p| p.id != providers::GENERIC.id);
            let revoke = match provider {
                Some(p) if p.id == providers::HUGGING_FACE.id => format!(
                    "POST {}/api/credentials/revoke (no login), or delete it at {}; confirm with whoami-v2 (401)",
                    hf_endpoint,
                    crate::issuers::huggingface::page_on_endpoint(
                        p.revoke_url.unwrap_or_default(),
                        hf_endpoint
                    )
                ),
                Some(p) => match p.revoke_url {
                    Some(url) => format!("revoke it at {url}"),
                    None => format!("revoke it with {}", p.name),
                },
                None => "revoke it where it was issued".to_string(),
            };
            let mine = report.findings.iter().filter(|f| f.secret.fingerprint == summary.secret.fingerprint);
            let rewrite_messages = mine.clone().any(|f| {
                matches!(f.location, crate::model::Location::CommitMessage | crate::model::Location::TagMessage)
            });
            Some(PlaybookPreview {
                secret: summary.secret.clone(),
                provider: provider.map(|p| p.id.to_string()),
                revoke,
                rewrite_expression: crate::filter_repo::regex_expression(secret),
                rewrite_messages,
            })
        })
        .collect()
}
