//! Findings -> the history-rewrite plan (step 6 of the playbook), and the unattended script that runs it.
//!
//! Planning is pure: [`plan`] turns the report into ordered steps that can be shown, pasted into a ticket,
//! or written as a script. The only thing that ever holds a token outside memory is the `--literal`
//! replace file, which [`crate::playbook::rewrite::write_script`] creates 0600 in a private temp dir and the script
//! deletes on exit. Everything else (steps, script, regex replace file) names tokens by redaction only.
//! Which patterns are safe to use (they match nothing but their token) is decided by [`unique`], the
//! one part that reads the repository.

pub mod unique;

use crate::git::command::FilterRepoSupport;
use crate::model::{Encoding, Finding, Location, Report};
use crate::secret::Secret;
use crate::util::shell::quote;
use anyhow::Result;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// What replaces a token in blobs and messages (git-filter-repo's own default, spelled out).
pub const REPLACEMENT: &str = "***REMOVED***";

/// Whether git-filter-repo treats `data` as binary, so `--replace-text` leaves it as it is (see
/// [`crate::util::text::FILTER_REPO_BINARY_PROBE`]).
pub(crate) fn is_binary_for_filter_repo(data: &[u8]) -> bool {
    crate::util::text::has_nul_within(data, crate::util::text::FILTER_REPO_BINARY_PROBE)
}

/// What the rewrite does with a binary blob (one `--replace-text` skips) that holds a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryMode {
    /// Overwrite each copy of the token in place with a mask of the same length (every form: plain,
    /// base64, UTF-16LE): the file keeps its size and offsets, so most formats still load.
    #[default]
    Mask,
    /// Remove those blobs from history (`--strip-blobs-with-ids`): the file vanishes from the commits
    /// listed; rebuild or re-add it after the rewrite.
    Strip,
}

impl BinaryMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BinaryMode::Mask => "mask",
            BinaryMode::Strip => "strip",
        }
    }
}

/// A binary blob that holds a token, with where it sits (for the plan and the question asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryFile {
    pub(crate) blob: String,
    pub(crate) paths: Vec<String>,
    pub(crate) commits: Vec<String>,
    /// The forms found in it (`plain`, `base64`, `utf16le`).
    pub(crate) forms: Vec<String>,
}

/// The binary blobs among the findings, one entry per blob, in the order found.
pub(crate) fn binary_files(report: &Report, binary_blobs: &BTreeSet<String>) -> Vec<BinaryFile> {
    let mut out: Vec<BinaryFile> = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.location == Location::Blob && binary_blobs.contains(&f.object))
    {
        let index = match out.iter().position(|b| b.blob == f.object) {
            Some(i) => i,
            None => {
                out.push(BinaryFile {
                    blob: f.object.clone(),
                    paths: Vec::new(),
                    commits: Vec::new(),
                    forms: Vec::new(),
                });
                out.len() - 1
            }
        };
        let entry = &mut out[index];
        let add = |list: &mut Vec<String>, value: &str| {
            if !list.iter().any(|v| v == value) {
                list.push(value.to_string());
            }
        };
        if let Some(path) = &f.path {
            add(&mut entry.paths, path);
        }
        if let Some(commit) = &f.commit {
            add(&mut entry.commits, commit);
        }
        add(&mut entry.forms, f.encoding.as_str());
    }
    out
}

impl BinaryFile {
    /// One line for people: path, blob, commits, forms, and what `mode` does to it.
    pub(crate) fn describe(&self, mode: BinaryMode) -> String {
        let paths = if self.paths.is_empty() {
            "(no path: a blob no commit holds)".to_string()
        } else {
            self.paths.join(", ")
        };
        let commits: Vec<&str> = self.commits.iter().map(|c| &c[..c.len().min(12)]).collect();
        let what = match mode {
            BinaryMode::Mask => "each copy of the token is overwritten in place with a mask of the same length; the file keeps its size".to_string(),
            BinaryMode::Strip => format!(
                "the file is removed from {} (blob {}); rebuild or re-add it after the rewrite",
                if commits.is_empty() { "every commit".to_string() } else { format!("commit(s) {}", commits.join(", ")) },
                &self.blob[..self.blob.len().min(12)]
            ),
        };
        format!(
            "{paths} (binary, token stored {}): {what}",
            self.forms.join(", ")
        )
    }
}

/// Ref namespaces forges create for pull/merge requests and refuse to let anyone push to. A push that
/// includes them fails ("deny updating a hidden ref"), so the plan pushes everything else and the
/// forge's support purges these.
const FORGE_READ_ONLY_REFS: &[&str] = &["refs/pull/", "refs/merge-requests/"];

/// How many extra characters each side of the redaction may be shown when the redaction's own
/// characters are not enough to make the expression match only the token. Each level reveals two more
/// characters a side; even the widest keeps 22 of a Hugging Face token's 34 random characters hidden.
const WIDEN_LEVELS: &[usize] = &[0, 2, 4];

/// Tells whether a regex pattern (Python `re` syntax that the `regex` crate also reads) matches nothing
/// in the repository but the token itself. The caller runs it over the object database.
pub type UniqueCheck<'a> = &'a dyn Fn(&Secret, &str) -> bool;

/// Everything the plan is computed from.
pub struct RewriteInput<'a> {
    /// The leaked tokens.
    pub secrets: &'a [Secret],
    /// The scan of the repository for those tokens.
    pub report: &'a Report,
    /// The remote to rewrite (e.g. `origin`).
    pub remote_name: &'a str,
    /// Its URL, credentials masked or not (it is only shown masked and used to tell a local path);
    /// None when the repository has no remote: then the local clone is rewritten in place.
    pub remote_url: Option<&'a str>,
    /// The repository (working tree root, or the git dir when bare).
    pub repo_path: &'a Path,
    /// Put the exact tokens in the replace file instead of a regex (the file is then private).
    pub literal: bool,
    /// Remove `.env`-like files that held a token from all history, not only the token in them.
    pub remove_env_files: bool,
    /// The installed git-filter-repo, as `git::command::detect_filter_repo` found it: decides whether the
    /// commands use `--sensitive-data-removal`.
    pub filter_repo: FilterRepoSupport,
    /// See [`UniqueCheck`]. Decides how much of each token a regex must show (see [`plan`]).
    pub regex_is_unique: UniqueCheck<'a>,
    /// Ids of the found blobs that git-filter-repo treats as binary (`is_binary_for_filter_repo`).
    pub binary_blobs: &'a BTreeSet<String>,
    /// What happens to those blobs.
    pub binary: BinaryMode,
    /// What replaces a token in text ([`REPLACEMENT`] by default).
    pub replacement: &'a str,
    /// The unleak binary the script runs to check its own work (`unleak verify` by fingerprint).
    pub unleak: &'a Path,
}

/// Who runs a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runner {
    /// The script runs its commands, in order, stopping at the first failure.
    Script,
    /// Shown only (the script prints it at the end): for people and forges.
    Manual,
    /// Must be done before the script runs (installing a tool); the script's preflight checks it.
    Prerequisite,
}

/// One step of the plan.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) title: String,
    /// Why the step exists, for the reader of the plan and of the script.
    pub(crate) why: String,
    /// Shell commands, quoted and ready to paste (bash; they use the variables the setup step sets).
    pub(crate) commands: Vec<String>,
    pub(crate) runner: Runner,
}

/// The replace-text file's lines.
#[derive(Clone)]
pub enum ReplaceText {
    /// `regex:` lines that show only the redaction: safe to print and to keep in a ticket.
    Regex(String),
    /// `literal:` lines holding the tokens: never printed, written 0600 by [`crate::playbook::rewrite::write_script`].
    Literal(Zeroizing<String>),
}

impl fmt::Debug for ReplaceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplaceText::Regex(text) => f.debug_tuple("Regex").field(text).finish(),
            ReplaceText::Literal(text) => {
                write!(f, "Literal(<{} lines hidden>)", text.lines().count())
            }
        }
    }
}

/// Lines `<hex of a form> <hex of its mask>` for the blob callback that masks tokens in binary blobs.
/// They hold the token: never printed, written 0600 beside the private replace file.
#[derive(Clone)]
pub struct Masks(Zeroizing<String>);

impl Masks {
    /// The lines themselves, for the one place that writes them (0600, beside the replace file).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Masks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Masks(<{} forms hidden>)", self.0.lines().count())
    }
}

/// The history-rewrite plan.
#[derive(Debug, Clone)]
pub struct RewritePlan {
    pub(crate) steps: Vec<Step>,
    /// The `--replace-text` file's contents: `regex:` lines (safe to show) or `literal:` ones (private).
    pub replace_text: ReplaceText,
    /// The same-length masks for binary blobs (literal mode only).
    pub masks: Option<Masks>,
    /// Binary blobs holding a token, and what the plan does to them.
    pub binary_files: Vec<BinaryFile>,
    pub(crate) binary: BinaryMode,
    /// Things the user must know (dropped flags, what the rewrite cannot reach).
    pub(crate) warnings: Vec<String>,
    /// Set when the plan must not run as is, with what to do instead. Shown first; the script refuses.
    pub blocked: Option<String>,
    /// Rewrite a mirror clone and push it (true), or the local clone in place (false: no remote).
    pub pushes: bool,
    /// The repository; the literal replace file must be created outside it.
    pub(crate) repo: PathBuf,
}

/// The variables every command refers to; the setup step (and the script's header) sets them.
const VAR_REPO: &str = "\"$REPO\"";

/// `regex:<pattern>==>***REMOVED***` for the token, showing only what [`Secret::redacted`] shows. None when
/// the redaction shows nothing (short tokens) or the token is not ASCII (filter-repo matches bytes).
pub(crate) fn regex_expression(secret: &Secret) -> Option<String> {
    regex_pattern(secret, 0).map(|p| format!("regex:{p}==>{REPLACEMENT}"))
}

/// The pattern alone (no `regex:`, no replacement), showing `widen` more characters each side than the
/// redaction does. It matches the token: visible prefix, a character class of the hidden middle's
/// alphabet (`[A-Za-z0-9]{30}`), visible suffix. Valid for Python `re` and for the `regex` crate.
pub(crate) fn regex_pattern(secret: &Secret, widen: usize) -> Option<String> {
    let value = secret.expose();
    if !value.is_ascii() {
        return None;
    }
    let redacted = secret.redacted();
    let (head, tail) = redacted.split_once('…')?;
    if head.is_empty() {
        return None;
    }
    let head_len = head.len() + widen;
    let tail_len = tail.len() + widen;
    if head_len + tail_len + 8 > value.len() {
        return None;
    }
    let (visible_head, rest) = value.split_at(head_len);
    let (middle, visible_tail) = rest.split_at(rest.len() - tail_len);
    Some(format!(
        "{}{}{{{}}}{}",
        escape(visible_head),
        char_class(middle),
        middle.len(),
        escape(visible_tail)
    ))
}

/// Every pattern [`plan`] may try for `secret`, narrowest first (what `respond` checks in its scan).
pub fn regex_candidates(secret: &Secret) -> Vec<String> {
    WIDEN_LEVELS
        .iter()
        .filter_map(|&widen| regex_pattern(secret, widen))
        .collect()
}

