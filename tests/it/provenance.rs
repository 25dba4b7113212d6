//! Provenance reads the trees that lead to a match three ways: one by one through libgit2 (a scan
//! where few trees do), in one more tree-only pass over the pack (a scan where many do, as on large
//! histories), or not at all, from the graph with names the object pass recorded (audit). Small test
//! repositories would only ever take the first way for scan; `UNLEAK_TREE_READ` forces each, and all
//! must give the same report.

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

/// `unleak ARGS --format json` with trees read the `way` given: the report without what differs from
/// run to run (timings). The token goes in on stdin (scan reads it; audit ignores it).
fn report(repo: &TestRepo, token: &str, args: &[&str], way: &str) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let run = Unleak::new(&repo.path)
        .args(&all)
        .stdin(format!("{token}\n"))
        .env("UNLEAK_TREE_READ", way)
        .run();
    run.assert_hides(token);
    assert_eq!(run.code, 1, "{run:?}");
    let mut report = run.json();
    report.as_object_mut().unwrap().remove("stats");
    report
}

#[test]
fn every_way_of_reading_trees_gives_the_same_provenance() {
    let token = fake_hf_token();
    let repo = tangled_history(&token);
    let scan = ["scan", "--token-stdin"];
    let one_by_one = report(&repo, &token, &scan, "one-by-one");
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
    for way in ["tree-pass", "named"] {
        assert_eq!(report(&repo, &token, &scan, way), one_by_one, "{way}");
    }

    let one_by_one = report(&repo, &token, &["audit"], "one-by-one");
    assert!(
        one_by_one.to_string().contains("deploy/keys/ci/id_ed25519"),
        "{one_by_one:#}"
    );
    for way in ["tree-pass", "named"] {
        assert_eq!(report(&repo, &token, &["audit"], way), one_by_one, "{way}");
    }
}

/// Raw tree bytes from (mode, name, raw id) entries, written as-is (no sorting, no mode check).
fn write_raw_tree(repo: &TestRepo, entries: &[(&str, &str, &str)]) -> String {
    let mut bytes = Vec::new();
    for (mode, name, hex) in entries {
        bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        let raw: Vec<u8> = (0..40)
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        bytes.extend_from_slice(&raw);
    }
    let path = repo.path.join("raw-tree");
    std::fs::write(&path, bytes).unwrap();
    let id = repo.git(&["hash-object", "-t", "tree", "--literally", "-w", "raw-tree"]);
    std::fs::remove_file(&path).unwrap();
    id.trim().to_string()
}

#[test]
fn a_subtree_with_a_zero_padded_mode_is_walked_every_way() {
    // Old tools wrote subtrees as `040000`; git still reads them as directories (fsck only warns).
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("readme", "hello\n", "Start");
    repo.write("blob", format!("HF_TOKEN={token}\n"));
    let blob = repo.git(&["hash-object", "-w", "blob"]).trim().to_string();
    std::fs::remove_file(repo.path.join("blob")).unwrap();
    let inner = write_raw_tree(&repo, &[("100644", ".env", &blob)]);
    let readme = repo.rev("HEAD:readme");
    let outer = write_raw_tree(
        &repo,
        &[("100644", "readme", &readme), ("040000", "sub", &inner)],
    );
    let head = repo.head();
    let commit = repo
        .git(&["commit-tree", &outer, "-p", &head, "-m", "Old tool"])
        .trim()
        .to_string();
    repo.git(&["update-ref", "refs/heads/old-tool", &commit]);
    // git itself sees the file under the zero-padded directory.
    assert!(repo
        .git(&["ls-tree", "-r", "--name-only", "old-tool"])
        .contains("sub/.env"));
    for way in ["one-by-one", "tree-pass", "named"] {
        let found = report(&repo, &token, &["scan", "--token-stdin"], way);
        let paths: Vec<&str> = found["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["path"].as_str())
            .collect();
        assert!(paths.contains(&"sub/.env"), "{way}: {found:#}");
    }
}
