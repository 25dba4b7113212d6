//! Never a false "clean" (issue #10): damaged and missing objects, shallow clones, token sources that
//! hide a token behind whitespace or `KEY=`, verify after a rotation, and fingerprints that must see
//! every encoding the plaintext sees.

use crate::util::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the real binary with `stdin`, and fails the test (instead of hanging it) after 60 seconds.
fn run_bounded(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("unleak"));
    scrub(&mut cmd)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("unleak runs");
    {
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin.as_bytes());
    }
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("unleak {args:?} hung (killed after 60 s)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `unleak COMMAND --format json --token-stdin` with `token`, bounded; the token never shows.
fn search(dir: &Path, command: &str, token: &str, extra: &[&str]) -> Run {
    let mut args = vec![command, "--format", "json", "--token-stdin"];
    args.extend_from_slice(extra);
    let run = run_bounded(dir, &args, &format!("{token}\n"));
    run.assert_hides(token);
    run
}

fn loose_path(repo: &TestRepo, oid: &str) -> PathBuf {
    repo.path
        .join(".git/objects")
        .join(&oid[..2])
        .join(&oid[2..])
}

fn make_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

fn warning_text(report: &serde_json::Value) -> String {
    report["warnings"].to_string()
}

/// A small history with no token in it: damage to it must never read as "clean".
fn clean_history() -> TestRepo {
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "first file, long enough to compress\n", "First");
    repo.commit_file("dir/b.txt", "second file in a directory\n", "Second");
    repo.commit_file("c.txt", "third file\n", "Third");
    repo
}

/// Each kind of loose-object damage: the exit code (2: incomplete, never 0), the warning, and no hang
/// (libgit2's inflate used to spin forever on a truncated loose object).
#[test]
fn damaged_loose_objects_are_incomplete_not_clean() {
    let token = fake_hf_token();
    type Damage = (&'static str, &'static str, fn(&Path), &'static str);
    let cases: [Damage; 6] = [
        (
            "truncated blob",
            "HEAD:a.txt",
            |p| truncate(p, 20),
            "truncated loose object",
        ),
        (
            "truncated tree",
            "HEAD^{tree}",
            |p| truncate(p, 20),
            "truncated loose object",
        ),
        (
            "truncated HEAD commit",
            "HEAD",
            |p| truncate(p, 20),
            "truncated loose object",
        ),
        (
            "cut to 2 bytes",
            "HEAD:c.txt",
            |p| truncate(p, 2),
            "could not be read",
        ),
        (
            "garbage instead of zlib",
            "HEAD:dir/b.txt",
            |p| std::fs::write(p, b"this is not zlib at all").unwrap(),
            "zlib data is corrupt",
        ),
        (
            "deleted blob (not a partial clone)",
            "HEAD:c.txt",
            |p| std::fs::remove_file(p).unwrap(),
            "missing from the object database (this is not a partial clone)",
        ),
    ];
    for (name, rev, damage, warning) in cases {
        let repo = clean_history();
        let oid = repo.rev(rev);
        let path = loose_path(&repo, &oid);
        make_writable(&path);
        damage(&path);
        for command in ["scan", "verify"] {
            let run = search(&repo.path, command, &token, &[]);
            assert_eq!(
                run.code, 2,
                "{name}, {command}: {}\n{}",
                run.stdout, run.stderr
            );
            let report = run.json();
            assert_eq!(report["completeness"]["complete"], false, "{name}");
            let warnings = warning_text(&report);
            assert!(warnings.contains(warning), "{name}: {warnings}");
            if !name.starts_with("deleted") {
                assert!(
                    warnings.contains(&oid),
                    "{name} names the object: {warnings}"
                );
                assert_eq!(report["completeness"]["unreadable_objects"], 1, "{name}");
            } else {
                assert_eq!(report["completeness"]["missing_objects"], 1, "{name}");
            }
            if command == "verify" {
                assert_eq!(report["verification"]["clean"], false, "{name}");
            }
        }
        let human = run_bounded(
            &repo.path,
            &["scan", "--token-stdin"],
            &format!("{token}\n"),
        );
        assert_eq!(human.code, 2, "{name}");
        assert!(
            human.stdout.contains("INCOMPLETE:"),
            "{name}: {}",
            human.stdout
        );
        assert!(!human.stdout.contains("No leak found."), "{}", human.stdout);
        let audit = run_bounded(&repo.path, &["audit", "--format", "json"], "");
        assert_eq!(audit.code, 2, "{name}, audit: {}", audit.stderr);
        let accepted = search(&repo.path, "scan", &token, &["--allow-incomplete"]);
        assert_eq!(accepted.code, 0, "{name}, accepted: {}", accepted.stderr);
        assert_eq!(accepted.json()["completeness"]["accepted"], true);
    }
}

fn truncate(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// A leak found in a damaged repository is still a leak (1), not "incomplete".
#[test]
fn a_leak_found_anyway_exits_one() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("k.txt", format!("T={token}\n"), "Leak");
    repo.commit_file("a.txt", "some other text\n", "Other");
    let path = loose_path(&repo, &repo.rev("HEAD:a.txt"));
    make_writable(&path);
    truncate(&path, 20);
    let run = search(&repo.path, "scan", &token, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["completeness"]["unreadable_objects"], 1);
}

/// Damaged packs: every read has a bound, every damage is counted, and the answer is 2, not 0.
#[test]
fn damaged_packs_are_incomplete_not_clean() {
    let token = fake_hf_token();
    type Damage = (&'static str, fn(&Path, &Path), &'static str);
    let cases: [Damage; 6] = [
        // Issue #25: the trailers, as git checks them (a pack whose trailer is not the checksum its
        // index records is refused; an index that fails its own checksum is damaged).
        (
            "pack trailer changed",
            |pack, _| {
                let mut bytes = std::fs::read(pack).unwrap();
                *bytes.last_mut().unwrap() ^= 1;
                std::fs::write(pack, bytes).unwrap();
            },
            "trailer checksum",
        ),
        (
            "index checksum changed",
            |_, idx| {
                let mut bytes = std::fs::read(idx).unwrap();
                *bytes.last_mut().unwrap() ^= 1;
                std::fs::write(idx, bytes).unwrap();
            },
            "",
        ),
        (
            "pack cut in half",
            |pack, _| {
                let len = std::fs::metadata(pack).unwrap().len();
                truncate(pack, len / 2)
            },
            "could not be read",
        ),
        (
            "bytes flipped in the pack",
            |pack, _| {
                let mut bytes = std::fs::read(pack).unwrap();
                let at = bytes.len() / 2;
                for b in &mut bytes[at..at + 16] {
                    *b ^= 0x5a;
                }
                std::fs::write(pack, bytes).unwrap();
            },
            "could not be read",
        ),
        ("index cut short", |_, idx| truncate(idx, 100), ""),
        (
            "entry claiming a huge size",
            |pack, _| {
                // The first entry's header: set the continuation bits so its size varint claims more
                // than any compressed data could give.
                let mut bytes = std::fs::read(pack).unwrap();
                bytes[12] |= 0x8f;
                bytes[13] = 0xff;
                bytes[14] = 0xff;
                std::fs::write(pack, bytes).unwrap();
            },
            "could not be read",
        ),
    ];
    for (name, damage, warning) in cases {
        let repo = clean_history();
        repo.git(&["gc", "-q", "--aggressive"]);
        let pack_dir = repo.path.join(".git/objects/pack");
        let pack = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "pack"))
            .unwrap();
        let idx = pack.with_extension("idx");
        make_writable(&pack);
        make_writable(&idx);
        damage(&pack, &idx);
        let run = search(&repo.path, "scan", &token, &[]);
        // A pack index too short to read is an error (2) before any search: never a clean.
        assert_eq!(run.code, 2, "{name}: {}\n{}", run.stdout, run.stderr);
        if !warning.is_empty() {
            let report = run.json();
            assert_eq!(report["completeness"]["complete"], false, "{name}");
            assert!(
                warning_text(&report).contains(warning),
                "{name}: {report:#}"
            );
        } else {
            assert!(run.stderr.contains("pack index"), "{name}: {}", run.stderr);
        }
    }
}

