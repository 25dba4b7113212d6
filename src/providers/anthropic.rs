//! Anthropic: API keys (`sk-ant-api03-`) and Admin API keys (`sk-ant-admin01-`).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str =
    "Delete the key at https://console.anthropic.com/settings/keys (admin keys under the \
organization's admin keys), review usage for spend you do not recognize, create a replacement in a \
workspace with a spend limit, and remove the old key from history.";

pub(crate) static ANTHROPIC: Provider = Provider {
    id: "anthropic",
    name: "Anthropic",
    env_vars: &["ANTHROPIC_API_KEY", "ANTHROPIC_ADMIN_KEY"],
    revoke_url: Some("https://console.anthropic.com/settings/keys"),
    create_url: Some("https://console.anthropic.com/settings/keys"),
    patterns: &[
        Pattern {
            id: "anthropic.api-key",
            description: "Anthropic API key",
            details: "`sk-ant-api03-`, 93 letters, digits, `_` or `-`, and `AA`: a Claude API key, which \
                      spends its workspace's credit.",
            help: HELP,
            prefixes: &["sk-ant-api03-"],
            regex: r"sk-ant-api03-[A-Za-z0-9_-]{93}AA",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["sk-ant-api03-{url:93}AA"],
            negatives: &[
                "sk-ant-api03-{url:60}AA",
                "sk-ant-api03-{url:93}AAA",
                "sk-ant-api03-{x*93}AA",
            ],
        },
        Pattern {
            id: "anthropic.admin-key",
            description: "Anthropic Admin API key",
            details: "`sk-ant-admin01-`, 93 letters, digits, `_` or `-`, and `AA`: an Admin API key, which \
                      manages the organization's members, workspaces and keys.",
            help: HELP,
            prefixes: &["sk-ant-admin01-"],
            regex: r"sk-ant-admin01-[A-Za-z0-9_-]{93}AA",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["sk-ant-admin01-{url:93}AA"],
            negatives: &["sk-ant-admin01-{url:92}", "sk-ant-admin01-{0*93}AA"],
        },
    ],
    liveness: &[&ANTHROPIC_CHECK],
    unchecked: None,
};

/// `GET /v1/models` with `x-api-key`: 200 live, 401 invalid or disabled. Admin keys cannot call it.
static ANTHROPIC_CHECK: IdentityCheck = IdentityCheck {
    rules: &["anthropic.api-key"],
    base_env: "UNLEAK_ANTHROPIC_API_URL",
    any_host: false,
    default_base: "https://api.anthropic.com",
    post: false,
    body: "",
    path: "/v1/models",
    auth: Auth::Header("x-api-key"),
    headers: &[("anthropic-version", "2023-06-01")],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
