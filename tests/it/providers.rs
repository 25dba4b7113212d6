//! Beyond Hugging Face: GitHub's public revoke endpoint in `respond`, and liveness with reasons for every
//! issuer with a read-only identity call (`audit --verify`), each against a loopback stand-in.

use crate::api_stub::{closed_endpoint, ApiStub, DeadAnswer, Mode};
use crate::util::*;
use serde_json::json;
use std::hash::{BuildHasher, Hasher};
use unleak::providers::{examples, rule};

/// A fresh token of this rule's first example shape.
fn token(rule_id: &str) -> String {
    let (_, pattern) = rule(rule_id).expect("rule");
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(1);
    examples::expand_with_seed(pattern.examples[0], h.finish())
}

/// A repository whose pushed history holds `token` in config.py, with .env holding it under `key`.
fn leaked_repo(token: &str, key: &str) -> TestRepo {
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("app.py", "print('hi')\n", "Initial");
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Add config");
    repo.git(&["push", "-q", "origin", "main"]);
    repo.write(".gitignore", ".env\n");
    repo.write(".env", format!("{key}={token}\n"));
    repo
}

fn respond_github(repo: &TestRepo, stub: &ApiStub, old: &str, new: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "respond",
        "--token-env",
        "OLD_GH",
        "--new-token-env",
        "NEW_GH",
        "--revoke",
        "api",
    ];
    args.extend_from_slice(extra);
    let run = Unleak::new(&repo.path)
        .args(&args)
        .env("GITHUB_API_URL", &stub.endpoint)
        .env("OLD_GH", old)
        .env("NEW_GH", new)
        .run();
    run.assert_hides(old).assert_hides(new);
    run
}

