//! `unleak setup`'s work: store a token in `.env` safely. The value comes from a hidden prompt (asked
//! twice) or one line of stdin, never from an argument; it is checked against the provider's format,
//! written with [`dotenv::write_private`], and the file is made ignored by git ([`hygiene`]). Output says
//! what was done and shows only the redaction and fingerprint.

use crate::dotenv::{self, DotEnv};
use crate::environment::Environment;
use crate::hygiene::{self, Action};
use crate::prompt::Prompter;
use crate::providers;
use crate::sanitize::for_terminal;
use crate::secret::Secret;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What `unleak setup` is asked, in plain values (the command resolves them from its flags).
#[derive(Debug, Clone)]
pub struct Request {
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
    /// How git is started (to ask whether `.env` is ignored or tracked).
    pub spawner: crate::child::Spawner,
}

/// Where `setup` reads and writes, so tests can drive it in-process.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub stdin: &'a mut dyn BufRead,
    pub prompter: &'a mut dyn Prompter,
    /// Whether yes/no questions can be asked (else they are answered by flags or left undone).
    pub interactive: bool,
}

impl Io<'_> {
    fn say(&mut self, line: &str) -> Result<()> {
        writeln!(self.out, "{}", for_terminal(line))?;
        Ok(())
    }
    fn warn(&mut self, line: &str) -> Result<()> {
        writeln!(self.err, "unleak: warning: {}", for_terminal(line))?;
        Ok(())
    }
}

/// The whole command, given its inputs: returns whether a step was left undone (a tracked file the user
/// did not agree to untrack).
pub fn setup(request: &Request, cwd: &Path, env: &Environment, io: &mut Io) -> Result<bool> {
    if !request.refused_value.is_empty() {
        bail!(
            "a token is never taken as a command-line argument: it would stay in your shell history and \
             show in `ps`. Nothing was written. Delete that line from your shell history, then run \
             `unleak setup` to type the token at a hidden prompt, or pipe it in with --value-stdin"
        );
    }
    let key = request.key.as_str();
    if !dotenv::is_valid_key(key) {
        bail!("{key:?} is not a usable variable name (letters, digits and _, not starting with a digit)");
    }
    let path = env_path(request.env_file.as_deref(), cwd);

    let secret = read_value(request, key, io)?;
    check_format(key, &secret, request.force, io)?;
    store(request, &path, key, &secret, io)?;
    tidy_up(request, &path, key, &secret, env, io)
}

/// Sets `key` to the token in the `.env` file (created if missing), telling what else was fixed or is
/// suspicious in it. A file that already holds the token, privately and unchanged, is not rewritten.
fn store(request: &Request, path: &Path, key: &str, secret: &Secret, io: &mut Io) -> Result<()> {
    let shown = path.display().to_string();
    let exists = std::fs::metadata(path).is_ok();
    let mut file = if exists {
        dotenv::read(path)?
    } else {
        DotEnv::parse(b"")
    };
    let original = zeroize::Zeroizing::new(file.to_bytes());
    tidy_env_file(&mut file, &shown, key, io)?;
    let unchanged = file.get(key) == Some(secret.expose());
    file.set(key, secret.expose())
        .with_context(|| format!("nothing was written to {shown}"))?;

    let bytes = zeroize::Zeroizing::new(file.to_bytes());
    let private = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0);
    if exists && unchanged && *bytes == *original && private {
        io.say(&format!(
            "{key} in {shown} already holds this token ({}, {}); nothing to write",
            secret.redacted(),
            secret.fingerprint()
        ))?;
        return Ok(());
    }
    let outcome = dotenv::write_private(path, &bytes, request.backup)?;
    tell_written(&outcome, &shown, key, secret, io)
}

/// What python-dotenv reads differently from what the file seems to say: a byte-order mark (removed),
/// statements it skips and keys set twice (warned about, left as they are).
fn tidy_env_file(file: &mut DotEnv, shown: &str, key: &str, io: &mut Io) -> Result<()> {
    if file.has_bom() {
        let first = file.first_key().unwrap_or_default().to_string();
        file.strip_bom();
        io.say(&format!(
            "Removed the UTF-8 byte-order mark at the start of {shown}: python-dotenv reads it as part of \
             the first key ({first}), which hid that key from it"
        ))?;
    }
    for line in file.invalid_lines() {
        io.warn(&format!(
            "python-dotenv cannot parse the statement at line {line} of {shown} and skips it; unleak left it \
             as it was. Check it by hand: an old value may be hiding there"
        ))?;
    }
    for dup in file.duplicate_keys() {
        if dup == key {
            io.warn(&format!(
                "{shown} set {key} more than once; every occurrence now holds the new value (the last one is \
                 what loaders use)"
            ))?;
        } else {
            io.warn(&format!(
                "{shown} sets {dup} more than once; python-dotenv uses the last one"
            ))?;
        }
    }
    Ok(())
}

