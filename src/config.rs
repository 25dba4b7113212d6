//! What the user typed, resolved once into what the program will do. Commands never look at `cli` types
//! for decisions; they read these structs, so defaults and environment live in one place.

use crate::cli::{
    AuditArgs, BinaryArg, Cli, ColorChoice, FailOn, Format, HookAction, HookArgs, HookKind,
    RespondArgs, RespondFormat, RevokeArg, ScanArgs, ScopeArgs, SetupArgs, TokenArgs, VerifyArgs,
};
use crate::filter_repo::BinaryMode;
use crate::model::Severity;
use crate::playbook::{NewTokenSource, Request, RevokeMethod, Settings};
use crate::report;
use crate::scan::ScanOptions;
use crate::tokens::TokenSpec;
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

/// The token flags, as a [`TokenSpec`]. A `--token-env` variable is hidden from every child process
/// from here on: it holds a token.
pub fn token_spec(args: TokenArgs) -> TokenSpec {
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

/// Scan scope and resources.
#[derive(Debug, Clone)]
pub struct Scope {
    pub reachable_only: bool,
    pub threads: usize,
    /// `--allow-incomplete`: nothing found in an incomplete search counts as clean.
    pub allow_incomplete: bool,
    /// `--verify-object-ids`: every object read is hashed against its id.
    pub verify_object_ids: bool,
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
            verify_object_ids: args.verify_object_ids,
        }
    }

    /// The one place a [`ScanOptions`] is built: this scope, for `command` (the name the report
    /// records). Only audit also lists the commits that added or changed a dotenv file.
    pub fn scan_options(&self, command: &'static str, progress: bool) -> ScanOptions {
        ScanOptions {
            threads: self.threads,
            reachable_only: self.reachable_only,
            progress,
            command,
            env_history: command == "audit",
            verify_object_ids: self.verify_object_ids,
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
    pub format: report::Format,
    /// `-o FILE`: the report goes there (atomically) instead of stdout.
    pub output: Option<PathBuf>,
    /// `--exit-zero`: findings do not fail the run.
    pub exit_zero: bool,
    /// Where copies of a token outside history are looked for (from HOME, HF_HOME, …).
    pub places: crate::footprint::Places,
}

impl From<Format> for report::Format {
    fn from(format: Format) -> report::Format {
        match format {
            Format::Human => report::Format::Human,
            Format::Json => report::Format::Json,
            Format::Sarif => report::Format::Sarif,
        }
    }
}

impl From<RespondFormat> for report::Format {
    fn from(format: RespondFormat) -> report::Format {
        match format {
            RespondFormat::Human => report::Format::Human,
            RespondFormat::Json => report::Format::Json,
        }
    }
}

impl ScanConfig {
    pub fn resolve(args: ScanArgs, globals: &Globals) -> Result<ScanConfig> {
        refuse_token_path("--output", args.output.output.as_ref())?;
        Ok(ScanConfig {
            globals: globals.clone(),
            repo: resolve_repo_path(args.repo)?,
            tokens: token_spec(args.token),
            scope: Scope::from_args(args.scope),
            format: args.output.format.into(),
            output: args.output.output,
            exit_zero: args.output.exit_zero,
            places: crate::footprint::Places::from_env(),
        })
    }
}

/// `unleak respond`, resolved: what the playbook is asked to do, and how the record is printed.
#[derive(Debug, Clone)]
pub struct RespondConfig {
    pub request: Request,
    pub format: report::Format,
}

impl RespondConfig {
    pub fn resolve(args: RespondArgs, globals: &Globals) -> Result<RespondConfig> {
        refuse_token_path("--report", args.report.as_ref())?;
        refuse_token_path("--write-script", args.write_script.as_ref())?;
        refuse_token_in("--replacement", Some(&args.replacement))?;
        // `--new-token-env NAME` answers the (first) key; `--new-token-env KEY=NAME` one key of several.
        let mut plain = None;
        let mut new_tokens = Vec::new();
        for given in args.new_token_env {
            let name = match given.split_once('=') {
                Some((key, name)) if key.trim().is_empty() || name.trim().is_empty() => {
                    anyhow::bail!("--new-token-env KEY=NAME needs both a key and a variable name")
                }
                Some((key, name)) => {
                    new_tokens.push((key.to_string(), name.to_string()));
                    name.to_string()
                }
                None if plain.is_none() => {
                    plain = Some(given.clone());
                    given
                }
                None => anyhow::bail!(
                    "--new-token-env NAME is given twice; with several keys name each: --new-token-env KEY=NAME"
                ),
            };
            crate::child::hide_var(&name); // it holds a token: no child process may inherit it
        }
        let new_token = match (plain, args.new_token_stdin) {
            (Some(name), _) => NewTokenSource::Env(name),
            (None, true) => NewTokenSource::Stdin,
            (None, false) => NewTokenSource::Prompt,
        };
        let scope = Scope::from_args(args.scope);
        Ok(RespondConfig {
            request: Request {
                repo: resolve_repo_path(args.repo)?,
                tokens: token_spec(args.token),
                scan: scope.scan_options("respond", globals.progress),
                settings: Settings {
                    yes: args.yes,
                    dry_run: args.dry_run,
                    revoke: args.revoke.map(|r| match r {
                        RevokeArg::Api => RevokeMethod::Api,
                        RevokeArg::Browser => RevokeMethod::Browser,
                        RevokeArg::Skip => RevokeMethod::Skip,
                    }),
                    new_token,
                    new_tokens,
                    offline: args.offline,
                    report: args.report,
                    write_script: args.write_script,
                    literal: args.literal,
                    remove_env_files: args.remove_env_files,
                    binary: args.binary.map(|b| match b {
                        BinaryArg::Mask => BinaryMode::Mask,
                        BinaryArg::Strip => BinaryMode::Strip,
                    }),
                    replacement: args.replacement,
                    remote: args.remote,
                    update_key: args.update_key,
                    backup: args.backup,
                    hf_endpoint: crate::issuers::huggingface::endpoint_from_env(),
                    places: crate::footprint::Places::from_env(),
                },
            },
            format: args.format.into(),
        })
    }
}

/// `unleak audit`, resolved. The format and threshold stay optional: the repository's `.unleak.toml`
/// (read by the command) supplies them when the flags do not.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub globals: Globals,
    pub repo: PathBuf,
    /// `--env-file`: the dotenv file whose values are searched for exactly (default: the repository's `.env`).
    pub env_file: Option<PathBuf>,
    /// `--fail-on`: the lowest severity that fails the run.
    pub fail_on: Option<Severity>,
    pub baseline: Option<PathBuf>,
    /// `--config`: the allowlist file (default: the repository's `.unleak.toml`).
    pub config: Option<PathBuf>,
    /// `--verify`: ask each issuer whether the tokens still work.
    pub verify: bool,
    pub since: Option<String>,
    pub range: Option<String>,
    /// `--no-git PATH...`: files on disk (or `-`, stdin) instead of a repository; empty for git.
    pub no_git: Vec<PathBuf>,
    pub scope: Scope,
    pub format: Option<report::Format>,
    pub output: Option<PathBuf>,
    pub exit_zero: bool,
}

