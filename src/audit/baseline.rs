//! `--baseline`: a previous audit's JSON report. What it holds (findings, hygiene issues) is known and
//! does not count again.

use crate::model::{Finding, HygieneIssue, Report};
use anyhow::{Context, Result};
use std::collections::HashSet;
use std::path::Path;

/// A previous audit's JSON report, read as a [`Report`]: the findings and hygiene issues in it are known
/// and do not count again. A report from an older unleak (without the fields added since) still loads;
/// anything that is not such a report is an error that names the file and the place.
pub(crate) fn load_baseline(path: &Path) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read baseline {}", path.display()))?;
    let baseline: Report = serde_json::from_str(&text).with_context(|| {
        format!(
            "baseline {} is not an unleak JSON report (write one with `unleak audit --format json`)",
            path.display()
        )
    })?;
    let findings = baseline.findings.iter().map(finding_key);
    // Hygiene issues are known too (an `.env` committed long ago stays in history until a rewrite).
    let issues = baseline.hygiene.iter().map(hygiene_key);
    Ok(findings.chain(issues).collect())
}

/// A hygiene issue's identity: its message counts commits, so one more commit of `.env` is new.
fn hygiene_key(issue: &HygieneIssue) -> String {
    format!(
        "hygiene|{}|{}|{}",
        issue.id,
        issue.path.as_deref().unwrap_or(""),
        issue.message
    )
}

/// Drops the hygiene issues the baseline already holds; returns how many.
pub(crate) fn suppress_hygiene(report: &mut Report, baseline: &HashSet<String>) -> usize {
    let before = report.hygiene.len();
    report
        .hygiene
        .retain(|issue| !baseline.contains(&hygiene_key(issue)));
    before - report.hygiene.len()
}

/// A finding's identity across runs: the token, where in git, and which object and path.
pub(super) fn finding_key(f: &Finding) -> String {
    format!(
        "{}|{}|{}|{}",
        f.secret.fingerprint,
        f.location.as_str(),
        f.object,
        f.path.as_deref().unwrap_or("")
    )
}
