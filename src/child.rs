//! Every child process unleak starts (git, git-filter-repo, the browser opener) is built here, so that
//! none inherits a token through its environment, and no repository's config or aliases can choose a
//! program for git to run.

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

/// Variables that would point git at another repository, index or object store than the one named.
const GIT_LOCATION_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CONFIG",
];

/// Config that no repository may override into running a program (given on the command line, which
/// wins over every config file).
const GIT_HARDENING: &[&str] = &[
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "protocol.ext.allow=never",
    "protocol.fd.allow=never",
];

/// Transports git may use: `ext::` (runs a command) and `fd::` (waits on a descriptor) are left out.
pub const GIT_PROTOCOLS: &str = "file:git:http:https:ssh";

/// `git` with a scrubbed environment and hardened config: no system config, no pager, no terminal
/// prompt, no `ext::`/`fd::` transports, no fsmonitor or hooks. Add arguments after these.
pub fn git() -> Command {
    let mut cmd = command("git");
    for name in GIT_LOCATION_VARS {
        cmd.env_remove(name);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .env("PAGER", "cat")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_ALLOW_PROTOCOL", GIT_PROTOCOLS);
    for setting in GIT_HARDENING {
        cmd.args(["-c", setting]);
    }
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

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `git-filter-repo`, looked up on PATH, else in git's own exec-path; never through `git filter-repo`,
/// which would run a repository's `alias.filter-repo` when the tool is missing.
pub fn find_filter_repo() -> Option<PathBuf> {
    if let Some(found) = find_on_path("git-filter-repo") {
        return Some(found);
    }
    let out = git().arg("--exec-path").output().ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let candidate = dir.join("git-filter-repo");
    (dir.is_absolute() && is_executable(&candidate)).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_lose_token_variables() {
        hide_var("MY_UNLEAK_TEST_VAR");
        let cmd = git();
        let removed: Vec<String> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for name in [
            "HF_TOKEN",
            "HUGGING_FACE_HUB_TOKEN",
            "MY_UNLEAK_TEST_VAR",
            "GIT_DIR",
        ] {
            assert!(removed.iter().any(|r| r == name), "{name} not removed");
        }
        let args: Vec<_> = cmd.get_args().collect();
        assert!(args.contains(&OsStr::new("core.fsmonitor=false")));
        assert_eq!(cmd.get_current_dir(), Some(Path::new("/")));
    }
}
