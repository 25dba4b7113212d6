//! What the user can type: clap derive structs, one per subcommand, sharing the token and output flags.
//! Nothing here decides anything; `config` turns these into what the program will do.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "unleak",
    version,
    about = "Find a leaked API token in all of a git repository's history, then revoke, rotate and rewrite it.",
    long_about = "Find a leaked API token in all of a git repository's history, then revoke, rotate and \
rewrite it.\n\nA token is never taken as a command-line argument: it is read from a .env key, an environment \
variable, stdin, or a hidden prompt. It is never printed: output shows a redaction and a sha256 fingerprint.",
    after_help = "Exit codes: 0 nothing found / all done, 1 leak found / steps left, 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print nothing on stderr but errors and warnings (no progress bar).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// When to color human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find a known token everywhere in a repository: every object, ref, reflog and stash entry.
    Scan(ScanArgs),
    /// Store a token in .env safely: hidden prompt, mode 0600, atomic write, ignored by git.
    Setup(SetupArgs),
}

/// Where the token(s) to look for come from. Never the value itself.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Token source (never a command-line value)")]
pub struct TokenArgs {
    /// The .env file to read the token from [default: .env at the root of the working tree].
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// Key(s) to read from the .env file [default: HF_TOKEN]. Repeatable.
    #[arg(long = "key", value_name = "NAME")]
    pub keys: Vec<String>,

    /// Read the token from this environment variable instead of .env.
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,

    /// Read tokens from stdin, one per line.
    #[arg(long)]
    pub token_stdin: bool,

    /// Take every value of the .env file that looks like a secret (long enough, not a placeholder).
    #[arg(long)]
    pub all_keys: bool,
}

/// How much of the repository to search and with what resources.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Search scope")]
pub struct ScopeArgs {
    /// Only objects reachable from refs and reflogs (default: every object, reachable or not).
    #[arg(long)]
    pub reachable_only: bool,

    /// Worker threads for the object scan [default: number of cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The repository to scan [default: the one around the current directory]. Bare repositories and
    /// linked worktrees work.
    pub repo: Option<PathBuf>,

    #[command(flatten)]
    pub token: TokenArgs,

    #[command(flatten)]
    pub scope: ScopeArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The key to set.
    #[arg(long, default_value = "HF_TOKEN", value_name = "NAME")]
    pub key: String,

    /// The .env file to write [default: .env at the root of the current repository, else ./.env].
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// Read the value from stdin (one line) instead of a hidden prompt.
    #[arg(long)]
    pub value_stdin: bool,

    /// Accept a value that does not look like the provider's token format.
    #[arg(long)]
    pub force: bool,

    /// Keep the previous file as a private (0600) backup beside it.
    #[arg(long)]
    pub backup: bool,

    /// Answer yes to questions (such as untracking a tracked .env).
    #[arg(long, short)]
    pub yes: bool,

    /// Catches a value typed as an argument, to refuse it without echoing it (clap would quote it back).
    #[arg(hide = true, value_name = "VALUE")]
    pub refused_value: Vec<std::ffi::OsString>,
}
