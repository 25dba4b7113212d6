//! Step 6, rewrite history: the git-filter-repo plan ([`crate::filter_repo`], pure) for what step 2
//! found, printed, and written as a script where asked (or offered), with the private files it reads in
//! literal mode; what step 5 changed is committed first, so the script can run as written.

use super::exposure::Exposure;
use super::record::{set_next, IncidentRecord, StepStatus};
use super::request::{Io, Request};
use super::screen::{heading, offer_file};
use crate::dotenv;
use crate::filter_repo::{self, ReplaceText, RewritePlan};
use crate::git::Repo;
use crate::model::Report;
use crate::secret::Secret;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Writes the script at `path`, mode 0700, atomically (the one writer, [`crate::util::fs`]). In literal mode it first
/// writes the tokens into a 0600 file in a new private temp dir outside the repository; the script
/// deletes that dir when it exits.
pub fn write_script(plan: &RewritePlan, path: &Path) -> Result<()> {
    if let Some(reason) = &plan.blocked {
        bail!("the rewrite plan cannot be written as a script: {reason}");
    }
    let literal_file = match &plan.replace_text {
        ReplaceText::Literal(lines) => Some(write_private_replace_file(lines, &plan.repo)?),
        ReplaceText::Regex(_) => None,
    };
    if let (Some(file), Some(masks)) = (literal_file.as_deref(), &plan.masks) {
        let dir = file.parent().unwrap_or(Path::new("."));
        if let Err(err) = write_private_file(&dir.join("mask-forms.txt"), masks.expose().as_bytes())
        {
            let _ = std::fs::remove_dir_all(dir);
            return Err(err);
        }
    }
    let script = plan.script(literal_file.as_deref());
    let script_file = crate::util::fs::Atomic::new(0o700, ".unleak-script-");
    let result = crate::util::fs::write_atomic(path, script.as_bytes(), &script_file)
        .map_err(anyhow::Error::from);
    if result.is_err() {
        if let Some(dir) = literal_file.as_deref().and_then(Path::parent) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    result
}

/// Creates `<tmp>/unleak-replace-XXXX/replace-text.txt` (dir 0700, file 0600) and returns its path.
fn write_private_replace_file(lines: &str, repo: &Path) -> Result<PathBuf> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("unleak-replace-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Private from the moment it exists, not after a chmod.
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    let dir = builder
        .tempdir()
        .context("cannot create a private temp dir for the replace file")?;
    let repo = repo.canonicalize().unwrap_or_else(|_| repo.to_path_buf());
    let canonical = dir.path().canonicalize()?;
    if canonical.starts_with(&repo) {
        bail!(
            "the temp dir {} is inside the repository; set TMPDIR to a directory outside it",
            dir.path().display()
        );
    }
    let file = dir.path().join("replace-text.txt");
    write_private_file(&file, lines.as_bytes())?;
    // From here the script owns the dir and deletes it.
    let _ = dir.keep();
    Ok(file)
}

/// Creates `file` (which must not exist) 0600 from the start and writes `bytes` to disk.
fn write_private_file(file: &Path, bytes: &[u8]) -> Result<()> {
    use crate::util::fs::{create_new, Step};
    create_new(file, bytes, 0o600).map_err(|err| match err.step {
        Step::Create => {
            anyhow::Error::new(err.into_io()).context(format!("cannot create {}", file.display()))
        }
        _ => err.into(),
    })
}

/// Step 6: the git-filter-repo plan for the history step 2 found, printed, and written as a script
/// where asked (or offered).
pub(super) fn rewrite_plan(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    exposure: &Exposure,
    record: &mut IncidentRecord,
) -> Result<()> {
    heading(io, 6, "Rewrite history")?;
    let Exposure { report, .. } = exposure;
    const STEP: &str = "rewrite history";
    // The token is in the working tree only (an untracked .env): git never recorded it, so there is no
    // history to rewrite and a force-push would only disturb collaborators.
    if report.findings.is_empty() {
        let places: Vec<&str> = report
            .secrets
            .iter()
            .flat_map(|s| s.in_worktree.iter().chain(&s.in_index).chain(&s.in_head))
            .map(String::as_str)
            .collect();
        writeln!(
            io.out,
            "  No rewrite needed: git never recorded the token (it is only in {}, outside history). Keep it out of commits: .env belongs in .gitignore.",
            if places.is_empty() { "the working tree".to_string() } else { places.join(", ") }
        )?;
        record.step(
            STEP,
            StepStatus::NotNeeded("the token is in no git object: nothing to rewrite".into()),
            vec![],
        );
        return Ok(());
    }
    let repo_path = repo.workdir.clone().unwrap_or_else(|| repo.git_dir.clone());
    let plan = plan_rewrite(request, io, repo, &repo_path, exposure)?;
    let text = plan.render_text();
    // A few lines here; the whole plan (a hundred lines) when it is not written to a script, where
    // it is the only copy the user gets, and in the script and the record otherwise.
    for line in plan.render_summary().lines() {
        writeln!(io.out, "  {line}")?;
    }
    record.rewrite_plan = Some(text.clone());
    let show_all = |io: &mut Io<'_>| -> Result<()> {
        writeln!(io.out, "\n  The plan in full:")?;
        for line in text.lines() {
            writeln!(io.out, "  {line}")?;
        }
        Ok(())
    };
    if let Some(blocked) = &plan.blocked {
        record.step(STEP, StepStatus::Failed(blocked.clone()), vec![]);
        return Ok(());
    }
    let offered = match &request.settings.write_script {
        Some(_) => None,
        None => offer_file(
            request,
            io,
            repo,
            "rewrite.sh",
            "Write this plan as a script (mode 0700) to",
        )?,
    };
    let Some(path) = request.settings.write_script.as_ref().or(offered.as_ref()) else {
        show_all(io)?;
        record.step(
            STEP,
            StepStatus::Skipped(
                "plan printed; run it, or write it with --write-script PATH".into(),
            ),
            vec![],
        );
        return Ok(());
    };
    if request.settings.dry_run {
        show_all(io)?;
        writeln!(
            io.out,
            "  dry run: would write the script to {}",
            path.display()
        )?;
        record.step(
            STEP,
            StepStatus::WouldDo(format!("write {}", path.display())),
            vec![],
        );
        return Ok(());
    }
    let notes = commit_respond_changes(request, io, &repo_path, plan.pushes)?;
    write_script(&plan, path)?;
    let run = format!(
        "bash {}",
        crate::util::shell::quote(&path.display().to_string())
    );
    writeln!(
        io.out,
        "  Wrote {} (0700; each step says why it runs: less {}). History is not rewritten yet: run it: {run}",
        path.display(),
        crate::util::shell::quote(&path.display().to_string()),
    )?;
    // Writing the script is the step this command can do; running it (a force-push) is the user's call.
    // Declined or other uncommitted changes: the script refuses to start until they are committed.
    let uncommitted = notes
        .iter()
        .any(|n| n.starts_with("declined: commit") || n.starts_with("uncommitted changes"));
    let run = if uncommitted {
        format!(
            "commit or stash the uncommitted changes first (what respond staged: git commit -m {}; the script pushes that commit), then {run}",
            crate::util::shell::quote(&format!("{} (.env)", filter_repo::UNTRACK_SUBJECT))
        )
    } else {
        run
    };
    record.step(
        STEP,
        StepStatus::Prepared(format!(
            "script written to {}; history is not rewritten until it runs",
            path.display()
        )),
        notes,
    );
    set_next(record, STEP, run);
    Ok(())
}

