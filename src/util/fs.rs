//! The one writer: every file unleak writes (reports, man pages, records, scripts, hooks, `.env`, its
//! backups, the allowlist, `.gitignore`, the private files a rewrite reads) goes through here, so each
//! is either the old file or the whole new one, never half, with its mode set before the first byte
//! and never written through a link. The policies above it (which `.env` link may be followed, where a
//! backup goes) stay with their callers; the bytes reach the disk only here.

use std::fs::Permissions;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Reads a file whole, when it is a regular file of at most `cap` bytes: a FIFO or a device in its
/// place (a repository can hold one) would hang the read or fill memory, and a file past the cap is
/// not what it claims to be. The type is checked before opening (opening a FIFO waits for a writer)
/// and again on the open file; the read stops one byte past the cap whatever the file grew to.
pub fn read_regular(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let refuse = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    let file = open_regular(path).map_err(|err| match err.kind() {
        io::ErrorKind::InvalidData => refuse(format!("{} is {err}", path.display())),
        _ => err,
    })?;
    if file.metadata()?.len() > cap {
        return Err(refuse(format!(
            "{} is larger than {cap} bytes, more than such a file ever holds",
            path.display()
        )));
    }
    let mut out = Vec::new();
    file.take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(refuse(format!("{} grew past {cap} bytes", path.display())));
    }
    Ok(out)
}

/// Opens a file for reading when it is a regular file, checked before opening (opening a FIFO waits for
/// a writer, forever) and again on the open file (it may have been swapped in between). The caller reads
/// it in pieces: no cap is needed for memory's sake.
pub fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    let check = |meta: std::fs::Metadata| {
        if meta.is_file() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a regular file (a FIFO or a device would hang the read)",
            ))
        }
    };
    check(std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    check(file.metadata()?)?;
    Ok(file)
}

/// How [`write_atomic`] and [`stage`] create the file.
pub struct Atomic<'a> {
    /// Permission bits, set on the temp file before the first byte is written (so a private file is
    /// never readable by others, not even while it is being written), exactly (the umask is not asked).
    pub mode: u32,
    /// The temp file's name prefix: a dot-file beside the target until the rename.
    pub prefix: &'a str,
    /// The temp file's name suffix (`.tmp` where a crashed write's leftovers are swept by name).
    pub suffix: &'a str,
    /// Where the temp file is made, when not beside the target: it must be on the same filesystem (the
    /// rename is then atomic); `.env`'s temp file, which holds a token, goes under the git directory.
    pub temp_dir: Option<&'a Path>,
    /// The owner (uid, gid) the new file keeps, best effort (only root may give a file away): root
    /// editing someone's file leaves it theirs.
    pub owner: Option<(u32, u32)>,
}

impl<'a> Atomic<'a> {
    /// A file of exactly `mode`, its temp file named `prefix…` beside it.
    pub const fn new(mode: u32, prefix: &'a str) -> Atomic<'a> {
        Atomic {
            mode,
            prefix,
            suffix: "",
            temp_dir: None,
            owner: None,
        }
    }

    /// A file that keeps the mode of the one it replaces (a user's `.unleak.toml` or `.gitignore`),
    /// `mode` when there is none.
    pub fn keeping_mode(path: &Path, mode: u32, prefix: &'a str) -> Atomic<'a> {
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(mode);
        Atomic::new(mode, prefix)
    }
}

/// Which part of a write failed, so a caller can say what the disk now holds: before [`Step::Replace`]
/// nothing was written (the target is as it was); at [`Step::SyncDir`] the new file is in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The temp file (or the new file, for [`create_new`]) could not be created.
    Create,
    /// Its bytes could not be written or synced to disk.
    Write,
    /// The rename over the target failed.
    Replace,
    /// The directory could not be synced after the rename.
    SyncDir,
}

/// A failed write: "cannot write PATH", caused by the I/O error, and the [`Step`] it failed at.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}", path.display())]
pub struct WriteError {
    /// The file that was to be written.
    pub path: std::path::PathBuf,
    /// Where the write stopped.
    pub step: Step,
    #[source]
    source: io::Error,
}

impl WriteError {
    fn at(path: &Path, step: Step) -> impl FnOnce(io::Error) -> WriteError + '_ {
        move |source| WriteError {
            path: path.to_path_buf(),
            step,
            source,
        }
    }

