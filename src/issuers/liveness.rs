//! Does a found token still work? One documented, read-only identity call per issuer (the provider data's
//! [`IdentityCheck`]), never a write. When the answer is neither "live" nor "dead", it says why: no such
//! check, network, TLS, timeout, rate limit, or an answer we do not know how to read.
//!
//! A token goes to one host only: the issuer's API, or the base its `base_env` variable names. That base
//! must be `https://`, or `http://` to a loopback host (a test stand-in); redirects are not followed, so
//! the token is never forwarded anywhere else.

use crate::providers::{Auth, IdentityCheck, Provider, Rules};
use crate::secret::Secret;
use anyhow::{bail, Result};

/// What a check found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// The token works; whose it is when the answer says.
    Live {
        owner: Option<String>,
        detail: String,
    },
    /// Revoked, expired or invalid.
    Dead { detail: String },
    /// Not known, and why.
    Unknown { reason: Unknown, detail: String },
}

/// Why liveness is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// The issuer documents no safe read-only call for this kind of token (or the shape is unknown).
    NoCheck,
    /// Not asked: `--offline`.
    Offline,
    /// DNS, connection refused or reset.
    Network,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// No answer in time.
    Timeout,
    /// 429, or GitHub's 403 with no requests left.
    RateLimited,
    /// An answer the provider data does not explain.
    Unexpected,
}

impl Unknown {
    pub fn as_str(self) -> &'static str {
        match self {
            Unknown::NoCheck => "no-check",
            Unknown::Offline => "offline",
            Unknown::Network => "network",
            Unknown::Tls => "tls",
            Unknown::Timeout => "timeout",
            Unknown::RateLimited => "rate-limited",
            Unknown::Unexpected => "unexpected-answer",
        }
    }
}

impl Liveness {
    /// `live`, `dead` or `unknown`, as reports carry it.
    pub fn label(&self) -> &'static str {
        match self {
            Liveness::Live { .. } => "live",
            Liveness::Dead { .. } => "dead",
            Liveness::Unknown { .. } => "unknown",
        }
    }

    /// One line on how we know (never the token): "GET /user answered 401".
    pub fn reason(&self) -> String {
        match self {
            Liveness::Live { detail, .. } | Liveness::Dead { detail } => detail.clone(),
            Liveness::Unknown { reason, detail } => format!("{}: {detail}", reason.as_str()),
        }
    }

    pub fn is_dead(&self) -> bool {
        matches!(self, Liveness::Dead { .. })
    }
}

/// The API base of an identity check: its issuer's, or the override its `base_env` names, which must
/// be a loopback test stand-in unless the check allows any host (a private Hub, GitHub Enterprise).
fn check_api_base(check: &IdentityCheck, net: &super::Net) -> Result<String> {
    let base = net.api_base(check.base_env, check.default_base)?;
    if !check.any_host && base != check.default_base && !super::is_loopback(&base) {
        bail!(
            "{}={base} is not a loopback test server: a key is sent to its own issuer ({}) and nowhere else",
            check.base_env,
            check.default_base
        );
    }
    Ok(base)
}

/// Checks tokens of every provider with an identity call; resolves each provider's base once.
pub struct Checker {
    agent: ureq::Agent,
    net: super::Net,
    offline: bool,
}

impl Checker {
    pub fn new(offline: bool, net: &super::Net) -> Checker {
        Checker {
            agent: net.agent(),
            net: net.clone(),
            offline,
        }
    }

    /// Live, dead or unknown (with why), by the built-in rules (respond's steps: they read no custom
    /// rule). An API base that is set but unsafe is an error, not "unknown".
    pub fn check(&self, secret: &Secret) -> Result<Liveness> {
        self.check_in(secret, Rules::builtin())
    }

    /// [`Checker::check`] by a search's rules (audit's, custom ones included: a custom rule's token
    /// has no issuer to ask).
    pub fn check_in(&self, secret: &Secret, rules: &Rules) -> Result<Liveness> {
        let Some(rule) = secret.identify_in(rules) else {
            return Ok(unknown(
                Unknown::NoCheck,
                "not a token shape any provider rule knows".into(),
            ));
        };
        let provider = rule.provider;
        let Some(check) = provider
            .liveness
            .iter()
            .find(|c| c.rules.contains(&rule.id))
        else {
            let why = provider.unchecked.map_or_else(
                || {
                    format!(
                        "{} documents no read-only check for {} tokens",
                        provider.name, rule.id
                    )
                },
                str::to_string,
            );
            return Ok(unknown(Unknown::NoCheck, why));
        };
        if self.offline {
            return Ok(unknown(Unknown::Offline, "not asked (--offline)".into()));
        }
        let base = check_api_base(check, &self.net)?;
        Ok(call(&self.agent, provider, check, &base, secret))
    }
}

