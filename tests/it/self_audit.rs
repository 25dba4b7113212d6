//! unleak passes its own audit: this repository's history, as a clone of the current branch holds it
//! (what a push publishes: no reflogs, stash or unreachable objects of the developer's clone), audited
//! with the committed allowlist (.unleak.toml). A fixture token committed as a literal fails here.

use crate::util::*;
use std::path::Path;
use std::process::Command;

#[test]
fn unleak_audits_its_own_history_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let place = tempfile::tempdir().unwrap();
    let clone = place.path().join("unleak");
    let mut cmd = Command::new("git");
    let out = scrub(&mut cmd)
        .arg("clone")
        .args(["-q", "--single-branch", "--no-tags", "--no-hardlinks"])
        .arg(root)
        .arg(&clone)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git clone of this repository: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shallow = run_git(&clone, &["rev-parse", "--is-shallow-repository"], 0);
    let mut args = vec![
        "audit",
        "--config",
        root.join(".unleak.toml").to_str().unwrap(),
    ]
    .into_iter()
    .map(str::to_string)
    .collect::<Vec<_>>();
    if shallow.trim() == "true" {
        // A shallow checkout (some CI clones) cannot see all of history; say so rather than fail.
        eprintln!("self audit: this checkout is shallow; only the history it holds is audited");
        args.push("--allow-incomplete".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = Unleak::new(&clone).args(&args).run();
    assert_eq!(
        run.code, 0,
        "unleak's own history fails its audit: build fixture tokens at run time (tests/it/util.rs), or \
         allowlist an obvious fake by fingerprint in .unleak.toml with a reason.\n{}\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.contains("No leak found"), "{}", run.stdout);
}
