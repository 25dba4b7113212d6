//! A highly compressible blob of hundreds of megabytes: the scan finds the token at its end, and its
//! memory stays bounded (the blob is searched in overlapping pieces, never inflated whole).

use crate::util::*;
use std::io::Write;
use std::process::{Command, Stdio};

const BLOB_MB: usize = 300;
/// Peak resident memory allowed for scanning the blob: far below its size.
const MAX_RSS_MB: u64 = 150;

/// Stores `BLOB_MB` MiB of zeros followed by `token` as a blob (streamed into git, never written to the
/// work tree), commits it as `big.bin`, and packs the repository (or leaves the blob loose).
fn repo_with_huge_blob(token: &str, packed: bool) -> TestRepo {
    let repo = TestRepo::new();
    repo.commit_file("README", "hello\n", "start");
    stage_streamed_blob(&repo, "big.bin", |stdin| {
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..BLOB_MB {
            stdin.write_all(&zeros)?;
        }
        stdin.write_all(format!("\nHF_TOKEN={token}\n").as_bytes())
    });
    repo.git(&["commit", "-q", "-m", "add a large file"]);
    if packed {
        repo.git(&["repack", "-adq"]);
    }
    repo
}

#[test]
fn large_blob_is_searched_in_bounded_memory() {
    assert_searched_in_bounded_memory(true);
}

/// Issue #25: a loose blob was read whole (its compressed file, then the blob): a 1 GiB loose blob cost
/// 1 GiB. It is read and searched in pieces like a packed one.
#[test]
fn large_loose_blob_is_searched_in_bounded_memory() {
    assert_searched_in_bounded_memory(false);
}

