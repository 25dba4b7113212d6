//! Remotes: their names and URLs (credentials masked), and `verify --remote`'s private mirror clone,
//! which hands credentials in a URL to git through an askpass helper, never on a command line.

use super::{Error, RemoteInfo, Repo, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

impl Repo {
    /// The remotes, their URLs with any credentials masked.
    pub(crate) fn remotes(&self) -> Vec<RemoteInfo> {
        let Ok(names) = self.git.remotes() else {
            return Vec::new();
        };
        names
            .iter()
            .flatten()
            .flatten()
            .map(|name| RemoteInfo {
                name: name.to_string(),
                url: self
                    .git
                    .find_remote(name)
                    .ok()
                    .and_then(|r| r.url().ok().map(mask_url_credentials)),
            })
            .collect()
    }

    /// Every remote's fetch and push URLs as configured, credentials included: for looking for a
    /// token in them, never for showing. (name, is a push URL, URL)
    pub(crate) fn remote_urls_unmasked(&self) -> Vec<(String, bool, String)> {
        let Ok(names) = self.git.remotes() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for name in names.iter().flatten().flatten() {
            let Ok(remote) = self.git.find_remote(name) else {
                continue;
            };
            if let Ok(url) = remote.url() {
                out.push((name.to_string(), false, url.to_string()));
            }
            if let Ok(Some(url)) = remote.pushurl() {
                out.push((name.to_string(), true, url.to_string()));
            }
        }
        out
    }

    /// Sets a remote's fetch (or push) URL in the repository's config: `git remote set-url [--push]`.
    pub(crate) fn set_remote_url(&self, name: &str, push: bool, url: &str) -> Result<()> {
        if push {
            self.git.remote_set_pushurl(name, Some(url))?;
        } else {
            self.git.remote_set_url(name, url)?;
        }
        Ok(())
    }

    /// A remote's URL: `Err` when there is no such remote, `Ok(None)` when it has no (UTF-8) URL.
    pub(crate) fn remote_url(&self, name: &str) -> Result<Option<String>> {
        Ok(self.git.find_remote(name)?.url().ok().map(str::to_string))
    }
}

/// `https://user:secret@host/x` -> `https://***@host/x`: remote URLs can carry tokens too.
pub(crate) fn mask_url_credentials(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{}://***@{}", &url[..scheme_end], &rest[at + 1..]);
        }
    }
    url.to_string()
}

/// `https://user:secret@host/x` -> `https://host/x`: the URL with its credentials removed (git asks for
/// them, or a credential helper gives them).
pub(crate) fn strip_url_credentials(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{}://{}", &url[..scheme_end], &rest[at + 1..]);
        }
    }
    url.to_string()
}

/// How long a `git clone` of the remote may take in all, and how slow it may get before git gives up.
const CLONE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
const CLONE_LOW_SPEED: [&str; 4] = [
    "-c",
    "http.lowSpeedLimit=1000",
    "-c",
    "http.lowSpeedTime=60",
];

/// A 0700 temporary directory (the mirror holds the token, and other users must not read it), removed
/// when dropped and also when the process is interrupted or terminated while it exists.
pub(crate) struct PrivateTempDir {
    dir: Option<tempfile::TempDir>,
}

/// What the signal handler cleans up: the directory, and the clone running into it.
static CLEANUP: Mutex<(Option<PathBuf>, Option<std::process::Child>)> = Mutex::new((None, None));

impl PrivateTempDir {
    pub(crate) fn new() -> Result<PrivateTempDir> {
        let dir = tempfile::Builder::new()
            .prefix("unleak-verify-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .map_err(Error::io("cannot create a temporary directory"))?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).map_err(
            Error::io(format!("cannot make {} private", dir.path().display())),
        )?;
        if let Ok(mut cleanup) = CLEANUP.lock() {
            cleanup.0 = Some(dir.path().to_path_buf());
        }
        // Only one handler per process; an error means one is already set, which cleans up the same.
        let _ = ctrlc::set_handler(|| {
            // The lock is held until the process exits: the loop waiting for the clone must not see the
            // child gone and end the run with an error (exit 2) before this exit code (130).
            let mut guard = CLEANUP.lock();
            if let Ok(cleanup) = guard.as_mut() {
                if let Some(mut child) = cleanup.1.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                if let Some(dir) = cleanup.0.take() {
                    let _ = std::fs::remove_dir_all(dir);
                    eprintln!("unleak: interrupted; removed the temporary mirror");
                }
            }
            std::process::exit(130);
        });
        Ok(PrivateTempDir { dir: Some(dir) })
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .map_or(Path::new("/nonexistent"), |d| d.path())
    }
}

impl Drop for PrivateTempDir {
    fn drop(&mut self) {
        if let Ok(mut cleanup) = CLEANUP.lock() {
            cleanup.0 = None;
        }
        drop(self.dir.take());
    }
}

