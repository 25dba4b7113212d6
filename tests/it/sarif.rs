//! SARIF output: a report of every kind of finding, rendered and validated against the official SARIF
//! 2.1.0 schema (python `jsonschema`, which scripts/test.sh installs), then checked against what GitHub
//! code scanning needs beyond the schema.

use crate::util::*;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use unleak::model::{HygieneIssue, Report, Severity};
use unleak::render::sarif;
use unleak::secret::Secret;

/// The official schema, kept in the repository (tests/fixtures/README.md says where it comes from).
fn schema_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif-schema-2.1.0.json");
    assert!(
        path.is_file(),
        "the SARIF schema is missing at {}",
        path.display()
    );
    path
}

/// Validates `sarif` against the official schema with python's jsonschema. Fails, never skips, when
/// python3 or jsonschema is missing: this is the proof the output is SARIF.
pub fn assert_valid_sarif(sarif: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.sarif");
    std::fs::write(&file, sarif).unwrap();
    let script = r#"
import json, sys
try:
    import jsonschema
except ImportError:
    print("python3 has no jsonschema: run scripts/test.sh, which installs it into target/test-venv")
    sys.exit(3)
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    print("/".join(str(p) for p in e.absolute_path) + ": " + e.message)
sys.exit(1 if errors else 0)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(schema_path())
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("python3 is required to validate SARIF: {e}"));
    assert!(
        out.status.success(),
        "SARIF does not validate against the 2.1.0 schema:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn render(report: &Report) -> String {
    let mut out = Vec::new();
    sarif::render(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A repository leaking a Hugging Face token (pushed, in a commit message, in a tag message) and a
/// value no provider rule knows (on a local branch, in a path with a space, in an unreachable blob);
/// plus hand-made hygiene issues, one with an id no table knows.
struct Fixture {
    _repo: TestRepo,
    tokens: Vec<String>,
    report: Report,
}

fn fixture() -> Fixture {
    let hf = fake_hf_token();
    let other = format!("pw-{}", random_letters(24));
    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("README.md", "# demo\n", "Initial commit");
    repo.commit_file("app/config.py", format!("\n\nTOKEN = '{hf}'\n"), "Config");
    repo.git(&["push", "-q", "origin", "main"]);
    repo.write("notes.txt", "x\n");
    repo.git(&["add", "notes.txt"]);
    repo.git(&[
        "commit",
        "-q",
        "-m",
        &format!("Notes\n\nused {hf} for testing"),
    ]);
    repo.git(&["tag", "-a", "v1", "-m", &format!("Release\n\ntoken {hf}")]);
    repo.git(&["checkout", "-q", "-b", "local-only"]);
    repo.commit_file(
        "my dir/db settings#1.txt",
        format!("user=app\npass={other}\nagain={other}\n"),
        "Local settings",
    );
    repo.write("loose.txt", format!("{other}\n"));
    repo.git(&["hash-object", "-w", "loose.txt"]);
    std::fs::remove_file(repo.path.join("loose.txt")).unwrap();

    let secrets = vec![
        Secret::new(hf.clone(), ".env:HF_TOKEN"),
        Secret::new(other.clone(), ".env:DB_PASSWORD"),
    ];
    let mut report = scan_report(&repo.path, &secrets);
    let first = repo.rev("main~1");
    report.hygiene = vec![
        HygieneIssue {
            id: "hygiene.env-not-ignored".into(),
            message: ".env is not ignored: the next `git add .` commits it".into(),
            path: Some(".env".into()),
            commits: Vec::new(),
            severity: Severity::Medium,
            secret: None,
            line: None,
        },
        HygieneIssue {
            id: "hygiene.env-in-history".into(),
            message: "a .env file was committed".into(),
            path: None,
            commits: vec![first],
            severity: Severity::High,
            secret: None,
            line: None,
        },
        HygieneIssue {
            id: "hygiene.brand-new-check".into(),
            message: "something repository-wide".into(),
            path: None,
            commits: Vec::new(),
            severity: Severity::Low,
            secret: None,
            line: None,
        },
    ];
    Fixture {
        _repo: repo,
        tokens: vec![hf, other],
        report,
    }
}

#[test]
fn sarif_validates_against_the_schema_and_meets_githubs_rules() {
    let fx = fixture();
    let text = render(&fx.report);
    for token in &fx.tokens {
        assert!(
            !text.contains(token.as_str()),
            "a token value is in the SARIF"
        );
    }
    assert_valid_sarif(&text);

    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "unleak");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));

    let rules = driver["rules"].as_array().unwrap();
    let mut ids = HashSet::new();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        assert!(ids.insert(id), "rule {id} twice");
        for field in ["shortDescription", "fullDescription", "help"] {
            let text = rule[field]["text"].as_str().unwrap_or_default();
            assert!(text.len() > 10, "rule {id} has no {field}");
        }
        let sev: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev), "{id}");
        assert!(rule["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("security")));
    }
    for provider in unleak::providers::all() {
        for pattern in provider.patterns {
            assert!(ids.contains(pattern.id), "no rule for {}", pattern.id);
        }
    }
    for id in [
        sarif::KNOWN_VALUE_RULE,
        "hygiene.env-tracked",
        "hygiene.brand-new-check",
    ] {
        assert!(ids.contains(id), "no rule {id}");
    }

    let results = run["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        fx.report.findings.len() + fx.report.hygiene.len()
    );
    let mut fingerprints = HashSet::new();
    for result in results {
        let rule_id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], rule_id, "ruleIndex points elsewhere");
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && !uri.contains("://") && !uri.contains(' '),
            "{uri} is not a relative URI reference"
        );
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        let fingerprint = result["partialFingerprints"]["unleakFindingHash/v1"]
            .as_str()
            .unwrap();
        assert!(
            fingerprints.insert(fingerprint.to_string()),
            "two results share {fingerprint}"
        );
    }

    // Each kind of place is there, located as docs/sarif.md says.
    let by_uri = |prefix: &str| {
        results
            .iter()
            .filter(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .starts_with(prefix)
            })
            .collect::<Vec<_>>()
    };
    let config = by_uri("app/config.py");
    assert_eq!(config.len(), 1);
    assert_eq!(config[0]["ruleId"], "huggingface.user-token");
    assert_eq!(config[0]["level"], "error", "pushed is high");
    assert_eq!(
        config[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    let local = by_uri("my%20dir/db%20settings%231.txt");
    assert_eq!(local.len(), 1);
    assert_eq!(local[0]["ruleId"], sarif::KNOWN_VALUE_RULE);
    assert_eq!(local[0]["level"], "warning", "local only is medium");
    assert_eq!(
        local[0]["properties"]["unleak/lines"],
        serde_json::json!([2, 3])
    );
    let commit = by_uri(".git/commit/");
    assert!(commit
        .iter()
        .any(|r| r["ruleId"] == "huggingface.user-token"
            && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .unwrap()
                .starts_with("commit ")));
    assert_eq!(by_uri(".git/tag/").len(), 1);
    let orphan = by_uri(".git/blob/");
    assert_eq!(orphan.len(), 1);
    assert_eq!(orphan[0]["level"], "note", "unreachable is low");
    assert_eq!(by_uri(".env").len(), 1);
    assert_eq!(
        results
            .iter()
            .filter(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == ".git")
            .count(),
        1
    );
}

#[test]
fn fingerprints_are_stable_across_renders_and_scans() {
    let fx = fixture();
    let prints = |text: &str| -> Vec<String> {
        let doc: Value = serde_json::from_str(text).unwrap();
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["unleakFindingHash/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let once = render(&fx.report);
    assert_eq!(once, render(&fx.report), "two renders differ");

    // A second scan of the same repository: timings differ, fingerprints do not.
    let secrets: Vec<Secret> = fx
        .tokens
        .iter()
        .map(|t| Secret::new(t.clone(), "again"))
        .collect();
    let mut again = scan_report(&fx._repo.path, &secrets);
    again.hygiene = fx.report.hygiene.clone();
    assert_eq!(prints(&once), prints(&render(&again)));
}

#[test]
fn an_empty_report_is_valid_sarif_with_every_rule() {
    let repo = TestRepo::new();
    repo.commit_file("README.md", "clean\n", "Initial");
    let report = scan_report(&repo.path, &[Secret::new(fake_hf_token(), ".env:HF_TOKEN")]);
    let text = render(&report);
    assert_valid_sarif(&text);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
    assert!(
        doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
}

/// A shallow clone cannot be searched whole: the SARIF run says the execution did not succeed and names
/// why, so code scanning does not show "no alerts"; accepted with --allow-incomplete, it succeeds with a
/// warning.
#[test]
fn an_incomplete_scan_is_not_a_successful_sarif_run() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "a\n", "First");
    repo.commit_file("b.txt", "b\n", "Second");
    let shallow = repo.shallow_clone("shallow");
    for (extra, code, successful, level) in [
        (None, 2, false, "error"),
        (Some("--allow-incomplete"), 0, true, "warning"),
    ] {
        let mut args = vec!["scan", "--format", "sarif", "--token-stdin"];
        args.extend(extra);
        let run = Unleak::new(&shallow)
            .args(&args)
            .stdin(format!("{token}\n"))
            .run();
        run.assert_hides(&token);
        assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
        assert_valid_sarif(&run.stdout);
        let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
        let invocation = &sarif["runs"][0]["invocations"][0];
        assert_eq!(
            invocation["executionSuccessful"], successful,
            "{invocation:#}"
        );
        let note = &invocation["toolExecutionNotifications"][0];
        assert_eq!(note["descriptor"]["id"], "incomplete", "{invocation:#}");
        assert_eq!(note["level"], level);
        assert!(
            note["message"]["text"]
                .as_str()
                .unwrap()
                .contains("shallow"),
            "{note:#}"
        );
    }
}

/// Regression: two tokens in one file at HEAD gave two `hygiene.token-in-head` results with one
/// partialFingerprint (GitHub merged them into one alert), both on line 1 though one token is on line 2.
#[test]
fn two_tokens_in_one_file_at_head_are_two_alerts_each_on_its_line() {
    let repo = TestRepo::new();
    let (first, second) = (fake_hf_token(), fake_hf_token());
    repo.commit_file("README.md", "# demo\n", "Initial");
    repo.commit_file("config.py", format!("A = '{first}'\n"), "One token");
    repo.commit_file(
        "config.py",
        format!("# settings\nA = '{first}'\n\nB = '{second}'\n"),
        "Two tokens",
    );
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "sarif"])
        .run();
    run.assert_hides(&first).assert_hides(&second);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_valid_sarif(&run.stdout);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let in_head: Vec<&Value> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "hygiene.token-in-head")
        .collect();
    assert_eq!(in_head.len(), 2, "{in_head:#?}");
    let print = |r: &Value| r["partialFingerprints"]["unleakFindingHash/v1"].clone();
    assert_ne!(
        print(in_head[0]),
        print(in_head[1]),
        "two tokens, two alerts"
    );
    let mut lines: Vec<u64> = in_head
        .iter()
        .map(|r| {
            assert_eq!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                "config.py"
            );
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
        })
        .collect();
    lines.sort();
    assert_eq!(lines, [2, 4], "each result on its token's line at HEAD");
    // Each names its token by fingerprint, never by value.
    let prints: Vec<&str> = in_head
        .iter()
        .map(|r| {
            r["properties"]["unleak/secret"]["fingerprint"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_ne!(prints[0], prints[1]);
}
