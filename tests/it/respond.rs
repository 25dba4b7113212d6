//! `unleak respond`: the playbook driven by flags against a loopback stand-in for the Hugging Face API.

use crate::hf_stub::HfStub;
use crate::util::*;

/// What most respond tests start from: the old token, a new one, the Hugging Face stand-in (it knows
/// the old token as live with `old_role`, the new one with `new_role`) and a repository that leaked the
/// old one (see [`leaked_repo`]).
pub(crate) fn incident(old_role: &str, new_role: &str) -> (String, String, HfStub, TestRepo) {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let stub = HfStub::start();
    stub.add_live(&old, old_role);
    stub.add_live(&new, new_role);
    let repo = leaked_repo(&old);
    (old, new, stub, repo)
}

/// A repository whose pushed history leaked `token`, with a `.env` holding it among other keys.
pub(crate) fn leaked_repo(token: &str) -> TestRepo {
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
    let (old, new, stub, repo) = incident("write", "read");
    let run = respond_yes(&repo.path, &new, &["--revoke", "api"])
        .env("HF_ENDPOINT", &stub.endpoint)
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

/// The flow in-process with scripted answers: the prompter trait is the seam tests drive.
#[test]
fn scripted_prompts_drive_the_whole_flow() {
    use unleak::playbook::{self, Io};
    use unleak::prompt::{Answer, ScriptedPrompter};
    let (old, new, stub, repo) = incident("write", "fineGrained");
    let script = repo.dir.path().join("rewrite.sh");
    let mut request = respond_request(&repo.path);
    request.settings.write_script = Some(script.clone());
    request.settings.hf_endpoint = stub.endpoint.clone();
    let mut prompter = ScriptedPrompter::new([
        Answer::Choice(0),
        Answer::Yes,
        Answer::Secret(new.clone()),
        Answer::Yes,
        Answer::No,
    ]);
    let mut out = Vec::new();
    let mut stdin = std::io::Cursor::new(Vec::new());
    let outcome = {
        let mut io = Io {
            prompter: &mut prompter,
            out: &mut out,
            stdin: &mut stdin,
            interactive: true,
        };
        playbook::respond(&request, &mut io).unwrap()
    };
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains(&old) && !text.contains(&new), "{text}");
    assert_eq!(
        prompter.asked,
        [
            "How do you want to revoke it?",
            &format!(
                "Add {} to {} as \"revoked {}\", so audits stop failing on it?",
                unleak::secret::Secret::new(old.clone(), "t").fingerprint(),
                repo.path.join(".unleak.toml").display(),
                &unleak::util::time::now_rfc3339()[..10]
            ),
            "New token (input hidden)",
            &format!(
                "Write the new token to {} (HF_TOKEN)?",
                repo.path.join(".env").display()
            ),
            // The record was not asked for by flag, so it is offered (and declined here).
            &format!(
                "Write the incident record (Markdown, and JSON beside it; mode 0600) to {}?",
                repo.dir
                    .path()
                    .canonicalize()
                    .unwrap()
                    .join("repo-incident.md")
                    .display()
            ),
        ]
    );
    assert!(!repo.dir.path().join("repo-incident.md").exists());
    assert_eq!(outcome.record.open_steps(), 0, "{text}");
    assert_eq!(stub.revokes().len(), 1);
    // Confirmed dead, and the user accepted: its fingerprint is allowlisted as revoked.
    let allow = std::fs::read_to_string(repo.path.join(".unleak.toml")).unwrap();
    assert!(allow.contains("reason = \"revoked "), "{allow}");
    unleak::allowlist::Allowlist::load(&repo.path.join(".unleak.toml")).unwrap();
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert_eq!(
        env,
        format!("# secrets\nMODEL=gpt2\nHF_TOKEN={new}\nexport OTHER='x y'\n")
    );
    assert!(script.exists());
}

/// In a real terminal: the revoke choice, the hidden new token (asked twice) and the consent prompt.
#[test]
fn prompts_in_a_terminal_hide_the_new_token() {
    let (old, new, stub, repo) = incident("read", "read");
    let script = repo.dir.path().join("rewrite.sh");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("unleak"));
    scrub(&mut cmd)
        .current_dir(&repo.path)
        .env("HF_ENDPOINT", &stub.endpoint)
        .env("HF_HOME", repo.dir.path().join("hf-home"))
        .env("TERM", "dumb")
        .args(["respond", "--write-script", script.to_str().unwrap()]);
    let mut pty = Pty::spawn(cmd);
    pty.expect("How do you want to revoke it?");
    pty.send("\r");
    pty.expect("so audits stop failing on it?");
    pty.send("n\r");
    pty.expect("(input hidden)");
    pty.type_hidden(&new);
    pty.expect("to confirm");
    pty.type_hidden(&new);
    pty.expect("Write the new token");
    pty.send("y\r");
    pty.expect("Wrote");
    pty.expect("Write the incident record");
    pty.send("n\r");
    pty.expect("Prepared, not done yet: rewrite history");
    let seen = pty.finish();
    assert!(
        !seen.contains(&new) && !seen.contains(&new[3..12]),
        "the terminal showed the new token:\n{seen}"
    );
    assert!(
        !seen.contains(&old),
        "the terminal showed the old token:\n{seen}"
    );
    assert!(seen.contains("Confirmed: the old token is dead"), "{seen}");
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert!(env.contains(&format!("HF_TOKEN={new}\n")));
}

