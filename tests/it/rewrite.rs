//! The history-rewrite plan, run for real: a repository with a pushed leak, the plan built in-process,
//! its script run by bash with the real git-filter-repo, then the remote and the clone checked for any
//! trace of the token.

use crate::util::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use unleak::filter_repo::{self, FilterRepoSupport, RewriteInput, RewritePlan};
use unleak::secret::Secret;

/// PATH with the user's site bin dir first, where `pip install --user git-filter-repo` puts it.
fn path_with_filter_repo() -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    format!(
        "{home}/.local/bin:{}",
        std::env::var("PATH").unwrap_or_default()
    )
}

/// What the installed git-filter-repo supports. Fails (never skips) when it is missing: these tests are
/// the proof that the plan works, and scripts/test.sh installs it.
fn filter_repo_support() -> FilterRepoSupport {
    let out = Command::new("git")
        .args(["filter-repo", "-h"])
        .env("PATH", path_with_filter_repo())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git-filter-repo is required: scripts/test.sh installs it into target/test-venv ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    FilterRepoSupport::Present {
        sensitive_data_removal: filter_repo::help_lists_sdr(&String::from_utf8_lossy(&out.stdout)),
    }
}

/// Every object of the repository, contents included (`git cat-file --batch-all-objects --batch`).
fn all_objects(git_dir: &Path) -> Vec<u8> {
    let mut cmd = Command::new("git");
    scrub(&mut cmd)
        .arg("-C")
        .arg(git_dir)
        .args(["cat-file", "--batch-all-objects", "--batch"]);
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    out.stdout
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The uniqueness check the plan asks for, done the simple way: every match of the pattern anywhere in
/// the object database must be the token itself.
fn unique_in(git_dir: PathBuf) -> impl Fn(&Secret, &str) -> bool {
    let objects = all_objects(&git_dir);
    move |secret: &Secret, pattern: &str| {
        let re = regex::bytes::Regex::new(pattern).expect("pattern compiles in the regex crate");
        let unique = re
            .find_iter(&objects)
            .all(|m| m.as_bytes() == secret.expose().as_bytes());
        unique
    }
}

fn build_plan(
    repo: &TestRepo,
    token: &str,
    remote_url: Option<&str>,
    literal: bool,
    remove_env_files: bool,
) -> RewritePlan {
    let secrets = vec![Secret::new(token, "test")];
    let report = scan_report(&repo.path, &secrets);
    assert!(report.found());
    let unique = unique_in(repo.path.join(".git"));
    let plan = filter_repo::plan(&RewriteInput {
        secrets: &secrets,
        report: &report,
        remote_name: "origin",
        remote_url,
        repo_path: &repo.path,
        literal,
        remove_env_files,
        filter_repo: filter_repo_support(),
        regex_is_unique: &unique,
    });
    assert!(plan.blocked.is_none(), "{}", plan.render_text());
    plan
}

/// Writes the script beside the repository, checks it hides the token, runs it; returns its output.
fn write_and_run(repo: &TestRepo, plan: &RewritePlan, token: &str) -> (PathBuf, String) {
    let text = plan.render_text();
    assert!(!text.contains(token), "token in the plan text:\n{text}");
    let script = repo.dir.path().join("rewrite.sh");
    plan.write_script(&script).unwrap();
    let mode = std::fs::metadata(&script).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let body = std::fs::read_to_string(&script).unwrap();
    assert!(!body.contains(token), "token in the script:\n{body}");

    let mut cmd = Command::new("bash");
    scrub(&mut cmd)
        .arg(&script)
        .current_dir(repo.dir.path())
        .env("PATH", path_with_filter_repo())
        .env("TMPDIR", repo.dir.path())
        .stdin(std::process::Stdio::null());
    let out = cmd.output().unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "script failed:\n{output}\n---\n{body}"
    );
    assert!(!output.contains(token), "token in the script's output");
    (script, output)
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    run_git(dir, args, 0).trim().to_string()
}

