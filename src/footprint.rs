//! Where an old token survives outside git history on this machine: a remote URL with credentials in
//! the repository's config, files git ignores in the work tree (a notebook checkpoint), git's
//! credential store, `~/.netrc`, the Hugging Face token files, shell history. Each copy is named (never the token) with its fix. Only reads: regular files, at most
//! [`MAX_BYTES`] of each, so a huge or special file costs nothing and changes nothing.

use crate::git::Repo;
use crate::matching::exact::Matcher;
use crate::model::{LocalCopy, SecretRef};
use crate::secret::Secret;
use crate::util::shell::quote;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The most read of any one file (a long shell history is a few MiB).
pub const MAX_BYTES: u64 = 64 << 20;

/// The ignored files of the work tree looked at, at most, and how much of each.
const MAX_IGNORED_FILES: usize = 5_000;
const MAX_IGNORED_BYTES: u64 = 8 << 20;

/// The files outside the repository to look in, resolved once from the environment (`HOME`,
/// `XDG_CONFIG_HOME`, `HF_HOME`, `HF_TOKEN_PATH`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Places {
    /// (file, what it is, the fix with `{path}` for the file)
    files: Vec<(PathBuf, Kind)>,
}

/// What kind of file holds a copy: it decides the words and the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    GitCredentials,
    Netrc,
    HfTokenFile,
    HfStoredTokens,
    ShellHistory,
}

impl Places {
    /// The usual places for this environment.
    pub fn from_env(env: &crate::environment::Environment) -> Places {
        let home = env.get("HOME").map(PathBuf::from);
        let xdg_config = env
            .get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".config")));
        let mut files = Vec::new();
        if let Some(home) = &home {
            files.push((home.join(".git-credentials"), Kind::GitCredentials));
        }
        if let Some(config) = &xdg_config {
            files.push((config.join("git").join("credentials"), Kind::GitCredentials));
        }
        if let Some(home) = &home {
            files.push((home.join(".netrc"), Kind::Netrc));
        }
        if let Some(file) = env.hf_token_file() {
            files.push((file, Kind::HfTokenFile));
        }
        if let Some(hf_home) = env.hf_home() {
            files.push((hf_home.join("stored_tokens"), Kind::HfStoredTokens));
        }
        if let Some(home) = &home {
            for name in [
                ".bash_history",
                ".zsh_history",
                ".local/share/fish/fish_history",
            ] {
                files.push((home.join(name), Kind::ShellHistory));
            }
        }
        files.dedup_by(|a, b| a.0 == b.0);
        Places { files }
    }
}

