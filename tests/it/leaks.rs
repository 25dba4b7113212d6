//! Side doors for a token: text the user typed (a flag value, a positional, an unknown argument) and
//! untrusted repository text (ref, tag and remote names, paths) must never bring a secret to the screen.

use crate::util::{fake_hf_token, random_letters, TestRepo, Unleak};
use clap::CommandFactory;

/// A secret no provider pattern knows: letters and digits, high entropy, no prefix.
fn generic_secret() -> String {
    let letters = random_letters(28);
    // Interleave digits so it is letters-and-digits like most API keys.
    letters
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 4 == 1 {
                char::from(b'0' + (i % 10) as u8)
            } else {
                c
            }
        })
        .collect()
}

/// Every (subcommand path, argument) of the real CLI that takes a value, read from clap itself, so a flag
/// added later is covered without touching this test.
fn value_arguments() -> Vec<(Vec<String>, Option<String>)> {
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
        for arg in cmd.get_arguments() {
            if !arg.get_action().takes_values() || arg.get_id() == "help" {
                continue;
            }
            out.push((path.clone(), arg.get_long().map(|l| format!("--{l}"))));
        }
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut next = path.clone();
            next.push(sub.get_name().to_string());
            walk(sub, next, out);
        }
    }
    let mut out = Vec::new();
    walk(&unleak::cli::Cli::command(), Vec::new(), &mut out);
    out
}

/// A repository with a committed leak and a `.env`, so commands get past their first checks.
fn leaky_repo() -> (TestRepo, String) {
    let repo = TestRepo::new();
    let stored = fake_hf_token();
    repo.write(".gitignore", ".env\n");
    repo.commit_file("config.py", format!("TOKEN = '{stored}'\n"), "add config");
    repo.write(".env", format!("HF_TOKEN={stored}\n"));
    (repo, stored)
}

fn run(repo: &TestRepo, args: &[String]) -> crate::util::Run {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    // respond never touches the network or the repository here.
    if args.first().is_some_and(|a| a == "respond") {
        all.extend(["--dry-run", "--offline"]);
    }
    Unleak::new(&repo.path)
        // A closed loopback port: nothing can leave the machine even if a step tried.
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .args(&all)
        .stdin("")
        .run()
}

