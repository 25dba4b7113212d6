//! One incident for every key of an ML project's `.env`: `respond --all-keys` revokes each key the way
//! its issuer allows (Hugging Face's API; Weights & Biases and Groq by hand, with a read-only check),
//! takes each key's new value (`--new-token-env KEY=NAME`), updates each key in `.env` and leaves the
//! rest of the file alone, plans one rewrite for all of them and writes one record, in which a key with
//! no new value is left open with its next command.

use crate::api_stub::{ApiStub, DeadAnswer};
use crate::hf_stub::HfStub;
use crate::util::*;
use serde_json::json;
use std::process::Command;
use unleak::providers::examples::expand_with_seed;

/// What python-dotenv reads from the file: the program that reads `.env` in an ML project.
fn python_dotenv(path: &std::path::Path) -> serde_json::Value {
    let output = Command::new("python3")
        .args([
            "-c",
            "import json,sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1], interpolate=False)))",
        ])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "python-dotenv failed (scripts/test.sh installs it):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn ml_respond_one_incident_for_every_key_of_the_env() {
    let hf_old = fake_hf_token();
    let hf_new = fake_hf_token();
    let wandb_old = expand_with_seed("{hex:40}", 11);
    let wandb_new = expand_with_seed("{hex:40}", 12);
    let groq_old = expand_with_seed("gsk_{alnum:52}", 13);
    let secrets = [&hf_old, &hf_new, &wandb_old, &wandb_new, &groq_old];

    let repo = TestRepo::new();
    let origin = repo.bare_sibling("origin.git");
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    repo.commit_file("train.py", "print('train')\n", "Initial");
    repo.commit_file(
        ".env",
        format!(
            "# keys\nHF_TOKEN={hf_old}\nWANDB_API_KEY={wandb_old}\nGROQ_API_KEY={groq_old}\nDEBUG=true\n"
        ),
        "Add env",
    );
    repo.git(&["push", "-q", "origin", "main"]);

    let hf = HfStub::start();
    hf.add_live(&hf_old, "write");
    hf.add_live(&hf_new, "read");
    let issuers = ApiStub::start(DeadAnswer::Unauthorized);
    for live in [&wandb_old, &wandb_new, &groq_old] {
        issuers.add_live(live, json!({"username": "ml-team"}));
    }
    let place = tempfile::tempdir().unwrap();
    let report = place.path().join("incident.md");
    let script = place.path().join("fix.sh");
    let run = Unleak::new(&repo.path)
        .args(&[
            "respond",
            "--all-keys",
            "--yes",
            "--revoke",
            "api",
            "--new-token-env",
            "HF_TOKEN=NEW_HF",
            "--new-token-env",
            "WANDB_API_KEY=NEW_WANDB",
            "--report",
            report.to_str().unwrap(),
            "--write-script",
            script.to_str().unwrap(),
        ])
        .env("HF_ENDPOINT", &hf.endpoint)
        .env("UNLEAK_WANDB_API_URL", &issuers.endpoint)
        .env("UNLEAK_GROQ_API_URL", &issuers.endpoint)
        .env("NEW_HF", &hf_new)
        .env("NEW_WANDB", &wandb_new)
        .run();
    for secret in secrets {
        run.assert_hides(secret);
    }
    assert_eq!(
        run.code, 1,
        "steps are left (Groq's key):\n{}\n{}",
        run.stdout, run.stderr
    );

    // .env as python-dotenv reads it: two keys rotated, Groq's kept (no new value), the rest untouched.
    let env = python_dotenv(&repo.path.join(".env"));
    assert_eq!(env["HF_TOKEN"], hf_new.as_str(), "{}", run.stdout);
    assert_eq!(env["WANDB_API_KEY"], wandb_new.as_str());
    assert_eq!(env["GROQ_API_KEY"], groq_old.as_str());
    assert_eq!(env["DEBUG"], "true");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(repo.path.join(".env"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The issuers: HF revoked through its API; W&B and Groq only checked, read-only.
    assert!(
        hf.revokes()
            .iter()
            .any(|r| r.body.contains(hf_old.as_str())),
        "HF revoke API not called with the old token"
    );
    for r in issuers.requests() {
        assert!(
            (r.method == "GET" && r.path == "/openai/v1/models")
                || (r.method == "POST" && r.path == "/graphql"),
            "{r:?}"
        );
    }
    assert!(issuers.revokes().is_empty());

    // One record, a step per key, each open step with its next command.
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}.json", report.display())).unwrap(),
    )
    .unwrap();
    let text = record.to_string();
    for secret in secrets {
        assert!(!text.contains(secret.as_str()));
    }
    let step = |name: &str| {
        record["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no step {name}: {record:#}"))
            .clone()
    };
    for key in ["HF_TOKEN", "WANDB_API_KEY"] {
        assert_eq!(step(&format!("re-create {key}"))["status"], "done");
        assert_eq!(step(&format!("update .env {key}"))["status"], "done");
    }
    let groq = step("re-create GROQ_API_KEY");
    assert_eq!(groq["status"], "skipped", "{groq:#}");
    assert!(
        groq["next"]
            .as_str()
            .unwrap()
            .contains("unleak setup --key GROQ_API_KEY"),
        "{groq:#}"
    );
    assert_eq!(record["secrets"].as_array().unwrap().len(), 3);
    let revokes: Vec<&serde_json::Value> = record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"].as_str().unwrap().starts_with("revoke"))
        .collect();
    assert_eq!(revokes.len(), 3, "{record:#}");

    // One rewrite plan for all three: the script holds no secret and rewrites three values.
    let written = std::fs::read_to_string(&script).unwrap();
    for secret in secrets {
        assert!(!written.contains(secret.as_str()));
    }
    assert!(run.stdout.contains("Groq"), "{}", run.stdout);
    assert!(run.stdout.contains("Weights & Biases"), "{}", run.stdout);
}

/// A new value named for a key that holds no leaked token, or a `KEY=NAME` with half of it missing, is
/// an error before anything is revoked or written (it would be silently unused).
#[test]
fn ml_respond_a_new_value_for_no_leaked_key_changes_nothing() {
    let old = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file(".env", format!("HF_TOKEN={old}\n"), "Add env");
    let before = std::fs::read(repo.path.join(".env")).unwrap();
    let hf = HfStub::start();
    hf.add_live(&old, "write");
    let run = Unleak::new(&repo.path)
        .args(&[
            "respond",
            "--all-keys",
            "--yes",
            "--revoke",
            "api",
            "--new-token-env",
            "WANDB_API_KEY=NEWV",
        ])
        .env("HF_ENDPOINT", &hf.endpoint)
        .env("NEWV", &expand_with_seed("{hex:40}", 3))
        .run();
    run.assert_hides(&old);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("no leaked token is kept under WANDB_API_KEY")
            && run.stderr.contains("HF_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(hf.revokes().is_empty(), "nothing may be revoked");
    assert_eq!(std::fs::read(repo.path.join(".env")).unwrap(), before);

    let run = Unleak::new(&repo.path)
        .args(&[
            "respond",
            "--dry-run",
            "--all-keys",
            "--new-token-env",
            "HF_TOKEN=",
        ])
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("needs both a key and a variable name"),
        "{}",
        run.stderr
    );
}
