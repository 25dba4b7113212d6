//! What the user can type: clap derive structs, one per subcommand, sharing the token and output flags.
//! Nothing here decides anything; `config` turns these into what the program will do.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The whole command line: a subcommand and the global flags. Parsed by [`crate::run_from_args`]; its
/// help text is set by the `about` attributes, not by this comment.
#[derive(Debug, Parser)]
#[command(
    name = "unleak",
    version,
    about = "Find a leaked API token in all of a git repository's history, then revoke, rotate and rewrite it.",
    long_about = "Find a leaked API token in all of a git repository's history, then revoke, rotate and \
rewrite it.\n\nA token is never taken as a command-line argument: it is read from a .env key, an environment \
variable, stdin, or a hidden prompt. It is never printed: output shows a redaction and a sha256 fingerprint.",
    after_help = "Where to start: a token leaked right now? Revoke it first (Hugging Face: \
https://huggingface.co/settings/tokens), then run `unleak respond` inside the repository: it walks you \
through the rest. To look first without changing anything: `unleak scan`.\n\n\
Exit codes: 0 nothing found / all done, 1 leak found / steps left, 2 error or incomplete (not everything could be read; --allow-incomplete accepts it)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,

    /// Print nothing on stderr but errors and warnings (no progress bar).
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,

    /// When to color human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub(crate) color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Find a known token everywhere in a repository: every object, ref, reflog and stash entry.
    #[command(after_help = SCAN_EXAMPLES)]
    Scan(ScanArgs),
    /// Read-only audit for people and CI: provider patterns and .env values in all history, hygiene,
    /// what the playbook would do. Changes nothing.
    #[command(after_help = AUDIT_EXAMPLES)]
    Audit(AuditArgs),
    /// The guided playbook: identify, exposure, revoke, re-create, update .env, rewrite plan, record.
    #[command(after_help = RESPOND_EXAMPLES)]
    Respond(RespondArgs),
    /// After a rewrite: check that nothing (objects, refs, reflogs, stash, leftovers) still carries the token.
    ///
    /// After `unleak respond`, with no token source given, verify checks the OLD token respond remembered
    /// (by fingerprint) in `.git/unleak/incident.json`, not the new one now in `.env`.
    Verify(VerifyArgs),
    /// Store a token in .env safely: hidden prompt, mode 0600, atomic write, ignored by git.
    Setup(SetupArgs),
    /// A pre-commit hook that blocks a commit adding a token: install, uninstall, or run it.
    #[command(after_help = HOOK_EXAMPLES)]
    Hook(HookArgs),
    /// Print a shell completion script (e.g. `unleak completions bash > ~/.local/share/bash-completion/completions/unleak`).
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, or write one page per command into a folder with `--dir`
    /// (e.g. `unleak man --dir ~/.local/share/man/man1`).
    Man {
        /// Write unleak.1 and a page for every subcommand (unleak-scan.1, unleak-hook-install.1, ...)
        /// into DIR (created if needed), instead of the top page on stdout.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `unleak scan --help`'s examples (lines kept under 80 columns: clap wraps longer ones).
const SCAN_EXAMPLES: &str = "Examples:
  unleak scan                         HF_TOKEN from .env, in every object
  unleak scan --key OPENAI_API_KEY    another key of .env
  unleak scan --token-env HF_TOKEN    the token in an environment variable
  pbpaste | unleak scan --token-stdin the token on stdin (never an argument)
  unleak scan --format json -o leak.json ../other-repo";

/// `unleak audit --help`'s examples.
const AUDIT_EXAMPLES: &str = "Examples:
  unleak audit                           all history: patterns, .env, hygiene
  unleak audit --range origin/main..HEAD only what a branch adds (a PR)
  unleak audit --format sarif -o unleak.sarif   for GitHub code scanning
  unleak audit --verify --fail-on high   which still work; fail on pushed ones
  unleak audit --baseline old.json       only what is new since old.json";

/// `unleak respond --help`'s examples.
const RESPOND_EXAMPLES: &str = "Examples:
  unleak respond                        the playbook for HF_TOKEN in .env
  unleak respond --dry-run              what it would do, changing nothing
  unleak respond --write-script fix.sh  also write the rewrite as a script
  unleak respond --yes --revoke api --new-token-env NEW_HF_TOKEN";

/// `unleak hook --help`'s examples.
const HOOK_EXAMPLES: &str = "Examples:
  unleak hook install               block commits that add a token
  unleak hook install --hook all    also commit messages and pushes
  unleak hook uninstall --hook all";

/// Where the token(s) to look for come from. Never the value itself.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Token source (never a command-line value)")]
pub(crate) struct TokenArgs {
    /// The .env file to read the token from [default: .env at the root of the working tree].
    #[arg(long, value_name = "PATH")]
    pub(crate) env_file: Option<PathBuf>,

    /// Key(s) to read from the .env file [default: HF_TOKEN]. Repeatable.
    #[arg(long = "key", value_name = "NAME")]
    pub(crate) keys: Vec<String>,

    /// Read the token from this environment variable instead of .env.
    #[arg(long, value_name = "NAME")]
    pub(crate) token_env: Option<String>,

    /// Read tokens from stdin: one per line, or `KEY=VALUE` / `export KEY=VALUE` lines read like a .env
    /// (with --key NAME to pick one).
    #[arg(long)]
    pub(crate) token_stdin: bool,

    /// Take every value of the .env file that looks like a secret (long enough, not a placeholder).
    #[arg(long)]
    pub(crate) all_keys: bool,
}

/// How much of the repository to search and with what resources.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Search scope")]
pub(crate) struct ScopeArgs {
    /// Only objects reachable from refs and reflogs (default: every object, reachable or not).
    #[arg(long)]
    pub(crate) reachable_only: bool,

    /// Worker threads for the object scan and for audit's walk of history [default: number of cores].
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,

    /// Accept an incomplete search (damaged or missing objects, a shallow or partial clone) as clean
    /// when nothing is found: exit 0 instead of 2. The report still says what was not read.
    #[arg(long)]
    pub(crate) allow_incomplete: bool,

    /// Hash every object read and check it is the id it is filed under, and hash every pack whole
    /// against its trailer (what `git fsck` checks). Without it, each pack entry's CRC32, each index's
    /// checksum and each loose object's id are checked (what catches damage); with it, also a
    /// repository crafted to be consistent in every one of those. Costs about 2.4 times the scan's CPU
    /// (every inflated byte is hashed).
    #[arg(long)]
    pub(crate) verify_object_ids: bool,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,

    /// Write the report to FILE (replaced atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Exit 0 even when something is found (errors still exit 2): for a CI step that uploads the
    /// report (SARIF) and must not fail on the findings it reports.
    #[arg(long)]
    pub(crate) exit_zero: bool,
}

/// What `respond --format` can print: the narrative, or the incident record as JSON (no SARIF: a
/// record is not a list of findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RespondFormat {
    /// The narrative on stdout.
    Human,
    /// The incident record as JSON on stdout (the narrative on stderr).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// For people: grouped by token, then by introducing commit.
    Human,
    /// One JSON document (docs/report-format.md).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning (docs/sarif.md).
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// The repository to scan [default: the one around the current directory]. Bare repositories and
    /// linked worktrees work.
    pub(crate) repo: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) token: TokenArgs,

    #[command(flatten)]
    pub(crate) scope: ScopeArgs,

    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SetupArgs {
    /// The key to set.
    #[arg(long, default_value = "HF_TOKEN", value_name = "NAME")]
    pub(crate) key: String,

    /// The .env file to write [default: .env at the root of the current repository, else ./.env].
    #[arg(long, value_name = "PATH")]
    pub(crate) env_file: Option<PathBuf>,

    /// Read the value from stdin (one line) instead of a hidden prompt.
    #[arg(long)]
    pub(crate) value_stdin: bool,

    /// Accept a value that does not look like the provider's token format.
    #[arg(long)]
    pub(crate) force: bool,

    /// Keep the previous file as a private (0600) backup beside it.
    #[arg(long)]
    pub(crate) backup: bool,

    /// Answer yes to questions (such as untracking a tracked .env).
    #[arg(long, short)]
    pub(crate) yes: bool,

    /// Catches a value typed as an argument, to refuse it without echoing it (clap would quote it back).
    #[arg(hide = true, value_name = "VALUE")]
    pub(crate) refused_value: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub(crate) struct RespondArgs {
    /// The repository [default: the one around the current directory].
    pub(crate) repo: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) token: TokenArgs,

    #[command(flatten)]
    pub(crate) scope: ScopeArgs,

    /// Answer yes to every consent question (writing .env, untracking it, the ignore rule).
    #[arg(long, short, help_heading = "Answers (for scripts and CI)")]
    pub(crate) yes: bool,

    /// Walk the whole flow without prompts, writes or network writes; print the plan.
    #[arg(long, help_heading = "Answers (for scripts and CI)")]
    pub(crate) dry_run: bool,

    /// How to revoke the old token [default: ask; with --yes: api].
    #[arg(
        long,
        value_enum,
        value_name = "HOW",
        help_heading = "Answers (for scripts and CI)"
    )]
    pub(crate) revoke: Option<RevokeArg>,

    /// Read the new token from this environment variable. With several keys (`--all-keys`, `--key A
    /// --key B`), name each key's: `--new-token-env WANDB_API_KEY=NEW_WANDB` (repeatable); a key with
    /// none is asked for at a terminal, else left open.
    #[arg(
        long,
        value_name = "[KEY=]NAME",
        help_heading = "Answers (for scripts and CI)"
    )]
    pub(crate) new_token_env: Vec<String>,

    /// Read the new token from stdin (one line).
    #[arg(
        long,
        help_heading = "Answers (for scripts and CI)",
        conflicts_with = "new_token_env"
    )]
    pub(crate) new_token_stdin: bool,

    /// Skip every network step (revoke, whoami) and say what was not checked.
    #[arg(long, help_heading = "Answers (for scripts and CI)")]
    pub(crate) offline: bool,

    /// Write the incident record as Markdown to PATH and JSON to PATH.json.
    #[arg(long, value_name = "PATH", help_heading = "Outputs")]
    pub(crate) report: Option<PathBuf>,

    /// Also write the rewrite plan as an executable script (0700) that runs unattended.
    #[arg(long, value_name = "PATH", help_heading = "Outputs")]
    pub(crate) write_script: Option<PathBuf>,

    /// Rewrite with the exact token (kept in a private 0600 file) instead of a pasteable regex.
    #[arg(long, help_heading = "History rewrite")]
    pub(crate) literal: bool,

    /// Remove .env-like files that held the token from all of history (--invert-paths).
    #[arg(long, help_heading = "History rewrite")]
    pub(crate) remove_env_files: bool,

    /// Binary files holding the token (git-filter-repo's --replace-text skips them): mask the token in
    /// place (same length, the file still loads) or strip the blobs from history [default: ask; else mask].
    #[arg(long, value_enum, value_name = "HOW", help_heading = "History rewrite")]
    pub(crate) binary: Option<BinaryArg>,

    /// The text that replaces the token in files and messages (not valid in every format, e.g. YAML).
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "***REMOVED***",
        help_heading = "History rewrite"
    )]
    pub(crate) replacement: String,

    /// The remote whose history is rewritten.
    #[arg(
        long,
        default_value = "origin",
        value_name = "NAME",
        help_heading = "History rewrite"
    )]
    pub(crate) remote: String,

    /// The key to update in .env with the new token [default: the leaked token's key, else HF_TOKEN].
    #[arg(long = "update-key", value_name = "NAME", help_heading = "Outputs")]
    pub(crate) update_key: Option<String>,

    /// Keep the previous .env as a private (0600) backup.
    #[arg(long, help_heading = "Outputs")]
    pub(crate) backup: bool,

    /// Output format: human narrative, or the incident record as JSON on stdout (narrative on stderr).
    #[arg(long, value_enum, default_value_t = RespondFormat::Human, help_heading = "Outputs")]
    pub(crate) format: RespondFormat,
}

