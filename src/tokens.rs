//! Collects the tokens to search for from the sources the user named: a `.env` key, an environment
//! variable (from the [`Environment`] `config` read), stdin, or a hidden prompt. Never from a
//! command-line argument, so no token reaches shell history or `ps`.

use crate::dotenv;
use crate::environment::Environment;
use crate::prompt::Prompter;
use crate::secret::Secret;
use anyhow::{bail, Context, Result};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The key read when the user names none.
pub const DEFAULT_KEY: &str = "HF_TOKEN";

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
    /// True when the user named no source, so the default chain applies: .env's HF_TOKEN, then where
    /// huggingface_hub keeps the token ([`hub_token`]), then a hidden prompt.
    pub fn is_default(&self) -> bool {
        self.env_file.is_none()
            && self.keys.is_empty()
            && self.token_env.is_none()
            && !self.stdin
            && !self.all_keys
    }
}

/// Tokens found, plus notes for the user (e.g. a duplicated key in `.env`).
#[derive(Debug, Default)]
pub struct Collected {
    pub secrets: Vec<Secret>,
    pub warnings: Vec<String>,
    /// Fingerprints of `secrets`, so a duplicate is dropped in constant time (270k lines on stdin).
    seen: std::collections::HashSet<String>,
}

/// Reads every token the spec names. `env` is the process environment (`--token-env`, huggingface_hub's
/// variables and token file); `workdir` is the repository's working tree root (None when bare); `stdin`
/// is the reader for `--token-stdin`.
pub fn collect(
    spec: &TokenSpec,
    env: &Environment,
    workdir: Option<&Path>,
    stdin: &mut dyn BufRead,
    prompter: &mut dyn Prompter,
    interactive: bool,
) -> Result<Collected> {
    let mut out = Collected::default();
    let env_path = spec
        .env_file
        .clone()
        .or_else(|| workdir.map(|w| w.join(".env")));

    if spec.is_default() {
        // The default chain: .env's HF_TOKEN, else $HF_TOKEN, else a hidden prompt.
        if let Some(path) = env_path.as_ref().filter(|p| p.is_file()) {
            let env = dotenv::read(path)?;
            note_duplicates(&env, path, &mut out);
            if let Some(value) = env.get(DEFAULT_KEY).filter(|v| !v.trim().is_empty()) {
                push_keyed(
                    &mut out,
                    value,
                    format!("{}:{DEFAULT_KEY}", display_name(path)),
                    Some(DEFAULT_KEY),
                )?;
                return Ok(out);
            }
        }
        // Then where huggingface_hub finds the token, in its order.
        if hub_token(&mut out, env)? {
            return Ok(out);
        }
        if interactive {
            let secret = prompter.secret(
                "Token to search for (input hidden)",
                false,
                "--token-stdin or --token-env NAME",
            )?;
            push(&mut out, secret.expose(), secret.origin().to_string())?;
            return Ok(out);
        }
        bail!(
            "no token to search for: no {DEFAULT_KEY} in {}, nor where huggingface_hub keeps it ($HF_TOKEN, \
             $HUGGING_FACE_HUB_TOKEN, {}), and no terminal to ask on; use --env-file PATH --key NAME, \
             --token-env NAME, --token-stdin or --all-keys",
            env_path.as_deref().map_or_else(|| ".env".to_string(), display_name),
            hub_token_path(env).map_or_else(
                || "$HF_HOME/token".to_string(),
                |(path, _)| path.display().to_string()
            )
        );
    }

    // With --token-stdin and no --env-file, --key picks among stdin's KEY=VALUE lines instead.
    let keys_for_stdin = spec.stdin && spec.env_file.is_none() && !spec.all_keys;
    if (!spec.keys.is_empty() && !keys_for_stdin) || spec.all_keys || spec.env_file.is_some() {
        let path =
            env_path.context("a bare repository has no .env: name one with --env-file PATH")?;
        let env = dotenv::read(&path)?;
        note_duplicates(&env, &path, &mut out);
        let keys: Vec<String> = if spec.keys.is_empty() && !spec.all_keys {
            vec![DEFAULT_KEY.to_string()]
        } else {
            spec.keys.clone()
        };
        for key in &keys {
            match env.get(key).filter(|v| !v.trim().is_empty()) {
                Some(value) => push_keyed(
                    &mut out,
                    value,
                    format!("{}:{key}", display_name(&path)),
                    Some(key),
                )?,
                None => bail!("{} has no value for {key}", display_name(&path)),
            }
        }
        if spec.all_keys {
            for (key, value) in env.entries() {
                // Every value of the file passes through here, secrets or not: wiped when dropped.
                let value = zeroize::Zeroizing::new(value);
                // A value with characters no token has is not a token candidate here (the user named
                // no key): noted, not searched, and not an error for the whole run.
                if let Err(err) = normalize(&value, &format!("{}:{key}", display_name(&path))) {
                    if !keys.contains(&key) && looks_like_secret(trim_token(&value)) {
                        out.warnings
                            .push(format!("{err:#}; it was not searched for"));
                    }
                    continue;
                }
                let known = crate::providers::identify_keyed(&key, &value).is_some();
                if !keys.contains(&key) && (known || looks_like_secret(&value)) {
                    let origin = format!("{}:{key}", display_name(&path));
                    push_keyed(&mut out, &value, origin, Some(&key))?;
                }
            }
        }
    }
    if let Some(name) = &spec.token_env {
        let value = env
            .secret(name)
            .filter(|v| !v.trim().is_empty())
            .with_context(|| format!("environment variable {} is not set", shown_name(name)))?;
        push_keyed(&mut out, &value, format!("${name}"), Some(name))?;
    }
    if spec.stdin {
        let keys = if keys_for_stdin { &spec.keys[..] } else { &[] };
        read_stdin(stdin, keys, &mut out)?;
    }
    if out.secrets.is_empty() {
        bail!("the named sources held no token to search for");
    }
    Ok(out)
}

