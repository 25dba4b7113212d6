//! The walls of the house (docs/architecture.md): the import graph of src/ has no circle, no import runs
//! against the layering, and nothing outside `git/` names `git2`. Measured by scripts/imports.py, the
//! same command the docs give, so a change that breaks a wall fails here with the offending imports.

use std::path::Path;
use std::process::Command;

#[test]
fn the_import_graph_has_no_circle_no_back_edge_and_one_door_into_git() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("scripts/imports.py"))
        .arg(root.join("src"))
        .arg("--target")
        .output()
        .expect("python3 runs (scripts/test.sh puts the test venv's first on PATH)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = text
        .lines()
        .rev()
        .find(|l| l.starts_with("modules "))
        .unwrap_or_else(|| panic!("no summary line:\n{text}"));
    for wall in [
        "circles 0 ",
        "back-edges 0,",
        "unlayered 0,",
        "git2 outside git: 0 files",
    ] {
        assert!(summary.contains(wall), "{wall:?} broken:\n{text}");
    }
}
