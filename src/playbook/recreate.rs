//! Step 4, re-create: one [`Rotation`] per leaked key, and for each the new token read (flag, stdin or
//! hidden prompt), normalized and checked (not a leaked one, the same issuer, working) before step 5
//! writes it.

use super::record::{IncidentRecord, StepStatus};
use super::request::{Io, NewTokenSource, Request};
use super::screen::{describe_status, heading, say_unreachable};
use crate::git::Repo;
use crate::issuers::huggingface::{self, HfApi, HfError, TokenStatus};
use crate::providers;
use crate::secret::Secret;
use crate::tokens;
use crate::util::time::now_rfc3339;
use anyhow::{bail, Context, Result};

/// One key of the incident, rotated by steps 4 and 5: the leaked value and the `.env` key that holds it.
/// An incident of one key keeps the steps' plain names; with several, each step names its key.
pub(super) struct Rotation<'a> {
    pub(super) old: &'a Secret,
    pub(super) key: String,
    /// Whether the incident has several keys (the steps then say which).
    pub(super) several: bool,
    /// Whether this is the incident's first key (the one a plain `--new-token-env NAME` answers).
    pub(super) first: bool,
}

impl Rotation<'_> {
    /// A step's name: `re-create`, or `re-create WANDB_API_KEY` when there are several keys.
    pub(super) fn step(&self, name: &str) -> String {
        if self.several {
            format!("{name} {}", self.key)
        } else {
            name.to_string()
        }
    }

    /// Where this key's new value comes from: its own `--new-token-env KEY=NAME`, else (first key) the
    /// plain source, else a prompt that may be skipped.
    fn source(&self, request: &Request) -> NewTokenSource {
        let named = request
            .settings
            .new_tokens
            .iter()
            .find(|(key, _)| *key == self.key);
        match named {
            Some((_, var)) => NewTokenSource::Env(var.clone()),
            None if self.first => request.settings.new_token.clone(),
            None => NewTokenSource::Prompt,
        }
    }
}

/// The keys to rotate: each leaked token under the `.env` key it was read from (or its provider's usual
/// name); one token alone under `--update-key` or the key it came from, as before.
pub(super) fn rotations<'a>(
    request: &Request,
    repo: &Repo,
    leaked: &'a [Secret],
) -> Vec<Rotation<'a>> {
    let path =
        tokens::default_env_path(request.tokens.env_file.as_deref(), repo.workdir.as_deref());
    let several = leaked.len() > 1;
    leaked
        .iter()
        .enumerate()
        .map(|(i, old)| {
            let from_env = path.as_deref().and_then(|path| {
                let (file, key) = old.origin().rsplit_once(':')?;
                (std::path::Path::new(file) == path).then(|| key.to_string())
            });
            let key = match (several, path.as_deref()) {
                (false, Some(path)) => key_to_update(request, leaked, path),
                _ => from_env
                    .or_else(|| {
                        old.identify()
                            .and_then(|(p, _)| p.env_vars.first())
                            .map(|k| k.to_string())
                    })
                    .unwrap_or_else(|| tokens::DEFAULT_KEY.to_string()),
            };
            Rotation {
                old,
                key,
                several,
                first: i == 0,
            }
        })
        .collect()
}

/// The key that receives the new token: `--update-key`, else the key that held the leaked token when it
/// came from this file, else the provider's usual one.
fn key_to_update(request: &Request, leaked: &[Secret], path: &std::path::Path) -> String {
    request.settings.update_key.clone().unwrap_or_else(|| {
        leaked
            .iter()
            .find_map(|s| {
                let (file, key) = s.origin().rsplit_once(':')?;
                (std::path::Path::new(file) == path).then(|| key.to_string())
            })
            .unwrap_or_else(|| tokens::DEFAULT_KEY.to_string())
    })
}

