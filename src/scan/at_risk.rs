//! A token found only in the untracked file it was read from is at risk, not leaked: the one answer scan,
//! audit and respond give for it.

use crate::model::{Report, Warning};
use std::path::Path;

/// A token whose only copy is the untracked file it was read from (the `.env` it came from) has not
/// leaked: it is not in history, the index or any other file. Marks it not found (so the command exits
/// 0) and returns a note per token saying where it is, instead of "found in 0 place(s)".
pub(crate) fn only_in_source(report: &mut Report, workdir: Option<&Path>) -> Vec<Warning> {
    let Some(workdir) = workdir else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for summary in &mut report.secrets {
        let Some((file, _key)) = summary.origin.rsplit_once(':') else {
            continue;
        };
        let source = Path::new(file);
        let only_there = summary.found
            && summary.findings == 0
            && summary.in_head.is_empty()
            && summary.in_index.is_empty()
            && summary.in_worktree.len() == 1
            && workdir.join(&summary.in_worktree[0]) == source;
        if !only_there {
            continue;
        }
        summary.found = false;
        summary.severity = None;
        notes.push(Warning::new(
            "only-in-source",
            only_in_source_message(&summary.secret.redacted, &summary.in_worktree[0]),
        ));
    }
    notes
}

/// The one answer scan, audit and respond give for a token only in the untracked, un-ignored file it
/// was read from: at risk, not in history, nothing to rewrite, and what to do.
fn only_in_source_message(redacted: &str, file: &str) -> String {
    format!(
        "{redacted} is at risk but not in history: it is only in {file}, the untracked file it was read \
         from, which git does not ignore (one `git add .` commits it). Nothing to rewrite. Add {file} \
         to .gitignore."
    )
}
