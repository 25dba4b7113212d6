//! Kaggle: API keys, 32 hex digits with no prefix, found in `kaggle.json` or under `KAGGLE_KEY`.

use super::{Confidence, Pattern, Provider};

const HELP: &str = "Expire the key at https://www.kaggle.com/settings (API, Expire API Token), create a new one (it downloads a fresh kaggle.json; keep it in ~/.kaggle with mode 600), and remove the old key from history.";

pub(crate) static KAGGLE: Provider = Provider {
    id: "kaggle",
    name: "Kaggle",
    env_vars: &["KAGGLE_KEY", "KAGGLE_USERNAME"],
    revoke_url: Some("https://www.kaggle.com/settings"),
    create_url: Some("https://www.kaggle.com/settings"),
    patterns: &[
        Pattern {
            id: "kaggle.api-key",
            description: "Kaggle API key",
            details: "32 hex digits assigned to `KAGGLE_KEY`, in any syntax: acts as the Kaggle user (datasets, models, competitions).",
            help: HELP,
            prefixes: &[],
            regex: r#"[0-9a-f]{32}"#,
            names: &["KAGGLE_KEY"],
            near: &[],
            confidence: Confidence::High,
            examples: &["KAGGLE_KEY={hex:32}", "ENV KAGGLE_KEY={hex:32}"],
            negatives: &["KAGGLE_USERNAME=someone", "KAGGLE_KEY=${{KAGGLE_KEY}"],
        },
        Pattern {
            id: "kaggle.json-key",
            description: "Kaggle API key in kaggle.json",
            details: "The `key` of a `kaggle.json` (`{\"username\":…,\"key\":…}`), 32 hex digits.",
            help: HELP,
            prefixes: &["\"username\""],
            regex: r#""username"\s*:\s*"[^"\n]{1,64}"\s*,\s*"key"\s*:\s*"([0-9a-f]{32})""#,
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["{{\"username\":\"someone\",\"key\":\"{hex:32}\"}", "{{\"username\": \"ml-team\", \"key\": \"{hex:32}\"}"],
            negatives: &["{{\"username\":\"someone\",\"key\":\"\"}", "{{\"username\":\"someone\",\"id\":\"{hex:32}\"}"],
        },
    ],
    liveness: &[],
    unchecked: Some(
        "Kaggle documents no read-only call to check a key (its API needs the user name too)",
    ),
};
