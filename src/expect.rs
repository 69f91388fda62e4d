//! What the user expects, resolved: the input of planning and evaluation.
//!
//! The manifest module turns YAML (defaults, instance sets, variables,
//! content files) into these flat values. Every value remembers where in
//! which manifest it was declared, so a finding can be labelled on the very
//! line that made the promise.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use compact_str::CompactString;
use jiff::Timestamp;
use jiff::civil::Date;

use crate::mode::FileMode;
use crate::observe::ContentType;
use crate::protocol::{Provider, join_path};
use crate::text::LineIndex;

/// A byte range in a manifest's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

/// One manifest file as read from disk.
#[derive(Debug)]
pub struct Source {
    /// The path as the user gave it; what diagnostics show.
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl Source {
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// 1-based line and column (in characters) of a byte offset; to place
    /// many offsets, build one [`LineIndex`] instead.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        LineIndex::new(&self.text).line_col(offset)
    }

    /// A miette source for labelled diagnostics.
    pub fn named_source(&self) -> miette::NamedSource<Arc<str>> {
        miette::NamedSource::new(self.name(), Arc::clone(&self.text)).with_language("yaml")
    }
}

/// Where a value was declared: a span in one of [`Expectations::sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Origin {
    pub source: usize,
    pub span: Span,
}

/// A resolved value and where it came from.
///
/// `origin` is `None` when the value is the API's built-in default
/// (SendFile's `0644`, `root`, `root`, overwrite `false`); a finding about it
/// is then labelled on the file entry itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr<T> {
    pub value: T,
    pub origin: Option<Origin>,
}

impl<T> Attr<T> {
    pub fn declared(value: T, origin: Origin) -> Self {
        Self {
            value,
            origin: Some(origin),
        }
    }

    pub fn builtin(value: T) -> Self {
        Self {
            value,
            origin: None,
        }
    }
}

/// A target named by the manifest, directly or through an instance set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRef {
    /// The instance id (`i-…`) or node id (`e01-…`), inline: a fleet's
    /// manifest names one per (file, target) pair.
    pub id: CompactString,
    /// The entry in `instances:` (or `nodes:`) that brought it in.
    pub origin: Origin,
    /// The instance set it came through, if any (one shared name per set).
    pub via_set: Option<Arc<str>>,
}

/// Instances a manifest names by what they are (tags, a resource group)
/// rather than by id: resolved through DescribeInstances when the check
/// runs, in the region of each entry that uses it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceQuery {
    /// Instances carrying every one of these tags.
    pub tags: Vec<(String, String)>,
    pub resource_group: Option<String>,
    /// `Running` unless the manifest says otherwise; `None`: any status.
    pub status: Option<String>,
}

impl InstanceQuery {
    /// Where the set comes from, for reports: `tags role=web, status Running`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.tags.is_empty() {
            let tags: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            parts.push(format!("tags {}", tags.join(", ")));
        }
        if let Some(group) = &self.resource_group {
            parts.push(format!("resource group {group}"));
        }
        parts.push(match &self.status {
            Some(status) => format!("status {status}"),
            None => "any status".to_owned(),
        });
        parts.join("; ")
    }
}

/// An instance set an entry names whose members are known only once the
/// check asks the cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSource {
    /// The set's name in `instance_sets:`.
    pub set: String,
    pub query: InstanceQuery,
    /// The entry in `instances:` that named the set.
    pub origin: Origin,
}

/// Where the deliveries that count begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    At(Timestamp),
    /// This long before the check's clock.
    Ago(Duration),
}

impl Since {
    /// An RFC 3339 time or a duration (`2h`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(at) = text.parse::<Timestamp>() {
            return Ok(Self::At(at));
        }
        humantime::parse_duration(text)
            .map(Self::Ago)
            .map_err(|_| format!("`{text}` is neither an RFC 3339 time nor a duration such as 2h"))
    }

    /// The instant, for a check whose clock reads `now`.
    pub fn at(self, now: Timestamp) -> Timestamp {
        match self {
            Self::At(at) => at,
            Self::Ago(ago) => jiff::SignedDuration::try_from(ago)
                .ok()
                .and_then(|ago| now.checked_sub(ago).ok())
                .unwrap_or(Timestamp::MIN),
        }
    }
}

/// The expected content of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedContent {
    /// The exact bytes, from `content:` (decoded when `content_type: Base64`)
    /// or from `content_file:`.
    Bytes(Vec<u8>),
    /// Only the SHA-256 of the bytes is declared (`sha256:`).
    Sha256([u8; 32]),
}

/// One declared file on a set of targets.
#[derive(Debug, Clone, PartialEq)]
pub struct FileExpectation {
    /// The whole `files:` entry; the label of findings about the entry.
    pub origin: Origin,
    pub provider: Provider,
    /// `None` when the manifest names no region: the check then takes
    /// `--region`, then `ALIBABA_CLOUD_REGION_ID`.
    pub region: Option<Attr<String>>,
    pub name: Attr<String>,
    pub target_dir: Attr<String>,
    pub mode: Attr<FileMode>,
    pub owner: Attr<String>,
    pub group: Attr<String>,
    pub overwrite: Attr<bool>,
    pub content: Option<Attr<ExpectedContent>>,
    /// Where `content_file:` points (joined to the manifest's directory):
    /// the fix script reads a sensitive file's content from here when it
    /// runs, rather than carrying it.
    pub content_file: Option<PathBuf>,
    /// How the content is sent; a `Base64` file is binary-safe.
    pub content_type: Attr<ContentType>,
    pub targets: Vec<TargetRef>,
    /// Sets resolved when the check runs; their members join `targets`.
    pub target_sources: Vec<TargetSource>,
    /// Pin the check to one SendFile task; required for eflo.
    pub invoke_id: Option<Attr<String>>,
    /// A delivery older than this is stale.
    pub max_age: Option<Attr<Duration>>,
    /// Only deliveries whose task carries every one of these tags count.
    pub task_tags: Vec<(String, String)>,
    /// Only deliveries created at or after this count.
    pub since: Option<Attr<Since>>,
    /// Never print the content; show sizes and hashes.
    pub sensitive: bool,
    pub description: Option<String>,
}

