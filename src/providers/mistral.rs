//! Mistral AI: API keys, 32 letters and digits with no prefix, so found by the key name.

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://console.mistral.ai/api-keys, check usage for calls you do not recognize, create a new one, and remove the old key from history.";

pub(crate) static MISTRAL: Provider = Provider {
    id: "mistral",
    name: "Mistral AI",
    env_vars: &["MISTRAL_API_KEY"],
    revoke_url: Some("https://console.mistral.ai/api-keys"),
    create_url: Some("https://console.mistral.ai/api-keys"),
    patterns: &[
        Pattern {
            id: "mistral.api-key",
            description: "Mistral AI API key",
            details: "32 letters and digits assigned to `MISTRAL_API_KEY`, in any syntax. Spends the workspace's credit.",
            help: HELP,
            prefixes: &[],
            regex: r#"[A-Za-z0-9]{32}"#,
            names: &["MISTRAL_API_KEY"],
            near: &[],
            confidence: Confidence::High,
            examples: &["MISTRAL_API_KEY={alnum:32}", "mistral_api_key = \"{alnum:32}\""],
            negatives: &["MISTRAL_API_KEY=\"\"", "mistral_model={alnum:32}"],
        },
    ],
    liveness: &[&MISTRAL_CHECK],
    unchecked: None,
};

/// `GET /v1/models` lists models and changes nothing: 200 live, 401 invalid or deleted.
static MISTRAL_CHECK: IdentityCheck = IdentityCheck {
    rules: &["mistral.api-key"],
    base_env: "UNLEAK_MISTRAL_API_URL",
    any_host: false,
    default_base: "https://api.mistral.ai",
    post: false,
    body: r#""#,
    path: "/v1/models",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
