//! Voyage AI: API keys (`pa-`).

use super::{Confidence, Pattern, Provider};

const HELP: &str = "Delete the key at https://dashboard.voyageai.com/api-keys, create a new one, and remove the old key from history.";

pub(crate) static VOYAGE: Provider = Provider {
    id: "voyage",
    name: "Voyage AI",
    env_vars: &["VOYAGE_API_KEY"],
    revoke_url: Some("https://dashboard.voyageai.com/api-keys"),
    create_url: Some("https://dashboard.voyageai.com/api-keys"),
    patterns: &[
        Pattern {
            id: "voyage.api-key",
            description: "Voyage AI API key",
            details: "`pa-` followed by 43 base64url characters: a Voyage AI embeddings key, which spends the account's tokens.",
            help: HELP,
            prefixes: &["pa-"],
            regex: r#"pa-[A-Za-z0-9_-]{43}"#,
            names: &[],
            near: &[],
            confidence: Confidence::Medium,
            examples: &["pa-{url:43}"],
            negatives: &["pa-{url:42}", "pa-{url:44}", "spa-{url:43}", "pa-{x*43}"],
        },
    ],
    liveness: &[],
    unchecked: Some(
        "Voyage AI has no read-only call: every call is billed",
    ),
};
