//! `unleak scan`: every hiding place, its provenance, and the rule that the token is never printed.

use crate::util::*;
use base64::Engine;
use serde_json::Value;

fn scan_json(repo: &TestRepo, token: &str, extra: &[&str]) -> (Run, Value) {
    scan_json_at(&repo.path, token, extra)
}

/// `unleak scan --format json` in `dir` with the token on stdin; checks the token stays hidden.
fn scan_json_at(dir: &std::path::Path, token: &str, extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["scan", "--format", "json"];
    args.extend_from_slice(extra);
    let run = run_with_token(dir, &args, token);
    let json = run.json();
    (run, json)
}

/// Findings whose field `key` equals `value`.
fn findings_where<'a>(report: &'a Value, key: &str, value: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f[key].as_str() == Some(value))
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn clean_repository_exits_zero() {
    let repo = TestRepo::new();
    repo.commit_file("README.md", "hello\n", "Initial");
    let token = fake_hf_token();
    let run = Unleak::new(&repo.path)
        .args(&["scan", "--token-stdin"])
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("No leak found"), "{}", run.stdout);
}

/// One repository that hides the token in every place the scan knows, checked finding by finding.
#[test]
fn finds_every_hiding_place_with_provenance() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("README.md", "# demo\n", "Initial commit");

    // 1. Pushed branch: .env committed on main and pushed.
    let pushed = repo.commit_file(
        ".env",
        format!("MODEL=gpt2\nHF_TOKEN={token}\n"),
        "Add config",
    );
    repo.git(&["push", "-q", "origin", "main"]);
    // Removing it later does not remove it from history.
    repo.git(&["rm", "-q", "--cached", ".env"]);
    repo.write(".gitignore", ".env\n");
    repo.git(&["add", ".gitignore"]);
    repo.git(&["commit", "-q", "-m", "Stop tracking .env"]);

    // 2. A branch never pushed.
    repo.git(&["checkout", "-q", "-b", "local-only"]);
    let local = repo.commit_file(
        "src/settings.py",
        format!("\n\nTOKEN = '{token}'\n"),
        "Hardcode token",
    );
    repo.git(&["checkout", "-q", "main"]);

    // 3. A commit reachable only from a tag.
    repo.git(&["checkout", "-q", "--detach"]);
    let tagged = repo.commit_file("release.cfg", format!("token: {token}\n"), "Release config");
    repo.git(&["tag", "v1.0"]);
    repo.git(&["checkout", "-q", "main"]);

    // 4. Merge that brings it in: a side branch adds it, main merges it.
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let side = repo.commit_file("feature.txt", format!("key={token}\n"), "Feature with key");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--no-ff", "-m", "Merge feature", "feature"]);
    repo.git(&["branch", "-q", "-D", "feature"]);

    // 5. A merge that itself adds it (conflict resolution / evil merge).
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.commit_file("other.txt", "other\n", "Other work");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "other"]);
    repo.write("evil.txt", format!("{token}\n"));
    repo.git(&["add", "evil.txt"]);
    repo.git(&["commit", "-q", "-m", "Merge other"]);
    let evil_merge = repo.head();
    repo.git(&["rm", "-q", "evil.txt"]);
    repo.git(&["commit", "-q", "-m", "Remove evil"]);

    // 6. Commit message and annotated tag message.
    repo.write("notes.txt", "n\n");
    repo.git(&["add", "notes.txt"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        &format!("Rotate\n\nold token was {token}\n"),
    ]);
    let message_commit = repo.head();
    repo.git(&[
        "tag",
        "-a",
        "v2.0",
        "-m",
        &format!("Release\n\ntoken {token}"),
    ]);

    // 7. Binary file, base64 form, UTF-16LE form, notebook output cell.
    let mut binary = vec![0u8, 1, 2, 3, 255];
    binary.extend_from_slice(token.as_bytes());
    binary.extend_from_slice(&[0, 0, 7]);
    let binary_commit = repo.commit_file("model.bin", &binary, "Add binary");
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("x:{token}:y"));
    let b64_commit = repo.commit_file("secret.b64", format!("data\n{encoded}\n"), "Add encoded");
    let utf16: Vec<u8> = format!("T={token}")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let utf16_commit = repo.commit_file("win.txt", &utf16, "Add UTF-16 file");
    let notebook = format!(
        "{{\n \"cells\": [\n  {{\n   \"cell_type\": \"code\",\n   \"outputs\": [\n    {{\n     \"name\": \"stdout\",\n     \"text\": [\"Logged in with {token}\\n\"]\n    }}\n   ]\n  }}\n ]\n}}\n"
    );
    let notebook_commit = repo.commit_file("train.ipynb", notebook, "Add notebook");
    repo.git(&[
        "rm",
        "-q",
        "model.bin",
        "secret.b64",
        "win.txt",
        "train.ipynb",
        "notes.txt",
    ]);
    repo.git(&["commit", "-q", "-m", "Clean up"]);

    // 8. Stash entries: the token is in the second (older) one.
    repo.write("stashed.txt", format!("{token}\n"));
    repo.git(&["add", "stashed.txt"]);
    repo.git(&["stash", "-q"]);
    repo.write("README.md", "# demo, edited\n");
    repo.git(&["stash", "-q"]);
    let stash_entries = repo.git(&["stash", "list"]);
    assert_eq!(stash_entries.lines().count(), 2, "{stash_entries}");

    // 9. Reflog-only commit (reset away), and a dangling commit (no reflog: made with commit-tree).
    let reflog_only = repo.commit_file("oops.txt", format!("{token}\n"), "Oops");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.write("dangling.txt", format!("{token}\n"));
    repo.git(&["add", "dangling.txt"]);
    let tree = repo.git(&["write-tree"]).trim().to_string();
    let dangling = repo
        .git(&["commit-tree", &tree, "-p", "HEAD", "-m", "Dangling"])
        .trim()
        .to_string();
    repo.git(&["reset", "-q"]);
    std::fs::remove_file(repo.path.join("dangling.txt")).unwrap();

    let (run, report) = scan_json(&repo, &token, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);

    let at = |path: &str| {
        let found = findings_where(&report, "path", path);
        assert!(!found.is_empty(), "no finding at {path}: {report:#}");
        found[0].clone()
    };

    let env = at(".env");
    assert_eq!(env["commit"], pushed.as_str());
    assert_eq!(env["line"], 2);
    assert_eq!(env["location"], "blob");
    assert_eq!(env["encoding"], "plain");
    assert_eq!(env["pushed"], true);
    assert_eq!(strings(&env["remotes"]), ["origin"]);
    let env_refs = strings(&env["refs"]);
    assert!(env_refs.contains(&"refs/heads/main".into()), "{env_refs:?}");
    assert!(
        env_refs.contains(&"refs/remotes/origin/main".into()),
        "{env_refs:?}"
    );
    assert_eq!(env["author"], "Ada Author <ada@example.com>");
    assert_eq!(env["summary"], "Add config");
    assert!(
        env["date"].as_str().unwrap().starts_with("2024-01-01T"),
        "{env}"
    );

    let settings = at("src/settings.py");
    assert_eq!(settings["commit"], local.as_str());
    assert_eq!(settings["line"], 3);
    assert_eq!(settings["pushed"], false);
    assert_eq!(strings(&settings["refs"]), ["refs/heads/local-only"]);

    let release = at("release.cfg");
    assert_eq!(release["commit"], tagged.as_str());
    assert_eq!(strings(&release["refs"]), ["refs/tags/v1.0"]);

    // The side-branch commit introduced it; the merge that only carried it over did not.
    let feature = findings_where(&report, "path", "feature.txt");
    assert_eq!(feature.len(), 1, "{feature:#?}");
    assert_eq!(feature[0]["commit"], side.as_str());
    assert!(strings(&feature[0]["refs"]).contains(&"refs/heads/main".into()));

    let evil = at("evil.txt");
    assert_eq!(evil["commit"], evil_merge.as_str());

    let message = findings_where(&report, "location", "commit-message");
    assert_eq!(message.len(), 1, "{message:#?}");
    assert_eq!(message[0]["commit"], message_commit.as_str());
    assert_eq!(message[0]["line"], 3);

    let tag_message = findings_where(&report, "location", "tag-message");
    assert_eq!(tag_message.len(), 1, "{tag_message:#?}");
    assert_eq!(strings(&tag_message[0]["refs"]), ["refs/tags/v2.0"]);
    assert_eq!(tag_message[0]["commit"], message_commit.as_str());

    let bin = at("model.bin");
    assert_eq!(bin["commit"], binary_commit.as_str());
    assert_eq!(
        bin["line"],
        Value::Null,
        "binary files have no line numbers"
    );

    let b64 = at("secret.b64");
    assert_eq!(b64["commit"], b64_commit.as_str());
    assert_eq!(b64["encoding"], "base64");
    assert_eq!(b64["line"], 2);

    let wide = at("win.txt");
    assert_eq!(wide["commit"], utf16_commit.as_str());
    assert_eq!(wide["encoding"], "utf16le");

    let nb = at("train.ipynb");
    assert_eq!(nb["commit"], notebook_commit.as_str());
    assert_eq!(nb["line"], 8);

    let stashed = at("stashed.txt");
    assert!(
        strings(&stashed["refs"]).contains(&"refs/stash@{1}".into()),
        "older stash entry must be named: {stashed}"
    );

    let oops = at("oops.txt");
    assert_eq!(oops["commit"], reflog_only.as_str());
    assert_eq!(oops["reachable"], false);
    assert!(oops["refs"].as_array().unwrap().is_empty());
    assert!(!oops["reflogs"].as_array().unwrap().is_empty(), "{oops}");

    let lost = at("dangling.txt");
    assert_eq!(lost["commit"], dangling.as_str());
    assert_eq!(lost["reachable"], false);
    assert!(lost["refs"].as_array().unwrap().is_empty());
    assert!(lost["reflogs"].as_array().unwrap().is_empty());

    let summary = &report["secrets"][0];
    assert_eq!(summary["found"], true);
    assert_eq!(summary["pushed"], true);
    assert_eq!(summary["provider"], "huggingface");
    assert_eq!(strings(&summary["in_head"]), ["feature.txt"], "{summary}");
    assert_eq!(summary["first_exposure"], env["date"]);
    assert!(summary["secret"]["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));

    // The human report says the same in words, still without the token.
    let human = Unleak::new(&repo.path)
        .args(&["scan", "--token-stdin"])
        .stdin(format!("{token}\n"))
        .run();
    human.assert_hides(&token);
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.contains("PUSHED to origin"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("refs/stash@{1}"), "{}", human.stdout);
    assert!(
        human.stdout.contains(&token[..5]),
        "redaction shows the prefix"
    );
}

#[test]
fn reachable_only_leaves_out_dangling_objects() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "a\n", "Initial");
    repo.write("lost.txt", format!("{token}\n"));
    repo.git(&["add", "lost.txt"]);
    let tree = repo.git(&["write-tree"]).trim().to_string();
    repo.git(&["commit-tree", &tree, "-m", "Dangling"]);
    repo.git(&["reset", "-q"]);
    std::fs::remove_file(repo.path.join("lost.txt")).unwrap();

    let (all, _) = scan_json(&repo, &token, &[]);
    assert_eq!(all.code, 1);
    let (narrow, report) = scan_json(&repo, &token, &["--reachable-only"]);
    assert_eq!(narrow.code, 0, "{report:#}");
}