/// A ref, or a reflog entry, naming an object the database lacks is damage: the history it names was
/// never searched, so the answer is incomplete (exit 2), never clean. The first case lost every
/// object (the only pack deleted): "0 objects, no leak found" was exit 0 before.
#[test]
fn refs_naming_missing_objects_are_incomplete_not_clean() {
    let token = fake_hf_token();
    type Damage = (&'static str, fn(&TestRepo));
    let cases: [Damage; 3] = [
        ("every object deleted", |repo| {
            repo.git(&["gc", "-q"]);
            for entry in std::fs::read_dir(repo.path.join(".git/objects/pack")).unwrap() {
                std::fs::remove_file(entry.unwrap().path()).unwrap();
            }
        }),
        ("a branch naming a missing commit", |repo| {
            let ghost = "0123456789abcdef0123456789abcdef01234567";
            std::fs::write(
                repo.path.join(".git/refs/heads/ghost"),
                format!("{ghost}\n"),
            )
            .unwrap();
        }),
        ("a reflog entry naming a missing commit", |repo| {
            // A branch at HEAD whose log says it pointed to the missing commit first.
            let ghost = "0123456789abcdef0123456789abcdef01234567";
            let zero = "0".repeat(40);
            let head = repo.git(&["rev-parse", "HEAD"]);
            let head = head.trim();
            let who = "A <a@example.com>";
            let log = repo.path.join(".git/logs/refs/heads/gone");
            std::fs::create_dir_all(log.parent().unwrap()).unwrap();
            std::fs::write(
                &log,
                format!(
                    "{zero} {ghost} {who} 1500000000 +0000\tbranch: made\n{ghost} {head} {who} 1600000000 +0000\tcommit: moved\n"
                ),
            )
            .unwrap();
            std::fs::write(repo.path.join(".git/refs/heads/gone"), format!("{head}\n")).unwrap();
        }),
    ];
    for (name, damage) in cases {
        let repo = clean_history();
        damage(&repo);
        for command in ["scan", "audit"] {
            let run = if command == "scan" {
                search(&repo.path, command, &token, &[])
            } else {
                run_bounded(&repo.path, &["audit", "--format", "json"], "")
            };
            assert_eq!(
                run.code, 2,
                "{name}, {command}: {}\n{}",
                run.stdout, run.stderr
            );
            let report = run.json();
            assert_eq!(
                report["completeness"]["complete"], false,
                "{name}, {command}"
            );
            assert!(
                warning_text(&report).contains("refs, reflog or stash entries name"),
                "{name}, {command}: {report:#}"
            );
        }
    }
}

/// A FIFO under a pack's or an index's name: opening it would wait for a writer forever. The scan
/// refuses it with an error naming it (exit 2) instead of hanging.
#[test]
fn a_fifo_in_the_pack_directory_is_an_error_not_a_hang() {
    let token = fake_hf_token();
    for extension in ["pack", "idx"] {
        let repo = clean_history();
        repo.git(&["gc", "-q"]);
        let file = std::fs::read_dir(repo.path.join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == extension))
            .unwrap();
        std::fs::remove_file(&file).unwrap();
        let made = Command::new("mkfifo").arg(&file).status().unwrap();
        assert!(made.success(), "mkfifo runs");
        let run = search(&repo.path, "scan", &token, &[]);
        assert_eq!(run.code, 2, "{extension}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("is not a regular file"),
            "{extension}: {}",
            run.stderr
        );
    }
}

