//! The one place findings are built: provenance and object hits become [`Finding`]s (with severity),
//! and the per-secret [`SecretSummary`] rows, with where each token still lives (HEAD, index, work tree).

use super::idhash;
use super::objects::{ObjectHits, PassResult};
use super::provenance::{self, Containment, TreeWalker};
use crate::git::{self, pack, Oid, Repo};
use crate::matching::exact::Matcher;
use crate::model::{Encoding, Finding, Location, SecretRef, SecretSummary, Severity};
use crate::providers::{Confidence, Rules};
use crate::sanitize::path_bytes;
use crate::secret::Secret;
use crate::util::text::{has_nul_within, GIT_BINARY_PROBE};
use crate::util::time::rfc3339;
use std::collections::{BTreeMap, HashMap};

/// Working tree files are searched in chunks of this size, so a large untracked data file costs time
/// but not memory.
const FILE_CHUNK: usize = 4 << 20;

/// The secrets (indices) a file holds, searched in chunks that overlap by the longest needle so no
/// match is split between two chunks.
fn secrets_in_file(matcher: &Matcher, path: &std::path::Path) -> std::io::Result<Vec<usize>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let overlap = matcher.longest_needle().saturating_sub(1);
    let mut buffer = vec![0u8; FILE_CHUNK + overlap];
    let mut hits = Vec::new();
    let mut kept = 0;
    loop {
        let read = file.read(&mut buffer[kept..])?;
        if read == 0 {
            break;
        }
        let filled = kept + read;
        matcher.find_all(&buffer[..filled], &mut hits);
        let keep = overlap.min(filled);
        buffer.copy_within(filled - keep..filled, 0);
        kept = keep;
    }
    let mut secrets: Vec<usize> = hits
        .iter()
        .map(|h| matcher.needle(h.needle).secret)
        .collect();
    secrets.sort_unstable();
    secrets.dedup();
    Ok(secrets)
}

/// Everything findings are built from: the pass's hits, provenance's introductions, and where commits
/// sit among the refs.
pub(super) struct Sources<'a> {
    pub repo: &'a Repo,
    pub matcher: &'a Matcher,
    pub secrets: &'a [Secret],
    /// The rules the secrets are known by (an audit's custom rules included).
    pub rules: &'a Rules,
    pub remotes: &'a [String],
    pub contained: &'a idhash::IdMap<Oid, Containment>,
    pub tips: &'a [git::Tip],
    /// With `reachable_only`, the commits some ref reaches; findings elsewhere are left out.
    pub reachable: Option<&'a idhash::IdSet<Oid>>,
    pub reachable_only: bool,
    pub introductions: &'a [provenance::Introduction],
    pub blob_hits: &'a idhash::IdMap<Oid, &'a ObjectHits>,
    /// Blobs the tree walk reached: any other matching blob is an orphan.
    pub seen_blobs: &'a idhash::IdSet<Oid>,
    pub pass: &'a PassResult,
}

/// The findings, sorted by secret, date, commit and place: one per introduction, commit message, tag
/// message and orphan blob that holds a token.
pub(super) fn build(sources: Sources<'_>) -> Vec<Finding> {
    let Sources {
        repo,
        matcher,
        secrets,
        rules,
        remotes,
        contained,
        tips,
        reachable,
        reachable_only,
        introductions,
        blob_hits,
        seen_blobs,
        pass,
    } = sources;
    let mut builder = FindingBuilder {
        repo,
        matcher,
        secrets,
        rules,
        remotes,
        contained,
        commit_info: HashMap::new(),
        findings: Vec::new(),
    };
    for intro in introductions {
        if reachable.is_some_and(|r| !r.contains(&intro.commit)) {
            continue;
        }
        builder.introduction(intro, blob_hits);
    }
    for hits in &pass.hits {
        match hits.kind {
            pack::ObjectKind::Commit if reachable.is_none_or(|r| r.contains(&hits.oid)) => {
                builder.commit_message(hits)
            }
            pack::ObjectKind::Tag => builder.tag_message(hits, tips, pass),
            pack::ObjectKind::Blob if !seen_blobs.contains(&hits.oid) && !reachable_only => {
                builder.orphan_blob(hits)
            }
            _ => {}
        }
    }
    let mut findings = builder.findings;
    findings.sort_by(|a, b| {
        (
            &a.secret.fingerprint,
            &a.date,
            &a.commit,
            a.location,
            &a.path,
            a.line,
            a.encoding,
        )
            .cmp(&(
                &b.secret.fingerprint,
                &b.date,
                &b.commit,
                b.location,
                &b.path,
                b.line,
                b.encoding,
            ))
    });
    findings
}

