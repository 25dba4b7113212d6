//! The Hugging Face API, only the two calls the playbook needs: the no-login revoke endpoint and whoami.
//!
//! A token is sent to one host only: `HF_ENDPOINT` when set (huggingface_hub's convention), else
//! `https://huggingface.co`. Plain `http://` is refused unless the host is loopback (a test stand-in), and
//! redirects are not followed, so an `Authorization` header can never be forwarded elsewhere.

use crate::secret::Secret;
use anyhow::{Context, Result};
use serde::Deserialize;

/// The public hub, unless `HF_ENDPOINT` names another.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// A client for one endpoint.
#[derive(Debug, Clone)]
pub struct HfApi {
    endpoint: String,
    agent: ureq::Agent,
    /// Set by the first call that could not reach the endpoint: later calls fail at once with the same
    /// reason instead of waiting out another timeout in the middle of an incident.
    down: std::sync::Arc<std::sync::Mutex<Option<Unreachable>>>,
}

/// The endpoint could not be reached at all (no network, DNS, refused connection, timeout): no answer,
/// so nothing is known about the token. The playbook goes on without the API when it sees this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot reach {endpoint}: {reason}")]
pub struct Unreachable {
    /// The endpoint that did not answer.
    pub endpoint: String,
    /// In plain words, without the URL (the message names the endpoint once).
    pub reason: String,
}

/// Why a call to the API gave no answer to act on: the endpoint could not be reached (the playbook goes
/// on by hand), or it answered something we cannot read (the run stops on it).
#[derive(Debug, thiserror::Error)]
pub enum HfError {
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    #[error(transparent)]
    Answer(#[from] anyhow::Error),
}

/// `HF_ENDPOINT` when set (huggingface_hub's convention; trailing `/` removed), else the public hub; read
/// once, when the command's configuration is resolved. Not checked here: [`HfApi::new`] refuses an
/// endpoint a token may not be sent to; pages for people to open are shown from it as it is.
pub fn endpoint_from(env: &crate::environment::Environment) -> String {
    env.var("HF_ENDPOINT")
        .map(|e| e.trim().trim_end_matches('/').to_string())
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
}

/// A Hugging Face web page (the provider data names it on the public hub) on `endpoint`, the one in use,
/// so a user of a private hub (`HF_ENDPOINT`) is sent to their own settings pages.
pub fn page_on_endpoint(url: &str, endpoint: &str) -> String {
    match url.strip_prefix(DEFAULT_ENDPOINT) {
        Some(rest) => format!("{}{rest}", endpoint.trim_end_matches('/')),
        None => url.to_string(),
    }
}

/// What whoami says about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStatus {
    /// 200: the token works. Who it belongs to and what it may do.
    Valid(TokenOwner),
    /// 401: invalid or revoked.
    Invalid,
    /// 403: an organization policy denied or revoked it.
    Denied,
    /// 429: rate limited; the API is strict on purpose, so we do not retry in a loop.
    RateLimited,
    /// Any other answer.
    Unexpected(u16),
}

/// Who a working token belongs to, as whoami says.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct TokenOwner {
    /// The user name.
    pub user: String,
    /// The name the token was given on the settings page.
    pub token_name: Option<String>,
    /// `read`, `write` or `fineGrained`.
    pub role: Option<String>,
}

impl HfApi {
    /// A client for `endpoint` (trailing `/` removed), by the issuers' one URL policy
    /// ([`super::check_base`]: https, plain http to a loopback test server only, no user information).
    pub fn new(endpoint: &str, net: &super::Net) -> Result<HfApi> {
        let endpoint = super::check_base("HF_ENDPOINT", endpoint)?;
        Ok(HfApi {
            endpoint,
            agent: net.agent(),
            down: Default::default(),
        })
    }

    /// Fails at once when an earlier call could not reach the endpoint.
    fn check_up(&self) -> Result<(), Unreachable> {
        match self.down.lock().map(|d| d.clone()) {
            Ok(Some(down)) => Err(down),
            _ => Ok(()),
        }
    }

