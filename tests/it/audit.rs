//! `unleak audit`: read-only, provider patterns plus exact .env values, hygiene, CI exit codes.

use crate::hf_stub::HfStub;
use crate::util::*;
use std::os::unix::fs::PermissionsExt;

fn audit(repo: &TestRepo, args: &[&str]) -> Run {
    let mut all = vec!["audit", "--format", "json"];
    all.extend_from_slice(args);
    Unleak::new(&repo.path).args(&all).run()
}

fn rule_ids(report: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn hygiene_ids(report: &serde_json::Value) -> Vec<String> {
    report["hygiene"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| h["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn audit_changes_nothing_git_dir_included() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    // A tag has no reflog: reading one through libgit2 would create it (hostile.rs covers every shape).
    repo.git(&["tag", "v1"]);
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    let before = snapshot(&repo.path);
    for format in ["human", "json"] {
        let run = Unleak::new(&repo.path)
            .args(&["audit", "--format", format])
            .run();
        run.assert_hides(&token);
        assert_eq!(run.code, 1, "{run:?}");
    }
    assert_eq!(
        before,
        snapshot(&repo.path),
        "audit must leave the repository byte-identical"
    );
}

#[test]
fn every_provider_example_is_found_and_negatives_are_not() {
    let repo = TestRepo::new();
    let mut expected = Vec::new();
    let mut body = String::new();
    let mut values = Vec::new();
    for provider in unleak::providers::all() {
        for pattern in provider.patterns {
            // The first example of each rule, on a line of its own.
            let example = unleak::providers::examples::expand(pattern.examples[0]);
            body.push_str(&format!(
                "{} = \"{example}\"\n",
                pattern.id.replace(['.', '-'], "_")
            ));
            values.push(example);
            expected.push(pattern.id.to_string());
            for negative in pattern.negatives {
                body.push_str(&format!(
                    "n = \"{}\"\n",
                    unleak::providers::examples::expand(negative)
                ));
            }
        }
    }
    repo.commit_file("fixtures.txt", &body, "Add fixtures");
    let run = audit(&repo, &[]);
    for value in &values {
        run.assert_hides(value);
    }
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    expected.sort();
    expected.dedup();
    assert_eq!(
        rule_ids(&report),
        expected,
        "each rule's example found, no negative reported"
    );
    assert_eq!(report["findings"].as_array().unwrap().len(), values.len());
}

#[test]
fn placeholders_and_a_clean_repository_pass() {
    let repo = TestRepo::new();
    repo.write(".gitignore", ".env\n");
    repo.commit_file(
        "README.md",
        format!(
            "Put your token in .env:\n\n    HF_TOKEN=hf_{}\n    HF_TOKEN=your_token_here\n",
            "x".repeat(34)
        ),
        "Docs",
    );
    repo.git(&["add", ".gitignore"]);
    repo.git(&["commit", "-q", "-m", "Ignore .env"]);
    let run = audit(&repo, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.json()["findings"].as_array().unwrap().is_empty());
}

#[test]
fn exact_env_values_are_found_even_without_a_pattern() {
    let repo = TestRepo::new();
    let password = format!("Pw{}9x", random_letters(20));
    repo.write(".gitignore", ".env\n");
    repo.commit_file("db.py", format!("DSN = '{password}'\n"), "Hardcode");
    repo.write(".env", format!("DB_PASSWORD={password}\nDEBUG=true\n"));
    std::fs::set_permissions(
        repo.path.join(".env"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let run = audit(&repo, &[]);
    run.assert_hides(&password);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["findings"][0]["path"], "db.py");
    assert_eq!(report["findings"][0]["rule"], serde_json::Value::Null);
    assert!(report["secrets"][0]["origin"]
        .as_str()
        .unwrap()
        .ends_with(".env:DB_PASSWORD"));
}

#[test]
fn hygiene_problems_each_get_their_warning() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("app.py", "print(1)\n", "Initial");
    // Committed in the past, then untracked but not ignored; readable by others.
    repo.commit_file("config/.env", "MODE=dev\n", "Add env");
    repo.git(&["rm", "-q", "--cached", "config/.env"]);
    repo.git(&["commit", "-q", "-m", "Untrack"]);
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    std::fs::set_permissions(
        repo.path.join(".env"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    // Staged: a token about to be committed.
    repo.write("staged.py", format!("T = '{token}'\n"));
    repo.git(&["add", "staged.py"]);
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json"])
        .env("HF_TOKEN", &fake_hf_token())
        .run();
    run.assert_hides(&token);
    let ids = hygiene_ids(&run.json());
    for id in [
        "hygiene.env-not-ignored",
        "hygiene.env-readable",
        "hygiene.env-in-history",
        "hygiene.token-staged",
        "hygiene.env-var-differs",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} missing from {ids:?}");
    }
    let history = run.json()["hygiene"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "hygiene.env-in-history")
        .unwrap()
        .clone();
    assert_eq!(history["path"], "config/.env");
    assert_eq!(history["commits"].as_array().unwrap().len(), 1);

    // Tracked now, and hardcoded at HEAD.
    let repo = TestRepo::new();
    repo.commit_file(".env", format!("HF_TOKEN={token}\n"), "Track env");
    repo.commit_file("main.py", format!("T = '{token}'\n"), "Hardcode");
    let run = audit(&repo, &[]);
    run.assert_hides(&token);
    let ids = hygiene_ids(&run.json());
    assert!(ids.contains(&"hygiene.env-tracked".to_string()), "{ids:?}");
    assert!(
        ids.contains(&"hygiene.token-in-head".to_string()),
        "{ids:?}"
    );
}

#[test]
fn fail_on_allowlist_and_baseline() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.write(".gitignore", ".env\n.unleak.toml\nbaseline.json\n");
    repo.git(&["add", ".gitignore"]);
    repo.commit_file("leak.py", format!("T = '{token}'\n"), "Leak");

    // Local only: medium. --fail-on high passes, the default fails.
    assert_eq!(audit(&repo, &[]).code, 1);
    let run = audit(&repo, &["--fail-on", "high"]);
    run.assert_hides(&token);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Allowlisted by fingerprint (with a reason).
    let fingerprint = audit(&repo, &[]).json()["secrets"][0]["secret"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    repo.write(
        ".unleak.toml",
        format!("[[allow]]\nfingerprint = \"{fingerprint}\"\nreason = \"revoked test token\"\n"),
    );
    let run = audit(&repo, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("suppressed"),
        "a quiet report says what it suppressed"
    );
    std::fs::remove_file(repo.path.join(".unleak.toml")).unwrap();

    // By path glob.
    repo.write(
        ".unleak.toml",
        "[[allow]]\npath = \"*.py\"\nreason = \"fixtures\"\n",
    );
    assert_eq!(audit(&repo, &[]).code, 0);
    // A bad allowlist is an error, not a silent pass.
    repo.write(".unleak.toml", "[[allow]]\npath = \"*.py\"\n");
    assert_eq!(audit(&repo, &[]).code, 2);
    std::fs::remove_file(repo.path.join(".unleak.toml")).unwrap();

    // Baseline: known findings do not count; a new one does.
    let baseline = audit(&repo, &[]);
    std::fs::write(repo.path.join("baseline.json"), &baseline.stdout).unwrap();
    assert_eq!(audit(&repo, &["--baseline", "baseline.json"]).code, 0);
    let other = fake_hf_token();
    repo.commit_file("new.py", format!("T = '{other}'\n"), "Another leak");
    let run = audit(&repo, &["--baseline", "baseline.json"]);
    run.assert_hides(&other);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["findings"].as_array().unwrap().len(), 1);
}

/// A baseline written by an older unleak lacks fields added since (severities, rules, completeness,
/// stats, …): it still loads and still suppresses what it lists. One that is not a report at all is a
/// clear error (exit 2), never a panic or a silent pass.
#[test]
fn baseline_from_an_older_unleak_still_suppresses_and_a_malformed_one_is_an_error() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.write(".gitignore", "*.json\n");
    repo.git(&["add", ".gitignore"]);
    repo.commit_file("leak.py", format!("T = '{token}'\n"), "Leak");
    let mut old = audit(&repo, &[]).json();
    assert!(!old["findings"].as_array().unwrap().is_empty());
    assert!(!old["hygiene"].as_array().unwrap().is_empty());
    let top = old.as_object_mut().unwrap();
    for field in [
        "format_version",
        "tool",
        "command",
        "secrets",
        "warnings",
        "completeness",
        "stats",
    ] {
        top.remove(field);
    }
    for finding in top["findings"].as_array_mut().unwrap() {
        let finding = finding.as_object_mut().unwrap();
        for field in [
            "severity",
            "rule",
            "lines",
            "reflogs",
            "reachable",
            "author",
            "date",
            "summary",
            "commit",
            "line",
            "remotes",
            "pushed",
            "refs",
        ] {
            finding.remove(field);
        }
        assert!(finding.contains_key("secret") && finding.contains_key("object"));
    }
    for issue in top["hygiene"].as_array_mut().unwrap() {
        let issue = issue.as_object_mut().unwrap();
        issue.remove("severity");
        issue.remove("commits");
    }
    std::fs::write(
        repo.path.join("old.json"),
        serde_json::to_string(&old).unwrap(),
    )
    .unwrap();
    let run = audit(&repo, &["--baseline", "old.json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert!(report["findings"].as_array().unwrap().is_empty());
    assert!(
        hygiene_ids(&report).is_empty(),
        "{:?}",
        hygiene_ids(&report)
    );

    for (name, text) in [
        ("garbage.json", "not json at all"),
        ("empty.json", "{}"),
        (
            "bad-location.json",
            r#"{"repository": {"path": ".", "bare": false, "shallow": false, "partial": false, "head": null, "remotes": []},
               "findings": [{"secret": {"redacted": "x", "fingerprint": "sha256:00"}, "location": "nowhere",
                             "encoding": "plain", "object": "00"}]}"#,
        ),
    ] {
        std::fs::write(repo.path.join(name), text).unwrap();
        let run = audit(&repo, &["--baseline", name]);
        assert_eq!(run.code, 2, "{name}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains(&format!("baseline {name} is not an unleak JSON report")),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn verify_labels_tokens_live_or_dead() {
    let live = fake_hf_token();
    let dead = fake_hf_token();
    let stub = HfStub::start();
    stub.add_live(&live, "read");
    let repo = TestRepo::new();
    repo.commit_file("a.py", format!("A = '{live}'\nB = '{dead}'\n"), "Leak two");
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json", "--verify"])
        .env("HF_ENDPOINT", &stub.endpoint)
        .run();
    run.assert_hides(&live).assert_hides(&dead);
    let report = run.json();
    let mut labels: Vec<String> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["live"].as_str().unwrap().to_string())
        .collect();
    labels.sort();
    assert_eq!(labels, ["dead", "live"]);
    assert!(stub.revokes().is_empty(), "audit never revokes");
    // Offline by default: no request at all.
    let before = stub.requests().len();
    audit(&repo, &[]);
    assert_eq!(stub.requests().len(), before);
}

#[test]
fn audit_sarif_from_the_binary_validates() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    repo.commit_file(".env", "MODE=dev\n", "Track env");
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "sarif"])
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 1, "{}", run.stderr);
    crate::sarif::assert_valid_sarif(&run.stdout);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rules: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"huggingface.user-token"), "{rules:?}");
    assert!(rules.contains(&"hygiene.env-tracked"), "{rules:?}");
}

