//! The first ten minutes of a new user (issue #13): respond never strands anyone when the API cannot be
//! reached, its prompts ask again instead of giving up, and the output conventions CI users expect.

use crate::respond::{incident, leaked_repo};
use crate::util::*;

/// An endpoint on loopback where nothing listens: every connection is refused at once.
fn unreachable_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn record_steps(path: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// In a terminal, with the API unreachable: one line says so (naming --offline), the browser path
/// follows, a wrong or empty new token is asked again, and every later step runs, down to the offered
/// script and incident record.
#[test]
fn respond_in_a_terminal_goes_on_when_the_api_is_unreachable() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let repo = leaked_repo(&old);
    let endpoint = unreachable_endpoint();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("unleak"));
    scrub(&mut cmd)
        .current_dir(&repo.path)
        .env("HF_ENDPOINT", &endpoint)
        .env("TERM", "dumb")
        .args(["respond"]);
    let mut pty = Pty::spawn(cmd);
    pty.expect("[3/7] Revoke the old token");
    pty.expect("Going on without the API (`--offline` skips it from the start)");
    pty.expect(&format!("open {endpoint}/settings/tokens,"));
    pty.expect("[4/7]");
    pty.expect(&format!("Create it at {endpoint}/settings/tokens/new"));
    pty.expect("New token (input hidden):");
    pty.type_hidden("");
    pty.expect("Nothing was entered");
    pty.expect("New token (input hidden):");
    let wrong = format!("xx_{}", random_letters(30));
    pty.type_hidden(&wrong);
    pty.expect("Again, to confirm:");
    pty.type_hidden(&wrong);
    pty.expect("does not look like a Hugging Face token; check what was pasted; try again");
    pty.expect("New token (input hidden):");
    pty.type_hidden(&new);
    pty.expect("Again, to confirm:");
    pty.type_hidden(&new);
    pty.expect("The new token was not checked");
    pty.expect("Write the new token to");
    pty.send("y\r");
    pty.expect("[6/7] Rewrite history");
    pty.expect("Write this plan as a script (mode 0700) to");
    pty.send("y\r");
    pty.expect("Wrote");
    pty.expect("[7/7] Incident record");
    pty.expect("Write the incident record");
    pty.send("y\r");
    pty.expect("step(s) left undone:");
    let seen = pty.finish();
    assert!(
        !seen.contains(&old) && !seen.contains(&new) && !seen.contains(&wrong),
        "{seen}"
    );
    assert!(!seen.contains("?:"), "a question ends in '?:':\n{seen}");
    assert!(
        !seen.contains("Dns Failed") && !seen.contains("Connection Failed"),
        "{seen}"
    );
    assert!(
        seen.contains("- revoke hf_"),
        "the open step is named:\n{seen}"
    );

    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert!(env.contains(&format!("HF_TOKEN={new}\n")), "{env}");
    let script = repo.dir.path().join("repo-rewrite.sh");
    assert!(
        script.is_file(),
        "the offered script was written beside the repository"
    );
    let record = repo.dir.path().join("repo-incident.md");
    assert!(record.is_file());
    let steps = record_steps(&repo.dir.path().join("repo-incident.md.json"));
    let status = |name: &str| {
        steps
            .iter()
            .find(|(step, _)| step.starts_with(name))
            .unwrap_or_else(|| panic!("no step {name}: {steps:?}"))
            .1
            .clone()
    };
    assert_eq!(status("revoke"), "skipped");
    assert_eq!(status("re-create"), "done");
    assert_eq!(status("update .env"), "done");
    assert_eq!(status("rewrite history"), "prepared");
}

/// Without a terminal and with every answer given, an unreachable API still leaves a finished run:
/// the new token is written, the plan printed, exit 1 because revocation is left to do by hand.
#[test]
fn respond_with_flags_finishes_when_the_api_is_unreachable() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let repo = leaked_repo(&old);
    let report = repo.dir.path().join("incident.md");
    let run = respond_yes(
        &repo.path,
        &new,
        &["--revoke", "api", "--report", report.to_str().unwrap()],
    )
    .env("HF_ENDPOINT", &unreachable_endpoint())
    .run();
    run.assert_hides(&old).assert_hides(&new);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stdout.matches("cannot reach http://127.0.0.1:").count(),
        2,
        "one line at revoke, one at the new token's check:\n{}",
        run.stdout
    );
    for later in ["[4/7]", "[5/7]", "[6/7]", "[7/7]", "Revoke it by hand"] {
        assert!(
            run.stdout.contains(later),
            "{later} missing:\n{}",
            run.stdout
        );
    }
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert!(env.contains(&format!("HF_TOKEN={new}\n")));
    let steps = record_steps(&repo.dir.path().join("incident.md.json"));
    assert!(
        steps
            .iter()
            .any(|(s, st)| s.starts_with("revoke") && st == "skipped"),
        "{steps:?}"
    );
}

