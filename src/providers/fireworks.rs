//! Fireworks AI: API keys (`fw_`; the length is not documented, so medium confidence).

use super::{Confidence, Pattern, Provider};

const HELP: &str = "Delete the key at https://fireworks.ai/account/api-keys, check usage for calls you do not recognize, create a new one, and remove the old key from history.";

pub(crate) static FIREWORKS: Provider = Provider {
    id: "fireworks",
    name: "Fireworks AI",
    env_vars: &["FIREWORKS_API_KEY"],
    revoke_url: Some("https://fireworks.ai/account/api-keys"),
    create_url: Some("https://fireworks.ai/account/api-keys"),
    patterns: &[
        Pattern {
            id: "fireworks.api-key",
            description: "Fireworks AI API key",
            details: "`fw_` followed by 24 letters and digits: a Fireworks AI key. The length comes from public scanners, not from Fireworks: medium confidence.",
            help: HELP,
            prefixes: &["fw_"],
            regex: r#"fw_[A-Za-z0-9]{24}"#,
            names: &[],
            near: &[],
            confidence: Confidence::Medium,
            examples: &["fw_{alnum:24}"],
            negatives: &["fw_{alnum:23}", "fw_{alnum:25}", "fw_{x*24}", "fw_version_check"],
        },
    ],
    liveness: &[],
    unchecked: Some(
        "Fireworks documents no read-only call to check a key",
    ),
};
