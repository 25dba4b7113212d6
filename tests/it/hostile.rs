//! Hostile and unusual repositories: read-only commands write zero bytes, writes never follow a link the
//! repository supplies, repository config never picks a program, and no child inherits a token.

use crate::util::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Every name under `dir` (directories included, symlinks not followed) with its type, mode, mtime and
/// bytes (or link target): any created, removed, renamed, touched or rewritten entry shows up.
pub fn tree_state(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode();
            let mtime = (meta.mtime(), meta.mtime_nsec());
            let what = if meta.file_type().is_symlink() {
                format!("link -> {:?}", std::fs::read_link(&path).unwrap())
            } else if meta.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else {
                let bytes = std::fs::read(&path).unwrap();
                format!("file {} bytes {:?}", bytes.len(), sha(&bytes))
            };
            out.insert(path, format!("{what} mode {mode:o} mtime {mtime:?}"));
        }
    }
    out
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What changed between two states, readable in a failure message.
fn diff(before: &BTreeMap<PathBuf, String>, after: &BTreeMap<PathBuf, String>) -> String {
    let mut lines = Vec::new();
    for (path, state) in before {
        match after.get(path) {
            None => lines.push(format!("removed {}", path.display())),
            Some(now) if now != state => {
                lines.push(format!("changed {}: {state} -> {now}", path.display()))
            }
            _ => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        lines.push(format!("created {}", path.display()));
    }
    lines.join("\n")
}

/// A pushed leak with lightweight and annotated tags (no reflogs), packed refs, a remote-tracking ref
/// without a reflog, a stash, a linked worktree, and a bare clone beside it.
struct Fixture {
    repo: TestRepo,
    worktree: PathBuf,
    bare: PathBuf,
}

fn fixture(token: &str) -> Fixture {
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("app.py", "print('hi')\n", "Initial");
    repo.commit_file("config.py", format!("HF = '{token}'\n"), "Leak");
    repo.git(&["tag", "v1"]);
    repo.git(&["tag", "-a", "-m", "release", "v1-annotated"]);
    repo.git(&["push", "-q", "origin", "main", "--tags"]);
    repo.git(&["fetch", "-q", "origin"]);
    repo.commit_file("later.py", "x = 1\n", "Later");
    repo.write("app.py", format!("print('{token}')\n"));
    repo.git(&["stash", "-q"]);
    repo.git(&["pack-refs", "--all"]);
    // A remote-tracking ref with no reflog (as after a fetch with logAllRefUpdates off).
    std::fs::remove_dir_all(repo.path.join(".git/logs/refs/remotes")).unwrap();
    let worktree = repo.dir.path().join("linked");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        worktree.to_str().unwrap(),
        "-b",
        "side",
    ]);
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    std::fs::set_permissions(
        repo.path.join(".env"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let bare = repo.dir.path().join("bare.git");
    run_git(
        repo.dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            repo.path.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
        0,
    );
    Fixture {
        repo,
        worktree,
        bare,
    }
}

/// The read-only commands, each given the token on stdin.
const READ_ONLY: &[&[&str]] = &[
    &["scan", "--token-stdin"],
    &["scan", "--token-stdin", "--format", "json"],
    &["scan", "--token-stdin", "--reachable-only"],
    &["audit"],
    &["audit", "--format", "sarif"],
    &["verify", "--token-stdin"],
    &["verify", "--token-stdin", "--remote", "origin"],
    &["respond", "--dry-run", "--offline", "--token-stdin"],
    &["hook", "run"],
];

#[test]
fn hostile_read_only_commands_write_zero_bytes() {
    let token = fake_hf_token();
    let fixture = fixture(&token);
    let root = fixture.repo.dir.path();
    let before = tree_state(root);
    assert!(
        before.keys().any(|p| p.ends_with("packed-refs")),
        "the fixture has packed refs"
    );
    assert!(
        !root.join("repo/.git/logs/refs/tags").exists() && !fixture.bare.join("logs").exists(),
        "the fixture's tags and bare clone have no reflogs"
    );
    // Temporary files (verify --remote's mirror) go here, and must be gone after each command.
    let tmp = tempfile::tempdir().unwrap();
    for cwd in [&fixture.repo.path, &fixture.worktree, &fixture.bare] {
        for args in READ_ONLY {
            let run = Unleak::new(cwd)
                .args(args)
                .env("TMPDIR", tmp.path().to_str().unwrap())
                .env("HOME", root.to_str().unwrap())
                .env("HF_HOME", root.join("hf-home").to_str().unwrap())
                .stdin(format!("{token}\n"))
                .run();
            run.assert_hides(&token);
            assert!(
                run.code == 1 || run.code == 0,
                "{args:?} in {}: {run:?}",
                cwd.display()
            );
            assert_eq!(
                tree_state(tmp.path()),
                BTreeMap::new(),
                "{args:?} left temp files"
            );
            let after = tree_state(root);
            assert!(
                before == after,
                "{args:?} in {} changed the tree:\n{}",
                cwd.display(),
                diff(&before, &after)
            );
        }
    }
}

/// `unleak setup --value-stdin` in `repo` with an empty huggingface_hub home.
fn setup(repo: &TestRepo, token: &str) -> Run {
    let run = Unleak::new(&repo.path)
        .args(&["setup", "--value-stdin", "--yes"])
        .env("HF_HOME", repo.dir.path().join("hf-home").to_str().unwrap())
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(token);
    run
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn hostile_env_link_to_a_tracked_file_is_refused() {
    let repo = TestRepo::new();
    repo.commit_file("docs/index.md", "# Docs\n", "Docs");
    std::os::unix::fs::symlink("docs/index.md", repo.path.join(".env")).unwrap();
    repo.git(&["add", ".env"]);
    repo.git(&["commit", "-q", "-m", "Link"]);
    let before = tree_state(repo.dir.path());
    let token = fake_hf_token();
    let run = setup(&repo, &token);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("a file git tracks") && run.stderr.contains("docs/index.md"),
        "{}",
        run.stderr
    );
    let after = tree_state(repo.dir.path());
    assert!(before == after, "{}", diff(&before, &after));
}

/// Issue #25: no write through a link the repository supplies. A committed `.env` link to a path
/// inside the work tree that does not exist made setup create that file with the token, not ignored by
/// git; a link into a submodule wrote into the submodule's tracked file (the outer index knows nothing
/// of it). Both are refused and nothing in the tree changes; so is an untracked dangling link.
#[test]
fn hostile_env_links_dangling_or_into_a_submodule_are_refused() {
    // A committed link to a file that does not exist.
    let repo = TestRepo::new();
    repo.commit_file("config/README", "config\n", "Config");
    std::os::unix::fs::symlink("config/app.env", repo.path.join(".env")).unwrap();
    repo.git(&["add", ".env"]);
    repo.git(&["commit", "-q", "-m", "Link"]);
    let before = tree_state(repo.dir.path());
    let run = setup(&repo, &fake_hf_token());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("the repository supplies"),
        "{}",
        run.stderr
    );
    let after = tree_state(repo.dir.path());
    assert!(before == after, "{}", diff(&before, &after));
    assert!(!repo.path.join("config/app.env").exists());

    // The same link, not committed: still a file the user never made.
    let repo = TestRepo::new();
    repo.commit_file("config/README", "config\n", "Config");
    std::os::unix::fs::symlink("config/app.env", repo.path.join(".env")).unwrap();
    let run = setup(&repo, &fake_hf_token());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(!repo.path.join("config/app.env").exists());

    // A link into a submodule's tracked file.
    let inner = TestRepo::new();
    inner.commit_file("settings.env", "MODE=prod\n", "Settings");
    let repo = TestRepo::new();
    repo.commit_file("README", "outer\n", "Outer");
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "-q",
        "add",
        inner.path.to_str().unwrap(),
        "sub",
    ]);
    repo.git(&["commit", "-q", "-m", "Submodule"]);
    std::os::unix::fs::symlink("sub/settings.env", repo.path.join(".env")).unwrap();
    let settings = repo.path.join("sub/settings.env");
    let before = std::fs::read(&settings).unwrap();
    let run = setup(&repo, &fake_hf_token());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("submodule"), "{}", run.stderr);
    assert_eq!(std::fs::read(&settings).unwrap(), before);
}