impl AuditConfig {
    pub fn resolve(args: AuditArgs, globals: &Globals) -> Result<AuditConfig> {
        refuse_token_path("--output", args.output.as_ref())?;
        Ok(AuditConfig {
            globals: globals.clone(),
            repo: resolve_repo_path(args.repo)?,
            env_file: args.env_file,
            fail_on: args.fail_on.map(|level| match level {
                FailOn::High => Severity::High,
                FailOn::Medium => Severity::Medium,
                FailOn::Low => Severity::Low,
            }),
            baseline: args.baseline,
            config: args.config,
            verify: args.verify,
            since: args.since,
            range: args.range,
            no_git: args.no_git,
            scope: Scope::from_args(args.scope),
            format: args.format.map(Into::into),
            output: args.output,
            exit_zero: args.exit_zero,
        })
    }
}

/// `unleak verify`, resolved.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub globals: Globals,
    pub repo: PathBuf,
    pub tokens: TokenSpec,
    /// `--fingerprint`: old tokens named by fingerprint only.
    pub fingerprints: Vec<String>,
    /// `--record`: an incident record naming the old tokens.
    pub record: Option<PathBuf>,
    /// `--first-changed`: filter-repo's list of first changed commits.
    pub first_changed: Option<PathBuf>,
    /// `--remote`: verify what this remote serves, not the local repository.
    pub remote: Option<String>,
    /// `--offline`: the issuer is not asked about a token found nowhere.
    pub offline: bool,
    /// Verify searches every object, reachable or not: `reachable_only` is always false here.
    pub scope: Scope,
    pub format: report::Format,
    pub output: Option<PathBuf>,
    pub exit_zero: bool,
}

impl VerifyConfig {
    pub fn resolve(args: VerifyArgs, globals: &Globals) -> Result<VerifyConfig> {
        // A copy left in an unreachable object is still a copy: verify always reads every object, and
        // says so rather than ignore the flag.
        if args.scope.reachable_only {
            anyhow::bail!(
                "verify reads every object, reachable or not (an unreachable copy still leaks): \
                 --reachable-only does not apply here"
            );
        }
        refuse_token_path("--output", args.output.output.as_ref())?;
        let repo = resolve_repo_path(args.repo)?;
        let scope = Scope::from_args(args.scope);
        Ok(VerifyConfig {
            globals: globals.clone(),
            repo,
            tokens: token_spec(args.token),
            fingerprints: args.fingerprint,
            record: args.record,
            first_changed: args.first_changed,
            remote: args.remote,
            offline: args.offline,
            scope,
            format: args.output.format.into(),
            output: args.output.output,
            exit_zero: args.output.exit_zero,
        })
    }
}

/// `unleak setup`, resolved.
#[derive(Debug, Clone)]
pub struct SetupConfig {
    /// The variable name to store.
    pub key: String,
    pub env_file: Option<PathBuf>,
    /// `--value-stdin`: read the value from a pipe, not a hidden prompt.
    pub value_stdin: bool,
    /// `--force`: store a value that does not look like the key's provider's token.
    pub force: bool,
    pub backup: bool,
    /// `--yes`: apply the hygiene actions that ask first.
    pub yes: bool,
    /// A value typed on the command line (refused: it would sit in shell history).
    pub refused_value: Vec<std::ffi::OsString>,
}

