//! ElevenLabs: API keys (`sk_` and 48 hex digits), and legacy keys (32 hex digits, found by the key name).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://elevenlabs.io/app/settings/api-keys, check usage for characters you do not recognize, create a new one with only the permissions it needs, and remove the old key from history.";

pub(crate) static ELEVENLABS: Provider = Provider {
    id: "elevenlabs",
    name: "ElevenLabs",
    env_vars: &["ELEVENLABS_API_KEY", "XI_API_KEY"],
    revoke_url: Some("https://elevenlabs.io/app/settings/api-keys"),
    create_url: Some("https://elevenlabs.io/app/settings/api-keys"),
    patterns: &[
        Pattern {
            id: "elevenlabs.api-key",
            description: "ElevenLabs API key",
            details: "`sk_` followed by 48 hex digits: an ElevenLabs API key, which spends the account's character quota.",
            help: HELP,
            prefixes: &["sk_"],
            regex: r#"sk_[0-9a-f]{48}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["sk_{hex:48}"],
            negatives: &["sk_{hex:47}", "sk_{hex:49}", "sk_{0*48}", "sk_{upper:48}"],
        },
        Pattern {
            id: "elevenlabs.legacy-api-key",
            description: "ElevenLabs legacy API key",
            details: "32 hex digits assigned to `ELEVENLABS_API_KEY` or `XI_API_KEY`: the key form ElevenLabs issued before `sk_`.",
            help: HELP,
            prefixes: &[],
            regex: r#"[0-9a-f]{32}"#,
            names: &["ELEVENLABS_API_KEY", "XI_API_KEY"],
            near: &[],
            confidence: Confidence::High,
            examples: &["ELEVENLABS_API_KEY={hex:32}", "XI_API_KEY: {hex:32}"],
            negatives: &["ELEVENLABS_VOICE_ID={alnum:20}", "XI_API_KEY=${{XI_API_KEY}"],
        },
    ],
    liveness: &[&ELEVENLABS_CHECK],
    unchecked: None,
};

/// `GET /v1/user` reads the account: 200 live, 401 invalid or deleted.
static ELEVENLABS_CHECK: IdentityCheck = IdentityCheck {
    rules: &["elevenlabs.api-key", "elevenlabs.legacy-api-key"],
    base_env: "UNLEAK_ELEVENLABS_API_URL",
    any_host: false,
    default_base: "https://api.elevenlabs.io",
    post: false,
    body: r#""#,
    path: "/v1/user",
    auth: Auth::Header("xi-api-key"),
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