    fn transport_error(&self, err: ureq::Error) -> HfError {
        let down = unreachable(&self.endpoint, err);
        if let Ok(mut slot) = self.down.lock() {
            *slot = Some(down.clone());
        }
        down.into()
    }

    /// The endpoint in use (shown in dry runs).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `POST {endpoint}/api/credentials/revoke`, returning the HTTP status. A working endpoint answers 202
    /// whether or not the token existed, so the caller confirms with [`HfApi::whoami`] afterwards; any
    /// other status means the request was not accepted.
    pub fn revoke(&self, tokens: &[&Secret]) -> Result<u16, HfError> {
        self.check_up()?;
        let url = format!("{}/api/credentials/revoke", self.endpoint);
        // The body holds the tokens: built straight into memory that is wiped on drop. (ureq copies it
        // into its own write buffer, which we cannot reach; that copy lives only for the request.)
        let body = zeroize::Zeroizing::new(
            serde_json::to_string(&RevokeBody {
                credentials: tokens.iter().map(|t| t.expose()).collect(),
            })
            .context("cannot encode the revoke request")?,
        );
        // Every status is an answer (the agent's `http_status_as_error(false)`).
        match self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.as_str())
        {
            Ok(response) => Ok(response.status().as_u16()),
            Err(err) => Err(self.transport_error(err)),
        }
    }

    /// `GET {endpoint}/api/whoami-v2` with the token as bearer. The answer is read up to
    /// [`MAX_BODY`] bytes: a whoami is a few kilobytes, and a server that sends more is not one.
    pub fn whoami(&self, token: &Secret) -> Result<TokenStatus, HfError> {
        self.check_up()?;
        let url = format!("{}/api/whoami-v2", self.endpoint);
        // Wiped on drop; ureq keeps its own copy of the header only for the request.
        let authorization = zeroize::Zeroizing::new(format!("Bearer {}", token.expose()));
        let response = self
            .agent
            .get(&url)
            .header("Authorization", authorization.as_str())
            .call();
        let response = match response {
            Ok(response) => response,
            Err(err) => return Err(self.transport_error(err)),
        };
        match response.status().as_u16() {
            200 => {
                // Read to the issuers' bound: a larger answer is refused, never allocated.
                let body: WhoAmI = super::read_json(response)
                    .with_context(|| format!("unexpected whoami answer from {url}"))?;
                Ok(TokenStatus::Valid(TokenOwner {
                    user: body.name.unwrap_or_default(),
                    token_name: body
                        .auth
                        .as_ref()
                        .and_then(|a| a.access_token.as_ref()?.display_name.clone()),
                    role: body.auth.and_then(|a| a.access_token?.role),
                }))
            }
            401 => Ok(TokenStatus::Invalid),
            403 => Ok(TokenStatus::Denied),
            429 => Ok(TokenStatus::RateLimited),
            code => Ok(TokenStatus::Unexpected(code)),
        }
    }
}

#[derive(serde::Serialize)]
struct RevokeBody<'a> {
    credentials: Vec<&'a str>,
}

/// A transport failure in plain words: the endpoint named once, and what it likely means. Never a
/// header or a body: no token can be in it.
fn unreachable(endpoint: &str, err: ureq::Error) -> Unreachable {
    use super::liveness::Unknown;
    let (kind, detail) = super::liveness::classify(endpoint.starts_with("https://"), &err);
    let lookup = match &err {
        ureq::Error::HostNotFound => true,
        ureq::Error::Other(other) => other.is::<super::LookupFailed>(),
        _ => false,
    };
    let reason = match (&err, kind) {
        _ if lookup => "the host name does not resolve (no network or no DNS?)".into(),
        (_, Unknown::Timeout) => "no answer in time (timed out)".into(),
        (_, Unknown::Tls) => format!("TLS failed ({detail})"),
        (ureq::Error::Io(_) | ureq::Error::ConnectionFailed, _) => {
            format!("the connection failed ({detail})")
        }
        _ => format!("network error ({detail})"),
    };
    Unreachable {
        endpoint: endpoint.to_string(),
        reason: crate::sanitize::for_terminal(&reason).into_owned(),
    }
}

#[derive(Deserialize)]
struct WhoAmI {
    name: Option<String>,
    auth: Option<Auth>,
}

