//! Issue #24, less noise: each test is one thing the screen used to say that hid what matters.

use crate::respond::{incident, leaked_repo};
use crate::util::*;

/// An endpoint on loopback where nothing listens.
fn unreachable_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// With the script written, step 6 shows the plan's step titles, not its hundred lines; without a
/// script, the plan in full is the only copy, so it is shown. No stash warning without a stash.
#[test]
fn the_rewrite_step_shows_a_summary_when_the_script_is_written() {
    let (old, new, stub, repo) = incident("read", "read");
    let script = repo.dir.path().join("fix.sh");
    let run = respond_yes(
        &repo.path,
        &new,
        &[
            "--revoke",
            "api",
            "--write-script",
            script.to_str().unwrap(),
        ],
    )
    .env("HF_ENDPOINT", &stub.endpoint)
    .run();
    run.assert_hides(&old).assert_hides(&new);
    let step6 = run.stdout.split("[6/7]").nth(1).unwrap_or_default();
    let step6 = step6.split("Wrote").next().unwrap_or_default();
    assert!(step6.contains("The plan, "), "{step6}");
    assert!(step6.contains("Push the rewritten history"), "{step6}");
    assert!(!step6.contains("git clone --quiet --mirror"), "{step6}");
    assert!(
        step6.lines().count() < 25,
        "{} lines:\n{step6}",
        step6.lines().count()
    );
    assert!(
        !run.stdout
            .contains("stash entries below the newest are lost"),
        "no stash here:\n{}",
        run.stdout
    );

    let repo = leaked_repo(&old);
    let run = respond_yes(&repo.path, &new, &["--revoke", "skip", "--offline"]).run();
    assert!(run.stdout.contains("The plan in full:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("git clone --quiet --mirror"),
        "{}",
        run.stdout
    );
}

/// verify with no token source uses the incident respond remembered: its tokens are named as from
/// that record, not "from --fingerprint" (no such flag was given), and an `hf_` token's record gets
/// no "matches no provider pattern" warning.
#[test]
fn verify_names_where_the_fingerprint_came_from() {
    let (old, new, stub, repo) = incident("read", "read");
    let run = respond_yes(&repo.path, &new, &["--revoke", "api"])
        .env("HF_ENDPOINT", &stub.endpoint)
        .run();
    run.assert_hides(&old);
    let run = Unleak::new(&repo.path).args(&["verify"]).run();
    run.assert_hides(&old).assert_hides(&new);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("--fingerprint"), "{}", run.stdout);
    assert!(
        run.stdout.contains("from the incident record"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("no provider pattern"),
        "{}",
        run.stdout
    );
}

/// `audit --verify` with the issuer unreachable: one liveness line per token, each cause said once;
/// "offline" only when --offline-like skipping happened, never for a plain audit.
#[test]
fn audit_says_liveness_once_and_offline_only_when_offline() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--verify"])
        .env("HF_ENDPOINT", &unreachable_endpoint())
        .run();
    run.assert_hides(&token);
    assert_eq!(
        run.stdout.matches("liveness unknown").count(),
        1,
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("os error 111").count(),
        1,
        "{}",
        run.stdout
    );
    let run = Unleak::new(&repo.path).args(&["audit"]).run();
    assert!(!run.stdout.contains("offline"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("not checked whether the tokens still work"),
        "{}",
        run.stdout
    );
}

/// A `.env` of settings only (no secret-looking value), ignored, mode 644: nothing to fix, exit 0.
#[test]
fn audit_passes_a_secret_free_env_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let repo = TestRepo::new();
    repo.commit_file(".gitignore", ".env\n", "Ignore .env");
    repo.write(".env", "MODEL=gpt2\nDEBUG=1\nPORT=8080\n");
    std::fs::set_permissions(
        repo.path.join(".env"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let run = Unleak::new(&repo.path).args(&["audit"]).run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("env-readable"), "{}", run.stdout);
    // With a token in it, the mode matters again.
    repo.write(".env", format!("HF_TOKEN={}\n", fake_hf_token()));
    let run = Unleak::new(&repo.path).args(&["audit"]).run();
    assert!(
        run.stdout.contains("hygiene.env-readable"),
        "{}",
        run.stdout
    );
}

/// `unleak --help` says where to start, revoking first.
#[test]
fn help_says_where_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let run = Unleak::new(dir.path()).args(&["--help"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Where to start"), "{}", run.stdout);
    assert!(run.stdout.contains("Revoke it first"), "{}", run.stdout);
    assert!(run.stdout.contains("`unleak respond`"), "{}", run.stdout);
}

/// The README starts from the incident (revoke first, while it builds), names the prerequisites with
/// the toolchain version Cargo.toml requires, and gives its numbers units.
#[test]
fn readme_starts_from_the_incident() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let first = readme.split("\n## ").nth(1).unwrap_or_default();
    assert!(first.starts_with("Leaked a token right now?"), "{first}");
    assert!(
        first.contains("Revoke it first")
            && first.contains("https://huggingface.co/settings/tokens")
    );
    assert!(first.contains("while"), "revoke while it builds:\n{first}");
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"');
    assert!(
        readme.contains(&format!("Rust toolchain, {version} or newer")),
        "{readme}"
    );
    assert!(readme.contains("C compiler") && readme.contains("git-filter-repo"));
    assert!(readme.contains("45 minutes"), "{readme}");
    assert!(!readme.contains("45 measured"), "a number without a unit");
}