#[test]
fn still_in_head_index_and_worktree() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Add config");
    repo.write("staged.py", format!("{token}\n"));
    repo.git(&["add", "staged.py"]);
    repo.write("untracked.py", format!("{token}\n"));
    let (run, report) = scan_json(&repo, &token, &[]);
    assert_eq!(run.code, 1);
    let summary = &report["secrets"][0];
    assert_eq!(strings(&summary["in_head"]), ["config.py"]);
    assert_eq!(strings(&summary["in_index"]), ["config.py", "staged.py"]);
    assert_eq!(
        strings(&summary["in_worktree"]),
        ["config.py", "staged.py", "untracked.py"]
    );
    // The staged blob is held by no commit: reported as an object-only finding.
    let orphan: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["commit"].is_null())
        .collect();
    assert_eq!(orphan.len(), 1, "{report:#}");
    assert_eq!(orphan[0]["reachable"], false);
}

#[test]
fn token_in_a_file_name_is_a_path_finding() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "a\n", "Initial");
    let commit = repo.commit_file(&format!("keys/{token}.json"), "{}\n", "Add key file");
    let (run, report) = scan_json(&repo, &token, &[]);
    assert_eq!(run.code, 1);
    let paths = findings_where(&report, "location", "path");
    assert_eq!(paths.len(), 1, "{report:#}");
    assert_eq!(paths[0]["commit"], commit.as_str());
    // The path itself holds the token, so it is shown redacted, not verbatim.
    assert!(!paths[0]["path"].as_str().unwrap().contains(&token));
}