/// The git-filter-repo plan (pure: nothing is written) for the leaked tokens, with the rewrite patterns
/// step 2 found unique (any other checked now) and the binary files' mode (`--binary`, or asked).
fn plan_rewrite(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    repo_path: &std::path::Path,
    exposure: &Exposure,
) -> Result<filter_repo::RewritePlan> {
    let Exposure {
        report,
        leaked,
        unique_patterns,
    } = exposure;
    let remote_url = repo.remote_url(&request.settings.remote).ok().flatten();
    let threads = request.scan.threads;
    let unique = |secret: &Secret, pattern: &str| {
        unique_patterns.get(pattern).unwrap_or_else(|| {
            filter_repo::unique::pattern_matches_only(repo, pattern, secret, threads)
                .unwrap_or(false)
        })
    };
    let binary_blobs = binary_blobs(repo, report);
    let binary = choose_binary_mode(request, io, report, &binary_blobs)?;
    let unleak = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .unwrap_or_else(|_| std::path::PathBuf::from("unleak"));
    let input = filter_repo::RewriteInput {
        secrets: leaked,
        report,
        remote_name: &request.settings.remote,
        remote_url: remote_url.as_deref(),
        repo_path,
        literal: request.settings.literal,
        remove_env_files: request.settings.remove_env_files,
        filter_repo: crate::git::command::detect_filter_repo(&request.spawner),
        regex_is_unique: &unique,
        binary_blobs: &binary_blobs,
        binary,
        replacement: &request.settings.replacement,
        unleak: &unleak,
    };
    Ok(filter_repo::plan(&input))
}