/// `audit --no-git`: a folder that is not a repository (its `.git` folders skipped, its `.env` the source
/// of exact values, not a finding), named files, and stdin; the same rules, allowlist, formats and exit
/// codes as a repository's audit.
#[test]
fn no_git_scans_files_folders_and_stdin_with_the_audits_rules() {
    let place = tempfile::tempdir().unwrap();
    let dir = place.path().join("plain");
    std::fs::create_dir_all(dir.join("src/deep")).unwrap();
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let token = fake_hf_token();
    let password = format!("pw-{}-{}", random_letters(12), random_letters(12));
    std::fs::write(
        dir.join(".env"),
        format!("DB_PASSWORD={password}\nHF_TOKEN={token}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/deep/settings.py"),
        format!("# settings\nT = '{token}'\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/db.txt"),
        format!("url=postgres://u:{password}@h/db\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/fixture.py"),
        format!("X = '{}'  # unleak:allow\n", fake_hf_token()),
    )
    .unwrap();
    std::fs::write(dir.join(".git/config"), format!("{}\n", fake_hf_token())).unwrap();
    std::fs::write(dir.join("README.md"), "# clean\n").unwrap();
    let run_in = |args: &[&str], stdin: Option<String>| {
        let mut run = Unleak::new(&dir).args(args);
        if let Some(input) = stdin {
            run = run.stdin(input);
        }
        let out = run.run();
        out.assert_hides(&token).assert_hides(&password);
        out
    };

    let run = run_in(&["audit", "--no-git", ".", "--format", "json"], None);
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    let mut places: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
        .collect();
    places.sort();
    // The token by pattern, the .env password by its exact value; not .env itself, not .git, not the
    // line marked unleak:allow.
    assert_eq!(
        places,
        ["src/db.txt:1", "src/deep/settings.py:2"],
        "{report:#}"
    );
    assert!(report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["kind"] == "no-git"));
    assert_eq!(report["completeness"]["complete"], true);

    // Named files; SARIF points at the file and line.
    let run = run_in(
        &[
            "audit",
            "--no-git",
            "src/deep/settings.py",
            "README.md",
            "--format",
            "sarif",
        ],
        None,
    );
    assert_eq!(run.code, 1, "{run:?}");
    crate::sarif::assert_valid_sarif(&run.stdout);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/deep/settings.py");
    assert_eq!(location["region"]["startLine"], 2);

    // The allowlist of the current folder applies, by fingerprint.
    let fingerprint = unleak::secret::Secret::new(token.clone(), "t").fingerprint();
    std::fs::write(
        dir.join(".unleak.toml"),
        format!("[[allow]]\nfingerprint = \"{fingerprint}\"\nreason = \"test\"\n"),
    )
    .unwrap();
    let run = run_in(&["audit", "--no-git", "src/deep"], None);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("No leak found"), "{}", run.stdout);
    std::fs::remove_file(dir.join(".unleak.toml")).unwrap();

    // stdin.
    let run = run_in(
        &["audit", "--no-git", "-", "--format", "json"],
        Some(format!("log line\nAuthorization: Bearer {token}\n")),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.json()["findings"][0]["path"], "stdin");
    assert_eq!(run.json()["findings"][0]["line"], 2);
    let run = run_in(&["audit", "--no-git", "-"], Some("nothing here\n".into()));
    assert_eq!(run.code, 0, "{run:?}");

    // A path that does not exist is an error, and --no-git takes no history flags.
    let run = run_in(&["audit", "--no-git", "missing.txt"], None);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("missing.txt"), "{}", run.stderr);
    let run = run_in(&["audit", "--no-git", ".", "--range", "a..b"], None);
    assert_eq!(run.code, 2, "{run:?}");
}