#[test]
fn default_source_is_hf_token_in_dot_env_then_environment() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.write(".gitignore", ".env\n");
    repo.commit_file("app.py", format!("# {token}\n"), "Leak");
    repo.write(
        ".env",
        format!("# local secrets\nexport HF_TOKEN=\"{token}\"\n"),
    );
    let run = Unleak::new(&repo.path)
        .args(&["scan", "--format", "json"])
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.json()["secrets"][0]["origin"]
        .as_str()
        .unwrap()
        .ends_with(".env:HF_TOKEN"));

    std::fs::remove_file(repo.path.join(".env")).unwrap();
    let run = Unleak::new(&repo.path)
        .args(&["scan", "--format", "json"])
        .env("HF_TOKEN", &token)
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["secrets"][0]["origin"], "$HF_TOKEN");

    // No .env, no variable, no terminal: exit 2 and name the flags.
    let run = Unleak::new(&repo.path).args(&["scan"]).run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--token-stdin"), "{}", run.stderr);
}

#[test]
fn other_keys_all_keys_and_token_env() {
    let hf = fake_hf_token();
    let other = format!("sk-{}", random_letters(40));
    let repo = TestRepo::new();
    repo.commit_file("a.py", format!("{other}\n"), "Leak other");
    repo.write(
        "secrets.env",
        format!("HF_TOKEN={hf}\nOPENAI_API_KEY={other}\nDEBUG=true\nPLACEHOLDER=your_token_here\n"),
    );
    let run = Unleak::new(&repo.path)
        .args(&[
            "scan",
            "--format",
            "json",
            "--env-file",
            "secrets.env",
            "--key",
            "OPENAI_API_KEY",
        ])
        .run();
    run.assert_hides(&hf).assert_hides(&other);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["secrets"].as_array().unwrap().len(), 1);

    let run = Unleak::new(&repo.path)
        .args(&[
            "scan",
            "--format",
            "json",
            "--env-file",
            "secrets.env",
            "--all-keys",
        ])
        .run();
    run.assert_hides(&hf).assert_hides(&other);
    let origins: Vec<String> = run.json()["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["origin"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        origins,
        ["secrets.env:HF_TOKEN", "secrets.env:OPENAI_API_KEY"]
    );

    let run = Unleak::new(&repo.path)
        .args(&["scan", "--token-env", "MY_KEY"])
        .env("MY_KEY", &other)
        .run();
    run.assert_hides(&other);
    assert_eq!(run.code, 1);
}

