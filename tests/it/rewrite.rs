//! The history-rewrite plan, run for real: a repository with a pushed leak, the plan built in-process,
//! its script run by bash with the real git-filter-repo, then the remote and the clone checked for any
//! trace of the token.

use crate::util::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use unleak::filter_repo::{self, BinaryMode, RewriteInput, RewritePlan};
use unleak::git::command::{help_lists_sdr, FilterRepoSupport};
use unleak::secret::Secret;

/// PATH as the test run got it: scripts/test.sh puts its venv (with git-filter-repo) first. No user
/// directory is added, so the git-filter-repo under test is the one the run chose.
fn path_with_filter_repo() -> String {
    std::env::var("PATH").unwrap_or_default()
}

/// A repository with a first commit (`README.md`) and an empty bare `origin` beside it.
fn repo_with_origin() -> (TestRepo, PathBuf) {
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    (repo, origin)
}

/// Runs a rewrite script as a user would (`bash rewrite.sh`, no stdin, git-filter-repo on PATH, temp
/// files under `tmp`, from `cwd` when given); returns its stdout and stderr together, and whether it
/// exited 0.
fn bash(script: &Path, cwd: Option<&Path>, tmp: &Path) -> (String, bool) {
    let mut cmd = Command::new("bash");
    scrub(&mut cmd)
        .arg(script)
        .env("PATH", path_with_filter_repo())
        .env("TMPDIR", tmp)
        .stdin(std::process::Stdio::null());
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let out = cmd.output().unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (output, out.status.success())
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
        sensitive_data_removal: help_lists_sdr(&String::from_utf8_lossy(&out.stdout)),
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
    build_plan_with(
        repo,
        token,
        remote_url,
        literal,
        remove_env_files,
        BinaryMode::Mask,
    )
}

fn build_plan_with(
    repo: &TestRepo,
    token: &str,
    remote_url: Option<&str>,
    literal: bool,
    remove_env_files: bool,
    binary: BinaryMode,
) -> RewritePlan {
    let secrets = vec![Secret::new(token, "test")];
    let report = scan_report(&repo.path, &secrets);
    assert!(report.found());
    let unique = unique_in(repo.path.join(".git"));
    let opened = unleak::git::Repo::open(&repo.path).unwrap();
    let binary_blobs = unleak::playbook::binary_blobs(&opened, &report);
    let unleak_bin = PathBuf::from(env!("CARGO_BIN_EXE_unleak"));
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
        binary_blobs: &binary_blobs,
        binary,
        replacement: filter_repo::REPLACEMENT,
        unleak: &unleak_bin,
    });
    assert!(plan.blocked.is_none(), "{}", plan.render_text());
    plan
}

/// Writes the script beside the repository, checks it hides the token, runs it; returns its path, its
/// output and whether it exited 0.
fn run_script(repo: &TestRepo, plan: &RewritePlan, token: &str) -> (PathBuf, String, bool) {
    let text = plan.render_text();
    assert!(!text.contains(token), "token in the plan text:\n{text}");
    let script = repo.dir.path().join("rewrite.sh");
    unleak::playbook::rewrite::write_script(plan, &script).unwrap();
    let mode = std::fs::metadata(&script).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let body = std::fs::read_to_string(&script).unwrap();
    assert!(!body.contains(token), "token in the script:\n{body}");

    let (output, success) = bash(&script, Some(repo.dir.path()), repo.dir.path());
    assert!(!output.contains(token), "token in the script's output");
    (script, output, success)
}

/// [`run_script`], which must succeed.
fn write_and_run(repo: &TestRepo, plan: &RewritePlan, token: &str) -> (PathBuf, String) {
    let (script, output, ok) = run_script(repo, plan, token);
    let body = std::fs::read_to_string(&script).unwrap();
    assert!(ok, "script failed:\n{output}\n---\n{body}");
    (script, output)
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    run_git(dir, args, 0).trim().to_string()
}