/// How `respond --revoke` revokes the old token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RevokeArg {
    /// The no-login revoke API (`POST /api/credentials/revoke`).
    Api,
    /// The settings page, by hand.
    Browser,
    /// Do not revoke now (the step stays open).
    Skip,
}

/// What `respond --binary` does with a binary blob that holds the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BinaryArg {
    /// Overwrite each copy of the token in place with a mask of the same length (every form: plain,
    /// base64, UTF-16LE): the file keeps its size and offsets, so most formats still load.
    Mask,
    /// Remove those blobs from history (`--strip-blobs-with-ids`): the file vanishes from the commits
    /// listed; rebuild or re-add it after the rewrite.
    Strip,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The repository [default: the one around the current directory].
    pub(crate) repo: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) token: TokenArgs,

    /// Verify without the plaintext: the token's fingerprint (`sha256:…`, as scan and respond print).
    /// Candidates are found by provider pattern and compared by fingerprint. Repeatable.
    #[arg(
        long,
        value_name = "sha256:HEX",
        help_heading = "Token source (never a command-line value)"
    )]
    pub(crate) fingerprint: Vec<String>,

    /// Read the tokens' fingerprints and first changed commits from an incident record (`--report` JSON).
    #[arg(
        long,
        value_name = "PATH.json",
        help_heading = "Token source (never a command-line value)"
    )]
    pub(crate) record: Option<PathBuf>,

    /// filter-repo's first-changed-commits file [default: .git/filter-repo/first-changed-commits when present].
    #[arg(long, value_name = "FILE")]
    pub(crate) first_changed: Option<PathBuf>,

    /// Verify what this remote serves: fetch all its refs into a temporary mirror and verify that.
    #[arg(long, value_name = "NAME")]
    pub(crate) remote: Option<String>,

    /// Do not ask the token's issuer whether a token found nowhere here is dead (the revoked one).
    #[arg(long)]
    pub(crate) offline: bool,

    #[command(flatten)]
    pub(crate) scope: ScopeArgs,

    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// The repository [default: the one around the current directory].
    pub(crate) repo: Option<PathBuf>,

    /// The .env whose secret-looking values are searched for too [default: .env at the work tree root].
    #[arg(long, value_name = "PATH")]
    pub(crate) env_file: Option<PathBuf>,

    /// Exit 1 only for findings at or above this severity (pushed = high, local = medium, unreachable = low)
    /// [default: `fail-on` in .unleak.toml's [defaults], else low].
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub(crate) fail_on: Option<FailOn>,

    /// Ignore findings already in this earlier `unleak audit --format json` report.
    #[arg(long, value_name = "REPORT.json")]
    pub(crate) baseline: Option<PathBuf>,

    /// The allowlist [default: .unleak.toml at the work tree root, when present].
    #[arg(long, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,

    /// Check whether found tokens still work, with each issuer's read-only identity call (HF whoami, GitHub
    /// /user, OpenAI, Anthropic, W&B, Groq, Mistral and the rest listed in docs/providers.md): live, dead
    /// or unknown with the reason. A key is sent only to its own issuer.
    #[arg(long)]
    pub(crate) verify: bool,

    /// Pull-request mode: only what the commits after REV (up to HEAD) add: blobs, paths, messages.
    #[arg(long, value_name = "REV", conflicts_with = "range")]
    pub(crate) since: Option<String>,

    /// Pull-request mode: only what the commits in A..B add (blobs, paths, messages).
    #[arg(long, value_name = "A..B")]
    pub(crate) range: Option<String>,

    /// Scan files on disk instead of a repository's history: each PATH a file or a folder (walked, its
    /// .git folders skipped), `-` for stdin. Same rules, allowlist, formats and exit codes; no history,
    /// provenance or hygiene. For pre-commit's file mode and folders that are not repositories.
    #[arg(
        long,
        value_name = "PATH",
        num_args = 1..,
        conflicts_with_all = ["repo", "since", "range"]
    )]
    pub(crate) no_git: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) scope: ScopeArgs,

    /// Output format [default: `format` in .unleak.toml's [defaults], else human].
    #[arg(long, value_enum, help_heading = "Output")]
    pub(crate) format: Option<Format>,

    /// Write the report to FILE (replaced atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub(crate) output: Option<PathBuf>,

    /// Exit 0 even when something is found (errors still exit 2): for a CI step that uploads the
    /// report (SARIF) and must not fail on the findings it reports.
    #[arg(long, help_heading = "Output")]
    pub(crate) exit_zero: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    High,
    Medium,
    Low,
}