#[derive(Deserialize)]
struct Auth {
    #[serde(rename = "accessToken")]
    access_token: Option<AccessToken>,
}

#[derive(Deserialize)]
struct AccessToken {
    #[serde(rename = "displayName")]
    display_name: Option<String>,
    role: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #25: the whoami answer was read whatever its size. A loopback server answers 2 MiB:
    /// refused past [`crate::issuers::MAX_BODY`], and nothing past it is read.
    #[test]
    fn a_whoami_answer_past_the_cap_is_refused() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let body_len = 2 << 20;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body_len}\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let mut body = vec![b' '; body_len - 2];
            body.extend_from_slice(b"{}");
            let _ = stream.write_all(&body);
        });
        let api = HfApi::new(&format!("http://127.0.0.1:{port}"), &Default::default()).unwrap();
        let token = Secret::new(crate::providers::examples::expand("hf_{alpha:34}"), "test");
        let err = api.whoami(&token).unwrap_err();
        assert!(format!("{err:#}").contains("larger than"), "{err:#}");
        server.join().unwrap();
    }

    /// ureq 3 says a transport failure differently from ureq 2: a refused connection, and a server that
    /// hangs up in the middle of the TLS handshake, still read as they did.
    #[test]
    fn transport_failures_are_said_in_plain_words() {
        use std::io::Read;
        let token = Secret::new(crate::providers::examples::expand("hf_{alpha:34}"), "test");
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let err = HfApi::new(&format!("http://127.0.0.1:{port}"), &Default::default())
            .unwrap()
            .whoami(&token)
            .unwrap_err();
        let HfError::Unreachable(down) = err else {
            panic!("not unreachable: {err:#}")
        };
        assert!(down.reason.starts_with("the connection failed ("), "{down}");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let _ = stream.read(&mut [0u8; 64]);
        });
        let api = HfApi::new(&format!("https://127.0.0.1:{port}"), &Default::default()).unwrap();
        let err = api.whoami(&token).unwrap_err();
        assert!(!format!("{err:#}").contains(token.expose()));
        let HfError::Unreachable(down) = err else {
            panic!("not unreachable: {err:#}")
        };
        assert!(down.reason.starts_with("TLS failed (handshake: "), "{down}");
        server.join().unwrap();
        // The endpoint is known to be down: the next call fails at once, with the same reason.
        let again = api.revoke(&[&token]).unwrap_err();
        assert!(
            matches!(again, HfError::Unreachable(ref same) if *same == down),
            "{again:#}"
        );
    }

    #[test]
    fn refuses_plain_http_to_remote_hosts() {
        assert!(HfApi::new("http://example.com", &Default::default()).is_err());
        assert!(HfApi::new("http://127.0.0.1:8080/", &Default::default()).is_ok());
        assert!(HfApi::new("http://127.1.2.3:8080", &Default::default()).is_ok());
        assert!(HfApi::new("http://localhost:8080", &Default::default()).is_ok());
        assert!(HfApi::new("http://[::1]:8080", &Default::default()).is_ok());
        // The host is what follows `@`: 192.0.2.2, not loopback.
        assert!(HfApi::new("http://127.0.0.1@192.0.2.2:8080", &Default::default()).is_err());
        assert!(HfApi::new("http://127.0.0.1:x@192.0.2.2:8080", &Default::default()).is_err());
        assert!(HfApi::new("https://user@hf.co", &Default::default()).is_err());
        // Names that merely start like a loopback address.
        assert!(HfApi::new("http://127.0.0.1.nip.io:8080", &Default::default()).is_err());
        assert!(HfApi::new("http://127.example.com", &Default::default()).is_err());
        assert!(HfApi::new("http://localhost.example.com", &Default::default()).is_err());
        assert!(HfApi::new("http://[::2]:8080", &Default::default()).is_err());
        assert!(HfApi::new("ftp://127.0.0.1", &Default::default()).is_err());
        assert!(HfApi::new("not a url", &Default::default()).is_err());
        assert_eq!(
            HfApi::new("https://hf.co/", &Default::default())
                .unwrap()
                .endpoint(),
            "https://hf.co"
        );
    }
}