    /// The I/O error underneath, for a caller that words the failure itself.
    pub fn into_io(self) -> io::Error {
        self.source
    }

    /// The kind of the I/O error underneath (`AlreadyExists` for [`create_new`]'s taken name).
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }
}

/// Writes `bytes` to `target` through a temp file: mode set first, then write, fsync, rename over
/// `target`, fsync the directory (so the rename itself survives a crash). A symlink at `target` is
/// replaced, never written through: a caller that means to follow one resolves it first.
pub fn write_atomic(target: &Path, bytes: &[u8], opts: &Atomic<'_>) -> Result<(), WriteError> {
    stage(target, bytes, opts)?.commit()
}

/// The first half of [`write_atomic`]: the new content in a synced temp file, ready to rename over
/// `target` with [`Staged::commit`] (dropped instead, the temp file is removed and nothing changed).
/// A caller that must do something between the two (keep a backup of the old file) stages first.
pub fn stage(target: &Path, bytes: &[u8], opts: &Atomic<'_>) -> Result<Staged, WriteError> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(opts.prefix)
        .suffix(opts.suffix)
        .permissions(Permissions::from_mode(opts.mode))
        .tempfile_in(opts.temp_dir.unwrap_or(dir))
        .map_err(WriteError::at(target, Step::Create))?;
    let wrote = (|| {
        // The builder's mode passes through the umask; the file gets exactly `mode`.
        temp.as_file()
            .set_permissions(Permissions::from_mode(opts.mode))?;
        if let Some((uid, gid)) = opts.owner {
            let _ = std::os::unix::fs::fchown(temp.as_file(), Some(uid), Some(gid));
        }
        temp.write_all(bytes)?;
        temp.as_file().sync_all()
    })();
    wrote.map_err(WriteError::at(target, Step::Write))?;
    Ok(Staged {
        temp,
        target: target.to_path_buf(),
        dir: dir.to_path_buf(),
    })
}

/// A new file's content on disk under a temp name, not yet in place.
pub struct Staged {
    temp: tempfile::NamedTempFile,
    target: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl Staged {
    /// Renames the temp file over the target and syncs the directory.
    pub fn commit(self) -> Result<(), WriteError> {
        let Staged { temp, target, dir } = self;
        temp.persist(&target)
            .map_err(|e| WriteError::at(&target, Step::Replace)(e.error))?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(WriteError::at(&target, Step::SyncDir))
    }
}

/// Creates `path`, which must not exist yet (a symlink there counts as existing: `O_EXCL` never follows
/// one), with exactly `mode` from the first instant, writes `bytes` and syncs them to disk. For a file
/// whose name is fresh by construction: a backup, a private file in a new private directory.
pub fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(WriteError::at(path, Step::Create))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(WriteError::at(path, Step::Write))
}

/// Creates `dir` (and its parents) and makes it 0700, for files that hold a secret or name one;
/// refuses a symlink in its place (it could lead anywhere).
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        anyhow::bail!("{} is a symlink; nothing was written", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(dir, Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        std::fs::write(&target, b"old").unwrap();
        let opts = Atomic::new(0o600, ".test-");
        write_atomic(&target, b"new", &opts).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    /// `create_new` never writes through a name that exists, a symlink included: the link's target is
    /// left as it was.
    #[test]
    fn create_new_refuses_a_link_in_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, b"theirs").unwrap();
        let link = dir.path().join("private.txt");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let err = create_new(&link, b"secret", 0o600).unwrap_err();
        assert_eq!(err.step, Step::Create);
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"theirs");
    }

    /// A staged write that is dropped instead of committed leaves the target and the directory as
    /// they were; a file's mode is kept when asked.
    #[test]
    fn a_dropped_stage_changes_nothing_and_modes_can_be_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("kept.txt");
        std::fs::write(&target, b"old").unwrap();
        std::fs::set_permissions(&target, Permissions::from_mode(0o640)).unwrap();
        let opts = Atomic::keeping_mode(&target, 0o644, ".test-");
        drop(stage(&target, b"new", &opts).unwrap());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        write_atomic(&target, b"new", &opts).unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            (std::fs::read(&target).unwrap(), mode),
            (b"new".to_vec(), 0o640)
        );
    }
}
