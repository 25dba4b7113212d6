//! The issuers: what unleak asks of the services that issue tokens, one layer below `audit` and the
//! playbook. One HTTP client ([`Net::agent`]: a timeout, no redirects, our user agent), one URL policy
//! ([`check_base`]: https, or plain http to a loopback test stand-in; no credentials, query or
//! fragment), one bound on what an answer may cost ([`read_json`], [`MAX_BODY`]), all driven by the provider data in
//! `providers` (the [`IdentityCheck`](crate::providers::IdentityCheck) of each issuer):
//! - [`liveness`]: does a key still work? The documented read-only call of its issuer.
//! - [`huggingface`]: the no-login revoke endpoint and whoami (the token's owner, name and role).
//! - [`github`]: the unauthenticated revoke endpoint and `GET /user`.
//!
//! Adding an issuer with a read-only check is data (its `IdentityCheck`); only an issuer that revokes
//! through an API needs code here. What the environment says about the network (the timeout, the API
//! base overrides) is read once by `config` into a [`Net`] value, passed to every client.

pub mod github;
pub mod huggingface;
pub mod liveness;

use crate::environment::Environment;
use anyhow::{bail, Context, Result};
use std::time::Duration;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    ConnectionDetails, Connector, NextTimeout, RustlsConnector, TcpConnector, Transport,
};

/// The most of an answer's body read: identity and revoke answers are small (whoami: a few kilobytes,
/// with every organization listed); a larger one (a hostile or broken server) is an error, never an
/// allocation the server chose.
pub const MAX_BODY: u64 = 1 << 20;

/// The variable naming GitHub's API base (GitHub Enterprise, or a test stand-in).
pub const GITHUB_API_VAR: &str = "GITHUB_API_URL";

/// What the issuers' calls take from the environment, read once by `config`: the timeout
/// (`UNLEAK_HTTP_TIMEOUT`, seconds, default 30) and the API bases set in the variables the issuers
/// name (`GITHUB_API_URL`, each identity check's `base_env`). The default is no override, 30 seconds.
#[derive(Debug, Clone)]
pub struct Net {
    seconds: u64,
    /// (variable, value) for each base variable that is set; its value is checked where it is used.
    bases: Vec<(String, String)>,
}

impl Default for Net {
    fn default() -> Net {
        Net {
            seconds: 30,
            bases: Vec::new(),
        }
    }
}

impl Net {
    /// The timeout and base overrides `env` sets.
    pub fn from_env(env: &Environment) -> Net {
        let seconds = env
            .var("UNLEAK_HTTP_TIMEOUT")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
            .unwrap_or(30);
        let mut names: Vec<&str> = crate::providers::all()
            .iter()
            .flat_map(|p| p.liveness.iter().map(|check| check.base_env))
            .chain([GITHUB_API_VAR])
            .collect();
        names.sort_unstable();
        names.dedup();
        let bases = names
            .into_iter()
            .filter_map(|name| Some((name.to_string(), env.var(name)?.to_string())))
            .collect();
        Net { seconds, bases }
    }

    /// The HTTP agent every call to an issuer uses: the timeout (for the whole call, the answer's body
    /// included; 10 s at most to connect), no redirects (a token is never forwarded to another host: a
    /// 3xx comes back as the answer), no proxy, our user agent. Every status comes back as an answer (a
    /// 401 is news, not an error): only a transport failure is an `Err`.
    pub fn agent(&self) -> ureq::Agent {
        agent(self.seconds)
    }

    /// The API base from `var` when set (trailing `/` removed), else `default`. Only `https://`, or
    /// `http://` to a loopback host, with no credentials, query or fragment: a token is sent there.
    pub fn api_base(&self, var: &str, default: &str) -> Result<String> {
        let value = self
            .bases
            .iter()
            .find(|(name, _)| name == var)
            .map(|(_, value)| value.as_str())
            .filter(|v| !v.trim().is_empty())
            .unwrap_or(default);
        check_base(var, value)
    }
}