/// Every copy of `secrets` in the repository's remote URLs and config, and in the files of `places`.
/// Unreadable or missing files are skipped: this only adds warnings.
pub fn find(repo: &Repo, secrets: &[Secret], places: &Places) -> Vec<LocalCopy> {
    if secrets.is_empty() {
        return Vec::new();
    }
    let matcher = Matcher::new(secrets);
    let holds = |bytes: &[u8]| -> Vec<usize> {
        let mut hits = Vec::new();
        matcher.find_all(bytes, &mut hits);
        let mut found: Vec<usize> = hits
            .iter()
            .map(|h| matcher.needle(h.needle).secret)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    };
    let mut out = Vec::new();
    let config = repo.common_dir().join("config");
    let shown_config = shown_path(repo, &config);
    let mut in_urls = Vec::new();
    for (name, push, url) in repo.remote_urls_unmasked() {
        for i in holds(url.as_bytes()) {
            in_urls.push(i);
            let stripped = crate::git::remote::strip_url_credentials(&url);
            let fix = if holds(stripped.as_bytes()).is_empty() {
                format!(
                    "git remote set-url{} {} {}   # git then asks for the new token, or a credential helper gives it",
                    if push { " --push" } else { "" },
                    quote(&name),
                    quote(&stripped)
                )
            } else {
                format!(
                    "git remote set-url{} {} URL   # the URL without the token",
                    if push { " --push" } else { "" },
                    quote(&name)
                )
            };
            out.push(copy(
                &secrets[i],
                format!("remote {name}'s {}URL", if push { "push " } else { "" }),
                &shown_config,
                true,
                fix,
            ));
        }
    }
    // Anything else in the config (an http.extraHeader with a bearer token, say).
    if let Some(bytes) = read_bounded(&config) {
        for i in holds(&bytes) {
            if !in_urls.contains(&i) {
                out.push(copy(
                    &secrets[i],
                    "the repository's git config".into(),
                    &shown_config,
                    true,
                    "git config --edit   # delete the setting that holds it (an http.extraHeader?)"
                        .into(),
                ));
            }
        }
    }
    // Files git ignores in the work tree: never committed, still on disk (a notebook checkpoint). The
    // file a token was read from is where it is meant to be, not a copy.
    let sources: Vec<PathBuf> = secrets
        .iter()
        .filter_map(|s| {
            s.origin()
                .rsplit_once(':')
                .map(|(file, _)| PathBuf::from(file))
        })
        .collect();
    for path in repo.ignored_files(MAX_IGNORED_FILES) {
        if sources.contains(&path) {
            continue;
        }
        let Some(bytes) = read_bounded_to(&path, MAX_IGNORED_BYTES) else {
            continue;
        };
        for i in holds(&bytes) {
            let shown = shown_path(repo, &path);
            let fix = if crate::dotenv::is_env_path(&shown) {
                "put the new token in it: `unleak respond` does (step 5), or `unleak setup`".into()
            } else {
                format!(
                    "delete it (rm {}), or replace the token in it: git never commits it, but it stays on disk and in backups",
                    quote(&shown)
                )
            };
            out.push(copy(
                &secrets[i],
                "a file git ignores in the work tree".into(),
                &shown,
                true,
                fix,
            ));
        }
    }
    for (path, kind) in &places.files {
        let Some(bytes) = read_bounded(path) else {
            continue;
        };
        for i in holds(&bytes) {
            let shown = path.display().to_string();
            let (place, fix) = describe(*kind, &shown, &secrets[i]);
            out.push(copy(&secrets[i], place, &shown, false, fix));
        }
    }
    scrubbed(out, &matcher, secrets)
}

/// The words and the fix for a copy in a file outside the repository.
fn describe(kind: Kind, path: &str, secret: &Secret) -> (String, String) {
    let file = quote(path);
    match kind {
        Kind::GitCredentials => (
            "git's credential store".into(),
            format!("delete the line that holds it from {file}; git stores the new token at your next push"),
        ),
        Kind::Netrc => (
            "a .netrc file".into(),
            format!("replace the token on its `machine` line in {file} with the new one, or delete the line"),
        ),
        Kind::HfTokenFile => (
            "the Hugging Face token file".into(),
            format!("`hf auth login` with the new token (it replaces {file}), or delete {file}"),
        ),
        Kind::HfStoredTokens => (
            "Hugging Face's stored tokens".into(),
            format!("`hf auth logout --token-name NAME` for the entry that holds it, or delete its section from {file}"),
        ),
        Kind::ShellHistory => {
            let redacted = secret.redacted();
            let start = redacted.split('…').next().unwrap_or_default();
            (
                "shell history".into(),
                format!(
                    "delete the lines that hold it from {file} (find them: grep -n {} {file}); in open shells, `history -c` clears what they keep in memory",
                    quote(start)
                ),
            )
        }
    }
}

fn copy(secret: &Secret, place: String, path: &str, inside: bool, fix: String) -> LocalCopy {
    LocalCopy {
        secret: SecretRef {
            redacted: secret.redacted(),
            fingerprint: secret.fingerprint(),
        },
        place,
        path: path.to_string(),
        inside_repository: inside,
        fix,
    }
}

