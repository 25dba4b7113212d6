//! The one door into git: opening a repository, its refs, reflogs, stash entries, remotes, index and
//! working tree, and (in [`pack`]) our own pack reader. Nothing outside this module names `git2`, so
//! the rest of unleak sees plain data. What fails in here fails as an [`Error`] of a kind the caller
//! can tell apart, never as `anyhow`.

pub(crate) mod blob;
pub mod command;
mod error;
pub(crate) mod format;
pub mod odb;
pub mod oid;
pub mod pack;
pub(crate) mod refs;
pub(crate) mod remote;
pub(crate) mod worktree;

use crate::model::RemoteInfo;
pub use error::Error;
pub(crate) use error::{chain_text, Result};
use git2::{ObjectType, Repository};
pub use oid::Oid;
use pack::ObjectKind;
use std::path::{Path, PathBuf};

/// An opened repository and what we learned about its shape.
pub struct Repo {
    git: Repository,
    /// The `.git` directory (for a linked worktree, its own git dir).
    pub(crate) git_dir: PathBuf,
    /// The working tree root; None for a bare repository.
    pub(crate) workdir: Option<PathBuf>,
    /// Object directories: the common one plus any alternates.
    pub(crate) objects_dirs: Vec<PathBuf>,
    pub(crate) shallow: bool,
    pub(crate) partial: bool,
    /// The repository as reports name it (see [`Repo::shown_path`]), spelled once when it is opened.
    shown: String,
    /// Objects the scan's own reader found damaged: libgit2 is never asked for them, since its inflate
    /// spins forever on a truncated loose object.
    unreadable: std::sync::RwLock<std::collections::HashSet<Oid>>,
}

/// A named pointer into history: a ref, a reflog entry, or a stash entry.
#[derive(Debug, Clone)]
pub struct Tip {
    /// Full name: `refs/heads/main`, `HEAD`, `refs/stash@{1}`, `HEAD@{3}`.
    pub(crate) name: String,
    /// The object it points to (a commit, or an annotated tag for tags).
    pub(crate) target: Oid,
    pub(crate) kind: TipKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TipKind {
    /// A ref (or HEAD): what keeps objects alive and what a push sends.
    Ref,
    /// An older stash entry (`refs/stash@{n}`, n >= 1): kept alive by the stash reflog.
    Stash,
    /// Any other reflog entry: local history only, expires with `git reflog expire`.
    Reflog,
}

impl Repo {
    /// Opens the repository at or above `path`, with messages a user can act on.
    pub fn open(path: &Path) -> Result<Repo> {
        if !path.exists() {
            return Err(Error::NoSuchPath(path.to_path_buf()));
        }
        // libgit2 reads `shallow` while it opens the repository: its git dir is checked first.
        if let Some(git_dir) = likely_git_dir(path) {
            refuse_special_files(&git_dir, &git_dir)?;
        }
        let git = Repository::discover(path).map_err(|err| open_error(path, &err))?;
        let format = git
            .config()
            .ok()
            .and_then(|c| c.get_string("extensions.objectformat").ok());
        if format.is_some_and(|f| !f.eq_ignore_ascii_case("sha1")) {
            return Err(Error::Sha256 {
                path: path.to_path_buf(),
                detail: None,
            });
        }
        let git_dir = git.path().to_path_buf();
        refuse_special_files(&git_dir, git.commondir())?;
        let workdir = git.workdir().map(Path::to_path_buf);
        let objects = git.commondir().join("objects");
        let objects_dirs = with_alternates(&objects);
        let shallow = git.is_shallow();
        let partial = is_partial_clone(&git);
        // libgit2 ends a work tree's path with `/`: rebuilt from its components, one spelling for
        // every command.
        let shown = workdir
            .as_deref()
            .unwrap_or(&git_dir)
            .components()
            .collect::<PathBuf>()
            .display()
            .to_string();
        Ok(Repo {
            git,
            git_dir,
            workdir,
            objects_dirs,
            shallow,
            partial,
            shown,
            unreadable: Default::default(),
        })
    }

    /// Records objects that could not be read, so later libgit2 reads skip them.
    pub(crate) fn mark_unreadable(&self, oids: impl IntoIterator<Item = Oid>) {
        if let Ok(mut set) = self.unreadable.write() {
            set.extend(oids);
        }
    }

    /// Whether libgit2 may be asked for `oid` (it was not found damaged).
    pub(crate) fn may_read(&self, oid: Oid) -> bool {
        self.unreadable
            .read()
            .map_or(true, |set| !set.contains(&oid))
    }

