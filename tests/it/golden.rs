//! Golden reports: one fixed repository (fixed tokens, authors, dates, so fixed commit ids), every
//! read-only command in every format, compared byte for byte with the files in `tests/golden/`.
//!
//! A refactoring must leave what users and CI read unchanged: this test is how that is proven. When a
//! change to a report is intended, regenerate the files with `UNLEAK_BLESS=1 cargo test --test it golden`
//! and review the diff like any other change (a golden file holds redactions and fingerprints, never a
//! token: the runner asserts it).

use crate::util::*;
use std::path::Path;
use unleak::providers::examples::expand_with_seed;

/// The leaked Hugging Face token and the other keys of the fixture, fixed by seed.
struct Keys {
    hf: String,
    openai: String,
    wandb: String,
    github: String,
    generic: String,
}

fn keys() -> Keys {
    Keys {
        hf: expand_with_seed("hf_{alpha:34}", 7001),
        openai: expand_with_seed("sk-proj-{url:74}T3BlbkFJ{url:73}A", 7002),
        wandb: expand_with_seed("{hex:40}", 7003),
        github: expand_with_seed("ghp_{alnum:36}", 7004),
        generic: expand_with_seed("{alnum:12}-{alnum:12}", 7005),
    }
}

/// History with the token in the places a leak goes: `.env` added then removed, a branch, a tag, a
/// stash, a commit message, a binary blob, a UTF-16 file, base64 in a Kubernetes Secret, ML keys in
/// notebooks and code, and an unreachable blob.
fn fixture(keys: &Keys) -> TestRepo {
    let repo = TestRepo::new();
    repo.commit_file("README.md", "# model\n", "initial");
    repo.commit_file(
        ".env",
        format!("# local settings\nHF_TOKEN={}\nDEBUG=1\n", keys.hf),
        "add settings",
    );
    repo.commit_file(
        "train.py",
        format!(
            "import os\nimport wandb\n\nwandb.login(key=\"{}\")\nos.environ[\"OPENAI_API_KEY\"] = \"{}\"\n",
            keys.wandb, keys.openai
        ),
        "training script",
    );
    repo.git(&["tag", "v0.1"]);
    repo.git(&["rm", "-q", "--cached", ".env"]);
    repo.write(".gitignore", ".env\n");
    repo.git(&["add", ".gitignore"]);
    repo.git(&["commit", "-q", "-m", "stop tracking .env"]);
    let mut blob = b"\x89PNG\r\n\x1a\n\0\0\0".to_vec();
    blob.extend_from_slice(keys.hf.as_bytes());
    blob.extend_from_slice(b"\0\x01\x02");
    repo.commit_file("assets/logo.png", blob, "logo");
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(
        format!("HF_TOKEN={}\r\n", keys.hf)
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    repo.commit_file("notes/keys.txt", utf16, "notes");
    let b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&keys.hf)
    };
    repo.commit_file(
        "k8s/secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: trainer\ndata:\n  HF_TOKEN: {b64}\n"
        ),
        "k8s secret",
    );
    repo.git(&["checkout", "-q", "-b", "experiment"]);
    repo.commit_file(
        "config/settings.yaml",
        format!(
            "github_token: {}\napi_secret: \"{}\"\n",
            keys.github, keys.generic
        ),
        "experiment settings",
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", format!("# model\n\ntoken {}\n", keys.hf));
    repo.git(&["stash", "-q"]);
    repo.write("scratch.txt", format!("HF_TOKEN={}\n", keys.hf));
    repo.git(&["add", "scratch.txt"]);
    repo.git(&["commit", "-q", "-m", &format!("debug with {}", keys.hf)]);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.write("dangling.txt", format!("HF_TOKEN={}\n", keys.hf));
    repo.git(&["hash-object", "-w", "dangling.txt"]);
    std::fs::remove_file(repo.path.join("dangling.txt")).unwrap();
    repo.commit_file("src/app.py", "print('hello')\n", "app");
    // The .env a user keeps (ignored): the token to look for.
    repo.write(".env", format!("HF_TOKEN={}\nDEBUG=1\n", keys.hf));
    repo
}