#[test]
fn refuses_short_tokens() {
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "a\n", "Initial");
    let run = Unleak::new(&repo.path)
        .args(&["scan", "--token-stdin"])
        .stdin("abc123\n")
        .run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("6 characters"), "{}", run.stderr);
}

#[test]
fn not_a_repository_and_empty_repository() {
    let dir = tempfile::tempdir().unwrap();
    let token = fake_hf_token();
    let run = Unleak::new(dir.path())
        .args(&["scan", "--token-stdin"])
        .stdin(format!("{token}\n"))
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not in a git repository"),
        "{}",
        run.stderr
    );

    let repo = TestRepo::new();
    let (run, report) = scan_json(&repo, &token, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(report["repository"]["head"], Value::Null);
}

#[test]
fn bare_repository_and_linked_worktree() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let commit = repo.commit_file("k.txt", format!("{token}\n"), "Leak");
    let bare = repo.dir.path().join("mirror.git");
    run_git(
        repo.dir.path(),
        &[
            "clone",
            "-q",
            "--mirror",
            repo.path.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
        0,
    );
    let (run, _) = scan_json_at(&bare, &token, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["repository"]["bare"], true);
    assert_eq!(report["findings"][0]["commit"], commit.as_str());

    let linked = repo.dir.path().join("linked");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        linked.to_str().unwrap(),
        "-b",
        "wt",
    ]);
    let (run, _) = scan_json_at(&linked, &token, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["findings"][0]["commit"], commit.as_str());
}

