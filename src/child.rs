//! Every child process unleak starts (git, git-filter-repo, the browser opener) is built here, by a
//! [`Spawner`] value, so that none inherits a token through its environment. `git` itself, hardened so
//! that no repository's config or aliases can choose a program for it to run, is
//! [`crate::git::command::git`], built on [`Spawner::command`].

use crate::environment::Environment;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How this run builds child processes: the variables none may inherit (every provider's usual token
/// variables, plus those `--token-env` / `--new-token-env` name: names only, never values) and the
/// `PATH` programs are looked up on. Built by `config` from the [`Environment`], then passed to whatever
/// starts a program.
#[derive(Debug, Clone)]
pub struct Spawner {
    hidden: Vec<String>,
    path: Option<OsString>,
}

impl Spawner {
    /// Every provider's token variables hidden, programs found on `env`'s `PATH`.
    pub fn new(env: &Environment) -> Spawner {
        let mut hidden: Vec<String> = crate::providers::all()
            .iter()
            .flat_map(|p| p.env_vars.iter().map(|v| v.to_string()))
            .collect();
        hidden.sort();
        hidden.dedup();
        Spawner {
            hidden,
            path: env.var_os("PATH").map(OsStr::to_os_string),
        }
    }

    /// Keeps the variable `name` (which holds a token) out of every child's environment.
    pub fn hide(&mut self, name: &str) {
        if let Err(at) = self.hidden.binary_search_by(|n| n.as_str().cmp(name)) {
            self.hidden.insert(at, name.to_string());
        }
    }

    /// The variables no child may see, sorted.
    pub fn hidden(&self) -> &[String] {
        &self.hidden
    }

    /// `program` with the token variables removed from its environment, stdin closed, run from `/` (so
    /// no repository around the current directory is read by accident; callers set another directory
    /// on purpose).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        for name in &self.hidden {
            cmd.env_remove(name);
        }
        cmd.stdin(Stdio::null()).current_dir("/");
        cmd
    }

    /// The first executable file called `name` in an absolute `PATH` entry (a relative entry such as
    /// `.` would find a program the repository supplies).
    pub fn find_on_path(&self, name: &str) -> Option<PathBuf> {
        std::env::split_paths(self.path.as_ref()?)
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate))
    }
}

/// A regular file with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::Spawner;
    use crate::environment::Environment;

    fn removed(spawner: &Spawner) -> Vec<String> {
        spawner
            .command("true")
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect()
    }

    /// The hidden variables are a value: two spawners in one process hide what each was told.
    #[test]
    fn each_spawner_hides_its_own_variables() {
        let env = Environment::default();
        let mut one = Spawner::new(&env);
        let two = Spawner::new(&env);
        one.hide("MY_UNLEAK_TEST_VAR");
        one.hide("MY_UNLEAK_TEST_VAR");
        assert!(removed(&one).iter().any(|n| n == "MY_UNLEAK_TEST_VAR"));
        assert!(!removed(&two).iter().any(|n| n == "MY_UNLEAK_TEST_VAR"));
        assert_eq!(removed(&one).len(), removed(&two).len() + 1);
        for spawner in [&one, &two] {
            assert!(removed(spawner).iter().any(|n| n == "HF_TOKEN"));
        }
    }

    #[test]
    fn programs_are_found_on_the_given_path_only() {
        let env = |path: &str| Environment::from_pairs([("PATH".to_string(), path.to_string())]);
        assert!(Spawner::new(&env("/bin:/usr/bin"))
            .find_on_path("sh")
            .is_some());
        assert_eq!(Spawner::new(&env("relative/bin")).find_on_path("sh"), None);
        assert_eq!(
            Spawner::new(&Environment::default()).find_on_path("sh"),
            None
        );
    }
}