/// The token huggingface_hub would use, found where it looks, in its order (`huggingface_hub.get_token`):
/// `$HF_TOKEN`, then the legacy `$HUGGING_FACE_HUB_TOKEN`, then the token file (`$HF_TOKEN_PATH`, else
/// `$HF_HOME/token`, `$HF_HOME` defaulting to `$XDG_CACHE_HOME/huggingface` or `~/.cache/huggingface`).
/// With the file, the tokens saved beside it by `hf auth login` (`stored_tokens`, one INI section per
/// token name) are searched for too: a leak hunt wants every token this machine holds. Each is named by
/// its source (the variable, the file and section), never by value. Returns whether it found one.
fn hub_token(out: &mut Collected, env: &Environment) -> Result<bool> {
    for name in [DEFAULT_KEY, "HUGGING_FACE_HUB_TOKEN"] {
        if let Some(value) = env.secret(name).filter(|v| !v.trim().is_empty()) {
            push(out, &value, format!("${name}"))?;
            return Ok(true);
        }
    }
    let Some((path, why)) = hub_token_path(env) else {
        return Ok(false);
    };
    let found_before = out.secrets.len();
    match read_private(&path)? {
        Some(text) if !text.trim().is_empty() => {
            // huggingface_hub drops every CR and LF, then trims.
            let value = zeroize::Zeroizing::new(text.replace(['\r', '\n'], ""));
            push(out, &value, format!("{} ({why})", path.display()))?;
        }
        _ => {}
    }
    let stored = path.with_file_name("stored_tokens");
    if let Some(text) = read_private(&stored)? {
        for (section, value) in stored_tokens(&text) {
            let origin = format!(
                "{} [{}]",
                stored.display(),
                crate::sanitize::for_terminal(&section)
            );
            // One saved token that is not a token (too short, spaces inside) does not stop the others.
            if let Err(e) = push(out, &value, origin) {
                out.warnings.push(format!("{e:#}; not searched for"));
            }
        }
    }
    Ok(out.secrets.len() > found_before)
}

/// huggingface_hub's token file, and which variable chose it (for the message).
pub(crate) fn hub_token_path(env: &Environment) -> Option<(PathBuf, &'static str)> {
    let home = || {
        env.var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    };
    // `~/` as os.path.expanduser reads it.
    let expand = |value: &std::ffi::OsStr| -> Option<PathBuf> {
        let text = value.to_string_lossy().into_owned();
        match text.strip_prefix("~/") {
            Some(rest) => Some(home()?.join(rest)),
            None if text == "~" => home(),
            None => Some(PathBuf::from(value)),
        }
    };
    let set = |name: &str| env.var_os(name).filter(|v| !v.is_empty());
    if let Some(path) = set("HF_TOKEN_PATH") {
        return Some((expand(path)?, "$HF_TOKEN_PATH"));
    }
    if let Some(hf_home) = set("HF_HOME") {
        return Some((expand(hf_home)?.join("token"), "$HF_HOME/token"));
    }
    let cache = match set("XDG_CACHE_HOME") {
        Some(cache) => expand(cache)?,
        None => home()?.join(".cache"),
    };
    Some((cache.join("huggingface").join("token"), "$HF_HOME/token"))
}