/// Issue #25: when `.git/unleak` cannot be made (here a file is in its place), `--backup` used to leave
/// the old token's copy beside `.env`, in the work tree and not ignored. It is refused with a clear
/// error and nothing is written.
#[test]
fn a_backup_goes_to_the_private_directory_or_nowhere() {
    let repo = TestRepo::new();
    repo.write(".gitignore", ".env\n");
    repo.commit_file("README", "readme\n", "Init");
    let old = fake_hf_token();
    repo.write(".env", format!("HF_TOKEN={old}\n"));
    std::fs::write(repo.path.join(".git/unleak"), "not a directory\n").unwrap();
    let before = tree_state(repo.dir.path());
    let new = fake_hf_token();
    let run = Unleak::new(&repo.path)
        .args(&["setup", "--value-stdin", "--yes", "--backup"])
        .env("HF_HOME", repo.dir.path().join("hf-home").to_str().unwrap())
        .stdin(format!("{new}\n"))
        .run();
    run.assert_hides(&new).assert_hides(&old);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("no private place") && run.stderr.contains("without --backup"),
        "{}",
        run.stderr
    );
    let after = tree_state(repo.dir.path());
    assert!(before == after, "{}", diff(&before, &after));
}

/// Issue #25: a repository-supplied `.env -> /dev/zero` was read without limit by setup and respond
/// (even `--dry-run`). A `.env` is read only when it is a regular file, and up to a cap: an error
/// (exit 2) at once, and nothing written.
#[test]
fn hostile_env_link_to_a_device_is_refused_not_read() {
    for respond in [false, true] {
        let repo = TestRepo::new();
        let old = fake_hf_token();
        repo.commit_file("app.py", format!("T = '{old}'\n"), "Leak");
        std::os::unix::fs::symlink("/dev/zero", repo.path.join(".env")).unwrap();
        let new = fake_hf_token();
        let started = std::time::Instant::now();
        let run = if respond {
            Unleak::new(&repo.path)
                .args(&[
                    "respond",
                    "--dry-run",
                    "--yes",
                    "--offline",
                    "--revoke",
                    "skip",
                    "--token-env",
                    "OLD_TOKEN",
                    "--new-token-stdin",
                ])
                .env("OLD_TOKEN", &old)
                .env("HF_HOME", repo.dir.path().join("hf-home").to_str().unwrap())
                .stdin(format!("{new}\n"))
                .run()
        } else {
            setup(&repo, &new)
        };
        run.assert_hides(&new).assert_hides(&old);
        assert_eq!(run.code, 2, "respond={respond}: {run:?}");
        assert!(
            run.stderr.contains("not a regular file"),
            "respond={respond}: {}",
            run.stderr
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }
}

#[test]
fn hostile_env_link_out_of_the_repository_is_refused() {
    for respond in [false, true] {
        let repo = TestRepo::new();
        let outside = repo.dir.path().join("outside.txt");
        let old = fake_hf_token();
        std::fs::write(&outside, format!("HF_TOKEN={old}\n")).unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        repo.commit_file("app.py", format!("T = '{old}'\n"), "Leak");
        std::os::unix::fs::symlink("../outside.txt", repo.path.join(".env")).unwrap();
        let before = std::fs::read(&outside).unwrap();
        let new = fake_hf_token();
        let run = if respond {
            Unleak::new(&repo.path)
                .args(&[
                    "respond",
                    "--yes",
                    "--offline",
                    "--revoke",
                    "skip",
                    "--new-token-stdin",
                ])
                .env("HF_HOME", repo.dir.path().join("hf-home").to_str().unwrap())
                .stdin(format!("{new}\n"))
                .run()
        } else {
            setup(&repo, &new)
        };
        run.assert_hides(&new).assert_hides(&old);
        assert_ne!(run.code, 0, "respond={respond}: {run:?}");
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains("outside the repository"), "{all}");
        assert_eq!(
            std::fs::read(&outside).unwrap(),
            before,
            "respond={respond}"
        );
        assert_eq!(mode(&outside), 0o644, "respond={respond}");
    }
}

