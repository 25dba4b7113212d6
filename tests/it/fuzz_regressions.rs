//! Inputs the fuzz targets (fuzz/) found, kept as regression tests: each builds the case in a throwaway
//! repository and runs the real binary.

use crate::util::*;
use std::time::{Duration, Instant};

/// A damaged loose object the `loose_object` target found (fuzz/regressions/): a zlib stream that
/// inflates to nothing and never ends. libgit2 spins on it forever.
const LOOSE_HANG: &[u8] = &[
    0x78, 0x01, 0x7d, 0x8e, 0x41, 0x0e, 0x02, 0x21, 0x0c, 0x00, 0x3d, 0xa4, 0x66, 0xba, 0x1c, 0x66,
    0x40, 0x6b, 0x2a, 0xb4, 0x84, 0x5c, 0x99, 0x3e, 0xf3, 0x3e, 0x34, 0x10, 0x21, 0x10, 0xe7, 0xe0,
    0x03, 0xfa, 0x02, 0x67, 0x7f, 0xe0, 0xf4, 0x48, 0x01, 0x32, 0x41,
];

#[test]
fn fuzz_regression_damaged_loose_object_does_not_hang_the_scan() {
    let token = fake_hf_token();
    let repo = TestRepo::new();
    repo.commit_file("a.txt", "hello\n", "start");
    let dir = repo.path.join(".git/objects/ab");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("cdef0123456789abcdef0123456789abcdef01"),
        LOOSE_HANG,
    )
    .unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("unleak"));
    scrub(&mut child)
        .args(["scan", "--token-env", "T"])
        .env("T", &token)
        .current_dir(&repo.path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = child.spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let status = status.expect("the scan ends on a damaged loose object");
    // The object is reported unreadable (a warning), never silently clean and never a hang.
    assert_ne!(
        status.code(),
        Some(0),
        "a damaged object is not a clean scan"
    );
}