/// A token file's text, or None when it does not exist. Unreadable is an error naming the file.
fn read_private(path: &Path) -> Result<Option<zeroize::Zeroizing<String>>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = zeroize::Zeroizing::new(bytes);
            let text = std::str::from_utf8(&bytes)
                .with_context(|| format!("{} is not UTF-8 text; a token is", path.display()))?;
            Ok(Some(zeroize::Zeroizing::new(text.to_string())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The `hf_token` of each section of huggingface_hub's `stored_tokens` (an INI file written by
/// configparser: `[name]` then `hf_token = VALUE`), as (name, value).
fn stored_tokens(text: &str) -> Vec<(String, zeroize::Zeroizing<String>)> {
    let mut out = Vec::new();
    let mut section: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name);
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        if let (Some(name), "hf_token") = (section, key.trim().to_ascii_lowercase().as_str()) {
            let value = value.trim();
            if !value.is_empty() {
                out.push((name.to_string(), zeroize::Zeroizing::new(value.to_string())));
            }
        }
    }
    out
}

/// Reads `--token-stdin`: one token a line, or `KEY=VALUE` / `export KEY=VALUE` lines read like a `.env`
/// (one token per value; `keys`, from `--key`, picks which). A whole assignment line is never searched
/// for as if it were the token.
fn read_stdin(stdin: &mut dyn BufRead, keys: &[String], out: &mut Collected) -> Result<()> {
    let mut picked = vec![false; keys.len()];
    let mut assignments = 0usize;
    let mut skipped: Vec<String> = Vec::new();
    let mut line = zeroize::Zeroizing::new(Vec::new());
    let mut n = 0usize;
    loop {
        line.clear();
        let read = stdin
            .read_until(b'\n', &mut line)
            .context("cannot read tokens from stdin")?;
        if read == 0 {
            break;
        }
        n += 1;
        let Ok(text) = std::str::from_utf8(&line) else {
            bail!("stdin line {n} is not UTF-8 text; a token is");
        };
        let trimmed = trim_token(text);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some((key, value)) = assignment(trimmed) {
            assignments += 1;
            let origin = format!("stdin line {n} ({key})");
            if keys.is_empty() {
                if value.trim().is_empty() {
                    continue;
                }
                if looks_like_secret(&value)
                    || crate::providers::identify_keyed(&key, &value).is_some()
                {
                    push_keyed(out, &value, origin, Some(&key))?;
                } else {
                    skipped.push(key);
                }
            } else if let Some(i) = keys.iter().position(|k| *k == key) {
                picked[i] = true;
                push_keyed(out, &value, origin, Some(&key))?;
            }
            continue;
        }
        if !keys.is_empty() {
            bail!(
                "--key picks among KEY=VALUE lines, but stdin line {n} is a bare token; give bare tokens without --key"
            );
        }
        push(out, trimmed, format!("stdin line {n}"))?;
    }
    for (key, found) in keys.iter().zip(&picked) {
        if !found {
            bail!("stdin has no KEY=VALUE line for {}", shown_name(key));
        }
    }
    if assignments > 0 && out.secrets.is_empty() && !skipped.is_empty() {
        bail!(
            "stdin holds KEY=VALUE lines, but no value looks like a token ({}); pick one with --key NAME",
            skipped.join(", ")
        );
    }
    if !skipped.is_empty() {
        out.warnings.push(format!(
            "stdin: {} value(s) that do not look like a token were not searched for ({}); name one with --key to search for it",
            skipped.len(),
            skipped.join(", ")
        ));
    }
    Ok(())
}