#[test]
fn regex_plan_scrubs_remote_and_clone() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    repo.commit_file("data/blob.bin", [0u8, 1, 2, 255, 10, 13], "Binary data");
    repo.commit_file(
        "config.py",
        format!("A = 1\nTOKEN = '{token}'\nB = 2\n"),
        "Add config",
    );
    repo.commit_file(".env", format!("MODEL=gpt2\nHF_TOKEN={token}\n"), "Add env");
    repo.commit_file("notes.txt", "n\n", &format!("Rotate\n\nold key {token}\n"));
    repo.git(&[
        "tag",
        "-a",
        "v1",
        "-m",
        &format!("Release\n\nkey {token}\n"),
    ]);
    repo.commit_file(
        "config.py",
        "A = 1\nTOKEN = os.environ['HF_TOKEN']\nB = 2\n",
        "Read token from env",
    );
    repo.git(&["rm", "-q", "--cached", ".env"]);
    repo.commit_file(".gitignore", ".env\n", "Ignore .env");
    repo.git(&["push", "-q", "origin", "main", "--tags"]);
    // Local only: an unpushed branch and a stash entry holding the token.
    repo.git(&["checkout", "-q", "-b", "wip"]);
    repo.commit_file("wip.txt", format!("try {token}\n"), "WIP");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("config.py", format!("A = 1\nTOKEN = '{token}'\nB = 3\n"));
    repo.git(&["stash", "-q"]);

    let commits_before = git_in(&origin, &["rev-list", "--all", "--count"]);
    let readme_before = git_in(&origin, &["rev-parse", "main:README.md"]);
    let binary_before = git_in(&origin, &["rev-parse", "main:data/blob.bin"]);

    let url = origin.to_str().unwrap().to_string();
    let plan = build_plan(&repo, &token, Some(&url), false, false);
    let filter_repo::ReplaceText::Regex(lines) = &plan.replace_text else {
        panic!("regex mode");
    };
    assert!(lines.starts_with("regex:hf_") && !lines.contains(&token));
    let (_, output) = write_and_run(&repo, &plan, &token);

    // The remote, as a new clone sees it: no trace, same shape, untouched files identical.
    let check = fresh_mirror(repo.dir.path(), &origin, "check.git");
    let objects = all_objects(&check);
    assert!(!contains(&objects, &token), "token still on the remote");
    assert!(contains(&objects, filter_repo::REPLACEMENT));
    assert_eq!(
        git_in(&check, &["rev-list", "--all", "--count"]),
        commits_before
    );
    assert_eq!(
        git_in(&check, &["rev-parse", "main:README.md"]),
        readme_before
    );
    assert_eq!(
        git_in(&check, &["rev-parse", "main:data/blob.bin"]),
        binary_before
    );
    assert_eq!(
        git_in(&check, &["show", "main~3:config.py"]),
        "A = 1\nTOKEN = '***REMOVED***'\nB = 2"
    );
    assert!(
        git_in(&check, &["log", "-1", "--format=%B", "main~2"]).contains("old key ***REMOVED***")
    );
    assert!(git_in(&check, &["cat-file", "-p", "v1"]).contains("key ***REMOVED***"));
    // The old objects are gone from the remote's disk too (it is a local path, so the plan pruned it).
    assert!(!contains(&all_objects(&origin), &token));

    // This clone: the unpushed branch is rewritten, the stash entry dropped, nothing left.
    assert!(!contains(&all_objects(&repo.path.join(".git")), &token));
    assert!(git_in(&repo.path, &["show", "wip:wip.txt"]).contains("***REMOVED***"));
    assert_eq!(git_in(&repo.path, &["stash", "list"]), "");
    assert_eq!(
        git_in(&repo.path, &["rev-parse", "main"]),
        git_in(&check, &["rev-parse", "main"]),
        "the clone and the remote share the rewritten history"
    );
    assert!(output.contains("first changed commits"), "{output}");
    // The scratch dir is gone.
    let leftovers: Vec<_> = std::fs::read_dir(repo.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("unleak-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn literal_plan_removes_env_files_and_its_private_file() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    repo.commit_file(".env", format!("HF_TOKEN={token}\n"), "Add env");
    std::fs::create_dir(repo.path.join("config")).unwrap();
    repo.git(&["mv", ".env", "config/.env.prod"]);
    repo.git(&["commit", "-q", "-m", "Move env"]);
    repo.commit_file("app.py", format!("KEY = '{token}'\n"), "Inline key");
    repo.git(&["push", "-q", "origin", "main"]);

    let url = origin.to_str().unwrap().to_string();
    let plan = build_plan(&repo, &token, Some(&url), true, true);
    let (script, _) = write_and_run(&repo, &plan, &token);

    let body = std::fs::read_to_string(&script).unwrap();
    let replace_file = body
        .lines()
        .find_map(|l| l.strip_prefix("UNLEAK_REPLACE_FILE="))
        .map(|p| PathBuf::from(p.trim_matches('\'')))
        .expect("the script names its replace file");
    assert!(!replace_file.starts_with(&repo.path));
    assert!(!replace_file.exists(), "the private replace file survived");
    assert!(!replace_file.parent().unwrap().exists());

    let check = fresh_mirror(repo.dir.path(), &origin, "check.git");
    assert!(!contains(&all_objects(&check), &token));
    assert_eq!(
        git_in(
            &check,
            &[
                "log",
                "--all",
                "--format=%H",
                "--",
                ".env",
                "config/.env.prod"
            ]
        ),
        "",
        "env files are gone from all history"
    );
    assert_eq!(
        git_in(&check, &["show", "main:app.py"]),
        "KEY = '***REMOVED***'"
    );
}

#[test]
fn literal_file_is_private_until_the_script_runs() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("app.py", format!("KEY = '{token}'\n"), "Inline key");
    let plan = build_plan(&repo, &token, None, true, false);
    let script = repo.dir.path().join("rewrite.sh");
    plan.write_script(&script).unwrap();
    let body = std::fs::read_to_string(&script).unwrap();
    let replace_file = body
        .lines()
        .find_map(|l| l.strip_prefix("UNLEAK_REPLACE_FILE="))
        .map(|p| PathBuf::from(p.trim_matches('\'')))
        .unwrap();
    let file_mode = std::fs::metadata(&replace_file)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    let dir_mode = std::fs::metadata(replace_file.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!((file_mode, dir_mode), (0o600, 0o700));
    assert!(std::fs::read_to_string(&replace_file)
        .unwrap()
        .contains(&token));
    std::fs::remove_dir_all(replace_file.parent().unwrap()).unwrap();
}

#[test]
fn local_only_repository_is_rewritten_in_place() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    repo.commit_file("app.py", format!("A = 1\nKEY = '{token}'\n"), "Inline key");
    repo.commit_file("app.py", "A = 1\nKEY = env()\n", "Read key from env");
    let commits_before = repo.git(&["rev-list", "--all", "--count"]);

    let plan = build_plan(&repo, &token, None, false, false);
    assert!(!plan.pushes);
    assert!(plan.render_text().contains("nothing needs pushing"));
    write_and_run(&repo, &plan, &token);

    assert!(!contains(&all_objects(&repo.path.join(".git")), &token));
    assert_eq!(repo.git(&["rev-list", "--all", "--count"]), commits_before);
    assert_eq!(
        git_in(&repo.path, &["show", "main~1:app.py"]),
        "A = 1\nKEY = '***REMOVED***'"
    );
}
