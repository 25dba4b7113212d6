//! Neptune: API tokens, base64 of a JSON object that starts with `{"api_address":`.

use super::{Confidence, Pattern, Provider};

const HELP: &str = "Reset the token in Neptune (your user menu, Get your API token, Reset), update NEPTUNE_API_TOKEN, and remove the old token from history.";

pub(crate) static NEPTUNE: Provider = Provider {
    id: "neptune",
    name: "Neptune",
    env_vars: &["NEPTUNE_API_TOKEN"],
    revoke_url: Some("https://app.neptune.ai/"),
    create_url: Some("https://app.neptune.ai/"),
    patterns: &[
        Pattern {
            id: "neptune.api-token",
            description: "Neptune API token",
            details: "Base64 of `{\"api_address\":…,\"api_url\":…,\"api_key\":…}`: a Neptune API token, which reads and writes the user's projects.",
            help: HELP,
            prefixes: &["eyJhcGlfYWRkcmVzcyI6"],
            regex: r#"eyJhcGlfYWRkcmVzcyI6[A-Za-z0-9+/]{60,400}={0,2}"#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["eyJhcGlfYWRkcmVzcyI6{b64:120}"],
            negatives: &["eyJhcGlfYWRkcmVzcyI6{b64:20}", "eyJhcGlfYWRkcmVzcyI6{A*80}"],
        },
    ],
    liveness: &[],
    unchecked: Some(
        "Neptune checks a token by exchanging it for an access token, which is not a read-only call",
    ),
};
