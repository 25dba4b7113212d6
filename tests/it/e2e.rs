//! The whole incident, end to end: a repository that leaked a token everywhere, `unleak respond --yes`
//! against a loopback stand-in for the Hugging Face API, the written script run for real with
//! git-filter-repo, and `unleak verify` on what the server now serves.

use crate::hf_stub::HfStub;
use crate::util::*;
use base64::Engine;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn all_objects(dir: &Path) -> Vec<u8> {
    let out = std::process::Command::new("git")
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir` (recursively) whose bytes hold `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path).is_ok_and(|b| contains(&b, needle)) {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

#[test]
fn incident_end_to_end() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let stub = HfStub::start();
    stub.add_live(&old, "write");
    stub.add_live(&new, "read");

    // 1. A repository that leaked the token in many hiding places; origin holds the pushed part.
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("README.md", "# project\n", "Initial");
    repo.commit_file("train.py", "import os\nprint('train')\n", "Add training");
    repo.commit_file(".env", format!("MODEL=gpt2\nHF_TOKEN={old}\n"), "Add env");
    repo.commit_file(
        "config.py",
        format!("MODEL = 'gpt2'\nTOKEN = '{old}'\nSEED = 1\n"),
        "Config",
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("auth:{old}"));
    repo.commit_file("auth.b64", format!("{encoded}\n"), "Encoded auth");
    repo.write("notes.txt", "notes\n");
    repo.git(&["add", "notes.txt"]);
    repo.git(&["commit", "-q", "-m", &format!("Debug login\n\nused {old}")]);
    repo.git(&["tag", "-a", "v1", "-m", &format!("release with {old}")]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit_file("feature.py", format!("T = '{old}'\n"), "Feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["push", "-q", "origin", "main", "feature", "v1"]);
    repo.git(&["rm", "-q", "--cached", ".env"]);
    repo.git(&["commit", "-q", "-m", "Untrack .env"]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.write(
        ".env",
        format!("# local\nMODEL=gpt2\nHF_TOKEN={old}\nexport OTHER=\"keep me\"\n"),
    );
    std::fs::set_permissions(
        repo.path.join(".env"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let commits_before = run_git(&origin, &["rev-list", "--all", "--count"], 0);
    let readme_before = run_git(&origin, &["show", "main:README.md"], 0);
    let train_before = run_git(&origin, &["show", "main:train.py"], 0);

    // 2. respond, unattended. Every process gets a temporary directory of this test's own (TMPDIR), so
    // the check at the end reads every temp file they made, and nothing outside the test's directory.
    let outputs = repo.dir.path().join("out");
    std::fs::create_dir(&outputs).unwrap();
    let tmp = repo.dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let tmp_str = tmp.to_str().unwrap();
    let record = outputs.join("incident.md");
    let script = outputs.join("rewrite.sh");
    let run = Unleak::new(&repo.path)
        .args(&[
            "respond",
            "--yes",
            "--revoke",
            "api",
            "--new-token-env",
            "NEW_HF_TOKEN",
            "--report",
            record.to_str().unwrap(),
            "--write-script",
            script.to_str().unwrap(),
        ])
        .env("HF_ENDPOINT", &stub.endpoint)
        .env("NEW_HF_TOKEN", &new)
        .env("TMPDIR", tmp_str)
        .run();
    run.assert_hides(&old).assert_hides(&new);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // 3. The stand-in saw one revoke for the old token, and whoami calls.
    let revokes = stub.revokes();
    assert_eq!(revokes.len(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&revokes[0].body).unwrap()["credentials"],
        serde_json::json!([old])
    );
    let whoamis = stub.whoamis();
    assert!(whoamis
        .iter()
        .any(|r| r.authorization.as_deref() == Some(&format!("Bearer {old}"))));
    assert!(whoamis
        .iter()
        .any(|r| r.authorization.as_deref() == Some(&format!("Bearer {new}"))));

    // .env: the new token, the other keys unchanged, 0600, ignored.
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert_eq!(
        env,
        format!("# local\nMODEL=gpt2\nHF_TOKEN={new}\nexport OTHER=\"keep me\"\n")
    );
    let mode = std::fs::metadata(repo.path.join(".env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let ignored = std::process::Command::new("git")
        .args(["check-ignore", "-q", ".env"])
        .current_dir(&repo.path)
        .status()
        .unwrap();
    assert!(ignored.success(), ".env must be ignored by git");

    // 4. Run the script for real.
    let script_mode = std::fs::metadata(&script).unwrap().permissions().mode();
    assert_eq!(script_mode & 0o777, 0o700);
    // PATH as the test run got it (scripts/test.sh puts its venv's git-filter-repo first).
    let path = std::env::var("PATH").unwrap_or_default();
    let mut cmd = std::process::Command::new("bash");
    scrub(&mut cmd)
        .env("TMPDIR", tmp_str)
        .arg(&script)
        .env("PATH", &path)
        .current_dir(&repo.path);
    let out = cmd.output().unwrap();
    let script_stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let script_stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "script failed:\n{script_stdout}\n{script_stderr}"
    );
    assert!(!script_stdout.contains(&old) && !script_stderr.contains(&old));

    // 5. verify --remote and verify on a fresh clone exit 0.
    let verify = Unleak::new(&repo.path)
        .args(&["verify", "--remote", "origin", "--token-stdin"])
        .env("TMPDIR", tmp_str)
        .stdin(format!("{old}\n"))
        .run();
    verify.assert_hides(&old);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    let fresh = repo.dir.path().join("fresh");
    run_git(
        repo.dir.path(),
        &[
            "clone",
            "-q",
            "--no-local",
            origin.to_str().unwrap(),
            fresh.to_str().unwrap(),
        ],
        0,
    );
    // A fresh clone has no incident record: a token found nowhere there is settled by its issuer. The
    // stand-in revoked it: dead, so the revoked token, and the clone is clean.
    let verify = Unleak::new(&fresh)
        .args(&["verify", "--token-stdin"])
        .env("TMPDIR", tmp_str)
        .env("HF_ENDPOINT", &stub.endpoint)
        .stdin(format!("{old}\n"))
        .run();
    verify.assert_hides(&old);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("its issuer says it is dead"),
        "{}",
        verify.stdout
    );
    // Without the issuer, it is not confirmed as the old one.
    let verify = Unleak::new(&fresh)
        .args(&["verify", "--offline", "--token-stdin"])
        .env("TMPDIR", tmp_str)
        .stdin(format!("{old}\n"))
        .run();
    verify.assert_hides(&old);
    assert_eq!(verify.code, 2, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("never found here"),
        "{}",
        verify.stdout
    );
    // The clone respond ran in remembers the incident: plain `verify --remote` checks the OLD token.
    let verify = Unleak::new(&repo.path)
        .args(&["verify", "--remote", "origin"])
        .run();
    verify.assert_hides(&old).assert_hides(&new);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    assert!(verify.stdout.contains("OLD token"), "{}", verify.stdout);
    // Without the plaintext (it is gone from .env now): the incident record's fingerprints.
    let json_record = format!("{}.json", record.display());
    let verify = Unleak::new(&fresh)
        .args(&["verify", "--record", &json_record])
        .env("TMPDIR", tmp_str)
        .run();
    verify.assert_hides(&old);
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    let verify = Unleak::new(&repo.path)
        .args(&["verify", "--record", &json_record, "--remote", "origin"])
        .env("TMPDIR", tmp_str)
        .run();
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    // Fingerprint-free check by hand: no trace in any object of a fresh mirror.
    let mirror = fresh_mirror(repo.dir.path(), &origin, "check.git");
    let objects = all_objects(&mirror);
    assert!(
        !contains(&objects, old.as_bytes()),
        "the token survived in the rewritten mirror"
    );
    assert!(
        !contains(&objects, encoded.as_bytes()),
        "the base64 form survived"
    );
    assert_eq!(
        run_git(&origin, &["rev-list", "--all", "--count"], 0),
        commits_before
    );
    assert_eq!(
        run_git(&origin, &["show", "main:README.md"], 0),
        readme_before
    );
    assert_eq!(
        run_git(&origin, &["show", "main:train.py"], 0),
        train_before
    );
    let config = run_git(&origin, &["show", "main:config.py"], 0);
    assert!(
        config.contains("MODEL = 'gpt2'") && config.contains("SEED = 1"),
        "{config}"
    );

    // 6. The old token appears in no output, record, script or temp file we produced.
    for file in [&record, &script] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(!text.contains(&old), "{} holds the token", file.display());
    }
    let json = std::fs::read_to_string(format!("{}.json", record.display())).unwrap();
    for (name, token) in [("old", &old), ("new", &new)] {
        if let Some(at) = json.find(token.as_str()) {
            panic!(
                "the JSON record holds the {name} token near: {}",
                json[at.saturating_sub(300)..at].replace(token.as_str(), "<TOKEN>")
            );
        }
    }
    assert!(files_holding(&outputs, old.as_bytes()).is_empty());
    assert!(
        files_holding(&tmp, old.as_bytes()).is_empty(),
        "a temp file holds the token"
    );
}

/// Runs the rewrite script `script` in `repo` with the test run's PATH (the venv's git-filter-repo).
fn run_script(repo: &Path, script: &Path) -> (bool, String, String) {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut cmd = std::process::Command::new("bash");
    scrub(&mut cmd)
        .arg(script)
        .env("PATH", &path)
        .current_dir(repo);
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issue #24: a pushed `.env` at HEAD. After respond and its script, the remote's HEAD no longer
/// tracks `.env` (respond's "Stop tracking secrets" commit and the new .gitignore are pushed by the
/// script) and no object on the remote holds the token. A second run of the script changes nothing
/// and keeps the first changed commits of the run that did.
#[test]
fn the_remote_ends_as_clean_as_the_clone() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let stub = HfStub::start();
    stub.add_live(&old, "write");
    stub.add_live(&new, "read");
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("remote.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("app.py", "print('hi')\n", "Initial");
    repo.commit_file(".env", format!("HF_TOKEN={old}\n"), "Add env");
    repo.git(&["push", "-q", "-u", "origin", "main"]);
    run_git(&origin, &["symbolic-ref", "HEAD", "refs/heads/main"], 0);
    assert_eq!(
        run_git(
            &origin,
            &["ls-tree", "--name-only", "HEAD", "--", ".env"],
            0
        )
        .trim(),
        ".env"
    );
    let script = repo.dir.path().join("fix.sh");
    let record = repo.dir.path().join("incident.md");
    let run = respond_yes(
        &repo.path,
        &new,
        &[
            "--revoke",
            "api",
            "--write-script",
            script.to_str().unwrap(),
            "--report",
            record.to_str().unwrap(),
        ],
    )
    .env("HF_ENDPOINT", &stub.endpoint)
    .run();
    run.assert_hides(&old).assert_hides(&new);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Said as it is: the script is written, history is not rewritten yet, and how to finish.
    assert!(
        run.stdout
            .contains("Prepared, not done yet: rewrite history"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("next: bash {}", script.display())),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("--remote origin`"), "{}", run.stdout);
    // The record says the same: the script is prepared, not run, with its next command.
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}.json", record.display())).unwrap(),
    )
    .unwrap();
    let rewrite = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "rewrite history")
        .unwrap();
    assert_eq!(rewrite["status"], "prepared", "{rewrite:#}");
    assert_eq!(rewrite["next"], format!("bash {}", script.display()));
    let md = std::fs::read_to_string(&record).unwrap();
    assert!(
        md.contains(&format!(
            "- Prepared, not done yet: **rewrite history**; next: bash {}",
            script.display()
        )),
        "{md}"
    );
    assert!(!md.contains("rewrite history**: done"), "{md}");
    assert!(
        json["verify_command"]
            .as_str()
            .unwrap()
            .ends_with("--remote origin"),
        "{json:#}"
    );

    let (ok, stdout, stderr) = run_script(&repo.path, &script);
    assert!(ok, "script failed:\n{stdout}\n{stderr}");
    assert!(!stdout.contains(&old) && !stderr.contains(&old));
    assert!(
        stdout.contains("pushed the commit that stops tracking .env"),
        "{stdout}"
    );
    // git-filter-repo's own advice to push is not shown: the script pushed already.
    assert!(!stdout.contains("NEXT STEPS"), "{stdout}");
    assert!(stdout.contains("You rewrote 1 (of 2) commits"), "{stdout}");
    let tracked = run_git(&origin, &["ls-tree", "HEAD", "--", ".env"], 0);
    assert_eq!(tracked.trim(), "", "the remote's HEAD still tracks .env");
    let ignore = run_git(&origin, &["show", "HEAD:.gitignore"], 0);
    assert!(ignore.lines().any(|l| l.trim() == ".env"), "{ignore}");
    assert!(
        !contains(&all_objects(&origin), old.as_bytes()),
        "an object on the remote holds the token"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"])
            .trim(),
        "",
        "the clone is in step with the remote"
    );

    // A second run changes nothing and keeps the first changed commits (the file "Done" points at).
    let meta = repo.path.join(".git/unleak-rewrite/first-changed-commits");
    let first = std::fs::read_to_string(&meta).unwrap();
    assert!(!first.trim().is_empty(), "the first run lists its commits");
    let (ok, stdout, stderr) = run_script(&repo.path, &script);
    assert!(ok, "second run failed:\n{stdout}\n{stderr}");
    assert_eq!(std::fs::read_to_string(&meta).unwrap(), first, "{stdout}");
    assert!(stdout.contains("is kept from the run that did"), "{stdout}");
}
