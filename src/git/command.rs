//! The `git` and `git-filter-repo` programs, for what libgit2 lacks or does differently from the user's
//! git: `clone --mirror`, `check-ignore`, `status`/`commit` in the work tree, and filter-repo detection.
//! Every one is built by the run's `child::Spawner` (no token variables) with config no repository can
//! override.

use crate::child::{self, Spawner};
use std::path::PathBuf;
use std::process::Command;

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
    "core.editor=:",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "protocol.ext.allow=never",
    "protocol.fd.allow=never",
];

/// Config keys a repository's own files may set to make git run a program, beyond what
/// [`GIT_HARDENING`] fixes: filter drivers (a `.gitattributes` in the tree picks them by name, so they
/// are found, not guessed), credential helpers, ssh and proxy commands, upload-pack and receive-pack,
/// signing and diff programs. [`git_in`] overrides each one set in local or worktree scope.
const REPO_PROGRAM_KEYS: &str = r"^(filter\..+\.(clean|smudge|process|required)|credential\.(.+\.)?helper|core\.(sshcommand|askpass|gitproxy)|remote\..+\.(uploadpack|receivepack)|gpg\.(.+\.)?program|diff\..+\.(textconv|command)|diff\.external)$";

/// Transports git may use: `ext::` (runs a command) and `fd::` (waits on a descriptor) are left out.
pub(crate) const GIT_PROTOCOLS: &str = "file:git:http:https:ssh";

/// `git` with a scrubbed environment and hardened config: no system config, no pager, no terminal
/// prompt, no `ext::`/`fd::` transports, no fsmonitor or hooks. Add arguments after these.
pub(crate) fn git(spawner: &Spawner) -> Command {
    let mut cmd = spawner.command("git");
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

/// [`git`] run in `workdir` (`-C`), with every program-choosing key the repository's own config sets
/// (see [`REPO_PROGRAM_KEYS`]) overridden through `GIT_CONFIG_COUNT` (names and values passed as data,
/// whatever they hold): for `status`, `add` and `commit` in a work tree, which run clean filters.
pub(crate) fn git_in(workdir: &std::path::Path, spawner: &Spawner) -> Command {
    let mut cmd = git(spawner);
    cmd.arg("-C").arg(workdir);
    let listed = git(spawner)
        .arg("-C")
        .arg(workdir)
        .args([
            "config",
            "--show-scope",
            "--null",
            "--name-only",
            "--get-regexp",
        ])
        .arg(REPO_PROGRAM_KEYS)
        .output();
    let mut overrides: Vec<(String, &str)> = Vec::new();
    if let Ok(out) = listed {
        let fields: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        for pair in fields.chunks_exact(2) {
            let (scope, key) = (pair[0], String::from_utf8_lossy(pair[1]).into_owned());
            if matches!(scope, b"global" | b"system" | b"command") {
                continue;
            }
            let value = if key.ends_with(".required") {
                "false"
            } else if key.ends_with(".uploadpack") {
                "git-upload-pack"
            } else if key.ends_with(".receivepack") {
                "git-receive-pack"
            } else if key == "core.gitproxy" {
                "none"
            } else {
                ""
            };
            overrides.push((key, value));
        }
    }
    cmd.env("GIT_CONFIG_COUNT", overrides.len().to_string());
    for (i, (key, value)) in overrides.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{i}"), key)
            .env(format!("GIT_CONFIG_VALUE_{i}"), value);
    }
    cmd
}

/// `git-filter-repo`, looked up on PATH, else in git's own exec-path; never through `git filter-repo`,
/// which would run a repository's `alias.filter-repo` when the tool is missing.
pub(crate) fn find_filter_repo(spawner: &Spawner) -> Option<PathBuf> {
    if let Some(found) = spawner.find_on_path("git-filter-repo") {
        return Some(found);
    }
    let out = git(spawner).arg("--exec-path").output().ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let candidate = dir.join("git-filter-repo");
    (dir.is_absolute() && child::is_executable(&candidate)).then_some(candidate)
}

/// Whether git-filter-repo is installed, and whether it knows `--sensitive-data-removal` (2.47+).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterRepoSupport {
    /// Not found on PATH nor in git's exec-path (or `-h` failed): the plan's first step installs it.
    Missing,
    /// Found, and `-h` answered.
    Present {
        /// Its `-h` lists `--sensitive-data-removal`.
        sensitive_data_removal: bool,
    },
}

impl FilterRepoSupport {
    /// Whether the plan passes `--sensitive-data-removal`: when the tool has it, and when it is missing
    /// (the plan installs a current release, and the script's preflight checks the flag).
    pub(crate) fn sdr(self) -> bool {
        // A missing tool gets installed from PyPI by the plan's first step, which installs a current
        // release: plan for the flag, and let the script's preflight check it.
        matches!(
            self,
            FilterRepoSupport::Missing
                | FilterRepoSupport::Present {
                    sensitive_data_removal: true
                }
        )
    }
}

/// Asks the installed git-filter-repo (`git-filter-repo -h`, no network) what it supports. Its
/// `--version` prints a commit hash, not a number, so the help text is the only reliable feature test.
/// The program is found on PATH by unleak and run outside the repository: `git filter-repo` would run
/// a repository's `alias.filter-repo` when the tool is missing.
pub(crate) fn detect_filter_repo(spawner: &Spawner) -> FilterRepoSupport {
    let Some(program) = find_filter_repo(spawner) else {
        return FilterRepoSupport::Missing;
    };
    let output = spawner.command(program).arg("-h").output();
    match output {
        Ok(out) if out.status.success() => FilterRepoSupport::Present {
            sensitive_data_removal: help_lists_sdr(&String::from_utf8_lossy(&out.stdout)),
        },
        _ => FilterRepoSupport::Missing,
    }
}

/// Whether `git filter-repo -h` output lists `--sensitive-data-removal`.
pub fn help_lists_sdr(help: &str) -> bool {
    help.contains("--sensitive-data-removal")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::path::Path;

    #[test]
    fn children_lose_token_variables() {
        let mut spawner = Spawner::new(&crate::environment::Environment::default());
        spawner.hide("MY_UNLEAK_TEST_VAR");
        let cmd = git(&spawner);
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

    #[test]
    fn help_text_detection() {
        assert!(help_lists_sdr("  --sensitive-data-removal, --sdr\n"));
        assert!(!help_lists_sdr("  --replace-text EXPRESSIONS_FILE\n"));
    }
}