#[test]
fn shallow_clone_is_incomplete_for_scan_audit_and_verify() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("k.txt", format!("{token}\n"), "Leak");
    repo.commit_file("k.txt", "gone\n", "Remove");
    repo.commit_file("a.txt", "a\n", "Later");
    let shallow = repo.shallow_clone("shallow");
    let fingerprint = unleak::secret::fingerprint(token.as_bytes());
    for args in [
        vec!["scan", "--format", "json", "--token-stdin"],
        vec!["verify", "--format", "json", "--fingerprint", &fingerprint],
    ] {
        let run = run_bounded(&shallow, &args, &format!("{token}\n"));
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        let report = run.json();
        assert_eq!(report["completeness"]["shallow"], true);
        assert!(warning_text(&report).contains("shallow"));
        let mut accepted = args.clone();
        accepted.push("--allow-incomplete");
        let run = run_bounded(&shallow, &accepted, &format!("{token}\n"));
        assert_eq!(run.code, 0, "{args:?} accepted: {}", run.stderr);
    }
    let human = run_bounded(&shallow, &["verify", "--fingerprint", &fingerprint], "");
    assert_eq!(human.code, 2);
    assert!(!human.stdout.contains("Verified clean"), "{}", human.stdout);
    assert!(human.stdout.contains("shallow clone"), "{}", human.stdout);
    let audit = run_bounded(&shallow, &["audit"], "");
    assert_eq!(audit.code, 2, "{}", audit.stdout);
    let audit = run_bounded(&shallow, &["audit", "--allow-incomplete"], "");
    assert_eq!(audit.code, 0, "{}", audit.stdout);
}

fn leaked_repo(token: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.commit_file("config.py", format!("T = '{token}'\n"), "Leak");
    repo
}

