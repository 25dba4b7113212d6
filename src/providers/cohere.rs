//! Cohere: API keys, 40 letters and digits with no prefix, so found by context: the key name or the client call.

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://dashboard.cohere.com/api-keys, check usage for calls you do not recognize, create a new one, and remove the old key from history.";

pub(crate) static COHERE: Provider = Provider {
    id: "cohere",
    name: "Cohere",
    env_vars: &["COHERE_API_KEY", "CO_API_KEY"],
    revoke_url: Some("https://dashboard.cohere.com/api-keys"),
    create_url: Some("https://dashboard.cohere.com/api-keys"),
    patterns: &[
        Pattern {
            id: "cohere.api-key",
            description: "Cohere API key",
            details: "40 letters and digits assigned to `COHERE_API_KEY` or `CO_API_KEY`, in any syntax. Spends the account's trial or production quota.",
            help: HELP,
            prefixes: &[],
            regex: r#"[A-Za-z0-9]{40}"#,
            names: &["COHERE_API_KEY", "CO_API_KEY"],
            near: &[],
            confidence: Confidence::High,
            examples: &["COHERE_API_KEY={alnum:40}", "CO_API_KEY: \"{alnum:40}\""],
            negatives: &["COHERE_API_KEY=<your-cohere-key>", "cohere_model={alnum:40}"],
        },
        Pattern {
            id: "cohere.client-key",
            description: "Cohere API key given to the client",
            details: "40 letters and digits passed to `cohere.Client(...)` (or `ClientV2`, `AsyncClient`), positionally or as `api_key=`.",
            help: HELP,
            prefixes: &["cohere."],
            regex: r#"cohere\.(?:Async)?Client(?:V2)?\(\s*(?:api_key\s*=\s*)?["']([A-Za-z0-9]{40})["']"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["co = cohere.Client(\"{alnum:40}\")", "cohere.ClientV2(api_key='{alnum:40}')"],
            negatives: &["cohere.Client(os.environ[\"CO_API_KEY\"])", "cohere.Client(\"{alnum:39}\")"],
        },
    ],
    liveness: &[&COHERE_CHECK],
    unchecked: None,
};

/// `POST /v1/check-api-key` only checks the key: 200 live, 401 invalid or deleted.
static COHERE_CHECK: IdentityCheck = IdentityCheck {
    rules: &["cohere.api-key", "cohere.client-key"],
    base_env: "UNLEAK_COHERE_API_URL",
    any_host: false,
    default_base: "https://api.cohere.com",
    post: true,
    body: r#""#,
    path: "/v1/check-api-key",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