/// Escapes the characters special to Python `re` or the `regex` crate. Only those: the `regex` crate
/// gives `\<` and `\>` a meaning, and letters after a backslash are classes in both.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$-#&~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The smallest class of whole ranges covering `middle`: `[A-Za-z]`, `[A-Za-z0-9]`, plus any other
/// character escaped (`[A-Za-z0-9\-_]`). Whole ranges, so the class says nothing about the token beyond
/// its alphabet.
fn char_class(middle: &str) -> String {
    let mut upper = false;
    let mut lower = false;
    let mut digit = false;
    let mut other = BTreeSet::new();
    for c in middle.chars() {
        match c {
            'A'..='Z' => upper = true,
            'a'..='z' => lower = true,
            '0'..='9' => digit = true,
            c => {
                other.insert(c);
            }
        }
    }
    let mut class = String::from("[");
    if upper {
        class.push_str("A-Z");
    }
    if lower {
        class.push_str("a-z");
    }
    if digit {
        class.push_str("0-9");
    }
    for c in other {
        if c.is_ascii_alphanumeric() || c == '_' {
            class.push(c);
        } else {
            class.push('\\');
            class.push(c);
        }
    }
    class.push(']');
    class
}

/// A remote URL naming a directory on this machine (`/srv/x.git`, `file:///srv/x.git`): the plan can
/// prune the old objects there itself. A forge has to be asked.
fn local_remote_path(url: &str) -> Option<&str> {
    if let Some(path) = url.strip_prefix("file://") {
        return Some(path);
    }
    url.starts_with('/').then_some(url)
}

/// Builds the plan. Regex mode: each token gets the narrowest expression the caller's
/// [`RewriteInput::regex_is_unique`] accepts, widening the visible part two characters a side at a time
/// (up to four more); when even the widest matches other text, rewriting with it would damage the
/// repository, so the plan is blocked and asks for `--literal`.
pub fn plan(input: &RewriteInput) -> RewritePlan {
    let mut warnings = Vec::new();
    let findings = &input.report.findings;
    let pushes = input.remote_url.is_some();

    let (patterns, mut blocked) = choose_patterns(input);
    // Binary blobs: --replace-text skips them, so they get a step of their own (mask or strip).
    let binary_files = binary_files(input.report, input.binary_blobs);
    let masking = input.binary == BinaryMode::Mask && !binary_files.is_empty();
    let forced = forced_literal(input.report, masking);
    let literal = input.literal || forced.is_some();
    if let (Some(why), false) = (forced, input.literal) {
        blocked = None;
        warnings.push(format!(
            "{why}, so the replace file holds the exact forms and is private (0600, deleted by the script once it succeeds) as with --literal"
        ));
    }
    if let Err(reason) = check_replacement(input.replacement) {
        blocked = Some(reason);
    }
    let replace_text = replace_text(input, literal, &patterns);
    let masks = literal.then(|| mask_lines(input.secrets));
    if let Some(reason) = uncovered(input, &binary_files, literal) {
        blocked = Some(reason);
    }

    let drop_paths = env_files_to_drop(input, &mut warnings);
    let (drop_regexes, unnamed) = names_to_drop(input, &patterns);
    if unnamed.is_some() {
        blocked = unnamed;
    }
    warnings.extend(filter_repo_warnings(input));

    let filter_args = FilterArgs {
        mask: masks.is_some(),
        strip: if input.binary == BinaryMode::Strip {
            binary_files.iter().map(|b| b.blob.clone()).collect()
        } else {
            Vec::new()
        },
        sdr: input.filter_repo.sdr(),
        messages: findings
            .iter()
            .any(|f| matches!(f.location, Location::CommitMessage | Location::TagMessage)),
        drop_paths,
        drop_regexes,
    };
    let steps = plan_steps(input, &replace_text, &filter_args, pushes);

    RewritePlan {
        steps,
        replace_text,
        masks,
        binary_files,
        binary: input.binary,
        warnings,
        blocked,
        pushes,
        repo: input.repo_path.to_path_buf(),
    }
}

/// The narrowest expression [`RewriteInput::regex_is_unique`] accepts for each token (None when no
/// level does), also used in literal mode for tokens inside file names. Without --literal, a token with
/// none blocks the plan: the reason for the last such token is returned.
fn choose_patterns(input: &RewriteInput) -> (Vec<Option<String>>, Option<String>) {
    let mut blocked = None;
    let mut patterns: Vec<Option<String>> = Vec::new();
    for secret in input.secrets {
        let chosen = WIDEN_LEVELS.iter().find_map(|&widen| {
            regex_pattern(secret, widen).filter(|p| (input.regex_is_unique)(secret, p))
        });
        if chosen.is_none() && !input.literal {
            blocked = Some(format!(
                "no expression that hides {} matches only that token in this repository (it is short, not ASCII, or other text looks like it); rewriting with it would change other text. Rerun with --literal: the exact token then goes into a private 0600 file that the script deletes",
                secret.redacted()
            ));
        }
        patterns.push(chosen);
    }
    (patterns, blocked)
}

/// Why the replace file must list the exact forms even without --literal, if it must. A regex that
/// hides the token cannot describe its base64 or UTF-16 forms, and those forms are the token all the
/// same: when the scan found any, the replace file lists every form literally and so becomes private
/// (as with --literal). Masking binary blobs needs the exact forms too.
fn forced_literal(report: &Report, masking: bool) -> Option<String> {
    let encoded: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.encoding != Encoding::Plain)
        .map(|f| f.encoding.as_str())
        .collect();
    if !encoded.is_empty() {
        Some(format!(
            "the token is also stored encoded ({}): those forms are replaced too",
            encoded.iter().copied().collect::<Vec<_>>().join(", ")
        ))
    } else if masking {
        Some("binary files hold it and are masked in place".to_string())
    } else {
        None
    }
}

/// The `--replace-text` file: every form of every token as `literal:` lines (private), or the chosen
/// expressions as `regex:` lines (safe to show).
fn replace_text(input: &RewriteInput, literal: bool, patterns: &[Option<String>]) -> ReplaceText {
    if literal {
        let mut lines = Zeroizing::new(String::new());
        for secret in input.secrets {
            for (_, form) in crate::matching::exact::forms(secret) {
                let Ok(form) = std::str::from_utf8(&form) else {
                    continue;
                };
                if form.contains('\n') || form.contains('\0') {
                    continue;
                }
                lines.push_str("literal:");
                lines.push_str(form);
                lines.push_str("==>");
                lines.push_str(input.replacement);
                lines.push('\n');
            }
        }
        ReplaceText::Literal(lines)
    } else {
        // Python's re.sub reads backslashes in the replacement as group references.
        let replacement = input.replacement.replace('\\', "\\\\");
        let mut lines = String::new();
        for pattern in patterns.iter().flatten() {
            lines.push_str(&format!("regex:{pattern}==>{replacement}\n"));
        }
        ReplaceText::Regex(lines)
    }
}

/// With --remove-env-files, the `.env`-like files that held a token, to drop from all history. A name
/// that cannot be given plainly is left to the user, with a warning.
fn env_files_to_drop(input: &RewriteInput, warnings: &mut Vec<String>) -> Vec<String> {
    let mut drop_paths = BTreeSet::new();
    if input.remove_env_files {
        for f in input
            .report
            .findings
            .iter()
            .filter(|f| f.location == Location::Blob)
        {
            if let Some(path) = f.path.as_deref().filter(|p| crate::dotenv::is_env_path(p)) {
                if path.contains("\\x") || path.contains('…') {
                    warnings.push(format!(
                        "{path}: the name is not plain UTF-8 or holds a token; remove it with --path-regex by hand"
                    ));
                } else {
                    drop_paths.insert(path.to_string());
                }
            }
        }
    }
    drop_paths.into_iter().collect()
}

/// Expressions naming the files whose very name holds a token, to drop. A copy the plan would leave
/// is an error now, not a gap found after the push: the reason for the last name no expression covers
/// is returned to block the plan.
fn names_to_drop(
    input: &RewriteInput,
    patterns: &[Option<String>],
) -> (Vec<String>, Option<String>) {
    let mut blocked = None;
    let mut drop_regexes = BTreeSet::new();
    for f in input
        .report
        .findings
        .iter()
        .filter(|f| f.location == Location::Path)
    {
        match secret_index(input.secrets, f).and_then(|i| patterns[i].clone()) {
            Some(pattern) => {
                drop_regexes.insert(pattern);
            }
            None => {
                blocked = Some(format!(
                    "a file name holds {} ({}); --replace-text does not change names and no safe expression names it: remove the file with git filter-repo --invert-paths --path by hand first, then plan again",
                    f.secret.redacted,
                    f.path.as_deref().unwrap_or("?")
                ))
            }
        }
    }
    (drop_regexes.into_iter().collect(), blocked)
}

/// What the installed git-filter-repo and the way it rewrites cost the user: an old version without
/// --sensitive-data-removal, and stash entries lost with the reflogs it expires.
fn filter_repo_warnings(input: &RewriteInput) -> Vec<String> {
    let mut warnings = Vec::new();
    if !input.filter_repo.sdr() {
        warnings.push("the installed git-filter-repo predates --sensitive-data-removal (2.47), so the plan leaves it out: filter-repo will not list the first changed commits, and it removes the `origin` remote of an in-place rewrite (the script adds it back). Install 2.47 or newer for both: `pipx install git-filter-repo` (`pipx upgrade` if pipx installed it); Debian 12's and Ubuntu 24.04's packages are older, so remove theirs (`sudo apt-get remove git-filter-repo`) or put ~/.local/bin first on PATH".to_string());
    }
    if input.report.findings.iter().any(|f| {
        f.reflogs
            .iter()
            .chain(&f.refs)
            .any(|r| r.starts_with("refs/stash"))
    }) {
        warnings.push("git-filter-repo expires every reflog of the clone it rewrites, so stash entries below the newest are lost: turn any you need into branches first (`git stash branch NAME stash@{N}`); the script stops if it would lose one".to_string());
    }
    warnings
}

/// The steps in order: setup, installing filter-repo when missing, preflight, the mirror's rewrite
/// and push (when there is a remote), this clone's rewrite, and what people and forges must do.
fn plan_steps(
    input: &RewriteInput,
    replace_text: &ReplaceText,
    filter_args: &FilterArgs,
    pushes: bool,
) -> Vec<Step> {
    let stash_drops = stash_entries(input.report);
    let mut steps = Vec::new();
    steps.push(setup_step(input, replace_text, filter_args));
    if input.filter_repo == FilterRepoSupport::Missing {
        steps.push(Step {
            title: "Install git-filter-repo".into(),
            why: "git-filter-repo rewrites history fast and safely; it is a single Python script. It must be 2.47 or newer (--sensitive-data-removal). The PyPI release is; Debian 12's and Ubuntu 24.04's packages are older, and a user-wide pip install is refused there (externally-managed-environment). Any of these installs a current one".into(),
            commands: vec![
                "pipx install git-filter-repo   # Debian/Ubuntu: sudo apt-get install pipx; then pipx ensurepath".into(),
                "python3 -m venv ~/.local/share/git-filter-repo && ~/.local/share/git-filter-repo/bin/pip install git-filter-repo && ln -s ~/.local/share/git-filter-repo/bin/git-filter-repo ~/.local/bin/   # without pipx; ~/.local/bin on PATH".into(),
                "brew install git-filter-repo   # macOS".into(),
            ],
            runner: Runner::Prerequisite,
        });
    }
    steps.push(preflight_step(input, filter_args, stash_drops.len()));
    if pushes {
        steps.extend(remote_steps(input, filter_args));
    }
    steps.extend(local_steps(input, filter_args, &stash_drops));
    steps.extend(people_steps(input, pushes));
    steps
}

