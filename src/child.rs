//! Every child process unleak starts (git, git-filter-repo, the browser opener) is built here, so that
//! none inherits a token through its environment. `git` itself, hardened so that no repository's config
//! or aliases can choose a program for it to run, is [`crate::git::command::git`], built on [`command`].

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Variables named by `--token-env` / `--new-token-env` in this run (names only, never values).
static HIDDEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps the variable `name` (which holds a token) out of every child's environment.
pub fn hide_var(name: &str) {
    if let Ok(mut names) = HIDDEN.lock() {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
}

/// The variables no child may see: every provider's usual token variables, plus those hidden this run.
pub fn token_vars() -> Vec<String> {
    let mut names: Vec<String> = crate::providers::all()
        .iter()
        .flat_map(|p| p.env_vars.iter().map(|v| v.to_string()))
        .collect();
    if let Ok(hidden) = HIDDEN.lock() {
        names.extend(hidden.iter().cloned());
    }
    names.sort();
    names.dedup();
    names
}

/// `program` with the token variables removed from its environment, stdin closed, run from `/` (so no
/// repository around the current directory is read by accident; callers set another directory on purpose).
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for name in token_vars() {
        cmd.env_remove(name);
    }
    cmd.stdin(Stdio::null()).current_dir("/");
    cmd
}

/// The first executable file called `name` in an absolute `PATH` entry (a relative entry such as `.`
/// would find a program the repository supplies).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// A regular file with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
