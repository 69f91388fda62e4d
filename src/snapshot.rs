//! Snapshots: the evidence a check used, saved so that it outlives the API.
//!
//! DescribeSendFileResults forgets deliveries after a window its documents
//! disagree on (14 days and 100,000 records, 30 days and 10,000, one day and
//! 1,000), and a pull-request job from a fork has no credentials at all. A
//! snapshot keeps the normalised observations of every query, each record
//! with the time it was fetched, so that a later check can merge them with
//! what the API still lists (`--from-snapshot`) or judge from them alone
//! (`--offline`). Merging keeps the newest record per (task, target): the
//! freshest word on a delivery or a run wins, and one the API has forgotten
//! is still known, with its age.
//!
//! The format is a contract, `schemas/snapshot.v1.schema.json`, generated
//! from the types here. It never holds credentials, and it keeps the content
//! of a file only when the manifest declares that file and not `sensitive`:
//! any other content is kept as sizes and SHA-256 digests, which is all a
//! report ever shows of a sensitive file.

use std::collections::BTreeSet;

use foldhash::{HashMap, HashSet};
use std::path::Path;

use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::expect::Expectations;
use crate::observe::{
    CommandResult, ContentDigest, ContentType, FileInvocation, FileTarget, Gap, GapReason,
    Observations, Observed, Stamp, TargetError, TargetStatus,
};
use crate::plan::{Plan, Query};
use crate::protocol::Provider;
use crate::report::model::SharedEvidence;
use crate::report::{Evidence, EvidenceSource, Report};

/// The version of the snapshot format; bumped only on breaking changes.
pub const VERSION: u32 = 1;

/// The largest snapshot file read (a fleet of 1,000 instances × 20 files
/// with their content is far below it).
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// The evidence of one or more checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// The format's version: 1.
    pub version: u32,
    /// The shipcheck that wrote it.
    pub tool: Tool,
    /// When its newest evidence was fetched (RFC 3339).
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub fetched_at: Timestamp,
    /// The regions its queries asked.
    pub regions: Vec<String>,
    /// The API hosts the evidence came from (host and port only).
    pub endpoint_hosts: Vec<String>,
    /// The queries whose complete answers it holds: what `--offline` can
    /// judge. A query that failed is left out.
    pub queries: Vec<Query>,
    /// SendFile tasks, each with the targets it listed.
    pub files: Vec<FileRecord>,
    /// Command runs, one per task × instance.
    pub commands: Vec<CommandRecord>,
}

/// The program that wrote a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// One SendFile task as DescribeSendFileResults described it, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    pub provider: Provider,
    pub region: String,
    pub invoke_id: String,
    pub name: String,
    pub target_dir: String,
    pub description: Option<String>,
    /// `Content` as the API returned it; absent when withheld (see
    /// `content_digests`) or when the API sent none.
    pub content: Option<String>,
    /// `ContentType` as the API returned it.
    pub content_type: String,
    /// Instead of `content`, for a file not declared non-sensitive: the
    /// size and SHA-256 of each reading of the content, the one a report
    /// shows first.
    pub content_digests: Option<Vec<DigestRecord>>,
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub overwrite: Option<bool>,
    /// The task's overall `InvocationStatus`.
    pub status: String,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub created: Option<Timestamp>,
    pub target_count: Option<u64>,
    pub tags: Vec<TagRecord>,
    pub targets: Vec<FileTargetRecord>,
}

/// The size and SHA-256 of one reading of a content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DigestRecord {
    pub size: usize,
    /// Lowercase hex.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = r"^[0-9a-f]{64}$")))]
    pub sha256: String,
    /// A `PlainText` echo read as Base64.
    pub decoded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TagRecord {
    pub key: String,
    pub value: String,
}

/// One target of a SendFile task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FileTargetRecord {
    /// `InstanceId` or `NodeId`.
    pub id: String,
    /// The per-target `InvocationStatus`.
    pub status: String,
    pub error_code: Option<String>,
    pub error_info: Option<String>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub created: Option<Timestamp>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub started: Option<Timestamp>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub finished: Option<Timestamp>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub updated: Option<Timestamp>,
    /// When this record was fetched from the API.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub fetched_at: Timestamp,
}