#[test]
fn shallow_clone_is_warned_about() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("k.txt", format!("{token}\n"), "Leak");
    repo.commit_file("a.txt", "a\n", "Later");
    let shallow = repo.shallow_clone("shallow");
    let (run, _) = scan_json_at(&shallow, &token, &[]);
    let report = run.json();
    assert_eq!(report["repository"]["shallow"], true);
    let kinds: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"shallow"), "{report:#}");
}

#[test]
fn corrupt_object_is_reported_and_the_scan_goes_on() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("k.txt", format!("{token}\n"), "Leak");
    let victim = repo.commit_file("b.txt", "some other content\n", "Other");
    let blob = repo.rev(&format!("{victim}:b.txt"));
    let loose = repo
        .path
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut perms = std::fs::metadata(&loose).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    std::fs::set_permissions(&loose, perms).unwrap();
    std::fs::write(&loose, b"this is not zlib").unwrap();
    let (run, report) = scan_json(&repo, &token, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("unreadable-object") && warnings.contains(&blob),
        "{warnings}"
    );
    assert_eq!(report["stats"]["unreadable_objects"], 1);
}

#[test]
fn non_utf8_paths_and_control_characters_are_escaped() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let name = std::ffi::OsStr::from_encoded_bytes_unchecked_safe(b"caf\xe9\x1b[31m.txt");
    std::fs::write(repo.path.join(name), format!("{token}\n")).unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "Weird \x1b[2J name"]);
    let run = Unleak::new(&repo.path)
        .args(&["scan", "--token-stdin"])
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 1);
    assert!(
        !run.stdout.contains('\x1b'),
        "raw escape reached the terminal: {:?}",
        run.stdout
    );
    assert!(
        run.stdout.contains("caf\\xe9\\x1b[31m.txt"),
        "{}",
        run.stdout
    );
}

/// `OsStr::from_encoded_bytes_unchecked` is unsafe; on Unix `OsStrExt::from_bytes` is the safe spelling.
trait FromBytes {
    fn from_encoded_bytes_unchecked_safe(bytes: &[u8]) -> &std::ffi::OsStr;
}
impl FromBytes for std::ffi::OsStr {
    fn from_encoded_bytes_unchecked_safe(bytes: &[u8]) -> &std::ffi::OsStr {
        std::os::unix::ffi::OsStrExt::from_bytes(bytes)
    }
}

/// Regression: a tag or commit subject line holding the token was copied into `summary` verbatim.
#[test]
fn subjects_holding_the_token_are_redacted() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "a.txt"]);
    repo.git(&["commit", "-q", "-m", &format!("login with {token}")]);
    repo.git(&["tag", "-a", "v1", "-m", &format!("release with {token}")]);
    let (run, report) = scan_json(&repo, &token, &[]);
    assert_eq!(run.code, 1);
    let summaries: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries.len(), 2, "{report:#}");
    for summary in summaries {
        assert!(
            summary.ends_with(&format!(
                "with {}",
                &report["secrets"][0]["secret"]["redacted"].as_str().unwrap()
            )),
            "{summary}"
        );
    }
}

