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
    &["respond", "--dry-run", "--offline", "--token-stdin"],
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
    for cwd in [&fixture.repo.path, &fixture.worktree, &fixture.bare] {
        for args in READ_ONLY {
            let run = Unleak::new(cwd)
                .args(args)
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
