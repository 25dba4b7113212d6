//! Weights & Biases: API keys, 40 hex digits with no prefix, so found by context: the key name (`WANDB_API_KEY`) or a `.netrc` entry for `api.wandb.ai`.

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Delete the key at https://wandb.ai/authorize (User settings, API keys), create a new one, update WANDB_API_KEY wherever runs read it (and `~/.netrc`, where `wandb login` stores it), and remove the old key from history.";

pub(crate) static WANDB: Provider = Provider {
    id: "wandb",
    name: "Weights & Biases",
    env_vars: &["WANDB_API_KEY"],
    revoke_url: Some("https://wandb.ai/settings"),
    create_url: Some("https://wandb.ai/authorize"),
    patterns: &[
        Pattern {
            id: "wandb.api-key",
            description: "Weights & Biases API key",
            details: "40 hex digits assigned to `WANDB_API_KEY` (any syntax: `.env`, YAML, JSON, Python, Dockerfile). Logs runs and reads every artifact and model of the user's projects.",
            help: HELP,
            prefixes: &[],
            regex: r#"[0-9a-f]{40}"#,
            names: &["WANDB_API_KEY"],
            near: &[],
            confidence: Confidence::High,
            examples: &["WANDB_API_KEY={hex:40}", "export WANDB_API_KEY=\"{hex:40}\"", "os.environ[\"WANDB_API_KEY\"] = \"{hex:40}\"", "  wandb_api_key: {hex:40}"],
            negatives: &["WANDB_API_KEY=${{WANDB_API_KEY}", "WANDB_API_KEY: ${{{{ secrets.WANDB_API_KEY }}", "wandb_project={hex:40}", "WANDB_API_KEY=os.environ[\"WANDB_API_KEY\"]"],
        },
        Pattern {
            id: "wandb.netrc-key",
            description: "Weights & Biases API key in .netrc or wandb.login",
            details: "40 hex digits as the `password` of a `.netrc` entry for `api.wandb.ai` (where `wandb login` writes it), or the key given to `wandb.login(key=...)`.",
            help: HELP,
            prefixes: &[],
            regex: r#"[0-9a-f]{40}"#,
            names: &["password", "key"],
            near: &["api.wandb.ai", "wandb.login("],
            confidence: Confidence::High,
            examples: &["machine api.wandb.ai\n  login user\n  password {hex:40}", "wandb.login(key=\"{hex:40}\")"],
            negatives: &["machine example.com login user password hunter2", "wandb.login(key=os.environ[\"WANDB_API_KEY\"])"],
        },
    ],
    liveness: &[&WANDB_CHECK],
    unchecked: None,
};

/// `POST /graphql` with the read-only query `{viewer{id}}`, basic auth `api:KEY`: 200 live, 401 invalid or deleted.
static WANDB_CHECK: IdentityCheck = IdentityCheck {
    rules: &["wandb.api-key", "wandb.netrc-key"],
    base_env: "UNLEAK_WANDB_API_URL",
    any_host: false,
    default_base: "https://api.wandb.ai",
    post: true,
    body: r#"{"query":"{viewer{id}}"}"#,
    path: "/graphql",
    auth: Auth::Basic("api"),
    headers: &[("Content-Type", "application/json")],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