#[test]
fn partial_clone_submodule_and_lfs_are_warned_about() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.git(&["config", "uploadpack.allowFilter", "true"]);
    repo.commit_file("k.txt", format!("{token}\n"), "Leak");
    repo.commit_file(
        "model.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n",
        "Add LFS pointer",
    );
    let partial = repo.dir.path().join("partial");
    run_git(
        repo.dir.path(),
        &[
            "clone",
            "-q",
            "--no-checkout",
            "--filter=blob:none",
            &format!("file://{}", repo.path.display()),
            partial.to_str().unwrap(),
        ],
        0,
    );
    // The blob was never fetched: nothing found, but not clean either (2), unless accepted.
    let (run, report) = scan_json_at(&partial, &token, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(report["completeness"]["complete"], false);
    assert_eq!(report["completeness"]["missing_objects"], 2);
    let (run, _) = scan_json_at(&partial, &token, &["--allow-incomplete"]);
    assert_eq!(run.code, 0, "accepted: {}", run.stderr);
    let report = run.json();
    assert_eq!(report["completeness"]["accepted"], true);
    assert_eq!(report["repository"]["partial"], true);
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("partial-clone"), "{report:#}");
    assert!(
        warnings.contains("2 blob(s) the server did not send"),
        "{warnings}"
    );

    // A submodule (a gitlink) is named, not entered; an LFS pointer is counted.
    let sub = TestRepo::new();
    sub.commit_file("s.txt", "sub\n", "Sub");
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.path.to_str().unwrap(),
        "vendor/sub",
    ]);
    repo.git(&["commit", "-q", "-m", "Add submodule"]);
    let (run, report) = scan_json(&repo, &token, &[]);
    assert_eq!(run.code, 1);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("submodule vendor/sub was not entered"),
        "{warnings}"
    );
    assert!(warnings.contains("Git LFS pointer"), "{warnings}");
}

#[test]
fn huge_binary_blob_is_scanned() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let mut big = vec![0u8; 24 << 20];
    for (i, b) in big.iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    let at = big.len() - 1000;
    big[at..at + token.len()].copy_from_slice(token.as_bytes());
    let commit = repo.commit_file("weights.bin", &big, "Add weights");
    let (run, report) = scan_json(&repo, &token, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report["findings"][0]["commit"], commit.as_str());
    assert_eq!(report["findings"][0]["line"], serde_json::Value::Null);
}

/// No .env, no $HF_TOKEN, but a terminal: the token is asked for without echo.
#[test]
fn hidden_prompt_in_a_terminal() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("k.txt", format!("{token}\n"), "Leak");
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("unleak"));
    scrub(&mut cmd)
        .current_dir(&repo.path)
        .env("TERM", "dumb")
        .arg("scan");
    let mut pty = Pty::spawn(cmd);
    pty.expect("(input hidden)");
    pty.type_hidden(&token);
    pty.expect("LEAKED");
    let seen = pty.finish();
    assert!(
        !seen.contains(&token) && !seen.contains(&token[3..12]),
        "{seen}"
    );
    assert!(seen.contains("k.txt:1"), "{seen}");
}

/// Regression guard: a token pasted where the repository goes is refused without being repeated.
#[test]
fn a_token_given_as_the_repository_argument_is_not_echoed() {
    let token = fake_hf_token();
    let dir = tempfile::tempdir().unwrap();
    for command in ["scan", "audit", "verify", "respond"] {
        let run = Unleak::new(dir.path()).args(&[command, &token]).run();
        run.assert_hides(&token);
        assert_eq!(run.code, 2, "{command}: {run:?}");
        assert!(
            run.stderr.contains("looks like a token"),
            "{command}: {}",
            run.stderr
        );
    }
}