/// Issue #25: a range audit read `.unleak.toml` from the checkout, so a pull request that added
/// `[[allow]] path = "**"` beside its leak passed its own review (exit 0, no SARIF result). The
/// allowlist and custom rules come from the range's base; the edit is named in a warning.
#[test]
fn a_range_audit_takes_the_allowlist_from_the_base_not_the_change() {
    let repo = TestRepo::new();
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    let base = repo.head();
    let token = fake_hf_token();
    repo.commit_file(
        ".unleak.toml",
        "[[allow]]\npath = \"**\"\nreason = \"nothing to see\"\n",
        "Quiet the scanner",
    );
    repo.commit_file("app.py", format!("KEY = '{token}'\n"), "Add key");
    for args in [
        vec![
            "audit",
            "--format",
            "json",
            "--range",
            &format!("{base}..HEAD"),
        ],
        vec!["audit", "--format", "json", "--since", &base],
    ] {
        let run = Unleak::new(&repo.path).args(&args).run();
        run.assert_hides(&token);
        assert_eq!(run.code, 1, "{args:?}: {}\n{}", run.stdout, run.stderr);
        let report = run.json();
        assert!(
            report["warnings"]
                .to_string()
                .contains("allowlist-from-base"),
            "{report:#}"
        );
    }
    let run = Unleak::new(&repo.path)
        .args(&[
            "audit",
            "--format",
            "sarif",
            "--range",
            &format!("{base}..HEAD"),
        ])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty(), "{sarif:#}");
    // Once the allowlist is on the base (merged first), a range after it honours it.
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--range", "HEAD~1..HEAD"])
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// Issue #25: an `unleak:allow` marker the pull request itself adds silenced its own leak in a range
/// audit. Markers are part of the change under review: reported anyway, with a warning saying so.
#[test]
fn a_range_audit_does_not_honour_markers_the_change_adds() {
    let repo = TestRepo::new();
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    let base = repo.head();
    let token = fake_hf_token();
    repo.commit_file(
        "app.py",
        format!("KEY = '{token}'  # unleak:allow\n"),
        "Add key",
    );
    let run = Unleak::new(&repo.path)
        .args(&[
            "audit",
            "--format",
            "json",
            "--range",
            &format!("{base}..HEAD"),
        ])
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert!(
        report["warnings"]
            .to_string()
            .contains("inline-allow-in-range"),
        "{report:#}"
    );
}

