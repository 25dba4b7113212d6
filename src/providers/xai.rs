//! xAI (Grok): API keys (`xai-`).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://console.x.ai (the team's API keys), check usage for calls you do not recognize, create a new one with only the models and endpoints it needs, and remove the old key from history.";

pub(crate) static XAI: Provider = Provider {
    id: "xai",
    name: "xAI",
    env_vars: &["XAI_API_KEY"],
    revoke_url: Some("https://console.x.ai/"),
    create_url: Some("https://console.x.ai/"),
    patterns: &[
        Pattern {
            id: "xai.api-key",
            description: "xAI API key",
            details: "`xai-` followed by 80 letters, digits and `_`: an xAI API key, which spends the team's credit.",
            help: HELP,
            prefixes: &["xai-"],
            regex: r#"xai-[A-Za-z0-9_]{80}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["xai-{alnum:80}"],
            negatives: &["xai-{alnum:79}", "xai-{alnum:81}", "xai-{x*80}"],
        },
    ],
    liveness: &[&XAI_CHECK],
    unchecked: None,
};

/// `GET /v1/api-key` describes the key itself: 200 live, 400 or 401 invalid.
static XAI_CHECK: IdentityCheck = IdentityCheck {
    rules: &["xai.api-key"],
    base_env: "UNLEAK_XAI_API_URL",
    any_host: false,
    default_base: "https://api.x.ai",
    post: false,
    body: r#""#,
    path: "/v1/api-key",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[400, 401],
    owner_field: Some("name"),
    body_ok: None,
};