/// Turns provenance into findings, reading commit metadata once per commit.
pub(super) struct FindingBuilder<'a> {
    repo: &'a Repo,
    matcher: &'a Matcher,
    secrets: &'a [Secret],
    rules: &'a Rules,
    remotes: &'a [String],
    contained: &'a idhash::IdMap<Oid, Containment>,
    commit_info: HashMap<Oid, CommitInfo>,
    findings: Vec<Finding>,
}

/// Where a finding sits, before provenance is attached.
struct Site {
    location: Location,
    encoding: Encoding,
    object: Oid,
    commit: Option<Oid>,
    path: Option<String>,
    lines: Vec<u32>,
}

#[derive(Clone, Default)]
struct CommitInfo {
    author: Option<String>,
    date: Option<String>,
    summary: Option<String>,
}

impl FindingBuilder<'_> {
    fn secret_ref(&self, index: usize) -> SecretRef {
        SecretRef {
            redacted: self.secrets[index].redacted(),
            fingerprint: self.secrets[index].fingerprint(),
        }
    }

    /// A finding's exposure, one step lower for a low-confidence rule (the generic secret-assignment
    /// rule: the value may not be a key at all).
    fn severity_of(&self, secret: usize, exposure: Severity) -> Severity {
        let rule = self.secrets[secret].identify_in(self.rules);
        severity_for_rule(exposure, rule.map(|r| r.confidence))
    }

    fn rule_of(&self, secret: usize) -> Option<String> {
        self.secrets[secret]
            .identify_in(self.rules)
            .map(|rule| rule.id.to_string())
    }

    fn info(&mut self, commit: Oid) -> CommitInfo {
        if let Some(info) = self.commit_info.get(&commit) {
            return info.clone();
        }
        let info = Some(commit)
            .filter(|c| self.repo.may_read(*c))
            .and_then(|c| self.repo.commit_meta(c).ok())
            .map(|c| CommitInfo {
                author: Some(format!(
                    "{} <{}>",
                    String::from_utf8_lossy(&c.author.name),
                    String::from_utf8_lossy(&c.author.email)
                )),
                date: Some(rfc3339(c.author.seconds, c.author.offset_minutes)),
                summary: c
                    .summary
                    .as_deref()
                    .map(|s| String::from_utf8_lossy(s).into_owned()),
            })
            .unwrap_or_default();
        self.commit_info.insert(commit, info.clone());
        info
    }

    fn push(&mut self, secret: usize, site: Site) {
        let Site {
            location,
            encoding,
            object,
            commit,
            path,
            lines,
        } = site;
        let info = commit.map(|c| self.info(c)).unwrap_or_default();
        let containment = commit
            .and_then(|c| self.contained.get(&c).cloned())
            .unwrap_or_default();
        let finding_remotes = remotes_of(&containment.refs, self.remotes);
        let reachable = !containment.refs.is_empty();
        self.findings.push(Finding {
            rule: self.rule_of(secret),
            severity: self.severity_of(
                secret,
                Severity::exposure(!finding_remotes.is_empty(), reachable),
            ),
            secret: self.secret_ref(secret),
            location,
            encoding,
            object: object.to_string(),
            commit: commit.map(|c| c.to_string()),
            path,
            line: lines.first().copied(),
            lines: if lines.len() > 1 { lines } else { Vec::new() },
            author: info.author,
            date: info.date,
            summary: info.summary,
            reachable,
            pushed: !finding_remotes.is_empty(),
            remotes: finding_remotes,
            refs: containment.refs,
            reflogs: containment.reflogs,
        });
    }

    fn introduction(
        &mut self,
        intro: &provenance::Introduction,
        blob_hits: &idhash::IdMap<Oid, &ObjectHits>,
    ) {
        let path = path_bytes(&intro.hit.path);
        if intro.hit.name_needle.is_some() {
            for &secret in &intro.secrets {
                self.push(
                    secret,
                    Site {
                        location: Location::Path,
                        encoding: Encoding::Plain,
                        object: intro.hit.object,
                        commit: Some(intro.commit),
                        path: Some(path.clone()),
                        lines: Vec::new(),
                    },
                );
            }
            return;
        }
        let Some(hits) = blob_hits.get(&intro.hit.object) else {
            return;
        };
        self.blob_findings(hits, Some(intro.commit), Some(path), Some(&intro.secrets));
    }

    /// One finding per (secret, encoding) of a matching blob; `only` limits it to those secrets.
    fn blob_findings(
        &mut self,
        hits: &ObjectHits,
        commit: Option<Oid>,
        path: Option<String>,
        only: Option<&[usize]>,
    ) {
        for (secret, encoding, lines) in self.group_blob_hits(hits) {
            if only.is_none_or(|only| only.contains(&secret)) {
                self.push(
                    secret,
                    Site {
                        location: Location::Blob,
                        encoding,
                        object: hits.oid,
                        commit,
                        path: path.clone(),
                        lines,
                    },
                );
            }
        }
    }

    fn orphan_blob(&mut self, hits: &ObjectHits) {
        self.blob_findings(hits, None, None, None);
    }

    /// Groups a blob's hits by (secret, encoding), with line numbers when the blob is text.
    fn group_blob_hits(&self, hits: &ObjectHits) -> Vec<(usize, Encoding, Vec<u32>)> {
        // A blob the pass searched in pieces is not read whole again for line numbers: its findings
        // carry none, and memory stays bounded.
        let small = self
            .repo
            .object_size(hits.oid)
            .is_some_and(|size| size <= pack::PIECES_ABOVE);
        let data = small.then(|| self.repo.read_blob(hits.oid).ok()).flatten();
        let text = data
            .as_deref()
            .filter(|c| !has_nul_within(c, GIT_BINARY_PROBE));
        let mut groups: BTreeMap<(usize, Encoding), Vec<u32>> = BTreeMap::new();
        for hit in &hits.hits {
            let needle = self.matcher.needle(hit.needle);
            let lines = groups.entry((needle.secret, needle.encoding)).or_default();
            if let Some(content) = text {
                lines.push(line_of(content, hit.start));
            }
        }
        groups
            .into_iter()
            .map(|((secret, encoding), mut lines)| {
                lines.sort_unstable();
                lines.dedup();
                (secret, encoding, lines)
            })
            .collect()
    }

    fn message_groups(
        &self,
        hits: &ObjectHits,
        data: &[u8],
    ) -> BTreeMap<(usize, Encoding), Vec<u32>> {
        let mut groups: BTreeMap<(usize, Encoding), Vec<u32>> = BTreeMap::new();
        for hit in &hits.hits {
            let needle = self.matcher.needle(hit.needle);
            let lines = groups.entry((needle.secret, needle.encoding)).or_default();
            if hit.start >= hits.message_start {
                lines.push(line_of(
                    &data[hits.message_start..],
                    hit.start - hits.message_start,
                ));
            }
        }
        groups
    }

    fn commit_message(&mut self, hits: &ObjectHits) {
        let Some((_, data)) = self.repo.read_object(hits.oid) else {
            return;
        };
        for ((secret, encoding), lines) in self.message_groups(hits, &data) {
            self.push(
                secret,
                Site {
                    location: Location::CommitMessage,
                    encoding,
                    object: hits.oid,
                    commit: Some(hits.oid),
                    path: None,
                    lines,
                },
            );
        }
    }

    fn tag_message(&mut self, hits: &ObjectHits, tips: &[git::Tip], pass: &PassResult) {
        let Some((_, data)) = self.repo.read_object(hits.oid) else {
            return;
        };
        let groups = self.message_groups(hits, &data);
        let target = pass
            .tags
            .iter()
            .find(|t| t.oid == hits.oid)
            .map(|t| t.target);
        let refs: Vec<String> = tips
            .iter()
            .filter(|t| t.target == hits.oid)
            .map(|t| t.name.clone())
            .collect();
        let summary = String::from_utf8_lossy(&data[hits.message_start.min(data.len())..])
            .lines()
            .next()
            .map(str::to_string);
        let tagger = self.repo.tagger(hits.oid).map(|s| {
            (
                format!(
                    "{} <{}>",
                    String::from_utf8_lossy(&s.name),
                    String::from_utf8_lossy(&s.email)
                ),
                rfc3339(s.seconds, s.offset_minutes),
            )
        });
        for ((secret, encoding), lines) in groups {
            let finding_remotes = remotes_of(&refs, self.remotes);
            self.findings.push(Finding {
                rule: self.rule_of(secret),
                severity: self.severity_of(
                    secret,
                    Severity::exposure(!finding_remotes.is_empty(), !refs.is_empty()),
                ),
                secret: self.secret_ref(secret),
                location: Location::TagMessage,
                encoding,
                object: hits.oid.to_string(),
                commit: target
                    .and_then(|t| self.repo.peel_to_commit(t))
                    .map(|c| c.to_string()),
                path: None,
                line: lines.first().copied(),
                lines: if lines.len() > 1 { lines } else { Vec::new() },
                author: tagger.as_ref().map(|t| t.0.clone()),
                date: tagger.as_ref().map(|t| t.1.clone()),
                summary: summary.clone(),
                refs: refs.clone(),
                reflogs: Vec::new(),
                reachable: !refs.is_empty(),
                pushed: !finding_remotes.is_empty(),
                remotes: finding_remotes,
            });
        }
    }
}