/// A replacement filter-repo can take: one line, no `==>` (its separator), not empty.
fn check_replacement(text: &str) -> Result<(), String> {
    if text.is_empty() || text.contains(['\n', '\r', '\0']) || text.contains("==>") {
        return Err(
            "--replacement must be one non-empty line without `==>` (git-filter-repo's separator)"
                .into(),
        );
    }
    Ok(())
}

/// `<hex form> <hex mask>` per form of every token, longest first. The mask keeps the length and the
/// shape: `*` for plain text, `A` for base64 (still decodes), `*` in UTF-16LE for UTF-16LE.
fn mask_lines(secrets: &[Secret]) -> Masks {
    let mut forms: Vec<(Encoding, Zeroizing<Vec<u8>>)> = secrets
        .iter()
        .flat_map(crate::matching::exact::forms)
        .collect();
    forms.sort_by_key(|(_, form)| std::cmp::Reverse(form.len()));
    let mut out = Zeroizing::new(String::new());
    for (encoding, form) in &forms {
        let mask: Vec<u8> = match encoding {
            Encoding::Plain => vec![b'*'; form.len()],
            Encoding::Base64 => vec![b'A'; form.len()],
            Encoding::Utf16le => b"*\0".repeat(form.len() / 2),
        };
        for byte in form.iter() {
            out.push_str(&format!("{byte:02x}"));
        }
        out.push(' ');
        for byte in &mask {
            out.push_str(&format!("{byte:02x}"));
        }
        out.push('\n');
    }
    Masks(out)
}

/// What the scan found that this plan would leave in place, as the reason the plan is blocked. Checked
/// here, so a gap is an error before anything runs, never a copy left behind.
fn uncovered(input: &RewriteInput, binary: &[BinaryFile], literal: bool) -> Option<String> {
    let mut gaps = BTreeSet::new();
    for f in &input.report.findings {
        let is_binary = binary.iter().any(|b| b.blob == f.object);
        match f.location {
            // Binary blobs: masked (every form) or stripped. Text blobs: --replace-text, which in regex
            // mode only knows the plain form (encoded forms force literal mode above).
            Location::Blob if is_binary => {}
            Location::Blob if f.encoding == Encoding::Plain || literal => {}
            Location::CommitMessage | Location::TagMessage
                if f.encoding == Encoding::Plain || literal =>
            {
                if f.encoding == Encoding::Utf16le {
                    gaps.insert(format!(
                        "{} holds {} as UTF-16LE, which --replace-message cannot name",
                        f.location.as_str(),
                        f.secret.redacted
                    ));
                }
            }
            // File names: handled (--path-regex) or already warned about below.
            Location::Path => {}
            _ => {
                gaps.insert(format!(
                    "{} {} holds {} as {}",
                    f.location.as_str(),
                    f.path.as_deref().unwrap_or(""),
                    f.secret.redacted,
                    f.encoding.as_str()
                ));
            }
        }
    }
    if gaps.is_empty() {
        return None;
    }
    Some(format!(
        "the plan cannot rewrite every copy the scan found: {}. Rerun with --literal",
        gaps.into_iter().collect::<Vec<_>>().join("; ")
    ))
}

fn secret_index(secrets: &[Secret], finding: &Finding) -> Option<usize> {
    secrets
        .iter()
        .position(|s| s.fingerprint() == finding.secret.fingerprint)
}

/// Stash entry numbers holding a token, highest first so dropping one does not renumber the next.
fn stash_entries(report: &Report) -> Vec<u32> {
    let mut entries = BTreeSet::new();
    let refs = report
        .findings
        .iter()
        .flat_map(|f| f.refs.iter())
        .chain(report.secrets.iter().flat_map(|s| s.refs.iter()));
    for name in refs {
        if name == "refs/stash" {
            entries.insert(0);
        } else if let Some(n) = name
            .strip_prefix("refs/stash@{")
            .and_then(|r| r.strip_suffix('}'))
            .and_then(|n| n.parse::<u32>().ok())
        {
            entries.insert(n);
        }
    }
    entries.into_iter().rev().collect()
}

/// The git-filter-repo options common to the mirror and the in-place rewrite.
struct FilterArgs {
    sdr: bool,
    messages: bool,
    drop_paths: Vec<String>,
    drop_regexes: Vec<String>,
    /// Run the blob callback that masks every form of the token left in a blob (binary ones above all).
    mask: bool,
    /// Blob ids to remove from history (`--binary strip`).
    strip: Vec<String>,
}

impl FilterArgs {
    /// `git-filter-repo ...` run inside `git_dir`, with `extra` (`--force`, `--no-fetch`) after the
    /// filters. The executable itself, never `git filter-repo` (an alias in a repository's config could
    /// answer to that name). stdin is closed: filter-repo asks questions in a few situations, and an
    /// unattended run must fail instead of wait.
    fn command(&self, git_dir: &str, extra: &[&str]) -> String {
        let mut cmd = format!("(cd {git_dir} && git-filter-repo");
        if self.sdr {
            cmd.push_str(" --sensitive-data-removal");
        }
        cmd.push_str(" --replace-text \"$REPLACE_FILE\"");
        if self.messages {
            cmd.push_str(" --replace-message \"$REPLACE_FILE\"");
        }
        if self.mask {
            cmd.push_str(" --blob-callback \"$MASK_CALLBACK\"");
        }
        if !self.strip.is_empty() {
            cmd.push_str(" --strip-blobs-with-ids \"$STRIP_FILE\"");
        }
        if !self.drop_paths.is_empty() || !self.drop_regexes.is_empty() {
            cmd.push_str(" --invert-paths");
            for path in &self.drop_paths {
                cmd.push_str(&format!(" --path={}", quote(path)));
            }
            for regex in &self.drop_regexes {
                cmd.push_str(&format!(" --path-regex={}", quote(regex)));
            }
        }
        for arg in extra {
            cmd.push(' ');
            cmd.push_str(arg);
        }
        cmd.push_str(" </dev/null)");
        if self.sdr {
            // Its closing advice ("force push …") is what this script does next, or has done.
            cmd.push_str(" | without_filter_repo_advice");
        }
        cmd
    }
}

/// The blob callback (`--blob-callback FILE`): replaces each form of the token still in a blob with its
/// same-length mask. It holds no token: it reads the forms from the private file `UNLEAK_MASK_FILE`
/// names, once.
const MASK_CALLBACK: &str = r#"global _unleak_masks
try:
  masks = _unleak_masks
except NameError:
  import os
  with open(os.environ['UNLEAK_MASK_FILE'], 'rb') as handle:
    words = handle.read().split()
  masks = [(bytes.fromhex(words[i].decode()), bytes.fromhex(words[i + 1].decode())) for i in range(0, len(words) - 1, 2)]
  _unleak_masks = masks
for form, mask in masks:
  if form in blob.data:
    blob.data = blob.data.replace(form, mask)
"#;

/// `check_copy DIR LABEL [verify options]`: runs `unleak verify` by fingerprint (no plaintext) on a
/// repository and prints what still holds the token (commit, path, form, refs), and the working-tree
/// files that do (the user's files: listed, not counted). Returns 1 when any copy is left.
const CHECK_COPY: &str = r#"check_copy() {
  local target=$1 label=$2 rc=0
  shift 2
  local out="$WORK/verify-$RANDOM.json"
  "$UNLEAK" --quiet verify "${FINGERPRINTS[@]}" --format json "$@" -- "$target" >"$out" 2>"$out.err" || rc=$?
  if [ "$rc" -gt 1 ]; then cat "$out.err" >&2; echo "unleak verify could not check $label (exit $rc)" >&2; return 2; fi
  python3 - "$out" "$label" "$rc" <<'UNLEAK_PY'
import json, sys
report = json.load(open(sys.argv[1]))
label, rc = sys.argv[2], int(sys.argv[3])
left = []
for f in report.get('findings', []):
    where = f.get('path') or f.get('summary') or ''
    refs = ', '.join(f.get('refs') or []) or 'no ref (an unreachable object or a reflog)'
    left.append('%s %s in commit %s (%s), held by %s' % (f['location'], where, (f.get('commit') or '-')[:12], f['encoding'], refs))
check = report.get('verification') or {}
for c in check.get('first_changed', []):
    if c.get('exists'):
        left.append('old commit %s is still here, held by %s' % (c['commit'][:12], ', '.join(c.get('refs') or []) or 'no ref'))
for path in check.get('git_dir_files', []):
    if 'unleak/backups/' in path:
        repo = report.get('repository', {}).get('path', '.')
        where = '%s/%s' % (repo.rstrip('/'), path)
        left.append("the .env backup --backup kept (%s) holds the old token: once the new token works, delete it (rm -- '%s'), then run this script again" % (path, where.replace("'", "'\\''")))
    else:
        left.append('file %s in the git dir' % path)
for ref in check.get('leftover_refs', []):
    left.append('leftover ref %s' % ref)
work = sorted({p for s in report.get('secrets', []) for p in s.get('in_worktree') or []})
for path in work:
    print('note: %s in the working tree still holds the token: your file, edit or delete it' % path)
if not left and rc == 1 and not work:
    left.append('unleak verify reports a copy (run it by hand to see where)')
if left:
    print('%s still holds the token:' % label, file=sys.stderr)
    for line in left:
        print('  ' + line, file=sys.stderr)
    sys.exit(1)
print('%s: no copy left' % label)
UNLEAK_PY
}"#;

/// Python that loads the script's needles: the replace file's own expressions (`regex:` and `literal:`
/// lines) and, when there are any, the private mask forms. Used by [`LIST_WORKTREE`] and
/// [`GREP_OBJECTS`], so what the script looks for is exactly what it replaced.
const NEEDLES_PY: &str = r#"import os, re, subprocess, sys
needles = []
for line in open(os.environ['REPLACE_FILE'], 'rb').read().splitlines():
    body = line.rsplit(b'==>', 1)[0]
    if body.startswith(b'regex:'):
        needles.append(re.compile(body[6:]))
    elif body.startswith(b'literal:'):
        needles.append(re.compile(re.escape(body[8:])))
masks = os.environ.get('UNLEAK_MASK_FILE')
if masks and os.path.exists(masks):
    words = open(masks, 'rb').read().split()
    needles += [re.compile(re.escape(bytes.fromhex(w.decode()))) for w in words[0::2]]
"#;

/// `list_worktree`: names the working-tree files (tracked, untracked, and ignored `.env`-like ones) that
/// still hold a form of the token. They are the user's files: listed, never changed or counted.
const LIST_WORKTREE: &str = r#"repo = os.environ['REPO']
def files(*args):
    out = subprocess.run(['git', '-C', repo, 'ls-files', '-z'] + list(args), capture_output=True).stdout
    return {p for p in out.split(b'\0') if p}