/// Step 4: the new token, least privilege, read and checked (the API, or the issuer's read-only check).
/// None in a dry run, or when no new value was given for this key (the step is left open).
pub(super) fn recreate(
    request: &Request,
    io: &mut Io<'_>,
    api: Option<&HfApi>,
    leaked: &[Secret],
    rotation: &Rotation<'_>,
    record: &mut IncidentRecord,
) -> Result<Option<Secret>> {
    let step = rotation.step("re-create");
    let old = rotation.old;
    let provider = old.identify().map(|(p, _)| p);
    let is_hf = provider.is_some_and(|p| p.id == providers::HUGGING_FACE.id);
    if rotation.several {
        let issuer = provider.map_or("its issuer", |p| p.name);
        heading(
            io,
            4,
            &format!("Create a new {} ({issuer}, least privilege)", rotation.key),
        )?;
    } else {
        heading(io, 4, "Create a new token (least privilege)")?;
    }
    if is_hf || provider.is_none() {
        writeln!(
            io.out,
            "  Least privilege: a fine-grained token scoped to the repos it needs, or a read token when your \
scripts only download. Avoid write tokens."
        )?;
    } else {
        writeln!(
            io.out,
            "  Least privilege: the narrowest key the issuer offers (one project or workspace, read-only \
where your code only reads, a spend limit where there is one)."
        )?;
    }
    let create_url = provider.and_then(|p| p.create_url);
    if let Some(url) = create_url {
        writeln!(
            io.out,
            "  Create it at {}",
            huggingface::page_on_endpoint(url, &request.settings.hf_endpoint)
        )?;
    }
    let new = match rotation.source(request) {
        _ if request.settings.dry_run => {
            writeln!(io.out, "  dry run: would read the new token and check it.")?;
            record.step(
                &step,
                StepStatus::WouldDo("take and check a new token".into()),
                vec![],
            );
            return Ok(None);
        }
        NewTokenSource::Prompt if rotation.several && !rotation.first && !io.interactive => {
            let page = create_url.map(|u| format!(" at {u}")).unwrap_or_default();
            writeln!(
                io.out,
                "  no new value given for {} (--new-token-env {}=NAME): create one{page}, then run \
`unleak setup --key {}`.",
                rotation.key, rotation.key, rotation.key
            )?;
            record.step(
                &step,
                StepStatus::Skipped(format!(
                    "no new value given: create one{page}, then `unleak setup --key {}`",
                    rotation.key
                )),
                vec![],
            );
            return Ok(None);
        }
        NewTokenSource::Env(name) => (
            normalized(Secret::new(
                request
                    .env
                    .secret(&name)
                    .filter(|v| !v.trim().is_empty())
                    .with_context(|| format!("--new-token-env: {name} is not set"))?
                    .trim(),
                format!("${name}"),
            ))?,
            None,
        ),
        NewTokenSource::Stdin => {
            // Wiped on every path, an early `?` included.
            let mut line = zeroize::Zeroizing::new(String::new());
            io.stdin
                .read_line(&mut line)
                .context("cannot read the new token from stdin")?;
            (normalized(Secret::new(line.trim(), "stdin"))?, None)
        }
        NewTokenSource::Prompt => loop {
            // At the prompt a wrong paste is asked again, not the end of the run.
            let new = if rotation.several {
                io.prompter.secret(
                    &format!(
                        "New value for {} (input hidden; empty skips this key)",
                        rotation.key
                    ),
                    true,
                    &format!("--new-token-env {}=NAME", rotation.key),
                )?
            } else {
                io.prompter.secret(
                    "New token (input hidden)",
                    true,
                    "--new-token-env NAME or --new-token-stdin",
                )?
            };
            if rotation.several && new.expose().trim().is_empty() {
                writeln!(
                    io.out,
                    "  skipped: {} keeps its old value for now.",
                    rotation.key
                )?;
                record.step(
                    &step,
                    StepStatus::Skipped("no new value given".into()),
                    vec![],
                );
                return Ok(None);
            }
            let new = match normalized(new) {
                Ok(new) => new,
                Err(err) => {
                    writeln!(io.out, "  {err:#}; try again (Ctrl-C stops).")?;
                    continue;
                }
            };
            match check_new_token(io, &request.net, api, leaked, rotation, &new)? {
                Ok(notes) => break (new, Some(notes)),
                Err(problem) => writeln!(io.out, "  {problem}; try again (Ctrl-C stops).")?,
            }
        },
    };
    let (new, notes) = match new {
        (new, Some(notes)) => (new, notes),
        (new, None) => match check_new_token(io, &request.net, api, leaked, rotation, &new)? {
            Ok(notes) => (new, notes),
            Err(problem) => bail!("{problem}; nothing was written"),
        },
    };
    record.event(now_rfc3339(), format!("rotated to {}", new.redacted()));
    record.step(&step, StepStatus::Done, notes);
    Ok(Some(new))
}

