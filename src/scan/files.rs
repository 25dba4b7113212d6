//! Scanning without git (`unleak audit --no-git`): files on disk (a file, or a folder walked
//! recursively) or stdin, searched with the same detectors a commit's blobs are (`staged::Search`), so
//! rules, allow markers, formats and exit codes are the audit's. No history, provenance or hygiene.
//!
//! Files are listed here and read later, one at a time and in pieces (`staged::file_findings`): a walk of
//! a large tree, or a file of any size on stdin, holds a piece, not the files.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input: its name as shown (a path, or `stdin`) and where its bytes come from.
pub struct Input {
    pub shown: String,
    pub source: Source,
}

/// Where an input's bytes are read from.
pub enum Source {
    Stdin,
    /// A path that was a regular file when listed (checked again when opened).
    File(PathBuf),
}

impl Input {
    /// Opens the input for reading: stdin as given, a file only while it is still a regular file.
    pub fn open<'a>(&self, stdin: &'a mut dyn Read) -> std::io::Result<Box<dyn Read + 'a>> {
        match &self.source {
            Source::Stdin => Ok(Box::new(stdin)),
            Source::File(path) => Ok(Box::new(crate::util::fs::open_regular(path)?)),
        }
    }
}

/// What `read` found: the inputs, and what it could not read (each a message; the answer is then
/// incomplete, as for an unreadable object).
#[derive(Default)]
pub struct Inputs {
    pub files: Vec<Input>,
    pub unreadable: Vec<String>,
    /// Symbolic links met in a folder: not followed (their target is searched where it lives).
    pub links: usize,
    /// FIFOs, sockets and devices met in a folder: not opened (a FIFO would hang the read), counted.
    pub special: usize,
}

/// Lists every path: `-` is stdin (once), a file is itself, a folder is walked (its `.git` folders are
/// skipped: history is `unleak audit`'s job without `--no-git`; so is `skip`, the `.env` whose values
/// are searched for, when a walk meets it). A path that does not exist is an error; one that is not a
/// regular file or a folder (a FIFO, a device) is unreadable.
pub fn list(paths: &[PathBuf], skip: Option<&Path>) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_read {
                bail!("`-` (stdin) is given twice");
            }
            stdin_read = true;
            inputs.files.push(Input {
                shown: "stdin".to_string(),
                source: Source::Stdin,
            });
            continue;
        }
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot scan {}", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut inputs, skip)?;
        } else if meta.is_file() {
            add_file(path, &mut inputs);
        } else {
            inputs.unreadable.push(format!(
                "{}: not a regular file (a FIFO or a device would hang the read)",
                shown(path)
            ));
        }
    }
    Ok(inputs)
}

/// A path as reports show it.
fn shown(path: &Path) -> String {
    path.strip_prefix(".")
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn add_file(path: &Path, inputs: &mut Inputs) {
    inputs.files.push(Input {
        shown: shown(path),
        source: Source::File(path.to_path_buf()),
    });
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
                add_file(&path, inputs);
            } else {
                inputs.special += 1;
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}
