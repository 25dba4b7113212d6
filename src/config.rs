//! What the user typed, resolved once into what the program will do. Commands never look at `cli` types
//! for decisions; they read these structs, so defaults and environment live in one place: the process
//! environment is read here once ([`Globals::resolve`]) into an [`Environment`] value, and what is
//! derived from it (colors, the child-process [`Spawner`], endpoints, where tokens are kept) is passed
//! down in these structs.

use crate::child::Spawner;
use crate::cli::{
    AuditArgs, BinaryArg, Cli, ColorChoice, FailOn, Format, HookAction, HookArgs, HookKind,
    RespondArgs, RespondFormat, RevokeArg, ScanArgs, ScopeArgs, SetupArgs, TokenArgs, VerifyArgs,
};
use crate::environment::Environment;
use crate::filter_repo::BinaryMode;
use crate::model::Severity;
use crate::playbook::{NewTokenSource, Request, RevokeMethod, Settings};
use crate::prompt::PromptMode;
use crate::render;
use crate::scan::{ScanOptions, TreeRead};
use crate::tokens::TokenSpec;
use anyhow::Result;
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
    /// The process environment, read once, here.
    pub env: Environment,
    /// How child processes are built: the token variables none inherits (a command adds those its
    /// `--token-env` names).
    pub spawner: Spawner,
    /// The issuers' timeout and API bases.
    pub net: crate::issuers::Net,
    /// Whether questions are asked at a terminal (chosen here, once).
    pub prompts: PromptMode,
}

impl Globals {
    /// The global flags, and the one read of the process environment.
    pub fn resolve(cli: &Cli) -> Globals {
        let env = Environment::from_process();
        let no_color_env = env.var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color_env && std::io::stdout().is_terminal(),
        };
        Globals {
            quiet: cli.quiet,
            color,
            progress: !cli.quiet && std::io::stderr().is_terminal(),
            spawner: Spawner::new(&env),
            net: crate::issuers::Net::from_env(&env),
            prompts: PromptMode::detect(),
            env,
        }
    }
}