paths = files('--cached', '--others', '--exclude-standard')
paths |= files('--others', '--ignored', '--exclude-standard', '--', '*.env', '*.env.*', '.env*', '**/.env*')
for path in sorted(paths):
    full = os.path.join(repo.encode(), path)
    try:
        if not os.path.isfile(full) or os.path.getsize(full) > (64 << 20):
            continue
        data = open(full, 'rb').read()
    except OSError:
        continue
    if any(n.search(data) for n in needles):
        for n in needles:
            path = n.sub(b'[token]', path)
        name = ''.join(c if c.isprintable() else '?' for c in path.decode('utf-8', 'replace'))
        print('note: %s in the working tree still holds the old token: your file, edit or delete it' % name)
"#;

/// `grep_objects DIR LABEL`: a second opinion beside `unleak verify`, with the script's own needles:
/// every object of DIR (`git cat-file --batch-all-objects`, unreachable ones included) is searched;
/// returns 1 and names the objects when any holds a form of the token.
const GREP_OBJECTS: &str = r#"target, label = sys.argv[1], sys.argv[2]
proc = subprocess.Popen(['git', '-C', target, 'cat-file', '--batch-all-objects', '--batch', '--unordered'], stdout=subprocess.PIPE)
held = []
while True:
    header = proc.stdout.readline()
    if not header:
        break
    oid, kind, size = header.split()[:3]
    data = proc.stdout.read(int(size))
    proc.stdout.read(1)
    if any(n.search(data) for n in needles):
        held.append('%s %s' % (kind.decode(), oid.decode()))
if proc.wait() != 0:
    print('git cat-file failed on %s' % label, file=sys.stderr)
    sys.exit(2)
if held:
    print('%s: %d object(s) still hold a form of the token:' % (label, len(held)), file=sys.stderr)
    for line in held[:20]:
        print('  ' + line, file=sys.stderr)
    sys.exit(1)
"#;

/// A bash function running `body` (after [`NEEDLES_PY`]) with the function's arguments.
fn python_function(name: &str, body: &str) -> String {
    format!(
        "{name}() {{\n  REPO=\"$REPO\" REPLACE_FILE=\"$REPLACE_FILE\" python3 - \"$@\" <<'UNLEAK_PY'\n{NEEDLES_PY}{body}UNLEAK_PY\n}}"
    )
}

/// Counts the commits and refs a filter-repo run changed (its `commit-map` and `ref-map`, in `$1`).
/// Passes git-filter-repo's output on without its closing "NEXT STEPS FOR YOUR SENSITIVE DATA REMOVAL"
/// advice: the script does those steps itself (push, check), so the advice would tell the user to
/// repeat a push already done.
const WITHOUT_ADVICE: &str = r#"without_filter_repo_advice() { awk '/^NEXT STEPS FOR YOUR SENSITIVE DATA REMOVAL/ { skip = 1 } !skip'; }"#;

const CHANGED_COUNT: &str = r#"changed_count() { cat "$1/commit-map" "$1/ref-map" 2>/dev/null | awk '$1 != $2 && $1 ~ /^[0-9a-f]+$/' | wc -l; }"#;

