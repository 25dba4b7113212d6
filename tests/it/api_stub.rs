//! A loopback HTTP server standing in for any issuer's API (GitHub, OpenAI, Anthropic, Slack, Stripe,
//! npm): identity calls answer 200 for live tokens (from `Authorization: Bearer` or `x-api-key`) and the
//! issuer's "dead" answer otherwise; `POST /credentials/revoke` behaves like GitHub's (unauthenticated
//! only, kills what it is sent). It can also rate limit, or accept and never answer (a timeout).
//!
//! [`serve`] is the HTTP loop every stub shares (this one and `hf_stub`): read one request, ask the
//! stub, write its reply.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One HTTP request as a stub read it (header names in lower case).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// How the stub answers for a dead token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadAnswer {
    /// 401, as most APIs do.
    Unauthorized,
    /// Slack: 200 with `{"ok": false, "error": "invalid_auth"}`.
    SlackOkFalse,
    /// 400, as Google answers an invalid API key (`API_KEY_INVALID`).
    BadRequest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// 429 with Retry-After.
    RateLimited,
    /// GitHub's way: 403 with `x-ratelimit-remaining: 0`.
    GithubRateLimited,
    /// Reads the request and never answers.
    Hang,
    /// Every revoke request answers this status.
    RevokeStatus(u16),
    /// Every identity call answers this status (500, or 302 to another host).
    IdentityStatus(u16),
}

struct State {
    /// token -> the JSON a live identity call answers.
    live: HashMap<String, serde_json::Value>,
    requests: Vec<Request>,
    dead: DeadAnswer,
    mode: Mode,
}

pub struct ApiStub {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl ApiStub {
    /// Starts the server on 127.0.0.1 with an ephemeral port; it lives until the test process ends.
    pub fn start(dead: DeadAnswer) -> ApiStub {
        let state = Arc::new(Mutex::new(State {
            live: HashMap::new(),
            requests: Vec::new(),
            dead,
            mode: Mode::Normal,
        }));
        let shared = state.clone();
        let endpoint = serve(move |request| answer(request, &shared));
        ApiStub { endpoint, state }
    }

    /// The same server addressed as https: a TLS client meets plain HTTP and the handshake fails.
    pub fn https_endpoint(&self) -> String {
        self.endpoint.replacen("http://", "https://", 1)
    }

    pub fn add_live(&self, token: &str, answer: serde_json::Value) {
        self.state
            .lock()
            .unwrap()
            .live
            .insert(token.to_string(), answer);
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn revokes(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == "/credentials/revoke")
            .collect()
    }

    /// Every request that carried a token as credentials, and the methods used: audits must never write.
    pub fn identity_calls(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path != "/credentials/revoke")
            .collect()
    }
}

/// A port nothing listens on (bound, then released): "connection refused".
pub fn closed_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    endpoint
}

/// What a stub answers: a status, extra header lines (each ending in `\r\n`), a body.
pub struct Reply {
    pub status: u16,
    pub extra: &'static str,
    pub body: String,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            extra: "",
            body: body.into(),
        }
    }
}

/// Starts a loopback HTTP server on an ephemeral port; it lives until the test process ends. Each
/// connection gets its own thread: one request is read and handed to `answer`, whose reply is written
/// (None: the connection is closed without an answer). Returns the endpoint (`http://127.0.0.1:PORT`).
pub fn serve(answer: impl Fn(Request) -> Option<Reply> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
                let _ = serve_one(stream, &*answer);
            });
        }
    });
    endpoint
}

fn serve_one(stream: TcpStream, answer: &dyn Fn(Request) -> Option<Reply>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let request = Request {
        method,
        path,
        headers,
        body,
    };
    let Some(Reply {
        status,
        extra,
        body: reply,
    }) = answer(request)
    else {
        return Ok(());
    };
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        422 => "Unprocessable Entity",
        302 => "Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Not Found",
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    )?;
    stream.flush()
}

/// The token a request carries, however its issuer takes it: `Authorization: Bearer`, a key header
/// (`x-api-key`, `xi-api-key`, `Api-Key`), basic auth with the token as password (W&B), or a `key=`
/// query parameter (Google).
fn credential(request: &Request) -> Option<String> {
    use base64::Engine;
    let authorization = request.header("authorization");
    if let Some(bearer) = authorization.and_then(|a| a.strip_prefix("Bearer ")) {
        return Some(bearer.to_string());
    }
    if let Some(basic) = authorization.and_then(|a| a.strip_prefix("Basic ")) {
        let pair = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()?;
        let pair = String::from_utf8(pair).ok()?;
        return pair.split_once(':').map(|(_, token)| token.to_string());
    }
    for header in ["x-api-key", "xi-api-key", "api-key"] {
        if let Some(token) = request.header(header) {
            return Some(token.to_string());
        }
    }
    let query = request.path.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("key="))
        .map(|t| t.replace("%2B", "+").replace("%2F", "/"))
}

/// The issuer's answer to one request.
fn answer(request: Request, state: &Mutex<State>) -> Option<Reply> {
    let token = credential(&request);
    let (method, path, body) = (
        request.method.clone(),
        request.path.clone(),
        request.body.clone(),
    );
    let authenticated = request.header("authorization").is_some();
    let mut state = state.lock().unwrap();
    state.requests.push(request);
    let (status, extra, reply) = match state.mode {
        Mode::Hang => {
            drop(state);
            std::thread::sleep(std::time::Duration::from_secs(20));
            return None;
        }
        Mode::RateLimited => (429, "Retry-After: 60\r\n", "{}".to_string()),
        Mode::GithubRateLimited => (403, "x-ratelimit-remaining: 0\r\n", "{}".to_string()),
        Mode::IdentityStatus(302) => (
            302,
            "Location: http://127.0.0.2:9/steal\r\n",
            "{}".to_string(),
        ),
        Mode::IdentityStatus(code) => (code, "", "{}".to_string()),
        _ if path == "/credentials/revoke" => {
            if method != "POST" {
                (404, "", "{}".to_string())
            } else if authenticated {
                (
                    403,
                    "",
                    r#"{"message":"authenticated requests are refused"}"#.to_string(),
                )
            } else if let Mode::RevokeStatus(code) = state.mode {
                (code, "", "{}".to_string())
            } else {
                let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                for t in json["credentials"].as_array().into_iter().flatten() {
                    if let Some(t) = t.as_str() {
                        state.live.remove(t);
                    }
                }
                (202, "", String::new())
            }
        }
        _ => match token.as_deref().and_then(|t| state.live.get(t)) {
            Some(answer) => (200, "", answer.to_string()),
            None => match state.dead {
                DeadAnswer::Unauthorized => {
                    (401, "", r#"{"message":"Bad credentials"}"#.to_string())
                }
                DeadAnswer::BadRequest => (
                    400,
                    "",
                    r#"{"error":{"status":"INVALID_ARGUMENT","reason":"API_KEY_INVALID"}}"#
                        .to_string(),
                ),
                DeadAnswer::SlackOkFalse => (
                    200,
                    "",
                    r#"{"ok":false,"error":"invalid_auth"}"#.to_string(),
                ),
            },
        },
    };
    Some(Reply {
        status,
        extra,
        body: reply,
    })
}
