//! Refs and revision walks: ref names, ancestry, revisions typed by the user, and the commits of a
//! range or a push.

use super::{Error, Oid, Repo, Result};

impl Repo {
    /// Every ref's full name (`refs/heads/main`, `refs/original/…`).
    pub(crate) fn reference_names(&self) -> Result<Vec<String>> {
        let references = self
            .git
            .references()
            .map_err(Error::libgit2("cannot list refs"))?;
        Ok(references
            .flatten()
            .filter_map(|r| r.name().ok().map(str::to_string))
            .collect())
    }

    /// Whether `commit` is a descendant of `ancestor` (false when either cannot be read).
    pub(crate) fn is_descendant(&self, commit: Oid, ancestor: Oid) -> bool {
        self.git
            .graph_descendant_of(commit.into(), ancestor.into())
            .unwrap_or(false)
    }

    /// The targets of the remote-tracking refs (`refs/remotes/*`).
    pub(crate) fn remote_tracking_tips(&self) -> Vec<Oid> {
        self.git
            .references_glob("refs/remotes/*")
            .map(|refs| {
                refs.flatten()
                    .filter_map(|r| r.target().map(Oid::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The commit a revision (`HEAD~2`, `origin/main`, an id) names: `Err` when it names nothing,
    /// `Ok(None)` when it names something that is not a commit.
    pub(crate) fn rev_parse_commit(&self, rev: &str) -> Result<Option<Oid>> {
        let object = self.git.revparse_single(rev)?;
        Ok(object.peel_to_commit().ok().map(|c| c.id().into()))
    }

    /// The commits `to` has and `from` has not, newest first.
    pub(crate) fn commits_in_range(&self, from: Oid, to: Oid) -> Result<Vec<Oid>> {
        let mut walk = self
            .git
            .revwalk()
            .map_err(Error::libgit2("cannot walk history"))?;
        walk.push(to.into())?;
        walk.hide(from.into())
            .map_err(Error::libgit2(format!("cannot walk back from {from}")))?;
        let mut out = Vec::new();
        for oid in walk {
            out.push(
                oid.map_err(Error::libgit2(
                    "cannot walk the range (a shallow clone missing commits?)",
                ))?
                .into(),
            );
        }
        Ok(out)
    }

    /// The commits a push would send, from git's pre-push lines (`local-ref local-oid remote-ref
    /// remote-oid`): for each update, what `local-oid` has that the destination has: the remote's old
    /// tip, and, when `destination` names a remote of this clone, what its remote-tracking refs hold
    /// (as last fetched). Commits only another remote has are checked: pushing them here publishes
    /// them here. Without a destination every commit `local-oid` reaches is checked. Deletions send
    /// nothing.
    pub(crate) fn commits_pushed(
        &self,
        updates: &[(Oid, Oid)],
        destination: Option<&str>,
    ) -> Result<Vec<Oid>> {
        let remote_refs = destination
            .filter(|name| self.git.find_remote(name).is_ok())
            .map(|name| format!("refs/remotes/{name}/*"));
        let mut out: Vec<Oid> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for &(local, remote) in updates {
            if local.is_zero() {
                continue;
            }
            let mut walk = self
                .git
                .revwalk()
                .map_err(Error::libgit2("cannot walk history"))?;
            walk.push(local.into()).map_err(Error::libgit2(format!(
                "cannot read the commit to push ({local})"
            )))?;
            if !remote.is_zero() && self.git.find_commit(remote.into()).is_ok() {
                walk.hide(remote.into())?;
            }
            if let Some(glob) = &remote_refs {
                walk.hide_glob(glob)?;
            }
            for oid in walk {
                let oid =
                    Oid::from(oid.map_err(Error::libgit2("cannot walk the commits to push"))?);
                if seen.insert(oid) {
                    out.push(oid);
                }
            }
        }
        Ok(out)
    }
}
