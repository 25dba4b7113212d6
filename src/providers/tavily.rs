//! Tavily: API keys (`tvly-`, development keys `tvly-dev-`).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://app.tavily.com/home (API keys), create a new one, and remove the old key from history.";

pub(crate) static TAVILY: Provider = Provider {
    id: "tavily",
    name: "Tavily",
    env_vars: &["TAVILY_API_KEY"],
    revoke_url: Some("https://app.tavily.com/home"),
    create_url: Some("https://app.tavily.com/home"),
    patterns: &[
        Pattern {
            id: "tavily.api-key",
            description: "Tavily API key",
            details: "`tvly-` (or `tvly-dev-`) followed by 32 letters and digits: a Tavily search API key, which spends the account's credits.",
            help: HELP,
            prefixes: &["tvly-"],
            regex: r#"tvly-(?:dev-|prod-)?[A-Za-z0-9]{32}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["tvly-{alnum:32}", "tvly-dev-{alnum:32}"],
            negatives: &["tvly-{alnum:31}", "tvly-{x*32}"],
        },
    ],
    liveness: &[&TAVILY_CHECK],
    unchecked: None,
};

/// `GET /usage` reads the key's usage: 200 live, 401 invalid or deleted.
static TAVILY_CHECK: IdentityCheck = IdentityCheck {
    rules: &["tavily.api-key"],
    base_env: "UNLEAK_TAVILY_API_URL",
    any_host: false,
    default_base: "https://api.tavily.com",
    post: false,
    body: r#""#,
    path: "/usage",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