fn setup_step(input: &RewriteInput, replace: &ReplaceText, filter: &FilterArgs) -> Step {
    let repo = input.repo_path.display().to_string();
    let mut commands = vec![
        format!("REPO={}", quote(&repo)),
        "WORK=$(mktemp -d \"${TMPDIR:-/tmp}/unleak-rewrite.XXXXXX\")".to_string(),
    ];
    if input.remote_url.is_some() {
        commands.push(format!("REMOTE={}", quote(input.remote_name)));
        commands.push(format!(
            "REMOTE_URL=$(git -C {VAR_REPO} remote get-url -- \"$REMOTE\")"
        ));
        // A relative path is relative to the repository, not to where the script runs.
        commands.push(
            "case \"$REMOTE_URL\" in /* | *://* | *:*) ;; *) REMOTE_URL=$(cd \"$REPO\" && cd \"$REMOTE_URL\" && pwd) ;; esac".into(),
        );
    }
    commands.push(format!(
        "UNLEAK=\"${{UNLEAK_BIN:-{}}}\"",
        input
            .unleak
            .display()
            .to_string()
            .replace(['"', '$', '`', '\\'], "_")
    ));
    let mut fingerprints = Vec::new();
    for secret in input.secrets {
        let fingerprint = secret.fingerprint();
        if !fingerprints.contains(&fingerprint) {
            fingerprints.push(fingerprint);
        }
    }
    commands.push(format!(
        "FINGERPRINTS=({})",
        fingerprints
            .iter()
            .map(|f| format!("--fingerprint {f}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let mut why = match replace {
        ReplaceText::Regex(lines) => {
            commands.push("REPLACE_FILE=\"$WORK/replace-text.txt\"".into());
            commands.push(format!(
                "cat > \"$REPLACE_FILE\" <<'UNLEAK_EOF'\n{}UNLEAK_EOF",
                lines
            ));
            "A scratch directory for the mirror, and the replacement expressions: each one shows only the token's redaction and a character class for the hidden middle, so this plan can be pasted into a ticket. The remote URL is read from git, so no credential in it is copied here.".to_string()
        }
        ReplaceText::Literal(_) => {
            commands.push("REPLACE_FILE=<a 0600 file in a private temp dir outside the repository, written by `unleak respond --write-script`>".into());
            "A scratch directory for the mirror. The expressions hold the exact tokens, so they are never printed: `--write-script` writes them into a private file, which the script deletes once it has succeeded (a failed run keeps it, so the script can be rerun).".to_string()
        }
    };
    if filter.mask {
        commands.push(
            "export UNLEAK_MASK_FILE=\"$(dirname -- \"$REPLACE_FILE\")/mask-forms.txt\"".into(),
        );
        commands.push("MASK_CALLBACK=\"$WORK/mask-callback.py\"".into());
        commands.push(format!(
            "cat > \"$MASK_CALLBACK\" <<'UNLEAK_EOF'\n{MASK_CALLBACK}UNLEAK_EOF"
        ));
        why.push_str(" The blob callback masks every form of the token left in a blob (binary files, which --replace-text skips): it reads the forms from the private file beside the replace file.");
    }
    if !filter.strip.is_empty() {
        commands.push("STRIP_FILE=\"$WORK/strip-blob-ids.txt\"".into());
        commands.push(format!(
            "cat > \"$STRIP_FILE\" <<'UNLEAK_EOF'\n{}\nUNLEAK_EOF",
            filter.strip.join("\n")
        ));
        why.push_str(" The ids of the binary blobs to remove from history.");
    }
    commands.push(CHECK_COPY.into());
    commands.push(CHANGED_COUNT.into());
    if filter.sdr {
        commands.push(WITHOUT_ADVICE.into());
    }
    commands.push(python_function("grep_objects", GREP_OBJECTS));
    if !input.report.repository.bare {
        commands.push(python_function("list_worktree", LIST_WORKTREE));
    }
    why.push_str(
        " Helpers: check_copy runs `unleak verify` by fingerprint (never the token) on a copy and names what is left; grep_objects searches every object of a copy with the replace file's own needles; list_worktree names the working-tree files that still hold the token.",
    );
    Step {
        title: "Set up".into(),
        why,
        commands,
        runner: Runner::Script,
    }
}

fn preflight_step(input: &RewriteInput, filter: &FilterArgs, drops: usize) -> Step {
    let mut commands = vec![
        "[ -r \"$REPLACE_FILE\" ] || { echo \"the replace file $REPLACE_FILE is gone (a previous run of this script succeeded and deleted it, or it was removed): run unleak respond --write-script again for a new script\" >&2; exit 1; }".to_string(),
        "command -v git-filter-repo >/dev/null || { echo 'git-filter-repo (2.47 or newer) is not installed: pipx install git-filter-repo (Debian/Ubuntu: sudo apt-get install pipx first; the distribution package is too old), then run this script again' >&2; exit 1; }".to_string(),
        "[ -x \"$UNLEAK\" ] || { echo \"unleak is not at $UNLEAK (the script checks its work with it): set UNLEAK_BIN to its path\" >&2; exit 1; }".to_string(),
    ];
    if filter.sdr {
        commands.push("git-filter-repo -h 2>/dev/null | grep -q -- --sensitive-data-removal || { echo 'this git-filter-repo predates --sensitive-data-removal (2.47): install 2.47 or newer (pipx install git-filter-repo; remove the distribution package or put ~/.local/bin first on PATH), or run unleak again to plan without it' >&2; exit 1; }".into());
    }
    if !input.report.repository.bare {
        commands.push(format!(
            "test -z \"$(git -C {VAR_REPO} status --porcelain --untracked-files=no)\" || {{ echo \"$REPO has uncommitted changes to tracked files, and the in-place rewrite resets them: commit or stash them first (if unleak respond untracked .env, commit that: git commit -m 'Stop tracking .env'), then run this script again. Nothing was changed.\" >&2; exit 1; }}"
        ));
        commands.push(format!(
            "[ ! -e \"$(git -C {VAR_REPO} rev-parse --absolute-git-dir)/MERGE_HEAD\" ] || {{ echo 'a merge is in progress: finish or abort it first. Nothing was changed.' >&2; exit 1; }}"
        ));
    }
    commands.push(format!(
        "[ \"$(git -C {VAR_REPO} stash list | wc -l)\" -le {} ] || {{ echo 'the rewrite expires reflogs, which would lose stash entries below the newest: turn them into branches (git stash branch NAME stash@{{N}}) or drop them first. Nothing was changed.' >&2; exit 1; }}",
        drops + 1
    ));
    Step {
        title: "Check before changing anything".into(),
        why: "Every check runs before the first change, so a failure leaves the repository, the remote and the private replace file as they were: fix what it says and run the script again.".into(),
        commands,
        runner: Runner::Script,
    }
}

fn remote_steps(input: &RewriteInput, filter: &FilterArgs) -> Vec<Step> {
    let mut steps = vec![
        Step {
            title: "Mirror-clone the remote".into(),
            why: format!(
                "git-filter-repo wants a fresh clone, and a mirror clone holds every ref of {} ({}), not only branches and tags. --no-local makes a clone of a local path a real, freshly packed clone instead of hard links.",
                input.remote_name,
                crate::git::remote::mask_url_credentials(input.remote_url.unwrap_or_default())
            ),
            commands: vec!["git clone --quiet --mirror --no-local \"$REMOTE_URL\" \"$WORK/mirror.git\"".into()],
            runner: Runner::Script,
        },
        Step {
            title: "Rewrite the mirror's history".into(),
            why: rewrite_why(filter, "A mirror clone is fresh, so no --force; filter-repo skips its own fetch for mirrors, which already hold every ref."),
            commands: vec![filter.command("\"$WORK/mirror.git\"", &[])],
            runner: Runner::Script,
        },
        Step {
            title: "Stop if the rewrite changed nothing".into(),
            why: "When filter-repo changed no commit and no ref, either an earlier run already pushed the rewrite (the remote holds no copy: nothing to push), or the plan does not reach how the token is stored: then nothing is pushed and the script stops.".into(),
            commands: vec![
                "PUSH=1".into(),
                "if [ \"$(changed_count \"$WORK/mirror.git/filter-repo\")\" -eq 0 ]; then if check_copy \"$WORK/mirror.git\" \"the remote $REMOTE\" && grep_objects \"$WORK/mirror.git\" \"the remote $REMOTE\"; then echo 'the remote holds no copy (an earlier run pushed the rewrite, or the token was never pushed): nothing to push'; PUSH=0; else echo 'git-filter-repo changed nothing in the mirror, yet the remote holds the token (above): this plan does not reach how it is stored. Nothing was pushed; run unleak scan on the mirror to see the forms, and report it' >&2; exit 1; fi; fi".into(),
            ],
            runner: Runner::Script,
        },
        Step {
            title: "Show what changed".into(),
            why: "filter-repo records the first changed commits and every ref's old and new commit; forges' support and collaborators need the first changed commits. A copy goes to the repository's git dir (commit ids only). A run that changed nothing (run again after success) keeps the copy of the run that did.".into(),
            commands: vec![
                "META=\"$(git -C \"$REPO\" rev-parse --absolute-git-dir)/unleak-rewrite\"".into(),
                "mkdir -p \"$META\"".into(),
                "if [ \"$PUSH\" = 1 ]; then cp \"$WORK/mirror.git/filter-repo/\"{commit-map,ref-map} \"$META/\"; rm -f -- \"$META/first-changed-commits\"; if [ -e \"$WORK/mirror.git/filter-repo/first-changed-commits\" ]; then cp \"$WORK/mirror.git/filter-repo/first-changed-commits\" \"$META/\"; fi; elif [ -s \"$META/first-changed-commits\" ]; then echo \"this run changed nothing: $META/first-changed-commits is kept from the run that did\"; fi".into(),
                "if [ -s \"$META/first-changed-commits\" ]; then echo 'first changed commits (old new):'; cat \"$META/first-changed-commits\"; fi".into(),
                "if [ -e \"$META/ref-map\" ]; then echo \"changed refs: $(awk 'NR > 1 && $1 != $2' \"$META/ref-map\" | wc -l), rewritten commits: $(awk 'NR > 1 && $1 != $2' \"$META/commit-map\" | wc -l)\"; fi".into(),
                "PRS=0; if [ -e \"$META/ref-map\" ]; then PRS=$(awk '$1 != $2 && $3 ~ /^refs\\/(pull|merge-requests)\\/[0-9]+\\// { split($3, p, \"/\"); print p[2] \"/\" p[3] }' \"$META/ref-map\" | sort -u | wc -l); fi".into(),
            ],
            runner: Runner::Script,
        },
        Step {
            title: "Push the rewritten history".into(),
            why: format!(
                "This is `git push --force --mirror origin` without the namespaces forges keep read-only ({}): with them the push fails ('deny updating a hidden ref'). Those are tried separately. A refused ref does not stop the script here: the check of what a new clone gets (below) names every copy left, and the script then exits non-zero.",
                FORGE_READ_ONLY_REFS.join(", ")
            ),
            commands: vec![
                "PUSH_FAILED=0".into(),
                "if [ \"$PUSH\" = 1 ]; then git -C \"$WORK/mirror.git\" -c remote.origin.mirror=false push --force --prune origin '+refs/*:refs/*' '^refs/pull/*' '^refs/merge-requests/*' || { PUSH_FAILED=1; echo 'the remote refused some refs (above); the check below names what it still serves' >&2; }; fi".into(),
                "if [ \"$PUSH\" = 1 ] && [ -n \"$(git -C \"$WORK/mirror.git\" for-each-ref refs/pull refs/merge-requests)\" ]; then git -C \"$WORK/mirror.git\" push --force origin '+refs/pull/*:refs/pull/*' '+refs/merge-requests/*:refs/merge-requests/*' || echo \"the remote refuses to update pull-request refs: $PRS pull/merge request(s) still show the token; contact the forge's support (see below)\"; fi".into(),
            ],
            runner: Runner::Script,
        },
    ];
    let relative = input
        .remote_url
        .filter(|u| !u.contains(':') && !u.starts_with('/'))
        .map(|u| input.repo_path.join(u).display().to_string());
    if let Some(path) = relative
        .as_deref()
        .or(input.remote_url)
        .and_then(local_remote_path)
    {
        steps.push(Step {
            title: "Prune the old objects on the remote".into(),
            why: "The remote is a directory on this machine: after the push its old objects are unreachable but still on disk, where anyone who can read it finds them.".into(),
            commands: vec![
                format!("git -C {} reflog expire --expire=now --all", quote(path)),
                format!("git -C {} gc --quiet --prune=now", quote(path)),
            ],
            runner: Runner::Script,
        });
    }
    steps
}

fn rewrite_why(filter: &FilterArgs, context: &str) -> String {
    let mut why = String::from("Replace the token in every file of every commit");
    if filter.messages {
        why.push_str(", and in commit and tag messages (the scan found it there)");
    }
    if filter.mask {
        why.push_str("; mask every form of it left in a blob (binary files, which --replace-text skips) with bytes of the same length");
    }
    if !filter.strip.is_empty() {
        why.push_str(&format!(
            "; remove the {} binary blob(s) that hold it (--strip-blobs-with-ids)",
            filter.strip.len()
        ));
    }
    if !filter.drop_paths.is_empty() {
        why.push_str(&format!(
            "; drop {} from all history",
            filter.drop_paths.join(", ")
        ));
    }
    if !filter.drop_regexes.is_empty() {
        why.push_str(
            "; drop files whose name holds the token (--replace-text does not change names)",
        );
    }
    why.push('.');
    if filter.sdr {
        why.push_str(" --sensitive-data-removal makes filter-repo record what other copies need to clean up.");
    }
    why.push(' ');
    why.push_str(context);
    why
}

/// This clone's steps: drop the stash entries that hold the token, rewrite in place, leave the clone
/// clean, and check that no copy is left.
fn local_steps(input: &RewriteInput, filter: &FilterArgs, stash_drops: &[u32]) -> Vec<Step> {
    let pushes = input.remote_url.is_some();
    let mut steps = Vec::new();
    steps.extend(stash_drop_step(stash_drops));
    steps.push(rewrite_in_place_step(input, filter, pushes));
    steps.push(clean_clone_step(pushes));
    if pushes && !input.report.repository.bare {
        steps.push(push_untracking_step());
    }
    steps.push(check_step(input, pushes));
    steps
}

/// The subject of the commit `unleak respond` makes when it stops tracking `.env` (and commits the
/// ignore rule): the script pushes that commit, and only that one, after the rewrite.
pub const UNTRACK_SUBJECT: &str = "Stop tracking secrets";

/// After the rewrite the remote's branch still tracks `.env` (its token replaced): the commit respond
/// made to stop tracking it is pushed, as a fast-forward, so the remote ends as clean as this clone.
/// Any other unpushed commit is the user's to push; the script says so instead of pushing it.
fn push_untracking_step() -> Step {
    let subject = quote(&format!("{UNTRACK_SUBJECT} ("));
    Step {
        title: "Push the commit that stops tracking .env".into(),
        why: format!(
            "unleak respond committed the untracking of .env (and the ignore rule) in this clone; without a push the remote's branch still tracks .env. Only a fast-forward of that one commit (subject \"{UNTRACK_SUBJECT} (…)\") is pushed; other unpushed commits are named, not pushed."
        ),
        commands: vec![
            format!("BRANCH=$(git -C {VAR_REPO} symbolic-ref --quiet --short HEAD || true)"),
            format!("if [ \"$PUSH_FAILED\" = 0 ] && [ -n \"$BRANCH\" ] && git -C {VAR_REPO} rev-parse --verify --quiet \"refs/remotes/$REMOTE/$BRANCH\" >/dev/null; then AHEAD=$(git -C {VAR_REPO} rev-list --count \"refs/remotes/$REMOTE/$BRANCH..HEAD\"); if [ \"$AHEAD\" = 1 ] && git -C {VAR_REPO} merge-base --is-ancestor \"refs/remotes/$REMOTE/$BRANCH\" HEAD && git -C {VAR_REPO} log -1 --format=%s HEAD | grep -qF -- {subject}; then git -C {VAR_REPO} push --quiet \"$REMOTE\" \"HEAD:refs/heads/$BRANCH\" && echo \"pushed the commit that stops tracking .env to $REMOTE/$BRANCH\" || echo \"could not push the commit that stops tracking .env: push it yourself: git push $REMOTE $BRANCH\" >&2; elif [ \"$AHEAD\" != 0 ]; then echo \"left: $BRANCH has $AHEAD commit(s) $REMOTE does not have; push them when ready: git push $REMOTE $BRANCH\"; fi; fi"),
        ],
        runner: Runner::Script,
    }
}

/// Stash entries live in a reflog, which no push reaches: the ones holding the token are dropped
/// (highest first). None when there are none.
fn stash_drop_step(stash_drops: &[u32]) -> Option<Step> {
    if stash_drops.is_empty() {
        return None;
    }
    Some(Step {
        title: "Drop the stash entries that hold the token".into(),
        why: "Stash entries live in a reflog, which no push reaches; these hold the token (highest first, so the numbers do not shift).".into(),
        commands: stash_drops
            .iter()
            .map(|n| format!("git -C {VAR_REPO} stash drop --quiet 'stash@{{{n}}}'"))
            .collect(),
        runner: Runner::Script,
    })
}

/// The same filter over this clone, in place: it rewrites what only this clone has, and keeps the
/// first changed commits for the check.
fn rewrite_in_place_step(input: &RewriteInput, filter: &FilterArgs, pushes: bool) -> Step {
    let mut extra = vec!["--force"];
    if filter.sdr {
        extra.push("--no-fetch");
    }
    let mut commands = vec![
        format!("GITDIR=$(git -C {VAR_REPO} rev-parse --absolute-git-dir)"),
        "META=\"$GITDIR/unleak-rewrite\"; mkdir -p \"$META\"".into(),
        // A previous run's metadata would make filter-repo treat this as a continuation, and ask about it.
        "rm -rf -- \"$GITDIR/filter-repo\"".into(),
    ];
    commands.push(filter.command(VAR_REPO, &extra));
    commands.push("LOCAL_CHANGED=$(changed_count \"$GITDIR/filter-repo\")".into());
    // A run that changed nothing keeps the list of the run that did (touched, so it exists).
    let first_changed = if filter.sdr {
        "if [ \"$LOCAL_CHANGED\" -gt 0 ] || [ ! -e \"$META/local-first-changed-commits\" ]; then cp \"$GITDIR/filter-repo/first-changed-commits\" \"$META/local-first-changed-commits\"; fi"
    } else {
        "if [ \"$LOCAL_CHANGED\" -gt 0 ] || [ ! -e \"$META/local-first-changed-commits\" ]; then awk 'NR > 1 && $1 != $2 { print $1 }' \"$GITDIR/filter-repo/commit-map\" > \"$META/local-first-changed-commits\"; fi"
    };
    commands.push(first_changed.into());
    if pushes && !filter.sdr && input.remote_name == "origin" {
        commands.push(format!(
            "git -C {VAR_REPO} remote get-url origin >/dev/null 2>&1 || git -C {VAR_REPO} remote add origin \"$REMOTE_URL\""
        ));
    }
    let why = if pushes {
        "The same filter in place gives the same new commits as the mirror (filter-repo is deterministic), and also rewrites what only this clone has: unpushed branches, remote-tracking refs, the newest stash entry. --force because this is not a fresh clone; --no-fetch so it keeps local work instead of fetching over it."
    } else {
        "There is no remote, so this clone is the only copy to rewrite and no push is needed. --force because it is not a fresh clone; --no-fetch so filter-repo fetches nothing."
    };
    Step {
        title: if pushes {
            "Rewrite this clone the same way".into()
        } else {
            "Rewrite this clone in place".into()
        },
        why: why.into(),
        commands,
        runner: Runner::Script,
    }
}

/// Removes what git keeps beside the history that can hold the old text or name old commits, expires
/// the reflogs and prunes the old objects (after a fetch, when there is a remote).
fn clean_clone_step(pushes: bool) -> Step {
    let mut commands = Vec::new();
    if pushes {
        commands.push(format!(
            "if [ \"$PUSH_FAILED\" = 0 ]; then git -C {VAR_REPO} fetch --quiet --prune --upload-pack=git-upload-pack \"$REMOTE\"; fi"
        ));
    }
    commands.push(
        "for f in COMMIT_EDITMSG SQUASH_MSG ORIG_HEAD FETCH_HEAD; do rm -f -- \"$GITDIR/$f\"; done"
            .into(),
    );
    commands.push("[ -e \"$GITDIR/MERGE_HEAD\" ] || rm -f -- \"$GITDIR/MERGE_MSG\"".into());
    commands.push("rm -rf -- \"$GITDIR/filter-repo\" \"$GITDIR\"/filter-repo.before-*".into());
    commands.push(format!(
        "git -C {VAR_REPO} reflog expire --expire=now --all"
    ));
    commands.push(format!("git -C {VAR_REPO} gc --quiet --prune=now"));
    Step {
        title: "Leave this clone clean and usable".into(),
        why: if pushes {
            "Fetch so the remote-tracking refs match the rewritten remote (git status knows its upstream again, and later scans label pushed commits right); remove the files git keeps beside the history that can hold the old text or name old commits (COMMIT_EDITMSG, SQUASH_MSG, MERGE_MSG, ORIG_HEAD, FETCH_HEAD, filter-repo's own directory; the maps are kept in unleak-rewrite/); expire the reflogs and prune the old objects."
        } else {
            "Remove the files git keeps beside the history that can hold the old text or name old commits (COMMIT_EDITMSG, SQUASH_MSG, MERGE_MSG, ORIG_HEAD, FETCH_HEAD, filter-repo's own directory; the maps are kept in unleak-rewrite/); expire the reflogs and prune the old objects."
        }
        .into(),
        commands,
        runner: Runner::Script,
    }
}

/// Checks the remote (a fresh mirror) and this clone with `unleak verify`; the script exits non-zero
/// when a copy is left.
fn check_step(input: &RewriteInput, pushes: bool) -> Step {
    let mut commands = vec!["LEFT=0".to_string()];
    if pushes {
        commands.push("rm -rf -- \"$WORK/check.git\"; git clone --quiet --mirror --no-local \"$REMOTE_URL\" \"$WORK/check.git\"".into());
        commands.push("check_copy \"$WORK/check.git\" \"the remote $REMOTE (what a new clone gets)\" || LEFT=1".into());
        commands.push("grep_objects \"$WORK/check.git\" \"the remote $REMOTE (what a new clone gets)\" || LEFT=1".into());
    }
    commands.push("grep_objects \"$REPO\" 'this clone' || LEFT=1".into());
    commands.push(
        "check_copy \"$REPO\" 'this clone' --first-changed \"$META/local-first-changed-commits\" || { LEFT=1; if [ \"$LOCAL_CHANGED\" -eq 0 ]; then echo 'git-filter-repo changed nothing in this clone although the scan found copies: this plan does not reach how the token is stored here; report it' >&2; fi; }".into(),
    );
    if !input.report.repository.bare {
        commands.push("list_worktree".into());
    }
    commands.push("if [ \"$LEFT\" != 0 ]; then echo 'NOT DONE: the copies listed above are left. A ref the remote refused (a protected branch or tag, a pull-request ref): unprotect it, or ask the forge to delete it, then run this script again. A ref or stash entry of this clone: delete it (git update-ref -d REF, git stash drop), then run this script again.' >&2; exit 1; fi".into());
    Step {
        title: "Check that no copy is left".into(),
        why: if pushes {
            "What a new clone of the remote gets (a fresh --no-local mirror) and this clone are checked with `unleak verify` by fingerprint; any copy left is named (commit, path, form, refs) and the script exits non-zero instead of saying Done."
        } else {
            "This clone is checked with `unleak verify` by fingerprint; any copy left is named (commit, path, form, refs) and the script exits non-zero instead of saying Done."
        }
        .into(),
        commands,
        runner: Runner::Script,
    }
}

fn people_steps(input: &RewriteInput, pushes: bool) -> Vec<Step> {
    if !pushes {
        return Vec::new();
    }
    vec![
        Step {
            title: "Ask the forge to purge what a push cannot reach".into(),
            why: format!(
                "Pull-request refs ({}) are read-only and forges cache views of old commits. Send the forge's support the first changed commits ($META/first-changed-commits, printed above) and the number of affected pull requests ($PRS, printed above) and ask them to purge the old objects, the pull-request refs and cached views. (GitHub: https://support.github.com/contact, topic 'Removing sensitive data'.)",
                FORGE_READ_ONLY_REFS.join(", ")
            ),
            commands: Vec::new(),
            runner: Runner::Manual,
        },
        Step {
            title: "Tell every collaborator to clean their clone".into(),
            why: "Any clone made before the push still holds the token, and a push from it brings the old history back. Simplest: delete the clone and clone again. Otherwise, in their clone:".into(),
            commands: vec![
                "git tag -l | xargs -r git tag -d".into(),
                format!("git fetch --prune --tags {}", quote(input.remote_name)),
                format!(
                    "git rebase --onto {}/BRANCH OLD_TIP BRANCH   # for each branch with local work",
                    quote(input.remote_name)
                ),
                "git reflog expire --expire=now --all".into(),
                "git gc --prune=now".into(),
                "git cat-file -t FIRST_CHANGED_COMMIT   # must fail; `git for-each-ref --contains FIRST_CHANGED_COMMIT` shows what still holds it".into(),
            ],
            runner: Runner::Manual,
        },
    ]
}

/// Exported at the top of the rewrite script: no fsmonitor program, no pager, no `ext::`/`fd::`
/// transports, whatever the repository's config says (hooks stay: a remote's own hooks are its
/// owner's, and the user's are theirs).
/// The settings every git of the script runs with (and the ones git-filter-repo starts), from the
/// environment, above any config file: no pager, editor, hook, fsmonitor, signing, `ext::` or `fd::`
/// transport. `neutralize_repo_config` then overrides what the repository's own config (local or
/// worktree scope, includes followed) names and no flag reaches: filter drivers (a `.gitattributes`
/// picks them by name, so they are found in the config, not guessed), credential helpers (the user's
/// global and system ones are kept), `core.sshCommand` (the user's own, else `ssh`), `core.askPass`,
/// `core.gitProxy`. (`remote.<name>.uploadpack` is overridden by `--upload-pack` on the one fetch from
/// the repository's remote: a config override would make git see a second remote in the mirror.)
/// Names and values read from the config only ever land in variables, never in code.
const SCRIPT_GIT_HARDENING: &str = r#"export GIT_PAGER=cat GIT_EDITOR=: GIT_SEQUENCE_EDITOR=: GIT_ALLOW_PROTOCOL=file:git:http:https:ssh
export GIT_CONFIG_COUNT=8 GIT_CONFIG_KEY_0=core.fsmonitor GIT_CONFIG_VALUE_0=false GIT_CONFIG_KEY_1=core.pager GIT_CONFIG_VALUE_1=cat GIT_CONFIG_KEY_2=protocol.ext.allow GIT_CONFIG_VALUE_2=never GIT_CONFIG_KEY_3=protocol.fd.allow GIT_CONFIG_VALUE_3=never GIT_CONFIG_KEY_4=core.hooksPath GIT_CONFIG_VALUE_4=/dev/null GIT_CONFIG_KEY_5=commit.gpgSign GIT_CONFIG_VALUE_5=false GIT_CONFIG_KEY_6=tag.gpgSign GIT_CONFIG_VALUE_6=false GIT_CONFIG_KEY_7=core.editor GIT_CONFIG_VALUE_7=:
unleak_config() { local i=$GIT_CONFIG_COUNT; export "GIT_CONFIG_KEY_$i=$1" "GIT_CONFIG_VALUE_$i=$2"; GIT_CONFIG_COUNT=$((i + 1)); }
neutralize_repo_config() {
  local scope key value
  git -C "$1" config --show-scope --list >/dev/null 2>&1 || { echo 'this script needs git 2.26 or newer (git config --show-scope), to keep the programs the repository config names from running. Nothing was changed.' >&2; exit 1; }
  while IFS= read -r -d '' scope && IFS= read -r -d '' key; do
    case $scope in global|system|command) continue ;; esac
    case $key in
      *.required) unleak_config "$key" false ;;
      core.gitproxy) unleak_config "$key" none ;;
      core.sshcommand) unleak_config "$key" "$(git config --global --get core.sshCommand || echo ssh)" ;;
      credential.*)
        unleak_config "$key" ''
        while IFS= read -r -d '' value; do unleak_config "$key" "$value"; done < <(git config --global --null --get-all "$key" || true)
        ;;
      *) unleak_config "$key" '' ;;
    esac
  done < <(git -C "$1" config --show-scope --null --name-only --get-regexp '^(filter\..+\.(clean|smudge|process|required)|credential\.(.+\.)?helper|core\.(sshcommand|askpass|gitproxy))$' || true)
}

