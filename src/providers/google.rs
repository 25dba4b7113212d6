//! Google: API keys (`AIza`), used by Maps, Firebase, Gemini and other Google Cloud APIs.

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

pub(crate) static GOOGLE: Provider = Provider {
    id: "google",
    name: "Google Cloud",
    env_vars: &["GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_MAPS_API_KEY"],
    revoke_url: Some("https://console.cloud.google.com/apis/credentials"),
    create_url: Some("https://console.cloud.google.com/apis/credentials"),
    patterns: &[Pattern {
        id: "google.api-key",
        description: "Google API key",
        details: "`AIza` followed by 35 letters, digits, `_` or `-`: a Google Cloud API key. Some are meant \
                  to ship in web and mobile apps (Maps, Firebase) and are only as dangerous as their API \
                  and referrer restrictions allow; unrestricted keys spend the project's quota and billing.",
        help: "Check the key's API and application restrictions under APIs & Services, Credentials; if it \
               is unrestricted or grants paid APIs (Gemini), regenerate or delete it, create a restricted \
               replacement, and remove the old key from history.",
        prefixes: &["AIza"],
        regex: r"AIza[A-Za-z0-9_-]{35}",
        names: &[],
        near: &[],
        confidence: Confidence::High,
        examples: &["AIza{url:35}", "AIzaSy{alnum:33}"],
        negatives: &["AIza{alnum:34}", "AIza{alnum:36}", "AIza{0*35}", "GEMINI_API_KEY=AIza..."],
    }],
    liveness: &[&GOOGLE_CHECK],
    unchecked: None,
};

/// `GET /v1/models?key=` lists Gemini models: 200 live (403: live, but the Generative Language API is off for its project), 400 `API_KEY_INVALID`.
static GOOGLE_CHECK: IdentityCheck = IdentityCheck {
    rules: &["google.api-key"],
    base_env: "UNLEAK_GOOGLE_API_URL",
    any_host: false,
    default_base: "https://generativelanguage.googleapis.com",
    post: false,
    body: r#""#,
    path: "/v1/models",
    auth: Auth::Query("key"),
    headers: &[],
    live: &[200, 403],
    dead: &[400],
    owner_field: None,
    body_ok: None,
};
