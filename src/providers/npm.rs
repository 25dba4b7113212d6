//! npm: access tokens (`npm_`), classic and granular.

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

pub(crate) static NPM: Provider = Provider {
    id: "npm",
    name: "npm",
    env_vars: &["NPM_TOKEN", "NODE_AUTH_TOKEN"],
    revoke_url: Some("https://docs.npmjs.com/revoking-access-tokens"),
    create_url: Some("https://docs.npmjs.com/creating-and-viewing-access-tokens"),
    patterns: &[Pattern {
        id: "npm.access-token",
        description: "npm access token",
        details: "`npm_` followed by 36 letters and digits: an npm access token. A publish-capable one lets \
                  its holder push new versions of every package its owner maintains.",
        help: "Delete the token on npmjs.com (your avatar, Access Tokens) or with `npm token revoke`, check \
               recent versions of your packages for releases you did not make, create a granular \
               replacement limited to the packages and IP ranges that need it, and remove the old token \
               from history.",
        prefixes: &["npm_"],
        regex: r"npm_[A-Za-z0-9]{36}",
        names: &[],
        near: &[],
        confidence: Confidence::High,
        examples: &["npm_{alnum:36}"],
        negatives: &["npm_{alnum:35}", "npm_config_registry", "npm_{x*36}"],
    }],
    liveness: &[&NPM_CHECK],
    unchecked: None,
};

/// The registry's `whoami`: 200 with `username`, 401 when the token is revoked or invalid.
static NPM_CHECK: IdentityCheck = IdentityCheck {
    rules: &["npm.access-token"],
    base_env: "UNLEAK_NPM_REGISTRY_URL",
    any_host: false,
    default_base: "https://registry.npmjs.org",
    post: false,
    body: "",
    path: "/-/whoami",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: Some("username"),
    body_ok: None,
};