#[test]
fn hostile_symlinked_gitignore_is_not_trusted() {
    let repo = TestRepo::new();
    repo.commit_file("shared/rules", "*.log\n", "Rules");
    std::os::unix::fs::symlink("shared/rules", repo.path.join(".gitignore")).unwrap();
    repo.git(&["add", ".gitignore"]);
    repo.git(&["commit", "-q", "-m", "Link the ignore file"]);
    let token = fake_hf_token();
    let run = setup(&repo, &token);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("symlinked .gitignore"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(repo.path.join("shared/rules")).unwrap(),
        "*.log\n",
        "nothing is written through the link"
    );
    // Git's own answer: `git add -A` leaves .env out.
    repo.git(&["add", "-A"]);
    let staged = repo.git(&["diff", "--cached", "--name-only"]);
    assert!(!staged.contains(".env"), "{staged}");
}

/// An executable shell script.
fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The inherited PATH without any directory that holds git-filter-repo (so a repository's
/// `alias.filter-repo` would be what `git filter-repo` runs), behind `first`.
fn path_without_filter_repo(first: &Path) -> String {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let kept = std::env::split_paths(&inherited).filter(|d| !d.join("git-filter-repo").exists());
    let all: Vec<PathBuf> = std::iter::once(first.to_path_buf()).chain(kept).collect();
    std::env::join_paths(all).unwrap().into_string().unwrap()
}

/// Config keys a repository can set to make git run a program; each names its own PWNED marker.
const CONFIG_VECTORS: &[(&str, &str, bool)] = &[
    // (marker, key, value is a shell command with `!`)
    ("fsmonitor", "core.fsmonitor", false),
    ("sshcommand", "core.sshCommand", false),
    ("pager", "core.pager", false),
    ("editor", "core.editor", false),
    ("askpass", "core.askPass", false),
    ("gitproxy", "core.gitProxy", false),
    ("credential", "credential.helper", true),
    ("alias-filter-repo", "alias.filter-repo", true),
    ("alias-clone", "alias.clone", true),
    ("alias-check-ignore", "alias.check-ignore", true),
    ("diff-external", "diff.external", false),
    ("textconv", "diff.evil.textconv", false),
    ("gpg", "gpg.program", false),
    ("sequence-editor", "sequence.editor", false),
    ("filter-clean", "filter.evil.clean", false),
    ("filter-smudge", "filter.evil.smudge", false),
    ("filter-process", "filter.evil.process", false),
    ("pack-objects-hook", "uploadpack.packObjectsHook", false),
];

const HOOKS: &[&str] = &[
    "pre-commit",
    "post-commit",
    "post-checkout",
    "post-merge",
    "pre-push",
    "reference-transaction",
    "post-index-change",
    "fsmonitor-watchman",
    "pre-auto-gc",
    "post-rewrite",
    "push-to-checkout",
];

/// Plants every vector in the git dir `git_dir` (its config and hooks); scripts live in `evil`.
fn plant(git_dir: &Path, root: &Path, evil: &Path) {
    let config = |key: &str, value: &str| {
        run_git(
            root,
            &[
                "config",
                "--file",
                git_dir.join("config").to_str().unwrap(),
                key,
                value,
            ],
            0,
        );
    };
    for (marker, key, bang) in CONFIG_VECTORS {
        let program = evil.join(marker);
        script(
            &program,
            &format!("touch '{}/PWNED-{marker}'", root.display()),
        );
        let value = format!("{}{}", if *bang { "!" } else { "" }, program.display());
        config(key, &value);
    }
    let hooks = evil.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::create_dir_all(git_dir.join("hooks")).unwrap();
    for hook in HOOKS {
        let body = format!("touch '{}/PWNED-hook-{hook}'", root.display());
        script(&hooks.join(hook), &body);
        script(&git_dir.join("hooks").join(hook), &body);
    }
    config("core.hooksPath", hooks.to_str().unwrap());
    let ext = evil.join("ext");
    script(&ext, &format!("touch '{}/PWNED-ext'", root.display()));
    config("remote.evil.url", &format!("ext::{} %S", ext.display()));
    config("remote.evil.fetch", "+refs/heads/*:refs/remotes/evil/*");
    config("remote.fd.url", "fd::3");
    config("remote.sshy.url", "ssh://example.invalid/x.git");
}

fn pwned(root: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("PWNED"))
        .collect();
    found.sort();
    found
}

