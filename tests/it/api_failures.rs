//! What `respond` and `audit --verify` say and keep when the API fails: a record on every exit path,
//! the status the revoke endpoint really gave, why liveness is unknown, and untrusted API text escaped.

use crate::hf_stub::HfStub;
use crate::util::*;

/// A repository whose history leaked `token`, with a `.env` holding it.
fn leaked_repo(token: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", ".env\n");
    repo.commit_file("config.py", format!("HF = '{token}'\n"), "Add config");
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    repo
}

fn respond(repo: &TestRepo, stub: &HfStub, new: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "respond",
        "--yes",
        "--revoke",
        "api",
        "--new-token-env",
        "NEW_HF",
    ];
    args.extend_from_slice(extra);
    Unleak::new(&repo.path)
        .args(&args)
        .env("HF_ENDPOINT", &stub.endpoint)
        .env("NEW_HF", new)
        .run()
}

#[test]
fn api_failure_network_error_goes_on_by_hand_and_records_it() {
    let (old, new) = (fake_hf_token(), fake_hf_token());
    let stub = HfStub::start();
    stub.add_live(&old, "read");
    stub.add_live(&new, "read");
    stub.hang_up("/api/credentials/revoke");
    let repo = leaked_repo(&old);
    let record = repo.dir.path().join("incident.md");
    let run = respond(&repo, &stub, &new, &["--report", record.to_str().unwrap()]);
    run.assert_hides(&old).assert_hides(&new);
    // Never stranded: one line naming --offline, then the later steps; the revoke stays open (exit 1).
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("--offline"), "{}", run.stdout);
    assert!(run.stdout.contains("Update .env"), "{}", run.stdout);
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.dir.path().join("incident.md.json"))
            .expect("the record is written"),
    )
    .unwrap();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps[0]["step"], "exposure", "{json:#}");
    assert_eq!(steps[0]["status"], "done");
    let revoke = steps
        .iter()
        .find(|s| s["step"].as_str().is_some_and(|n| n.starts_with("revoke")))
        .expect("a revoke step");
    assert_ne!(revoke["status"], "done", "{json:#}");
    let md = std::fs::read_to_string(&record).unwrap();
    assert!(!md.contains(&old) && !json.to_string().contains(&old));
}

/// A step that fails outright (here: `.env` is a link onto a tracked file, which respond refuses to write
/// through) still leaves the incident record, with what was done and where it stopped.
#[test]
fn a_failed_step_still_writes_the_incident_record() {
    let (old, new) = (fake_hf_token(), fake_hf_token());
    let stub = HfStub::start();
    stub.add_live(&old, "read");
    stub.add_live(&new, "read");
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("HF = '{old}'\n"), "Add config");
    repo.commit_file("notes.txt", format!("HF_TOKEN={old}\n"), "Add notes");
    std::os::unix::fs::symlink("notes.txt", repo.path.join(".env")).unwrap();
    let record = repo.dir.path().join("incident.md");
    let run = respond(&repo, &stub, &new, &["--report", record.to_str().unwrap()]);
    run.assert_hides(&old).assert_hides(&new);
    assert_eq!(run.code, 2, "{run:?}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.dir.path().join("incident.md.json"))
            .expect("the record is written although the run failed"),
    )
    .unwrap();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps[0]["step"], "exposure", "{json:#}");
    let last = steps.last().unwrap();
    assert_eq!(last["step"], "stopped", "{json:#}");
    assert!(!json.to_string().contains(&old));
    assert_eq!(
        std::fs::read_to_string(repo.path.join("notes.txt")).unwrap(),
        format!("HF_TOKEN={old}\n"),
        "the tracked file behind the link is untouched"
    );
}

#[test]
fn api_failure_revoke_500_is_reported_as_not_accepted() {
    let (old, new) = (fake_hf_token(), fake_hf_token());
    let stub = HfStub::start();
    stub.add_live(&old, "read");
    stub.add_live(&new, "read");
    stub.set_status("/api/credentials/revoke", 500);
    let repo = leaked_repo(&old);
    let run = respond(&repo, &stub, &new, &[]);
    run.assert_hides(&old).assert_hides(&new);
    assert!(
        run.stdout.contains("answered 500") && run.stdout.contains("NOT accepted"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("whatever the token"), "{}", run.stdout);
    assert!(
        run.stdout.contains("NOT confirmed"),
        "the token still works: {}",
        run.stdout
    );
    assert_eq!(run.code, 1, "a step is left open: {run:?}");
}

#[test]
fn api_failure_whoami_user_name_cannot_drive_the_terminal() {
    let (old, new) = (fake_hf_token(), fake_hf_token());
    let stub = HfStub::start();
    stub.add_live(&old, "read");
    stub.add_live_named(&new, "ada\x1b]0;pwned\x07\x1b[2J", "read");
    let repo = leaked_repo(&old);
    let run = respond(&repo, &stub, &new, &[]);
    run.assert_hides(&old).assert_hides(&new);
    assert!(
        run.stdout.contains("user ada\\x1b]0;pwned"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'));
}

#[test]
fn api_failure_audit_verify_says_why_liveness_is_unknown() {
    let token = fake_hf_token();
    let repo = leaked_repo(&token);
    // A plain-HTTP server spoken to over https: the TLS handshake fails.
    let stub = HfStub::start();
    let tls = stub.endpoint.replace("http://", "https://");
    // A port nobody listens on: connection refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let rate_limited = HfStub::start();
    rate_limited.set_rate_limited(true);
    for (endpoint, why) in [
        (tls.as_str(), "tls: "),
        (closed.as_str(), "network: "),
        (rate_limited.endpoint.as_str(), "rate-limited: "),
    ] {
        let run = Unleak::new(&repo.path)
            .args(&["audit", "--verify", "--format", "json"])
            .env("HF_ENDPOINT", endpoint)
            .run();
        run.assert_hides(&token);
        let json = run.json();
        let secret = json["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["provider"] == "huggingface")
            .unwrap_or_else(|| panic!("{json:#}"));
        assert_eq!(secret["live"], "unknown", "{json:#}");
        let reason = secret["live_reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with(why),
            "{endpoint}: want {why:?}, got {reason:?}"
        );
    }
}