/// Remotes whose tracking refs are among `refs` (a ref `refs/remotes/<remote>/<branch>`; remote names may
/// contain slashes, so the longest configured name wins).
fn remotes_of(refs: &[String], remotes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in refs {
        let Some(rest) = name.strip_prefix("refs/remotes/") else {
            continue;
        };
        let remote = remotes
            .iter()
            .filter(|r| rest.starts_with(&format!("{r}/")))
            .max_by_key(|r| r.len())
            .cloned()
            .or_else(|| rest.split('/').next().map(str::to_string));
        if let Some(remote) = remote {
            if !out.contains(&remote) {
                out.push(remote);
            }
        }
    }
    out.sort();
    out
}

/// `text` with every occurrence of a searched token (in any form the matcher knows) replaced by that
/// token's redaction: names and paths in the report can hold a token themselves. The splice is
/// [`crate::sanitize::splice_redactions`], the one [`crate::sanitize::scrub_secrets`] uses too.
pub fn scrub_text(matcher: &Matcher, secrets: &[Secret], text: String) -> String {
    let mut hits = Vec::new();
    matcher.find_all(text.as_bytes(), &mut hits);
    if hits.is_empty() {
        return text;
    }
    let spans = hits.iter().map(|h| (h.start, h.end, h.needle)).collect();
    crate::sanitize::splice_redactions(&text, spans, |&needle, _| {
        secrets[matcher.needle(needle).secret].redacted()
    })
}