#[test]
fn hostile_repository_config_never_runs_a_program() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let root = repo.dir.path().to_path_buf();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("app.py", format!("T = '{token}'\n"), "Leak");
    repo.commit_file(".gitattributes", "* filter=evil diff=evil\n", "Attributes");
    repo.git(&["push", "-q", "origin", "main"]);
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    let evil = root.join("evil");
    let bin = root.join("bin");
    std::fs::create_dir_all(&evil).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    // ssh to a server that does not exist fails at once, without a network or a host-key question.
    script(&bin.join("ssh"), "exit 255");
    plant(&repo.path.join(".git"), &root, &evil);
    plant(&origin, &root, &evil);
    let path = path_without_filter_repo(&bin);

    // The vectors are live: plain git in this repository runs them.
    let mut control = std::process::Command::new("git");
    scrub(&mut control)
        .current_dir(&repo.path)
        .env("PATH", &path)
        .args(["filter-repo", "-h"])
        .output()
        .unwrap();
    let mut control = std::process::Command::new("git");
    scrub(&mut control)
        .current_dir(&repo.path)
        .env("PATH", &path)
        .args(["status", "--short"])
        .output()
        .unwrap();
    let live = pwned(&root);
    assert!(
        live.contains(&"PWNED-alias-filter-repo".to_string())
            && live.contains(&"PWNED-fsmonitor".to_string()),
        "the planted config should fire for plain git: {live:?}"
    );
    for marker in live {
        std::fs::remove_file(root.join(marker)).unwrap();
    }

    let runs: &[(&[&str], Option<&str>)] = &[
        (&["scan", "--token-stdin"], None),
        (&["audit"], None),
        (&["verify", "--token-stdin"], None),
        (&["verify", "--token-stdin", "--remote", "origin"], None),
        (
            &["verify", "--token-stdin", "--remote", "evil"],
            Some("ext::"),
        ),
        (&["verify", "--token-stdin", "--remote", "fd"], Some("fd::")),
        (
            &["verify", "--token-stdin", "--remote", "sshy"],
            Some("failed"),
        ),
        (
            &["respond", "--dry-run", "--offline", "--token-stdin"],
            None,
        ),
        (&["hook", "run"], None),
        (&["setup", "--value-stdin", "--yes"], None),
    ];
    for (args, error) in runs {
        let run = Unleak::new(&repo.path)
            .args(args)
            .env("PATH", &path)
            .env("HOME", root.to_str().unwrap())
            .env("HF_HOME", root.join("hf-home").to_str().unwrap())
            .stdin(format!("{token}\n"))
            .run();
        run.assert_hides(&token);
        if let Some(error) = error {
            assert_eq!(run.code, 2, "{args:?}: {run:?}");
            assert!(run.stderr.contains(error), "{args:?}: {}", run.stderr);
        } else {
            assert!(run.code == 0 || run.code == 1, "{args:?}: {run:?}");
        }
        assert_eq!(
            pwned(&root),
            Vec::<String>::new(),
            "after {args:?}: {run:?}"
        );
    }
}