#[test]
fn providers_github_token_is_revoked_unauthenticated_and_confirmed_with_user() {
    let old = token("github.personal-access-token");
    let new = token("github.fine-grained-token");
    let stub = ApiStub::start(DeadAnswer::Unauthorized);
    stub.add_live(&old, json!({"login": "octo"}));
    stub.add_live(&new, json!({"login": "octo"}));
    let repo = leaked_repo(&old, "GITHUB_TOKEN");
    let run = respond_github(
        &repo,
        &stub,
        &old,
        &new,
        &["--yes", "--update-key", "GITHUB_TOKEN"],
    );
    assert!(
        run.stdout
            .contains("It is LIVE: it works for GitHub user octo"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout.contains("GitHub accepted the revocation (202)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Confirmed: the old token is dead (GitHub GET /user answered 401)"),
        "{}",
        run.stdout
    );
    let revokes = stub.revokes();
    assert_eq!(revokes.len(), 1, "one request for one token");
    let body: serde_json::Value = serde_json::from_str(&revokes[0].body).unwrap();
    assert_eq!(body, json!({"credentials": [old]}));
    assert_eq!(
        revokes[0].header("authorization"),
        None,
        "the endpoint refuses authenticated requests"
    );
    assert_eq!(
        revokes[0].header("accept"),
        Some("application/vnd.github+json")
    );
    // The identity calls are all reads with the token as bearer.
    let calls = stub.identity_calls();
    assert!(
        calls.len() >= 3,
        "live check, confirmation, new token: {calls:?}"
    );
    assert!(
        calls.iter().all(|c| c.method == "GET" && c.path == "/user"),
        "{calls:?}"
    );
    // Confirmed dead, --yes: the fingerprint is allowlisted as revoked; .env holds the new token.
    let allow = std::fs::read_to_string(repo.path.join(".unleak.toml")).unwrap();
    let fingerprint = unleak::secret::Secret::new(old.clone(), "t").fingerprint();
    assert!(
        allow.contains(&format!("fingerprint = \"{fingerprint}\"")),
        "{allow}"
    );
    assert!(allow.contains("reason = \"revoked 20"), "{allow}");
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert_eq!(env, format!("GITHUB_TOKEN={new}\n"));
    // The allowlisted (dead) token no longer fails an audit on its findings.
    let audit = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json"])
        .run();
    audit.assert_hides(&old);
    assert!(
        audit.json()["findings"].as_array().unwrap().is_empty(),
        "{}",
        audit.stdout
    );
}

#[test]
fn providers_github_refusal_and_rate_limit_leave_the_step_failed() {
    for (mode, says) in [
        (Mode::RevokeStatus(422), "422: validation failed"),
        (Mode::RevokeStatus(500), "answered 500"),
    ] {
        let old = token("github.oauth-token");
        let new = token("github.oauth-token");
        let stub = ApiStub::start(DeadAnswer::Unauthorized);
        stub.add_live(&old, json!({"login": "octo"}));
        stub.add_live(&new, json!({"login": "octo"}));
        stub.set_mode(mode);
        let repo = leaked_repo(&old, "GH_TOKEN");
        let run = respond_github(&repo, &stub, &old, &new, &["--yes"]);
        assert!(
            run.stdout.contains("NOT revoked"),
            "{}\n{}",
            run.stdout,
            run.stderr
        );
        assert!(run.stdout.contains(says), "{}", run.stdout);
        assert_eq!(run.code, 1, "a step is left undone");
        assert!(
            !repo.path.join(".unleak.toml").exists(),
            "a live token is not allowlisted"
        );
    }
    // GitHub's rate limit (403 with no requests left) on /user: unknown with the reason, never "dead".
    let old = token("github.personal-access-token");
    let stub = ApiStub::start(DeadAnswer::Unauthorized);
    stub.set_mode(Mode::GithubRateLimited);
    let repo = leaked_repo(&old, "GITHUB_TOKEN");
    let run = respond_github(
        &repo,
        &stub,
        &old,
        &token("github.personal-access-token"),
        &["--dry-run"],
    );
    assert!(
        run.stdout.contains("Could not check it (rate-limited:"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("dry run: would POST"), "{}", run.stdout);
    assert!(stub.revokes().is_empty(), "a dry run revokes nothing");
}

#[test]
fn providers_github_endpoint_must_be_https_or_loopback() {
    let old = token("github.personal-access-token");
    let repo = leaked_repo(&old, "GITHUB_TOKEN");
    for bad in ["http://api.example.com", "http://127.0.0.1.evil.example"] {
        let run = Unleak::new(&repo.path)
            .args(&["respond", "--dry-run", "--token-env", "OLD_GH"])
            .env("GITHUB_API_URL", bad)
            .env("OLD_GH", &old)
            .run();
        run.assert_hides(&old);
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("GITHUB_API_URL") && run.stderr.contains("not https"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn providers_other_issuers_get_their_revoke_page_and_a_liveness_check() {
    let key = token("openai.project-key");
    let stub = ApiStub::start(DeadAnswer::Unauthorized);
    stub.add_live(&key, json!({"data": []}));
    let repo = leaked_repo(&key, "OPENAI_API_KEY");
    let run = Unleak::new(&repo.path)
        .args(&["respond", "--dry-run", "--token-env", "KEY"])
        .env("UNLEAK_OPENAI_API_URL", &stub.endpoint)
        .env("KEY", &key)
        .run();
    run.assert_hides(&key);
    assert!(
        run.stdout
            .contains("(OpenAI) is LIVE (OpenAI GET /v1/models answered 200)"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stdout
            .contains("revoke it at https://platform.openai.com/api-keys"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("What to do and check: Delete the key"),
        "{}",
        run.stdout
    );
    let calls = stub.requests();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].method, "GET");
    assert_eq!(calls[0].path, "/v1/models");
}

/// One audit over six issuers' tokens: each live or dead through its own read-only call, the reason shown.
#[test]
fn providers_audit_verify_checks_each_issuer_read_only() {
    let cases = [
        (
            "github.personal-access-token",
            "GITHUB_API_URL",
            DeadAnswer::Unauthorized,
            "GitHub GET /user",
        ),
        (
            "openai.project-key",
            "UNLEAK_OPENAI_API_URL",
            DeadAnswer::Unauthorized,
            "OpenAI GET /v1/models",
        ),
        (
            "anthropic.api-key",
            "UNLEAK_ANTHROPIC_API_URL",
            DeadAnswer::Unauthorized,
            "Anthropic GET /v1/models",
        ),
        (
            "slack.bot-token",
            "UNLEAK_SLACK_API_URL",
            DeadAnswer::SlackOkFalse,
            "Slack POST /auth.test",
        ),
        (
            "stripe.secret-key",
            "UNLEAK_STRIPE_API_URL",
            DeadAnswer::Unauthorized,
            "Stripe GET /v1/balance",
        ),
        (
            "npm.access-token",
            "UNLEAK_NPM_REGISTRY_URL",
            DeadAnswer::Unauthorized,
            "npm GET /-/whoami",
        ),
    ];
    let repo = TestRepo::new();
    let mut cmd = Unleak::new(&repo.path).args(&["audit", "--format", "json", "--verify"]);
    let mut expected = Vec::new();
    let mut stubs = Vec::new();
    let mut all_tokens = Vec::new();
    for (i, (rule_id, var, dead, call)) in cases.iter().enumerate() {
        let live = token(rule_id);
        let gone = token(rule_id);
        let stub = ApiStub::start(*dead);
        stub.add_live(
            &live,
            json!({"ok": true, "login": "octo", "user": "bot", "username": "ada"}),
        );
        repo.commit_file(
            &format!("f{i}.txt"),
            format!("live: {live}\ngone: {gone}\n"),
            "Leak",
        );
        cmd = cmd.env(var, &stub.endpoint);
        let fp = |t: &str| unleak::secret::Secret::new(t.to_string(), "t").fingerprint();
        expected.push((fp(&live), "live", call.to_string()));
        expected.push((fp(&gone), "dead", call.to_string()));
        all_tokens.push(live);
        all_tokens.push(gone);
        stubs.push((stub, *call));
    }
    let run = cmd.run();
    for t in &all_tokens {
        run.assert_hides(t);
    }
    let report = run.json();
    let secrets = report["secrets"].as_array().unwrap();
    for (fingerprint, label, call) in &expected {
        let s = secrets
            .iter()
            .find(|s| s["secret"]["fingerprint"] == fingerprint.as_str())
            .unwrap_or_else(|| panic!("{fingerprint} not reported:\n{}", run.stdout));
        assert_eq!(s["live"], *label, "{s}");
        let reason = s["live_reason"].as_str().unwrap();
        assert!(reason.starts_with(call.as_str()), "{reason}");
        if *label == "dead" {
            assert_eq!(
                s["severity"], "low",
                "a dead token is a lower severity: {s}"
            );
        }
    }
    for (stub, call) in &stubs {
        let requests = stub.requests();
        assert_eq!(requests.len(), 2, "{call}: {requests:?}");
        let post_ok = call.starts_with("Slack");
        for r in &requests {
            assert!(
                r.method == "GET" || (post_ok && r.path == "/auth.test"),
                "{call} wrote: {r:?}"
            );
        }
        assert!(stub.revokes().is_empty(), "audit never revokes");
    }
}

#[test]
fn providers_unknown_always_says_why() {
    let pat = token("github.personal-access-token");
    let installation = token("github.app-installation-token");
    let repo = TestRepo::new();
    repo.commit_file("a.txt", format!("{pat}\n{installation}\n"), "Leak");
    let fp = |t: &str| unleak::secret::Secret::new(t.to_string(), "t").fingerprint();
    let reasons = |run: &Run| -> (String, String) {
        run.assert_hides(&pat).assert_hides(&installation);
        let report = run.json();
        let get = |t: &str| {
            let s = report["secrets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["secret"]["fingerprint"] == fp(t).as_str())
                .cloned()
                .unwrap();
            assert_eq!(s["live"], "unknown", "{s}");
            s["live_reason"].as_str().unwrap().to_string()
        };
        (get(&pat), get(&installation))
    };
    let audit = |endpoint: &str, timeout: &str| {
        Unleak::new(&repo.path)
            .args(&["audit", "--format", "json", "--verify"])
            .env("GITHUB_API_URL", endpoint)
            .env("UNLEAK_HTTP_TIMEOUT", timeout)
            .run()
    };
    let stub = ApiStub::start(DeadAnswer::Unauthorized);
    stub.set_mode(Mode::RateLimited);
    let (why, no_check) = reasons(&audit(&stub.endpoint, "5"));
    assert!(
        why.starts_with("rate-limited: GitHub GET /user answered 429"),
        "{why}"
    );
    assert!(why.contains("retry after 60s"), "{why}");
    assert!(
        no_check.starts_with("no-check: GitHub documents no read-only check"),
        "{no_check}"
    );
    let (why, _) = reasons(&audit(&closed_endpoint(), "5"));
    assert!(
        why.starts_with("network: GitHub GET /user: cannot reach"),
        "{why}"
    );
    let tls = ApiStub::start(DeadAnswer::Unauthorized);
    let (why, _) = reasons(&audit(&tls.https_endpoint(), "5"));
    assert!(why.starts_with("tls: GitHub GET /user: TLS with"), "{why}");
    let hang = ApiStub::start(DeadAnswer::Unauthorized);
    hang.set_mode(Mode::Hang);
    let (why, _) = reasons(&audit(&hang.endpoint, "1"));
    assert!(
        why.starts_with("timeout: GitHub GET /user: no answer"),
        "{why}"
    );
    // The human report shows the reason too.
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--verify"])
        .env("GITHUB_API_URL", &stub.endpoint)
        .run();
    run.assert_hides(&pat);
    assert!(
        run.stdout
            .contains("liveness unknown (rate-limited: GitHub GET /user answered 429"),
        "{}",
        run.stdout
    );
}

#[test]
fn providers_dead_tokens_no_longer_fail_a_medium_threshold() {
    let gone = token("npm.access-token");
    let stub = ApiStub::start(DeadAnswer::Unauthorized);
    let repo = TestRepo::new();
    repo.commit_file(
        "npmrc",
        format!("//registry.npmjs.org/:_authToken={gone}\n"),
        "Leak",
    );
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--fail-on", "medium"])
        .run();
    run.assert_hides(&gone);
    assert_eq!(
        run.code, 1,
        "unverified: a local leak is medium\n{}",
        run.stdout
    );
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--fail-on", "medium", "--verify"])
        .env("UNLEAK_NPM_REGISTRY_URL", &stub.endpoint)
        .run();
    run.assert_hides(&gone);
    assert!(
        run.stdout
            .contains("dead: revoked or invalid (npm GET /-/whoami answered 401)"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "dead: low severity\n{}", run.stdout);
    // --fail-on low (the default) still reports it: history still needs cleaning.
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--verify"])
        .env("UNLEAK_NPM_REGISTRY_URL", &stub.endpoint)
        .run();
    assert_eq!(run.code, 1);
}

#[test]
fn providers_token_only_in_its_untracked_env_is_not_a_leak() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("app.py", "print('hi')\n", "Initial");
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    let run = Unleak::new(&repo.path).args(&["scan"]).run();
    run.assert_hides(&token);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("LEAKED"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("it is only in .env, the untracked file it was read from"),
        "{}",
        run.stdout
    );
    // A second copy anywhere else is a leak again.
    repo.write("notes.txt", format!("{token}\n"));
    let run = Unleak::new(&repo.path).args(&["scan"]).run();
    run.assert_hides(&token);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("LEAKED"), "{}", run.stdout);
}

#[test]
fn providers_baseline_covers_hygiene_issues() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file(".env", format!("HF_TOKEN={token}\n"), "Oops");
    repo.git(&["rm", "-q", "--cached", ".env"]);
    repo.commit_file(".gitignore", ".env\n", "Ignore .env");
    let audit = |extra: &[&str]| {
        let mut args = vec!["audit", "--format", "json"];
        args.extend_from_slice(extra);
        let run = Unleak::new(&repo.path).args(&args).run();
        run.assert_hides(&token);
        run
    };
    let first = audit(&[]);
    assert_eq!(first.code, 1);
    let ids: Vec<String> = first.json()["hygiene"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ids.contains(&"hygiene.env-in-history".to_string()),
        "{ids:?}"
    );
    std::fs::write(repo.dir.path().join("baseline.json"), &first.stdout).unwrap();
    let baseline = repo.dir.path().join("baseline.json");
    let quiet = audit(&["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(quiet.code, 0, "{}", quiet.stdout);
    assert!(
        quiet.json()["hygiene"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{}",
        quiet.stdout
    );
    // Committing an env file again is new.
    repo.commit_file(".env.local", "MODE=dev\n", "Another env file");
    let again = audit(&["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(again.code, 1, "{}", again.stdout);
}

#[test]
fn providers_allowlist_errors_and_sha256_say_it_plainly() {
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "hi\n", "Initial");
    repo.write(
        ".unleak.toml",
        "[[allow]]\nfingerprint = \"sha256:x\"\nreason = \n",
    );
    let run = Unleak::new(&repo.path).args(&["audit"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(".unleak.toml is not a valid allowlist at line 3, column"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("\\x0a"), "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);

    let dir = tempfile::tempdir().unwrap();
    let sha = dir.path().join("sha");
    let mut git = std::process::Command::new("git");
    scrub(&mut git).args([
        "init",
        "-q",
        "--object-format=sha256",
        sha.to_str().unwrap(),
    ]);
    assert!(git.status().unwrap().success());
    let run = Unleak::new(&sha).args(&["audit"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("uses SHA-256 object ids")
            && run.stderr.contains("does not support yet"),
        "{}",
        run.stderr
    );
}

/// Pull-request mode: only what the range's commits add, in blobs, paths and messages.
#[test]
fn providers_range_audits_only_what_the_commits_add() {
    let old = token("github.personal-access-token");
    let added = token("npm.access-token");
    let in_message = token("openai.project-key");
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("A = '{old}'\n"), "Old leak");
    let base = repo.head();
    // Touching a file that already held a token does not add it again.
    repo.commit_file(
        "config.py",
        format!("A = '{old}'\nB = 2\n"),
        "Unrelated change",
    );
    repo.commit_file(
        "ci/npmrc",
        format!("//r/:_authToken={added}\n"),
        "Add npmrc",
    );
    repo.write("x.txt", "x\n");
    repo.git(&["add", "x.txt"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        &format!("Use key {in_message} for now"),
    ]);
    let hide = |run: &Run| {
        run.assert_hides(&old)
            .assert_hides(&added)
            .assert_hides(&in_message);
    };
    for args in [
        vec!["audit", "--format", "json", "--since", &base],
        vec![
            "audit",
            "--format",
            "json",
            "--range",
            &format!("{base}..HEAD"),
        ],
    ] {
        let run = Unleak::new(&repo.path).args(&args).run();
        hide(&run);
        assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
        let report = run.json();
        let mut got: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["location"].as_str().unwrap().to_string(),
                    f["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("blob".to_string(), "npm.access-token".to_string()),
                (
                    "commit-message".to_string(),
                    "openai.project-key".to_string()
                ),
            ],
            "{}",
            run.stdout
        );
        assert_eq!(report["stats"]["commits"], 3);
    }
    // An empty range is clean; SARIF as usual.
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--range", "HEAD..HEAD"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "sarif", "--range", "HEAD~1..HEAD"])
        .run();
    hide(&run);
    assert_eq!(run.code, 1);
    crate::sarif::assert_valid_sarif(&run.stdout);
    assert!(run.stdout.contains("openai.project-key"));
}

/// A shallow CI checkout: the range and its base must be present, else a clear error (never "clean").
#[test]
fn providers_range_on_a_shallow_clone_needs_the_base() {
    let leak = token("npm.access-token");
    let repo = TestRepo::new();
    for i in 0..4 {
        repo.commit_file(&format!("f{i}.txt"), format!("{i}\n"), "Work");
    }
    let first = repo.rev("HEAD~3");
    repo.commit_file("npmrc", format!("{leak}\n"), "Leak");
    let shallow = repo.dir.path().join("shallow");
    let url = format!("file://{}", repo.path.display());
    run_git(
        repo.dir.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "2",
            &url,
            shallow.to_str().unwrap(),
        ],
        0,
    );
    // Depth 2 holds the last commit and its parent: enough for HEAD~1..HEAD.
    let run = Unleak::new(&shallow)
        .args(&["audit", "--format", "json", "--range", "HEAD~1..HEAD"])
        .run();
    run.assert_hides(&leak);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["findings"].as_array().unwrap().len(), 1);
    let run = Unleak::new(&shallow)
        .args(&["audit", "--since", &first])
        .run();
    run.assert_hides(&leak);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("shallow clone"), "{}", run.stderr);
}

/// `unleak:allow` on the line accepts that token: in audit and in the hook. In pull-request mode a
/// marker the range itself adds is not honoured (issue #25: a pull request could silence its own leak):
/// reported, with a warning.
#[test]
fn providers_inline_allow_and_config_defaults() {
    let fixture = token("stripe.secret-key");
    let real = token("npm.access-token");
    let repo = TestRepo::new();
    repo.commit_file("README.md", "# demo\n", "Initial");
    let base = repo.head();
    repo.commit_file(
        "tests/fixture.py",
        format!("KEY = '{fixture}'  # unleak:allow (test fixture)\n"),
        "Fixture",
    );
    let hide = |run: &Run| {
        run.assert_hides(&fixture).assert_hides(&real);
    };
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json"])
        .run();
    hide(&run);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("suppressed"), "{}", run.stdout);
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json", "--since", &base])
        .run();
    hide(&run);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("inline-allow-in-range"),
        "{}",
        run.stdout
    );
    // A range after the marker's commit leaves it alone.
    let marked = repo.head();
    repo.commit_file("other.txt", "x\n", "Unrelated");
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--since", &marked])
        .run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    // The marker covers its own line only.
    repo.commit_file(
        "tests/fixture.py",
        format!("KEY = '{fixture}'  # unleak:allow (test fixture)\nNPM = '{real}'\n"),
        "Another",
    );
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json"])
        .run();
    hide(&run);
    assert_eq!(run.code, 1);
    let report = run.json();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["npm.access-token"], "{}", run.stdout);

    // [defaults] in .unleak.toml: the format and threshold when no flag is typed; flags still win.
    repo.write(
        ".unleak.toml",
        "[defaults]\nfail-on = \"high\"\nformat = \"sarif\"\n",
    );
    let run = Unleak::new(&repo.path).args(&["audit"]).run();
    hide(&run);
    assert_eq!(
        run.code, 0,
        "nothing pushed, so nothing high\n{}",
        run.stdout
    );
    crate::sarif::assert_valid_sarif(&run.stdout);
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--fail-on", "low", "--format", "json"])
        .run();
    hide(&run);
    assert_eq!(run.code, 1);
    run.json();
    repo.write(".unleak.toml", "[defaults]\nfail-on = \"sometimes\"\n");
    let run = Unleak::new(&repo.path).args(&["audit"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a valid allowlist at line 2"),
        "{}",
        run.stderr
    );
}

/// `[[rule]]` in .unleak.toml: a team's own token shape, its examples checked when the file loads.
#[test]
fn providers_custom_rules_are_checked_at_load_and_scanned_for() {
    let repo = TestRepo::new();
    let key = examples::expand_with_seed("acme_{lower:32}", 7);
    repo.commit_file("deploy.sh", format!("export ACME_KEY={key}\n"), "Deploy");
    let rule = |examples: &str| {
        format!(
            "[[rule]]\nid = \"acme.api-key\"\ndescription = \"ACME API key\"\nregex = 'acme_[a-z0-9]{{32}}'\n\
             prefixes = [\"acme_\"]\nexamples = [{examples}]\nnegatives = [\"acme_{{lower:31}}\"]\n"
        )
    };
    repo.write(".unleak.toml", rule("\"acme_{lower:32}\""));
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json"])
        .run();
    run.assert_hides(&key);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(rules, ["acme.api-key"], "{}", run.stdout);
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "sarif"])
        .run();
    run.assert_hides(&key);
    crate::sarif::assert_valid_sarif(&run.stdout);
    assert!(run.stdout.contains("ACME API key"), "the rule is described");
    // An example the regex does not match is an error at load, naming the rule.
    repo.write(".unleak.toml", rule("\"acme_{lower:31}\""));
    let run = Unleak::new(&repo.path).args(&["audit"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("[[rule]] acme.api-key: example \"acme_{lower:31}\" does not match"),
        "{}",
        run.stderr
    );
    // Nor may a custom rule borrow a built-in provider's namespace.
    repo.write(
        ".unleak.toml",
        rule("\"acme_{lower:32}\"").replace("acme.api-key", "github.mine"),
    );
    let run = Unleak::new(&repo.path).args(&["audit"]).run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("built-in provider"), "{}", run.stderr);
    // Issue #25: a malformed example template panicked (exit 101), and a repeat count took 7.8 GiB.
    // Each is an error at load (exit 2) that names the rule and what is wrong; so is a regex too big.
    for (examples, why) in [
        ("\"acme_{lower:32\"", "unclosed hole"),
        ("\"acme_{lower}\"", "neither class:N"),
        ("\"acme_{emoji:32}\"", "unknown class"),
        ("\"acme_{x*9999999999}\"", "expands past"),
        ("\"acme_{lower:99999999999999}\"", "expands past"),
    ] {
        repo.write(".unleak.toml", rule(examples));
        let run = Unleak::new(&repo.path).args(&["audit"]).run();
        assert_eq!(run.code, 2, "{examples}: {}", run.stderr);
        assert!(
            run.stderr.contains("[[rule]] acme.api-key: a bad example") && run.stderr.contains(why),
            "{examples}: {}",
            run.stderr
        );
    }
    repo.write(
        ".unleak.toml",
        rule("\"acme_{lower:32}\"").replace("acme_[a-z0-9]{32}", "acme_(?:[a-z0-9]{32}){1000}"),
    );
    let run = Unleak::new(&repo.path).args(&["audit"]).run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("too large"), "{}", run.stderr);
}