/// See [`Net::agent`].
fn agent(seconds: u64) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(seconds.min(10))))
        .timeout_global(Some(Duration::from_secs(seconds)))
        .max_redirects(0)
        .http_status_as_error(false)
        .proxy(None)
        .user_agent(concat!("unleak/", env!("CARGO_PKG_VERSION")))
        .build();
    // ureq's own chain (TCP, then rustls), with what fails inside the TLS handshake marked as such: a
    // server that hangs up mid-handshake is an I/O error like any other, and only where it happened
    // says it is TLS. No proxy connector: the agent has no proxy.
    let connector = ().chain(TcpConnector::default()).chain(TlsStage::default());
    ureq::Agent::with_parts(config, connector, LookupStage::default())
}

/// A host name that did not resolve (no network, no DNS, no such name): the resolver's cause, marked
/// so it reads as such ([`huggingface`] says so in plain words).
#[derive(Debug, thiserror::Error)]
#[error("host name lookup: {0}")]
pub struct LookupFailed(#[source] std::io::Error);

/// ureq's resolver, its I/O errors marked [`LookupFailed`] (a timeout stays a timeout).
#[derive(Debug, Default)]
struct LookupStage(DefaultResolver);

impl Resolver for LookupStage {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.0
            .resolve(uri, config, timeout)
            .map_err(|err| match err {
                ureq::Error::Io(io) => ureq::Error::Other(Box::new(LookupFailed(io))),
                other => other,
            })
    }
}

/// A TLS handshake that failed on an I/O error (the server hung up, or spoke something else): the
/// cause, marked so the transport failure is read as TLS ([`liveness::classify`]).
#[derive(Debug, thiserror::Error)]
#[error("handshake: {0}")]
pub struct HandshakeFailed(#[source] std::io::Error);

/// rustls's connector, its I/O errors marked [`HandshakeFailed`] (a timeout stays a timeout).
#[derive(Debug, Default)]
struct TlsStage(RustlsConnector);

impl<In: Transport> Connector<In> for TlsStage {
    type Out = <RustlsConnector as Connector<In>>::Out;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.0.connect(details, chained).map_err(|err| match err {
            ureq::Error::Io(io)
                if !matches!(
                    io.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                ureq::Error::Other(Box::new(HandshakeFailed(io)))
            }
            other => other,
        })
    }
}

/// A JSON answer, read up to [`MAX_BODY`] bytes: past that it is an error.
pub fn read_json<T: serde::de::DeserializeOwned>(
    response: ureq::http::Response<ureq::Body>,
) -> Result<T> {
    use std::io::Read;
    let mut body = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .context("cannot read the answer")?;
    if body.len() as u64 > MAX_BODY {
        bail!("the answer is larger than {MAX_BODY} bytes");
    }
    serde_json::from_slice(&body).context("the answer is not the JSON expected")
}

/// A header of an answer, when it is present and text.
pub fn header<'a>(response: &'a ureq::http::Response<ureq::Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name)?.to_str().ok()
}

/// Validates an API base with a real URL parse (a prefix test lets `http://127.0.0.1.evil.example` by).
pub fn check_base(var: &str, value: &str) -> Result<String> {
    let trimmed = value.trim().trim_end_matches('/');
    let shown = crate::sanitize::for_terminal(trimmed).into_owned();
    let url = url::Url::parse(trimmed)
        .with_context(|| format!("{var}={shown} is not a URL (set it to https://HOST[/PATH])"))?;
    if !url.username().is_empty() || url.password().is_some() {
        bail!(
            "{var} carries user information (`user@`) in the URL: refused, since the host it names is \
             not where it appears to point"
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{var}={shown} has a query or fragment: give the API base only");
    }
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if is_loopback(trimmed) => {}
        _ => bail!(
            "{var}={shown} is not https: a token is only sent over TLS (or to a loopback test server)"
        ),
    }
    Ok(trimmed.to_string())
}

/// Whether a URL's host is a loopback address (`127.0.0.0/8`, `::1`) or `localhost`: a test stand-in.
pub fn is_loopback(base: &str) -> bool {
    match url::Url::parse(base).ok().as_ref().and_then(|u| u.host()) {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}