fn assert_searched_in_bounded_memory(packed: bool) {
    let token = fake_hf_token();
    let repo = repo_with_huge_blob(&token, packed);
    if !packed {
        let oid = repo.rev("HEAD:big.bin");
        let loose = repo
            .path
            .join(".git/objects")
            .join(&oid[..2])
            .join(&oid[2..]);
        assert!(loose.is_file(), "the blob is loose");
    }
    let args = [
        "scan",
        "--format",
        "json",
        "--token-stdin",
        "--threads",
        "2",
    ];
    let (run, kib) = measured_run(&repo, &args, &format!("{token}\n"));
    run.assert_hides(&token);
    assert_eq!(
        run.code, 1,
        "the token at the end of the blob is found: {run:?}"
    );
    let json = run.json();
    let findings = json["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["path"] == "big.bin"), "{json:#}");
    assert!(
        json["stats"]["bytes"].as_u64().unwrap() > (BLOB_MB as u64) << 20,
        "the whole blob was read: {json:#}"
    );
    assert!(
        kib < MAX_RSS_MB << 10,
        "peak RSS {} MiB for a {BLOB_MB} MiB blob (packed: {packed})",
        kib >> 10
    );
}

/// The changed blob of the hooks' and range audits' tests: this many MiB of text lines.
const CHANGED_MB: usize = 64;
/// Peak resident memory allowed for a hook or a range audit reading that blob: far below its size.
const CHANGED_MAX_RSS_MB: u64 = 48;

/// Issue #25: `audit --range`, pre-commit and pre-push read each changed blob whole (about twice its
/// size in memory: 527 MiB for 256 MiB). They read it in pieces, as the whole-history scan does, loose
/// or packed (24 MiB for 256 MiB), and still find the token near its end on the right line (newlines
/// counted across pieces).
#[test]
fn hooks_and_range_audits_read_a_large_changed_blob_in_bounded_memory() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("README", "hello\n", "start");
    // 64-byte lines, then the token on the line after them.
    let line = format!("{:<63}\n", "a line of plain text, nothing secret in it");
    let lines = (CHANGED_MB << 20) / line.len();
    let expected = format!("big.txt:{}", lines + 1);
    let oid = stage_streamed_blob(&repo, "big.txt", |stdin| {
        let block = line.repeat(1 << 14);
        for _ in 0..lines >> 14 {
            // `lines` is a multiple of the block's lines.
            stdin.write_all(block.as_bytes())?;
        }
        stdin.write_all(format!("HF_TOKEN={token}\nthe end\n").as_bytes())
    });
    let loose = repo
        .path
        .join(".git/objects")
        .join(&oid[..2])
        .join(&oid[2..]);
    assert!(loose.is_file(), "the blob is loose");

    let pre_commit = bounded_run(&repo, &["hook", "run"], "");
    pre_commit.assert_hides(&token);
    assert_eq!(pre_commit.code, 1, "{pre_commit:?}");
    assert!(pre_commit.stderr.contains(&expected), "{pre_commit:?}");

    repo.git(&["commit", "-q", "--no-verify", "-m", "add a large file"]);
    let head = repo.rev("HEAD");
    let push = format!(
        "refs/heads/main {head} refs/heads/main {}\n",
        "0".repeat(40)
    );
    for packed in [false, true] {
        if packed {
            repo.git(&["repack", "-adq"]);
            assert!(!loose.exists(), "the blob is packed");
        }
        let audit = bounded_run(
            &repo,
            &["audit", "--range", "HEAD~1..HEAD", "--format", "json"],
            "",
        );
        audit.assert_hides(&token);
        assert_eq!(audit.code, 1, "packed {packed}: {audit:?}");
        let json = audit.json();
        let found = json["findings"].as_array().unwrap();
        assert!(
            found
                .iter()
                .any(|f| f["path"] == "big.txt" && f["line"] == lines as u64 + 1),
            "packed {packed}: {json:#}"
        );
    }
    // The same reading as the range audit's, packed.
    let pre_push = bounded_run(&repo, &["hook", "run", "--pre-push"], &push);
    pre_push.assert_hides(&token);
    assert_eq!(pre_push.code, 1, "{pre_push:?}");
    assert!(pre_push.stderr.contains(&expected), "{pre_push:?}");
}

/// Runs unleak under `/usr/bin/time` with `stdin`, and fails unless its peak RSS stays under
/// [`CHANGED_MAX_RSS_MB`].
fn bounded_run(repo: &TestRepo, args: &[&str], stdin: &str) -> Run {
    let (run, kib) = measured_run(repo, args, stdin);
    assert!(
        kib < CHANGED_MAX_RSS_MB << 10,
        "unleak {args:?}: peak RSS {} MiB for a {CHANGED_MB} MiB blob",
        kib >> 10
    );
    run
}

/// Runs unleak under `/usr/bin/time` with `stdin`: what it did, and its peak RSS in KiB.
fn measured_run(repo: &TestRepo, args: &[&str], stdin: &str) -> (Run, u64) {
    let rss = repo.dir.path().join("rss");
    let mut cmd = Command::new("/usr/bin/time");
    scrub(&mut cmd)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss)
        .arg(assert_cmd::cargo::cargo_bin("unleak"))
        .args(args)
        .current_dir(&repo.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("/usr/bin/time runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let kib: u64 = std::fs::read_to_string(&rss)
        .unwrap()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("/usr/bin/time wrote the peak RSS");
    (run, kib)
}

/// Streams a blob into `git hash-object -w --stdin` (never written to the work tree: a blob this large
/// would cost the test the disk twice) and stages it at `path`; returns its id.
fn stage_streamed_blob(
    repo: &TestRepo,
    path: &str,
    write: impl FnOnce(&mut std::process::ChildStdin) -> std::io::Result<()>,
) -> String {
    let mut git = Command::new("git");
    scrub(&mut git)
        .args(["hash-object", "-w", "--stdin"])
        .current_dir(&repo.path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = git.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    write(&mut stdin).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let oid = String::from_utf8(out.stdout).unwrap().trim().to_string();
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{oid},{path}"),
    ]);
    oid
}

/// Issue #25: `audit --no-git` read every file whole, all of them before the search (and stdin whole):
/// a folder of large files held them all. Each file and stdin are read in pieces, one at a time, and
/// the token near the end of a 64 MiB file is found on its line.
#[test]
fn audit_no_git_reads_files_and_stdin_in_bounded_memory() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    let line = format!("{:<63}\n", "a line of plain text, nothing secret in it");
    let lines = (CHANGED_MB << 20) / line.len();
    let text = line.repeat(lines) + &format!("HF_TOKEN={token}\nthe end\n");
    repo.write("big.txt", &text);
    repo.write("other.txt", &text);
    for (args, stdin, path) in [
        (
            vec!["audit", "--no-git", ".", "--format", "json"],
            "",
            "big.txt",
        ),
        (
            vec!["audit", "--no-git", "-", "--format", "json"],
            text.as_str(),
            "stdin",
        ),
    ] {
        let run = bounded_run(&repo, &args, stdin);
        run.assert_hides(&token);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        let json = run.json();
        assert!(
            json["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["path"] == path && f["line"] == lines as u64 + 1),
            "{args:?}: {json:#}"
        );
    }
}

/// Issue #25: `audit --no-git` on a FIFO waited for a writer forever. It is not a regular file: the
/// audit says so and is incomplete (exit 2), at once.
#[test]
fn audit_no_git_does_not_open_a_fifo() {
    let repo = TestRepo::new();
    let fifo = repo.path.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let mut cmd = Command::new("timeout");
    scrub(&mut cmd)
        .arg("20")
        .arg(assert_cmd::cargo::cargo_bin("unleak"))
        .args(["audit", "--no-git", "pipe"])
        .current_dir(&repo.path)
        .stdin(Stdio::null());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("not a regular file"), "{stdout}");
    // The advice is about the inputs: there is no repository to repair.
    assert!(
        stdout.contains("make every input readable") && !stdout.contains("repair or complete"),
        "{stdout}"
    );
    // Met in a folder walk, it is counted and said, not opened.
    let mut cmd = Command::new("timeout");
    scrub(&mut cmd)
        .arg("20")
        .arg(assert_cmd::cargo::cargo_bin("unleak"))
        .args(["audit", "--no-git", ".", "--format", "json"])
        .current_dir(&repo.path)
        .stdin(Stdio::null());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["kind"] == "special-file"
                && w["message"].as_str().unwrap().starts_with("1 FIFO")),
        "{report:#}"
    );
}
