//! The index and the changes a commit makes: what the staged index adds to HEAD, what a commit adds to
//! its parents, and where hooks live.

use super::{Error, Result};
use super::{Oid, Repo};
use git2::{Delta, DiffOptions, Index};
use std::path::{Path, PathBuf};

/// A path a change adds or modifies (submodule entries left out).
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) path: Vec<u8>,
    /// The blob at the path after the change.
    pub(crate) new: Oid,
    /// The blob before it (in the first parent); zero for a new path.
    pub(crate) old: Oid,
}

/// Additions, modifications, renames, copies and type changes; not deletions, not submodules.
fn added_paths(diff: &git2::Diff<'_>) -> Vec<Change> {
    let mut out = Vec::new();
    for delta in diff.deltas() {
        if !matches!(
            delta.status(),
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange
        ) || delta.new_file().mode() == git2::FileMode::Commit
        {
            continue;
        }
        out.push(Change {
            path: delta.new_file().path_bytes().unwrap_or_default().to_vec(),
            new: delta.new_file().id().into(),
            old: delta.old_file().id().into(),
        });
    }
    out
}

impl Repo {
    /// The paths the index git is committing adds or changes relative to HEAD. That index is
    /// `index_file` (`$GIT_INDEX_FILE`, as `config` resolved it: git sets it for `git commit -a` and
    /// `git commit <paths>`), else the repository's.
    pub(crate) fn staged_changes(&self, index_file: Option<&Path>) -> Result<Vec<Change>> {
        let index = self.commit_index(index_file)?;
        let head_tree = match self.head_commit() {
            Some(commit) => Some(
                self.git
                    .find_commit(commit.into())
                    .and_then(|c| c.tree())
                    .map_err(Error::libgit2("cannot read HEAD's tree"))?,
            ),
            None => None,
        };
        let mut options = DiffOptions::new();
        options.ignore_submodules(true);
        let diff = self
            .git
            .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut options))
            .map_err(Error::libgit2("cannot compare the index with HEAD"))?;
        Ok(added_paths(&diff))
    }

    /// The index git is committing (see [`Repo::staged_changes`]).
    fn commit_index(&self, index_file: Option<&Path>) -> Result<Index> {
        if let Some(path) = index_file {
            return Index::open(path).map_err(Error::libgit2(format!(
                "cannot read the index git is committing ({})",
                path.display()
            )));
        }
        self.git
            .index()
            .map_err(Error::libgit2("cannot read the index"))
    }

    /// The paths commit `id` adds relative to every parent (the same blob at the same path in each
    /// diff), with the first parent's blob as `old`. In a shallow clone a missing parent is an error.
    pub(crate) fn commit_changes(&self, id: Oid) -> Result<Vec<Change>> {
        let commit = self
            .git
            .find_commit(id.into())
            .map_err(Error::libgit2(format!("cannot read commit {id}")))?;
        let tree = commit
            .tree()
            .map_err(Error::libgit2(format!("cannot read {id}'s tree")))?;
        let mut parents = Vec::new();
        for i in 0..commit.parent_count() {
            let parent = commit.parent(i).map_err(Error::libgit2(format!(
                "the parent of {id} is not in this clone (shallow?): deepen the clone to the range's base"
            )))?;
            parents.push(
                parent
                    .tree()
                    .map_err(Error::libgit2("cannot read a parent's tree"))?,
            );
        }
        let mut added: Option<Vec<Change>> = None;
        let bases: Vec<Option<&git2::Tree<'_>>> = if parents.is_empty() {
            vec![None]
        } else {
            parents.iter().map(Some).collect()
        };
        for base in &bases {
            let mut options = DiffOptions::new();
            options.ignore_submodules(true);
            let diff = self
                .git
                .diff_tree_to_tree(*base, Some(&tree), Some(&mut options))
                .map_err(Error::libgit2(format!("cannot diff {id} with its parent")))?;
            let here = added_paths(&diff);
            added = Some(match added {
                None => here,
                Some(prev) => prev
                    .into_iter()
                    .filter(|p| here.iter().any(|q| p.path == q.path && p.new == q.new))
                    .collect(),
            });
        }
        Ok(added.unwrap_or_default())
    }

    /// The directory git runs hooks from: `core.hooksPath` when set (relative to the working tree's
    /// top, as git reads it), else `hooks` in the common git directory, which linked worktrees share.
    pub(crate) fn hooks_dir(&self) -> Result<PathBuf> {
        let config = self
            .git
            .config()
            .map_err(Error::libgit2("cannot read the repository's git config"))?;
        if let Ok(path) = config.get_path("core.hooksPath") {
            if path.is_absolute() {
                return Ok(path);
            }
            let base: &Path = self.workdir.as_deref().unwrap_or(&self.git_dir);
            return Ok(base.join(path));
        }
        Ok(self.git.commondir().join("hooks"))
    }
}
