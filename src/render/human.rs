//! Human rendering: grouped by token, then by introducing commit. Untrusted text (paths, messages, author
//! names) is escaped; colors only when asked for.

use crate::model::{Finding, Location, Report, SecretSummary};
use crate::sanitize::for_terminal;
use std::collections::BTreeMap;
use std::io::Write;

/// ANSI styling that can be switched off as a whole.
#[derive(Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    pub fn red(&self, text: &str) -> String {
        self.paint("1;31", text)
    }
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
}

pub fn render(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    header(report, out)?;
    for summary in &report.secrets {
        secret_block(report, summary, style, out)?;
    }
    hygiene_block(report, style, out)?;
    playbook_block(report, style, out)?;
    verification_block(report, style, out)?;
    local_copies_block(report, style, out)?;
    warnings_block(report, style, out)?;
    footer(report, style, out)
}

/// Copies of a token outside history on this machine, each with its fix.
fn local_copies_block(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    if report.local_copies.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        style.bold("Outside history, on this machine (a copy here outlives the rewrite)")
    )?;
    for copy in &report.local_copies {
        writeln!(
            out,
            "  {} in {} ({})",
            copy.secret.redacted,
            for_terminal(&copy.place),
            for_terminal(&copy.path)
        )?;
        writeln!(out, "    fix: {}", for_terminal(&copy.fix))?;
    }
    Ok(())
}

/// What was scanned, how much, how long.
fn header(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    if report.warnings.iter().any(|w| w.kind == "no-git") {
        return writeln!(
            out,
            "Scanned {} file(s) ({}) in {}",
            report.stats.objects,
            human_bytes(report.stats.bytes),
            human_ms(report.stats.elapsed_ms)
        );
    }
    writeln!(
        out,
        "Scanned {} objects ({} commits, {}) in {}{}",
        report.stats.objects,
        report.stats.commits,
        human_bytes(report.stats.bytes),
        human_ms(report.stats.elapsed_ms),
        if report.repository.bare {
            ", bare repository"
        } else {
            ""
        }
    )?;
    Ok(())
}

/// One token: where it came from, whether it is live or pushed, where it still lives, and each commit
/// that carries it.
fn secret_block(
    report: &Report,
    summary: &SecretSummary,
    style: Style,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    token_heading(summary, style, out)?;
    if !summary.found && !summary.in_worktree.is_empty() {
        // Only in the untracked file it was read from (see the warning): at risk, not leaked.
        let shown: Vec<String> = summary
            .in_worktree
            .iter()
            .map(|p| for_terminal(p).into_owned())
            .collect();
        writeln!(
            out,
            "  {} only in {}, which git does not ignore",
            style.yellow("at risk, not in history:"),
            shown.join(", ")
        )?;
        return Ok(());
    }
    let elsewhere = report
        .local_copies
        .iter()
        .any(|c| c.secret.fingerprint == summary.secret.fingerprint);
    if !summary.found && elsewhere {
        writeln!(
            out,
            "  {}",
            style.yellow(
                "not in history or the working tree; copies outside history are listed below"
            )
        )?;
        return Ok(());
    }
    if !summary.found {
        writeln!(
            out,
            "  {}",
            style.green("not found anywhere in this repository")
        )?;
        return Ok(());
    }
    exposure(summary, style, out)?;
    commit_groups(report, summary, style, out)
}

/// The token's heading lines: redaction, provider and origin; fingerprint; liveness when checked.
fn token_heading(
    summary: &SecretSummary,
    style: Style,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out)?;
    let provider = summary
        .provider
        .as_deref()
        .and_then(|id| crate::providers::all().iter().find(|p| p.id == id))
        .map(|p| format!(" [{}]", p.name))
        .unwrap_or_default();
    writeln!(
        out,
        "{} {}{}  from {}",
        style.bold("Token"),
        style.bold(&summary.secret.redacted),
        provider,
        for_terminal(&summary.origin)
    )?;
    writeln!(out, "  fingerprint {}", summary.secret.fingerprint)?;
    let why = summary
        .live_reason
        .as_deref()
        .map(|r| format!(" ({})", for_terminal(r)))
        .unwrap_or_default();
    match summary.live.as_deref() {
        Some("live") => writeln!(
            out,
            "  {}",
            style.red(&format!("LIVE: it still works{why}"))
        )?,
        Some("dead") => writeln!(
            out,
            "  {}",
            style.green(&format!("dead: revoked or invalid{why}"))
        )?,
        Some(other) => writeln!(out, "  liveness {other}{why}")?,
        None => {}
    }
    Ok(())
}

