//! Perplexity: API keys (`pplx-`).

use super::{Confidence, Pattern, Provider};

const HELP: &str = "Delete the key at https://www.perplexity.ai/settings/api, check usage for calls you do not recognize, create a new one, and remove the old key from history.";

pub(crate) static PERPLEXITY: Provider = Provider {
    id: "perplexity",
    name: "Perplexity",
    env_vars: &["PERPLEXITY_API_KEY", "PPLX_API_KEY"],
    revoke_url: Some("https://www.perplexity.ai/settings/api"),
    create_url: Some("https://www.perplexity.ai/settings/api"),
    patterns: &[
        Pattern {
            id: "perplexity.api-key",
            description: "Perplexity API key",
            details: "`pplx-` followed by 48 letters and digits: a Perplexity API key, which spends the account's credit.",
            help: HELP,
            prefixes: &["pplx-"],
            regex: r#"pplx-[A-Za-z0-9]{48}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["pplx-{alnum:48}"],
            negatives: &["pplx-{alnum:47}", "pplx-{x*48}"],
        },
    ],
    liveness: &[],
    unchecked: Some(
        "Perplexity has no read-only call: every call is billed",
    ),
};
