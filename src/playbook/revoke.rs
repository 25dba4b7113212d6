//! Step 3, revoke, each leaked token in turn: Hugging Face's through its no-login revoke API (confirmed
//! with whoami answering 401), GitHub's through its public revoke endpoint (confirmed with `GET /user`
//! answering 401), every other issuer's by hand at its revoke page with what to check from the provider
//! data, and a read-only liveness check where the issuer documents one. Once a token is confirmed dead,
//! the user may add its fingerprint to `.unleak.toml` (`revoked <date>`).
//!
//! The two issuers with an API differ only in how they ask and answer ([`Revoker`]); [`drive`] walks
//! the shared shape once: status, method, dry run or revoke, confirm, record.

use super::record::{IncidentRecord, StepStatus};
use super::request::{Io, Request, RevokeMethod};
use super::screen::{describe_status, heading, open_browser, say_unreachable};
use crate::issuers::github::{GithubApi, RevokeAnswer};
use crate::issuers::huggingface::{self, HfApi, HfError, TokenStatus};
use crate::issuers::liveness::{Checker, Liveness, Unknown};
use crate::providers::{self, Pattern, Provider};
use crate::secret::Secret;
use crate::util::time::now_rfc3339;
use anyhow::{Context, Result};
use std::ops::ControlFlow;

/// Step 3: revokes each leaked token with its issuer (or says how by hand). Returns the Hugging Face
/// API (None offline), which step 4 uses to check the new token.
pub(super) fn revoke_leaked(
    request: &Request,
    io: &mut Io<'_>,
    leaked: &[Secret],
    record: &mut IncidentRecord,
) -> Result<Option<HfApi>> {
    heading(io, 3, "Revoke the old token")?;
    let hf = if request.settings.offline {
        None
    } else {
        Some(HfApi::new(&request.settings.hf_endpoint, &request.net)?)
    };
    // GitHub's base is read only when a GitHub token needs it.
    let github = if request.settings.offline || !leaked.iter().any(GithubApi::revocable) {
        None
    } else {
        Some(GithubApi::new(&request.net)?)
    };
    for secret in leaked {
        revoke(request, io, hf.as_ref(), github.as_ref(), secret, record)?;
    }
    Ok(hf)
}

/// Step 3 for one token: picks the way its issuer revokes, or says it cannot.
pub(super) fn revoke(
    request: &Request,
    io: &mut Io<'_>,
    hf: Option<&HfApi>,
    github: Option<&GithubApi>,
    secret: &Secret,
    record: &mut IncidentRecord,
) -> Result<()> {
    let step = format!("revoke {}", secret.redacted());
    // The generic rule's values have no known issuer: the person knows where it came from.
    let known = secret
        .identify()
        .filter(|(p, _)| p.id != providers::GENERIC.id);
    let Some((provider, pattern)) = known else {
        return Ending::new(
            format!(
                "{}: unknown issuer; revoke it where it was created.",
                secret.redacted()
            ),
            StepStatus::Skipped("unknown issuer: revoke by hand".into()),
        )
        .record(io, &step, record);
    };
    let settings = provider.revoke_url.unwrap_or("the issuer's settings page");
    if GithubApi::revocable(secret) {
        let Some(api) = github else {
            return offline(io, settings, &step, record);
        };
        let github = GithubRevoke {
            api,
            secret,
            settings,
        };
        return drive(&github, request, io, secret, &step, record);
    }
    if provider.id != providers::HUGGING_FACE.id {
        return by_hand(request, io, provider, pattern, secret, record);
    }
    let settings = &huggingface::page_on_endpoint(settings, &request.settings.hf_endpoint);
    let Some(api) = hf else {
        return offline(io, &format!("{settings} (Manage > Delete)"), &step, record);
    };
    let hf = HfRevoke {
        request,
        interactive: io.interactive,
        api,
        secret,
        settings,
    };
    drive(&hf, request, io, secret, &step, record)
}

/// How the step ends early: the lines said (each indented) and the status recorded.
struct Ending {
    lines: Vec<String>,
    status: StepStatus,
}

impl Ending {
    /// One line, one status.
    fn new(line: String, status: StepStatus) -> Ending {
        Ending {
            lines: vec![line],
            status,
        }
    }