/// The same normalization as every token source: a BOM or zero-width space must not reach `.env`.
fn normalized(new: Secret) -> Result<Secret> {
    Ok(Secret::new(
        tokens::normalize(new.expose(), new.origin())?.as_str(),
        new.origin().to_string(),
    ))
}

/// Whether `new` can replace the leaked token: not empty, not a leaked one, the same issuer, and working
/// (whoami) when the API is there. `Ok(Err(problem))` is a wrong token, in words; an unreachable API
/// is one line and a note, not a failure.
fn check_new_token(
    io: &mut Io<'_>,
    net: &crate::issuers::Net,
    api: Option<&HfApi>,
    leaked: &[Secret],
    rotation: &Rotation<'_>,
    new: &Secret,
) -> Result<std::result::Result<Vec<String>, String>> {
    let provider = rotation.old.identify().map(|(p, _)| p);
    if new.expose().is_empty() {
        return Ok(Err("no new token was given".into()));
    }
    if leaked.iter().any(|old| old == new) {
        return Ok(Err(
            "that is the leaked token: create a new one first".into()
        ));
    }
    if let Some(provider) = provider {
        // Its own shape, or (a key whose value is not distinctive) the key it will be kept under.
        let ok = providers::identify_keyed(&rotation.key, new.expose())
            .is_some_and(|(p, _)| p.id == provider.id);
        if !ok {
            return Ok(Err(format!(
                "the new token ({}) does not look like a {} token; check what was pasted",
                new.redacted(),
                provider.name
            )));
        }
    }
    let mut notes = vec![format!(
        "new token {} ({})",
        new.redacted(),
        new.fingerprint()
    )];
    // Hugging Face's whoami checks an HF token; any other issuer's through its own read-only check.
    let is_hf = provider.is_some_and(|p| p.id == providers::HUGGING_FACE.id);
    let api = match api {
        None => {
            writeln!(io.out, "  offline: the new token was not checked.")?;
            notes.push("not checked: offline".into());
            return Ok(Ok(notes));
        }
        Some(_) if !is_hf => {
            let new = &match providers::identify_keyed(&rotation.key, new.expose()) {
                Some((_, rule)) => new.clone().with_rule(rule.id),
                None => new.clone(),
            };
            match crate::issuers::liveness::Checker::new(false, net).check(new)? {
                crate::issuers::liveness::Liveness::Dead { detail } => {
                    return Ok(Err(format!(
                        "the new token {} does not work ({detail})",
                        new.redacted()
                    )))
                }
                other => writeln!(
                    io.out,
                    "  New token {}: {} ({}).",
                    new.redacted(),
                    other.label(),
                    other.reason()
                )?,
            }
            return Ok(Ok(notes));
        }
        Some(api) => api,
    };
    check_with_whoami(io, api, new, notes)
}

/// Step 4's check of a new Hugging Face token: whoami must say it works (a write token is warned about);
/// an unreachable API or a rate limit leaves it unchecked, in a note.
fn check_with_whoami(
    io: &mut Io<'_>,
    api: &HfApi,
    new: &Secret,
    mut notes: Vec<String>,
) -> Result<std::result::Result<Vec<String>, String>> {
    let status = match api.whoami(new) {
        Ok(status) => status,
        Err(HfError::Unreachable(down)) => {
            writeln!(io.out, "  {}", say_unreachable(&down))?;
            writeln!(
                io.out,
                "  The new token was not checked; `unleak audit --verify` can later."
            )?;
            notes.push(format!("not checked: {}", down.reason));
            return Ok(Ok(notes));
        }
        Err(HfError::Answer(err)) => return Err(err),
    };
    match status {
        TokenStatus::Valid(owner) => {
            writeln!(
                io.out,
                "  New token {} works: user {}, token \"{}\", role {}.",
                new.redacted(),
                owner.user,
                owner.token_name.as_deref().unwrap_or("?"),
                owner.role.as_deref().unwrap_or("?")
            )?;
            if owner.role.as_deref() == Some("write") {
                writeln!(io.out, "  warning: this is a WRITE token. If your scripts only read, use a read or fine-grained token.")?;
                notes.push("warning: the new token has the write role".into());
            }
        }
        TokenStatus::RateLimited => writeln!(
            io.out,
            "  Could not check the new token: rate limited (429)."
        )?,
        other => {
            return Ok(Err(format!(
                "the new token {} does not work ({})",
                new.redacted(),
                describe_status(&other)
            )))
        }
    }
    Ok(Ok(notes))
}