pub(crate) fn line_of(content: &[u8], offset: usize) -> u32 {
    memchr::memchr_iter(b'\n', &content[..offset.min(content.len())]).count() as u32 + 1
}

/// Where each token still lives right now: HEAD's tree, the index, the working tree.
pub(super) struct LiveState {
    in_head: Vec<Vec<String>>,
    in_index: Vec<Vec<String>>,
    in_worktree: Vec<Vec<String>>,
}

pub(super) fn live_state(
    repo: &Repo,
    matcher: &Matcher,
    secrets: &[Secret],
    walker: &mut TreeWalker<'_>,
    blob_hits: &idhash::IdMap<Oid, &ObjectHits>,
) -> LiveState {
    let count = secrets.len();
    let mut live = LiveState {
        in_head: vec![Vec::new(); count],
        in_index: vec![Vec::new(); count],
        in_worktree: vec![Vec::new(); count],
    };
    if let Some(tree) = repo
        .head_commit()
        .filter(|c| repo.may_read(*c))
        .and_then(|c| repo.commit_meta(c).ok())
        .map(|c| c.tree)
    {
        for hit in walker.hits(tree).iter() {
            for secret in walker.secrets_of(hit) {
                live.in_head[secret].push(scrub_text(matcher, secrets, path_bytes(&hit.path)));
            }
        }
    }
    let mut hits = Vec::new();
    for (path, oid) in repo.index_entries() {
        hits.clear();
        matcher.find_all(&path, &mut hits);
        if let Some(blob) = blob_hits.get(&oid) {
            hits.extend_from_slice(&blob.hits);
        }
        for hit in &hits {
            live.in_index[matcher.needle(hit.needle).secret].push(scrub_text(
                matcher,
                secrets,
                path_bytes(&path),
            ));
        }
    }
    if let Some(workdir) = &repo.workdir {
        for file in repo.worktree_candidates() {
            let Ok(meta) = std::fs::symlink_metadata(&file) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let shown = file
                .strip_prefix(workdir)
                .unwrap_or(&file)
                .display()
                .to_string();
            // A git directory inside the work tree (a mirror kept beside sources) is not a file anyone
            // commits; its objects were scanned one by one.
            if file.starts_with(&repo.git_dir) {
                continue;
            }
            for secret in secrets_in_file(matcher, &file).unwrap_or_default() {
                live.in_worktree[secret].push(shown.clone());
            }
        }
    }
    for list in live
        .in_head
        .iter_mut()
        .chain(live.in_index.iter_mut())
        .chain(live.in_worktree.iter_mut())
    {
        list.sort();
        list.dedup();
    }
    live
}

