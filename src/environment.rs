//! The process environment, read once: every variable and the current directory, captured when a
//! command's configuration is resolved (`config::Globals::resolve`) and passed down as a value. Nothing
//! else reads `std::env`, so a test builds the environment it means by hand ([`Environment::from_pairs`]).
//! Values may be tokens (`HF_TOKEN`, a `--token-env` variable): they are held in memory wiped on drop,
//! and `Debug` shows names only.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The variables (last one wins for a repeated name) and the current directory.
#[derive(Clone)]
pub struct Environment {
    vars: Vec<(String, Zeroizing<Vec<u8>>)>,
    /// The current directory, or why it could not be read (kept as its kind and text: the error is
    /// reported only by a command that needs the directory).
    cwd: Result<PathBuf, (std::io::ErrorKind, String)>,
}

impl Default for Environment {
    /// No variables, and no current directory.
    fn default() -> Environment {
        Environment {
            vars: Vec::new(),
            cwd: Err((
                std::io::ErrorKind::NotFound,
                "no current directory was given".to_string(),
            )),
        }
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.vars.iter().map(|(k, _)| k))
            .finish()
    }
}

impl Environment {
    /// This process's variables and current directory: the one read of `std::env`. Variables whose
    /// name is not UTF-8 are left out (every name unleak reads is ASCII).
    pub fn from_process() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(name, value)| {
                    Some((name.into_string().ok()?, Zeroizing::new(value.into_vec())))
                })
                .collect(),
            cwd: std::env::current_dir().map_err(|e| (e.kind(), e.to_string())),
        }
    }

    /// An environment of these variables and no current directory (see [`Environment::with_current_dir`]).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Environment {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k, Zeroizing::new(v.into_bytes())))
                .collect(),
            ..Environment::default()
        }
    }

    /// The same variables, with `dir` as the current directory.
    pub fn with_current_dir(mut self, dir: PathBuf) -> Environment {
        self.cwd = Ok(dir);
        self
    }

    /// The variable as bytes of the platform (`std::env::var_os`): set, perhaps empty.
    pub fn var_os(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| OsStr::from_bytes(v))
    }

    /// The variable as text (`std::env::var(..).ok()`): set, perhaps empty; None when unset or not UTF-8.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.var_os(name).and_then(OsStr::to_str)
    }

    /// The variable as text, when it is set to something (an empty value counts as unset).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.var(name).filter(|v| !v.is_empty())
    }

    /// A variable that may hold a token, copied into memory wiped on drop.
    pub fn secret(&self, name: &str) -> Option<Zeroizing<String>> {
        self.var(name).map(|v| Zeroizing::new(v.to_string()))
    }

    /// The current directory, or the error reading it gave.
    pub fn current_dir(&self) -> anyhow::Result<PathBuf> {
        use anyhow::Context;
        self.cwd
            .clone()
            .map_err(|(kind, text)| std::io::Error::new(kind, text))
            .context("cannot read the current directory")
    }

    /// huggingface_hub's token file: `$HF_TOKEN_PATH`, else `$HF_HOME/token`, where `HF_HOME` defaults to
    /// `$XDG_CACHE_HOME/huggingface`, itself defaulting to `~/.cache/huggingface`.
    pub fn hf_token_file(&self) -> Option<PathBuf> {
        if let Some(path) = self.get("HF_TOKEN_PATH") {
            return Some(self.expand_home(path));
        }
        Some(self.hf_home()?.join("token"))
    }

    /// huggingface_hub's home (`$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`).
    pub(crate) fn hf_home(&self) -> Option<PathBuf> {
        if let Some(home) = self.get("HF_HOME") {
            return Some(self.expand_home(home));
        }
        let cache = match self.get("XDG_CACHE_HOME") {
            Some(cache) => self.expand_home(cache),
            None => PathBuf::from(self.get("HOME")?).join(".cache"),
        };
        Some(cache.join("huggingface"))
    }

    fn expand_home(&self, path: &str) -> PathBuf {
        match (path.strip_prefix("~/"), self.get("HOME")) {
            (Some(rest), Some(home)) => Path::new(home).join(rest),
            _ => PathBuf::from(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Environment;
    use std::path::PathBuf;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn set_empty_and_unset_are_told_apart() {
        let env = env(&[("A", ""), ("B", "x"), ("B", "y")]);
        assert_eq!(env.var("A"), Some(""));
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), Some("y"), "the last value of a name wins");
        assert_eq!(env.var("C"), None);
        assert_eq!(env.secret("B").as_deref().map(String::as_str), Some("y"));
    }

    #[test]
    fn debug_shows_names_only() {
        let shown = format!("{:?}", env(&[("HF_TOKEN", "a-value-never-shown")]));
        assert!(shown.contains("HF_TOKEN") && !shown.contains("a-value-never-shown"));
    }

    #[test]
    fn the_current_directory_is_given_or_an_error() {
        assert_eq!(
            env(&[]).current_dir().unwrap_err().to_string(),
            "cannot read the current directory"
        );
        let dir = PathBuf::from("/somewhere");
        assert_eq!(
            env(&[])
                .with_current_dir(dir.clone())
                .current_dir()
                .unwrap(),
            dir
        );
    }

    #[test]
    fn hf_token_file_follows_huggingface_hub() {
        assert_eq!(
            env(&[("HOME", "/h")]).hf_token_file(),
            Some(PathBuf::from("/h/.cache/huggingface/token"))
        );
        assert_eq!(
            env(&[("HOME", "/h"), ("XDG_CACHE_HOME", "/c")]).hf_token_file(),
            Some(PathBuf::from("/c/huggingface/token"))
        );
        assert_eq!(
            env(&[("HOME", "/h"), ("HF_HOME", "~/hf")]).hf_token_file(),
            Some(PathBuf::from("/h/hf/token"))
        );
        assert_eq!(
            env(&[("HF_HOME", "/x"), ("HF_TOKEN_PATH", "/t")]).hf_token_file(),
            Some(PathBuf::from("/t"))
        );
        assert_eq!(env(&[]).hf_token_file(), None);
    }
}
