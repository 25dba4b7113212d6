//! OpenAI: project, service account and admin keys (`sk-proj-`, ...) and legacy user keys (`sk-`), all
//! carrying the `T3BlbkFJ` marker (base64 of "OpenAI").

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str =
    "Delete the key at https://platform.openai.com/api-keys (or the organization's admin \
keys page), check usage for spend you do not recognize, create a project-scoped replacement with \
restricted permissions, and remove the old key from history.";

pub(crate) static OPENAI: Provider = Provider {
    id: "openai",
    name: "OpenAI",
    env_vars: &["OPENAI_API_KEY", "OPENAI_ADMIN_KEY"],
    revoke_url: Some("https://platform.openai.com/api-keys"),
    create_url: Some("https://platform.openai.com/api-keys"),
    patterns: &[
        Pattern {
            id: "openai.project-key",
            description: "OpenAI project, service account or admin API key",
            details: "`sk-proj-`, `sk-svcacct-` or `sk-admin-`, then letters, digits, `_` and `-` around \
                      the `T3BlbkFJ` marker every OpenAI key carries. Spends the project's or \
                      organization's credit.",
            help: HELP,
            prefixes: &["sk-proj-", "sk-svcacct-", "sk-admin-"],
            regex: r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
            confidence: Confidence::High,
            examples: &[
                "sk-proj-{url:74}T3BlbkFJ{url:73}A",
                "sk-proj-{alnum:20}T3BlbkFJ{alnum:20}",
                "sk-svcacct-{url:58}T3BlbkFJ{url:57}z",
                "sk-admin-{url:58}T3BlbkFJ{url:57}9",
            ],
            negatives: &[
                "sk-proj-{url:80}",
                "sk-proj-{alnum:10}T3BlbkFJ{alnum:10}",
                "sk-proj-{x*40}T3BlbkFJ{x*40}",
                "sk-proj-...",
            ],
        },
        Pattern {
            id: "openai.legacy-key",
            description: "OpenAI API key (legacy user key)",
            details: "`sk-`, 20 letters and digits, the `T3BlbkFJ` marker and 20 more: the user API key \
                      OpenAI issued before project keys. Spends the organization's credit.",
            help: HELP,
            prefixes: &["sk-"],
            regex: r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
            confidence: Confidence::High,
            examples: &["sk-{alnum:20}T3BlbkFJ{alnum:20}"],
            negatives: &[
                "sk-{alnum:48}",
                "disk-{alnum:20}T3BlbkFJ{alnum:20}",
                "sk-{alnum:20}T3BlbkFJ{alnum:21}",
                "OPENAI_API_KEY=sk-...",
            ],
        },
    ],
    liveness: Some(&OPENAI_CHECK),
};

/// `GET /v1/models` lists models and changes nothing: 200 live, 401 invalid or revoked.
static OPENAI_CHECK: IdentityCheck = IdentityCheck {
    rules: &["openai.project-key", "openai.legacy-key"],
    base_env: "UNLEAK_OPENAI_API_URL",
    default_base: "https://api.openai.com",
    post: false,
    path: "/v1/models",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
