//! GitLab: personal, project and group access tokens (`glpat-`).

use super::{Confidence, Pattern, Provider};

pub(crate) static GITLAB: Provider = Provider {
    id: "gitlab",
    name: "GitLab",
    env_vars: &["GITLAB_TOKEN", "GITLAB_PRIVATE_TOKEN", "GL_TOKEN"],
    revoke_url: Some("https://gitlab.com/-/user_settings/personal_access_tokens"),
    create_url: Some("https://gitlab.com/-/user_settings/personal_access_tokens"),
    patterns: &[Pattern {
        id: "gitlab.personal-access-token",
        description: "GitLab personal access token",
        details: "`glpat-` followed by 20 letters, digits, `_` or `-`: a personal, project or group access \
                  token (project and group tokens share the prefix). Acts with its scopes on gitlab.com or \
                  the self-managed instance that issued it.",
        help: "Revoke the token under User settings, Access tokens (or the project's or group's Access \
               tokens page) on the instance that issued it, check the audit events for use, create a \
               replacement with the narrowest scopes and an expiry date, and remove the old one from \
               history.",
        prefixes: &["glpat-"],
        regex: r"glpat-[A-Za-z0-9_-]{20}",
        names: &[],
        near: &[],
        confidence: Confidence::High,
        examples: &["glpat-{url:19}Q", "glpat-{alnum:20}"],
        negatives: &["glpat-{alnum:19}", "glpat-{alnum:21}", "glpat-{x*20}"],
    }],
    liveness: &[],
    unchecked: Some(
        "a GitLab token belongs to gitlab.com or a self-managed instance the token does not name",
    ),
};
