//! unleak's git hooks: a pre-commit hook that stops a commit adding a token (and commit-msg and pre-push
//! hooks that stop a message or a push holding one). `install.rs` writes and removes the hooks (chaining
//! the one that was there), `run.rs` is what a hook runs: it reads only what is staged or pushed (see
//! `scan::staged`), so it costs what the change holds, and says everything on stderr (what a hook's user sees).

pub(crate) mod install;
pub(crate) mod run;

/// The line that marks a hook as unleak's: `uninstall` removes a hook only when it holds this line.
pub const MARKER: &str =
    "# unleak-hook: installed by `unleak hook install`; `unleak hook uninstall` removes it";
