//! Step 6 of the playbook on disk: the rewrite plan ([`crate::filter_repo`], pure) written as a script,
//! with the private files it reads in literal mode.

use crate::filter_repo::{ReplaceText, RewritePlan};
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes the script at `path`, mode 0700, atomically (temp file + rename). In literal mode it first
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
    let result = write_atomic(path, script.as_bytes(), 0o700);
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
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut handle = options
        .open(file)
        .with_context(|| format!("cannot create {}", file.display()))?;
    handle
        .write_all(bytes)
        .and_then(|_| handle.sync_all())
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let opts = crate::util::fs::Atomic {
        mode,
        prefix: ".unleak-script-",
    };
    crate::util::fs::write_atomic(path, bytes, &opts)
        .with_context(|| format!("cannot write {}", path.display()))
}
