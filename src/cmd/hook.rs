//! `unleak hook install|uninstall|run`: the pre-commit, commit-msg and pre-push hooks (see `hook`).

use crate::config::{HookConfig, HookJob};
use crate::exit_codes::ExitCode;
use crate::hook::{install, run as check};
use anyhow::Result;

/// Runs `unleak hook`: installs or removes the hooks asked for, or checks (`hook run`) what a hook is
/// about to let through.
pub(crate) fn run(config: HookConfig) -> Result<ExitCode> {
    let path = config.repo.as_path();
    let quiet = config.globals.quiet;
    match &config.job {
        HookJob::Install { force, hooks } => install::install_hooks(path, hooks, *force, quiet),
        HookJob::Uninstall { hooks } => install::uninstall_hooks(path, hooks, quiet),
        HookJob::CheckMessage(file) => check::check_message(path, file),
        HookJob::CheckPush(destination) => check::check_push(
            path,
            destination.as_deref(),
            config.framework_remote.as_deref(),
            config.framework_refs.as_ref(),
        ),
        HookJob::CheckStaged => check::check(path, config.index_file.as_deref()),
    }
}