"#;

impl RewritePlan {
    /// The plan in a few lines: blocked or not, warnings, and each step's title (the commands and why
    /// are in the script and in [`RewritePlan::render_text`]).
    pub fn render_summary(&self) -> String {
        let mut out = String::new();
        if let Some(reason) = &self.blocked {
            out.push_str(&format!("BLOCKED: {reason}\n"));
        }
        for warning in &self.warnings {
            out.push_str(&format!("warning: {warning}\n"));
        }
        if !self.binary_files.is_empty() {
            out.push_str(&format!(
                "{} binary file(s) hold the token (--binary {}).\n",
                self.binary_files.len(),
                self.binary.as_str()
            ));
        }
        out.push_str(&format!(
            "The plan, {} steps{}:\n",
            self.steps.len(),
            if self.pushes {
                ""
            } else {
                " (no remote: this clone is rewritten in place, nothing is pushed)"
            }
        ));
        for (i, step) in self.steps.iter().enumerate() {
            let who = match step.runner {
                Runner::Script => "",
                Runner::Manual => " (by hand)",
                Runner::Prerequisite => " (before running the script)",
            };
            out.push_str(&format!("  {}. {}{}\n", i + 1, step.title, who));
            // What must be done before the script runs is needed on screen, not only in the script.
            if step.runner == Runner::Prerequisite {
                for command in &step.commands {
                    out.push_str(&format!("       {command}\n"));
                }
            }
        }
        out
    }