impl FileExpectation {
    /// The region to query; empty only before [`Expectations::apply_region_fallback`].
    pub fn region(&self) -> &str {
        self.region.as_ref().map_or("", |r| r.value.as_str())
    }

    /// The file's full path on the target.
    pub fn path(&self) -> String {
        join_path(&self.target_dir.value, &self.name.value)
    }
}

/// How a command is identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandSelector {
    CommandId(String),
    InvokeId(String),
}

/// An expectation on a command's output.
#[derive(Debug, Clone)]
pub enum OutputMatch {
    Equals(String),
    Contains(String),
    Regex(regex::Regex),
}

/// One declared command run.
#[derive(Debug, Clone)]
pub struct CommandExpectation {
    pub origin: Origin,
    /// Always ECS for now: the manifest refuses commands on eflo nodes.
    pub provider: Provider,
    /// `None` when the manifest names no region (see [`FileExpectation::region`]).
    pub region: Option<Attr<String>>,
    pub selector: Attr<CommandSelector>,
    /// Empty (and no `target_sources`): every instance the command ran on.
    pub targets: Vec<TargetRef>,
    /// Sets resolved when the check runs; their members join `targets`.
    pub target_sources: Vec<TargetSource>,
    pub exit_code: Option<Attr<i64>>,
    /// The expected per-instance `InvocationStatus`, `Success` unless declared.
    pub status: Attr<String>,
    pub output: Option<Attr<OutputMatch>>,
    /// Only runs started at or after this count (`since:`, `defaults`,
    /// `--since`).
    pub since: Option<Attr<Since>>,
    /// Only runs listed under every one of these invocation tags count
    /// (`task_tags:` or `defaults`), sorted by key.
    pub task_tags: Vec<(String, String)>,
}

impl CommandExpectation {
    /// The region to query; empty only before [`Expectations::apply_region_fallback`].
    pub fn region(&self) -> &str {
        self.region.as_ref().map_or("", |r| r.value.as_str())
    }
}

/// A finding the user has accepted, with a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiver {
    pub origin: Origin,
    /// The finding code it silences (`mode-mismatch`).
    pub finding: String,
    /// Only on this target; all targets when `None`.
    pub instance: Option<String>,
    /// Only for this full path; all files when `None`.
    pub file: Option<String>,
    pub reason: String,
    /// The last day the waiver applies; it lapses after.
    pub expires: Option<Date>,
}

/// Everything one check verifies.
#[derive(Debug, Default)]
pub struct Expectations {
    pub sources: Vec<Source>,
    pub files: Vec<FileExpectation>,
    pub commands: Vec<CommandExpectation>,
    pub waivers: Vec<Waiver>,
    /// How long the API keeps records (`defaults.retention`, `--retention`),
    /// named by `not-delivered`; `None`: the documents' range.
    pub retention: Option<std::time::Duration>,
    /// The (entry, target) pair budget the manifests were loaded under
    /// (`--max-pairs`), checked again once instance sets named by tags or
    /// a resource group have resolved; `None`: no budget.
    pub max_pairs: Option<u64>,
}

impl Expectations {
    /// (file, target) and (command, target) pairs as declared now.
    pub fn pairs(&self) -> u64 {
        let files = self.files.iter().map(|f| f.targets.len() as u64);
        let commands = self.commands.iter().map(|c| c.targets.len() as u64);
        files.chain(commands).sum()
    }

    pub fn source(&self, origin: Origin) -> &Source {
        &self.sources[origin.source]
    }

    /// Gives every file and command that declares no `since:` (nor a
    /// default one) the `--since` value.
    pub fn apply_since_fallback(&mut self, since: Since) {
        for file in &mut self.files {
            file.since.get_or_insert(Attr::builtin(since));
        }
        for command in &mut self.commands {
            command.since.get_or_insert(Attr::builtin(since));
        }
    }

    /// Gives every entry that names no region the `fallback` (from
    /// `--region` or the environment). Without one, returns the origins of
    /// the entries left without a region.
    pub fn apply_region_fallback(&mut self, fallback: Option<&str>) -> Result<(), Vec<Origin>> {
        let mut missing = Vec::new();
        let regions = self
            .files
            .iter_mut()
            .map(|f| (&mut f.region, f.origin))
            .chain(self.commands.iter_mut().map(|c| (&mut c.region, c.origin)));
        for (region, origin) in regions {
            if region.is_none() {
                match fallback {
                    Some(fallback) => *region = Some(Attr::builtin(fallback.to_owned())),
                    None => missing.push(origin),
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(missing)
        }
    }
}
