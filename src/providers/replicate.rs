//! Replicate: API tokens (`r8_`).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the token at https://replicate.com/account/api-tokens, check predictions and billing for use you do not recognize, create a new one, and remove the old token from history.";

pub(crate) static REPLICATE: Provider = Provider {
    id: "replicate",
    name: "Replicate",
    env_vars: &["REPLICATE_API_TOKEN"],
    revoke_url: Some("https://replicate.com/account/api-tokens"),
    create_url: Some("https://replicate.com/account/api-tokens"),
    patterns: &[
        Pattern {
            id: "replicate.api-token",
            description: "Replicate API token",
            details: "`r8_` followed by 37 letters, digits, `_` or `-`: a Replicate API token, which runs models on the account's bill.",
            help: HELP,
            prefixes: &["r8_"],
            regex: r#"r8_[A-Za-z0-9_-]{37}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["r8_{alnum:37}", "r8_{url:37}"],
            negatives: &["r8_{alnum:20}", "r8_{alnum:38}", "r8_{x*37}", "REPLICATE_API_TOKEN=r8_..."],
        },
    ],
    liveness: &[&REPLICATE_CHECK],
    unchecked: None,
};

/// `GET /v1/account` names the account: 200 live, 401 invalid or deleted.
static REPLICATE_CHECK: IdentityCheck = IdentityCheck {
    rules: &["replicate.api-token"],
    base_env: "UNLEAK_REPLICATE_API_URL",
    any_host: false,
    default_base: "https://api.replicate.com",
    post: false,
    body: r#""#,
    path: "/v1/account",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: Some("username"),
    body_ok: None,
};
