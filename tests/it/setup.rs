//! `unleak setup`: the token goes into `.env` privately and atomically, git ignores the file, and the value
//! never appears on the terminal, in output, or as an argument.

use crate::util::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use unleak::dotenv;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn read_key(path: &Path, key: &str) -> Option<String> {
    dotenv::read(path).unwrap().get(key).map(str::to_string)
}

/// `unleak setup --value-stdin` in `repo`, with an empty huggingface_hub home.
fn setup(repo: &TestRepo, token: &str, args: &[&str]) -> Run {
    let hf_home = repo.dir.path().join("hf-home");
    let mut all = vec!["setup", "--value-stdin"];
    all.extend_from_slice(args);
    let run = Unleak::new(&repo.path)
        .args(&all)
        .env("HF_HOME", hf_home.to_str().unwrap())
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(token);
    run
}

fn git_ignores(repo: &TestRepo, rel: &str) -> bool {
    let mut cmd = std::process::Command::new("git");
    scrub(&mut cmd)
        .current_dir(&repo.path)
        .args(["check-ignore", "-q", "--no-index", rel])
        .status()
        .unwrap()
        .success()
}

#[test]
fn stores_the_token_privately_and_makes_git_ignore_it() {
    let repo = TestRepo::new();
    repo.commit_file("README.md", "hi\n", "Initial");
    let old = fake_hf_token();
    repo.write(
        ".env",
        format!("# settings\r\nexport HF_TOKEN=\"{old}\" # main token\r\nDEBUG=1\r\n"),
    );
    std::fs::set_permissions(
        repo.path.join(".env"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let token = fake_hf_token();
    let run = setup(&repo, &token, &[]);
    run.assert_hides(&old);
    assert_eq!(run.code, 0, "{run:?}");
    let env_path = repo.path.join(".env");
    assert_eq!(mode(&env_path), 0o600);
    assert_eq!(
        std::fs::read_to_string(&env_path).unwrap(),
        format!("# settings\r\nexport HF_TOKEN=\"{token}\" # main token\r\nDEBUG=1\r\n")
    );
    assert!(
        run.stderr.contains("readable by other users"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("Stored HF_TOKEN"), "{}", run.stdout);
    assert!(run.stdout.contains("sha256:"), "{}", run.stdout);
    assert!(git_ignores(&repo, ".env"));
    assert_eq!(
        std::fs::read_to_string(repo.path.join(".gitignore")).unwrap(),
        ".env\n"
    );
    assert!(run.stdout.contains(".gitignore"), "{}", run.stdout);
}

#[test]
fn creates_env_and_appends_to_an_existing_gitignore_once() {
    let repo = TestRepo::new();
    repo.commit_file(".gitignore", "target/", "Initial");
    let token = fake_hf_token();
    let run = setup(&repo, &token, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Created HF_TOKEN"), "{}", run.stdout);
    assert_eq!(read_key(&repo.path.join(".env"), "HF_TOKEN"), Some(token));
    assert_eq!(
        std::fs::read_to_string(repo.path.join(".gitignore")).unwrap(),
        "target/\n.env\n"
    );
    // Already ignored: .gitignore is left alone; the same value again writes nothing.
    let second = fake_hf_token();
    let run = setup(&repo, &second, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(repo.path.join(".gitignore")).unwrap(),
        "target/\n.env\n"
    );
    let before = snapshot(&repo.path);
    let run = setup(&repo, &second, &[]);
    assert!(run.stdout.contains("nothing to write"), "{}", run.stdout);
    assert_eq!(snapshot(&repo.path), before);
}

/// The ignore rule goes in through the one writer: the old `.gitignore` or the whole new one, its mode
/// kept, no temp file left in the work tree; a read-only `.gitignore` is left as it is (even for root).
#[test]
fn the_ignore_rule_is_written_atomically_keeping_the_files_mode() {
    let repo = TestRepo::new();
    repo.commit_file(".gitignore", "target/", "Initial");
    let gitignore = repo.path.join(".gitignore");
    std::fs::set_permissions(&gitignore, std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = setup(&repo, &fake_hf_token(), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&gitignore).unwrap(),
        "target/\n.env\n"
    );
    let mode = std::fs::metadata(&gitignore).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let mut names: Vec<String> = std::fs::read_dir(&repo.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".env", ".git", ".gitignore"]);

    let repo = TestRepo::new();
    repo.commit_file(".gitignore", "target/", "Initial");
    let gitignore = repo.path.join(".gitignore");
    std::fs::set_permissions(&gitignore, std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = setup(&repo, &fake_hf_token(), &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("cannot append to") && run.stderr.contains(".gitignore"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&gitignore).unwrap(), "target/");
}

#[test]
fn tracked_env_is_untracked_only_with_consent() {
    let repo = TestRepo::new();
    let old = fake_hf_token();
    repo.commit_file(".env", format!("HF_TOKEN={old}\n"), "Add env");
    let token = fake_hf_token();

    let run = setup(&repo, &token, &[]);
    run.assert_hides(&old);
    assert_eq!(run.code, 1, "a step is left undone: {run:?}");
    assert!(
        run.stderr.contains(".env is tracked by git"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(repo.git(&["ls-files", ".env"]).trim(), ".env");

    let run = setup(&repo, &token, &["--yes"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("git rm --cached"), "{}", run.stdout);
    assert_eq!(repo.git(&["ls-files", ".env"]).trim(), "");
    assert_eq!(read_key(&repo.path.join(".env"), "HF_TOKEN"), Some(token));
}

#[test]
fn symlinked_env_is_written_through_to_its_target() {
    let repo = TestRepo::new();
    std::fs::create_dir(repo.path.join("config")).unwrap();
    repo.write("config/app.env", "A=1\n");
    std::os::unix::fs::symlink("config/app.env", repo.path.join(".env")).unwrap();
    let token = fake_hf_token();
    let run = setup(&repo, &token, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(std::fs::symlink_metadata(repo.path.join(".env"))
        .unwrap()
        .file_type()
        .is_symlink());
    let target = repo.path.join("config/app.env");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        format!("A=1\nHF_TOKEN={token}\n")
    );
    assert_eq!(mode(&target), 0o600);
    assert!(git_ignores(&repo, ".env"));
}

#[test]
fn read_only_directory_or_file_fails_clearly_and_changes_nothing() {
    let repo = TestRepo::new();
    let sub = repo.path.join("ro");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join(".env"), "A=1\n").unwrap();
    let token = fake_hf_token();

    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = snapshot(&repo.path);
    let run = setup(&repo, &token, &["--env-file", "ro/.env"]);
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);
    assert_eq!(snapshot(&repo.path), before);

    std::fs::set_permissions(sub.join(".env"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = snapshot(&repo.path);
    let run = setup(&repo, &token, &["--env-file", "ro/.env"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    assert_eq!(snapshot(&repo.path), before);
}

#[test]
fn no_copy_is_left_unless_backup_is_asked_for() {
    let repo = TestRepo::new();
    let old = fake_hf_token();
    repo.write(".gitignore", ".env*\n");
    repo.write(".env", format!("HF_TOKEN={old}\n"));
    let first = fake_hf_token();
    let run = setup(&repo, &first, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let mut names: Vec<String> = std::fs::read_dir(&repo.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec![".env", ".git", ".gitignore"]);

    let run = setup(&repo, &fake_hf_token(), &["--backup"]);
    assert_eq!(run.code, 0, "{run:?}");
    // The backup holds the old token: it goes under .git, where no `git add` or push reaches it.
    let backups = repo.path.join(".git/unleak/backups");
    let backup = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(".env.unleak-backup-"))
        .expect("a backup file");
    assert_eq!(mode(&backup), 0o600);
    assert_eq!(mode(&backups), 0o700);
    assert_eq!(read_key(&backup, "HF_TOKEN"), Some(first));
    assert!(
        run.stdout.contains(&backup.display().to_string()),
        "{}",
        run.stdout
    );
    let names: Vec<String> = std::fs::read_dir(&repo.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "nothing beside .env: {names:?}");
}

#[test]
fn format_mismatch_is_refused_unless_forced() {
    let repo = TestRepo::new();
    let odd = format!("hf_{}", random_letters(20));
    let run = setup(&repo, &odd, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("does not look like a Hugging Face token"),
        "{}",
        run.stderr
    );
    assert!(!repo.path.join(".env").exists());

    let run = setup(&repo, &odd, &["--force"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("storing it anyway"), "{}", run.stderr);
    assert_eq!(read_key(&repo.path.join(".env"), "HF_TOKEN"), Some(odd));

    // Other keys have no known format.
    let run = setup(&repo, "some-database-password", &["--key", "DB_PASSWORD"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_value_given_as_an_argument_is_refused_without_echo() {
    let repo = TestRepo::new();
    let token = fake_hf_token();
    let run = Unleak::new(&repo.path).args(&["setup", &token]).run();
    run.assert_hides(&token);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("never taken as a command-line argument"),
        "{}",
        run.stderr
    );
    assert!(!repo.path.join(".env").exists());
}

#[test]
fn warns_about_an_overriding_environment_and_the_saved_login() {
    let repo = TestRepo::new();
    let hf_home = repo.dir.path().join("hf-home");
    std::fs::create_dir(&hf_home).unwrap();
    let saved = fake_hf_token();
    std::fs::write(hf_home.join("token"), &saved).unwrap();
    let in_env = fake_hf_token();
    let token = fake_hf_token();
    let run = Unleak::new(&repo.path)
        .args(&["setup", "--value-stdin"])
        .env("HF_HOME", hf_home.to_str().unwrap())
        .env("HF_TOKEN", &in_env)
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(&token)
        .assert_hides(&in_env)
        .assert_hides(&saved);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("environment already sets HF_TOKEN"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hf-home/token exists"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_bom_is_removed_so_python_dotenv_sees_the_first_key() {
    let repo = TestRepo::new();
    repo.write(
        ".env",
        format!("\u{feff}HF_TOKEN={}\nA=1\n", fake_hf_token()),
    );
    let token = fake_hf_token();
    let run = setup(&repo, &token, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("byte-order mark"), "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(repo.path.join(".env")).unwrap(),
        format!("HF_TOKEN={token}\nA=1\n")
    );
}

#[test]
fn the_shell_wrapper_runs_setup() {
    let repo = TestRepo::new();
    let token = fake_hf_token();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/setup_env_file.sh");
    let mut cmd = std::process::Command::new("bash");
    scrub(&mut cmd)
        .current_dir(&repo.path)
        .arg(&script)
        .arg("--value-stdin")
        .env("UNLEAK", assert_cmd::cargo::cargo_bin("unleak"))
        .env("HF_HOME", repo.dir.path().join("hf-home"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{token}").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains(&token) && !stderr.contains(&token));
    assert_eq!(read_key(&repo.path.join(".env"), "HF_TOKEN"), Some(token));
}

/// In a real terminal: the prompt is hidden, asked twice, and nothing typed comes back.
#[test]
fn the_typed_token_is_not_echoed_in_a_terminal() {
    let repo = TestRepo::new();
    let token = fake_hf_token();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("unleak"));
    scrub(&mut cmd)
        .current_dir(&repo.path)
        .env("HF_HOME", repo.dir.path().join("hf-home"))
        .env("TERM", "dumb")
        .arg("setup");
    let mut pty = Pty::spawn(cmd);
    pty.expect("(input hidden)");
    pty.type_hidden(&token);
    pty.expect("to confirm");
    pty.type_hidden(&token);
    pty.expect("mode 0600");
    let seen = pty.finish();
    assert!(
        !seen.contains(&token),
        "the terminal showed the token:\n{seen}"
    );
    assert!(
        !seen.contains(&token[3..12]),
        "the terminal showed part of the token:\n{seen}"
    );
    assert!(seen.contains("Created HF_TOKEN"), "{seen}");
    assert_eq!(read_key(&repo.path.join(".env"), "HF_TOKEN"), Some(token));
    assert_eq!(mode(&repo.path.join(".env")), 0o600);
}