/// The found blobs git-filter-repo treats as binary (a NUL in the first 8 KiB): its --replace-text
/// skips them, so the plan masks or strips them. A blob that cannot be read is left out (the scan read
/// it, so this is rare) and then handled as text.
pub fn binary_blobs(repo: &Repo, report: &Report) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.location == crate::model::Location::Blob)
    {
        if out.contains(&f.object) {
            continue;
        }
        let Ok(oid) = crate::git::Oid::from_str(&f.object) else {
            continue;
        };
        if let Ok(blob) = repo.read_blob(oid) {
            if filter_repo::is_binary_for_filter_repo(&blob) {
                out.insert(f.object.clone());
            }
        }
    }
    out
}

/// `--binary`, or the question (each binary file and what each choice does to it), or mask.
fn choose_binary_mode(
    request: &Request,
    io: &mut Io<'_>,
    report: &Report,
    binary_blobs: &std::collections::BTreeSet<String>,
) -> Result<filter_repo::BinaryMode> {
    use filter_repo::BinaryMode;
    let files = filter_repo::binary_files(report, binary_blobs);
    if let Some(mode) = request.settings.binary {
        return Ok(mode);
    }
    if files.is_empty() || !io.interactive || request.settings.yes || request.settings.dry_run {
        return Ok(BinaryMode::default());
    }
    writeln!(
        io.out,
        "  Binary files hold the token; git-filter-repo's text replacement skips them:"
    )?;
    for file in &files {
        writeln!(io.out, "    mask:  {}", file.describe(BinaryMode::Mask))?;
        writeln!(io.out, "    strip: {}", file.describe(BinaryMode::Strip))?;
    }
    let choices = [
        "Mask the token in place (same length; the files keep working) (recommended)",
        "Strip those files from the commits listed (rebuild or re-add them afterwards)",
    ];
    Ok(
        match io.prompter.select(
            "What should the rewrite do with the binary files?",
            &choices,
            0,
            "--binary mask|strip",
        )? {
            1 => BinaryMode::Strip,
            _ => BinaryMode::Mask,
        },
    )
}