/// Where the token is exposed: pushed (and where) or not, the first exposure, and the places it still
/// lives (HEAD, the index, the working tree).
fn exposure(summary: &SecretSummary, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    if summary.pushed {
        writeln!(
            out,
            "  {} to {}: assume it is public",
            style.red("PUSHED"),
            for_terminal(&summary.remotes.join(", "))
        )?;
    } else if !summary.introducing_commits.is_empty() {
        writeln!(
            out,
            "  {}",
            style.yellow("not pushed to any remote this clone knows of")
        )?;
    }
    if let Some(first) = &summary.first_exposure {
        writeln!(out, "  first exposure {first}")?;
    }
    for (label, paths) in [
        ("still in HEAD", &summary.in_head),
        ("staged in the index", &summary.in_index),
        ("in the working tree", &summary.in_worktree),
    ] {
        if !paths.is_empty() {
            let shown: Vec<String> = paths.iter().map(|p| for_terminal(p).into_owned()).collect();
            writeln!(out, "  {}: {}", style.yellow(label), shown.join(", "))?;
        }
    }
    Ok(())
}

/// The token's findings grouped by commit (ordered by date), each group with its commit line, subject,
/// findings and what carries the commit.
fn commit_groups(
    report: &Report,
    summary: &SecretSummary,
    style: Style,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mine: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.secret.fingerprint == summary.secret.fingerprint)
        .collect();
    let mut by_commit: BTreeMap<(Option<String>, Option<String>), Vec<&Finding>> = BTreeMap::new();
    for finding in &mine {
        by_commit
            .entry((finding.date.clone(), finding.commit.clone()))
            .or_default()
            .push(finding);
    }
    for ((_, commit), findings) in by_commit {
        let first = findings[0];
        writeln!(out)?;
        match &commit {
            Some(commit) => writeln!(
                out,
                "  {} {}  {}  {}",
                style.bold("commit"),
                &commit[..12.min(commit.len())],
                first.date.as_deref().unwrap_or("?"),
                for_terminal(first.author.as_deref().unwrap_or("?"))
            )?,
            // `audit --no-git`: a file on disk, no git object at all.
            None if first.object.is_empty() => {
                writeln!(out, "  {} (not searched in git)", style.bold("on disk"))?
            }
            None => writeln!(
                out,
                "  {} (held by no commit: dangling or staged)",
                style.bold("object only")
            )?,
        }
        if let Some(summary) = &first.summary {
            writeln!(out, "    {}", style.dim(&for_terminal(summary)))?;
        }
        for finding in &findings {
            writeln!(out, "    {}", describe(finding))?;
        }
        if !first.object.is_empty() {
            writeln!(out, "    {}", carried_by(first, style))?;
        }
    }
    Ok(())
}

fn hygiene_block(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    if !report.hygiene.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Hygiene"))?;
        for issue in &report.hygiene {
            writeln!(
                out,
                "  [{}] {} ({})",
                issue.severity.as_str(),
                for_terminal(&issue.message),
                issue.id
            )?;
            for commit in issue.commits.iter().take(5) {
                writeln!(out, "      commit {}", &commit[..12.min(commit.len())])?;
            }
            if issue.commits.len() > 5 {
                writeln!(out, "      … and {} more", issue.commits.len() - 5)?;
            }
        }
    }
    Ok(())
}

/// Audit's preview of what `unleak respond` would do.
fn playbook_block(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    if !report.playbook.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("What `unleak respond` would do"))?;
        for step in &report.playbook {
            writeln!(out, "  {}: revoke: {}", step.secret.redacted, step.revoke)?;
            match &step.rewrite_expression {
                Some(expr) => writeln!(
                    out,
                    "    rewrite: git filter-repo --sensitive-data-removal --replace-text <file: {expr}>{}",
                    if step.rewrite_messages { " --replace-message <same file>" } else { "" }
                )?,
                None => writeln!(out, "    rewrite: git filter-repo with the literal token (--literal)")?,
            }
        }
    }
    Ok(())
}

/// After a rewrite: what still holds the token (verify).
fn verification_block(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(v) = &report.verification {
        writeln!(out)?;
        for changed in &v.first_changed {
            let short = &changed.commit[..12.min(changed.commit.len())];
            match (changed.exists, changed.refs.is_empty()) {
                (false, _) => writeln!(out, "first changed commit {short}: gone")?,
                (true, true) => writeln!(out, "first changed commit {short}: still in the object database, held by no ref (gc removes it)")?,
                (true, false) => writeln!(
                    out,
                    "{} first changed commit {short} is still held by {}",
                    style.red("NOT CLEAN:"),
                    changed.refs.join(", ")
                )?,
            }
        }
        for file in &v.git_dir_files {
            writeln!(
                out,
                "{} {} holds the token",
                style.red("NOT CLEAN:"),
                for_terminal(file)
            )?;
        }
        for file in &v.leftover_files {
            writeln!(
                out,
                "{} {} (a copy unleak kept of a .env) holds the token; delete it",
                style.red("NOT CLEAN:"),
                for_terminal(file)
            )?;
        }
    }
    Ok(())
}

fn warnings_block(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    for warning in &report.warnings {
        writeln!(out)?;
        writeln!(
            out,
            "{} {}",
            style.yellow("warning:"),
            for_terminal(&warning.message)
        )?;
    }
    Ok(())
}