/// Every child (git, git-filter-repo) is a wrapper that appends its environment to one file.
#[test]
fn hostile_children_never_inherit_a_token() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let root = repo.dir.path().to_path_buf();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("app.py", format!("T = '{token}'\n"), "Leak");
    repo.git(&["push", "-q", "origin", "main"]);
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let dump = root.join("env-dump");
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let real_git = std::env::split_paths(&inherited)
        .map(|d| d.join("git"))
        .find(|g| g.is_file())
        .expect("git on PATH");
    script(
        &bin.join("git"),
        &format!(
            "echo '== git' >> '{d}'\nenv >> '{d}'\nexec '{}' \"$@\"",
            real_git.display(),
            d = dump.display()
        ),
    );
    script(
        &bin.join("git-filter-repo"),
        &format!(
            "echo '== git-filter-repo' >> '{d}'\nenv >> '{d}'\necho '  --sensitive-data-removal'",
            d = dump.display()
        ),
    );
    let path =
        std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&inherited)))
            .unwrap()
            .into_string()
            .unwrap();
    let runs: &[&[&str]] = &[
        &[
            "respond",
            "--dry-run",
            "--offline",
            "--token-env",
            "MY_LEAK",
        ],
        &["verify", "--token-env", "MY_LEAK", "--remote", "origin"],
        &["setup", "--value-stdin", "--yes"],
    ];
    for args in runs {
        let mut unleak = Unleak::new(&repo.path).args(args).env("PATH", &path);
        if args.contains(&"MY_LEAK") {
            unleak = unleak.env("MY_LEAK", &token);
        }
        let run = unleak
            .env("HF_TOKEN", &token)
            .env("HUGGING_FACE_HUB_TOKEN", &token)
            .env("OPENAI_API_KEY", &token)
            .env("HF_HOME", root.join("hf-home").to_str().unwrap())
            .stdin(format!("{token}\n"))
            .run();
        run.assert_hides(&token);
        assert!(run.code == 0 || run.code == 1, "{args:?}: {run:?}");
    }
    // The browser opener (started, not waited for) on a display, for a manual revoke.
    script(
        &bin.join("xdg-open"),
        &format!(
            "env > '{d}.tmp'\nmv '{d}.tmp' '{d}'",
            d = root.join("browser-env").display()
        ),
    );
    let stub = crate::hf_stub::HfStub::start();
    stub.add_live(&token, "read");
    let new = fake_hf_token();
    stub.add_live(&new, "read");
    let run = Unleak::new(&repo.path)
        .args(&[
            "respond",
            "--yes",
            "--revoke",
            "browser",
            "--new-token-env",
            "MY_NEW",
        ])
        .env("PATH", &path)
        .env("DISPLAY", ":99")
        .env("HF_ENDPOINT", &stub.endpoint)
        .env("HF_TOKEN", &token)
        .env("MY_NEW", &new)
        .env("HF_HOME", root.join("hf-home").to_str().unwrap())
        .run();
    run.assert_hides(&token).assert_hides(&new);
    let browser_env = root.join("browser-env");
    for _ in 0..100 {
        if browser_env.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let browser = std::fs::read_to_string(&browser_env).expect("the browser opener ran");
    assert!(browser.contains("DISPLAY=:99"), "{browser}");
    for secret in [&token, &new] {
        assert!(
            !browser.contains(secret.as_str()),
            "the browser saw a token"
        );
    }
    for name in ["MY_NEW=", "HF_TOKEN="] {
        assert!(!browser.contains(name), "the browser saw {name}");
    }

    let seen = std::fs::read_to_string(&dump).expect("the wrappers ran");
    assert!(!seen.contains(&new), "a child saw the new token");
    assert!(!seen.contains("MY_NEW="), "a child saw MY_NEW");
    assert!(
        seen.contains("== git-filter-repo"),
        "respond probes filter-repo"
    );
    assert!(
        seen.matches("== git\n").count() >= 2,
        "clone and check-ignore"
    );
    assert!(!seen.contains(&token), "a child saw the token:\n{seen}");
    for name in [
        "MY_LEAK=",
        "HF_TOKEN=",
        "HUGGING_FACE_HUB_TOKEN=",
        "OPENAI_API_KEY=",
    ] {
        assert!(!seen.contains(name), "a child saw {name}");
    }
}