/// The token flags, as a [`TokenSpec`]. A `--token-env` variable is hidden from every child process
/// `spawner` starts: it holds a token.
pub fn token_spec(args: TokenArgs, spawner: &mut Spawner) -> TokenSpec {
    if let Some(name) = &args.token_env {
        spawner.hide(name); // it holds a token: no child process may inherit it
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
    /// How provenance reads trees (`UNLEAK_TREE_READ` forces one way; tests run each).
    pub tree_read: TreeRead,
}

impl Scope {
    pub fn from_args(args: ScopeArgs, env: &Environment) -> Scope {
        let threads = args
            .threads
            .filter(|n| *n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Scope {
            reachable_only: args.reachable_only,
            threads,
            allow_incomplete: args.allow_incomplete,
            verify_object_ids: args.verify_object_ids,
            tree_read: TreeRead::from_name(env.var("UNLEAK_TREE_READ")),
        }
    }

    /// The one place a [`ScanOptions`] is built: this scope, for `command` (the name the report
    /// records). Only audit also lists the commits that added or changed a dotenv file.
    pub fn scan_options(&self, command: &'static str, progress: bool) -> ScanOptions {
        ScanOptions {
            tree_read: self.tree_read,
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
    pub format: render::Format,
    /// `-o FILE`: the report goes there (atomically) instead of stdout.
    pub output: Option<PathBuf>,
    /// `--exit-zero`: findings do not fail the run.
    pub exit_zero: bool,
    /// Where copies of a token outside history are looked for (from HOME, HF_HOME, …).
    pub places: crate::footprint::Places,
}

impl From<Format> for render::Format {
    fn from(format: Format) -> render::Format {
        match format {
            Format::Human => render::Format::Human,
            Format::Json => render::Format::Json,
            Format::Sarif => render::Format::Sarif,
        }
    }
}

impl From<RespondFormat> for render::Format {
    fn from(format: RespondFormat) -> render::Format {
        match format {
            RespondFormat::Human => render::Format::Human,
            RespondFormat::Json => render::Format::Json,
        }
    }
}

impl ScanConfig {
    pub fn resolve(args: ScanArgs, globals: &Globals) -> Result<ScanConfig> {
        refuse_token_path("--output", args.output.output.as_ref())?;
        let mut globals = globals.clone();
        Ok(ScanConfig {
            repo: resolve_repo_path(args.repo, &globals.env)?,
            tokens: token_spec(args.token, &mut globals.spawner),
            scope: Scope::from_args(args.scope, &globals.env),
            format: args.output.format.into(),
            output: args.output.output,
            exit_zero: args.output.exit_zero,
            places: crate::footprint::Places::from_env(&globals.env),
            globals,
        })
    }
}

/// `unleak respond`, resolved: what the playbook is asked to do, and how the record is printed.
#[derive(Debug, Clone)]
pub struct RespondConfig {
    pub request: Request,
    pub format: render::Format,
    /// Whether questions are asked: never in a dry run, which walks the flow without prompts.
    pub prompts: PromptMode,
}

impl RespondConfig {
    pub fn resolve(args: RespondArgs, globals: &Globals) -> Result<RespondConfig> {
        refuse_token_path("--report", args.report.as_ref())?;
        refuse_token_path("--write-script", args.write_script.as_ref())?;
        refuse_token_in("--replacement", Some(&args.replacement))?;
        // `--new-token-env NAME` answers the (first) key; `--new-token-env KEY=NAME` one key of several.
        let mut plain = None;
        let mut new_tokens = Vec::new();
        let mut spawner = globals.spawner.clone();
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
            spawner.hide(&name); // it holds a token: no child process may inherit it
        }
        let new_token = match (plain, args.new_token_stdin) {
            (Some(name), _) => NewTokenSource::Env(name),
            (None, true) => NewTokenSource::Stdin,
            (None, false) => NewTokenSource::Prompt,
        };
        let scope = Scope::from_args(args.scope, &globals.env);
        Ok(RespondConfig {
            request: Request {
                repo: resolve_repo_path(args.repo, &globals.env)?,
                tokens: token_spec(args.token, &mut spawner),
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
                    hf_endpoint: crate::issuers::huggingface::endpoint_from(&globals.env),
                    places: crate::footprint::Places::from_env(&globals.env),
                },
                env: globals.env.clone(),
                spawner,
                net: globals.net.clone(),
            },
            format: args.format.into(),
            prompts: if args.dry_run {
                PromptMode::NoTerminal
            } else {
                globals.prompts
            },
        })
    }
}

/// `unleak audit`, resolved. The format and threshold stay optional: the repository's `.unleak.toml`
/// (read by the command) supplies them when the flags do not.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub globals: Globals,
    /// What to audit, in the domain's terms (format and threshold still optional: see above).
    pub request: crate::audit::Request,
    pub output: Option<PathBuf>,
    pub exit_zero: bool,
}

impl AuditConfig {
    pub fn resolve(args: AuditArgs, globals: &Globals) -> Result<AuditConfig> {
        refuse_token_path("--output", args.output.as_ref())?;
        let scope = Scope::from_args(args.scope, &globals.env);
        Ok(AuditConfig {
            request: crate::audit::Request {
                options: scope.scan_options("audit", globals.progress),
                allow_incomplete: scope.allow_incomplete,
                repo: resolve_repo_path(args.repo, &globals.env)?,
                env_file: args.env_file,
                config: args.config,
                baseline: args.baseline,
                verify: args.verify,
                since: args.since,
                range: args.range,
                no_git: args.no_git,
                format: args.format.map(Into::into),
                fail_on: args.fail_on.map(|level| match level {
                    FailOn::High => Severity::High,
                    FailOn::Medium => Severity::Medium,
                    FailOn::Low => Severity::Low,
                }),
                hf_endpoint: crate::issuers::huggingface::endpoint_from(&globals.env),
                env: globals.env.clone(),
                spawner: globals.spawner.clone(),
                net: globals.net.clone(),
            },
            output: args.output,
            exit_zero: args.exit_zero,
            globals: globals.clone(),
        })
    }
}

/// `unleak verify`, resolved.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub globals: Globals,
    /// What to verify, in the domain's terms (verify searches every object, reachable or not).
    pub request: crate::verify::Request,
    pub format: render::Format,
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
        let repo = resolve_repo_path(args.repo, &globals.env)?;
        let scope = Scope::from_args(args.scope, &globals.env);
        let mut globals = globals.clone();
        let tokens = token_spec(args.token, &mut globals.spawner);
        Ok(VerifyConfig {
            request: crate::verify::Request {
                options: scope.scan_options("verify", globals.progress),
                allow_incomplete: scope.allow_incomplete,
                repo,
                tokens,
                fingerprints: args.fingerprint,
                record: args.record,
                first_changed: args.first_changed,
                remote: args.remote,
                offline: args.offline,
                env: globals.env.clone(),
                spawner: globals.spawner.clone(),
                net: globals.net.clone(),
            },
            format: args.output.format.into(),
            output: args.output.output,
            exit_zero: args.output.exit_zero,
            globals,
        })
    }
}

/// `unleak setup`, resolved.
#[derive(Debug, Clone)]
pub struct SetupConfig {
    /// What to store, in the domain's terms.
    pub request: crate::setup::Request,
    /// The process environment (the shell's values, huggingface_hub's token file, the current directory).
    pub env: Environment,
    /// Whether the value can be asked for at a terminal.
    pub prompts: PromptMode,
}

