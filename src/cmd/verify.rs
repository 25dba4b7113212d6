//! `unleak verify`: "am I safe now?" after a rewrite. A full scan (every object, reachable or not) plus
//! the post-rewrite checks; exit 0 only when nothing carries the token.

use crate::cli::VerifyArgs;
use crate::config::{resolve_repo_path, Globals, Scope, TokenSpec};
use crate::exit_codes::ExitCode;
use crate::git::Oid;
use crate::git::Repo;
use crate::playbook::record;
use crate::prompt::{NoTerminal, Prompter, TerminalPrompter};
use crate::report::{self, Warning};
use crate::scan::{self, matcher::Matcher, patterns::PatternSet, verify, ScanOptions};
use crate::tokens;
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

pub fn run(args: VerifyArgs, globals: &Globals) -> Result<ExitCode> {
    let repo_path = resolve_repo_path(args.repo)?;
    let local = Repo::open(&repo_path)?;
    let spec = TokenSpec::from_args(args.token);
    let scope = Scope::from_args(args.scope);

    // The incident `respond` remembered in the git dir, and one named with --record.
    let common_dir = local.common_dir();
    let remembered_path = record::incident_path(&common_dir);
    let named = args.record.as_deref().map(record::recall).transpose()?;
    // No token source at all: the remembered incident names the OLD token (`.env` now holds the new one).
    let use_remembered = spec.is_default() && args.fingerprint.is_empty() && named.is_none();
    let mut notes: Vec<Warning> = Vec::new();
    let remembered = match record::recall(&remembered_path) {
        _ if !remembered_path.is_file() => None,
        Ok(recalled) => Some(recalled),
        // Needed: the OLD token is named nowhere else.
        Err(err) if use_remembered => {
            return Err(err.context("the incident `unleak respond` remembered cannot be read; verify with --fingerprint sha256:… or --record PATH.json"));
        }
        Err(err) => {
            notes.push(Warning::new(
                "incident-record",
                format!("the remembered incident is unreadable and was not used: {err:#}"),
            ));
            None
        }
    };

    // First changed commits: explicit file, the incident records, or filter-repo's own files.
    let mut first_changed: Vec<Oid> = Vec::new();
    if let Some(file) = &args.first_changed {
        first_changed.extend(verify::read_first_changed(file)?);
    } else {
        first_changed.extend(record::first_changed_on_disk(&[
            &local.git_dir,
            &common_dir,
        ]));
    }
    if let Some(named) = &named {
        first_changed.extend(named.first_changed.iter().copied());
    }
    if let (true, Some(remembered)) = (use_remembered, &remembered) {
        first_changed.extend(remembered.first_changed.iter().copied());
    }
    first_changed.sort();
    first_changed.dedup();

    let interactive = TerminalPrompter::available();
    let mut prompter: Box<dyn Prompter> = if interactive {
        Box::new(TerminalPrompter)
    } else {
        Box::new(NoTerminal)
    };
    // Fingerprints: given, or from the incident record. With only fingerprints, no plaintext is needed:
    // candidates are found by provider pattern and compared by fingerprint.
    let mut fingerprints: Vec<String> = args.fingerprint.clone();
    if let Some(named) = &named {
        fingerprints.extend(named.fingerprints());
    }
    if use_remembered {
        if let Some(remembered) = &remembered {
            fingerprints.extend(remembered.fingerprints());
            let tokens: Vec<String> = remembered
                .secrets
                .iter()
                .map(|(redacted, fingerprint)| format!("{redacted} ({fingerprint})"))
                .collect();
            notes.push(Warning::new(
                "incident-record",
                format!(
                    "no token source given: verifying the OLD token(s) of the incident `unleak respond` recorded{} in {}: {}",
                    remembered.at.as_deref().map_or(String::new(), |at| format!(" at {at}")),
                    remembered.path.display(),
                    tokens.join(", ")
                ),
            ));
        }
    }
    for fingerprint in &fingerprints {
        if fingerprint.starts_with("keyed:") {
            anyhow::bail!(
                "{fingerprint} is a keyed fingerprint: the value is guessable (such as a password), so reports \
name it with a key that lives only for one run. Verify with the value itself (--env-file/--key, \
--token-env or --token-stdin)"
            );
        }
        let hex = fingerprint.strip_prefix("sha256:").unwrap_or_default();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!(
                "{fingerprint} is not a fingerprint (sha256: and 64 hex digits, as scan prints)"
            );
        }
    }
    fingerprints.sort();
    fingerprints.dedup();
    let secrets = if fingerprints.is_empty() || !spec.is_default() {
        tokens::collect(
            &spec,
            local.workdir.as_deref(),
            // Not locked: a hidden prompt may need the terminal while this reader exists.
            &mut std::io::BufReader::new(std::io::stdin()),
            prompter.as_mut(),
            interactive,
        )?
        .secrets
    } else {
        Vec::new()
    };

    // With --remote: a temporary mirror of what the server serves, outside the repository, in a private
    // directory removed on every exit (Ctrl-C and SIGTERM included).
    let mirror_dir;
    let target = match &args.remote {
        Some(remote) => {
            mirror_dir = PrivateTempDir::new()?;
            let mirror = mirror_dir.path().join("mirror.git");
            fetch_mirror(&local, remote, &mirror_dir, &mirror)?;
            Repo::open(&mirror)?
        }
        None => local,
    };
    let options = ScanOptions {
        threads: scope.threads,
        reachable_only: false,
        progress: globals.progress,
        command: "verify",
        env_history: false,
    };
    let patterns = PatternSet::all();
    let (mut report, matcher) = if fingerprints.is_empty() {
        (
            scan::scan(&target, &secrets, &options)?,
            Matcher::new(&secrets),
        )
    } else {
        by_fingerprint(&target, &secrets, &fingerprints, &patterns, &options)?
    };
    let holds = |bytes: &[u8]| {
        matcher.is_match(bytes)
            || (!fingerprints.is_empty()
                && pattern_fingerprint_match(&patterns, bytes, &fingerprints))
    };
    let verification = verify::check(&target, &holds, &first_changed, !report.found())?;
    report.warnings.extend(notes);
    // A token given in plaintext that appears nowhere and never did here is almost always the wrong
    // one (the new token `respond` wrote to .env): "clean" would answer a question nobody asked.
    let known: Vec<String> = named
        .iter()
        .chain(remembered.iter())
        .flat_map(record::Recalled::fingerprints)
        .chain(args.fingerprint.iter().cloned())
        .collect();
    let replaced: Vec<String> = named
        .iter()
        .chain(remembered.iter())
        .flat_map(|r| r.replaced_by.clone())
        .collect();
    let mut never_found = 0;
    for secret in &secrets {
        let fingerprint = secret.fingerprint();
        let found = report
            .secrets
            .iter()
            .any(|s| s.secret.fingerprint == fingerprint && s.found);
        if found || (known.contains(&fingerprint) && !replaced.contains(&fingerprint)) {
            continue;
        }
        never_found += 1;
        let why = if replaced.contains(&fingerprint) {
            "it is the NEW token `unleak respond` wrote to .env".to_string()
        } else if known.is_empty() {
            "no incident record names it".to_string()
        } else {
            "the incident record does not name it".to_string()
        };
        let command = if known.is_empty() {
            "check the old token with `unleak verify --fingerprint sha256:…` (its fingerprint, as scan printed it) or `--record INCIDENT.json`".to_string()
        } else {
            format!(
                "check the old token with `{}`",
                record::verify_command(&known)
            )
        };
        report.warnings.push(Warning::new(
            "never-found",
            format!(
                "this token ({}, from {}) was never found here: is it the new one? ({why}); {command}",
                secret.redacted(),
                secret.origin()
            ),
        ));
    }
    for leftover in &verification.leftover_refs {
        report.warnings.push(Warning::new(
            "leftover-ref",
            format!("{leftover} is left over from a rewrite; delete it (`git update-ref -d {leftover}`)"),
        ));
    }
    let mut verification = verification;
    report.completeness.accepted = scope.allow_incomplete && !report.completeness.complete;
    let found = !verification.clean;
    // "Clean" in the JSON means what the exit code means: nothing found in a search that saw everything.
    verification.clean = verification.clean && report.completeness.allows_clean();
    report.verification = Some(verification);

    if never_found > 0 && !found {
        if let Some(v) = report.verification.as_mut() {
            v.clean = false;
        }
    }
    super::print_report(
        &report,
        args.output.format,
        globals.color,
        args.output.output.as_deref(),
    )?;
    if never_found > 0 && !found {
        return Ok(ExitCode::Unconfirmed);
    }
    Ok(super::search_exit(
        found,
        &report.completeness,
        args.output.exit_zero,
    ))
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
struct PrivateTempDir {
    dir: Option<tempfile::TempDir>,
}