/// One command run on one instance (DescribeInvocationResults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandRecord {
    pub region: String,
    pub invoke_id: String,
    pub command_id: String,
    pub instance_id: String,
    /// The per-instance `InvocationStatus`.
    pub status: String,
    pub record_status: Option<String>,
    pub error_code: Option<String>,
    pub error_info: Option<String>,
    pub exit_code: Option<i64>,
    pub output: OutputRecord,
    pub dropped: Option<u64>,
    pub repeats: Option<u64>,
    pub username: Option<String>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub started: Option<Timestamp>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub finished: Option<Timestamp>,
    /// The tag sets of the tagged queries (`task_tags:`) that listed this
    /// run: its invocation carries every tag of each. Absent when none did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listed_with_tags: Vec<Vec<TagRecord>>,
    /// When this record was fetched from the API.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub fetched_at: Timestamp,
}

/// A command's output as the API gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutputRecord {
    /// The decoded bytes, in standard Base64.
    Value {
        base64: String,
    },
    Missing,
    /// Present but unreadable, and why.
    Invalid {
        reason: String,
    },
}

/// A snapshot read from a file, named the way the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub label: String,
    pub snapshot: Snapshot,
}

/// Reads the snapshot at `path`.
pub fn load(path: &Path) -> Result<Loaded, miette::Report> {
    let label = path.display().to_string();
    let help = "a snapshot is written by `shipcheck check --save-snapshot PATH`; \
                its format is `shipcheck schema snapshot`";
    let size = std::fs::metadata(path)
        .map_err(|err| miette::miette!(help = help, "cannot read the snapshot {label}: {err}"))?
        .len();
    if size > MAX_BYTES {
        return Err(miette::miette!(
            help = help,
            "the snapshot {label} is {size} bytes, more than the {MAX_BYTES} shipcheck reads"
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|err| miette::miette!(help = help, "cannot read the snapshot {label}: {err}"))?;
    let version = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|value| value.get("version").and_then(serde_json::Value::as_u64));
    if let Some(version) = version.filter(|v| *v != u64::from(VERSION)) {
        return Err(miette::miette!(
            help = help,
            "the snapshot {label} has version {version}; this shipcheck reads version {VERSION}"
        ));
    }
    let snapshot: Snapshot = serde_json::from_str(&text)
        .map_err(|err| miette::miette!(help = help, "{label} is not a snapshot: {err}"))?;
    Ok(Loaded { label, snapshot })
}

/// The snapshot as pretty-printed JSON, with a trailing newline.
pub fn to_json(snapshot: &Snapshot) -> String {
    let mut text =
        serde_json::to_string_pretty(snapshot).expect("the snapshot types serialise to JSON");
    text.push('\n');
    text
}

/// A file record: (provider, region, task, target).
type FileKey = (Provider, String, String, String);
/// A command record: (region, task, instance).
type RunKey = (String, String, String);

/// Where each record came from, for the report's `evidence` and for the
/// records' `fetched_at` in the next snapshot.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    files: HashMap<FileKey, Evidence>,
    commands: HashMap<RunKey, Evidence>,
    /// For a verdict no record decided (nothing listed, a failed query):
    /// the newest source consulted.
    fallback: Option<Evidence>,
}

impl Provenance {
    fn file(
        &self,
        provider: Provider,
        region: &str,
        invoke_id: &str,
        target: &str,
    ) -> Option<&Evidence> {
        // A live check without snapshots keys nothing: no per-pair copies.
        if self.files.is_empty() {
            return self.fallback.as_ref();
        }
        let key = (
            provider,
            region.to_owned(),
            invoke_id.to_owned(),
            target.to_owned(),
        );
        self.files.get(&key).or(self.fallback.as_ref())
    }

    fn command(&self, region: &str, invoke_id: &str, instance: &str) -> Option<&Evidence> {
        let key = (region.to_owned(), invoke_id.to_owned(), instance.to_owned());
        self.commands.get(&key).or(self.fallback.as_ref())
    }
}

/// Observations from the API and earlier snapshots, merged.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    pub observations: Observations,
    pub provenance: Provenance,
}

