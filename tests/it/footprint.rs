//! Issue #24: where an old token survives outside history on this machine. scan and respond name each
//! copy (never the token) with its fix; read-only commands change nothing; respond fixes the remote
//! URL inside the repository with consent. HOME is a temp dir of the test's own.

use crate::util::*;
use std::path::Path;

/// A repository whose history is clean but whose remote URL carries `token` (how many push to a
/// Hugging Face Space), and a HOME holding it in every usual place; the fish history is a FIFO (a
/// reader that opened it would hang).
fn machine(token: &str) -> (TestRepo, std::path::PathBuf) {
    let repo = TestRepo::new();
    repo.commit_file("app.py", "print('hi')\n", "Initial");
    repo.commit_file(".gitignore", ".ipynb_checkpoints/\n.env\n", "Ignore");
    repo.write(
        ".ipynb_checkpoints/train-checkpoint.ipynb",
        format!("{{\"cells\": [\"login('{token}')\"]}}\n"),
    );
    // An ignored .env: a copy when the token comes from elsewhere (stdin here), with its own fix.
    repo.write(".env", format!("HF_TOKEN={token}\n"));
    repo.git(&[
        "remote",
        "add",
        "origin",
        &format!("https://ada:{token}@huggingface.co/spaces/ada/demo"),
    ]);
    let home = repo.dir.path().join("home");
    let write = |rel: &str, text: String| {
        let path = home.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        ".git-credentials",
        format!("https://ada:{token}@huggingface.co\n"),
    );
    write(
        ".netrc",
        format!("machine huggingface.co login ada password {token}\n"),
    );
    write(".cache/huggingface/token", token.to_string());
    write(
        ".cache/huggingface/stored_tokens",
        format!("[laptop]\nhf_token = {token}\n"),
    );
    write(
        ".bash_history",
        format!("ls\nexport HF_TOKEN={token}\nls\n"),
    );
    write(
        ".zsh_history",
        format!(": 1700000000:0;huggingface-cli login --token {token}\n"),
    );
    std::fs::create_dir_all(home.join(".local/share/fish")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(home.join(".local/share/fish/fish_history"))
        .status()
        .unwrap();
    assert!(fifo.success());
    (repo, home)
}

fn with_home(repo: &Path, home: &Path, args: &[&str], token: &str) -> Run {
    let mut all = args.to_vec();
    all.push("--token-stdin");
    let run = Unleak::new(repo)
        .args(&all)
        .env("HOME", home.to_str().unwrap())
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(token);
    run
}

#[test]
fn scan_names_every_copy_outside_history_and_changes_nothing() {
    let token = fake_hf_token();
    let (repo, home) = machine(&token);
    let before = snapshot(&repo.path);
    let run = with_home(&repo.path, &home, &["scan"], &token);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for (place, fix) in [
        (
            "remote origin's URL (.git/config)",
            "git remote set-url origin https://huggingface.co/spaces/ada/demo",
        ),
        ("git's credential store", "delete the line that holds it"),
        ("a .netrc file", "`machine` line"),
        ("the Hugging Face token file", "hf auth login"),
        (
            "Hugging Face's stored tokens",
            "hf auth logout --token-name NAME",
        ),
        ("shell history", "history -c"),
        (
            "a file git ignores in the work tree (.ipynb_checkpoints/train-checkpoint.ipynb)",
            "delete it (rm .ipynb_checkpoints/train-checkpoint.ipynb)",
        ),
    ] {
        assert!(run.stdout.contains(place), "{place}:\n{}", run.stdout);
        assert!(run.stdout.contains(fix), "{fix}:\n{}", run.stdout);
    }
    assert!(run.stdout.contains(".bash_history") && run.stdout.contains(".zsh_history"));
    assert!(
        !run.stdout.contains("fish_history"),
        "a FIFO is not read:\n{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("No leak in history; copies outside it are listed above"),
        "{}",
        run.stdout
    );
    assert_eq!(before, snapshot(&repo.path), "scan changed the repository");

    let json = with_home(&repo.path, &home, &["scan", "--format", "json"], &token).json();
    let copies = json["local_copies"].as_array().unwrap();
    assert_eq!(copies.len(), 9, "{copies:#?}");
    assert_eq!(
        copies
            .iter()
            .filter(|c| c["inside_repository"] == true)
            .count(),
        3
    );
    let env = copies.iter().find(|c| c["path"] == ".env").unwrap();
    assert!(
        env["fix"].as_str().unwrap().contains("unleak setup"),
        "{env:#}"
    );
    // Read from .env itself, the token is where it belongs there: not a copy.
    let run = Unleak::new(&repo.path)
        .args(&["scan", "--format", "json"])
        .env("HOME", home.to_str().unwrap())
        .run();
    run.assert_hides(&token);
    let copies = run.json()["local_copies"].as_array().unwrap().clone();
    assert_eq!(copies.len(), 8, "{copies:#?}");
    assert!(!copies.iter().any(|c| c["path"] == ".env"), "{copies:#?}");
}

#[test]
fn respond_offers_to_fix_the_remote_url_and_a_dry_run_changes_nothing() {
    let token = fake_hf_token();
    let (repo, home) = machine(&token);
    let before = snapshot(&repo.path);
    let run = with_home(
        &repo.path,
        &home,
        &["respond", "--dry-run", "--offline"],
        &token,
    );
    assert!(
        run.stdout.contains("dry run: would remove the token from remote origin's URL (git remote set-url origin https://huggingface.co/spaces/ada/demo)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("shell history"), "{}", run.stdout);
    assert_eq!(
        before,
        snapshot(&repo.path),
        "a dry run changed the repository"
    );

    let run = Unleak::new(&repo.path)
        .args(&[
            "respond",
            "--yes",
            "--offline",
            "--revoke",
            "skip",
            "--new-token-env",
            "NEW_HF",
            "--token-stdin",
        ])
        .env("HOME", home.to_str().unwrap())
        .env("NEW_HF", &fake_hf_token())
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        repo.git(&["remote", "get-url", "origin"]).trim(),
        "https://huggingface.co/spaces/ada/demo"
    );
    let config = std::fs::read_to_string(repo.path.join(".git/config")).unwrap();
    assert!(!config.contains(&token));
    // Outside the repository nothing is changed: those are named, the user fixes them.
    assert!(std::fs::read_to_string(home.join(".bash_history"))
        .unwrap()
        .contains(&token));
}