    /// Says the lines and records the step as ended.
    fn record(self, io: &mut Io<'_>, step: &str, record: &mut IncidentRecord) -> Result<()> {
        for line in &self.lines {
            writeln!(io.out, "  {line}")?;
        }
        record.step(step, self.status, vec![]);
        Ok(())
    }
}

/// What the issuer says of the token before anything is revoked.
enum Status {
    /// Dead already; how we know ("whoami answers 401/403").
    Dead(String),
    /// Live, or unknown and treated as live: the line that says which.
    Live(String),
}

/// The revocation request went out: the line that says how it was taken, and an event for the
/// timeline when the answer was not the expected one.
struct Sent {
    line: String,
    event: Option<String>,
}

/// The per-issuer parts of a revoke step through an API; [`drive`] does the rest.
trait Revoker {
    /// The settings page where the token is deleted by hand.
    fn settings(&self) -> &str;
    /// How that page deletes a token, after "find the token ending in the characters shown above, ".
    fn delete_by_hand(&self) -> &str;
    /// Whether the token works now; `Break` ends the step (rate limited, API out of reach).
    fn status(&self) -> Result<ControlFlow<Ending, Status>>;
    /// The first answer to "How do you want to revoke it?".
    fn api_choice(&self) -> &'static str;
    /// What a dry run would send: the line after "dry run: would ", and the step's "would".
    fn api_dry_run(&self) -> (String, &'static str);
    /// Sends the revocation; `Break` ends the step (refused, API out of reach).
    fn revoke_api(&self) -> Result<ControlFlow<Ending, Sent>>;
    /// After revoking: `Continue(how we know it is dead)`, or `Break` when that is not confirmed.
    fn confirm_dead(&self) -> Result<ControlFlow<Ending, String>>;
}

/// The shared shape of a revoke step through an API: status (already dead: done, allowlist offered),
/// method, skip / dry run / revoke / by hand, confirmation, each recorded once here.
fn drive(
    revoker: &dyn Revoker,
    request: &Request,
    io: &mut Io<'_>,
    secret: &Secret,
    step: &str,
    record: &mut IncidentRecord,
) -> Result<()> {
    let settings = revoker.settings();
    match revoker.status()? {
        ControlFlow::Break(end) => return end.record(io, step, record),
        ControlFlow::Continue(Status::Dead(detail)) => {
            return already_dead(
                request,
                io,
                secret,
                &secret.redacted(),
                &detail,
                step,
                record,
            )
        }
        ControlFlow::Continue(Status::Live(line)) => writeln!(io.out, "  {line}")?,
    }
    let dry_run = request.settings.dry_run;
    let ended = match choose(request, io, revoker.api_choice())? {
        RevokeMethod::Skip => Some(Ending::new(
            format!("Skipped. The token may still work: revoke it at {settings}."),
            StepStatus::Skipped("skipped by the user".into()),
        )),
        RevokeMethod::Api if dry_run => {
            let (line, would) = revoker.api_dry_run();
            Some(Ending::new(
                format!("dry run: would {line}"),
                StepStatus::WouldDo(would.into()),
            ))
        }
        RevokeMethod::Api => match revoker.revoke_api()? {
            ControlFlow::Break(end) => Some(end),
            ControlFlow::Continue(sent) => {
                writeln!(io.out, "  {}", sent.line)?;
                if let Some(event) = sent.event {
                    record.event(now_rfc3339(), event);
                }
                None
            }
        },
        RevokeMethod::Browser if dry_run => Some(Ending::new(
            format!("dry run: would open {settings} and wait."),
            StepStatus::WouldDo(format!("revoke by hand at {settings}")),
        )),
        RevokeMethod::Browser => {
            writeln!(
                io.out,
                "  Open {settings}, find the token ending in the characters shown above, {}.",
                revoker.delete_by_hand()
            )?;
            open_browser(request, settings);
            if !request.settings.yes && !io.prompter.confirm("Done deleting it?", true, "--yes")? {
                record.step(step, StepStatus::Skipped("not deleted yet".into()), vec![]);
                return Ok(());
            }
            None
        }
    };
    if let Some(end) = ended {
        return end.record(io, step, record);
    }
    match revoker.confirm_dead()? {
        ControlFlow::Break(end) => end.record(io, step, record),
        ControlFlow::Continue(detail) => {
            writeln!(io.out, "  Confirmed: the old token is dead ({detail}).")?;
            record.event(
                now_rfc3339(),
                format!("revocation of {} confirmed", secret.redacted()),
            );
            record.step(step, StepStatus::Done, vec![]);
            offer_allowlist(request, io, secret, record)
        }
    }
}

/// No network: nothing revoked or checked; the step stays open.
fn offline(io: &mut Io<'_>, settings: &str, step: &str, record: &mut IncidentRecord) -> Result<()> {
    Ending::new(
        format!("offline: not revoked and not checked. Revoke it at {settings}."),
        StepStatus::Skipped("offline: revocation not done or checked".into()),
    )
    .record(io, step, record)
}

/// The token is dead before anything was done: nothing to revoke; its findings may be allowlisted.
fn already_dead(
    request: &Request,
    io: &mut Io<'_>,
    secret: &Secret,
    shown: &str,
    detail: &str,
    step: &str,
    record: &mut IncidentRecord,
) -> Result<()> {
    writeln!(io.out, "  {shown} is already dead ({detail}).")?;
    record.event(
        now_rfc3339(),
        format!("{} confirmed dead", secret.redacted()),
    );
    record.step(
        step,
        StepStatus::NotNeeded("already revoked".into()),
        vec![],
    );
    offer_allowlist(request, io, secret, record)
}

/// GitHub: the unauthenticated revoke endpoint, confirmed by `GET /user` answering 401.
struct GithubRevoke<'a> {
    api: &'a GithubApi,
    secret: &'a Secret,
    settings: &'a str,
}