/// Merges `live` observations (none with `--offline`) with `snapshots`:
/// the newest record per (task, target) wins, the live one on a tie. The
/// live failed queries stay gaps: a snapshot does not vouch for what the
/// API could not be asked just now.
pub fn merge(live: Option<Observations>, snapshots: &[Loaded]) -> Merged {
    let live_evidence = live.as_ref().map(|o| Evidence {
        source: EvidenceSource::Live,
        fetched_at: o.fetched_at.unwrap_or_else(Timestamp::now),
    });
    let newest_snapshot = snapshots
        .iter()
        .max_by_key(|s| s.snapshot.fetched_at)
        .map(|s| Evidence {
            source: EvidenceSource::Snapshot(s.label.clone()),
            fetched_at: s.snapshot.fetched_at,
        });
    let fallback = live_evidence.clone().or(newest_snapshot);
    match live {
        // Nothing to merge: every record is live.
        Some(live) if snapshots.is_empty() => Merged {
            observations: live,
            provenance: Provenance {
                fallback,
                ..Provenance::default()
            },
        },
        live => merge_into(live.unwrap_or_default(), live_evidence, snapshots, fallback),
    }
}

fn merge_into(
    live: Observations,
    live_evidence: Option<Evidence>,
    snapshots: &[Loaded],
    fallback: Option<Evidence>,
) -> Merged {
    let mut merger = Merger::default();
    let fetched_at = live.fetched_at;
    if let Some(evidence) = &live_evidence {
        for invocation in live.files {
            merger.add_file(invocation, |_| evidence.clone());
        }
        for result in live.commands {
            merger.add_command(result, evidence.clone());
        }
    }
    for loaded in snapshots {
        let source = EvidenceSource::Snapshot(loaded.label.clone());
        for record in &loaded.snapshot.files {
            let (invocation, times) = record.to_observation();
            merger.add_file(invocation, |at| Evidence {
                source: source.clone(),
                fetched_at: times[at],
            });
        }
        for record in &loaded.snapshot.commands {
            merger.add_command(
                record.to_observation(),
                Evidence {
                    source: source.clone(),
                    fetched_at: record.fetched_at,
                },
            );
        }
    }
    let newest = snapshots.iter().map(|s| s.snapshot.fetched_at).max();
    let mut merged = merger.finish();
    merged.observations.gaps = live.gaps;
    merged.observations.fetched_at = fetched_at.or(newest);
    merged.provenance.fallback = fallback;
    merged
}

/// Collects records, keeping the newest per (task, target).
#[derive(Default)]
struct Merger {
    tasks: Vec<(FileInvocation, Timestamp)>,
    task_at: HashMap<(Provider, String, String), usize>,
    /// Where each target record sits (task, slot) and where it came from.
    targets: HashMap<FileKey, (usize, usize, Evidence)>,
    runs: Vec<(CommandResult, Evidence)>,
    run_at: HashMap<RunKey, usize>,
}

impl Merger {
    /// Adds a task's targets; `evidence(i)` says where target `i` came from.
    fn add_file(&mut self, mut invocation: FileInvocation, evidence: impl Fn(usize) -> Evidence) {
        let targets = std::mem::take(&mut invocation.targets);
        let task_key = (
            invocation.provider,
            invocation.region.clone(),
            invocation.invoke_id.clone(),
        );
        for (at, target) in targets.into_iter().enumerate() {
            let evidence = evidence(at);
            let key = (
                task_key.0,
                task_key.1.clone(),
                task_key.2.clone(),
                target.id.to_string(),
            );
            let task = match self.task_at.get(&task_key) {
                Some(&task) => {
                    // The newest description of the task wins too.
                    if evidence.fetched_at > self.tasks[task].1 {
                        let kept = std::mem::take(&mut self.tasks[task].0.targets);
                        self.tasks[task] = (
                            FileInvocation {
                                targets: kept,
                                ..invocation.clone()
                            },
                            evidence.fetched_at,
                        );
                    }
                    task
                }
                None => {
                    self.task_at.insert(task_key.clone(), self.tasks.len());
                    self.tasks.push((invocation.clone(), evidence.fetched_at));
                    self.tasks.len() - 1
                }
            };
            match self.targets.get_mut(&key) {
                Some((task, slot, kept)) if evidence.fetched_at > kept.fetched_at => {
                    self.tasks[*task].0.targets[*slot] = target;
                    *kept = evidence;
                }
                Some(_) => {}
                None => {
                    let slot = self.tasks[task].0.targets.len();
                    self.tasks[task].0.targets.push(target);
                    self.targets.insert(key, (task, slot, evidence));
                }
            }
        }
    }