/// The script refuses to run over uncommitted changes to tracked files (filter-repo resets the work
/// tree), and step 5 leaves some: `.env` removed from the index, `.gitignore` edited. With consent they
/// are committed now, so the script runs as written; anything else is the user's to commit or stash.
fn commit_respond_changes(
    request: &Request,
    io: &mut Io<'_>,
    workdir: &std::path::Path,
    pushes: bool,
) -> Result<Vec<String>> {
    // The repository's own config picks no program here: no hook, filter driver, signing program.
    let git = |args: &[&str]| {
        crate::git::command::git_in(workdir, &request.spawner)
            .args(args)
            .output()
    };
    // Untracked files are listed too: a `.gitignore` this run created is untracked, and left out it
    // would stay on this machine while the remote still tracks `.env`.
    let Ok(status) = git(&["status", "--porcelain", "--untracked-files=normal"]) else {
        return Ok(Vec::new());
    };
    if !status.status.success() {
        return Ok(Vec::new());
    }
    let text = String::from_utf8_lossy(&status.stdout).to_string();
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut untracked = Vec::new();
    let mut gitignore = Vec::new();
    let mut new_files = Vec::new();
    let mut other = false;
    for line in text.lines() {
        let (code, path) = line.split_at(line.len().min(3));
        let name = path.rsplit('/').next().unwrap_or(path);
        match code {
            "D  " if dotenv::is_env_path(path) => untracked.push(path.to_string()),
            " M " | "M  " | "MM " | "A  " | "AM " if name == ".gitignore" => {
                gitignore.push(path.to_string())
            }
            "?? " if name == ".gitignore" => {
                gitignore.push(path.to_string());
                new_files.push(path.to_string());
            }
            // Other untracked files do not stop the script (it checks tracked files only).
            "?? " => {}
            _ => other = true,
        }
    }
    let refuse = "  The rewrite script stops at its first check while tracked files have uncommitted changes (filter-repo resets the working tree): commit or stash them, then run it.";
    // A new `.gitignore` alone stops nothing: it goes with an untracking, else it is left to the user.
    if untracked.is_empty() {
        gitignore.retain(|p| !new_files.contains(p));
    }
    if !other && untracked.is_empty() && gitignore.is_empty() {
        return Ok(Vec::new());
    }
    if other {
        writeln!(io.out, "{refuse}")?;
        return Ok(vec![
            "uncommitted changes: commit or stash them before running the script".into(),
        ]);
    }
    let what: Vec<String> = untracked
        .iter()
        .map(|p| format!("stop tracking {p}"))
        .chain(gitignore.iter().map(|p| {
            let how = if new_files.contains(p) {
                "created"
            } else {
                "edited"
            };
            format!("{p} {how}")
        }))
        .collect();
    let question = format!(
        "Commit what this run changed ({}) so the rewrite script can run{}?",
        what.join(", "),
        if pushes {
            " (it pushes this commit after the rewrite, so the remote stops tracking it too)"
        } else {
            ""
        }
    );
    if !request.settings.yes && !io.prompter.confirm(&question, true, "--yes")? {
        writeln!(io.out, "{refuse}")?;
        return Ok(vec![
            "declined: commit the untracking before running the script".into(),
        ]);
    }
    if !gitignore.is_empty() {
        let mut args = vec!["add", "--"];
        args.extend(gitignore.iter().map(String::as_str));
        let out = git(&args).context("cannot run git add")?;
        if !out.status.success() {
            bail!(
                "git add .gitignore failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
    }
    let message = format!("{} ({})", filter_repo::UNTRACK_SUBJECT, what.join(", "));
    let out = git(&["commit", "--quiet", "-m", &message]).context("cannot run git commit")?;
    if !out.status.success() {
        bail!(
            "git commit failed ({}): commit the staged changes yourself, then run the script",
            crate::sanitize::for_terminal(&String::from_utf8_lossy(&out.stderr)).trim()
        );
    }
    writeln!(io.out, "  Committed: {message}.")?;
    // Every value, ours (`false`, from the command line) last: any `true` before it is the user's wish.
    let signs = git(&["config", "--type=bool", "--get-all", "commit.gpgSign"]).is_ok_and(|out| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == "true")
    });
    if signs {
        writeln!(
            io.out,
            "  Not signed: unleak runs no signing program a repository's config names. Sign it yourself if you need to: git commit --amend --no-edit -S"
        )?;
    }
    Ok(vec![format!("committed: {message}")])
}
