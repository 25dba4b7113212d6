//! `unleak scan`: every hiding place, its provenance, and the rule that the token is never printed.

use crate::util::*;

#[test]
fn clean_repository_exits_zero() {
    let repo = TestRepo::new();
    repo.commit_file("README.md", "hello\n", "Initial");
    let token = fake_hf_token();
    let run = Unleak::new(&repo.path)
        .args(&["scan", "--token-stdin"])
        .stdin(format!("{token}\n"))
        .run();
    run.assert_hides(&token);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("No leak found"), "{}", run.stdout);
}
