//! Every yes/no question in a real terminal reads a whole line: `y` Enter answers that question and
//! only that one (issue #24: the Enter after `y` used to answer the next question with its default, so
//! `.env` was untracked and the record written without the questions ever being seen).

use crate::hf_stub::HfStub;
use crate::util::*;

/// A repository whose pushed history tracks `.env` holding `token` (tracked at HEAD, no .gitignore).
fn tracked_env_repo(token: &str) -> TestRepo {
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("app.py", "print('hi')\n", "Initial");
    repo.commit_file(".env", format!("HF_TOKEN={token}\n"), "Add env");
    repo.git(&["push", "-q", "origin", "main"]);
    repo
}

fn tracked(repo: &TestRepo, path: &str) -> bool {
    !repo.git(&["ls-files", "--", path]).trim().is_empty()
}

/// `unleak respond` in a pty, with no flags: the revoke choice (API) and the new token typed hidden.
fn respond_in_a_pty(repo: &TestRepo, stub: &HfStub, new: &str) -> Pty {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("unleak"));
    scrub(&mut cmd)
        .current_dir(&repo.path)
        .env("HF_ENDPOINT", &stub.endpoint)
        .env("HF_HOME", repo.dir.path().join("hf-home"))
        .env("TERM", "dumb")
        .arg("respond");
    let mut pty = Pty::spawn(cmd);
    pty.expect("How do you want to revoke it?");
    pty.send("\r");
    pty.expect("so audits stop failing on it?");
    pty.send("n\r");
    pty.expect("(input hidden)");
    pty.type_hidden(new);
    pty.expect("to confirm");
    pty.type_hidden(new);
    pty
}

/// `n` Enter at every question whose default is yes: each answer is its own, so nothing the questions
/// ask about happens (with the old one-keypress questions, each Enter said yes to the next one).
#[test]
fn respond_no_enter_answers_only_its_own_question() {
    let (old, new) = (fake_hf_token(), fake_hf_token());
    let stub = HfStub::start();
    stub.add_live(&old, "read");
    stub.add_live(&new, "read");
    let repo = tracked_env_repo(&old);
    let mut pty = respond_in_a_pty(&repo, &stub, &new);
    pty.expect("Write the new token to");
    pty.send("n\r");
    pty.expect("Write this plan as a script (mode 0700) to");
    pty.send("n\r");
    pty.expect("Write the incident record");
    pty.send("n\r");
    pty.expect("step(s) left undone:");
    let seen = pty.finish();
    assert!(!seen.contains(&old) && !seen.contains(&new), "{seen}");
    // The .env step was declined: the old token stays, and no hygiene question was reached.
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert_eq!(env, format!("HF_TOKEN={old}\n"));
    assert!(tracked(&repo, ".env"), "declined: .env stays tracked");
    assert!(
        !repo.dir.path().join("repo-rewrite.sh").exists(),
        "declined: no script:\n{seen}"
    );
    assert!(
        !repo.dir.path().join("repo-incident.md").exists(),
        "declined: no record (the Enter after `n` at the script question used to answer this one):\n{seen}"
    );
    assert!(seen.contains("- update .env: declined"), "{seen}");
    assert!(seen.contains("- rewrite history:"), "{seen}");
}

/// `y` Enter at every question: each question is shown, then answered by its own line; the Enter never
/// answers the next one before it is seen.
#[test]
fn respond_yes_enter_answers_only_its_own_question() {
    let (old, new) = (fake_hf_token(), fake_hf_token());
    let stub = HfStub::start();
    stub.add_live(&old, "read");
    stub.add_live(&new, "read");
    let repo = tracked_env_repo(&old);
    let mut pty = respond_in_a_pty(&repo, &stub, &new);
    pty.expect("Write the new token to");
    pty.send("y\r");
    pty.expect("Remove .env from the git index");
    // Not answered yet: the question waits for its own line.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(tracked(&repo, ".env"), "answered before it was seen");
    pty.send("y\r");
    pty.expect("Write this plan as a script (mode 0700) to");
    pty.send("y\r");
    pty.expect("Commit what this run changed");
    pty.send("n\r");
    pty.expect("Wrote");
    pty.expect("Write the incident record");
    pty.send("y\r");
    pty.expect("wrote ");
    let seen = pty.finish();
    assert!(!seen.contains(&old) && !seen.contains(&new), "{seen}");
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert_eq!(env, format!("HF_TOKEN={new}\n"));
    assert!(!tracked(&repo, ".env"), "agreed: .env untracked");
    assert!(repo.dir.path().join("repo-rewrite.sh").is_file());
    assert!(repo.dir.path().join("repo-incident.md").is_file());
    // Declined: the untracking stays staged, not committed, and the last screen says to commit it
    // before the script can run.
    let last = repo.git(&["log", "-1", "--format=%s"]);
    assert_eq!(last.trim(), "Add env", "{seen}");
    assert!(
        seen.contains("next: commit or stash the uncommitted changes first"),
        "{seen}"
    );
}

/// `unleak setup` in a pty with `.env` tracked: the one yes/no question (untrack it?) is answered by
/// the line typed, `n` and `y` alike.
#[test]
fn setup_yes_no_reads_a_line() {
    for (answer, untracked) in [("n\r", false), ("y\r", true)] {
        let old = fake_hf_token();
        let token = fake_hf_token();
        let repo = tracked_env_repo(&old);
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("unleak"));
        scrub(&mut cmd)
            .current_dir(&repo.path)
            .env("HF_HOME", repo.dir.path().join("hf-home"))
            .env("TERM", "dumb")
            .arg("setup");
        let mut pty = Pty::spawn(cmd);
        pty.expect("(input hidden)");
        pty.type_hidden(&token);
        pty.expect("to confirm");
        pty.type_hidden(&token);
        pty.expect("Remove it from the index");
        pty.send(answer);
        let seen = pty.finish();
        assert!(!seen.contains(&token), "{seen}");
        assert_eq!(!tracked(&repo, ".env"), untracked, "{answer:?}: {seen}");
        if !untracked {
            assert!(seen.contains("not done:"), "{seen}");
        }
    }
}