impl Revoker for GithubRevoke<'_> {
    fn settings(&self) -> &str {
        self.settings
    }

    fn delete_by_hand(&self) -> &str {
        "and delete it"
    }

    fn status(&self) -> Result<ControlFlow<Ending, Status>> {
        Ok(ControlFlow::Continue(match self.api.user(self.secret) {
            Liveness::Dead { detail } => Status::Dead(detail),
            Liveness::Live { owner, .. } => Status::Live(format!(
                "It is LIVE: it works for GitHub user {}.",
                owner.as_deref().unwrap_or("?")
            )),
            unknown => Status::Live(format!(
                "Could not check it ({}); treating it as live.",
                unknown.reason()
            )),
        }))
    }

    fn api_choice(&self) -> &'static str {
        "Revoke now with GitHub's public revoke endpoint (recommended; the owner is notified)"
    }

    fn api_dry_run(&self) -> (String, &'static str) {
        (
            format!(
                "POST {}/credentials/revoke (unauthenticated), then confirm with GET /user (401).",
                self.api.base()
            ),
            "revoke through GitHub's revoke endpoint",
        )
    }

    fn revoke_api(&self) -> Result<ControlFlow<Ending, Sent>> {
        let why = match self.api.revoke(&[self.secret])?.into_iter().next() {
            Some(RevokeAnswer::Accepted) => {
                return Ok(ControlFlow::Continue(Sent {
                    line: "GitHub accepted the revocation (202); the owner is notified.".into(),
                    event: None,
                }))
            }
            Some(RevokeAnswer::Rejected) => {
                "GitHub refused the request (422: validation failed, or too many requests)"
                    .to_string()
            }
            Some(RevokeAnswer::RateLimited) => {
                "GitHub's revoke endpoint is rate limited (60 requests an hour)".to_string()
            }
            Some(RevokeAnswer::Other(code)) => format!("GitHub's revoke endpoint answered {code}"),
            None => "no answer".to_string(),
        };
        Ok(ControlFlow::Break(Ending::new(
            format!("NOT revoked: {why}. Revoke it at {}.", self.settings),
            StepStatus::Failed(why),
        )))
    }

    fn confirm_dead(&self) -> Result<ControlFlow<Ending, String>> {
        // The endpoint says nothing about whether the token existed; /user must now answer 401.
        let mut status = self.api.user(self.secret);
        if matches!(status, Liveness::Live { .. }) {
            std::thread::sleep(std::time::Duration::from_secs(2));
            status = self.api.user(self.secret);
        }
        Ok(match status {
            Liveness::Dead { detail } => ControlFlow::Continue(detail),
            Liveness::Live { detail, .. } => ControlFlow::Break(Ending::new(
                format!(
                    "NOT confirmed: the token still works ({detail}). Revoke it at {}.",
                    self.settings
                ),
                StepStatus::Failed("the old token still works".into()),
            )),
            unknown => ControlFlow::Break(Ending::new(
                format!(
                    "Could not confirm ({}). Check later with `unleak audit --verify`.",
                    unknown.reason()
                ),
                StepStatus::Failed(format!("revocation not confirmed: {}", unknown.reason())),
            )),
        })
    }
}