/// Says what the write did: the file written (through a symlink or not), an old mode that let others
/// read it, the backup kept, stale temporary files removed.
fn tell_written(
    outcome: &dotenv::WriteOutcome,
    shown: &str,
    key: &str,
    secret: &Secret,
    io: &mut Io,
) -> Result<()> {
    let via = if outcome.via_symlink {
        format!(" (through the symlink {shown})")
    } else {
        String::new()
    };
    io.say(&format!(
        "{} {key} = {} ({}) in {}{via}, mode 0600",
        if outcome.created { "Created" } else { "Stored" },
        secret.redacted(),
        secret.fingerprint(),
        outcome.written.display(),
    ))?;
    if outcome.old_exposed {
        io.warn(&format!(
            "{} was readable by other users (mode {:04o}) until now: anyone with access to this machine \
             may have read what it held",
            outcome.written.display(),
            outcome.old_mode.unwrap_or_default()
        ))?;
    }
    if let Some(backup) = &outcome.backup {
        io.say(&format!(
            "Kept the previous file as {} (mode 0600); it holds the old values, so delete it once you no \
             longer need it",
            backup.display()
        ))?;
    }
    for stale in &outcome.removed_stale {
        io.say(&format!(
            "Removed {}, left by an interrupted earlier write",
            stale.display()
        ))?;
    }
    Ok(())
}

/// The hygiene plan for the file (ignore it, untrack it, ...): each action done when it needs no
/// consent or gets it. Returns whether a step is left undone.
fn tidy_up(
    request: &Request,
    path: &Path,
    key: &str,
    secret: &Secret,
    env: &Environment,
    io: &mut Io,
) -> Result<bool> {
    let plan = hygiene::plan(path, key, secret.expose(), env, &request.spawner)?;
    for warning in &plan.warnings {
        io.warn(&warning.to_string())?;
    }
    let mut steps_left = false;
    for action in &plan.actions {
        let agreed = !action.needs_consent() || request.yes || ask(action, io)?;
        if agreed {
            let follow_ups = hygiene::apply(action, &request.spawner)?;
            io.say(&capitalize(&action.describe(true)))?;
            for warning in follow_ups {
                io.warn(&warning.to_string())?;
                steps_left = true;
            }
        } else {
            steps_left = true;
            io.warn(&format!(
                "not done: {}. Run again with --yes to do it",
                action.describe(false)
            ))?;
        }
    }
    Ok(steps_left)
}

fn env_path(explicit: Option<&Path>, cwd: &Path) -> PathBuf {
    if let Some(path) = explicit {
        return cwd.join(path);
    }
    crate::git::discover(cwd)
        .and_then(|repo| repo.workdir().map(|w| w.join(".env")))
        .unwrap_or_else(|| cwd.join(".env"))
}

fn read_value(request: &Request, key: &str, io: &mut Io) -> Result<Secret> {
    let secret = if request.value_stdin {
        let mut line = zeroize::Zeroizing::new(String::new());
        io.stdin
            .read_line(&mut line)
            .context("cannot read the value from stdin")?;
        Secret::new(line.trim(), "stdin")
    } else {
        io.prompter.secret(
            &format!("{key} (input hidden)"),
            true,
            "--value-stdin (and pipe the value in)",
        )?
    };
    if secret.expose().is_empty() {
        bail!("the value for {key} is empty; nothing was written");
    }
    if secret.expose().chars().any(char::is_control) {
        bail!("the value for {key} contains control characters; nothing was written");
    }
    Ok(secret)
}

/// Warns when a value kept under a provider's variable does not look like that provider's token; refuses
/// it unless `--force`, since a mistyped or truncated paste is the usual cause.
fn check_format(key: &str, secret: &Secret, force: bool, io: &mut Io) -> Result<()> {
    let Some(provider) = providers::all().iter().find(|p| p.env_vars.contains(&key)) else {
        return Ok(());
    };
    if providers::identify(secret.expose()).is_some_and(|p| p.id == provider.id) {
        return Ok(());
    }
    let value = secret.expose();
    let mut why = format!("it has {} characters", value.chars().count());
    if provider.id == providers::HUGGING_FACE.id && !value.starts_with("hf_") {
        why.push_str(" and does not start with hf_");
    }
    if value.chars().any(char::is_whitespace) {
        why.push_str(" and contains spaces");
    }
    let expected = if provider.id == providers::HUGGING_FACE.id {
        "hf_ followed by 34 letters or digits"
    } else {
        "the provider's token format"
    };
    let message = format!(
        "the value for {key} does not look like a {} token ({expected}): {why}",
        provider.name
    );
    if force {
        io.warn(&format!("{message}; storing it anyway (--force)"))?;
        Ok(())
    } else {
        bail!("{message}. Check the paste, or pass --force to store it anyway. Nothing was written")
    }
}

fn ask(action: &Action, io: &mut Io) -> Result<bool> {
    if !io.interactive {
        return Ok(false);
    }
    let question = match action {
        Action::Untrack { path, .. } => format!(
            "{path} is tracked by git. Remove it from the index (git rm --cached), keeping the file?"
        ),
        other => format!("{}?", capitalize(&other.describe(false))),
    };
    io.prompter.confirm(&question, true, "--yes")
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
