//! DeepSeek: API keys (`sk-` and 32 hex digits, a shape other issuers share, so found by the key name).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://platform.deepseek.com/api_keys, check usage and balance for calls you do not recognize, create a new one, and remove the old key from history.";

pub(crate) static DEEPSEEK: Provider = Provider {
    id: "deepseek",
    name: "DeepSeek",
    env_vars: &["DEEPSEEK_API_KEY"],
    revoke_url: Some("https://platform.deepseek.com/api_keys"),
    create_url: Some("https://platform.deepseek.com/api_keys"),
    patterns: &[
        Pattern {
            id: "deepseek.api-key",
            description: "DeepSeek API key",
            details: "`sk-` and 32 hex digits assigned to `DEEPSEEK_API_KEY`, in any syntax: spends the account's balance.",
            help: HELP,
            prefixes: &[],
            regex: r#"sk-[0-9a-f]{32}"#,
            names: &["DEEPSEEK_API_KEY"],
            near: &[],
            confidence: Confidence::High,
            examples: &["DEEPSEEK_API_KEY=sk-{hex:32}", "deepseek_api_key: \"sk-{hex:32}\""],
            negatives: &["DEEPSEEK_API_KEY=sk-...", "DEEPSEEK_MODEL=deepseek-chat"],
        },
    ],
    liveness: &[&DEEPSEEK_CHECK],
    unchecked: None,
};

/// `GET /user/balance` reads the balance: 200 live, 401 invalid or deleted.
static DEEPSEEK_CHECK: IdentityCheck = IdentityCheck {
    rules: &["deepseek.api-key"],
    base_env: "UNLEAK_DEEPSEEK_API_URL",
    any_host: false,
    default_base: "https://api.deepseek.com",
    post: false,
    body: r#""#,
    path: "/user/balance",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