/// Hugging Face: the no-login revoke API (`POST /api/credentials/revoke`, always 202), confirmed by
/// whoami answering 401. An API out of reach sends the user to the settings page, never stranded.
struct HfRevoke<'a> {
    request: &'a Request,
    /// Whether the settings page may be opened when the API is out of reach.
    interactive: bool,
    api: &'a HfApi,
    secret: &'a Secret,
    settings: &'a str,
}

impl HfRevoke<'_> {
    /// The API could not be reached (or answered nonsense): say so in one line, then the browser path,
    /// so the user is never stranded; the step stays open (nothing was confirmed). Any other error stops
    /// the run.
    fn unreachable<T>(&self, err: HfError) -> Result<ControlFlow<Ending, T>> {
        let down = match err {
            HfError::Unreachable(down) => down,
            HfError::Answer(err) => return Err(err),
        };
        let down = &down;
        let settings = self.settings;
        let lines = vec![
            say_unreachable(down),
            format!(
                "Revoke it by hand: open {settings}, find the token ending in {} (shown above), Manage > Delete.",
                tail_of(self.secret)
            ),
            "Then check it is dead: `unleak audit --verify` calls it dead once whoami answers 401."
                .into(),
        ];
        let status = if self.request.settings.dry_run {
            StepStatus::WouldDo(format!("API unreachable: revoke by hand at {settings}"))
        } else {
            if self.interactive {
                open_browser(self.request, settings);
            }
            StepStatus::Skipped(format!(
                "API unreachable ({}): revoke by hand at {settings}, then `unleak audit --verify`",
                down.reason
            ))
        };
        Ok(ControlFlow::Break(Ending { lines, status }))
    }
}

impl Revoker for HfRevoke<'_> {
    fn settings(&self) -> &str {
        self.settings
    }

    fn delete_by_hand(&self) -> &str {
        "Manage > Delete"
    }

    fn status(&self) -> Result<ControlFlow<Ending, Status>> {
        let live = match self.api.whoami(self.secret) {
            Ok(status) => status,
            Err(err) => return self.unreachable(err),
        };
        Ok(ControlFlow::Continue(match live {
            TokenStatus::Invalid | TokenStatus::Denied => {
                Status::Dead("whoami answers 401/403".into())
            }
            TokenStatus::RateLimited => {
                return Ok(ControlFlow::Break(Ending::new(
                    format!(
                        "The API is rate limiting (429); not retrying. Revoke at {}.",
                        self.settings
                    ),
                    StepStatus::Skipped("rate limited (429); revoke by hand".into()),
                )))
            }
            TokenStatus::Valid(owner) => Status::Live(format!(
                "It is LIVE: it works for user {} (token \"{}\", role {}).",
                owner.user,
                owner.token_name.as_deref().unwrap_or("?"),
                owner.role.as_deref().unwrap_or("?")
            )),
            TokenStatus::Unexpected(code) => Status::Live(format!(
                "whoami answered {code}; treating the token as live."
            )),
        }))
    }

    fn api_choice(&self) -> &'static str {
        "Revoke now with the no-login revoke API (recommended)"
    }

    fn api_dry_run(&self) -> (String, &'static str) {
        (
            format!(
                "POST {}/api/credentials/revoke, then confirm with whoami.",
                self.api.endpoint()
            ),
            "revoke through the API",
        )
    }

    fn revoke_api(&self) -> Result<ControlFlow<Ending, Sent>> {
        let status = match self.api.revoke(&[self.secret]) {
            Ok(status) => status,
            Err(err) => return self.unreachable(err),
        };
        Ok(ControlFlow::Continue(if status == 202 {
            Sent {
                line: "Revoke API accepted the request (202). It answers 202 whether or not the token existed, so whoami confirms.".into(),
                event: None,
            }
        } else {
            Sent {
                line: format!("Revoke API answered {status}: the revocation request was NOT accepted. Checking whether the token still works."),
                event: Some(format!(
                    "revoke API answered {status} for {}",
                    self.secret.redacted()
                )),
            }
        }))
    }

    fn confirm_dead(&self) -> Result<ControlFlow<Ending, String>> {
        let confirm = || -> Result<TokenStatus, HfError> {
            let status = self.api.whoami(self.secret)?;
            if matches!(status, TokenStatus::Valid(_)) {
                std::thread::sleep(std::time::Duration::from_secs(2));
                return self.api.whoami(self.secret);
            }
            Ok(status)
        };
        let status = match confirm() {
            Ok(status) => status,
            Err(err) => return self.unreachable(err),
        };
        Ok(match status {
            TokenStatus::Invalid | TokenStatus::Denied => {
                ControlFlow::Continue("whoami answers 401".into())
            }
            TokenStatus::RateLimited => ControlFlow::Break(Ending::new(
                "Could not confirm: rate limited (429). Check later with `unleak audit --verify`."
                    .into(),
                StepStatus::Failed("revocation not confirmed: rate limited".into()),
            )),
            other => ControlFlow::Break(Ending::new(
                format!(
                    "NOT confirmed: {}. Revoke it at {}.",
                    describe_status(&other),
                    self.settings
                ),
                StepStatus::Failed("the old token still works".into()),
            )),
        })
    }
}