/// unleak's own copies of a `.env` (a backup, the temp file of a killed write) hold the old token: verify
/// by fingerprint finds them whether they sit in the work tree (ignored) or under `.git/unleak`.
#[test]
fn hostile_verify_finds_unleak_leftovers_by_fingerprint() {
    let token = fake_hf_token();
    let fingerprint = unleak::secret::fingerprint(token.as_bytes());
    let repo = TestRepo::new();
    repo.commit_file(".gitignore", ".env*\n.*.tmp\n", "Ignore");
    let verify = || {
        let run = Unleak::new(&repo.path)
            .args(&["verify", "--format", "json", "--fingerprint", &fingerprint])
            .run();
        run.assert_hides(&token);
        run
    };
    let clean = verify();
    assert_eq!(clean.code, 0, "{clean:?}");
    let leftovers = [
        ".env.unleak-backup-20240101T000000",
        "config/..env.unleak-Ab12Cd.tmp",
        ".git/unleak/backups/.env.unleak-backup-20240101T000000",
    ];
    for leftover in leftovers {
        repo.write(leftover, format!("HF_TOKEN={token}\n"));
        let run = verify();
        assert_eq!(run.code, 1, "{leftover}: {run:?}");
        let v = &run.json()["verification"];
        let listed = format!("{} {}", v["leftover_files"], v["git_dir_files"]);
        let name = leftover.rsplit('/').next().unwrap();
        assert!(listed.contains(name), "{leftover} not listed: {listed}");
        std::fs::remove_file(repo.path.join(leftover)).unwrap();
    }
    assert_eq!(verify().code, 0);
}

