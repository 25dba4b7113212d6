//! What `respond` is asked, in plain values, and everything it talks to: the inputs every step reads.
//! A leaf of the playbook: it imports no step.

use crate::filter_repo;
use crate::prompt::Prompter;
use crate::scan::ScanOptions;
use crate::tokens::TokenSpec;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// How the old token gets revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeMethod {
    /// The no-login revoke API (`POST /api/credentials/revoke`).
    Api,
    /// The settings page, by hand.
    Browser,
    /// Do not revoke now (the step stays open).
    Skip,
}

/// What `respond` was asked to do, in plain values (`config` resolves the flags into it).
#[derive(Debug, Clone)]
pub struct Request {
    /// Where to open the repository from (discovery walks up from here).
    pub repo: PathBuf,
    /// Where the leaked tokens are read from (step 1).
    pub tokens: TokenSpec,
    /// How the exposure step scans (`command: "respond"`).
    pub scan: ScanOptions,
    /// The answers the later steps read.
    pub settings: Settings,
    /// The process environment, read once by `config`.
    pub env: crate::environment::Environment,
    /// How child processes (git, git-filter-repo, the browser opener) are built.
    pub spawner: crate::child::Spawner,
    /// The issuers' timeout and API bases.
    pub net: crate::issuers::Net,
}

/// The answers and outputs each step reads: what the flags said, nothing of clap.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Answer yes to every consent question.
    pub yes: bool,
    /// Walk the flow without prompts, writes or network writes.
    pub dry_run: bool,
    /// None: ask (with `--yes` or a dry run: the API).
    pub revoke: Option<RevokeMethod>,
    /// Where step 4 reads the new token from (with several keys: the first key's).
    pub new_token: NewTokenSource,
    /// With several keys: the environment variable holding each key's new value (`--new-token-env
    /// KEY=NAME`), by `.env` key.
    pub new_tokens: Vec<(String, String)>,
    /// Skip every network step.
    pub offline: bool,
    /// Where the incident record goes (Markdown, and JSON beside it).
    pub report: Option<PathBuf>,
    /// Where the unattended rewrite script goes.
    pub write_script: Option<PathBuf>,
    /// Rewrite with the exact token instead of a regex.
    pub literal: bool,
    /// Remove `.env` files from history instead of rewriting the token in them.
    pub remove_env_files: bool,
    /// None: ask when a binary file holds the token (mask without a terminal or with --yes).
    pub binary: Option<filter_repo::BinaryMode>,
    /// What replaces the token in files and messages.
    pub replacement: String,
    /// The remote whose history is rewritten.
    pub remote: String,
    /// The key that receives the new token; None: the leaked token's own key, else `HF_TOKEN`.
    pub update_key: Option<String>,
    /// Keep the previous .env as a private backup.
    pub backup: bool,
    /// The Hugging Face API endpoint (`HF_ENDPOINT`, else the public hub), read once by `config`.
    pub hf_endpoint: String,
    /// Where copies of the token outside history are looked for (HOME, HF_HOME, …), read by `config`.
    pub places: crate::footprint::Places,
}

/// Where the replacement token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewTokenSource {
    /// A hidden prompt, asked twice.
    Prompt,
    /// `--new-token-env NAME`: this environment variable.
    Env(String),
    /// `--new-token-stdin`: one line of standard input.
    Stdin,
}

/// Everything the flow talks to, injected so tests can drive it in-process.
pub struct Io<'a> {
    /// Asks the questions (scripted in tests).
    pub prompter: &'a mut dyn Prompter,
    /// Narrative output (stdout for humans; stderr when stdout carries JSON).
    pub out: &'a mut dyn Write,
    /// Where `--token-stdin` and `--new-token-stdin` read.
    pub stdin: &'a mut dyn BufRead,
    /// Whether questions can be asked at all.
    pub interactive: bool,
}