    /// The plan for people: steps in order, why each exists, the commands.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        if let Some(reason) = &self.blocked {
            out.push_str(&format!("BLOCKED: {reason}\n\n"));
        }
        for warning in &self.warnings {
            out.push_str(&format!("warning: {warning}\n"));
        }
        if !self.warnings.is_empty() {
            out.push('\n');
        }
        if !self.pushes {
            out.push_str(
                "No remote: the plan rewrites this clone in place; nothing needs pushing.\n\n",
            );
        }
        if !self.binary_files.is_empty() {
            out.push_str(&format!(
                "Binary files holding the token (git-filter-repo's --replace-text skips them; --binary {}):\n",
                self.binary.as_str()
            ));
            for file in &self.binary_files {
                out.push_str(&format!("  - {}\n", file.describe(self.binary)));
            }
            out.push('\n');
        }
        for (i, step) in self.steps.iter().enumerate() {
            let who = match step.runner {
                Runner::Script => "",
                Runner::Manual => " (by hand)",
                Runner::Prerequisite => " (before running the script)",
            };
            out.push_str(&format!("{}. {}{}\n", i + 1, step.title, who));
            out.push_str(&format!("   {}\n", step.why));
            for command in &step.commands {
                // Helper functions (check_copy, grep_objects, …) are long and only for the script:
                // people see their name and what they are for (in `why`).
                if let Some(name) = command
                    .lines()
                    .next()
                    .filter(|l| l.ends_with("() {") && command.lines().count() > 2)
                {
                    out.push_str(&format!(
                        "     {name} … }}   # a helper, in full in the script\n"
                    ));
                    continue;
                }
                for line in command.lines() {
                    out.push_str(&format!("     {line}\n"));
                }
            }
            out.push('\n');
        }
        out
    }

    /// The bash script for the unattended run: `set -euo pipefail`, each step announced, no prompts.
    /// In literal mode it expects `UNLEAK_REPLACE_FILE` (see [`crate::playbook::rewrite::write_script`]).
    pub(crate) fn script(&self, literal_file: Option<&Path>) -> String {
        let mut out = String::from(
            "#!/usr/bin/env bash\n# History rewrite planned by unleak: removes a leaked token from every commit, message and\n# ref, then cleans this clone. Runs unattended and stops at the first failing command.\nset -euo pipefail\n\n",
        );
        // The repository's own config must not pick programs for this run: every git below (and the ones
        // git-filter-repo starts) gets these settings from the environment, above any config file.
        out.push_str(SCRIPT_GIT_HARDENING);
        match (&self.replace_text, literal_file) {
            (ReplaceText::Literal(_), Some(file)) => {
                let file = file.display().to_string();
                out.push_str(&format!("UNLEAK_REPLACE_FILE={}\n", quote(&file)));
            }
            (ReplaceText::Literal(_), None) => {
                out.push_str(": \"${UNLEAK_REPLACE_FILE:?set it to the private replace file (unleak respond --write-script writes one)}\"\n");
            }
            (ReplaceText::Regex(_), _) => {}
        }
        let literal = matches!(self.replace_text, ReplaceText::Literal(_));
        // The scratch dir (a mirror of the old history) and the private replace file (the token in
        // plain text) go whatever happens, on every exit path: a failed run says how to get a fresh
        // script, which writes a fresh file.
        out.push_str(
            "cleanup() { status=$?; if [ -n \"${WORK:-}\" ]; then rm -rf -- \"$WORK\"; fi",
        );
        if literal {
            out.push_str("; if [ -e \"$UNLEAK_REPLACE_FILE\" ]; then rm -rf -- \"$(dirname -- \"$UNLEAK_REPLACE_FILE\")\"; if [ \"$status\" != 0 ]; then echo \"The private replace file (it held the token) was deleted. To run again, write a fresh script: unleak respond --literal --write-script PATH\" >&2; fi; fi");
        }
        out.push_str("; }\ntrap cleanup EXIT\n");
        out.push_str("step() { printf '\\n==> %s\\n' \"$1\"; }\n");

        let manual: Vec<&Step> = self
            .steps
            .iter()
            .filter(|s| s.runner == Runner::Manual)
            .collect();
        for step in self.steps.iter().filter(|s| s.runner == Runner::Script) {
            out.push_str(&format!(
                "\nstep {}\n",
                quote(&format!("{}: {}", step.title, step.why))
            ));
            for command in &step.commands {
                if command.starts_with("REPLACE_FILE=<") {
                    out.push_str("REPLACE_FILE=\"$UNLEAK_REPLACE_FILE\"\n");
                } else {
                    out.push_str(command);
                    out.push('\n');
                }
                if command.starts_with("REPO=") {
                    out.push_str("neutralize_repo_config \"$REPO\"\n");
                }
            }
        }
        if literal {
            out.push_str("\nstep 'Delete the private replace file (it held the token)'\nrm -rf -- \"$(dirname -- \"$UNLEAK_REPLACE_FILE\")\"\n");
        }
        out.push_str("\nstep 'Done. Next steps, by hand:'\ncat <<UNLEAK_NEXT\n");
        for step in manual {
            out.push_str(&format!(
                "* {}\n  {}\n",
                step.title,
                heredoc_safe(&step.why)
            ));
            for command in &step.commands {
                out.push_str(&format!("    {}\n", heredoc_safe(command)));
            }
        }
        out.push_str("UNLEAK_NEXT\n");
        out
    }
}