/// A repository owned by another user: libgit2 refuses it; the message names `safe.directory`. Needs
/// root to hand the repository to another user; elsewhere it checks nothing and says so.
#[test]
fn hostile_repository_of_another_user_names_safe_directory() {
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "a\n", "A");
    let mut paths = vec![repo.path.clone()];
    let mut i = 0;
    while i < paths.len() {
        if let Ok(entries) = std::fs::read_dir(&paths[i]) {
            paths.extend(entries.flatten().map(|e| e.path()));
        }
        i += 1;
    }
    for path in &paths {
        if std::os::unix::fs::lchown(path, Some(65534), Some(65534)).is_err() {
            eprintln!("cannot chown (not root): this environment cannot build the case");
            return;
        }
    }
    let run = Unleak::new(&repo.path)
        .args(&["scan", "--token-stdin"])
        .stdin(format!("{}\n", fake_hf_token()))
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not owned by current user") && run.stderr.contains("safe.directory"),
        "{}",
        run.stderr
    );
}

/// Tests run in threads of one process: none may change its environment (pass values in instead).
#[test]
fn hostile_tests_never_mutate_the_process_environment() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let needles = [
        format!("env::{}_var", "set"),
        format!("env::{}_var", "remove"),
    ];
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for needle in &needles {
            assert!(
                !text.contains(needle.as_str()),
                "{} uses {needle}",
                entry.path().display()
            );
        }
        checked += 1;
    }
    assert!(checked > 5, "read the test sources");
}

/// `verify --remote`: the mirror directory is private and removed on SIGTERM (the clone is stopped),
/// and a password in the remote URL reaches git through askpass, never its command line. A fake `git`
/// stands in for a slow clone.
#[test]
fn hostile_verify_remote_is_private_and_cleaned_up_on_sigterm() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let root = repo.dir.path().to_path_buf();
    repo.commit_file("a.txt", "a\n", "A");
    let password = format!("pw-{}", random_letters(12));
    repo.git(&[
        "remote",
        "add",
        "origin",
        &format!("http://user:{password}@127.0.0.1:9/x.git"),
    ]);
    let bin = root.join("bin");
    let tmp = root.join("tmp");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let real_git = std::env::split_paths(&inherited)
        .map(|d| d.join("git"))
        .find(|g| g.is_file())
        .expect("git on PATH");
    let args_file = root.join("git-args");
    let askpass_out = root.join("askpass-out");
    script(
        &bin.join("git"),
        &format!(
            "echo \"$@\" >> '{args}'\ncase \" $* \" in *\" clone \"*) ;; *) exec '{git}' \"$@\" ;; esac\n\
             for last; do :; done\nmkdir -p \"$last\"\n\
             \"$GIT_ASKPASS\" \"Password for 'http://user@127.0.0.1:9': \" > '{askpass}'\n\
             touch \"$last/ready\"\nexec sleep 30",
            args = args_file.display(),
            git = real_git.display(),
            askpass = askpass_out.display()
        ),
    );
    let path =
        std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&inherited)))
            .unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("unleak"));
    scrub(&mut cmd)
        .current_dir(&repo.path)
        .env("PATH", &path)
        .env("TMPDIR", &tmp)
        .args(["verify", "--token-stdin", "--remote", "origin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{token}\n").as_bytes()).unwrap();
    }
    let mirror_dir = || {
        std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("unleak-verify-")
            })
    };
    let mut ready = None;
    for _ in 0..200 {
        if let Some(dir) = mirror_dir().filter(|d| d.join("mirror.git/ready").exists()) {
            ready = Some(dir);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let dir = ready.expect("the clone started in a temporary directory");
    assert_eq!(mode(&dir), 0o700, "the mirror directory is private");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        !stderr.contains(&token) && !stderr.contains(&password),
        "{stderr}"
    );
    assert_eq!(mirror_dir(), None, "the mirror directory was removed");
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert!(
        !args.contains(&password),
        "a password on git's command line: {args}"
    );
    assert!(args.contains("http://127.0.0.1:9/x.git"), "{args}");
    assert_eq!(
        std::fs::read_to_string(&askpass_out).unwrap(),
        format!("{password}\n"),
        "git gets the password from askpass"
    );
}

