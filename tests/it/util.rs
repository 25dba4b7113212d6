//! Test helpers: throwaway repositories with fixed authors and dates, generated fake tokens, and a runner
//! for the real binary that checks a secret never appears in its output.

#![allow(dead_code)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

/// Random letters from the std hasher's random keys (no RNG crate needed; tokens only need to be unique).
pub fn random_letters(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(n);
    let mut state = RandomState::new().build_hasher();
    for i in 0..n {
        state.write_usize(i);
        out.push(ALPHABET[(state.finish() % ALPHABET.len() as u64) as usize] as char);
    }
    out
}

/// A fresh fake Hugging Face user token (`hf_` + 34 letters), different on every call.
pub fn fake_hf_token() -> String {
    format!("hf_{}", random_letters(34))
}

/// The environment every git and unleak process in tests runs with: no user or system config, fixed
/// identities, and no token inherited from the developer's shell.
pub fn scrub(cmd: &mut Command) -> &mut Command {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Author")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("NO_COLOR", "1")
        // scan and respond look for copies of a token in HOME (credential files, shell history): a
        // test sets its own HOME when it wants one; none reads the developer's.
        .env("HOME", "/nonexistent/unleak-test-home")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("HF_HOME")
        .env_remove("HF_TOKEN_PATH")
        .env_remove("HF_TOKEN")
        .env_remove("HUGGING_FACE_HUB_TOKEN")
        // huggingface_hub's token file (under HF_HOME, by default in HOME's cache) is a default token
        // source: with HOME set above, never the developer's own.
        .env_remove("HF_ENDPOINT")
        .env_remove("GITHUB_API_URL")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .env_remove("UNLEAK_OPENAI_API_URL")
        .env_remove("UNLEAK_ANTHROPIC_API_URL")
        .env_remove("UNLEAK_SLACK_API_URL")
        .env_remove("UNLEAK_STRIPE_API_URL")
        .env_remove("UNLEAK_NPM_REGISTRY_URL")
        .env_remove("UNLEAK_HTTP_TIMEOUT")
}

/// A throwaway repository in a temp dir, removed on drop.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    clock: AtomicU64,
}

impl TestRepo {
    /// `git init -b main` in a new temp dir.
    pub fn new() -> TestRepo {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("repo");
        std::fs::create_dir(&path).unwrap();
        let repo = TestRepo {
            dir,
            path,
            clock: AtomicU64::new(1_704_067_200), // 2024-01-01T00:00:00Z
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A bare repository beside this one (e.g. `origin`), returned as a path.
    pub fn bare_sibling(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        run_git(
            self.dir.path(),
            &["init", "-q", "--bare", path.to_str().unwrap()],
            0,
        );
        path
    }

    /// A shallow clone of this repository (`git clone --depth 1` over `file://`, so git really cuts the
    /// history) beside it, returned as a path: what a CI checkout is by default.
    pub fn shallow_clone(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        run_git(
            self.dir.path(),
            &[
                "clone",
                "-q",
                "--depth",
                "1",
                &format!("file://{}", self.path.display()),
                path.to_str().unwrap(),
            ],
            0,
        );
        path
    }

    /// Runs git in the repository with the next fixed date (one minute per call); returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let when = self.clock.fetch_add(60, Ordering::Relaxed);
        run_git(&self.path, args, when)
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let path = self.path.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, content).unwrap();
    }

    /// Writes a file, stages it and commits; returns the new commit id.
    pub fn commit_file(&self, rel: &str, content: impl AsRef<[u8]>, message: &str) -> String {
        self.write(rel, content);
        self.git(&["add", "--", rel]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    /// Feeds a `git fast-import` stream to the repository (the quick way to a long history).
    pub fn fast_import(&self, stream: &[u8]) {
        use std::io::Write;
        let mut git = Command::new("git");
        scrub(&mut git)
            .current_dir(&self.path)
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped());
        let mut child = git.spawn().expect("git fast-import runs");
        child.stdin.take().unwrap().write_all(stream).unwrap();
        assert!(child.wait().unwrap().success(), "git fast-import failed");
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev]).trim().to_string()
    }
}