/// Working-tree files are searched in 4 MiB chunks: a token straddling a chunk boundary is still found.
#[test]
fn worktree_token_across_a_chunk_boundary() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "a\n", "Initial");
    let mut data = vec![b'.'; (4 << 20) + 4096];
    let at = (4 << 20) - 10;
    data[at..at + token.len()].copy_from_slice(token.as_bytes());
    repo.write("dataset.csv", &data);
    let (run, report) = scan_json(&repo, &token, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        strings(&report["secrets"][0]["in_worktree"]),
        ["dataset.csv"]
    );
}

/// A token carried by thousands of commits, each with its own root tree: more trees lead to it than are
/// read one by one, so the scan loads them in one tree-only pass. The answer is the same: one commit
/// introduced it at its path, and the branch still carries it.
#[test]
fn a_token_under_thousands_of_trees_is_mapped_through_the_tree_cache() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let mut stream = String::new();
    let commits = 2300;
    for i in 1..=commits {
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter T <t@example.com> {} +0000\ndata 2\nc\n",
            1_704_067_200 + i * 60
        ));
        let counter = format!("{i}\n");
        stream.push_str(&format!(
            "M 100644 inline counter.txt\ndata {}\n{counter}",
            counter.len()
        ));
        if i == 7 {
            let env = format!("HF_TOKEN={token}\n");
            stream.push_str(&format!(
                "M 100644 inline config/.env\ndata {}\n{env}",
                env.len()
            ));
        }
        stream.push('\n');
    }
    repo.fast_import(stream.as_bytes());
    let introducing = repo.rev("main~2293");

    let (run, report) = scan_json_at(&repo.path, &token, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["commit"], introducing.as_str());
    assert_eq!(findings[0]["path"], "config/.env");
    assert_eq!(strings(&findings[0]["refs"]), vec!["refs/heads/main"]);
}

/// With no .env, the default token is where huggingface_hub keeps it, in its order: $HF_TOKEN, the
/// legacy $HUGGING_FACE_HUB_TOKEN, $HF_TOKEN_PATH, $HF_HOME/token (default ~/.cache/huggingface/token),
/// and the tokens saved beside it in stored_tokens; each is named as the source, never shown.
#[test]
fn the_default_token_is_found_where_huggingface_hub_keeps_it() {
    let repo = TestRepo::new();
    let leaked = fake_hf_token();
    let other = fake_hf_token();
    repo.commit_file("config.py", format!("T = '{leaked}'\n"), "Leak");
    let place = tempfile::tempdir().unwrap();
    let hf_home = place.path().join("hf");
    std::fs::create_dir_all(&hf_home).unwrap();
    let scan = |env: &[(&str, &str)], remove_hf_home: bool| {
        let mut run = Unleak::new(&repo.path).args(&["scan", "--format", "json"]);
        for (k, v) in env {
            run = run.env(k, v);
        }
        let mut run = run;
        if remove_hf_home {
            run = run.env("HF_HOME", "");
        }
        let out = run.run();
        out.assert_hides(&leaked).assert_hides(&other);
        out
    };
    let origin = |run: &Run| {
        run.json()["secrets"][0]["origin"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let hf_home_s = hf_home.to_str().unwrap();

    // Nothing anywhere: exit 2, and the message names where it looked.
    let run = scan(&[("HF_HOME", hf_home_s)], false);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("$HUGGING_FACE_HUB_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("{hf_home_s}/token")),
        "{}",
        run.stderr
    );

    // $HF_HOME/token, with the newline `hf auth login` writes.
    std::fs::write(hf_home.join("token"), format!("{leaked}\n")).unwrap();
    let run = scan(&[("HF_HOME", hf_home_s)], false);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(origin(&run), format!("{hf_home_s}/token ($HF_HOME/token)"));

    // The environment comes first: $HF_TOKEN, then the legacy name, both before the file.
    let run = scan(
        &[("HF_HOME", hf_home_s), ("HUGGING_FACE_HUB_TOKEN", &other)],
        false,
    );
    assert_eq!(run.code, 0, "the other token is not in history: {run:?}");
    assert_eq!(origin(&run), "$HUGGING_FACE_HUB_TOKEN");
    let run = scan(
        &[
            ("HF_HOME", hf_home_s),
            ("HF_TOKEN", &leaked),
            ("HUGGING_FACE_HUB_TOKEN", &other),
        ],
        false,
    );
    assert_eq!(origin(&run), "$HF_TOKEN");

    // $HF_TOKEN_PATH wins over $HF_HOME.
    let elsewhere = place.path().join("elsewhere-token");
    std::fs::write(&elsewhere, &other).unwrap();
    let run = scan(
        &[
            ("HF_HOME", hf_home_s),
            ("HF_TOKEN_PATH", elsewhere.to_str().unwrap()),
        ],
        false,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        origin(&run),
        format!("{} ($HF_TOKEN_PATH)", elsewhere.display())
    );

    // No $HF_HOME: ~/.cache/huggingface/token under $HOME (or $XDG_CACHE_HOME/huggingface).
    let home = place.path().join("home");
    let cache = home.join(".cache/huggingface");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("token"), &leaked).unwrap();
    let run = scan(
        &[("HOME", home.to_str().unwrap()), ("XDG_CACHE_HOME", "")],
        true,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        origin(&run),
        format!("{}/token ($HF_HOME/token)", cache.display())
    );

    // stored_tokens beside the token file: every saved token is searched for, named by its section.
    std::fs::remove_file(hf_home.join("token")).unwrap();
    std::fs::write(
        hf_home.join("stored_tokens"),
        format!("[personal]\nhf_token = {other}\n\n[work]\nhf_token = {leaked}\n"),
    )
    .unwrap();
    let run = scan(&[("HF_HOME", hf_home_s)], false);
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    let origins: Vec<&str> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["origin"].as_str().unwrap())
        .collect();
    assert_eq!(
        origins,
        [
            format!("{hf_home_s}/stored_tokens [personal]"),
            format!("{hf_home_s}/stored_tokens [work]")
        ]
    );
}