/// The last characters of the redaction (`hf_Ab…yz` -> `yz`), the part the settings page shows.
fn tail_of(secret: &Secret) -> String {
    let redacted = secret.redacted();
    redacted
        .rsplit_once('…')
        .map_or(redacted.clone(), |(_, tail)| format!("…{tail}"))
}

/// Any other issuer: where to revoke it and what to check, and whether it still works when the issuer
/// documents a read-only check.
fn by_hand(
    request: &Request,
    io: &mut Io<'_>,
    provider: &Provider,
    pattern: &Pattern,
    secret: &Secret,
    record: &mut IncidentRecord,
) -> Result<()> {
    let step = format!("revoke {}", secret.redacted());
    let settings = provider.revoke_url.unwrap_or("the issuer's settings page");
    let checker = Checker::new(request.settings.offline, &request.net);
    let liveness = checker.check(secret)?;
    match &liveness {
        Liveness::Dead { detail } => {
            let shown = format!("{} ({})", secret.redacted(), provider.name);
            return already_dead(request, io, secret, &shown, detail, &step, record);
        }
        Liveness::Live { owner, detail } => writeln!(
            io.out,
            "  {} ({}) is LIVE ({detail}{}).",
            secret.redacted(),
            provider.name,
            owner
                .as_deref()
                .map(|o| format!(", owner {o}"))
                .unwrap_or_default()
        )?,
        Liveness::Unknown { reason, .. } => {
            let why = liveness.reason();
            match reason {
                Unknown::NoCheck | Unknown::Offline => writeln!(
                    io.out,
                    "  {} ({}): liveness not checked ({why}).",
                    secret.redacted(),
                    provider.name
                )?,
                _ => writeln!(
                    io.out,
                    "  {} ({}): could not tell whether it works ({why}).",
                    secret.redacted(),
                    provider.name
                )?,
            }
        }
    }
    writeln!(
        io.out,
        "  {} has no revoke API unleak can call: revoke it at {settings}.",
        provider.name
    )?;
    writeln!(io.out, "  What to do and check: {}", pattern.help)?;
    // At a terminal, the person deletes it now and the issuer's read-only call confirms it: "I clicked
    // revoke" becomes a fact.
    let checkable = matches!(liveness, Liveness::Live { .. });
    if checkable
        && io.interactive
        && !request.settings.dry_run
        && request.settings.revoke != Some(RevokeMethod::Skip)
    {
        open_browser(request, settings);
        while io.prompter.confirm(
            &format!(
                "Deleted it at {settings}? Ask {} whether it still works",
                provider.name
            ),
            true,
            "--revoke skip",
        )? {
            match checker.check(secret)? {
                Liveness::Dead { detail } => {
                    writeln!(io.out, "  {} is dead now ({detail}).", secret.redacted())?;
                    record.event(
                        now_rfc3339(),
                        format!("{} confirmed dead", secret.redacted()),
                    );
                    record.step(
                        &step,
                        StepStatus::Done,
                        vec![format!("confirmed dead: {detail}")],
                    );
                    return offer_allowlist(request, io, secret, record);
                }
                other => writeln!(
                    io.out,
                    "  {} still answers: {} ({}).",
                    provider.name,
                    other.label(),
                    other.reason()
                )?,
            }
        }
    }
    record.step(
        &step,
        StepStatus::Skipped(format!("revoke by hand at {settings}")),
        vec![format!(
            "liveness: {} ({})",
            liveness.label(),
            liveness.reason()
        )],
    );
    Ok(())
}