/// The verdict line: not confirmed, incomplete, clean, hygiene only, or leaked.
fn footer(report: &Report, style: Style, out: &mut dyn Write) -> std::io::Result<()> {
    let found = report.secrets.iter().filter(|s| s.found).count();
    writeln!(out)?;
    let incomplete = !report.completeness.complete;
    let verification_found = report.verification.as_ref().is_some_and(|v| {
        !v.git_dir_files.is_empty() || v.first_changed.iter().any(|c| !c.refs.is_empty())
    });
    if found == 0 && !verification_found && report.warnings.iter().any(|w| w.kind == "never-found")
    {
        writeln!(
            out,
            "{} the token given was never found here: is it the new one? Verify the OLD token (see the warning above).",
            style.red("NOT CONFIRMED:")
        )?;
        return Ok(());
    }
    if incomplete && found == 0 && !verification_found {
        if report.completeness.accepted {
            writeln!(
                out,
                "{} {}; accepted with --allow-incomplete.",
                style.yellow("No leak found in what could be read (INCOMPLETE):"),
                for_terminal(&report.completeness.summary())
            )?;
        } else {
            // `audit --no-git` searched files, not a repository: what needs mending is the inputs.
            let files = report.warnings.iter().any(|w| w.kind == "no-git");
            let remedy = if files {
                "make every input readable (a regular file or a folder)"
            } else {
                "repair or complete the repository"
            };
            writeln!(
                out,
                "{} no leak found in what could be read, but {}. This is not a clean result (exit 2); \
                 {remedy} and run again, or accept it with --allow-incomplete.",
                style.red("INCOMPLETE:"),
                for_terminal(&report.completeness.summary())
            )?;
        }
        return Ok(());
    }
    if let Some(v) = &report.verification {
        if v.clean {
            writeln!(
                out,
                "{}",
                style.green("Verified clean: nothing here carries the token.")
            )?;
        } else {
            let next = if found > 0 {
                "history still carries the token: write the rewrite script with `unleak respond --write-script rewrite.sh` (or run the one already written: `bash rewrite.sh`), then run this verify again"
            } else {
                "delete or clean up what is named above, then run this verify again"
            };
            writeln!(out, "{} see above. Next: {next}.", style.red("NOT CLEAN:"))?;
        }
    } else if found == 0 && !report.local_copies.is_empty() {
        writeln!(
            out,
            "{}",
            style.yellow(
                "No leak in history; copies outside it are listed above, each with its fix."
            )
        )?;
    } else if found == 0 && report.hygiene.is_empty() {
        writeln!(out, "{}", style.green("No leak found."))?;
    } else if found == 0 {
        writeln!(
            out,
            "{}",
            style.yellow("No leak found; hygiene problems above.")
        )?;
    } else {
        writeln!(
            out,
            "{} {} of {} token(s) found in {} place(s). Next: `unleak respond` walks through revoking and rewriting.",
            style.red("LEAKED:"),
            found,
            report.secrets.len(),
            report.findings.len()
        )?;
    }
    Ok(())
}

fn describe(finding: &Finding) -> String {
    let encoding = match finding.encoding.as_str() {
        "plain" => String::new(),
        other => format!(" ({other})"),
    };
    let line = match (finding.line, finding.lines.len()) {
        (Some(line), n) if n > 1 => format!(":{line} (+{} more lines)", n - 1),
        (Some(line), _) => format!(":{line}"),
        _ => String::new(),
    };
    match finding.location {
        Location::Blob => match &finding.path {
            Some(path) => format!("{}{line}{encoding}", for_terminal(path)),
            None => format!("blob {}{encoding}", finding.object),
        },
        Location::Path => format!(
            "in the file name {}",
            for_terminal(finding.path.as_deref().unwrap_or("?"))
        ),
        Location::CommitMessage => format!("in the commit message{line}{encoding}"),
        Location::TagMessage => format!(
            "in the message of tag object {}{line}{encoding}",
            &finding.object[..12.min(finding.object.len())]
        ),
    }
}

fn carried_by(finding: &Finding, style: Style) -> String {
    if !finding.refs.is_empty() {
        let refs: Vec<String> = finding
            .refs
            .iter()
            .map(|r| for_terminal(r).into_owned())
            .collect();
        format!("carried by {}", refs.join(", "))
    } else if !finding.reflogs.is_empty() {
        let shown: Vec<String> = finding
            .reflogs
            .iter()
            .take(4)
            .map(|r| for_terminal(r).into_owned())
            .collect();
        let more = finding.reflogs.len().saturating_sub(4);
        format!(
            "{} only from reflog {}{}",
            style.yellow("reachable"),
            shown.join(", "),
            if more > 0 {
                format!(" (+{more})")
            } else {
                String::new()
            }
        )
    } else if finding.reachable {
        // A range audit reads the commits under review, not the refs: their findings carry none, and
        // they are not garbage either.
        "in the commits under review (a range audit does not look up which refs carry them)"
            .to_string()
    } else {
        style.yellow("unreachable: only in the object database until `git gc --prune=now`")
    }
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

fn human_ms(ms: u64) -> String {
    if ms >= 1000 {
        format!("{:.2} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}