    fn add_command(&mut self, result: CommandResult, evidence: Evidence) {
        let key = (
            result.region.clone(),
            result.invoke_id.clone(),
            result.instance_id.clone(),
        );
        match self.run_at.get(&key) {
            // The newest record wins; the tag sets either was listed under
            // still hold for the invocation.
            Some(&at) if evidence.fetched_at > self.runs[at].1.fetched_at => {
                let listed = std::mem::take(&mut self.runs[at].0.listed_with_tags);
                self.runs[at] = (result, evidence);
                self.runs[at].0.merge_listings(&listed);
            }
            Some(&at) => self.runs[at].0.merge_listings(&result.listed_with_tags),
            None => {
                self.run_at.insert(key, self.runs.len());
                self.runs.push((result, evidence));
            }
        }
    }

    fn finish(self) -> Merged {
        let mut provenance = Provenance::default();
        for (key, (_, _, evidence)) in self.targets {
            provenance.files.insert(key, evidence);
        }
        let mut commands = Vec::with_capacity(self.runs.len());
        for (result, evidence) in self.runs {
            provenance.commands.insert(
                (
                    result.region.clone(),
                    result.invoke_id.clone(),
                    result.instance_id.clone(),
                ),
                evidence,
            );
            commands.push(result);
        }
        Merged {
            observations: Observations {
                files: self.tasks.into_iter().map(|(task, _)| task).collect(),
                commands,
                ..Observations::default()
            },
            provenance,
        }
    }
}

/// `--offline`: a gap for every planned query whose answer no snapshot
/// holds for some expectation it covers, so those are unverified.
pub fn offline_gaps(plan: &Plan, expectations: &Expectations, snapshots: &[Loaded]) -> Vec<Gap> {
    let recorded: BTreeSet<&Query> = snapshots.iter().flat_map(|s| &s.snapshot.queries).collect();
    let covered_file = |file, target: &str| recorded.iter().any(|q| answers_file(q, file, target));
    let covered_command = |command, target: Option<&str>| {
        recorded.iter().any(|q| answers_command(q, command, target))
    };
    let mut gaps = Vec::new();
    for query in &plan.queries {
        if recorded.contains(query) {
            continue;
        }
        let mut missing = Vec::new();
        for file in &expectations.files {
            for target in &file.targets {
                if query.covers_file(file, &target.id) && !covered_file(file, &target.id) {
                    missing.push(format!("{} on {}", file.path(), target.id));
                }
            }
        }
        for command in &expectations.commands {
            let key = match &command.selector.value {
                crate::expect::CommandSelector::CommandId(id)
                | crate::expect::CommandSelector::InvokeId(id) => id,
            };
            if command.targets.is_empty()
                && query.covers_command(command, None)
                && !covered_command(command, None)
            {
                missing.push(key.clone());
            }
            for target in &command.targets {
                if query.covers_command(command, Some(&target.id))
                    && !covered_command(command, Some(&target.id))
                {
                    missing.push(format!("{key} on {}", target.id));
                }
            }
        }
        if let Some(first) = missing.first() {
            let more = match missing.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            gaps.push(Gap {
                query: query.clone(),
                reason: GapReason::NotInSnapshot,
                detail: format!(
                    "--offline: no snapshot holds the answer to {query}, the evidence for {first}{more}"
                ),
                help: Some(
                    "record one where credentials are available: \
                     shipcheck check --save-snapshot PATH (or --from-snapshot PATH --save-snapshot PATH to keep a ledger)"
                        .to_owned(),
                ),
            });
        }
    }
    gaps
}

/// Whether `query`'s complete answer is all the evidence `file` on
/// `target` needs: stricter than [`Query::covers_file`], which errs on the
/// side of "affected" (a listing of one task covers every unpinned file).
fn answers_file(query: &Query, file: &crate::expect::FileExpectation, target: &str) -> bool {
    match query {
        Query::FilesByInvokeId { invoke_id, .. } => {
            query.covers_file(file, target)
                && file
                    .invoke_id
                    .as_ref()
                    .is_some_and(|pin| pin.value == *invoke_id)
        }
        _ => query.covers_file(file, target),
    }
}