impl SetupConfig {
    pub fn resolve(args: SetupArgs, globals: &Globals) -> Result<SetupConfig> {
        Ok(SetupConfig {
            request: crate::setup::Request {
                key: args.key,
                env_file: args.env_file,
                value_stdin: args.value_stdin,
                force: args.force,
                backup: args.backup,
                yes: args.yes,
                refused_value: args.refused_value,
                spawner: globals.spawner.clone(),
            },
            env: globals.env.clone(),
            prompts: globals.prompts,
        })
    }
}

/// `unleak hook`, resolved: the repository and what to do in it.
#[derive(Debug, Clone)]
pub struct HookConfig {
    pub globals: Globals,
    pub repo: PathBuf,
    pub job: HookJob,
    /// `hook run`: the index git is committing, `$GIT_INDEX_FILE` when git sets it (as it does for
    /// `git commit -a` and `git commit <paths>`; a relative one is from the top of the work tree, where
    /// the hook runs), else None: the repository's.
    pub index_file: Option<PathBuf>,
    /// `hook run --pre-push` under the pre-commit framework: the destination it names
    /// (`PRE_COMMIT_REMOTE_NAME`) and the pushed range (`PRE_COMMIT_FROM_REF`, `PRE_COMMIT_TO_REF`).
    pub framework_remote: Option<String>,
    pub framework_refs: Option<(String, String)>,
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
        let env = &globals.env;
        let index_file = match (&job, env.var_os("GIT_INDEX_FILE")) {
            (HookJob::CheckStaged, Some(file)) if !file.is_empty() => {
                let path = PathBuf::from(file);
                Some(if path.is_absolute() {
                    path
                } else {
                    env.current_dir()?.join(path)
                })
            }
            _ => None,
        };
        let framework_refs = env
            .get("PRE_COMMIT_FROM_REF")
            .zip(env.get("PRE_COMMIT_TO_REF"))
            .map(|(from, to)| (from.to_string(), to.to_string()));
        Ok(HookConfig {
            repo: resolve_repo_path(repo, env)?,
            job,
            index_file,
            framework_remote: env.get("PRE_COMMIT_REMOTE_NAME").map(str::to_string),
            framework_refs,
            globals: globals.clone(),
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
pub fn resolve_repo_path(arg: Option<PathBuf>, env: &Environment) -> Result<PathBuf> {
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
        None => env.current_dir(),
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

    /// Globals as `resolve` makes them, from an environment built by hand and a terminal.
    fn globals(env: &[(&str, &str)]) -> super::Globals {
        let env =
            super::Environment::from_pairs(env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
                .with_current_dir(std::path::PathBuf::from("/"));
        super::Globals {
            quiet: true,
            color: false,
            progress: false,
            spawner: super::Spawner::new(&env),
            net: crate::issuers::Net::from_env(&env),
            prompts: super::PromptMode::Terminal,
            env,
        }
    }

    fn parse(args: &[&str]) -> crate::cli::Command {
        use clap::Parser;
        crate::cli::Cli::try_parse_from(std::iter::once("unleak").chain(args.iter().copied()))
            .expect("arguments parse")
            .command
    }

    /// The variables `--token-env` and `--new-token-env` name are hidden from the children of this
    /// command's config only: a value, not a process-wide list.
    #[test]
    fn named_token_variables_are_hidden_in_the_configs_spawner() {
        let globals = globals(&[]);
        let crate::cli::Command::Respond(args) = parse(&[
            "respond",
            "/",
            "--token-env",
            "OLD_ONE",
            "--new-token-env",
            "NEW_ONE",
        ]) else {
            unreachable!()
        };
        let config = super::RespondConfig::resolve(args, &globals).unwrap();
        let hidden = config.request.spawner.hidden();
        assert!(hidden.iter().any(|n| n == "OLD_ONE") && hidden.iter().any(|n| n == "NEW_ONE"));
        assert!(!globals.spawner.hidden().iter().any(|n| n == "OLD_ONE"));
    }

    /// What the environment says is read from the value config was given, not from the process.
    #[test]
    fn settings_come_from_the_given_environment() {
        let globals = globals(&[
            ("HF_ENDPOINT", "https://hub.example/"),
            ("UNLEAK_TREE_READ", "named"),
        ]);
        let crate::cli::Command::Respond(args) = parse(&["respond", "--dry-run"]) else {
            unreachable!()
        };
        let config = super::RespondConfig::resolve(args, &globals).unwrap();
        assert_eq!(config.request.settings.hf_endpoint, "https://hub.example");
        assert_eq!(config.request.repo, std::path::PathBuf::from("/"));
        assert_eq!(config.request.scan.tree_read, crate::scan::TreeRead::Named);
        // A dry run asks nothing, even at a terminal.
        assert_eq!(config.prompts, super::PromptMode::NoTerminal);
        let crate::cli::Command::Scan(args) = parse(&["scan", "/"]) else {
            unreachable!()
        };
        let scan = super::ScanConfig::resolve(args, &globals).unwrap();
        assert_eq!(scan.globals.prompts, super::PromptMode::Terminal);
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
