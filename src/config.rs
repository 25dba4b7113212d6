//! What the user typed, resolved once into what the program will do. Commands never look at `cli` types
//! for decisions; they read these structs, so defaults and environment live in one place.

use crate::cli::{Cli, ColorChoice, Format, RespondArgs, ScanArgs, ScopeArgs, TokenArgs};
use crate::playbook::{NewTokenSource, RevokeMethod};
use anyhow::{Context, Result};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Settings every command shares.
#[derive(Debug, Clone)]
pub struct Globals {
    /// No progress bars or chatter on stderr.
    pub quiet: bool,
    /// Whether human output on stdout gets ANSI colors (terminal, `--color`, `NO_COLOR`).
    pub color: bool,
    /// Whether progress bars may be drawn (stderr is a terminal and not quiet).
    pub progress: bool,
}

impl Globals {
    pub fn resolve(cli: &Cli) -> Globals {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color_env && std::io::stdout().is_terminal(),
        };
        Globals {
            quiet: cli.quiet,
            color,
            progress: !cli.quiet && std::io::stderr().is_terminal(),
        }
    }
}

/// Where tokens come from, in the user's terms; `tokens::collect` reads them.
#[derive(Debug, Clone, Default)]
pub struct TokenSpec {
    /// An explicitly named .env file (else `.env` at the work tree's root).
    pub env_file: Option<PathBuf>,
    /// Keys to read from it (empty: `HF_TOKEN`).
    pub keys: Vec<String>,
    pub token_env: Option<String>,
    pub stdin: bool,
    pub all_keys: bool,
}

impl TokenSpec {
    pub fn from_args(args: TokenArgs) -> TokenSpec {
        if let Some(name) = &args.token_env {
            crate::child::hide_var(name); // it holds a token: no child process may inherit it
        }
        TokenSpec {
            env_file: args.env_file,
            keys: args.keys,
            token_env: args.token_env,
            stdin: args.token_stdin,
            all_keys: args.all_keys,
        }
    }

    /// True when the user named no source, so the default chain (.env, $HF_TOKEN, prompt) applies.
    pub fn is_default(&self) -> bool {
        self.env_file.is_none()
            && self.keys.is_empty()
            && self.token_env.is_none()
            && !self.stdin
            && !self.all_keys
    }
}

/// Scan scope and resources.
#[derive(Debug, Clone)]
pub struct Scope {
    pub reachable_only: bool,
    pub threads: usize,
    /// `--allow-incomplete`: nothing found in an incomplete search counts as clean.
    pub allow_incomplete: bool,
}

impl Scope {
    pub fn from_args(args: ScopeArgs) -> Scope {
        let threads = args
            .threads
            .filter(|n| *n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Scope {
            reachable_only: args.reachable_only,
            threads,
            allow_incomplete: args.allow_incomplete,
        }
    }
}

/// `unleak scan`, resolved.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub globals: Globals,
    /// Where to open the repository from (discovery walks up from here).
    pub repo: PathBuf,
    pub tokens: TokenSpec,
    pub scope: Scope,
    pub format: Format,
    /// `-o FILE`: the report goes there (atomically) instead of stdout.
    pub output: Option<PathBuf>,
    /// `--exit-zero`: findings do not fail the run.
    pub exit_zero: bool,
}

impl ScanConfig {
    pub fn resolve(args: ScanArgs, globals: &Globals) -> Result<ScanConfig> {
        Ok(ScanConfig {
            globals: globals.clone(),
            repo: resolve_repo_path(args.repo)?,
            tokens: TokenSpec::from_args(args.token),
            scope: Scope::from_args(args.scope),
            format: args.output.format,
            output: args.output.output,
            exit_zero: args.output.exit_zero,
        })
    }
}

/// `unleak respond`, resolved.
#[derive(Debug, Clone)]
pub struct RespondConfig {
    pub globals: Globals,
    pub repo: PathBuf,
    pub tokens: TokenSpec,
    pub scope: Scope,
    pub yes: bool,
    pub dry_run: bool,
    pub revoke: Option<RevokeMethod>,
    pub new_token: NewTokenSource,
    pub offline: bool,
    pub report: Option<PathBuf>,
    pub write_script: Option<PathBuf>,
    pub literal: bool,
    pub remove_env_files: bool,
    /// None: ask when a binary file holds the token (mask without a terminal or with --yes).
    pub binary: Option<crate::filter_repo::BinaryMode>,
    pub replacement: String,
    pub remote: String,
    /// The key that receives the new token; None: the leaked token's own key, else `HF_TOKEN`.
    pub update_key: Option<String>,
    pub backup: bool,
    pub format: Format,
    /// The Hugging Face API endpoint (`HF_ENDPOINT`, else the public hub), read once here.
    pub hf_endpoint: String,
}

impl RespondConfig {
    pub fn resolve(args: RespondArgs, globals: &Globals) -> Result<RespondConfig> {
        let new_token = match (args.new_token_env, args.new_token_stdin) {
            (Some(name), _) => {
                crate::child::hide_var(&name); // it holds a token: no child process may inherit it
                NewTokenSource::Env(name)
            }
            (None, true) => NewTokenSource::Stdin,
            (None, false) => NewTokenSource::Prompt,
        };
        Ok(RespondConfig {
            globals: globals.clone(),
            repo: resolve_repo_path(args.repo)?,
            tokens: TokenSpec::from_args(args.token),
            scope: Scope::from_args(args.scope),
            yes: args.yes,
            dry_run: args.dry_run,
            revoke: args.revoke,
            new_token,
            offline: args.offline,
            report: args.report,
            write_script: args.write_script,
            literal: args.literal,
            remove_env_files: args.remove_env_files,
            binary: args.binary,
            replacement: args.replacement,
            remote: args.remote,
            update_key: args.update_key,
            backup: args.backup,
            format: args.format.into(),
            hf_endpoint: crate::playbook::hf_api::endpoint_from_env(),
        })
    }
}

/// The repository argument, or the current directory. A "path" that does not exist but looks like a
/// token is refused without being echoed: a user under stress may paste the token where the repository
/// goes, and repeating it in an error message would put it in logs.
pub fn resolve_repo_path(arg: Option<PathBuf>) -> Result<PathBuf> {
    match arg {
        Some(path) if !path.exists() => {
            let text = path.to_string_lossy();
            if crate::providers::identify(&text).is_some()
                || crate::tokens::looks_like_secret(&text)
            {
                anyhow::bail!(
                    "the repository argument ({}) looks like a token, and does not exist as a path. Tokens are \
                     never taken as arguments (shell history and `ps` keep them): use --token-stdin, \
                     --token-env NAME or .env. If it was a real token, treat it as leaked to your shell history",
                    crate::secret::redact(&text)
                );
            }
            Ok(path)
        }
        Some(path) => Ok(path),
        None => std::env::current_dir().context("cannot read the current directory"),
    }
}