fn answers_command(
    query: &Query,
    command: &crate::expect::CommandExpectation,
    target: Option<&str>,
) -> bool {
    let narrowed = matches!(
        query,
        Query::CommandsByInvokeId {
            instance_id: Some(_),
            ..
        } | Query::CommandsByCommandId {
            instance_id: Some(_),
            ..
        }
    );
    query.covers_command(command, target) && (target.is_some() || !narrowed)
}

/// Names every target's evidence in `report`, one shared copy of each.
pub fn annotate(report: &mut Report, provenance: &Provenance) {
    let mut shared = SharedEvidence::default();
    let mut share = |evidence: Option<&Evidence>| evidence.map(|e| shared.share(e.clone()));
    for file in &mut report.files {
        for target in &mut file.targets {
            let evidence = match &target.invoke_id {
                Some(task) => provenance.file(file.provider, &file.region, task, &target.id),
                None => provenance.fallback.as_ref(),
            };
            target.evidence = share(evidence);
        }
    }
    for command in &mut report.commands {
        for target in &mut command.targets {
            let evidence = match &target.invoke_id {
                Some(task) => provenance.command(&command.region, task, &target.id),
                None => provenance.fallback.as_ref(),
            };
            target.evidence = share(evidence);
        }
    }
}

/// What a snapshot of a check records besides the evidence.
pub struct Context<'a> {
    pub expectations: &'a Expectations,
    /// The queries asked (failed ones included; they are left out here).
    pub queries: &'a [Query],
    /// The snapshots the check read: their queries' answers are carried on.
    pub snapshots: &'a [Loaded],
    pub endpoint_hosts: Vec<String>,
}

/// The snapshot of `merged`, the evidence a check used.
pub fn record(merged: &Merged, context: &Context<'_>) -> Snapshot {
    let observations = &merged.observations;
    let failed: HashSet<&Query> = observations.gaps.iter().map(|g| &g.query).collect();
    let queries: BTreeSet<Query> = context
        .queries
        .iter()
        .filter(|q| !failed.contains(q))
        .chain(context.snapshots.iter().flat_map(|s| &s.snapshot.queries))
        .cloned()
        .collect();
    let regions: BTreeSet<String> = queries.iter().map(|q| q.region().to_owned()).collect();
    let plain = non_sensitive(context.expectations);
    let fetched_at = observations.fetched_at.unwrap_or_else(Timestamp::now);
    let when = |evidence: Option<&Evidence>| evidence.map_or(fetched_at, |e| e.fetched_at);
    let files = observations
        .files
        .iter()
        .map(|invocation| {
            let keep = plain.contains(&(invocation.region.clone(), invocation.path()));
            FileRecord::from_observation(invocation, keep, |target| {
                when(merged.provenance.file(
                    invocation.provider,
                    &invocation.region,
                    &invocation.invoke_id,
                    target,
                ))
            })
        })
        .collect();
    let commands = observations
        .commands
        .iter()
        .map(|result| {
            let at = when(merged.provenance.command(
                &result.region,
                &result.invoke_id,
                &result.instance_id,
            ));
            CommandRecord::from_observation(result, at)
        })
        .collect();
    let mut endpoint_hosts = context.endpoint_hosts.clone();
    for loaded in context.snapshots {
        endpoint_hosts.extend(loaded.snapshot.endpoint_hosts.iter().cloned());
    }
    endpoint_hosts.sort();
    endpoint_hosts.dedup();
    Snapshot {
        version: VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME").to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        fetched_at,
        regions: regions.into_iter().collect(),
        endpoint_hosts,
        queries: queries.into_iter().collect(),
        files,
        commands,
    }
}

/// (region, path) of the files declared and never `sensitive`: the only
/// content a snapshot keeps.
fn non_sensitive(expectations: &Expectations) -> HashSet<(String, String)> {
    let sensitive: HashSet<(String, String)> = expectations
        .files
        .iter()
        .filter(|f| f.sensitive)
        .map(|f| (f.region().to_owned(), f.path()))
        .collect();
    expectations
        .files
        .iter()
        .map(|f| (f.region().to_owned(), f.path()))
        .filter(|key| !sensitive.contains(key))
        .collect()
}

