//! A loopback HTTP server standing in for the Hugging Face API: the revoke endpoint records what it was
//! sent and kills those tokens; whoami answers 200 for known live tokens and 401 for everything else.
//! The HTTP loop is `api_stub::serve`, shared with the other issuers' stub.

#![allow(dead_code)]

use crate::api_stub::{serve, Reply};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

#[derive(Default)]
struct State {
    /// token -> (user, token display name, role)
    live: HashMap<String, (String, String, String)>,
    requests: Vec<Request>,
    rate_limited: bool,
    /// Per path: answer this status instead (e.g. 500 from the revoke endpoint).
    status_override: HashMap<String, u16>,
    /// Paths whose requests get no answer: the connection is closed after reading the request.
    hang_up: Vec<String>,
}

pub struct HfStub {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl HfStub {
    /// Starts the server on 127.0.0.1 with an ephemeral port; it lives until the test process ends.
    pub fn start() -> HfStub {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let endpoint = serve(move |request| answer(request, &shared));
        HfStub { endpoint, state }
    }

    /// Makes `token` valid for whoami, with the given role.
    pub fn add_live(&self, token: &str, role: &str) {
        self.state.lock().unwrap().live.insert(
            token.to_string(),
            ("ada".into(), format!("{role}-token"), role.into()),
        );
    }

    /// A live token whose whoami answer names `user` (any text, e.g. with control characters).
    pub fn add_live_named(&self, token: &str, user: &str, role: &str) {
        self.state.lock().unwrap().live.insert(
            token.to_string(),
            (user.into(), format!("{role}-token"), role.into()),
        );
    }

    /// Answer `status` (with an empty JSON body) for every request to `path`.
    pub fn set_status(&self, path: &str, status: u16) {
        self.state
            .lock()
            .unwrap()
            .status_override
            .insert(path.to_string(), status);
    }

    /// Read requests to `path`, then close the connection without answering (a network failure).
    pub fn hang_up(&self, path: &str) {
        self.state.lock().unwrap().hang_up.push(path.to_string());
    }

    pub fn set_rate_limited(&self, on: bool) {
        self.state.lock().unwrap().rate_limited = on;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn revokes(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == "/api/credentials/revoke")
            .collect()
    }

    pub fn whoamis(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == "/api/whoami-v2")
            .collect()
    }
}

/// Hugging Face's answer to one request.
fn answer(request: crate::api_stub::Request, state: &Mutex<State>) -> Option<Reply> {
    let authorization = request.header("authorization").map(str::to_string);
    let crate::api_stub::Request {
        method, path, body, ..
    } = request;
    let request = Request {
        method: method.clone(),
        path: path.clone(),
        authorization: authorization.clone(),
        body: body.clone(),
    };
    let (status, reply) = {
        let mut state = state.lock().unwrap();
        state.requests.push(request);
        if state.hang_up.contains(&path) {
            return None;
        }
        if let Some(&code) = state.status_override.get(&path) {
            (code, "{}".to_string())
        } else if state.rate_limited {
            (429, r#"{"error":"rate limited"}"#.to_string())
        } else {
            match (method.as_str(), path.as_str()) {
                ("POST", "/api/credentials/revoke") => {
                    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&body) {
                        for token in json["credentials"].as_array().into_iter().flatten() {
                            if let Some(token) = token.as_str() {
                                state.live.remove(token);
                            }
                        }
                    }
                    (202, String::new())
                }
                ("GET", "/api/whoami-v2") => {
                    let token = authorization
                        .as_deref()
                        .and_then(|a| a.strip_prefix("Bearer "))
                        .unwrap_or_default();
                    match state.live.get(token) {
                        Some((user, name, role)) => (
                            200,
                            serde_json::json!({
                                "type": "user",
                                "name": user,
                                "fullname": "Ada Lovelace",
                                "email": "ada@example.com",
                                "orgs": [],
                                "auth": {"type": "access_token", "accessToken": {
                                    "displayName": name, "role": role, "createdAt": "2024-01-01T00:00:00.000Z"
                                }}
                            })
                            .to_string(),
                        ),
                        None => (401, r#"{"error":"Invalid credentials in Authorization header"}"#.to_string()),
                    }
                }
                _ => (404, "{}".to_string()),
            }
        }
    };
    Some(Reply::new(status, reply))
}