#[test]
fn leaks_a_pasted_token_in_any_flag_or_positional_is_never_echoed() {
    let (repo, stored) = leaky_repo();
    let arguments = value_arguments();
    assert!(
        arguments.len() > 30,
        "clap introspection found too few flags: {arguments:?}"
    );
    let mut checked = 0;
    for pasted in [fake_hf_token(), generic_secret()] {
        for (path, flag) in &arguments {
            let mut forms: Vec<Vec<String>> = Vec::new();
            match flag {
                Some(flag) => {
                    let mut spaced = path.clone();
                    spaced.extend([flag.clone(), pasted.clone()]);
                    forms.push(spaced);
                    let mut joined = path.clone();
                    joined.push(format!("{flag}={pasted}"));
                    forms.push(joined);
                }
                None => {
                    let mut positional = path.clone();
                    positional.push(pasted.clone());
                    forms.push(positional);
                }
            }
            for args in forms {
                let out = run(&repo, &args);
                assert_not_echoed(&args, &out, &pasted);
                out.assert_hides(&stored);
                checked += 1;
            }
        }
        // clap's own errors: an unknown flag, an unknown subcommand, a stray argument, a flag's value
        // pasted where a flag name goes.
        for args in [
            vec![pasted.clone()],
            vec![format!("--{pasted}")],
            vec!["scan".into(), format!("--{pasted}=x")],
            vec!["scan".into(), ".".into(), pasted.clone()],
            vec!["hook".into(), pasted.clone()],
            vec!["audit".into(), "--format".into(), format!("x{pasted}")],
            vec!["setup".into(), "--key".into(), "K".into(), pasted.clone()],
        ] {
            let out = run(&repo, &args);
            assert_not_echoed(&args, &out, &pasted);
            assert_ne!(out.code, 0, "unleak {args:?} accepted a stray argument");
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} runs");
}

/// A repository whose ref, tag and remote names (and the remote's URL) carry the token, and whose HEAD
/// holds it in a file whose name has terminal control characters.
fn hostile_names_repo(token: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", ".env\n");
    repo.commit_file("config.py", format!("TOKEN = '{token}'\n"), "add config");
    repo.commit_file("evil\x1b[2J\x1b]0;title\x07.txt", token, "add evil name");
    repo.git(&["branch", &format!("leak-{token}")]);
    repo.git(&["tag", &format!("v-{token}")]);
    repo.git(&["tag", "-a", "-m", "annotated", &format!("a-{token}")]);
    let remote = format!("r{token}");
    repo.git(&[
        "remote",
        "add",
        &remote,
        &format!("https://user:{token}@example.invalid/repo.git"),
    ]);
    // A remote-tracking ref, as a push would leave, without any network.
    repo.git(&["update-ref", &format!("refs/remotes/{remote}/main"), "HEAD"]);
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    repo
}

#[test]
fn leaks_token_in_ref_tag_and_remote_names_is_scrubbed_in_every_format() {
    let token = fake_hf_token();
    let repo = hostile_names_repo(&token);
    let mut runs = 0;
    for command in ["scan", "audit", "verify", "respond"] {
        for format in ["human", "json", "sarif"] {
            if (command == "respond" || command == "verify") && format == "sarif" {
                continue;
            }
            let args = vec![command.to_string(), "--format".into(), format.into()];
            let out = run(&repo, &args);
            out.assert_hides(&token);
            assert!(
                !out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'),
                "unleak {args:?} let a control character through:\n{}\n{}",
                out.stdout,
                out.stderr
            );
            assert!(
                command == "verify" || out.code == 1,
                "unleak {args:?} should report the leak:\n{}\n{}",
                out.stdout,
                out.stderr
            );
            if format == "json" && command == "scan" {
                // The refs are still reported, redacted: the leak is not hidden along with the name.
                let refs = out.json()["secrets"][0]["refs"].to_string();
                assert!(refs.contains("refs/heads/leak-hf_"), "{refs}");
                assert!(refs.contains("refs/tags/v-hf_"), "{refs}");
            }
            runs += 1;
        }
    }
    assert_eq!(runs, 10);
}

/// SHA-256 of `value` as `sha256:<hex>`, computed by a program other than unleak.
fn sha256_of(value: &str) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())",
            value,
        ])
        .output()
        .expect("python3 runs");
    format!("sha256:{}", String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn leaks_a_guessable_env_value_gets_no_crackable_fingerprint() {
    let password = "Summer2024!secret";
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let env = format!("HF_TOKEN={token}\nDB_PASSWORD={password}\n");
    repo.commit_file(".env", &env, "oops, .env");
    let public = sha256_of(password);
    let mut keyed = Vec::new();
    for format in ["json", "sarif", "human"] {
        let out = Unleak::new(&repo.path)
            .args(&["audit", "--format", format])
            .run();
        out.assert_hides(password).assert_hides(&token);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            !out.stdout.contains(&public[7..]),
            "{format}: the password's plain SHA-256 is published:\n{}",
            out.stdout
        );
        if format == "json" {
            let json = out.json();
            let secrets = json["secrets"].as_array().unwrap();
            let fingerprints: Vec<&str> = secrets
                .iter()
                .map(|s| s["secret"]["fingerprint"].as_str().unwrap())
                .collect();
            // The token keeps its public fingerprint; the password is named by a keyed one.
            assert!(
                fingerprints.contains(&sha256_of(&token).as_str()),
                "{json:#}"
            );
            keyed.extend(
                fingerprints
                    .iter()
                    .filter(|f| f.starts_with("keyed:"))
                    .map(|f| f.to_string()),
            );
            assert_eq!(keyed.len(), 1, "{json:#}");
        }
    }
    // A keyed fingerprint cannot be verified without the value, and verify says so.
    let out = Unleak::new(&repo.path)
        .args(&["verify", "--fingerprint", &keyed[0]])
        .run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("keyed fingerprint"), "{}", out.stderr);
    // The token's public fingerprint still works for verify.
    let out = Unleak::new(&repo.path)
        .args(&["verify", "--fingerprint", &sha256_of(&token)])
        .run();
    out.assert_hides(&token);
    assert_eq!(out.code, 1, "the token is still in history: {out:?}");
}

/// `unleak ARGS` did not echo `pasted` on either stream.
fn assert_not_echoed(args: &[String], out: &crate::util::Run, pasted: &str) {
    assert!(
        !out.stdout.contains(pasted) && !out.stderr.contains(pasted),
        "unleak {args:?} echoed the pasted secret:\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
}