#[derive(Debug, Args)]
pub(crate) struct HookArgs {
    #[command(subcommand)]
    pub(crate) action: HookAction,
}

#[derive(Debug, Subcommand)]
pub(crate) enum HookAction {
    /// Write the repository's hooks (in core.hooksPath when set) to run `unleak hook run`: pre-commit by
    /// default; `--hook commit-msg`, `--hook pre-push` or `--hook all` for the others. Next to a hook
    /// unleak did not write, both run: that hook is kept as HOOK.unleak-chained and runs first, then
    /// unleak; either can stop git. Under husky or the pre-commit framework it says where unleak goes.
    Install {
        /// The repository [default: the one around the current directory].
        repo: Option<PathBuf>,

        /// Replace a hook unleak did not write instead of chaining it: it is kept as
        /// HOOK.unleak-backup and no longer runs (`uninstall` puts it back).
        #[arg(long)]
        force: bool,

        /// Which hook (repeatable).
        #[arg(long = "hook", value_enum, value_name = "HOOK", default_values_t = [HookKind::PreCommit])]
        hooks: Vec<HookKind>,
    },
    /// Remove the hooks unleak installed (and put back the ones they chained or replaced, if any).
    Uninstall {
        /// The repository [default: the one around the current directory].
        repo: Option<PathBuf>,

        /// Which hook (repeatable).
        #[arg(long = "hook", value_enum, value_name = "HOOK", default_values_t = [HookKind::PreCommit])]
        hooks: Vec<HookKind>,
    },
    /// What the hooks run: fail (exit 1) when the staged changes add a token, naming path, line and rule.
    /// Compares against every secret-looking value of the repository's .env and every provider pattern.
    /// `--commit-msg FILE` checks a commit message; `--pre-push` the commits about to be pushed (git's
    /// pre-push lines on stdin, or pre-commit's PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF).
    Run {
        /// The repository [default: the one around the current directory].
        repo: Option<PathBuf>,

        /// Check this commit message file (what git passes a commit-msg hook).
        #[arg(long, value_name = "FILE", conflicts_with = "pre_push")]
        commit_msg: Option<PathBuf>,

        /// Check the commits a push would send.
        #[arg(long)]
        pre_push: bool,

        /// With --pre-push: where the push goes (the remote name or URL git gives the hook as $1).
        /// Commits its remote-tracking refs hold are taken as already there; without it, every commit
        /// the pushed tips reach is checked.
        #[arg(long, value_name = "REMOTE", requires = "pre_push")]
        destination: Option<String>,
    },
}

/// A git hook unleak can install.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HookKind {
    PreCommit,
    CommitMsg,
    PrePush,
    /// All three.
    All,
}
