//! The one atomic writer: every file unleak writes (reports, records, scripts, hooks, `.env` through
//! [`crate::dotenv::write_private`]'s policy) is either the old file or the whole new one, never half.

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
    let check = |meta: std::fs::Metadata| {
        if !meta.is_file() {
            return Err(refuse(format!(
                "{} is not a regular file (a FIFO or a device would hang the read)",
                path.display()
            )));
        }
        if meta.len() > cap {
            return Err(refuse(format!(
                "{} is larger than {cap} bytes, more than such a file ever holds",
                path.display()
            )));
        }
        Ok(())
    };
    check(std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    check(file.metadata()?)?;
    let mut out = Vec::new();
    file.take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(refuse(format!("{} grew past {cap} bytes", path.display())));
    }
    Ok(out)
}

/// How [`write_atomic`] creates the file.
pub struct Atomic<'a> {
    /// Permission bits, set on the temp file before the first byte is written (so a private file is
    /// never readable by others, not even while it is being written).
    pub mode: u32,
    /// The temp file's name prefix: a dot-file beside the target until the rename.
    pub prefix: &'a str,
}

/// Writes `bytes` to `target` through a temp file in the same directory: mode set first, then write,
/// fsync, rename over `target`, fsync the directory (so the rename itself survives a crash).
pub fn write_atomic(target: &Path, bytes: &[u8], opts: &Atomic<'_>) -> io::Result<()> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(opts.prefix)
        .permissions(Permissions::from_mode(opts.mode))
        .tempfile_in(dir)?;
    // The builder's mode passes through the umask; the file gets exactly `mode`.
    temp.as_file()
        .set_permissions(Permissions::from_mode(opts.mode))?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(target).map_err(|e| e.error)?;
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.txt");
        std::fs::write(&target, b"old").unwrap();
        let opts = Atomic {
            mode: 0o600,
            prefix: ".test-",
        };
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
}