/// `--format json`: the incident record on stdout, the narrative on stderr, no secret in either.
#[test]
fn json_record_on_stdout() {
    let old = fake_hf_token();
    let repo = leaked_repo(&old);
    let run = Unleak::new(&repo.path)
        .args(&["respond", "--dry-run", "--offline", "--format", "json"])
        .run();
    run.assert_hides(&old);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let record = run.json();
    assert_eq!(record["dry_run"], true);
    assert!(record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["status"] == "would-do"));
    assert!(run.stderr.contains("[1/7] Identify"), "{}", run.stderr);
    assert!(record["rewrite_plan"]
        .as_str()
        .unwrap()
        .contains("regex:hf_"));
}

/// Regression guard: an unset --new-token-env is caught before the old token is revoked.
#[test]
fn unset_new_token_variable_stops_before_revoking() {
    let old = fake_hf_token();
    let stub = HfStub::start();
    stub.add_live(&old, "read");
    let repo = leaked_repo(&old);
    let before = snapshot(&repo.path);
    let run = Unleak::new(&repo.path)
        .args(&[
            "respond",
            "--yes",
            "--revoke",
            "api",
            "--new-token-env",
            "NOT_SET_ANYWHERE",
        ])
        .env("HF_ENDPOINT", &stub.endpoint)
        .run();
    run.assert_hides(&old);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("NOT_SET_ANYWHERE is not set"),
        "{}",
        run.stderr
    );
    assert!(stub.requests().is_empty());
    assert_eq!(before, snapshot(&repo.path));
}

/// The rewrite pattern's uniqueness is decided inside the scan's one pass (no pass per pattern): a
/// look-alike that only the narrowest pattern matches (same visible start and end, in a blob and in a
/// commit message) makes the plan widen, exactly as a full search of every object says it must.
#[test]
fn rewrite_pattern_widens_past_a_look_alike_found_in_the_same_pass() {
    let old = fake_hf_token();
    let repo = leaked_repo(&old);
    // Differs from the token in the first hidden character only.
    let flipped = if old.as_bytes()[5] == b'a' { "b" } else { "a" };
    let look_alike = format!("{}{}{}", &old[..5], flipped, &old[6..]);
    repo.commit_file(
        "docs/example.txt",
        format!("HF_TOKEN={look_alike}\n"),
        "Document the variable",
    );
    repo.commit_file("notes.txt", "x\n", &format!("see {look_alike}"));
    let secret = unleak::secret::Secret::new(&old, "test");
    let candidates = unleak::filter_repo::regex_candidates(&secret);
    assert_eq!(candidates.len(), 3);

    // The simple way: every object's bytes, every match of each candidate.
    let mut git = std::process::Command::new("git");
    scrub(&mut git)
        .args(["-C", repo.path.to_str().unwrap()])
        .args(["cat-file", "--batch-all-objects", "--batch"]);
    let out = git.output().unwrap();
    assert!(out.status.success());
    let unique = |pattern: &str| {
        regex::bytes::Regex::new(pattern)
            .unwrap()
            .find_iter(&out.stdout)
            .all(|m| m.as_bytes() == old.as_bytes())
    };
    assert!(!unique(&candidates[0]));
    let expected = candidates.iter().find(|p| unique(p)).unwrap();
    assert_eq!(expected, &candidates[1]);

    let run = Unleak::new(&repo.path)
        .args(&["respond", "--dry-run", "--offline", "--format", "json"])
        .run();
    run.assert_hides(&old);
    let plan = run.json()["rewrite_plan"].as_str().unwrap().to_string();
    assert!(plan.contains(&format!("regex:{expected}==>")), "{plan}");
    assert!(
        !plan.contains(&format!("regex:{}==>", candidates[0])),
        "{plan}"
    );
}

/// Without a look-alike the narrowest pattern is kept: the pass saw the visible start only in the token.
#[test]
fn rewrite_pattern_stays_narrow_when_only_the_token_matches() {
    let old = fake_hf_token();
    let repo = leaked_repo(&old);
    let secret = unleak::secret::Secret::new(&old, "test");
    let narrowest = &unleak::filter_repo::regex_candidates(&secret)[0];
    let run = Unleak::new(&repo.path)
        .args(&["respond", "--dry-run", "--offline", "--format", "json"])
        .run();
    run.assert_hides(&old);
    let plan = run.json()["rewrite_plan"].as_str().unwrap().to_string();
    assert!(plan.contains(&format!("regex:{narrowest}==>")), "{plan}");
}
