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

/// From the graph with names, with two threads or more and no tree to read whole (no token in a file
/// name), audit finds introductions on two threads (in a history this short, one run of commits): the
/// report must be the one a single thread gives.
#[test]
fn audit_finds_the_same_introductions_on_one_thread_or_two() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("README.md", "start\n", "Start");
    repo.commit_file("app/config.py", format!("T = '{token}'\n"), "Early leak");
    repo.commit_file("app/config.py", "T = None\n", "Removed");
    for n in 0..6 {
        repo.commit_file("docs/notes.md", format!("note {n}\n"), &format!("Note {n}"));
    }
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.commit_file("side/settings.py", format!("T = '{token}'\n"), "Side leak");
    repo.git(&["checkout", "-q", "main"]);
    for n in 0..6 {
        repo.commit_file("docs/more.md", format!("more {n}\n"), &format!("More {n}"));
    }
    let key = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        random_letters(300)
    );
    repo.commit_file("deploy/id_ed25519", key, "Late key");
    repo.git(&["merge", "-q", "--no-edit", "side"]);
    repo.git(&["repack", "-adq"]);
    let single = report(&repo, &token, &["audit", "--threads", "1"], "named");
    let text = single.to_string();
    for path in ["app/config.py", "side/settings.py", "deploy/id_ed25519"] {
        assert!(text.contains(path), "{path} missing: {single:#}");
    }
    for threads in ["2", "3"] {
        let audit = ["audit", "--threads", threads];
        assert_eq!(report(&repo, &token, &audit, "named"), single, "{threads}");
    }
}

