//! OpenRouter: API keys (`sk-or-v1-`).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://openrouter.ai/settings/keys, check activity for calls you do not recognize, create a new one with a credit limit, and remove the old key from history.";

pub(crate) static OPENROUTER: Provider = Provider {
    id: "openrouter",
    name: "OpenRouter",
    env_vars: &["OPENROUTER_API_KEY"],
    revoke_url: Some("https://openrouter.ai/settings/keys"),
    create_url: Some("https://openrouter.ai/settings/keys"),
    patterns: &[
        Pattern {
            id: "openrouter.api-key",
            description: "OpenRouter API key",
            details: "`sk-or-v1-` followed by 64 hex digits: an OpenRouter key, which spends the account's credit on any model.",
            help: HELP,
            prefixes: &["sk-or-v1-"],
            regex: r#"sk-or-v1-[0-9a-f]{64}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["sk-or-v1-{hex:64}"],
            negatives: &["sk-or-v1-{hex:63}", "sk-or-v1-{0*64}", "sk-or-v1-..."],
        },
    ],
    liveness: &[&OPENROUTER_CHECK],
    unchecked: None,
};

/// `GET /api/v1/key` describes the key itself: 200 live, 401 invalid or deleted.
static OPENROUTER_CHECK: IdentityCheck = IdentityCheck {
    rules: &["openrouter.api-key"],
    base_env: "UNLEAK_OPENROUTER_API_URL",
    any_host: false,
    default_base: "https://openrouter.ai",
    post: false,
    body: r#""#,
    path: "/api/v1/key",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
