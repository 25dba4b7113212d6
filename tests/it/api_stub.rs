//! A loopback HTTP server standing in for any issuer's API (GitHub, OpenAI, Anthropic, Slack, Stripe,
//! npm): identity calls answer 200 for live tokens (from `Authorization: Bearer` or `x-api-key`) and the
//! issuer's "dead" answer otherwise; `POST /credentials/revoke` behaves like GitHub's (unauthenticated
//! only, kills what it is sent). It can also rate limit, or accept and never answer (a timeout).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

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
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            live: HashMap::new(),
            requests: Vec::new(),
            dead,
            mode: Mode::Normal,
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &shared);
                });
            }
        });
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

fn handle(stream: TcpStream, state: &Arc<Mutex<State>>) -> std::io::Result<()> {
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
    let token = headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .or(headers.get("x-api-key").map(String::as_str))
        .map(str::to_string);
    let request = Request {
        method: method.clone(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
    };
    let (status, extra, reply) = {
        let mut state = state.lock().unwrap();
        state.requests.push(request);
        match state.mode {
            Mode::Hang => {
                drop(state);
                std::thread::sleep(std::time::Duration::from_secs(20));
                return Ok(());
            }
            Mode::RateLimited => (429, "Retry-After: 60\r\n", "{}".to_string()),
            Mode::GithubRateLimited => (403, "x-ratelimit-remaining: 0\r\n", "{}".to_string()),
            _ if path == "/credentials/revoke" => {
                if method != "POST" {
                    (404, "", "{}".to_string())
                } else if headers.contains_key("authorization") {
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
                    DeadAnswer::SlackOkFalse => (
                        200,
                        "",
                        r#"{"ok":false,"error":"invalid_auth"}"#.to_string(),
                    ),
                },
            },
        }
    };
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        401 => "Unauthorized",
        403 => "Forbidden",
        422 => "Unprocessable Entity",
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