/// The copies with any of `secrets` in their words (a remote or file named after the token) redacted.
fn scrubbed(copies: Vec<LocalCopy>, matcher: &Matcher, secrets: &[Secret]) -> Vec<LocalCopy> {
    let scrub = |text: String| crate::scan::findings::scrub_text(matcher, secrets, text);
    copies
        .into_iter()
        .map(|c| LocalCopy {
            place: scrub(c.place),
            path: scrub(c.path),
            fix: scrub(c.fix),
            ..c
        })
        .collect()
}

/// `.git/config` relative to the work tree when it is inside it, else the full path.
fn shown_path(repo: &Repo, path: &Path) -> String {
    repo.workdir
        .as_deref()
        .and_then(|w| path.strip_prefix(w).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The first [`MAX_BYTES`] of `path` when it is a regular file (a symlink to one counts); None for a
/// missing file, a directory, a FIFO or a device, and on any read error.
fn read_bounded(path: &Path) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    read_bounded_to(path, MAX_BYTES)
}

/// [`read_bounded`] with its own cap.
fn read_bounded_to(path: &Path, cap: u64) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    file.take(cap).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// A remote URL that holds a token, and the same URL without its credentials (which holds none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFix {
    /// The remote's name.
    pub name: String,
    /// The name as shown: a token in it redacted.
    pub shown_name: String,
    /// The push URL (`remote.NAME.pushurl`), not the fetch URL.
    pub push: bool,
    /// The URL with its credentials removed: safe to show and to store.
    pub url: String,
}

impl RemoteFix {
    /// The command that does it, to show or to run by hand. A remote named after the token shows its
    /// redaction (see [`remote_fixes`]).
    pub fn command(&self) -> String {
        format!(
            "git remote set-url{} {} {}",
            if self.push { " --push" } else { "" },
            quote(&self.shown_name),
            quote(&self.url)
        )
    }
}

/// The remote URLs of `repo` that hold one of `secrets` and are clean once their credentials are
/// removed: what `respond` offers to fix.
pub fn remote_fixes(repo: &Repo, secrets: &[Secret]) -> Vec<RemoteFix> {
    if secrets.is_empty() {
        return Vec::new();
    }
    let matcher = Matcher::new(secrets);
    repo.remote_urls_unmasked()
        .into_iter()
        .filter(|(_, _, url)| matcher.is_match(url.as_bytes()))
        .map(|(name, push, url)| RemoteFix {
            shown_name: crate::scan::findings::scrub_text(&matcher, secrets, name.clone()),
            name,
            push,
            url: crate::git::remote::strip_url_credentials(&url),
        })
        .filter(|fix| !matcher.is_match(fix.url.as_bytes()))
        .collect()
}

/// Sets the remote's URL to the one without credentials.
pub fn apply(repo: &Repo, fix: &RemoteFix) -> anyhow::Result<()> {
    repo.set_remote_url(&fix.name, fix.push, &fix.url)
        .map_err(|err| anyhow::anyhow!("{}: {err}", fix.command()))
}

#[cfg(test)]
mod tests {
    use super::{Kind, Places};
    use crate::environment::Environment;
    use std::path::PathBuf;

    fn credential_files(pairs: &[(&str, &str)]) -> Vec<PathBuf> {
        let env =
            Environment::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Places::from_env(&env)
            .files
            .into_iter()
            .filter(|(_, kind)| *kind == Kind::GitCredentials)
            .map(|(path, _)| path)
            .collect()
    }

    /// The places come from the environment given: git's XDG credential file follows `XDG_CONFIG_HOME`.
    #[test]
    fn git_credentials_follow_the_given_environment() {
        assert_eq!(
            credential_files(&[("HOME", "/h")]),
            [
                PathBuf::from("/h/.git-credentials"),
                PathBuf::from("/h/.config/git/credentials")
            ]
        );
        assert_eq!(
            credential_files(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")]),
            [
                PathBuf::from("/h/.git-credentials"),
                PathBuf::from("/x/git/credentials")
            ]
        );
        assert!(credential_files(&[]).is_empty());
    }
}
