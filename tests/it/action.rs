//! The GitHub Action (action.yml) and the Dockerfile, checked where they can be here: the action's shell
//! steps run for real against a throwaway repository (installing unleak with cargo from this checkout,
//! offline); steps that call other actions (SARIF upload) and the Docker build are named as not run.

use crate::util::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One step of a composite action, as far as this test needs it.
#[derive(Debug, Default)]
struct Step {
    name: String,
    id: Option<String>,
    uses: Option<String>,
    env: BTreeMap<String, String>,
    run: String,
}

/// Reads the steps of action.yml: the file keeps a fixed layout (`    - name:` items, `env:` maps and
/// `run: |` blocks indented under them), which this test also pins.
fn steps(text: &str) -> Vec<Step> {
    let body = text
        .split_once("\n  steps:\n")
        .expect("action.yml has runs.steps")
        .1;
    let mut out: Vec<Step> = Vec::new();
    let mut section = "";
    for line in body.lines() {
        if let Some(name) = line.strip_prefix("    - name: ") {
            out.push(Step {
                name: name.to_string(),
                ..Step::default()
            });
            section = "";
            continue;
        }
        let step = out.last_mut().expect("a step first");
        if let Some(rest) = line.strip_prefix("      ") {
            if !rest.starts_with(' ') {
                section = "";
                if let Some(id) = rest.strip_prefix("id: ") {
                    step.id = Some(id.to_string());
                } else if let Some(uses) = rest.strip_prefix("uses: ") {
                    step.uses = Some(uses.to_string());
                } else if rest == "env:" {
                    section = "env";
                } else if rest == "run: |" {
                    section = "run";
                }
                continue;
            }
            match section {
                "env" => {
                    let (key, value) = rest.trim().split_once(": ").expect("KEY: value");
                    step.env.insert(key.to_string(), value.to_string());
                }
                "run" => {
                    step.run.push_str(&rest[2..]);
                    step.run.push('\n');
                }
                _ => {}
            }
        } else if line.trim().is_empty() && section == "run" {
            step.run.push('\n');
        }
    }
    out
}

fn action_yml() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap()
}

/// The target directory the binary under test was built in: the nested `cargo install` reuses it.
fn target_dir() -> PathBuf {
    let bin = assert_cmd::cargo::cargo_bin("unleak");
    bin.parent().unwrap().parent().unwrap().to_path_buf()
}

#[test]
fn action_inputs_reach_scripts_only_through_env() {
    let steps = steps(&action_yml());
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Install unleak",
            "Audit",
            "Upload SARIF",
            "Fail on findings"
        ]
    );
    for step in &steps {
        assert!(
            !step.run.contains("${{"),
            "{}: an expression inside a script is a shell injection",
            step.name
        );
        for (key, value) in &step.env {
            assert!(
                value.starts_with("${{ ") && value.ends_with(" }}"),
                "{key}: {value}"
            );
        }
    }
    assert_eq!(
        steps[2].uses.as_deref(),
        Some("github/codeql-action/upload-sarif@v3")
    );
}