fn unknown(reason: Unknown, detail: String) -> Liveness {
    Liveness::Unknown { reason, detail }
}

/// Makes the identity call and reads the answer according to the provider data.
pub fn call(
    agent: &ureq::Agent,
    provider: &Provider,
    check: &IdentityCheck,
    base: &str,
    secret: &Secret,
) -> Liveness {
    let shown_url = format!("{base}{}", check.path);
    let mut url = shown_url.clone();
    if let Auth::Query(param) = check.auth {
        // The key in the query: the URL is never shown (`what` names the path only).
        let joiner = if url.contains('?') { '&' } else { '?' };
        let value: String =
            url::form_urlencoded::byte_serialize(secret.expose().as_bytes()).collect();
        url = format!("{url}{joiner}{param}={value}");
    }
    let what = format!(
        "{} {} {}",
        provider.name,
        if check.post { "POST" } else { "GET" },
        check.path
    );
    // The token's header, built straight into memory that is wiped on drop (ureq keeps its own copy
    // only for the request).
    let auth: Option<(&str, zeroize::Zeroizing<String>)> = match check.auth {
        Auth::Bearer => Some((
            "Authorization",
            zeroize::Zeroizing::new(format!("Bearer {}", secret.expose())),
        )),
        Auth::Header(name) => Some((name, zeroize::Zeroizing::new(secret.expose().to_string()))),
        Auth::Basic(user) => {
            use base64::Engine;
            let pair = zeroize::Zeroizing::new(format!("{user}:{}", secret.expose()));
            let encoded = zeroize::Zeroizing::new(
                base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()),
            );
            Some((
                "Authorization",
                zeroize::Zeroizing::new(format!("Basic {}", encoded.as_str())),
            ))
        }
        Auth::Query(_) => None,
    };
    let headers = check
        .headers
        .iter()
        .map(|(name, value)| (*name, *value))
        .chain(auth.as_ref().map(|(name, value)| (*name, value.as_str())));
    // Every status is an answer (the agent's `http_status_as_error(false)`): an error is a transport
    // failure, or a request that could not be built.
    let result = if check.post {
        with_headers(agent.post(&url), headers).send(check.body)
    } else {
        with_headers(agent.get(&url), headers).call()
    };
    let response = match result {
        Ok(response) => response,
        Err(err) => {
            // The error's text may hold the URL, and a `key=` query holds the token.
            let encoded: String =
                url::form_urlencoded::byte_serialize(secret.expose().as_bytes()).collect();
            return match transport(&what, &shown_url, &err) {
                Liveness::Unknown { reason, detail } => Liveness::Unknown {
                    reason,
                    detail: secret_free(&detail, secret).replace(&encoded, &secret.redacted()),
                },
                other => other,
            };
        }
    };
    let status = response.status().as_u16();
    if status == 429
        || (status == 403 && super::header(&response, "x-ratelimit-remaining") == Some("0"))
    {
        let retry = super::header(&response, "retry-after")
            .map(|s| format!(" (retry after {s}s)"))
            .unwrap_or_default();
        return unknown(
            Unknown::RateLimited,
            format!("{what} answered {status}: rate limited{retry}; not retrying"),
        );
    }
    if check.dead.contains(&status) {
        return Liveness::Dead {
            detail: format!("{what} answered {status}"),
        };
    }
    if !check.live.contains(&status) {
        return unknown(Unknown::Unexpected, format!("{what} answered {status}"));
    }
    let body: serde_json::Value = super::read_json(response).unwrap_or(serde_json::Value::Null);
    if let Some(ok) = &check.body_ok {
        match body.get(ok.field).and_then(|v| v.as_bool()) {
            Some(true) => {}
            Some(false) => {
                let error = body
                    .get(ok.error_field)
                    .and_then(|v| v.as_str())
                    .unwrap_or("?");
                let error = crate::sanitize::for_terminal(error).into_owned();
                return if ok.dead_errors.contains(&error.as_str()) {
                    Liveness::Dead {
                        detail: format!("{what} answered {}: {error}", ok.field),
                    }
                } else if error == "ratelimited" {
                    unknown(Unknown::RateLimited, format!("{what}: {error}"))
                } else {
                    unknown(
                        Unknown::Unexpected,
                        format!("{what} answered error {error}"),
                    )
                };
            }
            None => {
                return unknown(
                    Unknown::Unexpected,
                    format!("{what} answered {status} without `{}`", ok.field),
                )
            }
        }
    }
    let owner = check
        .owner_field
        .and_then(|field| body.get(field)?.as_str())
        .map(|s| crate::sanitize::for_terminal(&secret_free(s, secret)).into_owned());
    Liveness::Live {
        detail: format!("{what} answered {status}"),
        owner,
    }
}