/// Runs git in `dir`; `when` (unix seconds, 0 for now) fixes author and committer dates. Panics on failure.
pub fn run_git(dir: &Path, args: &[&str], when: u64) -> String {
    let mut cmd = Command::new("git");
    scrub(&mut cmd).current_dir(dir).args(args);
    if when > 0 {
        let date = format!("{when} +0000");
        cmd.env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
    }
    let out = cmd.output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The result of running the real `unleak` binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Fails the test if `secret` appears in stdout or stderr (every test that runs the binary calls this).
    pub fn assert_hides(&self, secret: &str) -> &Run {
        assert!(
            !self.stdout.contains(secret),
            "secret in stdout:\n{}",
            self.stdout
        );
        assert!(
            !self.stderr.contains(secret),
            "secret in stderr:\n{}",
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A builder for one run of the binary.
pub struct Unleak {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl Unleak {
    pub fn new(cwd: &Path) -> Unleak {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("unleak"));
        scrub(&mut cmd).current_dir(cwd);
        Unleak { cmd, stdin: None }
    }

    pub fn args(mut self, args: &[&str]) -> Unleak {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Unleak {
        self.cmd.env(key, value);
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Unleak {
        self.stdin = Some(input.into());
        self
    }

    pub fn run(mut self) -> Run {
        self.cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::piped());
        let mut child = self.cmd.spawn().expect("unleak runs");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            if let Some(input) = self.stdin.take() {
                // The binary may exit before reading stdin (a usage error): a broken pipe is fine here.
                if let Err(err) = stdin.write_all(&input) {
                    assert_eq!(
                        err.kind(),
                        std::io::ErrorKind::BrokenPipe,
                        "writing stdin: {err}"
                    );
                }
            }
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

/// A snapshot of every file under `dir` (path, mode, bytes, mtime) to prove a command changed nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, u32, Vec<u8>, std::time::SystemTime)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                out.push((
                    entry.path(),
                    meta.permissions().mode(),
                    std::fs::read(entry.path()).unwrap_or_default(),
                    meta.modified().unwrap(),
                ));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The real binary in a pseudo-terminal, with a transcript of everything the terminal showed.
pub struct Pty {
    pub session: expectrl::Session,
    pub seen: Vec<u8>,
}

impl Pty {
    pub fn spawn(cmd: Command) -> Pty {
        let mut session = expectrl::Session::spawn(cmd).expect("spawn in a pty");
        session.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
        Pty {
            session,
            seen: Vec::new(),
        }
    }

    /// Waits for `needle` on the terminal.
    pub fn expect(&mut self, needle: &str) {
        let found = self.session.expect(needle).unwrap_or_else(|e| {
            panic!(
                "waiting for {needle:?}: {e}; saw so far: {}",
                String::from_utf8_lossy(&self.seen)
            )
        });
        self.seen.extend_from_slice(found.as_bytes());
    }

    /// Types a secret once the terminal's echo is off: proof the kernel will not echo it either.
    /// (Typing earlier would be discarded: the prompt flushes pending input when it turns echo off.)
    pub fn type_hidden(&mut self, secret: &str) {
        let start = std::time::Instant::now();
        while self.session.get_process().get_echo().unwrap() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(20),
                "echo never turned off"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // The prompt may still be between turning echo off and flushing pending input (the terminal
        // library makes more than one termios call): give it a moment so the line is not discarded.
        std::thread::sleep(std::time::Duration::from_millis(250));
        self.session.send_line(secret).unwrap();
    }

    pub fn send(&mut self, text: &str) {
        self.session.send(text).unwrap();
    }

    /// Reads to the end and returns the whole transcript.
    pub fn finish(mut self) -> String {
        if let Ok(rest) = self.session.expect(expectrl::Eof) {
            self.seen.extend_from_slice(rest.as_bytes());
        }
        String::from_utf8_lossy(&self.seen).into_owned()
    }
}

/// Scans `path` in-process with the library (for tests that build on the report model).
pub fn scan_report(path: &Path, secrets: &[unleak::secret::Secret]) -> unleak::model::Report {
    let repo = unleak::git::Repo::open(path).unwrap();
    let options = unleak::scan::ScanOptions {
        threads: 2,
        reachable_only: false,
        progress: false,
        command: "scan",
        env_history: false,
        verify_object_ids: false,
        tree_read: Default::default(),
    };
    unleak::scan::run(&unleak::scan::Request::new(&repo, secrets, &options))
        .unwrap()
        .report
}

/// A fresh mirror of `origin` in `parent/name`, as anyone cloning it now would get (`--no-local`: no
/// hard-linked leftovers of the server's unreachable objects).
pub fn fresh_mirror(parent: &Path, origin: &Path, name: &str) -> PathBuf {
    let dest = parent.join(name);
    run_git(
        parent,
        &[
            "clone",
            "-q",
            "--mirror",
            "--no-local",
            origin.to_str().unwrap(),
            dest.to_str().unwrap(),
        ],
        0,
    );
    dest
}

/// Runs `unleak ARGS --token-stdin` in `dir` with `token` on stdin, and checks it never shows the token.
pub fn run_with_token(dir: &Path, args: &[&str], token: &str) -> Run {
    let mut all = args.to_vec();
    all.push("--token-stdin");
    let run = Unleak::new(dir)
        .args(&all)
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(token);
    run
}

/// `unleak respond --yes --new-token-env NEW_HF EXTRA…` with `NEW_HF` holding `new`: how most respond
/// tests run it. Add the API (`.env("HF_ENDPOINT", …)`, or `--offline` in `extra`) and `--revoke`.
pub fn respond_yes(repo: &Path, new: &str, extra: &[&str]) -> Unleak {
    let mut args = vec!["respond", "--yes", "--new-token-env", "NEW_HF"];
    args.extend_from_slice(extra);
    Unleak::new(repo).args(&args).env("NEW_HF", new)
}

/// The in-process respond request the flag defaults give (no `--yes`, prompts for the new token, two
/// scan threads, an API endpoint nothing listens on): tests set what they drive.
pub fn respond_request(repo: &Path) -> unleak::playbook::Request {
    use unleak::playbook::{NewTokenSource, Request, Settings};
    // The test process's own environment, as `config` reads it for the binary.
    let env = unleak::environment::Environment::from_process();
    Request {
        repo: repo.to_path_buf(),
        tokens: Default::default(),
        scan: unleak::scan::ScanOptions {
            threads: 2,
            reachable_only: false,
            progress: false,
            command: "respond",
            env_history: false,
            verify_object_ids: false,
            tree_read: Default::default(),
        },
        settings: Settings {
            yes: false,
            dry_run: false,
            revoke: None,
            new_token: NewTokenSource::Prompt,
            new_tokens: Vec::new(),
            offline: false,
            report: None,
            write_script: None,
            literal: false,
            remove_env_files: false,
            binary: None,
            replacement: unleak::filter_repo::REPLACEMENT.into(),
            remote: "origin".into(),
            update_key: None,
            backup: false,
            hf_endpoint: "http://127.0.0.1:9".into(),
            places: Default::default(),
        },
        spawner: unleak::child::Spawner::new(&env),
        net: Default::default(),
        env,
    }
}