impl SetupConfig {
    pub fn resolve(args: SetupArgs) -> Result<SetupConfig> {
        Ok(SetupConfig {
            key: args.key,
            env_file: args.env_file,
            value_stdin: args.value_stdin,
            force: args.force,
            backup: args.backup,
            yes: args.yes,
            refused_value: args.refused_value,
        })
    }
}

/// `unleak hook`, resolved: the repository and what to do in it.
#[derive(Debug, Clone)]
pub struct HookConfig {
    pub globals: Globals,
    pub repo: PathBuf,
    pub job: HookJob,
}

/// What `unleak hook` does. Hooks are named as git names them, in a fixed order, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookJob {
    Install {
        /// `--force`: replace a hook that is not ours.
        force: bool,
        hooks: Vec<&'static str>,
    },
    Uninstall {
        hooks: Vec<&'static str>,
    },
    /// `hook run --commit-msg FILE`: check the message about to be committed.
    CheckMessage(PathBuf),
    /// `hook run --pre-push`: check the commits about to be pushed.
    /// The commits a push sends; the destination (a remote name or URL) when the hook passed it.
    CheckPush(Option<String>),
    /// `hook run`: check what is staged.
    CheckStaged,
}

/// The hooks unleak writes, by git's name for them.
const HOOK_KINDS: [(HookKind, &str); 3] = [
    (HookKind::PreCommit, "pre-commit"),
    (HookKind::CommitMsg, "commit-msg"),
    (HookKind::PrePush, "pre-push"),
];

/// The git hook names asked for (`all` is every one), in a fixed order, each once.
fn hook_names(kinds: &[HookKind]) -> Vec<&'static str> {
    HOOK_KINDS
        .iter()
        .filter(|(kind, _)| kinds.contains(kind) || kinds.contains(&HookKind::All))
        .map(|(_, name)| *name)
        .collect()
}

impl HookConfig {
    pub(crate) fn resolve(args: HookArgs, globals: &Globals) -> Result<HookConfig> {
        let (repo, job) = match args.action {
            HookAction::Install { repo, force, hooks } => (
                repo,
                HookJob::Install {
                    force,
                    hooks: hook_names(&hooks),
                },
            ),
            HookAction::Uninstall { repo, hooks } => (
                repo,
                HookJob::Uninstall {
                    hooks: hook_names(&hooks),
                },
            ),
            HookAction::Run {
                repo,
                commit_msg: Some(file),
                ..
            } => (repo, HookJob::CheckMessage(file)),
            HookAction::Run {
                repo,
                pre_push: true,
                destination,
                ..
            } => (repo, HookJob::CheckPush(destination)),
            HookAction::Run { repo, .. } => (repo, HookJob::CheckStaged),
        };
        Ok(HookConfig {
            globals: globals.clone(),
            repo: resolve_repo_path(repo)?,
            job,
        })
    }
}

/// Refuses a path or text flag whose value holds a provider's token (`-o hf_…`, `--report`,
/// `--write-script`, `--replacement`): a file named by the token, or a script and report that carry
/// it in plain text, would keep what the tool never shows. The value is named by its redaction only.
fn refuse_token_in(flag: &str, value: Option<&str>) -> Result<()> {
    let Some(value) = value else {
        return Ok(());
    };
    let parts = value.split(['/', '\\', '.', '=', ':']).chain([value]);
    if let Some(token) = parts
        .map(str::trim)
        .find(|part| crate::providers::identify(part).is_some())
    {
        anyhow::bail!(
            "{flag} holds a token ({}): it would be written into a file name or a script in plain text. \
             Tokens are never taken as arguments (shell history and `ps` keep them); if it was a real \
             token, treat it as leaked to your shell history",
            crate::secret::redact(token)
        );
    }
    Ok(())
}

fn refuse_token_path(flag: &str, path: Option<&PathBuf>) -> Result<()> {
    refuse_token_in(flag, path.map(|p| p.to_string_lossy()).as_deref())
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// `cli` spells the default replacement as a literal (it imports nothing of ours): it must stay
    /// the rewrite's own.
    #[test]
    fn replacement_default_is_the_rewrites() {
        let cli = crate::cli::Cli::command();
        let respond = cli.find_subcommand("respond").expect("respond subcommand");
        let arg = respond
            .get_arguments()
            .find(|a| a.get_id() == "replacement")
            .expect("--replacement");
        let default: Vec<_> = arg.get_default_values().iter().collect();
        assert_eq!(default, [crate::filter_repo::REPLACEMENT]);
    }

    #[test]
    fn hook_names_are_gits_in_order_each_once() {
        use crate::cli::HookKind;
        assert_eq!(
            super::hook_names(&[HookKind::All, HookKind::PreCommit]),
            ["pre-commit", "commit-msg", "pre-push"]
        );
    }
}
