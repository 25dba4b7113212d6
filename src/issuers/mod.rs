//! The issuers: what unleak asks of the services that issue tokens, one layer below `audit` and the
//! playbook. One HTTP client ([`agent`]: a timeout, no redirects, our user agent), one URL policy
//! ([`check_base`]: https, or plain http to a loopback test stand-in; no credentials, query or
//! fragment), one bound on what an answer may cost ([`read_json`], [`MAX_BODY`]), all driven by the provider data in
//! `providers` (the [`IdentityCheck`](crate::providers::IdentityCheck) of each issuer):
//! - [`liveness`]: does a key still work? The documented read-only call of its issuer.
//! - [`huggingface`]: the no-login revoke endpoint and whoami (the token's owner, name and role).
//! - [`github`]: the unauthenticated revoke endpoint and `GET /user`.
//!
//! Adding an issuer with a read-only check is data (its `IdentityCheck`); only an issuer that revokes
//! through an API needs code here.

pub mod github;
pub mod huggingface;
pub mod liveness;

use anyhow::{bail, Context, Result};
use std::time::Duration;

/// The most of an answer's body read: identity and revoke answers are small (whoami: a few kilobytes,
/// with every organization listed); a larger one (a hostile or broken server) is an error, never an
/// allocation the server chose.
pub const MAX_BODY: u64 = 1 << 20;

/// The HTTP agent every call to an issuer uses: a timeout (`UNLEAK_HTTP_TIMEOUT`, seconds, default 30;
/// 10 to connect), no redirects (a token is never forwarded to another host), our user agent.
pub fn agent() -> ureq::Agent {
    let seconds = std::env::var("UNLEAK_HTTP_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30);
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(seconds.min(10)))
        .timeout(Duration::from_secs(seconds))
        .redirects(0)
        .user_agent(concat!("unleak/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A JSON answer, read up to [`MAX_BODY`] bytes: past that it is an error.
pub fn read_json<T: serde::de::DeserializeOwned>(response: ureq::Response) -> Result<T> {
    use std::io::Read;
    let mut body = Vec::new();
    response
        .into_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .context("cannot read the answer")?;
    if body.len() as u64 > MAX_BODY {
        bail!("the answer is larger than {MAX_BODY} bytes");
    }
    serde_json::from_slice(&body).context("the answer is not the JSON expected")
}

/// The API base from `var` when set (trailing `/` removed), else `default`. Only `https://`, or `http://`
/// to a loopback host, with no credentials, query or fragment: a token is sent there.
pub fn api_base(var: &str, default: &str) -> Result<String> {
    let value = std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string());
    check_base(var, &value)
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