fn found(run: &Run) -> bool {
    run.json()["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["found"] == true)
}

/// `--token-stdin < .env`: KEY=VALUE lines are read like a .env, never searched for whole.
#[test]
fn token_stdin_reads_key_value_lines_like_a_dotenv() {
    let token = fake_hf_token();
    let repo = leaked_repo(&token);
    let scan = |stdin: String, extra: &[&str]| {
        let mut args = vec!["scan", "--format", "json", "--token-stdin"];
        args.extend_from_slice(extra);
        let run = run_bounded(&repo.path, &args, &stdin);
        run.assert_hides(&token);
        run
    };
    for stdin in [
        format!("HF_TOKEN={token}\n"),
        format!("export HF_TOKEN={token}\n"),
        format!("# a comment\nDEBUG=1\nHF_TOKEN=\"{token}\"\r\n"),
        format!("MODEL=gpt2\nexport   HF_TOKEN='{token}'  # the old one\n"),
    ] {
        let run = scan(stdin.clone(), &[]);
        assert_eq!(run.code, 1, "{stdin:?}: {}", run.stderr);
        assert!(found(&run));
        assert_eq!(
            run.json()["secrets"].as_array().unwrap().len(),
            1,
            "one token per value"
        );
    }
    // --key picks one value; a key that is not there is an error, not a clean.
    let other = fake_hf_token();
    let run = scan(
        format!("OTHER={other}\nHF_TOKEN={token}\n"),
        &["--key", "HF_TOKEN"],
    );
    run.assert_hides(&other);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["secrets"].as_array().unwrap().len(), 1);
    let run = scan(format!("HF_TOKEN={token}\n"), &["--key", "MISSING"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no KEY=VALUE line for MISSING"),
        "{}",
        run.stderr
    );
    // Only values that look like nothing secret: a clear error, not a silent search.
    let run = scan("DEBUG=1\nMODE=production\n".into(), &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--key"), "{}", run.stderr);
    // A bare base64 token with `=` padding is still a bare token.
    let padded = format!("{}==", &token[3..]);
    let repo2 = TestRepo::new();
    repo2.commit_file("p.txt", format!("{padded}\n"), "Padded");
    let run = run_bounded(
        &repo2.path,
        &["scan", "--format", "json", "--token-stdin"],
        &format!("{padded}\n"),
    );
    run.assert_hides(&padded);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

/// Every token source normalizes the same way: surrounding whitespace, CR and a leading BOM are
/// trimmed; inner whitespace and invisible characters are refused without echoing the value.
#[test]
fn every_token_source_is_normalized_the_same_way() {
    let token = fake_hf_token();
    let repo = leaked_repo(&token);
    for stdin in [
        format!("{token} \n"),
        format!("{token}\t\n"),
        format!("{token}\r\n"),
        format!("\u{feff}{token}\n"),
        format!("  {token}\n"),
    ] {
        let run = run_bounded(
            &repo.path,
            &["scan", "--format", "json", "--token-stdin"],
            &stdin,
        );
        run.assert_hides(&token);
        assert_eq!(run.code, 1, "{stdin:?}: {}", run.stderr);
    }
    for value in [
        format!("{token} "),
        format!("{token}\r"),
        format!("\u{feff}{token}"),
    ] {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("unleak"));
        scrub(&mut cmd)
            .current_dir(&repo.path)
            .args(["scan", "--token-env", "MY_TOKEN"])
            .env("MY_TOKEN", &value);
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{value:?}");
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("unleak"));
        scrub(&mut cmd)
            .current_dir(&repo.path)
            .args(["scan"])
            .env("HF_TOKEN", &value);
        assert_eq!(
            cmd.output().unwrap().status.code(),
            Some(1),
            "$HF_TOKEN {value:?}"
        );
    }
    repo.write(".env", format!("HF_TOKEN={token}\t\r\n"));
    let run = run_bounded(&repo.path, &["scan"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let (head, tail) = token.split_at(10);
    for (bad, what) in [
        (format!("{head} {tail}"), "whitespace"),
        (format!("{head}\u{200b}{tail}"), "zero-width space, U+200B"),
        (format!("{head}\u{feff}{tail}"), "byte-order mark, U+FEFF"),
        (format!("{token}\u{200b}"), "zero-width space, U+200B"),
    ] {
        let run = run_bounded(&repo.path, &["scan", "--token-stdin"], &format!("{bad}\n"));
        assert_eq!(run.code, 2, "{bad:?}");
        assert!(run.stderr.contains(what), "{}", run.stderr);
        assert!(
            !run.stderr.contains(head) && !run.stderr.contains(tail),
            "echoed: {}",
            run.stderr
        );
    }
}

/// A token is printable ASCII (issue #25): an invisible or look-alike character before, inside or after
/// it (a zero-width space or joiner, a no-break space, Cyrillic `а`, fullwidth letters, a right-to-left
/// override) is refused with its code point and position, from stdin, an environment variable and a
/// `.env` key alike; never searched as given ("No leak found", exit 0, for the look-alikes before).
#[test]
fn invisible_and_look_alike_characters_are_refused_in_every_source() {
    let token = fake_hf_token();
    let repo = leaked_repo(&token);
    let (head, tail) = token.split_at(10);
    let mut cases: Vec<(String, &str, usize)> = Vec::new();
    for (c, code) in [
        ('\u{200b}', "U+200B"),
        ('\u{2060}', "U+2060"),
        ('\u{a0}', "U+00A0"),
        ('\u{430}', "U+0430"),
        ('\u{ff21}', "U+FF21"),
        ('\u{202e}', "U+202E"),
    ] {
        let n = token.len() + 1;
        cases.push((format!("{c}{token}"), code, 1));
        cases.push((format!("{head}{c}{tail}"), code, head.len() + 1));
        cases.push((format!("{token}{c}"), code, n));
    }
    // Look-alikes in place of the token's own letters: Cyrillic `а` for `a`, fullwidth `ｈｆ`.
    cases.push((format!("{head}\u{430}{}", &tail[1..]), "U+0430", 11));
    cases.push((format!("\u{ff48}\u{ff46}{}", &token[2..]), "U+FF48", 1));
    let hidden = |run: &Run, value: &str| {
        run.assert_hides(&token);
        assert!(
            !run.stderr.contains(head) && !run.stderr.contains(&tail[1..]),
            "{value:?} echoed: {}",
            run.stderr
        );
    };
    for (value, code, at) in &cases {
        let position = format!("at character {at} of");
        let run = run_bounded(
            &repo.path,
            &["scan", "--token-stdin"],
            &format!("{value}\n"),
        );
        assert_eq!(run.code, 2, "stdin {value:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(code), "{value:?}: {}", run.stderr);
        assert!(run.stderr.contains(&position), "{value:?}: {}", run.stderr);
        hidden(&run, value);

        let run = Unleak::new(&repo.path)
            .args(&["scan", "--token-env", "MY_TOKEN"])
            .env("MY_TOKEN", value)
            .run();
        assert_eq!(run.code, 2, "env {value:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(code), "{value:?}: {}", run.stderr);
        hidden(&run, value);

        // A `.env` loader strips whitespace around a value (python-dotenv: a no-break space too), so
        // there the token may be the one the program reads: found, never clean.
        repo.write(".env", format!("HF_TOKEN={value}\n"));
        let run = run_bounded(&repo.path, &["scan"], "");
        assert_ne!(run.code, 0, ".env {value:?}: {}{}", run.stdout, run.stderr);
        if run.code == 2 {
            assert!(run.stderr.contains(code), "{value:?}: {}", run.stderr);
        }
        hidden(&run, value);
    }
}

/// Issue #10's first case: after `respond` rotated `.env`, `verify` with no token source checks the OLD
/// token (remembered in the git dir), and `verify` given the new token says it was never found here.
#[test]
fn verify_after_rotation_checks_the_old_token() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let repo = TestRepo::new();
    repo.write(".gitignore", ".env\n");
    repo.commit_file("config.py", format!("T = '{old}'\n"), "Leak");
    repo.write(".env", format!("HF_TOKEN={old}\n"));
    let run = Unleak::new(&repo.path)
        .args(&[
            "respond",
            "--yes",
            "--offline",
            "--revoke",
            "skip",
            "--new-token-env",
            "NEW_HF_TOKEN",
        ])
        .env("NEW_HF_TOKEN", &new)
        .run();
    run.assert_hides(&old).assert_hides(&new);
    let command = format!(
        "unleak verify --fingerprint {}",
        unleak::secret::fingerprint(old.as_bytes())
    );
    assert!(
        run.stdout.contains(&command),
        "the hint names the old token: {}",
        run.stdout
    );
    let remembered = repo.path.join(".git/unleak/incident.json");
    let text = std::fs::read_to_string(&remembered).unwrap();
    assert!(!text.contains(&old) && !text.contains(&new));
    assert!(text.contains(&command), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&remembered).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(repo.path.join(".env"))
        .unwrap()
        .contains(&new));

    // No token source: the remembered old token, still in HEAD: not clean.
    let run = run_bounded(&repo.path, &["verify", "--format", "json"], "");
    run.assert_hides(&old).assert_hides(&new);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert!(
        warning_text(&report).contains("incident-record"),
        "{report:#}"
    );
    assert_eq!(report["verification"]["clean"], false);

    // The new token (what .env holds now): never found here, said plainly, not exit 0.
    let run = run_bounded(
        &repo.path,
        &["verify", "--token-stdin"],
        &format!("{new}\n"),
    );
    run.assert_hides(&new);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("was never found here: is it the new one?"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("NEW token"), "{}", run.stdout);
    assert!(!run.stdout.contains("Verified clean"), "{}", run.stdout);

    // After the old token is gone from history, the plain `unleak verify` is clean.
    let expressions = repo.dir.path().join("expr.txt");
    std::fs::write(&expressions, format!("{old}==>***REMOVED***\n")).unwrap();
    run_git(
        &repo.path,
        &[
            "filter-repo",
            "--force",
            "--sensitive-data-removal",
            "--no-fetch",
            "--replace-text",
            expressions.to_str().unwrap(),
        ],
        0,
    );
    let run = run_bounded(&repo.path, &["verify", "--format", "json"], "");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["verification"]["clean"], true);
    assert!(
        !report["verification"]["first_changed"]
            .as_array()
            .unwrap()
            .is_empty(),
        "filter-repo's first changed commits are read: {report:#}"
    );
}

/// A token that never was here (no finding, no incident record) is not verified clean.
#[test]
fn a_token_never_found_here_is_not_verified_clean() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "nothing here\n", "First");
    let run = search(&repo.path, "verify", &token, &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let report = run.json();
    assert!(warning_text(&report).contains("never-found"), "{report:#}");
    assert_eq!(report["verification"]["clean"], false);
    // The same token by fingerprint (the user says it is the old one): clean.
    let fingerprint = unleak::secret::fingerprint(token.as_bytes());
    let run = run_bounded(&repo.path, &["verify", "--fingerprint", &fingerprint], "");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// `verify --fingerprint` finds a UTF-16LE copy and a base64 copy, as the plaintext does.
#[test]
fn fingerprint_finds_every_encoding_the_plaintext_finds() {
    use base64::Engine;
    let token = fake_hf_token();
    let fingerprint = unleak::secret::fingerprint(token.as_bytes());
    let utf16: Vec<u8> = format!("key={token};")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    for (name, content) in [
        ("utf16", utf16),
        (
            "base64",
            base64::engine::general_purpose::STANDARD
                .encode(format!("xy:{token}"))
                .into_bytes(),
        ),
        (
            "base64, shifted",
            base64::engine::general_purpose::STANDARD
                .encode(format!("x:{token}!"))
                .into_bytes(),
        ),
    ] {
        let repo = TestRepo::new();
        repo.commit_file("blob.bin", content, "Encoded copy");
        let plain = search(&repo.path, "verify", &token, &[]);
        assert_eq!(plain.code, 1, "{name}: plaintext finds it");
        let run = run_bounded(
            &repo.path,
            &["verify", "--format", "json", "--fingerprint", &fingerprint],
            "",
        );
        assert_eq!(run.code, 1, "{name}: {}\n{}", run.stdout, run.stderr);
        run.assert_hides(&token);
        let report = run.json();
        let encodings: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["encoding"].as_str().unwrap())
            .collect();
        let want = if name == "utf16" { "utf16le" } else { "base64" };
        assert!(encodings.contains(&want), "{name}: {report:#}");
    }
}

/// A delta whose base offset points at no entry, and a pack whose header is not a pack's: counted,
/// named, exit 2; libgit2's second chance fails too, and nothing hangs.
#[test]
fn a_bad_delta_base_and_a_damaged_pack_header_are_incomplete() {
    let token = fake_hf_token();
    let build = || {
        let repo = TestRepo::new();
        let mut text: String = (1..3000).map(|n| format!("{n}\n")).collect();
        for i in 0..3 {
            text.push_str(&format!("extra {i}\n"));
            repo.commit_file("big.txt", &text, "Grow");
        }
        repo.git(&["gc", "-q"]);
        let pack = std::fs::read_dir(repo.path.join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "pack"))
            .unwrap();
        make_writable(&pack);
        (repo, pack)
    };

    let (repo, pack) = build();
    let listing = repo.git(&[
        "verify-pack",
        "-v",
        pack.with_extension("idx").to_str().unwrap(),
    ]);
    // `id type size size-in-pack offset depth base`: a delta has seven columns.
    let (delta, offset) = listing
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cols| cols.len() == 7)
        .map(|cols| (cols[0].to_string(), cols[4].parse::<usize>().unwrap()))
        .expect("git made a delta");
    let mut bytes = std::fs::read(&pack).unwrap();
    assert!(bytes[offset] & 0x80 == 0, "a one-byte entry header");
    // The base offset becomes 1: one byte back, inside the previous entry.
    bytes[offset + 1] = 0x01;
    std::fs::write(&pack, bytes).unwrap();
    let run = search(&repo.path, "scan", &token, &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let report = run.json();
    assert_eq!(report["completeness"]["unreadable_objects"], 1);
    let warnings = warning_text(&report);
    assert!(
        warnings.contains(&delta) && warnings.contains("delta base"),
        "{warnings}"
    );

    let (repo, pack) = build();
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes[..4].copy_from_slice(b"XXXX");
    std::fs::write(&pack, bytes).unwrap();
    let run = search(&repo.path, "scan", &token, &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let report = run.json();
    let warnings = warning_text(&report);
    assert!(warnings.contains("not a version 2 pack file"), "{warnings}");
    assert!(
        report["completeness"]["unreadable_objects"]
            .as_u64()
            .unwrap()
            > 0
    );
}

/// The new token respond writes to .env goes through the same normalization: a BOM and a trailing space
/// are trimmed, a zero-width space inside is refused before anything is written.
#[test]
fn the_new_token_is_normalized_before_it_reaches_dot_env() {
    let old = fake_hf_token();
    let new = fake_hf_token();
    let respond = |repo: &TestRepo, value: &str| {
        let run = Unleak::new(&repo.path)
            .args(&[
                "respond",
                "--yes",
                "--offline",
                "--revoke",
                "skip",
                "--new-token-env",
                "NEW_HF_TOKEN",
            ])
            .env("NEW_HF_TOKEN", value)
            .run();
        run.assert_hides(&old).assert_hides(&new);
        run
    };
    let setup = || {
        let repo = TestRepo::new();
        repo.write(".gitignore", ".env\n");
        repo.commit_file("config.py", format!("T = '{old}'\n"), "Leak");
        repo.write(".env", format!("HF_TOKEN={old}\n"));
        repo
    };
    let repo = setup();
    respond(&repo, &format!("\u{feff}{new} "));
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert!(env.contains(&format!("HF_TOKEN={new}\n")), "{env:?}");

    let repo = setup();
    let (head, tail) = new.split_at(12);
    let run = respond(&repo, &format!("{head}\u{200b}{tail}"));
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("U+200B"), "{}", run.stderr);
    assert!(!run.stderr.contains(head) && !run.stderr.contains(tail));
    let env = std::fs::read_to_string(repo.path.join(".env")).unwrap();
    assert_eq!(env, format!("HF_TOKEN={old}\n"), "nothing written");
}

