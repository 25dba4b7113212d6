//! Pinecone: API keys (`pcsk_`), and legacy keys (a UUID, found by the key name).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key in the Pinecone console (https://app.pinecone.io, the project's API keys), create a new one with the least role that works, and remove the old key from history: it reads and writes the project's indexes.";

pub(crate) static PINECONE: Provider = Provider {
    id: "pinecone",
    name: "Pinecone",
    env_vars: &["PINECONE_API_KEY"],
    revoke_url: Some("https://app.pinecone.io/"),
    create_url: Some("https://app.pinecone.io/"),
    patterns: &[
        Pattern {
            id: "pinecone.api-key",
            description: "Pinecone API key",
            details: "`pcsk_`, 5 or 6 letters and digits, `_` and 63 letters and digits: a Pinecone API key, which reads and writes the project's indexes.",
            help: HELP,
            prefixes: &["pcsk_"],
            regex: r#"pcsk_[A-Za-z0-9]{5,6}_[A-Za-z0-9]{63}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["pcsk_{alnum:6}_{alnum:63}", "pcsk_{alnum:5}_{alnum:63}"],
            negatives: &["pcsk_{alnum:6}_{alnum:40}", "pcsk_{x*6}_{x*63}"],
        },
        Pattern {
            id: "pinecone.legacy-api-key",
            description: "Pinecone legacy API key",
            details: "A UUID assigned to `PINECONE_API_KEY`: a key of Pinecone's legacy (pod) projects.",
            help: HELP,
            prefixes: &[],
            regex: r#"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#,
            names: &["PINECONE_API_KEY"],
            near: &[],
            confidence: Confidence::Medium,
            examples: &["PINECONE_API_KEY={hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}"],
            negatives: &["PINECONE_INDEX={hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}", "\"id\": \"{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}\""],
        },
    ],
    liveness: &[&PINECONE_CHECK],
    unchecked: None,
};

/// `GET /indexes` lists the project's indexes: 200 live, 401 invalid or deleted.
static PINECONE_CHECK: IdentityCheck = IdentityCheck {
    rules: &["pinecone.api-key", "pinecone.legacy-api-key"],
    base_env: "UNLEAK_PINECONE_API_URL",
    any_host: false,
    default_base: "https://api.pinecone.io",
    post: false,
    body: r#""#,
    path: "/indexes",
    auth: Auth::Header("Api-Key"),
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
