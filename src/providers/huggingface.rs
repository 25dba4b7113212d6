//! Hugging Face: user access tokens (`hf_`) and legacy organization API tokens (`api_org_`).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP_USER: &str = "Revoke the token at https://huggingface.co/settings/tokens (Manage, then \
Invalidate and refresh) or without logging in with `unleak respond`, which calls the public \
/api/credentials/revoke endpoint. Create a fine-grained replacement with only the repositories and \
permissions it needs, update every place that held the old one (.env, HF_TOKEN, ~/.cache/huggingface/token, \
git credential helper) and remove it from history.";

pub(crate) static HUGGING_FACE: Provider = Provider {
    id: "huggingface",
    name: "Hugging Face",
    env_vars: &[
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HUGGINGFACEHUB_API_TOKEN",
    ],
    revoke_url: Some("https://huggingface.co/settings/tokens"),
    create_url: Some("https://huggingface.co/settings/tokens/new?tokenType=fineGrained"),
    patterns: &[
        Pattern {
            id: "huggingface.user-token",
            description: "Hugging Face user access token",
            details: "`hf_` followed by 34 letters: the shape of every user access token Hugging Face \
                      issues (read, write and fine-grained). High confidence: the prefix and alphabet are \
                      specific, and gitleaks, Nosey Parker and Kingfisher agree on them.",
            help: HELP_USER,
            prefixes: &["hf_"],
            regex: r"hf_[A-Za-z]{34}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["hf_{alpha:34}", "hf_{AbCdEfGhIj*3}Klmn"],
            negatives: &[
                "hf_{alpha:33}",
                "hf_{alpha:35}",
                "xhf_{alpha:34}",
                "hf_{alpha:20}-{alpha:13}",
                "HF_{alpha:34}",
                "HF_TOKEN=hf_{x*34}",
                "HF_TOKEN=hf_{Ab*17}",
                "HF_TOKEN=your_token_here",
                "hf_YourTokenExample{alpha:18}",
            ],
        },
        Pattern {
            id: "huggingface.user-token-alnum",
            description: "Hugging Face user access token (letters and digits)",
            details: "`hf_` followed by 34 letters and digits. Hugging Face tokens seen so far are letters \
                      only, but TruffleHog also accepts digits; medium confidence, and a letters-only token \
                      is reported once, under huggingface.user-token.",
            help: HELP_USER,
            prefixes: &["hf_"],
            regex: r"hf_[A-Za-z0-9]{34}",
            names: &[],
            near: &[],
            confidence: Confidence::Medium,
            examples: &["hf_{alnum:34}", "hf_{alpha:33}7"],
            negatives: &["hf_{alnum:33}", "hf_{alnum:35}", "hf_{0*34}", "_hf_{alnum:34}"],
        },
        Pattern {
            id: "huggingface.org-token",
            description: "Hugging Face organization API token (legacy)",
            details: "`api_org_` followed by 34 letters and digits: a legacy, read-only organization API \
                      token. Hugging Face is retiring them and huggingface_hub refuses them for login, but \
                      those still alive read the organization's private repositories.",
            help: "Delete the token in the organization's settings on https://huggingface.co (Settings, \
                   API tokens), use a fine-grained user token scoped to the organization instead, and \
                   remove the old one from history.",
            prefixes: &["api_org_"],
            regex: r"api_org_[A-Za-z0-9]{34}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["api_org_{alpha:34}", "api_org_{alnum:34}"],
            negatives: &["api_org_{alnum:30}", "my_api_org_{alnum:34}", "api_org_{x*34}"],
        },
    ],
    liveness: &[&HUGGING_FACE_CHECK],
    unchecked: None,
};

/// `whoami-v2`: 200 with the user and the token's name and role; 401 invalid or revoked, 403 denied by an
/// organization policy.
static HUGGING_FACE_CHECK: IdentityCheck = IdentityCheck {
    rules: &[
        "huggingface.user-token",
        "huggingface.user-token-alnum",
        "huggingface.org-token",
    ],
    base_env: "HF_ENDPOINT",
    any_host: true,
    default_base: "https://huggingface.co",
    post: false,
    body: "",
    path: "/api/whoami-v2",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401, 403],
    owner_field: Some("name"),
    body_ok: None,
};
