//! The repository `unleak verify` searches: the local one, or with `--remote` a mirror of what the
//! server serves.

use super::Request;
use crate::git::Repo;
use anyhow::{Context, Result};

/// The repository verified: the local one, or with --remote a temporary mirror of what the server
/// serves, outside the repository, in a private directory removed on every exit (Ctrl-C and SIGTERM
/// included). Fields drop in order: the mirror's repository before its directory.
pub(super) struct Target {
    pub(super) repo: Repo,
    _mirror_dir: Option<crate::git::remote::PrivateTempDir>,
}

impl Target {
    /// Opens the local repository, or clones and opens the mirror of `request.remote`.
    pub(super) fn open(local: Repo, request: &Request) -> Result<Target> {
        let Some(remote) = &request.remote else {
            return Ok(Target {
                repo: local,
                _mirror_dir: None,
            });
        };
        let mirror_dir = crate::git::remote::PrivateTempDir::new()?;
        let mirror = mirror_dir.path().join("mirror.git");
        let url = local
            .remote_url(remote)
            .with_context(|| format!("no remote named {remote}"))?
            .with_context(|| format!("remote {remote} has no URL"))?;
        let masked = crate::git::remote::mask_url_credentials(&url);
        let shown = crate::sanitize::for_terminal(&masked);
        crate::git::remote::mirror_clone(
            &local,
            remote,
            &url,
            &shown,
            &mirror_dir,
            &mirror,
            &request.spawner,
        )?;
        Ok(Target {
            repo: Repo::open(&mirror)?,
            _mirror_dir: Some(mirror_dir),
        })
    }
}
