//! GitHub's public revocation endpoint, for tokens anyone found exposed: `POST {api}/credentials/revoke`
//! with `{"credentials": [...]}`, sent WITHOUT authentication (an authenticated request gets 403). At most
//! 1000 tokens a request, 60 requests an hour; it answers 202 (accepted), 422 (validation failed or
//! spammed) or 500. The owner is notified and a revoked token cannot come back. Like Hugging Face's, it
//! does not say whether a token existed, so the caller confirms with `GET /user` answering 401.
//!
//! The base is `GITHUB_API_URL` (as GitHub Actions sets it; `https://HOST/api/v3` on Enterprise), else
//! `https://api.github.com`; checked by [`super::Net::api_base`].

use super::liveness::{self, Liveness};
use crate::providers::{self, GITHUB};
use crate::secret::Secret;
use anyhow::Result;

/// GitHub's REST API, unless `GITHUB_API_URL` names another (GitHub Enterprise, a test stub).
pub const DEFAULT_API: &str = "https://api.github.com";
/// The most tokens one revoke request may carry.
pub const MAX_PER_REQUEST: usize = 1000;
/// The rules whose tokens the endpoint accepts (`ghp_`, `github_pat_`, `gho_`, `ghu_`, `ghr_`); an
/// installation token (`ghs_`) expires within the hour and is not accepted.
pub const REVOCABLE_RULES: &[&str] = &[
    "github.personal-access-token",
    "github.fine-grained-token",
    "github.oauth-token",
    "github.app-user-token",
    "github.app-refresh-token",
];

/// A client for GitHub's revoke endpoint and `GET /user` (the liveness check).
#[derive(Debug, Clone)]
pub struct GithubApi {
    base: String,
    agent: ureq::Agent,
}

/// What the revoke endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeAnswer {
    /// 202: accepted (whether or not the token existed).
    Accepted,
    /// 422: validation failed, or the endpoint thinks it is being spammed.
    Rejected,
    /// 403 with no requests left, or 429: 60 an hour.
    RateLimited,
    /// Anything else (500 included).
    Other(u16),
}

impl GithubApi {
    /// The API at `GITHUB_API_URL` (as `net` read it), else [`DEFAULT_API`].
    pub fn new(net: &super::Net) -> Result<GithubApi> {
        Ok(GithubApi {
            base: net.api_base(super::GITHUB_API_VAR, DEFAULT_API)?,
            agent: net.agent(),
        })
    }

    /// The API base in use (shown in dry runs).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether the revoke endpoint takes this token.
    pub fn revocable(secret: &Secret) -> bool {
        providers::identify_rule(secret.expose())
            .is_some_and(|(p, r)| p.id == GITHUB.id && REVOCABLE_RULES.contains(&r.id))
    }

    /// Sends the tokens, at most [`MAX_PER_REQUEST`] a request; one answer per request. A transport
    /// failure is an error naming the URL.
    pub fn revoke(&self, tokens: &[&Secret]) -> Result<Vec<RevokeAnswer>> {
        let url = format!("{}/credentials/revoke", self.base);
        let mut answers = Vec::new();
        for chunk in tokens.chunks(MAX_PER_REQUEST) {
            let body = serde_json::json!({
                "credentials": chunk.iter().map(|t| t.expose()).collect::<Vec<_>>()
            });
            // No Authorization header, on purpose: the endpoint refuses authenticated requests.
            let result = self
                .agent
                .post(&url)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .send_json(body);
            // Every status is an answer (the agent's `http_status_as_error(false)`).
            let response = match result {
                Ok(response) => response,
                Err(err) => {
                    let (_, detail) = liveness::classify(url.starts_with("https://"), &err);
                    anyhow::bail!(
                        "cannot reach {url}: {}",
                        crate::sanitize::for_terminal(&detail)
                    )
                }
            };
            let status = response.status().as_u16();
            answers.push(match status {
                202 => RevokeAnswer::Accepted,
                422 => RevokeAnswer::Rejected,
                429 => RevokeAnswer::RateLimited,
                403 if super::header(&response, "x-ratelimit-remaining") == Some("0") => {
                    RevokeAnswer::RateLimited
                }
                other => RevokeAnswer::Other(other),
            });
        }
        Ok(answers)
    }

    /// `GET /user` with the token: live (and whose), dead (401) or unknown with why.
    pub fn user(&self, secret: &Secret) -> Liveness {
        let check = GITHUB
            .liveness
            .first()
            .expect("GitHub's provider data has its /user check");
        liveness::call(&self.agent, &GITHUB, check, &self.base, secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::examples::expand;

    #[test]
    fn revocable_shapes_are_the_documented_five() {
        for template in [
            "ghp_{alnum:36}",
            "gho_{alnum:36}",
            "ghu_{alnum:36}",
            "ghr_{alnum:36}",
            "github_pat_{alnum:22}_{alnum:59}",
        ] {
            assert!(
                GithubApi::revocable(&Secret::new(expand(template), "t")),
                "{template}"
            );
        }
        assert!(!GithubApi::revocable(&Secret::new(
            expand("ghs_{alnum:36}"),
            "t"
        )));
        assert!(!GithubApi::revocable(&Secret::new(
            expand("hf_{alpha:34}"),
            "t"
        )));
        for id in REVOCABLE_RULES {
            assert!(providers::rule(id).is_some(), "{id}");
        }
    }
}