/// Issue #26: the repository is named one way by every command; `audit --range` spelled it with libgit2's
/// trailing `/`.
#[test]
fn every_command_names_the_repository_the_same_way() {
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "one\n", "One");
    repo.commit_file("b.txt", "two\n", "Two");
    let path_of = |args: &[&str]| -> String {
        let run = Unleak::new(&repo.path).args(args).run();
        assert!(run.code == 0 || run.code == 1, "{args:?}: {}", run.stderr);
        run.json()["repository"]["path"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let full = path_of(&["audit", "--format", "json", "--exit-zero"]);
    let range = path_of(&[
        "audit",
        "--range",
        "HEAD~1..HEAD",
        "--format",
        "json",
        "--exit-zero",
    ]);
    assert_eq!(range, full);
    assert!(!full.ends_with('/'), "{full}");
}

/// Trees are searched for what a file name can hold: a key file named after its key is a path
/// finding of its provider's rule. (Keyword, base64 and UTF-16 searches are not run on trees: a name
/// is no assignment; a value assigned in a name is not reported.)
#[test]
fn a_provider_key_in_a_file_name_is_a_path_finding_and_an_assignment_in_one_is_not() {
    let key = unleak::providers::examples::expand_with_seed("ghp_{alnum:36}", 9001);
    let value = unleak::providers::examples::expand_with_seed("{alnum:24}", 9002);
    let repo = TestRepo::new();
    repo.commit_file("README.md", "# keys\n", "initial");
    repo.commit_file(&format!("keys/{key}.json"), "{}\n", "a key file");
    repo.commit_file(&format!("notes/secret={value}.txt"), "-\n", "a note");
    let run = audit(&repo, &[]);
    run.assert_hides(&key).assert_hides(&value);
    let report = run.json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["location"], "path", "{report:#}");
    assert_eq!(
        findings[0]["rule"], "github.personal-access-token",
        "{report:#}"
    );
}
