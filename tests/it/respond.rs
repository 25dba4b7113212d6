//! `unleak respond`: the playbook driven by flags against a loopback stand-in for the Hugging Face API.

use crate::hf_stub::HfStub;
use crate::util::*;

/// A repository whose pushed history leaked `token`, with a `.env` holding it among other keys.
fn leaked_repo(token: &str) -> TestRepo {
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("app.py", "print('hi')\n", "Initial");
    repo.commit_file(
        "config.py",
        format!("HF = '{token}'\nOTHER = 1\n"),
        "Add config",
    );
    repo.git(&["push", "-q", "origin", "main"]);
    repo.write(
        ".env",
        format!("# secrets\nMODEL=gpt2\nHF_TOKEN={token}\nexport OTHER='x y'\n"),
    );
    repo
}

#[test]
fn revokes_through_the_api_and_confirms() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let stub = HfStub::start();
    stub.add_live(&old, "write");
    stub.add_live(&new, "read");
    let repo = leaked_repo(&old);
    let run = Unleak::new(&repo.path)
        .args(&[
            "respond",
            "--yes",
            "--revoke",
            "api",
            "--new-token-env",
            "NEW_HF",
        ])
        .env("HF_ENDPOINT", &stub.endpoint)
        .env("NEW_HF", &new)
        .run();
    run.assert_hides(&old).assert_hides(&new);
    assert!(
        run.stdout.contains("Confirmed: the old token is dead"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("New token"), "{}", run.stdout);
    let revokes = stub.revokes();
    assert_eq!(revokes.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&revokes[0].body).unwrap();
    assert_eq!(body["credentials"], serde_json::json!([old]));
    assert!(
        stub.whoamis().len() >= 3,
        "live check, confirmation, new token check"
    );
}

#[test]
fn without_a_terminal_and_without_answers_it_changes_nothing() {
    let old = fake_hf_token();
    let stub = HfStub::start();
    stub.add_live(&old, "read");
    let repo = leaked_repo(&old);
    let before = snapshot(&repo.path);
    let run = Unleak::new(&repo.path)
        .args(&["respond"])
        .env("HF_ENDPOINT", &stub.endpoint)
        .run();
    run.assert_hides(&old);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--new-token-env"), "{}", run.stderr);
    assert!(
        stub.requests().is_empty(),
        "no network call before the answers are known"
    );
    assert_eq!(before, snapshot(&repo.path));
}

#[test]
fn dry_run_changes_nothing_and_revokes_nothing() {
    let old = fake_hf_token();
    let stub = HfStub::start();
    stub.add_live(&old, "read");
    let repo = leaked_repo(&old);
    let before = snapshot(&repo.path);
    let report = repo.dir.path().join("incident.md");
    let run = Unleak::new(&repo.path)
        .args(&["respond", "--dry-run", "--report", report.to_str().unwrap()])
        .env("HF_ENDPOINT", &stub.endpoint)
        .run();
    run.assert_hides(&old);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(stub.revokes().is_empty(), "the revoke API is a write");
    assert!(!report.exists());
    assert_eq!(
        before,
        snapshot(&repo.path),
        "the repository, .git included, is byte-identical"
    );
}