impl FileRecord {
    fn from_observation(
        invocation: &FileInvocation,
        keep_content: bool,
        fetched_at: impl Fn(&str) -> Timestamp,
    ) -> Self {
        let (content, content_digests) = match (&invocation.content, &invocation.content_type) {
            (Some(digests), ContentType::Digests) => (
                None,
                Some(
                    ContentDigest::decode(digests)
                        .unwrap_or_default()
                        .into_iter()
                        .map(DigestRecord::from)
                        .collect(),
                ),
            ),
            (Some(content), _) if keep_content => (Some(content.clone()), None),
            (Some(_), _) => (
                None,
                Some(
                    crate::evaluate::reading_digests(invocation)
                        .into_iter()
                        .map(DigestRecord::from)
                        .collect(),
                ),
            ),
            (None, _) => (None, None),
        };
        Self {
            provider: invocation.provider,
            region: invocation.region.clone(),
            invoke_id: invocation.invoke_id.clone(),
            name: invocation.name.clone(),
            target_dir: invocation.target_dir.clone(),
            description: invocation.description.clone(),
            content,
            content_type: invocation.content_type.as_str().to_owned(),
            content_digests,
            mode: invocation.mode.clone(),
            owner: invocation.owner.clone(),
            group: invocation.group.clone(),
            overwrite: invocation.overwrite,
            status: invocation.status.clone(),
            created: invocation.created,
            target_count: invocation.target_count,
            tags: invocation
                .tags
                .iter()
                .map(|(key, value)| TagRecord {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
            targets: invocation
                .targets
                .iter()
                .map(|target| FileTargetRecord {
                    id: target.id.to_string(),
                    status: target.status.as_str().to_owned(),
                    error_code: target.error_code().map(str::to_owned),
                    error_info: target.error_info().map(str::to_owned),
                    created: target.created.map(Stamp::get),
                    started: target.started.map(Stamp::get),
                    finished: target.finished.map(Stamp::get),
                    updated: target.updated.map(Stamp::get),
                    fetched_at: fetched_at(&target.id),
                })
                .collect(),
        }
    }

    /// The observation, and when each of its targets was fetched.
    fn to_observation(&self) -> (FileInvocation, Vec<Timestamp>) {
        let (content, content_type) = match &self.content_digests {
            Some(digests) => {
                let digests: Vec<ContentDigest> = digests.iter().map(ContentDigest::from).collect();
                (Some(ContentDigest::encode(&digests)), ContentType::Digests)
            }
            None => (self.content.clone(), ContentType::parse(&self.content_type)),
        };
        let invocation = FileInvocation {
            provider: self.provider,
            region: self.region.clone(),
            invoke_id: self.invoke_id.clone(),
            name: self.name.clone(),
            target_dir: self.target_dir.clone(),
            description: self.description.clone(),
            content,
            content_type,
            mode: self.mode.clone(),
            owner: self.owner.clone(),
            group: self.group.clone(),
            overwrite: self.overwrite,
            status: self.status.clone(),
            created: self.created,
            target_count: self.target_count,
            tags: self
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect(),
            targets: self
                .targets
                .iter()
                .map(|t| FileTarget {
                    id: t.id.as_str().into(),
                    status: TargetStatus::parse(&t.status),
                    error: TargetError::of(t.error_code.clone(), t.error_info.clone()),
                    created: Stamp::of(t.created),
                    started: Stamp::of(t.started),
                    finished: Stamp::of(t.finished),
                    updated: Stamp::of(t.updated),
                })
                .collect(),
        };
        let times = self.targets.iter().map(|t| t.fetched_at).collect();
        (invocation, times)
    }
}

impl From<ContentDigest> for DigestRecord {
    fn from(d: ContentDigest) -> Self {
        Self {
            size: d.size,
            sha256: d.sha256,
            decoded: d.decoded,
        }
    }
}

impl From<&DigestRecord> for ContentDigest {
    fn from(d: &DigestRecord) -> Self {
        Self {
            size: d.size,
            sha256: d.sha256.clone(),
            decoded: d.decoded,
        }
    }
}

impl CommandRecord {
    fn from_observation(result: &CommandResult, fetched_at: Timestamp) -> Self {
        let output = match &result.output {
            Observed::Value(bytes) => OutputRecord::Value {
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            },
            Observed::Missing => OutputRecord::Missing,
            Observed::Invalid(reason) => OutputRecord::Invalid {
                reason: reason.clone(),
            },
        };
        Self {
            region: result.region.clone(),
            invoke_id: result.invoke_id.clone(),
            command_id: result.command_id.clone(),
            instance_id: result.instance_id.clone(),
            status: result.status.clone(),
            record_status: result.record_status.clone(),
            error_code: result.error_code.clone(),
            error_info: result.error_info.clone(),
            exit_code: result.exit_code,
            output,
            dropped: result.dropped,
            repeats: result.repeats,
            username: result.username.clone(),
            started: result.started,
            finished: result.finished,
            listed_with_tags: result
                .listed_with_tags
                .iter()
                .map(|tags| {
                    tags.iter()
                        .map(|(key, value)| TagRecord {
                            key: key.clone(),
                            value: value.clone(),
                        })
                        .collect()
                })
                .collect(),
            fetched_at,
        }
    }

    fn to_observation(&self) -> CommandResult {
        let output = match &self.output {
            OutputRecord::Value { base64 } => match crate::observe::decode_base64(base64) {
                Some(bytes) => Observed::Value(bytes),
                None => Observed::Invalid("the snapshot's output is not Base64".to_owned()),
            },
            OutputRecord::Missing => Observed::Missing,
            OutputRecord::Invalid { reason } => Observed::Invalid(reason.clone()),
        };
        CommandResult {
            region: self.region.clone(),
            invoke_id: self.invoke_id.clone(),
            command_id: self.command_id.clone(),
            instance_id: self.instance_id.clone(),
            status: self.status.clone(),
            record_status: self.record_status.clone(),
            error_code: self.error_code.clone(),
            error_info: self.error_info.clone(),
            exit_code: self.exit_code,
            output,
            dropped: self.dropped,
            repeats: self.repeats,
            username: self.username.clone(),
            started: self.started,
            finished: self.finished,
            listed_with_tags: self
                .listed_with_tags
                .iter()
                .map(|tags| {
                    let mut tags: Vec<(String, String)> = tags
                        .iter()
                        .map(|tag| (tag.key.clone(), tag.value.clone()))
                        .collect();
                    tags.sort();
                    tags
                })
                .collect(),
        }
    }
}

#[cfg(feature = "schema")]
/// The JSON Schema of [`Snapshot`], as committed in `schemas/`.
pub fn schema_json() -> String {
    let settings = schemars::generate::SchemaSettings::draft07();
    let schema = settings.into_generator().into_root_schema_for::<Snapshot>();
    let mut text = serde_json::to_string_pretty(&schema.to_value()).expect("a schema serialises");
    text.push('\n');
    text
}

#[cfg(all(test, feature = "schema"))]
mod tests {
    use super::*;

    #[test]
    fn a_command_record_written_before_task_tags_still_loads() {
        let old = r#"{"region":"cn-hangzhou","invoke_id":"t-1","command_id":"c-1","instance_id":"i-1","status":"Success","record_status":null,"error_code":null,"error_info":null,"exit_code":0,"output":{"state":"missing"},"dropped":null,"repeats":null,"username":null,"started":null,"finished":null,"fetched_at":"2026-06-01T00:00:00Z"}"#;
        let record: CommandRecord = serde_json::from_str(old).unwrap();
        assert!(record.listed_with_tags.is_empty());
        assert!(record.to_observation().listed_under(&[]));
        assert!(
            !record
                .to_observation()
                .listed_under(&[("release".into(), "42".into())])
        );
    }

    #[test]
    fn committed_snapshot_schema_is_in_sync_with_the_types() {
        crate::schemas::assert_committed(
            "schemas/snapshot.v1.schema.json",
            &schema_json(),
            crate::schemas::SNAPSHOT_V1,
            "INSTA_UPDATE=always cargo test --lib snapshot",
        );
    }
}