#[test]
fn regex_plan_scrubs_remote_and_clone() {
    let token = fake_hf_token();
    let (repo, origin) = repo_with_origin();
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
    let (repo, origin) = repo_with_origin();
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
    unleak::playbook::rewrite::write_script(&plan, &script).unwrap();
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

/// Every byte string the token takes, computed here (not by unleak): itself, UTF-16LE, and the base64
/// characters that depend only on the token at each of the three alignments.
fn every_form(token: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut forms = vec![
        token.as_bytes().to_vec(),
        token
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>(),
    ];
    for shift in 0..3usize {
        let mut padded = vec![0u8; shift];
        padded.extend_from_slice(token.as_bytes());
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&padded);
        let lead = (shift * 8).div_ceil(6);
        let determined = (padded.len() * 8) / 6;
        forms.push(encoded.as_bytes()[lead..determined].to_vec());
    }
    forms
}

fn holds_any_form(haystack: &[u8], token: &str) -> Option<usize> {
    every_form(token)
        .iter()
        .position(|form| haystack.windows(form.len()).any(|w| w == &form[..]))
}

/// A model file: binary (NULs in its first 8 KiB), the token inside.
fn model_bytes(token: &str) -> Vec<u8> {
    let mut bytes = vec![0u8, 1, 2, 3, 0, 0, 7];
    bytes.extend_from_slice(b"tok=");
    bytes.extend_from_slice(token.as_bytes());
    bytes.extend_from_slice(&[0, 0, 255, 254]);
    bytes
}