    /// Whether any object was found damaged.
    pub(crate) fn has_unreadable(&self) -> bool {
        self.unreadable.read().is_ok_and(|set| !set.is_empty())
    }

    /// Every ref (peeled to what it names directly), HEAD when detached, every stash entry and every
    /// reflog entry. Reflog entries that equal their ref's tip are left out: the ref already says it.
    pub(crate) fn tips(&self) -> Result<Vec<Tip>> {
        let mut tips = Vec::new();
        let mut ref_names = Vec::new();
        for reference in self
            .git
            .references()
            .map_err(Error::libgit2("cannot list refs"))?
        {
            let Ok(reference) = reference else { continue };
            let Some(name) = reference.name().ok().map(str::to_string) else {
                continue;
            };
            let resolved = match reference.resolve() {
                Ok(r) => r,
                Err(_) => continue,
            };
            if let Some(target) = resolved.target() {
                tips.push(Tip {
                    name: name.clone(),
                    target: target.into(),
                    kind: TipKind::Ref,
                });
            }
            ref_names.push(name);
        }
        if let Ok(head) = self.git.head() {
            if let (Some(target), true) = (head.target(), self.git.head_detached().unwrap_or(false))
            {
                tips.push(Tip {
                    name: "HEAD".into(),
                    target: target.into(),
                    kind: TipKind::Ref,
                });
            }
        }
        ref_names.push("HEAD".into());
        for name in ref_names {
            // libgit2 creates an empty reflog file when asked to read one that does not exist (and git then
            // starts logging that ref): ask first, so a read-only command writes nothing.
            if !self.git.reference_has_log(&name).unwrap_or(false) {
                continue;
            }
            let Ok(reflog) = self.git.reflog(&name) else {
                continue;
            };
            for (i, entry) in reflog.iter().enumerate() {
                let target = Oid::from(entry.id_new());
                if target.is_zero() {
                    continue;
                }
                if name == "refs/stash" {
                    if i > 0 {
                        tips.push(Tip {
                            name: format!("refs/stash@{{{i}}}"),
                            target,
                            kind: TipKind::Stash,
                        });
                    }
                    continue;
                }
                tips.push(Tip {
                    name: format!("{name}@{{{i}}}"),
                    target,
                    kind: TipKind::Reflog,
                });
            }
        }
        Ok(tips)
    }

    /// The commit HEAD points to, if any (an empty repository has none).
    pub(crate) fn head_commit(&self) -> Option<Oid> {
        let target = self.git.head().ok()?.resolve().ok()?.target()?;
        self.peel_to_commit(target.into())
    }

    /// Index entries as (path bytes, blob id); empty for a bare repository.
    pub(crate) fn index_entries(&self) -> Vec<(Vec<u8>, Oid)> {
        if self.workdir.is_none() {
            return Vec::new();
        }
        let Ok(index) = self.git.index() else {
            return Vec::new();
        };
        index.iter().map(|e| (e.path, e.id.into())).collect()
    }

    /// Files of the working tree that git would commit: tracked ones and untracked, not ignored ones.
    pub(crate) fn worktree_candidates(&self) -> Vec<PathBuf> {
        let Some(workdir) = &self.workdir else {
            return Vec::new();
        };
        // libgit2's status reads HEAD's tree: with damaged objects, list tracked files from the index and
        // walk the work tree for untracked ones that are not ignored.
        if self.has_unreadable() {
            let mut out: Vec<PathBuf> = self
                .index_entries()
                .into_iter()
                .filter_map(|(path, _)| path_from_bytes(&path).map(|p| workdir.join(p)))
                .collect();
            let mut stack = vec![workdir.clone()];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    if entry.file_name() == ".git" || path.starts_with(&self.git_dir) {
                        continue;
                    }
                    let relative = path.strip_prefix(workdir).unwrap_or(&path);
                    if self.git.status_should_ignore(relative).unwrap_or(false) {
                        continue;
                    }
                    match entry.file_type() {
                        Ok(t) if t.is_dir() => stack.push(path),
                        Ok(t) if t.is_file() => out.push(path),
                        _ => {}
                    }
                }
            }
            out.sort();
            out.dedup();
            return out;
        }
        let mut options = git2::StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_unmodified(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let Ok(statuses) = self.git.statuses(Some(&mut options)) else {
            return Vec::new();
        };
        statuses
            .iter()
            .filter(|s| !s.status().contains(git2::Status::WT_DELETED))
            .filter_map(|s| path_from_bytes(s.path_bytes()).map(|p| workdir.join(p)))
            .collect()
    }

