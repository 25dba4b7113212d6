//! What an audit judges once the scan is done: what the allowlist, the baseline and inline markers
//! accept, whether each token still works (`--verify`, the issuers' read-only liveness checks), and the
//! hygiene issues of the checkout.

use super::baseline::{self, finding_key};
use super::Request;
use crate::allowlist::Allowlist;
use crate::git::Repo;
use crate::issuers::liveness::Checker;
use crate::matching;
use crate::model::{self, Report, Severity, Warning};
use crate::providers::Rules;
use crate::secret::Secret;
use anyhow::Result;
use std::collections::HashSet;
use std::path::Path;

/// What the audit judges once the scan is done, and from what.
pub(super) struct Review<'a> {
    /// None for `--no-git`: no inline markers to read back, no hygiene of a checkout.
    pub(super) repo: Option<&'a Repo>,
    pub(super) allowlist: &'a Allowlist,
    /// The rules the secrets are known by (custom ones included): liveness says a custom rule's token
    /// has no issuer to ask.
    pub(super) rules: &'a Rules,
    pub(super) secrets: &'a [Secret],
    pub(super) env_path: Option<&'a Path>,
    pub(super) env_files: &'a [(String, String)],
    /// `--since`/`--range`: the commits are judged, not the checkout.
    pub(super) range_mode: bool,
}

impl Review<'_> {
    /// Suppresses what the allowlist, the baseline and inline markers accept, checks liveness, adds the
    /// hygiene issues, and says how much was suppressed.
    pub(super) fn judge(&self, request: &Request, report: &mut model::Report) -> Result<()> {
        let baseline = match &request.baseline {
            Some(path) => baseline::load_baseline(path)?,
            None => HashSet::new(),
        };
        let repo = self.repo.filter(|_| !self.range_mode);
        let inline = repo.map_or(0, |repo| suppress_inline(repo, report));
        let suppressed = inline + suppress(report, self.allowlist, &baseline);
        // Liveness before hygiene: a token confirmed dead is reported at low severity everywhere.
        if request.verify {
            verify_live(report, self.secrets, self.rules, &request.net)?;
        } else if report.secrets.iter().any(|s| s.found) {
            report.warnings.push(Warning::new(
                "not-verified",
                "not checked whether the tokens still work (--verify asks each issuer's read-only identity API)",
            ));
        }
        // Hygiene looks at what is left, so an accepted token is not reported again as hardcoded.
        // Pull-request mode judges the commits, not the working tree: no hygiene of the checkout.
        if let Some(repo) = repo {
            report.hygiene = super::hygiene::hygiene_issues(
                repo,
                report,
                self.secrets,
                self.env_path,
                self.env_files,
                &request.env,
                &request.spawner,
            )?;
        }
        report
            .hygiene
            .retain(|issue| !self.allowlist.allows_issue(issue));
        let suppressed = suppressed + baseline::suppress_hygiene(report, &baseline);
        report.warnings.extend(suppressed_warning(suppressed));
        Ok(())
    }
}

/// Labels each token live, dead or unknown (with why) by its issuer's read-only identity call. A token
/// confirmed dead is no longer a live credential: its findings drop to low severity (still reported, so
/// history gets cleaned, but `--fail-on medium` no longer fails on a rotated token).
fn verify_live(
    report: &mut model::Report,
    secrets: &[Secret],
    rules: &Rules,
    net: &crate::issuers::Net,
) -> Result<()> {
    let checker = Checker::new(false, net);
    let mut dead = HashSet::new();
    for summary in &mut report.secrets {
        let Some(secret) = secrets
            .iter()
            .find(|s| s.fingerprint() == summary.secret.fingerprint)
        else {
            continue;
        };
        let liveness = checker.check_in(secret, rules)?;
        if liveness.is_dead() {
            dead.insert(summary.secret.fingerprint.clone());
            summary.severity = summary.severity.map(|_| Severity::Low);
        }
        summary.live = Some(liveness.label().to_string());
        summary.live_reason = Some(liveness.reason());
    }
    for finding in &mut report.findings {
        if dead.contains(&finding.secret.fingerprint) {
            finding.severity = Severity::Low;
        }
    }
    Ok(())
}

/// Drops what the allowlist and the baseline accept; returns how many findings were dropped.
pub(crate) fn suppress(
    report: &mut Report,
    allowlist: &Allowlist,
    baseline: &HashSet<String>,
) -> usize {
    let before = report.findings.len();
    report
        .findings
        .retain(|f| !allowlist.allows(f) && !baseline.contains(&finding_key(f)));
    let dropped = before - report.findings.len();
    let remaining: HashSet<&str> = report
        .findings
        .iter()
        .map(|f| f.secret.fingerprint.as_str())
        .collect();
    let remaining: HashSet<String> = remaining.into_iter().map(str::to_string).collect();
    report.secrets.retain(|s| {
        !allowlist.allows_secret(s)
            && (remaining.contains(&s.secret.fingerprint)
                || ((!s.in_head.is_empty() || !s.in_index.is_empty() || !s.in_worktree.is_empty())
                    && s.findings == 0))
    });
    for summary in &mut report.secrets {
        summary.findings = report
            .findings
            .iter()
            .filter(|f| f.secret.fingerprint == summary.secret.fingerprint)
            .count();
    }
    dropped
}

/// Drops blob findings whose every line carries [`matching::INLINE_ALLOW`]; returns how many. Reads
/// only the blobs of findings.
pub(crate) fn suppress_inline(repo: &Repo, report: &mut Report) -> usize {
    let before = report.findings.len();
    report.findings.retain(|f| {
        if f.location != crate::model::Location::Blob || f.line.is_none() {
            return true;
        }
        let Ok(oid) = crate::git::Oid::from_str(&f.object) else {
            return true;
        };
        let Ok(blob) = repo.read_blob(oid) else {
            return true;
        };
        let content = &blob[..];
        let mut lines: Vec<u32> = f.lines.clone();
        lines.extend(f.line);
        let starts: Vec<usize> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', content).map(|i| i + 1))
            .collect();
        !lines.iter().all(|&n| {
            starts
                .get(n.saturating_sub(1) as usize)
                .is_some_and(|&at| matching::line_allows(content, at))
        })
    });
    before - report.findings.len()
}

/// A warning for suppressed findings, so a quiet report is never mistaken for a clean one.
pub(crate) fn suppressed_warning(count: usize) -> Option<Warning> {
    (count > 0).then(|| {
        Warning::new(
            "suppressed",
            format!("{count} finding(s) suppressed by the allowlist or baseline"),
        )
    })
}
