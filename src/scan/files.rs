//! Scanning without git (`unleak audit --no-git`): files on disk (a file, or a folder walked
//! recursively) or stdin, searched with the same detectors a commit's blobs are (`staged::Search`), so
//! rules, allow markers, formats and exit codes are the audit's. No history, provenance or hygiene.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input: its name as shown (a path, or `stdin`) and its bytes.
pub struct Input {
    pub shown: String,
    pub bytes: Vec<u8>,
}

/// What `read` found: the inputs, and what it could not read (each a message; the answer is then
/// incomplete, as for an unreadable object).
#[derive(Default)]
pub struct Inputs {
    pub files: Vec<Input>,
    pub unreadable: Vec<String>,
    /// Symbolic links met in a folder: not followed (their target is searched where it lives).
    pub links: usize,
}

/// Reads every path: `-` is stdin (once), a file is read, a folder is walked (its `.git` folders are
/// skipped: history is `unleak audit`'s job without `--no-git`; so is `skip`, the `.env` whose values
/// are searched for, when a walk meets it). A path that does not exist is an error.
pub fn read(paths: &[PathBuf], stdin: &mut dyn Read, skip: Option<&Path>) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_read {
                bail!("`-` (stdin) is given twice");
            }
            stdin_read = true;
            let mut bytes = Vec::new();
            stdin.read_to_end(&mut bytes).context("cannot read stdin")?;
            inputs.files.push(Input {
                shown: "stdin".to_string(),
                bytes,
            });
            continue;
        }
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot scan {}", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut inputs, skip)?;
        } else {
            read_one(path, &mut inputs);
        }
    }
    Ok(inputs)
}

fn read_one(path: &Path, inputs: &mut Inputs) {
    let shown = path
        .strip_prefix(".")
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    match std::fs::read(path) {
        Ok(bytes) => inputs.files.push(Input { shown, bytes }),
        Err(e) => inputs.unreadable.push(format!("{shown}: {e}")),
    }
}

/// A folder, depth first in name order (stable reports), without following symbolic links.
fn walk(dir: &Path, inputs: &mut Inputs, skip: Option<&Path>) -> Result<()> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                inputs.unreadable.push(format!("{}: {e}", dir.display()));
                continue;
            }
        };
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        let mut subdirs = Vec::new();
        for path in names {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                inputs
                    .unreadable
                    .push(format!("{}: vanished", path.display()));
                continue;
            };
            if meta.file_type().is_symlink() {
                inputs.links += 1;
            } else if meta.is_dir() {
                if path.file_name().is_some_and(|n| n == ".git") {
                    continue;
                }
                subdirs.push(path);
            } else if meta.is_file() {
                if skip.is_some() && path.canonicalize().ok().as_deref() == skip {
                    continue;
                }
                read_one(&path, inputs);
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}
