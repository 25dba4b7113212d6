//! `unleak verify`: exit 0 only when nothing carries the token after a rewrite.

use crate::hf_stub::HfStub;
use crate::util::*;
use std::path::Path;

fn verify(dir: &Path, token: &str, extra: &[&str]) -> Run {
    let mut args = vec!["verify", "--format", "json"];
    args.extend_from_slice(extra);
    run_with_token(dir, &args, token)
}

/// Rewrites `repo` in place with git-filter-repo (as a user who followed the plan would).
fn filter_repo(dir: &Path, token: &str) {
    let expressions = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(expressions.path(), format!("{token}==>***REMOVED***\n")).unwrap();
    run_git(
        dir,
        &[
            "filter-repo",
            "--force",
            "--sensitive-data-removal",
            "--no-fetch",
            "--replace-text",
            expressions.path().to_str().unwrap(),
            "--replace-message",
            expressions.path().to_str().unwrap(),
        ],
        0,
    );
}

#[test]
fn leaked_repository_is_not_clean_and_a_rewritten_one_is() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "keep me\n", "Initial");
    let leak = repo.commit_file("config.py", format!("T = '{token}'\nX = 1\n"), "Leak");
    repo.commit_file("b.txt", "later\n", "Later");

    let run = verify(&repo.path, &token, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.json()["verification"]["clean"], false);

    filter_repo(&repo.path, &token);
    // Found nowhere now, and no incident record says it ever was: that is not a confirmation.
    let run = verify(&repo.path, &token, &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("never-found"), "{}", run.stdout);
    // Named as the old token (its fingerprint, as scan printed it): verified.
    let fingerprint = unleak::secret::fingerprint(token.as_bytes());
    let run = run_with_token(
        &repo.path,
        &["verify", "--format", "json", "--fingerprint", &fingerprint],
        &token,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let changed = &report["verification"]["first_changed"];
    assert_eq!(
        changed[0]["commit"],
        leak.as_str(),
        "read from .git/filter-repo/first-changed-commits"
    );
    assert_eq!(changed[0]["exists"], false);

    let human = Unleak::new(&repo.path)
        .args(&["verify", "--fingerprint", &fingerprint])
        .run();
    assert!(human.stdout.contains("Verified clean"), "{}", human.stdout);
}

#[test]
fn leftovers_keep_it_unclean() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "keep me\n", "Initial");
    let leak = repo.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    // A rewrite that left a ref on the old history (as `git filter-branch` leaves refs/original/) and a
    // copy of its expressions file inside .git.
    repo.git(&["update-ref", "refs/original/refs/heads/main", &leak]);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.commit_file("config.py", "T = '***REMOVED***'\n", "Leak");
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    std::fs::create_dir_all(repo.path.join(".git/filter-repo")).unwrap();
    std::fs::write(
        repo.path.join(".git/filter-repo/first-changed-commits"),
        format!("{leak} {}\n", repo.head()),
    )
    .unwrap();
    std::fs::write(
        repo.path.join(".git/filter-repo/expressions.txt"),
        format!("{token}\n"),
    )
    .unwrap();

    let run = verify(&repo.path, &token, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    let v = &report["verification"];
    assert_eq!(v["clean"], false);
    assert_eq!(v["leftover_refs"][0], "refs/original/refs/heads/main");
    assert_eq!(v["git_dir_files"][0], ".git/filter-repo/expressions.txt");
    let changed = &v["first_changed"][0];
    assert_eq!(changed["exists"], true);
    assert_eq!(changed["refs"][0], "refs/original/refs/heads/main");
}

