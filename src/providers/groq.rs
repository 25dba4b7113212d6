//! Groq: API keys (`gsk_`).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://console.groq.com/keys, check usage for calls you do not recognize, create a new one, and remove the old key from history.";

pub(crate) static GROQ: Provider = Provider {
    id: "groq",
    name: "Groq",
    env_vars: &["GROQ_API_KEY"],
    revoke_url: Some("https://console.groq.com/keys"),
    create_url: Some("https://console.groq.com/keys"),
    patterns: &[
        Pattern {
            id: "groq.api-key",
            description: "Groq API key",
            details: "`gsk_` followed by 52 letters and digits: a GroqCloud API key, which spends the organization's quota.",
            help: HELP,
            prefixes: &["gsk_"],
            regex: r#"gsk_[A-Za-z0-9]{52}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["gsk_{alnum:52}"],
            negatives: &["gsk_{alnum:51}", "gsk_{alnum:53}", "gsk_{x*52}", "GROQ_API_KEY=gsk_..."],
        },
    ],
    liveness: &[&GROQ_CHECK],
    unchecked: None,
};

/// `GET /openai/v1/models` lists models and changes nothing: 200 live, 401 invalid or deleted.
static GROQ_CHECK: IdentityCheck = IdentityCheck {
    rules: &["groq.api-key"],
    base_env: "UNLEAK_GROQ_API_URL",
    any_host: false,
    default_base: "https://api.groq.com",
    post: false,
    body: r#""#,
    path: "/openai/v1/models",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
