//! Provenance reads trees two ways: one by one when few trees lead to a match, or in one tree-only
//! pass over the pack (only the trees that lead to a match, with their delta bases) when many do, as on
//! large histories. Small test repositories only ever take the first way; `UNLEAK_TREE_CACHE_ABOVE=0`
//! forces the second, and both must give the same report.

use crate::util::*;

/// A history where the token moves, is copied, sits in a file name, and a private key lives deep in
/// a directory, on two branches joined by a merge; packed, so the tree-only pass reads a pack.
fn tangled_history(token: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.commit_file("docs/readme.md", "hello\n", "Start");
    repo.commit_file(
        "src/app/config.py",
        format!("TOKEN = '{token}'\n"),
        "Add config",
    );
    repo.commit_file(".env", format!("HF_TOKEN={token}\n"), "Add env");
    repo.commit_file("docs/readme.md", "hello again\n", "Docs");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("src/lib/settings.py", format!("TOKEN = '{token}'\n"));
    repo.git(&["rm", "-q", "src/app/config.py"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "Move config"]);
    let key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        random_letters(300)
    );
    repo.commit_file("deploy/keys/ci/id_ed25519", key, "Add a deploy key");
    repo.commit_file(
        &format!("notes/{token}.txt"),
        "oops\n",
        "A file named after it",
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.commit_file("src/app/config.py", "TOKEN = None\n", "Remove token");
    repo.commit_file(
        "src/copy/again.py",
        format!("T = '{token}'\n"),
        "Copy it back",
    );
    repo.git(&["merge", "-q", "--no-edit", "feature"]);
    repo.git(&["repack", "-adq", "--depth=10"]);
    repo
}

/// The report without what differs from run to run (timings).
fn stable(run: &Run) -> serde_json::Value {
    let mut report = run.json();
    report.as_object_mut().unwrap().remove("stats");
    report
}

#[test]
fn the_tree_only_pass_gives_the_same_provenance_as_reading_trees_one_by_one() {
    let token = fake_hf_token();
    let repo = tangled_history(&token);
    let scan = |above: &str| {
        let run = Unleak::new(&repo.path)
            .args(&["scan", "--format", "json", "--token-stdin"])
            .stdin(format!("{token}\n"))
            .env("UNLEAK_TREE_CACHE_ABOVE", above)
            .run();
        run.assert_hides(&token);
        assert_eq!(run.code, 1, "{run:?}");
        stable(&run)
    };
    let one_by_one = scan("100000");
    let findings = one_by_one["findings"].as_array().unwrap();
    // Not a trivial report: several introductions, on both branches, one in a file name.
    assert!(findings.len() >= 4, "{one_by_one:#}");
    let text = one_by_one.to_string();
    for path in [
        "src/app/config.py",
        "src/lib/settings.py",
        "src/copy/again.py",
        ".env",
    ] {
        assert!(text.contains(path), "{path} missing: {one_by_one:#}");
    }
    assert_eq!(scan("0"), one_by_one);

    let audit = |above: &str| {
        let run = Unleak::new(&repo.path)
            .args(&["audit", "--format", "json"])
            .env("UNLEAK_TREE_CACHE_ABOVE", above)
            .run();
        run.assert_hides(&token);
        assert_eq!(run.code, 1, "{run:?}");
        stable(&run)
    };
    let one_by_one = audit("100000");
    assert!(
        one_by_one.to_string().contains("deploy/keys/ci/id_ed25519"),
        "{one_by_one:#}"
    );
    assert_eq!(audit("0"), one_by_one);
}