/// A UTF-16LE text file with a BOM (what Windows tools save), the token inside.
fn utf16_bytes(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// The repository of issue #11: the token in a binary blob still in HEAD, a UTF-16LE file with BOM,
/// base64, a commit message, an annotated tag message, a note, an unpushed branch and a stash entry.
fn every_kind_of_copy(token: &str) -> (TestRepo, PathBuf) {
    use base64::Engine;
    let (repo, origin) = repo_with_origin();
    repo.commit_file("model.bin", model_bytes(token), "Add model");
    repo.commit_file(
        "setup.reg",
        utf16_bytes(&format!(
            "Windows Registry Editor\r\n\"Token\"=\"{token}\"\r\n"
        )),
        "Add registry file",
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("HF_TOKEN={token}\n"));
    repo.commit_file(
        "deploy/secret.yaml",
        format!("data:\n  env: {encoded}\n"),
        "Add k8s secret",
    );
    repo.commit_file("notes.txt", "n\n", &format!("Rotate\n\nold key {token}\n"));
    repo.git(&[
        "tag",
        "-a",
        "v1",
        "-m",
        &format!("Release\n\nkey {token}\n"),
    ]);
    repo.git(&[
        "notes",
        "add",
        "-m",
        &format!("deployed with {token}"),
        "HEAD",
    ]);
    repo.git(&[
        "push",
        "-q",
        "origin",
        "main",
        "--tags",
        "refs/notes/commits",
    ]);
    repo.git(&["checkout", "-q", "-b", "wip"]);
    repo.commit_file("wip.txt", format!("try {token}\n"), "WIP");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("notes.txt", format!("n {token}\n"));
    repo.git(&["stash", "-q"]);
    // The user's own file, ignored and untracked: listed by the script, never changed.
    repo.write(".gitignore", ".env\n");
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    (repo, origin)
}

#[test]
fn every_form_and_place_is_removed_and_the_script_proves_it() {
    let token = fake_hf_token();
    let (repo, origin) = every_kind_of_copy(&token);
    let readme_before = git_in(&origin, &["rev-parse", "main:README.md"]);
    let model_before = std::fs::read(repo.path.join("model.bin")).unwrap();

    let url = origin.to_str().unwrap().to_string();
    let plan = build_plan(&repo, &token, Some(&url), false, false);
    assert_eq!(plan.binary_files.len(), 2, "model.bin and the UTF-16 file");
    assert!(plan.masks.is_some(), "masking needs the private forms file");
    let text = plan.render_text();
    assert!(text.contains("model.bin (binary"), "{text}");
    let (_, output) = write_and_run(&repo, &plan, &token);
    assert!(output.contains("no copy left"), "{output}");
    assert!(
        output.contains("note: .env in the working tree still holds the old token"),
        "{output}"
    );
    assert!(std::fs::read_to_string(repo.path.join(".env"))
        .unwrap()
        .contains(&token));

    // Checked with git itself: no object holds any form of the token, on the remote or here.
    let check = fresh_mirror(repo.dir.path(), &origin, "check.git");
    assert_eq!(holds_any_form(&all_objects(&check), &token), None, "remote");
    assert_eq!(
        holds_any_form(&all_objects(&origin), &token),
        None,
        "remote's disk"
    );
    let local = repo.path.join(".git");
    assert_eq!(
        holds_any_form(&all_objects(&local), &token),
        None,
        "this clone"
    );
    // Untouched files keep their blob ids; the binary file is masked in place, same length.
    assert_eq!(
        git_in(&check, &["rev-parse", "main:README.md"]),
        readme_before
    );
    let mut expected = model_before.clone();
    let at = expected
        .windows(token.len())
        .position(|w| w == token.as_bytes())
        .unwrap();
    expected[at..at + token.len()].fill(b'*');
    let mut cmd = Command::new("git");
    scrub(&mut cmd)
        .arg("-C")
        .arg(&check)
        .args(["cat-file", "blob", "main:model.bin"]);
    assert_eq!(cmd.output().unwrap().stdout, expected);
    // The UTF-16 file stays UTF-16 (the mask is `*` in UTF-16LE); the note and the tag are rewritten.
    let mut cmd = Command::new("git");
    scrub(&mut cmd)
        .arg("-C")
        .arg(&check)
        .args(["cat-file", "blob", "main:setup.reg"]);
    let reg = cmd.output().unwrap().stdout;
    assert!(reg.starts_with(&[0xFF, 0xFE]));
    assert!(contains(&reg, "*\0*\0*\0*\0"));
    // filter-repo rewrites the note's text; the note stays keyed by the old commit id (docs/rewrite.md).
    assert!(
        git_in(&check, &["log", "-p", "--format=", "refs/notes/commits"])
            .contains("deployed with ***REMOVED***")
    );
    assert!(git_in(&check, &["cat-file", "-p", "v1"]).contains("key ***REMOVED***"));
    // This clone is usable: the unpushed branch rewritten, upstream known, no old-text files left.
    assert!(git_in(&repo.path, &["show", "wip:wip.txt"]).contains("***REMOVED***"));
    assert_eq!(
        git_in(&repo.path, &["rev-parse", "origin/main"]),
        git_in(&check, &["rev-parse", "main"])
    );
    assert_eq!(
        git_in(
            &repo.path,
            &["status", "--porcelain", "--untracked-files=no"]
        ),
        ""
    );
    for file in ["COMMIT_EDITMSG", "ORIG_HEAD", "filter-repo"] {
        assert!(!local.join(file).exists(), "{file} left in .git");
    }
    assert_eq!(
        std::fs::read(repo.path.join("model.bin")).unwrap(),
        expected
    );
}

#[test]
fn strip_removes_binary_files_from_history() {
    let token = fake_hf_token();
    let (repo, origin) = repo_with_origin();
    repo.commit_file("model.bin", model_bytes(&token), "Add model");
    repo.commit_file("app.py", format!("KEY = '{token}'\n"), "Inline key");
    repo.git(&["push", "-q", "origin", "main"]);
    let url = origin.to_str().unwrap().to_string();
    let plan = build_plan_with(&repo, &token, Some(&url), false, false, BinaryMode::Strip);
    assert!(plan.render_text().contains("model.bin (binary"));
    assert!(
        matches!(plan.replace_text, filter_repo::ReplaceText::Regex(_)),
        "stripping needs no private file"
    );
    write_and_run(&repo, &plan, &token);
    let check = fresh_mirror(repo.dir.path(), &origin, "check.git");
    assert_eq!(holds_any_form(&all_objects(&check), &token), None);
    assert_eq!(
        git_in(&check, &["log", "--all", "--format=%H", "--", "model.bin"]),
        "",
        "model.bin is gone from history"
    );
    assert_eq!(
        git_in(&check, &["show", "main:app.py"]),
        "KEY = '***REMOVED***'"
    );
}

#[test]
fn a_copy_the_push_cannot_reach_makes_the_script_fail_and_name_it() {
    let token = fake_hf_token();
    let (repo, origin) = repo_with_origin();
    repo.commit_file("app.py", format!("KEY = '{token}'\n"), "Inline key");
    repo.git(&["branch", "keep"]);
    repo.git(&["push", "-q", "origin", "main", "keep"]);
    // The remote protects refs/heads/keep: the force-push cannot rewrite it.
    let hook = origin.join("hooks/update");
    std::fs::write(
        &hook,
        "#!/bin/sh\nif [ \"$1\" = refs/heads/keep ]; then echo 'keep is protected' >&2; exit 1; fi\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();

    let url = origin.to_str().unwrap().to_string();
    let plan = build_plan(&repo, &token, Some(&url), false, false);
    let (_, output, ok) = run_script(&repo, &plan, &token);
    assert!(!ok, "the script must fail:\n{output}");
    assert!(output.contains("still holds the token"), "{output}");
    assert!(output.contains("refs/heads/keep"), "{output}");
    // The script's own second opinion (its needles over `git cat-file --batch-all-objects`) agrees.
    assert!(
        output.contains("object(s) still hold a form of the token"),
        "{output}"
    );
    assert!(output.contains("NOT DONE"), "{output}");
    assert!(!output.contains("==> Done"), "{output}");
}

/// The default flow as a user runs it: respond untracks the committed `.env` (staged), commits that with
/// consent, writes the script; the script's own checks then pass and it leaves the remote clean and the
/// user's `.env` (now holding the new token) alone.
#[test]
fn respond_then_script_works_as_a_user_runs_it() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let (repo, origin) = repo_with_origin();
    repo.commit_file(".env", format!("HF_TOKEN={old}\n"), "Add env");
    repo.git(&["push", "-q", "origin", "main"]);
    let script = repo.dir.path().join("rewrite.sh");
    let run = respond_yes(
        &repo.path,
        &new,
        &["--offline", "--write-script", script.to_str().unwrap()],
    )
    .run();
    run.assert_hides(&old).assert_hides(&new);
    assert!(
        run.stdout.contains("Committed: Stop tracking"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(script.exists(), "{}\n{}", run.stdout, run.stderr);

    let (output, success) = bash(&script, Some(repo.dir.path()), repo.dir.path());
    assert!(!output.contains(&old) && !output.contains(&new));
    assert!(success, "{output}");
    let check = fresh_mirror(repo.dir.path(), &origin, "check.git");
    assert_eq!(holds_any_form(&all_objects(&check), &old), None);
    assert_eq!(
        holds_any_form(&all_objects(&repo.path.join(".git")), &old),
        None
    );
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert!(env.contains(&new), "the user's .env keeps the new token");
}

/// The only copy is an untracked `.env`: git never recorded it, so no rewrite is planned.
#[test]
fn respond_plans_no_rewrite_for_an_untracked_env_only() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    repo.write(".env", format!("HF_TOKEN={old}\n"));
    let script = repo.dir.path().join("rewrite.sh");
    let run = respond_yes(
        &repo.path,
        &new,
        &["--offline", "--write-script", script.to_str().unwrap()],
    )
    .run();
    run.assert_hides(&old).assert_hides(&new);
    // At risk, not leaked (issue #24: the same answer as scan and audit), so no step follows.
    assert!(
        run.stdout
            .contains("is at risk but not in history: it is only in .env"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(!run.stdout.contains("[6/7]"), "{}", run.stdout);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(!script.exists());
}

/// In a terminal, respond asks what to do with binary files, showing each one and what each choice does
/// (through the Prompter seam, answered by script here).
#[test]
fn respond_asks_about_binary_files() {
    use unleak::playbook::{self, Io};
    use unleak::prompt::{Answer, ScriptedPrompter};
    let old = fake_hf_token();
    let new = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    repo.commit_file("model.bin", model_bytes(&old), "Add model");
    repo.write(".env", format!("HF_TOKEN={old}\n"));
    let script = repo.dir.path().join("rewrite.sh");
    let mut request = respond_request(&repo.path);
    request.settings.offline = true;
    request.settings.write_script = Some(script.clone());
    // The last answer declines the incident record respond offers (no --report was given).
    let mut prompter = ScriptedPrompter::new([
        Answer::Secret(new.clone()),
        Answer::Yes,
        Answer::Choice(1),
        Answer::No,
    ]);
    let mut out = Vec::new();
    let mut stdin = std::io::Cursor::new(Vec::new());
    let mut io = Io {
        prompter: &mut prompter,
        out: &mut out,
        stdin: &mut stdin,
        interactive: true,
    };
    playbook::respond(&request, &mut io).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains(&old) && !text.contains(&new), "{text}");
    assert_eq!(
        prompter.asked.iter().rev().nth(1).map(String::as_str),
        Some("What should the rewrite do with the binary files?"),
        "{:?}",
        prompter.asked
    );
    assert!(prompter
        .asked
        .last()
        .unwrap()
        .starts_with("Write the incident record"));
    assert!(text.contains("mask:  model.bin (binary"), "{text}");
    assert!(text.contains("strip: model.bin (binary"), "{text}");
    let body = std::fs::read_to_string(&script).unwrap();
    assert!(
        body.contains("--strip-blobs-with-ids"),
        "the answer is used"
    );
}

/// A failed first check changes nothing and deletes the private file (issue #25: the token in plain
/// text is never left behind, whatever the exit); once fixed, a fresh script runs, and a second run
/// after success finds nothing to do (regex mode) instead of failing.
#[test]
fn the_script_can_be_rerun_until_it_succeeds() {
    let token = fake_hf_token();
    let (repo, origin) = repo_with_origin();
    repo.commit_file("app.py", format!("KEY = '{token}'\n"), "Inline key");
    repo.git(&["push", "-q", "origin", "main"]);
    let url = origin.to_str().unwrap().to_string();

    // Literal mode: a failed preflight changes nothing and leaves no private file.
    let plan = build_plan(&repo, &token, Some(&url), true, false);
    repo.write("README.md", "# changed, not committed\n");
    let (script, output, ok) = run_script(&repo, &plan, &token);
    assert!(!ok && output.contains("uncommitted changes"), "{output}");
    assert!(
        output.contains("was deleted. To run again, write a fresh script"),
        "{output}"
    );
    let replace_file = |script: &Path| {
        let body = std::fs::read_to_string(script).unwrap();
        body.lines()
            .find_map(|l| l.strip_prefix("UNLEAK_REPLACE_FILE="))
            .map(|p| PathBuf::from(p.trim_matches('\'')))
            .unwrap()
    };
    assert!(!replace_file(&script).exists(), "the token's file is gone");
    assert!(
        contains(&all_objects(&origin), &token),
        "nothing was changed"
    );
    repo.git(&["checkout", "--", "README.md"]);
    unleak::playbook::rewrite::write_script(&plan, &script).unwrap();
    let (output, success) = bash(&script, None, repo.dir.path());
    assert!(success, "{output}");
    assert!(!replace_file(&script).exists());
    assert_eq!(holds_any_form(&all_objects(&origin), &token), None);

    // Regex mode, run twice: the second run finds the remote clean, pushes nothing, and succeeds.
    let token = fake_hf_token();
    repo.commit_file("b.py", format!("KEY = '{token}'\n"), "Another key");
    repo.git(&["push", "-q", "origin", "main"]);
    let plan = build_plan(&repo, &token, Some(&url), false, false);
    write_and_run(&repo, &plan, &token);
    let (_, output) = write_and_run(&repo, &plan, &token);
    assert!(output.contains("nothing to push"), "{output}");
    assert_eq!(holds_any_form(&all_objects(&origin), &token), None);
}

/// A repository whose config names an fsmonitor program (run by `git status`, which the script's
/// preflight calls): the script runs no program the repository's config picks.
#[test]
fn the_script_runs_no_program_the_repository_config_names() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    repo.commit_file("app.py", format!("KEY = '{token}'\n"), "Inline key");
    repo.commit_file("app.py", "KEY = env()\n", "Read key from env");
    let pwned = repo.dir.path().join("PWNED");
    let program = repo.dir.path().join("fsmonitor.sh");
    std::fs::write(
        &program,
        format!("#!/bin/sh\ntouch '{}'\necho\n", pwned.display()),
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    repo.git(&["config", "core.fsmonitor", program.to_str().unwrap()]);
    // Plain git runs it: the test would catch a script that lets it through.
    run_git(&repo.path, &["status", "--porcelain"], 0);
    assert!(
        pwned.exists(),
        "the planted fsmonitor program did not run under plain git"
    );
    std::fs::remove_file(&pwned).unwrap();

    let plan = build_plan(&repo, &token, None, false, false);
    write_and_run(&repo, &plan, &token);
    assert!(!contains(&all_objects(&repo.path.join(".git")), &token));
    assert!(
        !pwned.exists(),
        "the script ran the repository's fsmonitor program"
    );
}

/// An executable that touches `marker` and then runs `then` with its arguments (or copies stdin to
/// stdout, as a filter does, when `then` is empty).
fn planted(dir: &Path, name: &str, marker: &Path, then: &str) -> PathBuf {
    let program = dir.join(name);
    let rest = if then.is_empty() {
        "cat".to_string()
    } else {
        format!("exec {then} \"$@\"")
    };
    std::fs::write(
        &program,
        format!("#!/bin/sh\ntouch '{}'\n{rest}\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    program
}

/// Issue #25: the repository's config named programs the script's git calls ran (a `core.hooksPath`
/// hook, `remote.<name>.uploadpack`, a clean filter a `.gitattributes` picks), and a remote name
/// holding `$(…)` ran in the script's last here-document. Each is planted, shown to run under plain
/// git, and then must not run under the script, which still succeeds.
#[test]
fn the_script_runs_no_hook_filter_or_upload_pack_and_quotes_the_remote_name() {
    let token = fake_hf_token();
    let (repo, origin) = repo_with_origin();
    let remote = "o$(touch${IFS}pwned)";
    repo.git(&["remote", "rename", "origin", remote]);
    repo.write(".gitattributes", "*.txt filter=planted\n");
    repo.commit_file("notes.txt", "notes\n", "Notes");
    repo.commit_file("app.py", format!("KEY = '{token}'\n"), "Inline key");
    repo.commit_file("app.py", "KEY = env()\n", "Read key from env");
    repo.git(&["push", "-q", remote, "HEAD:refs/heads/main"]);

    let dir = repo.dir.path();
    let markers: Vec<PathBuf> = ["hook", "upload-pack", "filter"]
        .iter()
        .map(|m| dir.join(format!("RAN-{m}")))
        .collect();
    let hooks = dir.join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    for hook in [
        "reference-transaction",
        "post-checkout",
        "post-rewrite",
        "pre-auto-gc",
    ] {
        planted(&hooks, hook, &markers[0], "true");
    }
    repo.git(&["config", "core.hooksPath", hooks.to_str().unwrap()]);
    let upload = planted(dir, "upload.sh", &markers[1], "git-upload-pack");
    repo.git(&[
        "config",
        &format!("remote.{remote}.uploadpack"),
        upload.to_str().unwrap(),
    ]);
    let filter = planted(dir, "filter.sh", &markers[2], "");
    repo.git(&["config", "filter.planted.clean", filter.to_str().unwrap()]);
    let touch_notes = || {
        // A new mtime: `git status` runs the clean filter to compare the file again.
        let file = std::fs::File::options()
            .write(true)
            .open(repo.path.join("notes.txt"))
            .unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        file.set_modified(later).unwrap();
    };
    // Plain git runs each of them: the test would catch a script that lets one through.
    touch_notes();
    run_git(&repo.path, &["status", "--porcelain"], 0);
    run_git(&repo.path, &["fetch", "-q", remote], 0);
    run_git(&repo.path, &["update-ref", "refs/heads/probe", "HEAD"], 0);
    run_git(&repo.path, &["update-ref", "-d", "refs/heads/probe"], 0);
    for marker in &markers {
        assert!(
            marker.exists(),
            "{} did not run under plain git",
            marker.display()
        );
        std::fs::remove_file(marker).unwrap();
    }
    touch_notes();

    let secrets = vec![Secret::new(&token, "test")];
    let report = scan_report(&repo.path, &secrets);
    let opened = unleak::git::Repo::open(&repo.path).unwrap();
    let binary_blobs = unleak::playbook::binary_blobs(&opened, &report);
    let unleak_bin = PathBuf::from(env!("CARGO_BIN_EXE_unleak"));
    let origin_url = origin.to_str().unwrap();
    let plan = filter_repo::plan(&RewriteInput {
        secrets: &secrets,
        report: &report,
        remote_name: remote,
        remote_url: Some(origin_url),
        repo_path: &repo.path,
        literal: false,
        remove_env_files: false,
        filter_repo: filter_repo_support(),
        regex_is_unique: &unique_in(repo.path.join(".git")),
        binary_blobs: &binary_blobs,
        binary: BinaryMode::Mask,
        replacement: filter_repo::REPLACEMENT,
        unleak: &unleak_bin,
    });
    assert!(plan.blocked.is_none(), "{}", plan.render_text());
    let (script, output) = write_and_run(&repo, &plan, &token);
    let body = std::fs::read_to_string(&script).unwrap();
    for marker in &markers {
        assert!(
            !marker.exists(),
            "the script ran {}:\n{output}\n---\n{body}",
            marker.display()
        );
    }
    for cwd in [dir, repo.path.as_path()] {
        assert!(
            !cwd.join("pwned").exists(),
            "the remote name ran:\n{output}"
        );
    }
    assert!(
        output.contains(remote),
        "the name is printed as text:\n{output}"
    );
    assert!(!contains(&all_objects(&origin), &token));
}

/// Issue #25: respond's own commit (untracking `.env`) ran the repository's `gpg.program` when its
/// config asked for signed commits, and the clean filter a `.gitattributes` picks. It runs neither,
/// commits unsigned, and says so.
#[test]
fn respond_commits_without_the_repositorys_signing_program_or_filters() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let (repo, _origin) = repo_with_origin();
    repo.write(".gitattributes", ".gitignore filter=planted\n");
    repo.commit_file(".env", format!("HF_TOKEN={old}\n"), "Add env");
    let dir = repo.dir.path();
    let (signed, filtered) = (dir.join("RAN-gpg"), dir.join("RAN-filter"));
    let gpg = planted(dir, "gpg.sh", &signed, "false");
    let filter = planted(dir, "filter.sh", &filtered, "");
    repo.git(&["config", "commit.gpgSign", "true"]);
    repo.git(&["config", "gpg.program", gpg.to_str().unwrap()]);
    repo.git(&["config", "filter.planted.clean", filter.to_str().unwrap()]);
    // Plain git runs both (and the planted gpg fails the commit).
    repo.write("probe.txt", "probe\n");
    repo.write(".gitignore", "probe\n");
    run_git(&repo.path, &["add", "probe.txt", ".gitignore"], 0);
    let plain = Command::new("git")
        .current_dir(&repo.path)
        .args(["commit", "-q", "-m", "Probe"])
        .output()
        .unwrap();
    assert!(!plain.status.success() && signed.exists() && filtered.exists());
    std::fs::remove_file(&signed).unwrap();
    std::fs::remove_file(&filtered).unwrap();
    run_git(&repo.path, &["reset", "-q", "--hard"], 0);

    let script = dir.join("rewrite.sh");
    let run = respond_yes(
        &repo.path,
        &new,
        &["--offline", "--write-script", script.to_str().unwrap()],
    )
    .run();
    run.assert_hides(&old).assert_hides(&new);
    assert!(
        run.stdout.contains("Committed: Stop tracking") && run.stdout.contains("Not signed"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(!signed.exists(), "respond ran the repository's gpg.program");
    assert!(
        !filtered.exists(),
        "respond ran the repository's clean filter"
    );
}

/// Issue #25: after `respond --backup`, the script's final check named the backup (it holds the old
/// token) but not what to do. It says to delete it once the new token works, with the command; done,
/// the same script then finishes.
#[test]
fn the_check_says_what_to_do_with_a_backup() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let (repo, _origin) = repo_with_origin();
    repo.commit_file(".env", format!("HF_TOKEN={old}\n"), "Add env");
    repo.git(&["push", "-q", "origin", "main"]);
    let script = repo.dir.path().join("rewrite.sh");
    let run = respond_yes(
        &repo.path,
        &new,
        &[
            "--offline",
            "--backup",
            "--write-script",
            script.to_str().unwrap(),
        ],
    )
    .run();
    run.assert_hides(&old).assert_hides(&new);
    assert!(script.exists(), "{}\n{}", run.stdout, run.stderr);
    let (output, success) = bash(&script, Some(repo.dir.path()), repo.dir.path());
    assert!(!output.contains(&old) && !output.contains(&new));
    assert!(!success, "the backup is a copy left: {output}");
    let line = output
        .lines()
        .find(|l| l.contains("the .env backup --backup kept"))
        .unwrap_or_else(|| panic!("no step for the backup:\n{output}"));
    let quoted = line.split("rm -- '").nth(1).unwrap();
    let backup = PathBuf::from(quoted.split('\'').next().unwrap());
    assert!(backup.is_file(), "{line}");
    std::fs::remove_file(&backup).unwrap();
    let (output, success) = bash(&script, Some(repo.dir.path()), repo.dir.path());
    assert!(success, "{output}");
}