/// `KEY=VALUE` or `export KEY=VALUE` (the value as a `.env` loader reads it: quotes and comments handled),
/// or None for a line that is not an assignment. A base64 token ending in `=` padding is not one: its
/// "value" would be nothing but `=`.
fn assignment(line: &str) -> Option<(String, zeroize::Zeroizing<String>)> {
    let rest = line
        .strip_prefix("export")
        .filter(|r| r.starts_with([' ', '\t']))
        .map_or(line, str::trim_start);
    let (key, value) = rest.split_once('=')?;
    let key = key.trim_end();
    if !dotenv::is_valid_key(key) || value.trim().trim_matches('=').is_empty() {
        return None;
    }
    let parsed = dotenv::DotEnv::parse(line.as_bytes());
    let value = parsed.get(key)?.to_string();
    Some((key.to_string(), zeroize::Zeroizing::new(value)))
}

/// Surrounding ASCII whitespace (spaces, tabs, CR, LF) and a leading byte-order mark (a file's first
/// bytes): what copying a token from a file or a terminal adds around it. Anything else around a token
/// is refused by [`normalize`], not trimmed.
fn trim_token(value: &str) -> &str {
    value
        .trim_start_matches('\u{feff}')
        .trim_matches(|c: char| c.is_ascii_whitespace())
}

/// One normalization for every token source (.env, environment variables, stdin, the prompt): trims what
/// copying adds around a token, and refuses a value with anything but printable ASCII in it: every token
/// an issuer makes is ASCII in its provider's shape, so a zero-width, look-alike (Cyrillic `а`,
/// fullwidth `Ａ`), no-break-space or direction character, before, inside or after it, would make the
/// search find nothing and say "clean". Errors name the source, the character (as U+XXXX) and its
/// position, never the value.
pub fn normalize(value: &str, origin: &str) -> Result<zeroize::Zeroizing<String>> {
    let trimmed = trim_token(value);
    let Some((at, c)) = trimmed
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_graphic())
    else {
        return Ok(zeroize::Zeroizing::new(trimmed.to_string()));
    };
    let position = format!("at character {} of {}", at + 1, trimmed.chars().count());
    if c.is_ascii_whitespace() {
        bail!(
            "the token from {origin} contains whitespace ({}) inside it, {position}; a token has none. Check what was copied",
            describe_char(c)
        );
    }
    bail!(
        "the token from {origin} contains {}, {position}; a token is printable ASCII only. Retype it, or re-copy it from the issuer's page",
        describe_char(c)
    );
}

/// A character named for a message: what it is when it is a common one, always its code point.
fn describe_char(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    let name = match c {
        ' ' => "a space",
        '\t' => "a tab",
        '\r' => "a carriage return",
        '\u{a0}' => "a no-break space",
        '\u{feff}' => "a byte-order mark",
        '\u{200b}' => "a zero-width space",
        '\u{200c}' | '\u{200d}' | '\u{2060}' => "an invisible joiner",
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {
            "a text-direction control"
        }
        '\u{ff01}'..='\u{ff5e}' => "a fullwidth look-alike",
        c if c.is_control() => "a control character",
        c if !c.is_ascii() && c.is_alphanumeric() => "a non-ASCII letter (a look-alike?)",
        _ => "a non-ASCII character",
    };
    format!("{name}, {code}")
}

/// A name the user typed (a key, a variable), shown in a message: redacted when it is a token pasted in
/// the wrong place.
fn shown_name(name: &str) -> String {
    if crate::providers::identify(name).is_some() || looks_like_secret(name) {
        crate::secret::redact(name)
    } else {
        name.to_string()
    }
}

fn push(out: &mut Collected, value: &str, origin: String) -> Result<()> {
    push_keyed(out, value, origin, None)
}

/// [`push`] for a value kept under a key name (`.env`'s `WANDB_API_KEY`, `$COHERE_API_KEY`): the name
/// tells the provider of a value whose shape alone does not (see `providers::identify_keyed`).
fn push_keyed(out: &mut Collected, value: &str, origin: String, key: Option<&str>) -> Result<()> {
    let value = normalize(value, &origin)?;
    let len = value.chars().count();
    if len < Secret::MIN_LEN {
        bail!(
            "the token from {origin} has {len} characters; fewer than {} would match too much to be useful",
            Secret::MIN_LEN
        );
    }
    let mut secret = Secret::new(value.as_str(), origin);
    if let Some((_, rule)) = key.and_then(|k| crate::providers::identify_keyed(k, &value)) {
        secret = secret.with_rule(rule.id);
    }
    if out.seen.insert(secret.fingerprint()) {
        out.secrets.push(secret);
    }
    Ok(())
}