/// `git clone --mirror --no-local`: only what the remote serves (reachable objects), never its
/// unreachable leftovers, as a local clone's hard links would bring. Credentials in the URL never reach
/// a command line: git gets the URL without them and asks a private askpass helper for them.
///
/// `url` is the remote's URL as configured; `shown` is how messages name it (credentials masked, made
/// safe for a terminal by the caller).
pub(crate) fn mirror_clone(
    local: &Repo,
    remote: &str,
    url: &str,
    shown: &str,
    temp: &PrivateTempDir,
    mirror: &Path,
    spawner: &crate::child::Spawner,
) -> Result<()> {
    let url = url.to_string();
    if let Some(transport) = refused_transport(&url) {
        return Err(Error::Refused(format!(
            "remote {remote} uses the {transport}:: transport ({shown}), which runs a command or reads a \
             file descriptor instead of talking to a server; unleak does not clone it. Verify a clone of \
             the server instead (run `unleak verify` inside it)"
        )));
    }
    // A relative path URL is relative to the repository.
    let url = if Path::new(&url).is_relative() && !url.contains("://") && !url.contains(':') {
        local
            .workdir
            .clone()
            .unwrap_or_else(|| local.git_dir.clone())
            .join(&url)
            .display()
            .to_string()
    } else {
        url
    };
    let (url, credentials) = split_credentials(&url);
    let mut cmd = super::command::git(spawner);
    cmd.args(CLONE_LOW_SPEED);
    if let Some((user, password)) = &credentials {
        let askpass = temp.path().join("askpass");
        crate::util::fs::create_new(
            &askpass,
            b"#!/bin/sh\ncase \"$1\" in\n  Username*) printf '%s\\n' \"$UNLEAK_REMOTE_USER\" ;;\n  *) printf '%s\\n' \"$UNLEAK_REMOTE_PASSWORD\" ;;\nesac\n",
            0o700,
        )?;
        cmd.env("GIT_ASKPASS", &askpass)
            .env("UNLEAK_REMOTE_USER", user.as_str())
            .env("UNLEAK_REMOTE_PASSWORD", password.as_str());
    }
    cmd.args(["clone", "--quiet", "--mirror", "--no-local", "--"])
        .arg(&url)
        .arg(mirror)
        .stdout(std::process::Stdio::null());
    let child = cmd.spawn().map_err(Error::io("cannot run git"))?;
    let pid = child.id();
    if let Ok(mut cleanup) = CLEANUP.lock() {
        cleanup.1 = Some(child);
    }
    let started = Instant::now();
    let status = loop {
        let mut cleanup = CLEANUP
            .lock()
            .map_err(|_| Error::Command("the clean-up state is poisoned".into()))?;
        let Some(child) = cleanup.1.as_mut() else {
            return Err(Error::Command(format!("git clone (pid {pid}) was stopped")));
        };
        if let Some(status) = child.try_wait().map_err(Error::io("cannot wait for git"))? {
            cleanup.1 = None;
            break status;
        }
        if started.elapsed() > CLONE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            cleanup.1 = None;
            return Err(Error::Command(format!(
                "git clone --mirror of remote {remote} ({shown}) took more than {} minutes; stopped it",
                CLONE_TIMEOUT.as_secs() / 60
            )));
        }
        drop(cleanup);
        std::thread::sleep(Duration::from_millis(50));
    };
    if !status.success() {
        return Err(Error::Command(format!(
            "git clone --mirror of remote {remote} ({shown}) failed ({status})"
        )));
    }
    Ok(())
}

/// `ext::` runs a command and `fd::` reads a file descriptor (and waits forever on one not open).
fn refused_transport(url: &str) -> Option<&str> {
    let (transport, _) = url.split_once("::")?;
    ["ext", "fd"]
        .into_iter()
        .find(|t| transport.eq_ignore_ascii_case(t))
}

/// A user name and password taken out of a remote URL.
type Credentials = (Zeroizing<String>, Zeroizing<String>);

/// A URL without its `user:password@` part, and that part (percent-decoded), when there was a password.
/// A user name alone stays in the URL (ssh needs it); a password never does.
fn split_credentials(url: &str) -> (String, Option<Credentials>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_string(), None);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_string(), None);
    };
    let userinfo = &rest[..at];
    let scheme = &url[..scheme_end];
    let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let Some((user, password)) = userinfo.split_once(':') else {
        if !http {
            return (url.to_string(), None);
        }
        // https://TOKEN@host: a token in the user name slot; git asks for a password, give it empty.
        let stripped = format!("{scheme}://{}", &rest[at + 1..]);
        return (
            stripped,
            Some((
                Zeroizing::new(percent_decode(userinfo)),
                Zeroizing::new(String::new()),
            )),
        );
    };
    if !http {
        let kept = format!("{scheme}://{user}@{}", &rest[at + 1..]);
        return (kept, None);
    }
    let stripped = format!("{scheme}://{}", &rest[at + 1..]);
    (
        stripped,
        Some((
            Zeroizing::new(percent_decode(user)),
            Zeroizing::new(percent_decode(password)),
        )),
    )
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_credentials_in_urls() {
        assert_eq!(
            mask_url_credentials("https://user:hf_abc@huggingface.co/x.git"),
            "https://***@huggingface.co/x.git"
        );
        assert_eq!(
            mask_url_credentials("git@github.com:a/b.git"),
            "git@github.com:a/b.git"
        );
        assert_eq!(mask_url_credentials("/tmp/origin.git"), "/tmp/origin.git");
    }

    #[test]
    fn credentials_leave_the_url() {
        let (url, creds) = split_credentials("https://me:p%40ss@example.com/r.git");
        assert_eq!(url, "https://example.com/r.git");
        let (user, password) = creds.unwrap();
        assert_eq!((user.as_str(), password.as_str()), ("me", "p@ss"));
        let (url, creds) = split_credentials("https://tok@example.com/r.git");
        assert_eq!(url, "https://example.com/r.git");
        assert_eq!(creds.unwrap().0.as_str(), "tok");
        let (url, creds) = split_credentials("ssh://git:pw@example.com/r.git");
        assert_eq!(url, "ssh://git@example.com/r.git");
        assert!(creds.is_none());
        assert_eq!(split_credentials("/tmp/x.git").0, "/tmp/x.git");
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn command_transports_are_refused() {
        assert_eq!(refused_transport("ext::sh -c touch% x"), Some("ext"));
        assert_eq!(refused_transport("FD::3"), Some("fd"));
        assert_eq!(refused_transport("https://example.com/x"), None);
    }
}
