//! Collects the tokens to search for from the sources the user named: a `.env` key, an environment
//! variable, stdin, or a hidden prompt. Never from a command-line argument, so no token reaches shell
//! history or `ps`.

use crate::config::TokenSpec;
use crate::dotenv;
use crate::prompt::Prompter;
use crate::secret::Secret;
use anyhow::{bail, Context, Result};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The key read when the user names none.
pub const DEFAULT_KEY: &str = "HF_TOKEN";

/// Tokens found, plus notes for the user (e.g. a duplicated key in `.env`).
#[derive(Debug, Default)]
pub struct Collected {
    pub secrets: Vec<Secret>,
    pub warnings: Vec<String>,
}

/// Reads every token the spec names. `workdir` is the repository's working tree root (None when bare);
/// `stdin` is the reader for `--token-stdin`.
pub fn collect(
    spec: &TokenSpec,
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
            if let Some(value) = env.get(DEFAULT_KEY).filter(|v| !v.is_empty()) {
                push(
                    &mut out,
                    Secret::new(value, format!("{}:{DEFAULT_KEY}", display_name(path))),
                )?;
                return Ok(out);
            }
        }
        if let Some(value) = crate::secret::env_var(DEFAULT_KEY).filter(|v| !v.is_empty()) {
            push(
                &mut out,
                Secret::new(value.as_str(), format!("${DEFAULT_KEY}")),
            )?;
            return Ok(out);
        }
        if interactive {
            let secret = prompter.secret(
                "Token to search for (input hidden)",
                false,
                "--token-stdin or --token-env NAME",
            )?;
            push(&mut out, secret)?;
            return Ok(out);
        }
        bail!(
            "no token to search for: no {DEFAULT_KEY} in {} nor in the environment, and no terminal to ask on; \
             use --env-file PATH --key NAME, --token-env NAME, --token-stdin or --all-keys",
            env_path.as_deref().map_or_else(|| ".env".to_string(), display_name)
        );
    }

    if !spec.keys.is_empty() || spec.all_keys || spec.env_file.is_some() {
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
            match env.get(key).filter(|v| !v.is_empty()) {
                Some(value) => push(
                    &mut out,
                    Secret::new(value, format!("{}:{key}", display_name(&path))),
                )?,
                None => bail!("{} has no value for {key}", display_name(&path)),
            }
        }
        if spec.all_keys {
            for (key, value) in env.entries() {
                // Every value of the file passes through here, secrets or not: wiped when dropped.
                let value = zeroize::Zeroizing::new(value);
                if !keys.contains(&key) && looks_like_secret(&value) {
                    push(
                        &mut out,
                        Secret::new(value.as_str(), format!("{}:{key}", display_name(&path))),
                    )?;
                }
            }
        }
    }
    if let Some(name) = &spec.token_env {
        let value = crate::secret::env_var(name)
            .filter(|v| !v.is_empty())
            .with_context(|| format!("environment variable {name} is not set"))?;
        push(&mut out, Secret::new(value.as_str(), format!("${name}")))?;
    }
    if spec.stdin {
        for (n, line) in stdin.lines().enumerate() {
            let line = zeroize::Zeroizing::new(line.context("cannot read tokens from stdin")?);
            let value = line.trim();
            if !value.is_empty() {
                push(
                    &mut out,
                    Secret::new(value, format!("stdin line {}", n + 1)),
                )?;
            }
        }
    }
    if out.secrets.is_empty() {
        bail!("the named sources held no token to search for");
    }
    Ok(out)
}

fn push(out: &mut Collected, secret: Secret) -> Result<()> {
    let len = secret.expose().chars().count();
    if len < Secret::MIN_LEN {
        bail!(
            "the token from {} has {len} characters; fewer than {} would match too much to be useful",
            secret.origin(),
            Secret::MIN_LEN
        );
    }
    if !out.secrets.contains(&secret) {
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
    shannon_entropy(value) >= 3.0
}

/// Stand-ins people put where a token goes.
pub fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "your",
        "token_here",
        "changeme",
        "change_me",
        "placeholder",
        "example",
        "dummy",
        "redacted",
        "removed",
        "insert",
        "replace",
        "<",
        "${",
        "todo",
        "xxxx",
        "****",
        "....",
        "0000",
    ];
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    let distinct: std::collections::HashSet<char> = value.chars().collect();
    distinct.len() < 6
}

/// Whether the random part of a token a provider pattern matched (what follows the fixed prefix, such as
/// the 34 letters after `hf_`) is a stand-in rather than a real token: a long stand-in word, a run of one
/// character, or too little variety.
///
/// Stricter than [`is_placeholder`] about what counts: a real token's random part contains a short word
/// such as `your` or `todo` by chance often enough that only words of five letters or more count. Runs
/// count in token-sized bodies only (key material has real ones: OpenSSH keys hold `AAAAAAAA`), and the
/// entropy bar is lower for short bodies, whose entropy cannot be high (16 random characters of an AWS
/// key id fall below 3 bits one time in five hundred, below 2.5 practically never).
pub fn is_placeholder_body(body: &str) -> bool {
    const WORDS: &[&str] = &[
        "example",
        "placeholder",
        "changeme",
        "change_me",
        "redacted",
        "dummy",
        "your_",
        "yourtoken",
        "yourkey",
        "token_here",
        "tokenhere",
        "insert",
        "replace",
        "sample",
    ];
    /// Eight of one character in a row: about one chance in ten million for a random token of
    /// letters, but the whole of `xxxxxxxx`, `00000000`, `********` and `........`.
    const RUN: usize = 8;
    let lower = body.to_ascii_lowercase();
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    /// Bodies longer than this are key material, not tokens: runs are no sign there.
    const TOKEN_SIZED: usize = 128;
    let bytes = body.as_bytes();
    if bytes.len() <= TOKEN_SIZED {
        let mut run = 1;
        for pair in bytes.windows(2) {
            run = if pair[0] == pair[1] { run + 1 } else { 1 };
            if run >= RUN {
                return true;
            }
        }
    }
    let distinct: std::collections::HashSet<u8> = bytes.iter().copied().collect();
    let bar = ((bytes.len().max(2) as f64).log2() - 1.5).min(3.0);
    distinct.len() < 6 || shannon_entropy(body) < bar
}

/// Bits per character of the value's own character distribution.
pub fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
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

    #[test]
    fn placeholder_bodies() {
        for body in [
            "x".repeat(34),
            "Ab".repeat(17),
            "0".repeat(16),
            format!("IOSFODNN7{}", "EXAMPLE"),
            "your_token_here_please_1234".to_string(),
            "abc".repeat(12),
            format!("Qw3rTy{}Ui0p", "*".repeat(10)),
        ] {
            assert!(is_placeholder_body(&body), "{body}");
        }
        for body in [
            "AbCdEfGhIj".repeat(3) + "Klmn",
            "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi".to_string(),
            "K7PQ2ZXM4TBA9WRC".to_string(),
            // Low for 16 characters, but random ones come out this way.
            "K7PQK7PQK7PQ2ZXM".to_string(),
            // OpenSSH key material has runs of `A`.
            format!(
                "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAA{}",
                "Zx9/Qk3+Lm2Wp7Rt".repeat(8)
            ),
            // Short stand-in words occur in real tokens by chance.
            "QwErTyourUiOpAsDfGhJkLzXcVbNmtodo".to_string(),
        ] {
            assert!(!is_placeholder_body(&body), "{body}");
        }
    }
}