/// What the signal handler cleans up: the directory, and the clone running into it.
static CLEANUP: Mutex<(Option<PathBuf>, Option<std::process::Child>)> = Mutex::new((None, None));

impl PrivateTempDir {
    fn new() -> Result<PrivateTempDir> {
        let dir = tempfile::Builder::new()
            .prefix("unleak-verify-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .context("cannot create a temporary directory")?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {} private", dir.path().display()))?;
        if let Ok(mut cleanup) = CLEANUP.lock() {
            cleanup.0 = Some(dir.path().to_path_buf());
        }
        // Only one handler per process; an error means one is already set, which cleans up the same.
        let _ = ctrlc::set_handler(|| {
            if let Ok(mut cleanup) = CLEANUP.lock() {
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

    fn path(&self) -> &Path {
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
fn fetch_mirror(local: &Repo, remote: &str, temp: &PrivateTempDir, mirror: &Path) -> Result<()> {
    let url = local
        .remote_url(remote)
        .with_context(|| format!("no remote named {remote}"))?
        .with_context(|| format!("remote {remote} has no URL"))?;
    let masked = crate::git::mask_url_credentials(&url);
    let shown = crate::sanitize::for_terminal(&masked);
    if let Some(transport) = refused_transport(&url) {
        bail!(
            "remote {remote} uses the {transport}:: transport ({shown}), which runs a command or reads a \
             file descriptor instead of talking to a server; unleak does not clone it. Verify a clone of \
             the server instead (run `unleak verify` inside it)"
        );
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
    let mut cmd = crate::git::command::git();
    cmd.args(CLONE_LOW_SPEED);
    if let Some((user, password)) = &credentials {
        let askpass = temp.path().join("askpass");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o700)
            .open(&askpass)
            .and_then(|mut f| {
                f.write_all(
                    b"#!/bin/sh\ncase \"$1\" in\n  Username*) printf '%s\\n' \"$UNLEAK_REMOTE_USER\" ;;\n  *) printf '%s\\n' \"$UNLEAK_REMOTE_PASSWORD\" ;;\nesac\n",
                )
            })
            .with_context(|| format!("cannot write {}", askpass.display()))?;
        cmd.env("GIT_ASKPASS", &askpass)
            .env("UNLEAK_REMOTE_USER", user.as_str())
            .env("UNLEAK_REMOTE_PASSWORD", password.as_str());
    }
    cmd.args(["clone", "--quiet", "--mirror", "--no-local", "--"])
        .arg(&url)
        .arg(mirror)
        .stdout(std::process::Stdio::null());
    let child = cmd.spawn().context("cannot run git")?;
    let pid = child.id();
    if let Ok(mut cleanup) = CLEANUP.lock() {
        cleanup.1 = Some(child);
    }
    let started = Instant::now();
    let status = loop {
        let mut cleanup = CLEANUP
            .lock()
            .map_err(|_| anyhow::anyhow!("the clean-up state is poisoned"))?;
        let Some(child) = cleanup.1.as_mut() else {
            bail!("git clone (pid {pid}) was stopped");
        };
        if let Some(status) = child.try_wait().context("cannot wait for git")? {
            cleanup.1 = None;
            break status;
        }
        if started.elapsed() > CLONE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            cleanup.1 = None;
            bail!(
                "git clone --mirror of remote {remote} ({shown}) took more than {} minutes; stopped it",
                CLONE_TIMEOUT.as_secs() / 60
            );
        }
        drop(cleanup);
        std::thread::sleep(Duration::from_millis(50));
    };
    if !status.success() {
        bail!("git clone --mirror of remote {remote} ({shown}) failed ({status})");
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

/// Scans with every provider pattern and keeps only the tokens whose fingerprint was asked for (plus
/// any given in plaintext). Fingerprints found nowhere are listed as not found.
fn by_fingerprint(
    repo: &Repo,
    secrets: &[crate::secret::Secret],
    fingerprints: &[String],
    patterns: &PatternSet,
    options: &ScanOptions,
) -> Result<(report::Report, Matcher)> {
    // Values with a wanted fingerprint, in every form the plaintext scan searches; then a plain scan
    // for them (and any given in plaintext), so both paths report the same findings.
    let mut all: Vec<crate::secret::Secret> = secrets.to_vec();
    for candidate in
        verify::candidates_by_fingerprint(repo, patterns, fingerprints, options.threads)?
    {
        if !all.contains(&candidate) {
            all.push(candidate);
        }
    }
    let mut report = scan::scan(repo, &all, options)?;
    for fingerprint in fingerprints {
        if !report
            .secrets
            .iter()
            .any(|s| &s.secret.fingerprint == fingerprint)
        {
            report.secrets.push(report::SecretSummary {
                secret: report::SecretRef {
                    redacted: "(fingerprint only)".into(),
                    fingerprint: fingerprint.clone(),
                },
                origin: "--fingerprint".into(),
                provider: None,
                rule: None,
                severity: None,
                live: None,
                live_reason: None,
                found: false,
                findings: 0,
                introducing_commits: Vec::new(),
                refs: Vec::new(),
                pushed: false,
                remotes: Vec::new(),
                in_head: Vec::new(),
                in_index: Vec::new(),
                in_worktree: Vec::new(),
                first_exposure: None,
            });
        }
    }
    report.warnings.push(Warning::new(
        "fingerprint-only",
        "verified by fingerprint: a token that matches no provider pattern cannot be found this way; give it in plaintext (--token-stdin) if it had no known shape",
    ));
    Ok((report, Matcher::new(&all)))
}

/// Whether `bytes` hold a provider-pattern match whose fingerprint is one of `fingerprints`.
fn pattern_fingerprint_match(patterns: &PatternSet, bytes: &[u8], fingerprints: &[String]) -> bool {
    let mut hits = Vec::new();
    patterns.find_all(bytes, &mut hits);
    hits.iter().any(|h| {
        let fingerprint = crate::secret::fingerprint(&bytes[h.start..h.end]);
        fingerprints.contains(&fingerprint)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