/// A request with these headers.
fn with_headers<'a, B>(
    mut request: ureq::RequestBuilder<B>,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
) -> ureq::RequestBuilder<B> {
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request
}

/// Text from the API is shown, so it must not echo the token back.
fn secret_free(text: &str, secret: &Secret) -> String {
    text.replace(secret.expose(), &secret.redacted())
}

/// What kind of transport failure an error is, and its text (each cause said once). A structural
/// reading of ureq's error first (its timeout, a TLS error, an I/O error's kind), then its words.
pub(crate) fn classify(https: bool, err: &ureq::Error) -> (Unknown, String) {
    let handshake = match err {
        ureq::Error::Other(other) => other.downcast_ref::<super::HandshakeFailed>(),
        _ => None,
    };
    // Our own marks (a failed handshake or name lookup) are said as themselves, not as "other: …".
    let marked: Option<&(dyn std::error::Error + 'static)> = match err {
        ureq::Error::Other(other)
            if other.is::<super::HandshakeFailed>() || other.is::<super::LookupFailed>() =>
        {
            Some(other.as_ref())
        }
        _ => None,
    };
    let mut text = match (err, marked) {
        (_, Some(marked)) => marked.to_string(),
        (ureq::Error::Io(io), _) => io.to_string(),
        (other, _) => other.to_string(),
    };
    let mut source: Option<&(dyn std::error::Error + 'static)> = match (err, marked) {
        (_, Some(marked)) => marked.source().and_then(|io| io.source()),
        (ureq::Error::Io(io), _) => std::error::Error::source(io),
        (ureq::Error::Rustls(tls), _) => std::error::Error::source(tls),
        _ => None,
    };
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    let io_kind = match err {
        ureq::Error::Io(io) => Some(io.kind()),
        _ => None,
    };
    let lower = text.to_ascii_lowercase();
    let reason = if matches!(err, ureq::Error::Timeout(_))
        || matches!(
            io_kind,
            Some(std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock)
        )
        || lower.contains("timed out")
    {
        Unknown::Timeout
    } else if handshake.is_some()
        || matches!(
            err,
            ureq::Error::Tls(_)
                | ureq::Error::Rustls(_)
                | ureq::Error::Pem(_)
                | ureq::Error::TlsRequired
        )
        || (https
            && (matches!(io_kind, Some(std::io::ErrorKind::InvalidData))
                || [
                    "tls",
                    "certificate",
                    "handshake",
                    "corrupt message",
                    "alert",
                ]
                .iter()
                .any(|w| lower.contains(w))))
    {
        Unknown::Tls
    } else {
        Unknown::Network
    };
    (reason, text)
}

/// Sorts a transport failure into network, TLS or timeout, naming the URL (never headers or bodies).
fn transport(what: &str, url: &str, err: &ureq::Error) -> Liveness {
    let (reason, text) = classify(url.starts_with("https://"), err);
    let message = match reason {
        Unknown::Timeout => format!("{what}: no answer from {url} in time"),
        Unknown::Tls => format!("{what}: TLS with {url} failed ({text})"),
        _ => format!("{what}: cannot reach {url} ({text})"),
    };
    unknown(reason, crate::sanitize::for_terminal(&message).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuers::check_base;

    #[test]
    fn bases_are_parsed_not_prefix_matched() {
        assert_eq!(
            check_base("X", "https://api.github.com/").unwrap(),
            "https://api.github.com"
        );
        assert_eq!(
            check_base("X", "https://ghe.example/api/v3").unwrap(),
            "https://ghe.example/api/v3"
        );
        assert!(check_base("X", "http://127.0.0.1:8080").is_ok());
        assert!(check_base("X", "http://[::1]:8080/").is_ok());
        assert!(check_base("X", "http://localhost:1").is_ok());
        for bad in [
            "http://example.com",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example/",
            "https://user:pw@api.github.com",
            "https://api.github.com/?x=1",
            "ftp://127.0.0.1",
            "api.github.com",
        ] {
            assert!(check_base("X", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_shapes_and_rules_without_a_check_say_so() {
        let checker = Checker::new(true, &Default::default());
        let secret = Secret::new("not-a-token", "test");
        let got = checker.check(&secret).unwrap();
        assert!(matches!(
            got,
            Liveness::Unknown {
                reason: Unknown::NoCheck,
                ..
            }
        ));
        let installation =
            Secret::new(crate::providers::examples::expand("ghs_{alnum:36}"), "test");
        let got = checker.check(&installation).unwrap();
        assert!(got.reason().starts_with("no-check:"), "{}", got.reason());
        let pat = Secret::new(crate::providers::examples::expand("ghp_{alnum:36}"), "test");
        let got = checker.check(&pat).unwrap();
        assert_eq!(got.reason(), "offline: not asked (--offline)");
    }
}