/// A remembered incident that cannot be read: an error when it is the only token source, a warning
/// (and no effect) when the token is given another way.
#[test]
fn a_damaged_remembered_incident_is_never_a_silent_clean() {
    let token = fake_hf_token();
    let repo = leaked_repo(&token);
    std::fs::create_dir_all(repo.path.join(".git/unleak")).unwrap();
    std::fs::write(repo.path.join(".git/unleak/incident.json"), "{ not json").unwrap();
    let run = run_bounded(&repo.path, &["verify"], "");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("cannot be read"), "{}", run.stderr);
    let run = search(&repo.path, "verify", &token, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(warning_text(&run.json()).contains("remembered incident is unreadable"));
}

/// The three commands that must never call a damaged history clean, each with the token only in it.
fn assert_incomplete_everywhere(repo: &TestRepo, token: &str, case: &str) {
    let run = search(&repo.path, "scan", token, &[]);
    assert_eq!(run.code, 2, "{case}: scan: {}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["completeness"]["complete"], false, "{case}");
    let run = run_bounded(&repo.path, &["audit", "--format", "json"], "");
    assert_eq!(run.code, 2, "{case}: audit: {}\n{}", run.stdout, run.stderr);
    run.assert_hides(token);
    let fingerprint = unleak::secret::fingerprint(token.as_bytes());
    let run = run_bounded(&repo.path, &["verify", "--fingerprint", &fingerprint], "");
    assert_eq!(
        run.code, 2,
        "{case}: verify: {}\n{}",
        run.stdout, run.stderr
    );
}

/// A history whose only copy of `token` is in its first commit (the file is deleted after), and the
/// ids of the token's blob and of a harmless blob.
fn token_in_history_only(token: &str) -> (TestRepo, String, String) {
    let repo = TestRepo::new();
    repo.commit_file("k.txt", format!("T={token}\n"), "Leak");
    repo.commit_file("a.txt", "other harmless text here\n", "Other");
    let leaked = repo.rev("HEAD~1:k.txt");
    let harmless = repo.rev("HEAD:a.txt");
    repo.git(&["rm", "-q", "k.txt"]);
    repo.git(&["commit", "-q", "-m", "Remove"]);
    (repo, leaked, harmless)
}

/// Swaps the offsets two ids have in a version 2 pack index (and their CRC32s too with `crcs`) and
/// writes the index's own checksum again, so only the entries' CRC32s (or only the objects' ids)
/// betray it.
fn swap_offsets(idx: &Path, a: &str, b: &str, crcs: bool) {
    use sha1::Digest;
    make_writable(idx);
    let mut data = std::fs::read(idx).unwrap();
    let count = u32::from_be_bytes(data[8 + 255 * 4..8 + 256 * 4].try_into().unwrap()) as usize;
    let (ids, crc_table, offsets) = (8 + 1024, 8 + 1024 + 20 * count, 8 + 1024 + 24 * count);
    let at = |hex: &str| {
        let want = unleak::git::Oid::from_str(hex).unwrap();
        (0..count)
            .find(|i| data[ids + 20 * i..ids + 20 * i + 20] == *want.as_bytes())
            .expect("the id is in the index")
    };
    let (i, j) = (at(a), at(b));
    for k in 0..4 {
        data.swap(offsets + 4 * i + k, offsets + 4 * j + k);
        if crcs {
            data.swap(crc_table + 4 * i + k, crc_table + 4 * j + k);
        }
    }
    let body = data.len() - 20;
    let sum = sha1::Sha1::digest(&data[..body]);
    data[body..].copy_from_slice(&sum);
    std::fs::write(idx, data).unwrap();
}

/// Issue #25: a pack index that files the leaked blob's id at a harmless blob's bytes (and the harmless
/// id at the token's, an entry never read because an earlier pack holds that object) made scan, audit
/// and verify --fingerprint say clean, exit 0; `git fsck` reports a CRC mismatch. Every entry is now
/// checked against its CRC32 as it is read: incomplete, exit 2.
#[test]
fn a_pack_index_filing_an_id_at_other_bytes_is_incomplete() {
    let token = fake_hf_token();
    let (repo, main_idx, leaked, harmless) = two_packs(&token);
    swap_offsets(&main_idx, &leaked, &harmless, false);
    let fsck = Command::new("git")
        .current_dir(&repo.path)
        .args(["fsck", "--full"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&fsck.stderr).contains("CRC mismatch"),
        "git sees it: {fsck:?}"
    );
    assert_incomplete_everywhere(&repo, &token, "swapped offsets");
    let run = search(&repo.path, "scan", &token, &[]);
    assert!(
        warning_text(&run.json()).contains("CRC32"),
        "{}",
        run.stdout
    );
}

/// What the CRC32s cannot see (docs/scan.md): an index crafted to swap the CRC32s with the offsets is
/// consistent in every checksum, and only the objects' ids betray it. `--verify-object-ids` hashes every
/// object it reads: incomplete, exit 2, where the default pass says clean.
#[test]
fn verify_object_ids_catches_an_index_consistent_in_every_checksum() {
    let token = fake_hf_token();
    let (repo, main_idx, leaked, harmless) = two_packs(&token);
    swap_offsets(&main_idx, &leaked, &harmless, true);
    let run = search(&repo.path, "scan", &token, &[]);
    assert_eq!(run.code, 0, "the documented limit: {}", run.stderr);
    for command in ["scan", "verify"] {
        let run = search(&repo.path, command, &token, &["--verify-object-ids"]);
        assert_eq!(run.code, 2, "{command}: {}\n{}", run.stdout, run.stderr);
        assert!(
            warning_text(&run.json()).contains(&format!("are object {harmless}")),
            "{}",
            run.stdout
        );
    }
    let run = run_bounded(&repo.path, &["audit", "--verify-object-ids"], "");
    assert_eq!(run.code, 2, "audit: {}\n{}", run.stdout, run.stderr);
}

/// A history with `token` only in its first commit, packed, and a first pack (by name) holding the
/// harmless blob alone: the main pack's index, the leaked and the harmless blob's ids.
fn two_packs(token: &str) -> (TestRepo, PathBuf, String, String) {
    let (repo, leaked, harmless) = token_in_history_only(token);
    repo.git(&["gc", "-q"]);
    let pack_dir = repo.path.join(".git/objects/pack");
    let main_idx = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .unwrap();
    // A first pack holding the harmless blob alone, named to sort before the other.
    let mut pack = Command::new("git");
    scrub(&mut pack)
        .current_dir(&repo.path)
        .args(["pack-objects", "-q", ".git/objects/pack/pack"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = pack.spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "{harmless}").unwrap();
    let name = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    for ext in ["pack", "idx"] {
        std::fs::rename(
            pack_dir.join(format!("pack-{}.{ext}", name.trim())),
            pack_dir.join(format!("pack-{}.{ext}", "0".repeat(40))),
        )
        .unwrap();
    }
    let _ = std::fs::remove_file(main_idx.with_extension("rev"));
    (repo, main_idx, leaked, harmless)
}

/// Issue #25: a loose object file holding another valid object (the harmless blob's file copied over
/// the leaked one's) read as the harmless blob, and the history as clean. Its id is now checked as it is
/// inflated: incomplete, exit 2.
#[test]
fn a_loose_file_holding_another_object_is_incomplete() {
    let token = fake_hf_token();
    let (repo, leaked, harmless) = token_in_history_only(&token);
    let target = loose_path(&repo, &leaked);
    make_writable(&target);
    std::fs::copy(loose_path(&repo, &harmless), &target).unwrap();
    assert_incomplete_everywhere(&repo, &token, "another object's file");
    let run = search(&repo.path, "scan", &token, &[]);
    assert!(
        warning_text(&run.json()).contains(&format!("holds object {harmless}")),
        "{}",
        run.stdout
    );
}

/// Issue #25: a FIFO (or a device) in place of a loose object, packed-refs, the index, alternates,
/// shallow or the incident record hung the run or filled its memory. Each is refused: an error or an
/// unreadable object (exit 2), in well under the bound `run_bounded` sets, and never "clean".
#[test]
fn a_fifo_in_place_of_any_file_git_reads_is_refused_not_read() {
    let token = fake_hf_token();
    type Place = (&'static str, fn(&TestRepo) -> PathBuf);
    let places: [Place; 6] = [
        ("a loose object", |repo| {
            loose_path(repo, &repo.rev("HEAD:c.txt"))
        }),
        ("packed-refs", |repo| repo.path.join(".git/packed-refs")),
        ("the index", |repo| repo.path.join(".git/index")),
        ("shallow", |repo| repo.path.join(".git/shallow")),
        ("alternates", |repo| {
            repo.path.join(".git/objects/info/alternates")
        }),
        ("the incident record", |repo| {
            repo.path.join(".git/unleak/incident.json")
        }),
    ];
    for (what, place) in places {
        let repo = clean_history();
        let path = place(&repo);
        if path.exists() {
            make_writable(&path);
            std::fs::remove_file(&path).unwrap();
        }
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let made = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(made.success(), "mkfifo {}", path.display());
        let run = search(&repo.path, "scan", &token, &[]);
        assert_eq!(run.code, 2, "{what}: {}\n{}", run.stdout, run.stderr);
        assert!(
            format!("{}{}", run.stdout, run.stderr).contains("not a regular file"),
            "{what}: {}\n{}",
            run.stdout,
            run.stderr
        );
        // verify reads the incident record when no token is given: refused, not waited on.
        let run = run_bounded(&repo.path, &["verify"], "");
        assert_eq!(
            run.code, 2,
            "{what}: verify: {}\n{}",
            run.stdout, run.stderr
        );
    }
}