pub(super) fn summarize(
    secrets: &[Secret],
    rules: &Rules,
    findings: &[Finding],
    live: &LiveState,
    pass: &PassResult,
) -> Vec<SecretSummary> {
    // The times of the commits the findings name, not of every commit (git's history has 200k).
    let named: idhash::IdSet<Oid> = findings
        .iter()
        .filter_map(|f| f.commit.as_deref())
        .filter_map(|c| Oid::from_str(c).ok())
        .collect();
    let times: HashMap<String, i64> = pass
        .commits
        .iter()
        .filter(|c| named.contains(&c.oid))
        .map(|c| (c.oid.to_string(), c.commit_time))
        .collect();
    secrets
        .iter()
        .enumerate()
        .map(|(i, secret)| {
            let fingerprint = secret.fingerprint();
            let mine: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.secret.fingerprint == fingerprint)
                .collect();
            let mut introducing: Vec<String> =
                mine.iter().filter_map(|f| f.commit.clone()).collect();
            introducing.sort();
            introducing.dedup();
            let mut refs: Vec<String> = mine.iter().flat_map(|f| f.refs.clone()).collect();
            refs.sort();
            refs.dedup();
            let mut remotes: Vec<String> = mine.iter().flat_map(|f| f.remotes.clone()).collect();
            remotes.sort();
            remotes.dedup();
            let earliest = |pushed_only: bool| {
                mine.iter()
                    .filter(|f| !pushed_only || f.pushed)
                    .filter_map(|f| f.commit.as_ref().and_then(|c| times.get(c)))
                    .min()
                    .copied()
            };
            let live_found = !live.in_head[i].is_empty()
                || !live.in_index[i].is_empty()
                || !live.in_worktree[i].is_empty();
            let first = earliest(true)
                .or_else(|| earliest(false))
                .map(|t| rfc3339(t, 0));
            let base = summary_base(secret, rules, fingerprint, &mine);
            SecretSummary {
                severity: base
                    .severity
                    .or_else(|| live_found.then_some(Severity::Medium)),
                found: base.found || live_found,
                introducing_commits: introducing,
                pushed: !remotes.is_empty(),
                remotes,
                refs,
                in_head: live.in_head[i].clone(),
                in_index: live.in_index[i].clone(),
                in_worktree: live.in_worktree[i].clone(),
                first_exposure: first,
                ..base
            }
        })
        .collect()
}

