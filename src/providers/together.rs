//! Together AI: API keys (`tgp_v1_`), and legacy keys (64 hex digits, found by the key name).

use super::{Confidence, Pattern, Provider};

const HELP: &str = "Delete the key at https://api.together.ai/settings/api-keys, check usage for calls you do not recognize, create a new one, and remove the old key from history.";

pub(crate) static TOGETHER: Provider = Provider {
    id: "together",
    name: "Together AI",
    env_vars: &["TOGETHER_API_KEY"],
    revoke_url: Some("https://api.together.ai/settings/api-keys"),
    create_url: Some("https://api.together.ai/settings/api-keys"),
    patterns: &[
        Pattern {
            id: "together.api-key",
            description: "Together AI API key",
            details: "`tgp_v1_` followed by 43 base64url characters: a Together AI key, which spends the account's credit.",
            help: HELP,
            prefixes: &["tgp_v1_"],
            regex: r#"tgp_v1_[A-Za-z0-9_-]{43}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["tgp_v1_{url:43}"],
            negatives: &["tgp_v1_{url:42}", "tgp_v1_{x*43}"],
        },
        Pattern {
            id: "together.legacy-api-key",
            description: "Together AI legacy API key",
            details: "64 hex digits assigned to `TOGETHER_API_KEY`: a key of the form Together issued before `tgp_v1_`.",
            help: HELP,
            prefixes: &[],
            regex: r#"[0-9a-f]{64}"#,
            names: &["TOGETHER_API_KEY"],
            near: &[],
            confidence: Confidence::High,
            examples: &["TOGETHER_API_KEY={hex:64}"],
            negatives: &["sha256={hex:64}", "TOGETHER_MODEL={hex:64}"],
        },
    ],
    liveness: &[],
    unchecked: Some(
        "Together AI documents no read-only call to check a key",
    ),
};
