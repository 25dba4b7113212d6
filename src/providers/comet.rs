//! Comet (comet_ml, Opik): API keys, 25 letters and digits with no prefix, found by the key name.

use super::{Confidence, Pattern, Provider};

const HELP: &str = "Regenerate the key at https://www.comet.com/account-settings/apiKeys, update COMET_API_KEY (and `~/.comet.config`), and remove the old key from history.";

pub(crate) static COMET: Provider = Provider {
    id: "comet",
    name: "Comet",
    env_vars: &["COMET_API_KEY"],
    revoke_url: Some("https://www.comet.com/account-settings/apiKeys"),
    create_url: Some("https://www.comet.com/account-settings/apiKeys"),
    patterns: &[
        Pattern {
            id: "comet.api-key",
            description: "Comet API key",
            details: "25 letters and digits assigned to `COMET_API_KEY`, in any syntax: logs experiments to, and reads, the user's workspaces.",
            help: HELP,
            prefixes: &[],
            regex: r#"[A-Za-z0-9]{25}"#,
            names: &["COMET_API_KEY"],
            near: &[],
            confidence: Confidence::High,
            examples: &["COMET_API_KEY={alnum:25}", "api_key = comet_ml.config; COMET_API_KEY: \"{alnum:25}\""],
            negatives: &["COMET_WORKSPACE={alnum:25}", "COMET_API_KEY=${{COMET_API_KEY}"],
        },
    ],
    liveness: &[],
    unchecked: Some(
        "Comet documents no read-only call to check a key",
    ),
};