fn note_duplicates(env: &dotenv::DotEnv, path: &Path, out: &mut Collected) {
    for key in env.duplicate_keys() {
        out.warnings.push(format!(
            "{} sets {key} more than once; the last one wins (as in python-dotenv)",
            display_name(path)
        ));
    }
}

fn display_name(path: &Path) -> String {
    path.display().to_string()
}

/// Whether a `.env` value looks like a credential rather than a setting or a placeholder: long enough,
/// no spaces, varied enough, and not one of the usual stand-ins (`your_token_here`, `xxxx…`, `changeme`).
pub fn looks_like_secret(value: &str) -> bool {
    let value = value.trim();
    if value.chars().count() < 12 || value.chars().any(char::is_whitespace) {
        return false;
    }
    if is_placeholder(value) {
        return false;
    }
    // Plain URLs and paths are settings, unless they carry credentials (user:pass@host).
    if (value.contains("://") && !value.contains('@'))
        || value.starts_with('/')
        || value.starts_with("./")
    {
        return false;
    }
    crate::util::text::shannon_entropy(value) >= 3.0
}

/// Stand-ins people put where a token goes (see [`crate::providers::placeholder::is_stand_in`]).
pub fn is_placeholder(value: &str) -> bool {
    crate::providers::placeholder::is_stand_in(value)
}

/// The `.env` path a command uses: the explicit one, else `.env` at the working tree's root.
pub fn default_env_path(explicit: Option<&Path>, workdir: Option<&Path>) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| workdir.map(|w| w.join(".env")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect_stdin(input: &str, keys: &[&str]) -> Result<Collected> {
        let spec = TokenSpec {
            stdin: true,
            keys: keys.iter().map(|k| k.to_string()).collect(),
            ..TokenSpec::default()
        };
        let mut prompter = crate::prompt::NoTerminal;
        collect(
            &spec,
            &Environment::default(),
            None,
            &mut std::io::Cursor::new(input.as_bytes().to_vec()),
            &mut prompter,
            false,
        )
    }

    /// 270k tokens on stdin took over 300 s with a duplicate check that compared every pair.
    #[test]
    fn many_tokens_are_deduplicated_by_fingerprint() {
        let mut input = String::new();
        for i in 0..100_000 {
            input.push_str(&format!("tok_{i:08}_abcdefgh\n"));
        }
        let twice = input.repeat(2);
        let collected = collect_stdin(&twice, &[]).unwrap();
        assert_eq!(collected.secrets.len(), 100_000);
        assert_eq!(collected.secrets[0].origin(), "stdin line 1");
    }

    #[test]
    fn normalization_trims_and_refuses() {
        // A fake built at run time: the 26 lowercase letters and 8 capitals after `hf_`.
        let token = format!("hf_{}", ('a'..='z').chain('A'..='H').collect::<String>());
        let token = token.as_str();
        for value in [
            format!("{token} "),
            format!("\t{token}\r"),
            format!("\u{feff}{token}\n"),
        ] {
            assert_eq!(normalize(&value, "test").unwrap().as_str(), token);
        }
        for value in [
            format!("hf_AbCd {token}"),
            format!("{token}\u{200b}"),
            format!("hf_\u{feff}{token}"),
            format!("hf_\u{2060}{token}"),
        ] {
            let err = normalize(&value, "test").unwrap_err().to_string();
            assert!(!err.contains("AbCd"), "{err}");
        }
    }

    #[test]
    fn assignments_are_told_from_padded_tokens() {
        assert!(assignment("HF_TOKEN=abc").is_some());
        assert!(assignment("export HF_TOKEN=abc").is_some());
        assert!(assignment("abcdefgh==").is_none());
        assert!(assignment("abcdefgh=").is_none());
        assert!(assignment("ab+cd/efgh=").is_none());
        assert!(assignment("exportHF=abc").is_some_and(|(k, _)| k == "exportHF"));
    }

    #[test]
    fn placeholders_are_not_secrets() {
        assert!(!looks_like_secret("your_token_here"));
        assert!(!looks_like_secret(&format!("hf_{}", "x".repeat(34))));
        assert!(!looks_like_secret("changeme-please-123"));
        assert!(!looks_like_secret("https://huggingface.co"));
        assert!(!looks_like_secret("short"));
        assert!(looks_like_secret(&format!(
            "hf_{}",
            "QwErTyUiOpAsDfGhJkLzXcVbNm".repeat(2)
        )));
        assert!(looks_like_secret("postgres://user:s3cr3tPa55@db/x"));
    }
}