/// Replaces what differs between runs with fixed markers: the temp dir, the binary's path, the time
/// taken, and keyed
/// fingerprints (keyed with a random per-run key on purpose: a guessable value gets no stable hash).
fn normalize(text: &str, root: &Path) -> String {
    let root = root.to_str().unwrap();
    let canonical = std::fs::canonicalize(root).unwrap();
    let binary = assert_cmd::cargo::cargo_bin("unleak");
    let text = text
        .replace(canonical.to_str().unwrap(), "<TMP>")
        .replace(root, "<TMP>")
        .replace(binary.to_str().unwrap(), "<UNLEAK>");
    let text = regex::Regex::new(r"keyed:[0-9a-f]{64}")
        .unwrap()
        .replace_all(&text, "keyed:<KEYED>");
    let text = regex::Regex::new(r#""(\w+)_ms": \d+"#)
        .unwrap()
        .replace_all(&text, r#""${1}_ms": <N>"#);
    let text = regex::Regex::new(r"\) in \d+(\.\d+)? (ms|s)\b")
        .unwrap()
        .replace_all(&text, ") in <T>")
        .into_owned();
    // A SARIF result's stable hash is made from its fingerprint: keyed, it changes with the run too.
    let hash = regex::Regex::new(r#""unleakFindingHash/v1": "[0-9a-f]{64}""#).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for found in hash.find_iter(&text) {
        let before = &text[..found.start()];
        let result_start = before.rfind("\"ruleId\"").unwrap_or(0);
        out.push_str(&text[last..found.start()]);
        if before[result_start..].contains("keyed:") {
            out.push_str(r#""unleakFindingHash/v1": "<KEYED>""#);
        } else {
            out.push_str(found.as_str());
        }
        last = found.end();
    }
    out.push_str(&text[last..]);
    out
}

/// Compares one command's exit code, stdout and stderr with its golden file (or writes it when
/// `UNLEAK_BLESS` is set); returns a description of the mismatch, if any.
fn check(name: &str, repo: &TestRepo, keys: &Keys, args: &[&str]) -> Option<String> {
    let run = Unleak::new(&repo.path).args(args).run();
    for secret in [
        &keys.hf,
        &keys.openai,
        &keys.wandb,
        &keys.github,
        &keys.generic,
    ] {
        run.assert_hides(secret);
    }
    let actual = format!(
        "$ unleak {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        run.code,
        normalize(&run.stdout, repo.dir.path()),
        normalize(&run.stderr, repo.dir.path())
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.txt"));
    if std::env::var_os("UNLEAK_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UNLEAK_BLESS=1 to create)",
            path.display()
        )
    });
    if expected == actual {
        return None;
    }
    let first = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.lines().count().min(actual.lines().count()));
    Some(format!(
        "{name}: differs from {} at line {}:\n  expected: {:?}\n  actual:   {:?}",
        path.display(),
        first + 1,
        expected.lines().nth(first),
        actual.lines().nth(first)
    ))
}

#[test]
fn golden_reports_of_every_read_only_command_are_unchanged() {
    let keys = keys();
    let repo = fixture(&keys);
    let base = repo.rev("v0.1");
    let range = format!("{base}..main");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("scan-human", vec!["scan", "--threads", "1"]),
        ("scan-json", vec!["scan", "--format", "json"]),
        ("scan-sarif", vec!["scan", "--format", "sarif"]),
        (
            "scan-reachable-json",
            vec!["scan", "--reachable-only", "--format", "json"],
        ),
        ("audit-human", vec!["audit", "--threads", "1"]),
        ("audit-json", vec!["audit", "--format", "json"]),
        ("audit-sarif", vec!["audit", "--format", "sarif"]),
        (
            "audit-range-json",
            vec!["audit", "--range", &range, "--format", "json"],
        ),
        (
            "audit-range-sarif",
            vec!["audit", "--range", &range, "--format", "sarif"],
        ),
        ("audit-since-human", vec!["audit", "--since", &base]),
        ("verify-human", vec!["verify", "--offline"]),
        (
            "verify-json",
            vec!["verify", "--offline", "--format", "json"],
        ),
        (
            "respond-dry-run",
            vec!["respond", "--dry-run", "--yes", "--offline"],
        ),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, args)| check(name, &repo, &keys, args))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