/// Issue #24: a token only in an untracked, un-ignored `.env` gets one answer from scan, audit and
/// respond --dry-run: at risk but not in history, nothing to rewrite, add it to .gitignore. No "LEAKED
/// … in 0 place(s)", no rewrite plan, no "introduced by 0 commit(s)".
#[test]
fn a_token_only_in_its_untracked_env_gets_one_answer_everywhere() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("app.py", "print('hi')\n", "Initial");
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    let answer = "is at risk but not in history: it is only in .env";
    let scan = Unleak::new(&repo.path).args(&["scan"]).run();
    let audit = Unleak::new(&repo.path).args(&["audit"]).run();
    let respond = Unleak::new(&repo.path)
        .args(&["respond", "--dry-run", "--offline"])
        .run();
    for (name, run) in [("scan", &scan), ("audit", &audit), ("respond", &respond)] {
        run.assert_hides(&token);
        let text = format!("{}{}", run.stdout, run.stderr);
        assert!(text.contains(answer), "{name}:\n{text}");
        assert!(text.contains("Add .env to .gitignore"), "{name}:\n{text}");
        assert!(!text.contains("LEAKED"), "{name}:\n{text}");
        assert!(!text.contains("0 place(s)"), "{name}:\n{text}");
        assert!(
            !text.contains("filter-repo"),
            "{name}: no rewrite plan:\n{text}"
        );
        assert!(
            !text.contains("introduced by 0 commit(s)"),
            "{name}:\n{text}"
        );
    }
    assert_eq!(scan.code, 0, "{}", scan.stdout);
    assert_eq!(respond.code, 0, "{}", respond.stdout);
    assert!(
        respond
            .stdout
            .contains("Nothing leaked into this repository"),
        "{}",
        respond.stdout
    );
    // audit still fails on the hygiene issue itself: the file is not ignored.
    assert_eq!(audit.code, 1, "{}", audit.stdout);
    assert!(
        audit.stdout.contains("hygiene.env-not-ignored"),
        "{}",
        audit.stdout
    );
    assert!(
        audit
            .stdout
            .contains("No leak found; hygiene problems above."),
        "{}",
        audit.stdout
    );
}
