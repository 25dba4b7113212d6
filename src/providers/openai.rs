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
            description: "OpenAI project API key",
            details: "`sk-proj-`, then letters, digits, `_` and `-` around the `T3BlbkFJ` marker every \
                      OpenAI key carries: a key of one project, which spends its credit.",
            help: HELP,
            prefixes: &["sk-proj-"],
            regex: r"sk-proj-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &[
                "sk-proj-{url:74}T3BlbkFJ{url:73}A",
                "sk-proj-{alnum:20}T3BlbkFJ{alnum:20}",
            ],
            negatives: &[
                "sk-proj-{url:80}",
                "sk-proj-{alnum:10}T3BlbkFJ{alnum:10}",
                "sk-proj-{x*40}T3BlbkFJ{x*40}",
                "sk-proj-...",
            ],
        },
        Pattern {
            id: "openai.service-account-key",
            description: "OpenAI service account API key",
            details: "`sk-svcacct-`, then letters, digits, `_` and `-` around the `T3BlbkFJ` marker: the key \
                      of a project's service account (a bot identity), which spends the project's credit.",
            help: HELP,
            prefixes: &["sk-svcacct-"],
            regex: r"sk-svcacct-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["sk-svcacct-{url:58}T3BlbkFJ{url:57}z"],
            negatives: &["sk-svcacct-{url:80}", "sk-svcacct-{x*40}T3BlbkFJ{x*40}"],
        },
        Pattern {
            id: "openai.admin-key",
            description: "OpenAI admin API key",
            details: "`sk-admin-`, then letters, digits, `_` and `-` around the `T3BlbkFJ` marker: an \
                      organization admin key, which manages members, projects and every other key.",
            help: "Delete the admin key at https://platform.openai.com/settings/organization/admin-keys \
                   at once (it can create keys of its own: review the organization's API keys, members and \
                   projects for changes you did not make), create a replacement only if you need one, and \
                   remove the old key from history.",
            prefixes: &["sk-admin-"],
            regex: r"sk-admin-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["sk-admin-{url:58}T3BlbkFJ{url:57}9"],
            negatives: &["sk-admin-{url:80}", "sk-admin-{x*40}T3BlbkFJ{x*40}"],
        },
        Pattern {
            id: "openai.legacy-key",
            description: "OpenAI API key (legacy user key)",
            details: "`sk-`, 20 letters and digits, the `T3BlbkFJ` marker and 20 more: the user API key \
                      OpenAI issued before project keys. Spends the organization's credit.",
            help: HELP,
            prefixes: &["sk-"],
            regex: r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
            names: &[],
            near: &[],
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
    liveness: &[&OPENAI_CHECK, &OPENAI_ADMIN_CHECK],
    unchecked: None,
};

/// `GET /v1/models` lists models and changes nothing: 200 live, 401 invalid or revoked.
static OPENAI_CHECK: IdentityCheck = IdentityCheck {
    rules: &[
        "openai.project-key",
        "openai.service-account-key",
        "openai.legacy-key",
    ],
    base_env: "UNLEAK_OPENAI_API_URL",
    any_host: false,
    default_base: "https://api.openai.com",
    post: false,
    body: "",
    path: "/v1/models",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};

/// Admin keys cannot list models; `GET /v1/organization/admin_api_keys?limit=1` reads (it changes
/// nothing): 200 live, 401 invalid or deleted.
static OPENAI_ADMIN_CHECK: IdentityCheck = IdentityCheck {
    rules: &["openai.admin-key"],
    base_env: "UNLEAK_OPENAI_API_URL",
    any_host: false,
    default_base: "https://api.openai.com",
    post: false,
    body: "",
    path: "/v1/organization/admin_api_keys?limit=1",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
