//! GitHub: classic personal access tokens, OAuth and App tokens (`gh?_`), fine-grained tokens (`github_pat_`).

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Revoke the token: personal tokens at https://github.com/settings/tokens (classic) or \
https://github.com/settings/personal-access-tokens (fine-grained); OAuth and App tokens by revoking the \
app's authorization or, for an organization's app, in its settings. Check the security log for use, \
create a fine-grained replacement with the fewest repositories and permissions, and remove the old token \
from history.";

pub(crate) static GITHUB: Provider = Provider {
    id: "github",
    name: "GitHub",
    env_vars: &["GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT"],
    revoke_url: Some("https://github.com/settings/tokens"),
    create_url: Some("https://github.com/settings/personal-access-tokens/new"),
    patterns: &[
        Pattern {
            id: "github.personal-access-token",
            description: "GitHub personal access token (classic)",
            details: "`ghp_` followed by 36 letters and digits: a classic personal access token, which \
                      acts as its user on every repository and organization the scopes allow.",
            help: HELP,
            prefixes: &["ghp_"],
            regex: r"ghp_[A-Za-z0-9]{36}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["ghp_{alnum:36}", "ghp_{alpha:36}"],
            negatives: &["ghp_{alnum:35}", "ghp_{alnum:37}", "xghp_{alnum:36}", "ghp_{x*36}"],
        },
        Pattern {
            id: "github.oauth-token",
            description: "GitHub OAuth access token",
            details: "`gho_` followed by 36 letters and digits: an OAuth app's access token, acting as \
                      the user who authorized the app, within its scopes.",
            help: HELP,
            prefixes: &["gho_"],
            regex: r"gho_[A-Za-z0-9]{36}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["gho_{alnum:36}"],
            negatives: &["gho_{alnum:20}", "gho_{0*36}"],
        },
        Pattern {
            id: "github.app-user-token",
            description: "GitHub App user access token",
            details: "`ghu_` followed by 36 letters and digits: a GitHub App's user-to-server token, \
                      acting as a user through the app.",
            help: HELP,
            prefixes: &["ghu_"],
            regex: r"ghu_[A-Za-z0-9]{36}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["ghu_{alnum:36}"],
            negatives: &["ghu_{alnum:36}_x", "ghu_{ab*18}"],
        },
        Pattern {
            id: "github.app-installation-token",
            description: "GitHub App installation access token",
            details: "`ghs_` followed by 36 letters and digits: a GitHub App's server-to-server token \
                      (also the Actions GITHUB_TOKEN). Short-lived (an hour), but valid until it expires.",
            help: HELP,
            prefixes: &["ghs_"],
            regex: r"ghs_[A-Za-z0-9]{36}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["ghs_{alnum:36}"],
            negatives: &["ghs_{alnum:36}-x", "ghs_{alnum:12}"],
        },
        Pattern {
            id: "github.app-refresh-token",
            description: "GitHub App refresh token",
            details: "`ghr_` followed by 36 letters and digits: a GitHub App's refresh token, which mints \
                      new user access tokens for as long as it lives (six months).",
            help: HELP,
            prefixes: &["ghr_"],
            regex: r"ghr_[A-Za-z0-9]{36}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["ghr_{alnum:36}"],
            negatives: &["ghr_{alnum:40}", "ghr_{X*36}"],
        },
        Pattern {
            id: "github.fine-grained-token",
            description: "GitHub fine-grained personal access token",
            details: "`github_pat_` followed by 82 letters, digits and underscores: a fine-grained \
                      personal access token, limited to the repositories and permissions chosen for it.",
            help: HELP,
            prefixes: &["github_pat_"],
            regex: r"github_pat_[A-Za-z0-9_]{82}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["github_pat_{alnum:22}_{alnum:59}"],
            negatives: &[
                "github_pat_{alnum:22}_{alnum:40}",
                "github_pat_{alnum:22}_{alnum:60}",
                "github_pat_{x*82}",
            ],
        },
    ],
    liveness: &[&GITHUB_CHECK],
    unchecked: None,
};

/// `GET /user`: 200 with `login` while the token works, 401 once it is revoked or expired. Installation
/// tokens (`ghs_`) cannot call it (403), so they are not checked this way.
static GITHUB_CHECK: IdentityCheck = IdentityCheck {
    rules: &[
        "github.personal-access-token",
        "github.oauth-token",
        "github.app-user-token",
        "github.fine-grained-token",
    ],
    base_env: "GITHUB_API_URL",
    any_host: true,
    default_base: "https://api.github.com",
    post: false,
    body: "",
    path: "/user",
    auth: Auth::Bearer,
    headers: &[
        ("Accept", "application/vnd.github+json"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    ],
    live: &[200],
    dead: &[401],
    owner_field: Some("login"),
    body_ok: None,
};