/// `--dry-run` with the API unreachable walks every step too, and changes nothing.
#[test]
fn respond_dry_run_goes_on_when_the_api_is_unreachable() {
    let old = fake_hf_token();
    let repo = leaked_repo(&old);
    let before = snapshot(&repo.path);
    let run = Unleak::new(&repo.path)
        .args(&["respond", "--dry-run"])
        .env("HF_ENDPOINT", &unreachable_endpoint())
        .run();
    run.assert_hides(&old);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("--offline"), "{}", run.stdout);
    assert!(
        run.stdout.contains("[6/7] Rewrite history"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("step(s) left undone:\n  - revoke hf_"),
        "{}",
        run.stdout
    );
    assert_eq!(before, snapshot(&repo.path));
}

/// A browser revoke that whoami does not confirm says so in words, not as a Rust debug dump.
#[test]
fn unconfirmed_browser_revoke_is_said_in_words() {
    let (old, new, stub, repo) = incident("read", "read");
    let run = respond_yes(&repo.path, &new, &["--revoke", "browser"])
        .env("HF_ENDPOINT", &stub.endpoint)
        .run();
    run.assert_hides(&old).assert_hides(&new);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("NOT confirmed: the old token still works (whoami answers 200 for user ada)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("TokenOwner") && !run.stdout.contains("Valid("));
    assert!(
        run.stdout
            .contains(&format!("Revoke it at {}/settings/tokens", stub.endpoint)),
        "the settings page is on HF_ENDPOINT:\n{}",
        run.stdout
    );
}

/// `respond --format` offers only what it can print.
#[test]
fn respond_does_not_list_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let help = Unleak::new(dir.path()).args(&["respond", "--help"]).run();
    assert_eq!(help.code, 0);
    let format_help = &help.stdout[help.stdout.find("--format").unwrap()..];
    let format_help = &format_help[..format_help.find("[default").unwrap()];
    assert!(!format_help.contains("sarif"), "{format_help}");
    let run = Unleak::new(dir.path())
        .args(&["respond", "--format", "sarif"])
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid value 'sarif'"),
        "{}",
        run.stderr
    );
}

/// `-o FILE` writes the report there and nothing on stdout; `--exit-zero` turns "found" into 0 but not
/// an error.
#[test]
fn output_file_and_exit_zero() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Add config");
    let out = repo.dir.path().join("reports").join("scan.sarif");
    std::fs::create_dir(out.parent().unwrap()).unwrap();
    std::fs::write(&out, "stale").unwrap();
    let run = run_with_token(
        &repo.path,
        &["scan", "--format", "sarif", "-o", out.to_str().unwrap()],
        &token,
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let sarif = std::fs::read_to_string(&out).unwrap();
    assert!(!sarif.contains(&token));
    crate::sarif::assert_valid_sarif(&sarif);
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");

    let run = run_with_token(
        &repo.path,
        &[
            "scan",
            "--format",
            "json",
            "--output",
            out.to_str().unwrap(),
            "--exit-zero",
        ],
        &token,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["secrets"][0]["found"], true);
    let path = json["repository"]["path"].as_str().unwrap();
    assert!(!path.ends_with('/'), "{path}");
    assert_eq!(
        std::path::Path::new(path),
        repo.path.canonicalize().unwrap()
    );

    // audit finds it by pattern; verify is given the token.
    for (args, stdin) in [
        (
            &["audit", "--format", "sarif", "--exit-zero", "-o"][..],
            false,
        ),
        (
            &["verify", "--format", "json", "--exit-zero", "-o"][..],
            true,
        ),
    ] {
        let target = repo.dir.path().join(format!("{}.out", args[0]));
        let mut all = args.to_vec();
        all.push(target.to_str().unwrap());
        let run = if stdin {
            run_with_token(&repo.path, &all, &token)
        } else {
            Unleak::new(&repo.path).args(&all).run()
        };
        run.assert_hides(&token);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty());
        let written = std::fs::read_to_string(&target).unwrap();
        assert!(written.starts_with('{') && !written.contains(&token));
    }

    // Errors are never hidden by --exit-zero, and a failed run does not touch the file.
    let before = std::fs::read(&out).unwrap();
    let missing = repo.dir.path().join("missing");
    let run = Unleak::new(repo.dir.path())
        .args(&[
            "scan",
            missing.to_str().unwrap(),
            "--exit-zero",
            "-o",
            out.to_str().unwrap(),
        ])
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(before, std::fs::read(&out).unwrap());
}

/// Completions and the man page come from the same definition of the command line.
#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = Unleak::new(dir.path()).args(&["completions", shell]).run();
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains("respond"), "{shell}");
        assert!(run.stdout.contains("exit-zero"), "{shell}");
    }
    let man = Unleak::new(dir.path()).args(&["man"]).run();
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH unleak 1"),
        "{}",
        man.stdout
    );
    assert!(man.stdout.contains(".SH SUBCOMMANDS") || man.stdout.contains("respond"));
}