/// A history long enough that the two walkers take many runs of commits by time in turn (700 commits,
/// runs of 64): a key added, removed and added again, a token on main, another on a branch that crosses
/// many runs before its merge, and a file that changes in every commit (so no two root trees are the
/// same). Every thread count must give the single thread's report, and the introductions must be the
/// commits git itself says added those files.
#[test]
fn audit_finds_the_same_introductions_when_walkers_take_many_runs() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let key = |n: usize| {
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            random_letters(300 + n)
        )
    };
    let file = |stream: &mut String, path: &str, content: &str| {
        stream.push_str(&format!(
            "M 100644 inline {path}\ndata {}\n{content}\n",
            content.len()
        ));
    };
    let start = 1_704_067_200u64;
    let mut stream = String::new();
    let commit = |stream: &mut String, branch: &str, mark: usize, time: u64| {
        stream.push_str(&format!(
            "commit refs/heads/{branch}\nmark :{mark}\ncommitter T <t@example.com> {time} +0000\ndata {}\nc{mark}\n",
            format!("c{mark}").len()
        ));
    };
    for i in 1..=600usize {
        commit(&mut stream, "main", i, start + i as u64 * 60);
        if i == 500 {
            stream.push_str("merge :1100\n");
        }
        file(&mut stream, "counter.txt", &format!("{i}\n"));
        match i {
            50 => file(&mut stream, "deploy/id_ed25519", &key(0)),
            150 => stream.push_str("D deploy/id_ed25519\n"),
            300 => file(&mut stream, "deploy/id_ed25519", &key(1)),
            450 => file(&mut stream, "app/config.py", &format!("T = '{token}'\n")),
            _ => {}
        }
        stream.push('\n');
        if i == 200 {
            // The side branch: 100 commits between main's 200th and 500th in time.
            for j in 1..=100usize {
                commit(
                    &mut stream,
                    "side",
                    1000 + j,
                    start + (200 + j as u64 * 3) * 60 + 1,
                );
                if j == 1 {
                    stream.push_str("from :200\n");
                }
                file(&mut stream, "side/counter.txt", &format!("{j}\n"));
                if j == 30 {
                    file(&mut stream, "side/settings.py", &format!("T = '{token}'\n"));
                }
                stream.push('\n');
            }
        }
    }
    repo.fast_import(stream.as_bytes());

    // What git says added each file, on every branch.
    let added = |path: &str| -> Vec<String> {
        let mut ids: Vec<String> = repo
            .git(&["log", "--all", "--diff-filter=A", "--format=%H", "--", path])
            .lines()
            .map(str::to_string)
            .collect();
        ids.sort();
        ids
    };
    let mut expected: Vec<(String, String)> = Vec::new();
    for path in ["deploy/id_ed25519", "app/config.py", "side/settings.py"] {
        for id in added(path) {
            expected.push((id, path.to_string()));
        }
    }
    expected.sort();
    assert_eq!(expected.len(), 4, "{expected:?}");

    let single = report(&repo, &token, &["audit", "--threads", "1"], "named");
    let mut found: Vec<(String, String)> = single["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["commit"].as_str().unwrap_or_default().to_string(),
                f["path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    found.sort();
    found.dedup();
    assert_eq!(found, expected, "{single:#}");
    for threads in ["2", "3"] {
        let audit = ["audit", "--threads", threads];
        assert_eq!(report(&repo, &token, &audit, "named"), single, "{threads}");
    }
}

/// Raw tree bytes from (mode, name, raw id) entries, written as-is (no sorting, no mode check); an
/// empty name writes the mode alone, with no space: a malformed entry.
fn write_raw_tree(repo: &TestRepo, entries: &[(&str, &str, &str)]) -> String {
    let mut bytes = Vec::new();
    for (mode, name, hex) in entries {
        let head = if name.is_empty() {
            format!("{mode}\0")
        } else {
            format!("{mode} {name}\0")
        };
        bytes.extend_from_slice(head.as_bytes());
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

/// `git ARGS` in `repo` with `input` on stdin; its output, trimmed.
fn git_with_input(repo: &TestRepo, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut cmd = std::process::Command::new("git");
    scrub(&mut cmd)
        .current_dir(&repo.path)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("git runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A blob `key=TOKEN` and a tree holding it as `secret.txt`: (blob, tree).
fn secret_tree(repo: &TestRepo, token: &str) -> (String, String) {
    let blob = git_with_input(
        repo,
        &["hash-object", "-w", "--stdin"],
        &format!("key={token}\n"),
    );
    let tree = git_with_input(
        repo,
        &["mktree"],
        &format!("100644 blob {blob}\tsecret.txt\n"),
    );
    (blob, tree)
}

/// Scans `repo` for `token` reading trees the `way` given: the exit code and the report.
fn scan_way(repo: &TestRepo, token: &str, way: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["scan", "--format", "json", "--token-stdin"];
    args.extend_from_slice(extra);
    let run = Unleak::new(&repo.path)
        .args(&args)
        .stdin(format!("{token}\n"))
        .env("UNLEAK_TREE_READ", way)
        .run();
    run.assert_hides(token);
    (run.code, run.json())
}

#[test]
fn a_missing_subtree_that_copies_a_real_trees_id_prefix_is_missing_not_that_tree() {
    // A tree can name any 20 bytes: here `fake` names a tree that does not exist but starts like
    // the real `real` tree. Its path must not be reported, and the answer must be incomplete.
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let (_, real) = secret_tree(&repo, &token);
    let first = git_with_input(&repo, &["mktree"], &format!("040000 tree {real}\treal\n"));
    let first = repo
        .git(&["commit-tree", &first, "-m", "A"])
        .trim()
        .to_string();
    let fake = format!("{}{}", &real[..12], "1".repeat(28));
    let second = git_with_input(
        &repo,
        &["mktree", "--missing"],
        &format!("040000 tree {fake}\tfake\n"),
    );
    let second = repo
        .git(&["commit-tree", &second, "-p", &first, "-m", "B"])
        .trim()
        .to_string();
    repo.git(&["update-ref", "refs/heads/main", &second]);
    for way in ["one-by-one", "tree-pass", "named"] {
        let (code, report) = scan_way(&repo, &token, way, &[]);
        let text = report.to_string();
        assert!(text.contains("real/secret.txt"), "{way}: {report:#}");
        assert!(!text.contains("fake/"), "{way}: {report:#}");
        assert_eq!(
            report["completeness"]["complete"], false,
            "{way}: {report:#}"
        );
        assert_eq!(code, 1, "{way}");
    }
}

#[test]
fn a_missing_blob_that_copies_a_present_objects_id_prefix_is_missing() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let present = git_with_input(&repo, &["hash-object", "-w", "--stdin"], "hello\n");
    let missing = format!("{}{}", &present[..16], "0".repeat(24));
    let tree = git_with_input(
        &repo,
        &["mktree", "--missing"],
        &format!("100644 blob {present}\ta.txt\n100644 blob {missing}\tb.txt\n"),
    );
    let commit = repo
        .git(&["commit-tree", &tree, "-m", "A"])
        .trim()
        .to_string();
    repo.git(&["update-ref", "refs/heads/main", &commit]);
    let (code, report) = scan_way(&repo, &token, "one-by-one", &[]);
    assert_eq!(report["completeness"]["complete"], false, "{report:#}");
    assert_eq!(code, 2, "{report:#}");
}

#[test]
fn a_tree_with_a_malformed_entry_makes_the_answer_incomplete() {
    // After an entry git cannot parse, nothing of the tree can be trusted to be seen: here the token's
    // directory comes after it.
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let (_, sub) = secret_tree(&repo, &token);
    let hello = git_with_input(&repo, &["hash-object", "-w", "--stdin"], "hello\n");
    let outer = write_raw_tree(&repo, &[("100644x", "", &hello), ("40000", "sub", &sub)]);
    let commit = repo
        .git(&["commit-tree", &outer, "-m", "A"])
        .trim()
        .to_string();
    repo.git(&["update-ref", "refs/heads/main", &commit]);
    for way in ["one-by-one", "tree-pass", "named"] {
        for extra in [&[][..], &["--reachable-only"][..]] {
            let (code, report) = scan_way(&repo, &token, way, extra);
            assert_eq!(
                report["completeness"]["complete"], false,
                "{way} {extra:?}: {report:#}"
            );
            assert_ne!(code, 0, "{way} {extra:?}: {report:#}");
        }
    }
}