#[test]
fn remote_mirror_sees_only_what_the_server_serves() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("a.txt", "keep me\n", "Initial");
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    repo.git(&["push", "-q", "origin", "main"]);

    let run = verify(&repo.path, &token, &["--remote", "origin"]);
    assert_eq!(run.code, 1, "{run:?}");

    // Rewrite a fresh mirror and force-push it: the server's old objects are unreachable now.
    let mirror = repo.dir.path().join("work.git");
    run_git(
        repo.dir.path(),
        &[
            "clone",
            "-q",
            "--mirror",
            origin.to_str().unwrap(),
            mirror.to_str().unwrap(),
        ],
        0,
    );
    filter_repo(&mirror, &token);
    run_git(&mirror, &["push", "-q", "--force", "--mirror", "origin"], 0);
    // Named as the old token by its fingerprint (with no incident record, a token found nowhere is
    // "never found here", exit 2).
    let fingerprint = unleak::secret::fingerprint(token.as_bytes());
    let run = verify(
        &repo.path,
        &token,
        &["--remote", "origin", "--fingerprint", &fingerprint],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // (--offline: the issuer is not asked, so it cannot settle which token this is.)
    let run = verify(&repo.path, &token, &["--remote", "origin", "--offline"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    // The local clone still has the old history: verify says so.
    let run = verify(&repo.path, &token, &[]);
    assert_eq!(run.code, 1);
}

#[test]
fn fingerprint_only_verification_needs_no_plaintext() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "keep me\n", "Initial");
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    let fingerprint = unleak::secret::fingerprint(token.as_bytes());
    let run = Unleak::new(&repo.path)
        .args(&["verify", "--format", "json", "--fingerprint", &fingerprint])
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["findings"][0]["path"], "config.py");
    assert_eq!(
        report["secrets"].as_array().unwrap().len(),
        1,
        "only the asked-for token"
    );

    filter_repo(&repo.path, &token);
    let run = Unleak::new(&repo.path)
        .args(&["verify", "--fingerprint", &fingerprint])
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let run = Unleak::new(&repo.path)
        .args(&["verify", "--fingerprint", "sha256:nothex"])
        .run();
    assert_eq!(run.code, 2);
}

/// verify reads every object: `--reachable-only` (shared with scan) is refused, not silently ignored.
#[test]
fn verify_refuses_reachable_only() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "a\n", "First");
    let run = Unleak::new(&repo.path)
        .args(&["verify", "--token-stdin", "--reachable-only"])
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--reachable-only does not apply"),
        "{}",
        run.stderr
    );
}

/// Issue #24: a token found nowhere that no incident record names (a fresh clone after the rewrite).
/// Its issuer settles it: dead is the revoked token, so clean (0); live is probably the new token
/// ("is it the new one?", 2); offline or unreachable, as before (2).
#[test]
fn a_token_found_nowhere_is_settled_by_its_issuer() {
    let (dead, live) = (fake_hf_token(), fake_hf_token());
    let stub = HfStub::start();
    stub.add_live(&live, "read");
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "nothing here\n", "Initial");
    let run_with = |token: &str, extra: &[&str]| {
        let mut args = vec!["verify"];
        args.extend_from_slice(extra);
        let run = Unleak::new(&repo.path)
            .args(&[&args[..], &["--token-stdin"]].concat())
            .env("HF_ENDPOINT", &stub.endpoint)
            .stdin(format!("{token}\n"))
            .run();
        run.assert_hides(token);
        run
    };
    let run = run_with(&dead, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("its issuer says it is dead"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Verified clean"), "{}", run.stdout);

    let run = run_with(&live, &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("is it the new one?"), "{}", run.stdout);
    assert!(
        run.stdout.contains("its issuer says it works"),
        "{}",
        run.stdout
    );

    let asked = stub.whoamis().len();
    let run = run_with(&dead, &["--offline"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("is it the new one?"), "{}", run.stdout);
    assert_eq!(stub.whoamis().len(), asked, "--offline asks nobody");
}

/// verify's NOT CLEAN names the next step: history still carries the token, so the rewrite.
#[test]
fn not_clean_names_the_next_step() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    let run = run_with_token(&repo.path, &["verify"], &token);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("NOT CLEAN: see above. Next: history still carries the token: write the rewrite script with `unleak respond --write-script rewrite.sh`"),
        "{}",
        run.stdout
    );
}