/// `unleak man --dir DIR` writes a page for every command, and every page another page names exists
/// (the top page used to refer to unleak-scan(1) and others that were never written).
#[test]
fn man_dir_writes_every_page_it_refers_to() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let run = Unleak::new(dir.path())
        .args(&["man", "--dir", out.to_str().unwrap()])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for page in [
        "unleak.1",
        "unleak-scan.1",
        "unleak-audit.1",
        "unleak-respond.1",
        "unleak-verify.1",
        "unleak-setup.1",
        "unleak-hook.1",
        "unleak-hook-install.1",
        "unleak-hook-uninstall.1",
        "unleak-hook-run.1",
        "unleak-completions.1",
        "unleak-man.1",
    ] {
        assert!(names.contains(&page.to_string()), "{page} in {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    assert!(
        run.stdout
            .contains(&format!("Wrote {} man pages", names.len())),
        "{}",
        run.stdout
    );
    let mut referred = 0;
    for name in &names {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(text.contains(".TH "), "{name} is a man page");
        // roff escapes a hyphen as `\-`.
        let plain = text.replace("\\-", "-");
        for (at, _) in plain.match_indices("(1)") {
            let start = plain[..at]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .map_or(0, |i| i + 1);
            let target = &plain[start..at];
            if target.starts_with("unleak") {
                referred += 1;
                assert!(
                    names.contains(&format!("{target}.1")),
                    "{name} refers to {target}(1), which was not written"
                );
            }
        }
    }
    assert!(
        referred >= 10,
        "the pages list their subcommands: {referred}"
    );
    // The examples of the commands people run are in their help, and so in their pages.
    let audit = std::fs::read_to_string(out.join("unleak-audit.1")).unwrap();
    assert!(audit.contains("Examples"), "{audit}");
    for command in ["scan", "audit", "respond", "hook"] {
        let help = Unleak::new(dir.path()).args(&[command, "--help"]).run();
        assert_eq!(help.code, 0);
        assert!(
            help.stdout.contains("Examples:\n  unleak "),
            "{command}: {}",
            help.stdout
        );
    }
}

/// libgit2's error classes and codes never reach the user.
#[test]
fn git_errors_in_plain_words() {
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "a\n", "Initial");
    let fingerprint = format!("sha256:{}", "0".repeat(64));
    let run = Unleak::new(&repo.path)
        .args(&["verify", "--remote", "nope", "--fingerprint", &fingerprint])
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("no remote named nope"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("class=") && !run.stderr.contains("code="),
        "{}",
        run.stderr
    );
}

/// Audit's playbook preview names the endpoint in use, never a literal `{HF_ENDPOINT}`.
#[test]
fn audit_names_the_endpoint_in_use() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Add config");
    let endpoint = "https://hub.example.test";
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json"])
        .env("HF_ENDPOINT", endpoint)
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 1, "{run:?}");
    let revoke = run.json()["playbook"][0]["revoke"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!revoke.contains("{HF_ENDPOINT}"), "{revoke}");
    assert!(
        revoke.contains(&format!("POST {endpoint}/api/credentials/revoke")),
        "{revoke}"
    );
    assert!(
        revoke.contains(&format!("{endpoint}/settings/tokens")),
        "{revoke}"
    );
}

/// The benchmark generator answers --help instead of a traceback.
#[test]
fn synth_repo_help() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/synth_repo.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg("--help")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("usage: synth_repo.py COMMITS TOKEN"));
    let bad = std::process::Command::new("python3")
        .arg(&script)
        .arg("many")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(!String::from_utf8_lossy(&bad.stderr).contains("Traceback"));
}

/// The progress bar (stderr is a terminal) shows its rate as a whole number with a unit.
#[test]
fn progress_rate_is_a_whole_number_with_units() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    for i in 0..40 {
        repo.commit_file(&format!("f{i}.txt"), format!("line {i}\n"), "Commit");
    }
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("unleak"));
    scrub(&mut cmd)
        .current_dir(&repo.path)
        // A terminal that can redraw a line: indicatif (0.18) draws no bar on a dumb one.
        .env("TERM", "xterm")
        .env("NEW_T", &token)
        .args(["scan", "--token-env", "NEW_T", "--threads", "1"]);
    let mut pty = Pty::spawn(cmd);
    pty.expect("scanning objects");
    pty.expect(" objects/s");
    let seen = pty.finish();
    assert!(!seen.contains(&token));
    let rate = seen
        .split(" objects/s")
        .next()
        .and_then(|before| before.rsplit('(').next())
        .unwrap_or_default();
    assert!(
        !rate.is_empty() && rate.bytes().all(|b| b.is_ascii_digit()),
        "rate {rate:?} in:\n{seen}"
    );
}