/// A finding of pull-request mode (`audit --since/--range`): a commit of the range adds it. High when
/// a remote-tracking ref already holds the commit (`pushed`), else medium.
pub fn range_finding(f: super::staged::RangeFinding, pushed: bool, rules: &Rules) -> Finding {
    Finding {
        secret: f.found.secret.clone(),
        location: f.found.location,
        encoding: f.found.encoding,
        object: f.object.to_string(),
        commit: Some(f.commit.to_string()),
        path: (!f.found.path.is_empty()).then(|| f.found.path.clone()),
        line: f.found.line,
        lines: Vec::new(),
        author: f.author,
        date: f.date,
        summary: f.summary,
        refs: Vec::new(),
        reflogs: Vec::new(),
        reachable: true,
        pushed,
        remotes: Vec::new(),
        severity: severity_for_rule(
            Severity::exposure(pushed, true),
            rule_confidence(rules, f.found.rule.as_deref()),
        ),
        rule: f.found.rule.clone(),
    }
}

/// The confidence of the rule with this id among `rules` (custom rules included), when there is one.
fn rule_confidence(rules: &Rules, rule: Option<&str>) -> Option<Confidence> {
    rule.and_then(|id| rules.rule(id)).map(|r| r.confidence)
}

/// An exposure, lowered one step for a low-confidence rule's finding (see [`Severity::lowered`]).
fn severity_for_rule(exposure: Severity, confidence: Option<Confidence>) -> Severity {
    if confidence == Some(Confidence::Low) {
        exposure.lowered()
    } else {
        exposure
    }
}

/// A finding of `audit --no-git`: a file on disk (or stdin) holds it. No object, commit or ref; medium,
/// as a local copy is (whether the file is shared is not known here).
pub fn file_finding(found: super::staged::StagedFinding) -> Finding {
    Finding {
        secret: found.secret,
        location: found.location,
        encoding: found.encoding,
        object: String::new(),
        commit: None,
        path: Some(found.path),
        line: found.line,
        lines: Vec::new(),
        author: None,
        date: None,
        summary: None,
        refs: Vec::new(),
        reflogs: Vec::new(),
        reachable: true,
        pushed: false,
        remotes: Vec::new(),
        rule: found.rule,
        severity: Severity::exposure(false, true),
    }
}

/// What every summary of `secret` starts from: who the secret is (redaction, fingerprint, origin,
/// provider rule) and its own findings, counted and ranked; callers add where it was seen.
fn summary_base(
    secret: &Secret,
    rules: &Rules,
    fingerprint: String,
    mine: &[&Finding],
) -> SecretSummary {
    let rule = secret.identify_in(rules);
    SecretSummary {
        secret: SecretRef {
            redacted: secret.redacted(),
            fingerprint,
        },
        origin: secret.origin().to_string(),
        provider: rule.map(|r| r.provider.id.to_string()),
        rule: rule.map(|r| r.id.to_string()),
        severity: mine.iter().map(|f| f.severity).max(),
        found: !mine.is_empty(),
        findings: mine.len(),
        ..SecretSummary::default()
    }
}

/// Pull-request mode's summaries: one per given secret (`exact`), and one per discovered value the
/// range's findings hold.
pub fn range_summaries(
    exact: &[Secret],
    secrets: &[Secret],
    rules: &Rules,
    findings: &[Finding],
) -> Vec<SecretSummary> {
    secrets
        .iter()
        .filter_map(|secret| {
            let fingerprint = secret.fingerprint();
            let mine: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.secret.fingerprint == fingerprint)
                .collect();
            let is_exact = exact.iter().any(|e| e == secret);
            if mine.is_empty() && !is_exact {
                return None;
            }
            let mut introducing: Vec<String> =
                mine.iter().filter_map(|f| f.commit.clone()).collect();
            introducing.dedup();
            Some(SecretSummary {
                introducing_commits: introducing,
                pushed: mine.iter().any(|f| f.pushed),
                first_exposure: mine.iter().filter_map(|f| f.date.clone()).min(),
                ..summary_base(secret, rules, fingerprint, &mine)
            })
        })
        .collect()
}