    /// Files of the working tree git ignores (never committed, but on disk: a notebook checkpoint, a
    /// log), at most `max` of them; regular files only (a symlink is not followed), and no directory
    /// that holds another repository or a package cache.
    pub(crate) fn ignored_files(&self, max: usize) -> Vec<PathBuf> {
        const SKIP: &[&str] = &[
            ".git",
            "node_modules",
            ".venv",
            "venv",
            "target",
            "__pycache__",
            ".tox",
            ".mypy_cache",
            "site-packages",
        ];
        let Some(workdir) = &self.workdir else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // (directory, everything below it is ignored)
        let mut stack = vec![(workdir.clone(), false)];
        while let Some((dir, ignored)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let path = entry.path();
                if SKIP.iter().any(|s| name == *s) || path.starts_with(&self.git_dir) {
                    continue;
                }
                let relative = path.strip_prefix(workdir).unwrap_or(&path);
                let here = ignored || self.git.status_should_ignore(relative).unwrap_or(false);
                match entry.file_type() {
                    Ok(t) if t.is_dir() => stack.push((path, here)),
                    Ok(t) if t.is_file() && here => {
                        out.push(path);
                        if out.len() >= max {
                            return out;
                        }
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        out
    }

    /// Paths of submodules in HEAD's tree (gitlinks), which the scan does not enter.
    pub(crate) fn submodule_paths(&self) -> Vec<String> {
        // libgit2 reads HEAD's tree for this: with damaged objects, the index's gitlinks say it instead.
        if self.has_unreadable() {
            let Ok(index) = self.git.index() else {
                return Vec::new();
            };
            return index
                .iter()
                .filter(|e| e.mode == 0o160000)
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
        }
        self.git
            .submodules()
            .map(|subs| {
                subs.iter()
                    .map(|s| s.path().display().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Peels an object id through annotated tags to the commit it names, if it names one.
    pub(crate) fn peel_to_commit(&self, oid: Oid) -> Option<Oid> {
        let mut oid = oid;
        // A tag of a tag of …: a chain this long is damage or malice, not history.
        for _ in 0..64 {
            if !self.may_read(oid) {
                return None;
            }
            let object = self.git.find_object(oid.into(), None).ok()?;
            match object.kind() {
                Some(ObjectType::Commit) => return Some(oid),
                Some(ObjectType::Tag) => oid = object.as_tag()?.target_id().into(),
                _ => return None,
            }
        }
        None
    }

    /// One object's kind and content, read through libgit2 (for the few objects read again by id).
    pub(crate) fn read_object(&self, oid: Oid) -> Option<(ObjectKind, Vec<u8>)> {
        let odb = self.git.odb().ok()?;
        let object = odb.read(oid.into()).ok()?;
        Some((odb::kind_of(object.kind())?, object.data().to_vec()))
    }

    /// The entries of a tree (name, id, kind), read through libgit2.
    pub(crate) fn tree_entries(&self, oid: Oid) -> Option<Vec<TreeEntry>> {
        let tree = self.git.find_tree(oid.into()).ok()?;
        let entries = tree
            .iter()
            .map(|e| {
                (
                    e.name_bytes().to_vec(),
                    e.id().into(),
                    e.kind().and_then(odb::kind_of),
                )
            })
            .collect();
        Some(entries)
    }
    /// How large an object is, from its header alone (nothing inflated for a packed base).
    pub(crate) fn object_size(&self, oid: Oid) -> Option<u64> {
        let odb = self.git.odb().ok()?;
        odb.read_header(oid.into())
            .ok()
            .map(|(size, _)| size as u64)
    }

    /// A blob's content.
    /// The file at `path` (from the root) in `commit`'s tree, or None when the commit has no blob there.
    pub(crate) fn file_at(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>, Error> {
        let tree = self.git.find_commit(commit.into())?.tree()?;
        let Ok(entry) = tree.get_path(std::path::Path::new(path)) else {
            return Ok(None);
        };
        match entry.to_object(&self.git)?.into_blob() {
            Ok(blob) => Ok(Some(blob.content().to_vec())),
            Err(_) => Ok(None),
        }
    }

    pub(crate) fn read_blob(&self, oid: Oid) -> Result<Vec<u8>, Error> {
        Ok(self.git.find_blob(oid.into())?.content().to_vec())
    }

    /// Whether the database holds `oid` as a commit libgit2 can read.
    pub(crate) fn has_commit(&self, oid: Oid) -> bool {
        self.git.find_commit(oid.into()).is_ok()
    }

    /// A commit's author, message and tree.
    pub(crate) fn commit_meta(&self, oid: Oid) -> Result<CommitMeta, Error> {
        let commit = self.git.find_commit(oid.into())?;
        let author = Signature::of(&commit.author());
        Ok(CommitMeta {
            author,
            summary: commit.summary_bytes().map(<[u8]>::to_vec),
            message: commit.message_bytes().to_vec(),
            tree: commit.tree_id().into(),
        })
    }

    /// An annotated tag's tagger, when the tag has one.
    pub(crate) fn tagger(&self, oid: Oid) -> Option<Signature> {
        let tag = self.git.find_tag(oid.into()).ok()?;
        tag.tagger().map(|s| Signature::of(&s))
    }

    /// The repository as reports name it: the work tree's root (the git dir when bare), without the
    /// `/` libgit2 ends a work tree's path with. One spelling for every command.
    pub(crate) fn shown_path(&self) -> &str {
        &self.shown
    }

    /// The repository's identity in a report: its path, shape, HEAD, and the `remotes` the caller
    /// looked up (none for a range audit). Every report's repository is built here.
    pub(crate) fn info(&self, remotes: Vec<RemoteInfo>) -> crate::model::RepositoryInfo {
        crate::model::RepositoryInfo {
            path: self.shown.clone(),
            bare: self.workdir.is_none(),
            shallow: self.shallow,
            partial: self.partial,
            head: self.head_commit().map(|c| c.to_string()),
            remotes,
        }
    }

    /// The git directory linked worktrees share (the repository's own for a plain clone).
    pub(crate) fn common_dir(&self) -> PathBuf {
        self.git.commondir().to_path_buf()
    }
}

/// The repository around a path, found the way git finds it (walking up to a `.git`), for the
/// commands that need only its places and its index, not a scan.
pub(crate) struct Discovered {
    git: Repository,
}

/// The repository `path` is in, if any.
pub(crate) fn discover(path: &Path) -> Option<Discovered> {
    Repository::discover(path)
        .ok()
        .map(|git| Discovered { git })
}

/// The repository whose working tree (or git directory) is exactly `path`.
pub(crate) fn open_at(path: &Path) -> Result<Discovered, Error> {
    Ok(Discovered {
        git: Repository::open(path)?,
    })
}

impl Discovered {
    /// The working tree root; None for a bare repository.
    pub(crate) fn workdir(&self) -> Option<&Path> {
        self.git.workdir()
    }

    /// The `.git` directory (for a linked worktree, its own git dir).
    pub(crate) fn git_dir(&self) -> &Path {
        self.git.path()
    }

    /// The git directory linked worktrees share.
    pub(crate) fn common_dir(&self) -> &Path {
        self.git.commondir()
    }

    /// Whether the index holds `rel` (a path relative to the working tree's top).
    pub(crate) fn is_tracked(&self, rel: &Path) -> Result<bool, Error> {
        Ok(self.git.index()?.get_path(rel, 0).is_some())
    }

    /// Removes `rel` from the index (the file stays on disk) and writes the index.
    pub(crate) fn untrack(&self, rel: &Path) -> Result<(), Error> {
        let mut index = self.git.index()?;
        index.remove_path(rel)?;
        Ok(index.write()?)
    }

    /// Git's own answer to "is `rel` ignored?" (`git check-ignore --no-index`, which knows that git
    /// skips a symlinked `.gitignore`), from a hardened git child run in `workdir`; libgit2's answer
    /// only when git cannot run.
    pub(crate) fn is_ignored(
        &self,
        workdir: &Path,
        rel: &Path,
        spawner: &crate::child::Spawner,
    ) -> Result<bool, Error> {
        let status = command::git(spawner)
            .current_dir(workdir)
            .args(["check-ignore", "-q", "--no-index", "--"])
            .arg(rel)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        match status.ok().and_then(|s| s.code()) {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Ok(self.git.is_path_ignored(rel)?),
        }
    }
}

/// One entry of a tree: name, id, and kind (None for a kind libgit2 does not know).
pub(crate) type TreeEntry = (Vec<u8>, Oid, Option<ObjectKind>);

/// `cause` in plain words when it is the door's [`Error`] (see [`Error::plain`]); None for any other
/// error. No libgit2 error leaves the door except inside an [`Error`], so this one question suffices.
pub(crate) fn plain_message(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    cause.downcast_ref::<Error>().map(Error::plain)
}

/// Who made a commit or tag, and when (seconds since the epoch, in their recorded offset).
#[derive(Debug, Clone)]
pub(crate) struct Signature {
    pub(crate) name: Vec<u8>,
    pub(crate) email: Vec<u8>,
    pub(crate) seconds: i64,
    pub(crate) offset_minutes: i32,
}

impl Signature {
    fn of(sig: &git2::Signature<'_>) -> Signature {
        Signature {
            name: sig.name_bytes().to_vec(),
            email: sig.email_bytes().to_vec(),
            seconds: sig.when().seconds(),
            offset_minutes: sig.when().offset_minutes(),
        }
    }
}

/// What provenance and range audits read of a commit besides its place in the graph.
#[derive(Debug, Clone)]
pub(crate) struct CommitMeta {
    pub(crate) author: Signature,
    /// The first paragraph of the message, as one line (libgit2's summary).
    pub(crate) summary: Option<Vec<u8>>,
    pub(crate) message: Vec<u8>,
    pub(crate) tree: Oid,
}

/// A message the user can act on for a repository libgit2 would not open.
fn open_error(path: &Path, err: &git2::Error) -> Error {
    let path = path.to_path_buf();
    let message = err.message().to_string();
    match err.code() {
        git2::ErrorCode::NotFound => Error::NotARepository(path),
        git2::ErrorCode::Owner => Error::NotOwned { path, message },
        // libgit2 refuses SHA-256 repositories before we can look at their config.
        _ if message.contains("object format") => Error::Sha256 {
            path,
            detail: Some(message),
        },
        _ => Error::CannotOpen { path, message },
    }
}

fn path_from_bytes(bytes: &[u8]) -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).ok().map(PathBuf::from)
    }
}

fn is_partial_clone(git: &Repository) -> bool {
    let Ok(config) = git.config() else {
        return false;
    };
    if config.get_string("extensions.partialclone").is_ok() {
        return true;
    }
    let mut promisor = false;
    if let Ok(mut entries) = config.entries(Some(r"remote\..*\.promisor")) {
        while let Some(Ok(entry)) = entries.next() {
            promisor |= entry.value().ok() == Some("true");
        }
    }
    promisor
}

/// Files libgit2 and unleak read whole after the repository is opened: a FIFO or a device in their
/// place would hang the run or fill its memory (libgit2 reads what it is given), so each must be a
/// regular file when it exists. (`HEAD` and `config` are read while the repository is discovered.)
fn refuse_special_files(git_dir: &Path, common: &Path) -> Result<()> {
    let files = [
        common.join("packed-refs"),
        common.join("shallow"),
        common.join("objects/info/alternates"),
        git_dir.join("index"),
        git_dir.join("unleak/incident.json"),
    ];
    for file in files {
        if std::fs::metadata(&file).is_ok_and(|meta| !meta.is_file()) {
            return Err(Error::SpecialFile(file));
        }
    }
    Ok(())
}

/// The git directory discovery will most likely open from `path`: the first ancestor's `.git`
/// directory, or the first ancestor that looks like a bare repository (`HEAD` and `objects`).
fn likely_git_dir(path: &Path) -> Option<PathBuf> {
    let path = std::path::absolute(path).ok()?;
    path.ancestors().find_map(|dir| {
        let dot_git = dir.join(".git");
        if dot_git.is_dir() {
            Some(dot_git)
        } else if dir.join("HEAD").is_file() && dir.join("objects").is_dir() {
            Some(dir.to_path_buf())
        } else {
            None
        }
    })
}

/// The objects directory plus every alternate it names (recursively, as git does).
fn with_alternates(objects: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![objects.to_path_buf()];
    let mut i = 0;
    while i < dirs.len() && dirs.len() < 16 {
        let file = dirs[i].join("info").join("alternates");
        // A list of paths: 1 MiB is thousands of them; a FIFO or device is refused, not read.
        let read = crate::util::fs::read_regular(&file, 1 << 20).map(String::from_utf8);
        if let Ok(Ok(text)) = read {
            for line in text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                let path = dirs[i].join(line);
                let path = path.canonicalize().unwrap_or(path);
                if !dirs.contains(&path) {
                    dirs.push(path);
                }
            }
        }
        i += 1;
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_of_another_user_gets_the_safe_directory_hint() {
        let err = git2::Error::new(
            git2::ErrorCode::Owner,
            git2::ErrorClass::Config,
            "repository path '/srv/x/' is not owned by current user",
        );
        let text = open_error(Path::new("/srv/x"), &err).to_string();
        assert!(text.contains("not owned by current user"), "{text}");
        assert!(text.contains("safe.directory"), "{text}");
    }
}
