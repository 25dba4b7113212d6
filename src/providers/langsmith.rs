//! LangSmith (LangChain): personal access tokens and service keys (`lsv2_pt_`, `lsv2_sk_`).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://smith.langchain.com/settings (API Keys), create a new one, update LANGSMITH_API_KEY / LANGCHAIN_API_KEY, and remove the old key from history: it reads every trace, which holds your prompts and data.";

pub(crate) static LANGSMITH: Provider = Provider {
    id: "langsmith",
    name: "LangSmith",
    env_vars: &["LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"],
    revoke_url: Some("https://smith.langchain.com/settings"),
    create_url: Some("https://smith.langchain.com/settings"),
    patterns: &[
        Pattern {
            id: "langsmith.api-key",
            description: "LangSmith API key",
            details: "`lsv2_pt_` (personal) or `lsv2_sk_` (service), 32 hex digits, `_` and 10 hex digits: a LangSmith key, which reads and writes the workspace's traces.",
            help: HELP,
            prefixes: &["lsv2_pt_", "lsv2_sk_"],
            regex: r#"lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["lsv2_pt_{hex:32}_{hex:10}", "lsv2_sk_{hex:32}_{hex:10}"],
            negatives: &["lsv2_pt_{hex:31}_{hex:10}", "lsv2_pt_{hex:32}", "lsv2_xx_{hex:32}_{hex:10}"],
        },
    ],
    liveness: &[&LANGSMITH_CHECK],
    unchecked: None,
};

/// `GET /api/v1/api-key` lists the workspace's keys: 200 live, 401 or 403 invalid or deleted.
static LANGSMITH_CHECK: IdentityCheck = IdentityCheck {
    rules: &["langsmith.api-key"],
    base_env: "UNLEAK_LANGSMITH_API_URL",
    any_host: false,
    default_base: "https://api.smith.langchain.com",
    post: false,
    body: r#""#,
    path: "/api/v1/api-key",
    auth: Auth::Header("x-api-key"),
    headers: &[],
    live: &[200],
    dead: &[401, 403],
    owner_field: None,
    body_ok: None,
};