/// Runs each shell step as the runner would (GITHUB_PATH, GITHUB_OUTPUT, RUNNER_TEMP), for a leaking and
/// a clean repository.
#[test]
fn action_steps_install_from_this_checkout_and_audit_a_repository() {
    let steps = steps(&action_yml());
    let token = fake_hf_token();
    let leaking = TestRepo::new();
    leaking.commit_file("README.md", "# demo\n", "Initial");
    let base = leaking.head();
    leaking.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    let clean = TestRepo::new();
    clean.commit_file("README.md", "# demo\n", "Initial");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cargo_dir = Path::new(&cargo)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let base_path = format!(
        "{}:{}",
        cargo_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let runner_temp = tempfile::tempdir().unwrap();

    // GITHUB_PATH persists across runs (the install happens once); GITHUB_OUTPUT is per run.
    let github_path = runner_temp.path().join("path.txt");
    std::fs::write(&github_path, "").unwrap();
    let run_all = |repo: &TestRepo, range: &str| -> (Vec<(String, i32)>, String, String) {
        let github_output = runner_temp.path().join("output.txt");
        std::fs::write(&github_output, "").unwrap();
        let installed = !std::fs::read_to_string(&github_path).unwrap().is_empty();
        let inputs: BTreeMap<&str, String> = [
            ("UNLEAK_VERSION", String::new()),
            (
                "UNLEAK_INSTALL_FROM",
                env!("CARGO_MANIFEST_DIR").to_string(),
            ),
            // Offline, and the dev profile this suite was built with: nothing is downloaded or rebuilt.
            (
                "UNLEAK_INSTALL_FLAGS",
                "--locked --offline --debug".to_string(),
            ),
            ("UNLEAK_ACTION_REPOSITORY", String::new()),
            ("UNLEAK_RANGE", range.to_string()),
            ("UNLEAK_FAIL_ON", "low".to_string()),
            ("UNLEAK_ARGS", String::new()),
            ("UNLEAK_SARIF", "unleak.sarif".to_string()),
        ]
        .into_iter()
        .collect();
        let mut outputs = String::new();
        let mut codes = Vec::new();
        let mut stderr = String::new();
        for step in &steps {
            if installed && step.id.as_deref() == Some("install") {
                continue;
            }
            if let Some(uses) = &step.uses {
                eprintln!(
                    "action test: not run here (calls another action): {} ({uses})",
                    step.name
                );
                continue;
            }
            let extra_path: String = std::fs::read_to_string(&github_path)
                .unwrap()
                .lines()
                .map(|l| format!("{l}:"))
                .collect();
            let mut cmd = Command::new("bash");
            scrub(&mut cmd)
                .current_dir(&repo.path)
                .arg("-c")
                .arg(&step.run)
                .env("PATH", format!("{extra_path}{base_path}"))
                .env("RUNNER_TEMP", runner_temp.path())
                .env("GITHUB_PATH", &github_path)
                .env("GITHUB_OUTPUT", &github_output)
                .env("CARGO_TARGET_DIR", target_dir());
            for key in step.env.keys() {
                let value = match key.as_str() {
                    "UNLEAK_EXIT" => outputs
                        .lines()
                        .find_map(|l| l.strip_prefix("exit-code="))
                        .unwrap_or("")
                        .to_string(),
                    other => inputs
                        .get(other)
                        .unwrap_or_else(|| panic!("the test gives no value for {other}"))
                        .clone(),
                };
                cmd.env(key, value);
            }
            let out = cmd.output().unwrap();
            stderr.push_str(&String::from_utf8_lossy(&out.stderr));
            let code = out.status.code().unwrap_or(-1);
            codes.push((step.name.clone(), code));
            outputs = std::fs::read_to_string(&github_output).unwrap();
            if code != 0 {
                break;
            }
        }
        assert!(!stderr.contains(&token), "{stderr}");
        (codes, outputs, stderr)
    };

    let (codes, outputs, stderr) = run_all(&leaking, "");
    assert_eq!(
        codes,
        [
            ("Install unleak".to_string(), 0),
            ("Audit".to_string(), 0),
            ("Fail on findings".to_string(), 1)
        ],
        "{stderr}"
    );
    assert!(outputs.contains("exit-code=1"), "{outputs}");
    let sarif = std::fs::read_to_string(leaking.path.join("unleak.sarif")).unwrap();
    assert!(!sarif.contains(&token));
    crate::sarif::assert_valid_sarif(&sarif);
    assert!(sarif.contains("huggingface.user-token"));
    // The range before the leak is clean; so is a clean repository.
    let (codes, outputs, stderr) = run_all(&leaking, &format!("{base}..{base}"));
    assert_eq!(codes.len(), 2, "installed once: {codes:?}");
    assert!(codes.iter().all(|(_, c)| *c == 0), "{codes:?} {stderr}");
    assert!(outputs.contains("exit-code=0"), "{outputs}");
    let (codes, _, stderr) = run_all(&clean, "");
    assert!(codes.iter().all(|(_, c)| *c == 0), "{codes:?} {stderr}");
}

/// The Dockerfile's shape; building it is scripts/docker-build.sh's job (docker is often missing here).
#[test]
fn dockerfile_is_multi_stage_with_git_and_the_binary_only() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(
        froms.len(),
        2,
        "a build stage and a runtime stage: {froms:?}"
    );
    assert!(froms[0].ends_with(" AS build"), "{froms:?}");
    assert!(text.contains("cargo build --release --locked"));
    assert!(text.contains("COPY --from=build /src/target/release/unleak /usr/local/bin/unleak"));
    let runtime = text.split(" AS runtime").nth(1).expect("a runtime stage");
    assert!(runtime.contains("install -y --no-install-recommends git"));
    assert!(runtime.contains("USER unleak"), "not root at run time");
    let docker_ok = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    eprintln!(
        "dockerfile test: the image was NOT built by the test suite (docker daemon {}); run \
         scripts/docker-build.sh to build and smoke-test it",
        if docker_ok {
            "available"
        } else {
            "not available"
        }
    );
}
