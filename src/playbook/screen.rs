//! What the steps share on screen: a step's heading, an issuer's answer in words, a file offered
//! beside the repository, the settings page opened in a browser. A leaf below every step: it imports
//! no step.

use super::request::{Io, Request};
use crate::git::Repo;
use crate::issuers::huggingface::{TokenStatus, Unreachable};
use anyhow::Result;

/// A step's heading: `[n/7] title`.
pub(super) fn heading(io: &mut Io<'_>, n: u32, title: &str) -> Result<()> {
    writeln!(io.out, "\n[{n}/7] {title}")?;
    Ok(())
}

/// One line for an unreachable API; every later step goes on without it.
pub(super) fn say_unreachable(down: &Unreachable) -> String {
    format!("{down}. Going on without the API (`--offline` skips it from the start).")
}

/// What whoami said, in words (never a debug dump).
pub(super) fn describe_status(status: &TokenStatus) -> String {
    match status {
        TokenStatus::Valid(owner) => format!(
            "the old token still works (whoami answers 200 for user {})",
            owner.user
        ),
        TokenStatus::Invalid => "whoami answers 401 (invalid)".into(),
        TokenStatus::Denied => "whoami answers 403 (denied)".into(),
        TokenStatus::RateLimited => "whoami answers 429 (rate limited)".into(),
        TokenStatus::Unexpected(code) => format!("whoami answers HTTP {code}"),
    }
}

/// Whether a file the flags did not ask for may be offered: only to a person at a terminal, not in a
/// dry run, and not under `--yes` (which answers the questions asked, and asks for no extra files).
pub(super) fn can_offer(request: &Request, io: &Io<'_>) -> bool {
    io.interactive && !request.settings.dry_run && !request.settings.yes
}

/// Offers to write a file beside the repository (never inside it, where it could be committed), at a
/// name that does not exist yet: `<repo>-<suffix>`, then `<repo>-2-<suffix>`, … Returns the accepted path.
pub(super) fn offer_file(
    request: &Request,
    io: &mut Io<'_>,
    repo: &Repo,
    suffix: &str,
    question: &str,
) -> Result<Option<std::path::PathBuf>> {
    if !can_offer(request, io) {
        return Ok(None);
    }
    let root = repo.workdir.clone().unwrap_or_else(|| repo.git_dir.clone());
    let root = root.canonicalize().unwrap_or(root);
    let dir = root.parent().unwrap_or(std::path::Path::new("."));
    let name = root.file_name().map_or("repository".into(), |n| {
        n.to_string_lossy().trim_end_matches(".git").to_string()
    });
    let mut path = dir.join(format!("{name}-{suffix}"));
    let mut n = 2;
    while path.exists() || std::path::Path::new(&format!("{}.json", path.display())).exists() {
        path = dir.join(format!("{name}-{n}-{suffix}"));
        n += 1;
    }
    let flag = if suffix.ends_with(".sh") {
        "--write-script PATH"
    } else {
        "--report PATH"
    };
    if io
        .prompter
        .confirm(&format!("{question} {}?", path.display()), true, flag)?
    {
        Ok(Some(path))
    } else {
        Ok(None)
    }
}

/// Opens `url` in a browser when there is a display (macOS, X11, Wayland); otherwise the printed URL is
/// the way.
pub(super) fn open_browser(request: &Request, url: &str) {
    let has_display =
        request.env.var_os("DISPLAY").is_some() || request.env.var_os("WAYLAND_DISPLAY").is_some();
    if cfg!(target_os = "macos") || has_display {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        let _ = request
            .spawner
            .command(opener)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}