/// How to revoke: the flag, `--yes`/dry run (the API), or a question.
fn choose(request: &Request, io: &mut Io<'_>, api_choice: &str) -> Result<RevokeMethod> {
    Ok(match request.settings.revoke {
        Some(method) => method,
        None if request.settings.yes || request.settings.dry_run => RevokeMethod::Api,
        None => {
            let choices = [
                api_choice,
                "Open the settings page and delete it myself",
                "Skip for now",
            ];
            match io.prompter.select(
                "How do you want to revoke it?",
                &choices,
                0,
                "--revoke api|browser|skip",
            )? {
                0 => RevokeMethod::Api,
                1 => RevokeMethod::Browser,
                _ => RevokeMethod::Skip,
            }
        }
    })
}

/// A dead token is no longer a live credential: offer to accept its findings in `.unleak.toml` by
/// fingerprint, with reason "revoked <date>", so later audits stop failing on it (`--yes` accepts).
fn offer_allowlist(
    request: &Request,
    io: &mut Io<'_>,
    secret: &Secret,
    record: &mut IncidentRecord,
) -> Result<()> {
    let Some(workdir) = crate::git::Repo::open(&request.repo)?.workdir else {
        return Ok(());
    };
    let path = workdir.join(".unleak.toml");
    let fingerprint = secret.fingerprint();
    let date = now_rfc3339().get(..10).unwrap_or_default().to_string();
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    if existing.contains(&fingerprint) {
        return Ok(());
    }
    if !existing.is_empty() && crate::allowlist::Allowlist::load(&path).is_err() {
        writeln!(
            io.out,
            "  {} is not a valid allowlist: not adding {fingerprint} to it.",
            path.display()
        )?;
        return Ok(());
    }
    let entry =
        format!("\n[[allow]]\nfingerprint = \"{fingerprint}\"\nreason = \"revoked {date}\"\n");
    if request.settings.dry_run {
        writeln!(
            io.out,
            "  dry run: would offer to add {fingerprint} to {} (reason \"revoked {date}\").",
            path.display()
        )?;
        return Ok(());
    }
    let question = format!(
        "Add {fingerprint} to {} as \"revoked {date}\", so audits stop failing on it?",
        path.display()
    );
    let consent = if request.settings.yes {
        true
    } else if io.interactive {
        io.prompter.confirm(&question, true, "--yes")?
    } else {
        false
    };
    if !consent {
        writeln!(
            io.out,
            "  Not added to the allowlist. To accept it later, add to .unleak.toml:{}",
            entry.replace('\n', "\n    ")
        )?;
        return Ok(());
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&entry);
    // The user's own file: its mode is kept (else 0644).
    let opts = crate::util::fs::Atomic::keeping_mode(&path, 0o644, ".unleak-");
    crate::util::fs::write_atomic(&path, text.as_bytes(), &opts)?;
    writeln!(
        io.out,
        "  Added {fingerprint} to {} (reason \"revoked {date}\"). The rewrite below still removes it from history.",
        path.display()
    )?;
    record.event(
        now_rfc3339(),
        format!("{} allowlisted as revoked {date}", secret.redacted()),
    );
    Ok(())
}