#[test]
fn hostile_env_link_into_the_git_dir_is_refused() {
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "a\n", "A");
    std::os::unix::fs::symlink(".git/description", repo.path.join(".env")).unwrap();
    let before = tree_state(repo.dir.path());
    let token = fake_hf_token();
    let run = setup(&repo, &token);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains(".git/description"), "{}", run.stderr);
    let after = tree_state(repo.dir.path());
    assert!(before == after, "{}", diff(&before, &after));
}

/// Issue #25: a token given as an output path (`-o`, `--report`, `--write-script`) created a file named
/// by it and recorded the name; given as `--replacement` it was written in plain text into the script
/// and the reports. Each is refused (exit 2) before anything is written, naming the redaction only.
#[test]
fn a_token_is_refused_as_an_output_path_or_a_replacement() {
    let repo = TestRepo::new();
    let old = fake_hf_token();
    repo.commit_file("app.py", format!("T = '{old}'\n"), "Leak");
    let pasted = fake_hf_token();
    let dir = repo.dir.path();
    let in_dir = dir.join(format!("{pasted}.json"));
    let in_dir = in_dir.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["scan", "--token-env", "OLD", "-o", in_dir],
        vec!["verify", "--token-env", "OLD", "-o", &pasted],
        vec!["audit", "-o", in_dir],
        vec![
            "respond",
            "--dry-run",
            "--offline",
            "--token-env",
            "OLD",
            "--report",
            in_dir,
        ],
        vec![
            "respond",
            "--dry-run",
            "--offline",
            "--token-env",
            "OLD",
            "--write-script",
            &pasted,
        ],
        vec![
            "respond",
            "--dry-run",
            "--offline",
            "--token-env",
            "OLD",
            "--replacement",
            &pasted,
        ],
    ];
    for args in cases {
        let before = tree_state(dir);
        let run = Unleak::new(&repo.path).args(&args).env("OLD", &old).run();
        run.assert_hides(&pasted).assert_hides(&old);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("holds a token"),
            "{args:?}: {}",
            run.stderr
        );
        let after = tree_state(dir);
        assert!(before == after, "{args:?}: {}", diff(&before, &after));
    }
}

/// Issue #25: a path or subject holding U+202E (right-to-left override) was printed raw, so the terminal
/// showed the name reversed. Direction controls are escaped (`\u{202e}`) in human output.
#[test]
fn bidi_controls_in_paths_and_subjects_are_escaped() {
    let repo = TestRepo::new();
    let token = fake_hf_token();
    repo.commit_file(
        "invoice\u{202e}txt.exe",
        format!("T={token}\n"),
        "Add \u{2066}notes\u{2069}",
    );
    let run = Unleak::new(&repo.path)
        .args(&["scan", "--token-env", "T"])
        .env("T", &token)
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 1, "{run:?}");
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !all.contains('\u{202e}') && !all.contains('\u{2066}'),
        "raw: {all}"
    );
    assert!(all.contains("invoice\\u{202e}txt.exe"), "{all}");
}