/// In a heredoc with expansion on, `$META` and `$PRS` print their values; everything else stays
/// literal: backquotes, backslashes and every other `$` (a remote name holding `$(…)` is text).
fn heredoc_safe(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('`', "\\`")
        .replace('$', "\\$");
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped.as_str();
    while let Some(at) = rest.find("\\$") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let ours = ["META", "PRS"].iter().find(|name| {
            after.starts_with(**name)
                && !after[name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        });
        out.push_str(if ours.is_some() { "$" } else { "\\$" });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RepositoryInfo, SecretRef, Stats, Tool};
    use std::io::Write;

    /// Built at run time, never a realistic literal in the tree.
    fn token() -> String {
        let body: String = (0..34)
            .map(|i| {
                let alphabet = b"QwErTyUiOpAsDfGhJkLzXcVbNm";
                alphabet[(i * 7 + 3) % alphabet.len()] as char
            })
            .collect();
        format!("hf_{body}")
    }

    fn report(locations: &[(Location, Option<&str>)], secret: &Secret) -> Report {
        let findings = locations
            .iter()
            .map(|(location, path)| Finding {
                secret: SecretRef {
                    redacted: secret.redacted(),
                    fingerprint: secret.fingerprint(),
                },
                location: *location,
                encoding: Encoding::Plain,
                object: "0".repeat(40),
                commit: Some("1".repeat(40)),
                path: path.map(str::to_string),
                line: None,
                lines: Vec::new(),
                author: None,
                date: None,
                summary: None,
                refs: vec!["refs/heads/main".into()],
                reflogs: Vec::new(),
                reachable: true,
                pushed: true,
                remotes: vec!["origin".into()],
                rule: None,
                severity: crate::model::Severity::High,
            })
            .collect();
        Report {
            format_version: 1,
            tool: Tool::default(),
            command: "respond".into(),
            repository: RepositoryInfo {
                path: "/src/demo".into(),
                bare: false,
                shallow: false,
                partial: false,
                head: None,
                remotes: Vec::new(),
            },
            secrets: Vec::new(),
            findings,
            warnings: Vec::new(),
            hygiene: Vec::new(),
            playbook: Vec::new(),
            local_copies: Vec::new(),
            verification: None,
            completeness: Default::default(),
            stats: Stats::default(),
        }
    }

    struct Case {
        literal: bool,
        remove_env_files: bool,
        remote: Option<&'static str>,
        filter_repo: FilterRepoSupport,
        locations: Vec<(Location, Option<&'static str>)>,
        binary_blobs: BTreeSet<String>,
        binary: BinaryMode,
        replacement: &'static str,
    }

    impl Default for Case {
        fn default() -> Self {
            Case {
                literal: false,
                remove_env_files: false,
                remote: Some("git@github.com:acme/demo.git"),
                filter_repo: FilterRepoSupport::Present {
                    sensitive_data_removal: true,
                },
                locations: vec![(Location::Blob, Some("src/app.py"))],
                binary_blobs: BTreeSet::new(),
                binary: BinaryMode::Mask,
                replacement: REPLACEMENT,
            }
        }
    }

    fn plan_for(case: Case, unique: UniqueCheck) -> (RewritePlan, String) {
        let secret = Secret::new(token(), "test");
        let report = report(&case.locations, &secret);
        let secrets = [secret];
        let plan = plan(&RewriteInput {
            secrets: &secrets,
            report: &report,
            remote_name: "origin",
            remote_url: case.remote,
            repo_path: Path::new("/src/demo"),
            literal: case.literal,
            remove_env_files: case.remove_env_files,
            filter_repo: case.filter_repo,
            regex_is_unique: unique,
            binary_blobs: &case.binary_blobs,
            binary: case.binary,
            replacement: case.replacement,
            unleak: Path::new("/opt/unleak/bin/unleak"),
        });
        let all = format!("{}\n{}", plan.render_text(), plan.script(None));
        assert!(!all.contains(&token()), "token in plan or script:\n{all}");
        (plan, all)
    }

    fn plan_of(case: Case) -> (RewritePlan, String) {
        plan_for(case, &|_, _| true)
    }

    fn filter_command(plan: &RewritePlan) -> Vec<String> {
        plan.steps
            .iter()
            .flat_map(|s| s.commands.iter())
            .filter(|c| c.contains("filter-repo") && c.contains("--replace-text"))
            .cloned()
            .collect()
    }

    #[test]
    fn regex_expression_hides_the_token_and_shows_its_redaction() {
        let secret = Secret::new(token(), "test");
        let expression = regex_expression(&secret).unwrap();
        assert!(!expression.contains(secret.expose()));
        let (head, tail) = secret
            .redacted()
            .split_once('…')
            .map(|(h, t)| (h.to_string(), t.to_string()))
            .unwrap();
        assert_eq!(
            expression,
            format!("regex:{head}[A-Za-z]{{30}}{tail}==>***REMOVED***")
        );
        let pattern = regex_pattern(&secret, 0).unwrap();
        let re = regex::Regex::new(&format!("^{pattern}$")).unwrap();
        assert!(re.is_match(secret.expose()));
    }

    #[test]
    fn character_class_covers_the_hidden_alphabet_and_escapes() {
        assert_eq!(char_class("abc"), "[a-z]");
        assert_eq!(char_class("aB3"), "[A-Za-z0-9]");
        assert_eq!(char_class("a-b_c.d]"), "[a-z\\-\\.\\]_]");
        let secret = Secret::new(format!("sk-{}", "aZ9-_.+/".repeat(5)), "test");
        let pattern = regex_pattern(&secret, 0).unwrap();
        let re = regex::Regex::new(&format!("^{pattern}$")).unwrap();
        assert!(re.is_match(secret.expose()), "{pattern}");
    }

    /// filter-repo applies expressions with Python's `re` on bytes: check with the real thing. The token
    /// goes through stdin, the pattern through argv.
    #[test]
    fn python_re_matches_the_token_with_the_expression() {
        for value in [token(), format!("sk-{}", "aZ9-_.+/=".repeat(5))] {
            let secret = Secret::new(value, "test");
            let expression = regex_expression(&secret).unwrap();
            let pattern = expression
                .strip_prefix("regex:")
                .unwrap()
                .rsplit_once("==>")
                .unwrap()
                .0;
            let mut child = std::process::Command::new("python3")
                .args([
                    "-c",
                    "import re, sys; data = sys.stdin.buffer.read(); sys.exit(0 if re.fullmatch(sys.argv[1].encode(), data) else 1)",
                    pattern,
                ])
                .stdin(std::process::Stdio::piped())
                .spawn()
                .expect("python3 runs");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(secret.expose().as_bytes())
                .unwrap();
            assert!(child.wait().unwrap().success(), "{pattern}");
        }
    }

    #[test]
    fn short_or_non_ascii_tokens_have_no_expression() {
        assert_eq!(regex_expression(&Secret::new("short123", "t")), None);
        assert_eq!(
            regex_expression(&Secret::new(format!("hf_{}é", "a".repeat(33)), "t")),
            None
        );
    }

    #[test]
    fn regex_mode_plan_for_a_pushed_leak() {
        let (plan, text) = plan_of(Case::default());
        assert!(plan.blocked.is_none() && plan.pushes);
        let commands = filter_command(&plan);
        assert_eq!(commands.len(), 2, "mirror, then this clone");
        assert!(commands[0]
            .contains("--sensitive-data-removal --replace-text \"$REPLACE_FILE\" </dev/null"));
        assert!(!commands[0].contains("--replace-message"));
        assert!(!commands[0].contains("--force"));
        assert!(commands[1].contains("--force --no-fetch"));
        assert!(text.contains("git clone --quiet --mirror --no-local \"$REMOTE_URL\""));
        assert!(text.contains("push --force --prune origin '+refs/*:refs/*' '^refs/pull/*'"));
        assert!(text.contains("set -euo pipefail"));
        assert!(text.contains("git fetch --prune --tags origin"));
        assert!(text.contains("reflog expire --expire=now --all"));
        // A forge remote is not pruned by the plan; its support is asked.
        assert!(!text.contains("Prune the old objects on the remote"));
        assert!(text.contains("forge's support"));
        let ReplaceText::Regex(lines) = &plan.replace_text else {
            panic!()
        };
        assert!(text.contains(lines.trim_end()), "regex lines are shown");
    }

    #[test]
    fn messages_and_env_files_add_their_options() {
        let (plan, _) = plan_of(Case {
            remove_env_files: true,
            locations: vec![
                (Location::Blob, Some(".env")),
                (Location::Blob, Some("deploy/.env.prod")),
                (Location::Blob, Some("src/app.py")),
                (Location::CommitMessage, None),
            ],
            ..Case::default()
        });
        let command = &filter_command(&plan)[0];
        assert!(command.contains("--replace-message \"$REPLACE_FILE\""));
        assert!(command.contains("--invert-paths --path=.env --path=deploy/.env.prod"));
        assert!(!command.contains("src/app.py"));
        let (plan, _) = plan_of(Case {
            locations: vec![(Location::Blob, Some(".env"))],
            ..Case::default()
        });
        assert!(!filter_command(&plan)[0].contains("--invert-paths"));
    }

    #[test]
    fn literal_mode_never_shows_the_token() {
        let (plan, text) = plan_of(Case {
            literal: true,
            ..Case::default()
        });
        assert!(matches!(plan.replace_text, ReplaceText::Literal(_)));
        assert!(!format!("{plan:?}").contains(&token()));
        assert!(text.contains("UNLEAK_REPLACE_FILE"));
        assert!(text.contains("Delete the private replace file"));
    }

    #[test]
    fn local_only_repository_is_rewritten_in_place() {
        let (plan, text) = plan_of(Case {
            remote: None,
            ..Case::default()
        });
        assert!(!plan.pushes);
        assert!(text.contains("nothing needs pushing"));
        assert!(!text.contains("push --force"));
        assert!(!text.contains("git clone"));
        assert_eq!(filter_command(&plan).len(), 1);
    }

    #[test]
    fn local_path_remote_is_pruned_too() {
        let (_, text) = plan_of(Case {
            remote: Some("/srv/git/demo.git"),
            ..Case::default()
        });
        assert!(text.contains("git -C /srv/git/demo.git gc --quiet --prune=now"));
        // A relative path is relative to the repository, not to where the script runs.
        let (_, text) = plan_of(Case {
            remote: Some("../demo.git"),
            ..Case::default()
        });
        assert!(text.contains("git -C /src/demo/../demo.git gc --quiet --prune=now"));
        assert!(text.contains("REMOTE_URL=$(cd \"$REPO\" && cd \"$REMOTE_URL\" && pwd)"));
    }

    #[test]
    fn filter_repo_missing_old_and_new() {
        let (plan, text) = plan_of(Case {
            filter_repo: FilterRepoSupport::Missing,
            ..Case::default()
        });
        assert!(plan.steps[1].title.starts_with("Install git-filter-repo"));
        assert_eq!(plan.steps[1].runner, Runner::Prerequisite);
        assert!(text.contains("pipx install git-filter-repo"));
        // The short plan respond shows keeps what must happen before the script runs.
        assert!(plan
            .render_summary()
            .contains("pipx install git-filter-repo"));
        assert!(
            !text.contains("pip install --user"),
            "refused on Debian 12 / Ubuntu 24.04"
        );
        assert!(text.contains("2.47 or newer"));
        assert!(filter_command(&plan)[0].contains("--sensitive-data-removal"));

        let (plan, text) = plan_of(Case {
            filter_repo: FilterRepoSupport::Present {
                sensitive_data_removal: false,
            },
            ..Case::default()
        });
        let commands = filter_command(&plan);
        assert!(commands
            .iter()
            .all(|c| !c.contains("--sensitive-data-removal") && !c.contains("--no-fetch")));
        assert!(plan
            .warnings
            .iter()
            .any(|w| w.contains("predates --sensitive-data-removal")));
        assert!(
            text.contains("remote add origin \"$REMOTE_URL\""),
            "old filter-repo drops origin"
        );
        assert!(!text.contains("Install git-filter-repo"));
    }

    #[test]
    fn widens_when_needed_and_blocks_when_nothing_is_unique() {
        let (plan, text) = plan_for(Case::default(), &|_, p: &str| !p.contains("{30}"));
        assert!(plan.blocked.is_none());
        assert!(text.contains("[A-Za-z]{26}"), "{text}");

        let (plan, text) = plan_for(Case::default(), &|_, _| false);
        assert!(plan.blocked.as_deref().unwrap().contains("--literal"));
        assert!(text.starts_with("BLOCKED"));
        let dir = tempfile::tempdir().unwrap();
        let err =
            crate::playbook::rewrite::write_script(&plan, &dir.path().join("x.sh")).unwrap_err();
        assert!(format!("{err}").contains("--literal"));
    }

    #[test]
    fn stash_entries_are_dropped_highest_first() {
        let secret = Secret::new(token(), "test");
        let mut report = report(&[(Location::Blob, Some("a"))], &secret);
        report.findings[0].refs = vec!["refs/stash".into(), "refs/stash@{2}".into()];
        assert_eq!(stash_entries(&report), vec![2, 0]);
    }

    #[test]
    fn binary_blobs_are_masked_by_default_and_stripped_on_request() {
        let blob = "0".repeat(40);
        let case = || Case {
            locations: vec![(Location::Blob, Some("model.bin"))],
            binary_blobs: BTreeSet::from([blob.clone()]),
            ..Case::default()
        };
        let (plan, text) = plan_of(case());
        assert!(matches!(plan.replace_text, ReplaceText::Literal(_)));
        assert!(plan.masks.is_some());
        assert!(!format!("{plan:?}").contains(&token()));
        assert!(filter_command(&plan)[0].contains("--blob-callback \"$MASK_CALLBACK\""));
        assert!(
            text.contains("model.bin (binary, token stored plain)"),
            "{text}"
        );

        let (plan, text) = plan_of(Case {
            binary: BinaryMode::Strip,
            ..case()
        });
        assert!(matches!(plan.replace_text, ReplaceText::Regex(_)));
        assert!(filter_command(&plan)[0].contains("--strip-blobs-with-ids \"$STRIP_FILE\""));
        assert!(text.contains(&blob), "the strip list names the blob");
        assert!(
            text.contains("removed from commit(s) 111111111111"),
            "{text}"
        );
    }

    #[test]
    fn masks_keep_length_and_shape() {
        let secret = Secret::new(token(), "test");
        let masks = mask_lines(std::slice::from_ref(&secret));
        for line in masks.0.lines() {
            let (form, mask) = line.split_once(' ').unwrap();
            assert_eq!(form.len(), mask.len());
        }
        let lines = masks.0.lines().count();
        assert_eq!(lines, crate::matching::exact::forms(&secret).len());
        assert!(masks.0.contains(&"2a00".repeat(10)), "UTF-16LE mask");
    }

    #[test]
    fn replacement_is_configurable_and_checked() {
        let (plan, _) = plan_of(Case {
            replacement: "REDACTED",
            ..Case::default()
        });
        let ReplaceText::Regex(lines) = &plan.replace_text else {
            panic!()
        };
        assert!(lines.trim_end().ends_with("==>REDACTED"));
        let (plan, _) = plan_of(Case {
            replacement: "a==>b",
            ..Case::default()
        });
        assert!(plan.blocked.unwrap().contains("--replacement"));
    }

    #[test]
    fn a_file_name_no_expression_names_blocks_the_plan() {
        let (plan, _) = plan_for(
            Case {
                literal: true,
                locations: vec![(Location::Path, Some("keys/…"))],
                ..Case::default()
            },
            &|_, _| false,
        );
        assert!(plan.blocked.unwrap().contains("a file name holds"));
    }

    #[test]
    fn the_script_checks_its_work_and_keeps_what_a_rerun_needs() {
        let (_, text) = plan_of(Case {
            literal: true,
            ..Case::default()
        });
        assert!(text.contains("UNLEAK=\"${UNLEAK_BIN:-/opt/unleak/bin/unleak}\""));
        assert!(text.contains(&format!(
            "FINGERPRINTS=(--fingerprint {})",
            Secret::new(token(), "t").fingerprint()
        )));
        assert!(text.contains("check_copy \"$WORK/check.git\""));
        assert!(text.contains("git-filter-repo changed nothing in the mirror"));
        assert!(text.contains("fetch --quiet --prune --upload-pack=git-upload-pack \"$REMOTE\""));
        assert!(text.contains("COMMIT_EDITMSG SQUASH_MSG ORIG_HEAD FETCH_HEAD"));
        assert!(text.contains("was deleted. To run again, write a fresh script"));
        assert!(
            !text.contains("git filter-repo "),
            "never through git's alias lookup"
        );
    }
}
