//! `shipcheck import`: a manifest of the fleet as it is, from the latest
//! successful deliveries (goss `autoadd` for Cloud Assistant).
//!
//! The manifest must describe the same world a check sees, so a check of
//! it against that world passes: the delivery that counts on each target
//! is picked exactly as the evaluation picks it (the latest success, by
//! the target's finish time then task id), and a target whose verdict would
//! not be "in sync" whatever the manifest says (its latest attempt still in
//! flight, a status or attribute the API did not echo, content that does
//! not decode) is left out and named in [`Imported::skipped`] rather than
//! guessed. Listing fails closed: a listing that cannot be read completely
//! produces no manifest at all.
//!
//! The result is data: the manifest's text and the side files it refers to
//! (`content_file`), written (or not, `--dry-run`) by the command line. The
//! YAML is emitted by serde-saphyr with every string quoted, then parsed
//! back and compared, so a file name or content cannot turn into YAML
//! structure.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::check::{Api, Connection};
use crate::cloud::{CloudError, Deadline, Env, InvocationFilter, SendFileFilter};
use crate::exit::Failure;
use crate::manifest::model::{InstanceSet, ModeSpec};
use crate::mode::FileMode;
use crate::observe::{
    CommandResult, ContentDigest, ContentType, FileInvocation, FileTarget, Observations,
};
use crate::protocol::endpoint::check_region;
use crate::protocol::{Provider, normalize_dir};
use crate::snapshot::Loaded;

/// Inline content is at most this many bytes…
pub const INLINE_MAX_BYTES: usize = 4096;
/// …and this many lines; longer text goes to a `content_file`.
pub const INLINE_MAX_LINES: usize = 60;
/// Where content files go, relative to the manifest.
const CONTENT_DIR: &str = "files";

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The region to list (else the profile's or the environment's).
    pub region: Option<String>,
    /// Only these file names (all when empty).
    pub names: Vec<String>,
    /// Only these instances (all when empty).
    pub instances: Vec<String>,
    /// Only files in these directories (all when empty).
    pub target_dirs: Vec<String>,
    /// Only deliveries that finished at or after this.
    pub since: Option<Since>,
    /// Earlier evidence, merged with the API's (or alone, offline).
    pub snapshots: Vec<Loaded>,
    /// Also import the latest command runs (`--commands`).
    pub commands: bool,
    /// How long the listing may take.
    pub timeout: Duration,
}

/// `--since`: a point in time, or a duration before now (the simulator's
/// now when importing from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    At(Timestamp),
    Ago(Duration),
}

/// An imported manifest and the files beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The manifest, version 1.
    pub manifest: String,
    /// Content files, relative to the manifest's directory.
    pub side_files: Vec<SideFile>,
    /// Targets with a delivery that could not be imported, and why.
    pub skipped: Vec<Skipped>,
    /// Distinct files (name, directory) imported.
    pub files: usize,
    /// Distinct instances imported.
    pub instances: usize,
    /// Distinct commands imported.
    pub commands: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub instance: String,
    pub reason: String,
}

/// Lists the region's deliveries through `api` (and `options.snapshots`)
/// and builds the manifest of the latest successful ones.
pub async fn run(api: Api, options: &ImportOptions) -> Result<Imported, Failure> {
    let connection = Connection::open(api, Deadline::after(options.timeout)).await?;
    let region = options
        .region
        .clone()
        .or_else(|| {
            connection
                .client
                .as_ref()
                .and_then(|c| c.region_hint())
                .map(str::to_owned)
        })
        .or_else(|| Env::from_process().region());
    let region = match region.map(|r| check_region(&r).map(|()| r)) {
        Some(Ok(region)) => region,
        Some(Err(err)) => {
            connection.close().await;
            return Err(Failure::invalid(miette::miette!("cannot import: {err}")));
        }
        None => {
            connection.close().await;
            return Err(Failure::invalid(miette::miette!(
                help = "pass --region, or set ALIBABA_CLOUD_REGION_ID",
                "import needs a region to list"
            )));
        }
    };
    let now = connection.now();
    let listed = match &connection.client {
        Some(client) => list(client, &region, options)
            .await
            .map(|(files, commands)| {
                Some(Observations {
                    files,
                    commands,
                    fetched_at: Some(now),
                    ..Observations::default()
                })
            }),
        None => Ok(None),
    };
    connection.close().await;
    let live = listed.map_err(|err| {
        Failure::unverified(miette::miette!(
            "cannot list the deliveries in {region}, so nothing was imported: {err}"
        ))
    })?;
    let merged = crate::snapshot::merge(live, &options.snapshots);
    let since = options.since.map(|since| match since {
        Since::At(at) => at,
        Since::Ago(ago) => now
            .checked_sub(jiff::SignedDuration::try_from(ago).unwrap_or(jiff::SignedDuration::MAX))
            .unwrap_or(Timestamp::MIN),
    });
    build(&merged.observations, &region, options, since).map_err(Failure::unverified)
}

/// The region's SendFile tasks (and command runs, with `commands`),
/// narrowed by the API where one filter value allows it (the rest is
/// filtered in [`build`]).
async fn list(
    client: &crate::cloud::CloudClient,
    region: &str,
    options: &ImportOptions,
) -> Result<(Vec<FileInvocation>, Vec<CommandResult>), CloudError> {
    let only = |values: &[String]| match values {
        [one] => Some(one.clone()),
        _ => None,
    };
    let filter = SendFileFilter {
        name: only(&options.names),
        instance_id: only(&options.instances),
        ..SendFileFilter::default()
    };
    let mut files = Vec::new();
    client
        .describe_send_file_results(region, &filter, |page| files.extend(page))
        .await?;
    let mut runs = Vec::new();
    if options.commands {
        let filter = InvocationFilter {
            instance_id: only(&options.instances),
            ..InvocationFilter::default()
        };
        client
            .describe_invocation_results(region, &filter, |page| runs.extend(page))
            .await?;
    }
    Ok((files, runs))
}

/// One file's identity, as the evaluation keys it: (directory, name).
type FileKey = (String, String);
/// One delivery attempt of a file on one target.
type Attempt<'a> = (&'a FileInvocation, &'a FileTarget);
/// One `files:` entry: the file, what it holds, its instances.
type FileEntry = (FileKey, Delivered, Vec<String>);
/// One `commands:` entry: the command id, its exit code, its instances.
type CommandEntry = (String, Option<i64>, Vec<String>);

/// What one target got: the manifest entry's attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Delivered {
    mode: FileMode,
    owner: String,
    group: String,
    overwrite: bool,
    content: Content,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Content {
    Bytes(Vec<u8>),
    /// Only a digest is known (a snapshot of an undeclared or sensitive file).
    Sha256(String),
}

/// Builds the manifest from `files` (the listing, merged with snapshots).
pub fn build(
    observations: &Observations,
    region: &str,
    options: &ImportOptions,
    since: Option<Timestamp>,
) -> Result<Imported, miette::Report> {
    let names: HashSet<&str> = options.names.iter().map(String::as_str).collect();
    let dirs: HashSet<&str> = options
        .target_dirs
        .iter()
        .map(|d| normalize_dir(d))
        .collect();
    let instances: HashSet<&str> = options.instances.iter().map(String::as_str).collect();

    // Every attempt per file and target, ordered as the evaluation orders them.
    let mut attempts: BTreeMap<FileKey, BTreeMap<&str, Vec<Attempt<'_>>>> = BTreeMap::new();
    for invocation in &observations.files {
        let dir = normalize_dir(&invocation.target_dir);
        if invocation.provider != Provider::Ecs
            || invocation.region != region
            || !(names.is_empty() || names.contains(invocation.name.as_str()))
            || !(dirs.is_empty() || dirs.contains(dir))
        {
            continue;
        }
        let targets = attempts
            .entry((dir.to_owned(), invocation.name.clone()))
            .or_default();
        for target in &invocation.targets {
            if instances.is_empty() || instances.contains(target.id.as_str()) {
                targets
                    .entry(target.id.as_str())
                    .or_default()
                    .push((invocation, target));
            }
        }
    }

    let mut skipped = Vec::new();
    let mut entries: Vec<FileEntry> = Vec::new();
    let mut all_instances = HashSet::new();
    for ((dir, name), targets) in &mut attempts {
        let path = crate::protocol::join_path(dir, name);
        let mut variants: BTreeMap<Delivered, Vec<String>> = BTreeMap::new();
        for (instance, tries) in targets.iter_mut() {
            tries.sort_by(|a, b| (when(a), &a.0.invoke_id).cmp(&(when(b), &b.0.invoke_id)));
            let skip = |reason: String| Skipped {
                path: path.clone(),
                instance: (*instance).to_owned(),
                reason,
            };
            match effective(tries, since) {
                Ok(None) => {}
                Ok(Some(delivered)) => {
                    all_instances.insert((*instance).to_owned());
                    variants
                        .entry(delivered)
                        .or_default()
                        .push((*instance).to_owned());
                }
                Err(reason) => skipped.push(skip(reason)),
            }
        }
        // The variant on most instances first, then by first instance.
        let mut variants: Vec<_> = variants.into_iter().collect();
        variants.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.1.cmp(&b.1)));
        for (delivered, on) in variants {
            entries.push(((dir.clone(), name.clone()), delivered, on));
        }
    }

    let files_count = entries
        .iter()
        .map(|(key, ..)| key)
        .collect::<HashSet<_>>()
        .len();
    let commands = if options.commands {
        latest_runs(&observations.commands, region, &instances, since)
    } else {
        Vec::new()
    };
    for (_, _, on) in &commands {
        all_instances.extend(on.iter().cloned());
    }
    let commands_count = commands
        .iter()
        .map(|(id, ..)| id)
        .collect::<HashSet<_>>()
        .len();
    let (manifest, side_files) = render(region, &entries, &commands)?;
    Ok(Imported {
        manifest,
        side_files,
        skipped,
        files: files_count,
        instances: all_instances.len(),
        commands: commands_count,
    })
}

/// Commands whose latest run on an instance succeeded, as (command id,
/// exit code, instances): the check judges the latest run, so an instance
/// whose latest run failed or is still running is left out.
fn latest_runs(
    runs: &[CommandResult],
    region: &str,
    instances: &HashSet<&str>,
    since: Option<Timestamp>,
) -> Vec<CommandEntry> {
    let mut latest: BTreeMap<(&str, &str), &CommandResult> = BTreeMap::new();
    for run in runs.iter().filter(|r| {
        r.region == region
            && !r.command_id.trim().is_empty()
            && (instances.is_empty() || instances.contains(r.instance_id.as_str()))
    }) {
        let slot = latest
            .entry((run.command_id.as_str(), run.instance_id.as_str()))
            .or_insert(run);
        if run.recency() > slot.recency() {
            *slot = run;
        }
    }
    let mut grouped: BTreeMap<(&str, Option<i64>), Vec<String>> = BTreeMap::new();
    for ((command, instance), run) in latest {
        let recent = match (since, run.finished.or(run.started)) {
            (Some(since), Some(at)) => at >= since,
            _ => true,
        };
        if run.status == "Success" && recent {
            grouped
                .entry((command, run.exit_code))
                .or_default()
                .push(instance.to_owned());
        }
    }
    grouped
        .into_iter()
        .map(|((command, exit_code), on)| (command.to_owned(), exit_code, on))
        .collect()
}

/// When an attempt happened, the way the evaluation dates it.
fn when((invocation, target): &Attempt<'_>) -> Option<Timestamp> {
    target.when().or(invocation.created)
}

/// The delivery that counts on one target (attempts oldest first): `None`
/// when there is no success (or none since `since`), `Err` when the check
/// could not call the target in sync whatever the manifest said.
fn effective(
    attempts: &[Attempt<'_>],
    since: Option<Timestamp>,
) -> Result<Option<Delivered>, String> {
    let Some(latest) = attempts.last() else {
        return Ok(None);
    };
    let success_at = attempts.iter().rposition(|a| a.1.status.is_success());
    let after = &attempts[success_at.map_or(0, |at| at + 1)..];
    if let Some(unknown) = after
        .iter()
        .find(|a| matches!(a.1.status, crate::observe::TargetStatus::Unknown(_)))
    {
        return Err(format!(
            "task {} reports an unreadable status `{}`",
            unknown.0.invoke_id, unknown.1.status
        ));
    }
    if success_at.is_some() && latest.1.status.is_in_flight() {
        return Err(format!(
            "a later delivery (task {}) is still {}",
            latest.0.invoke_id, latest.1.status
        ));
    }
    let Some(at) = success_at else {
        return Ok(None);
    };
    let success = attempts[at];
    if let (Some(since), Some(finished)) = (since, when(&success))
        && finished < since
    {
        return Ok(None);
    }
    let invocation = success.0;
    let task = &invocation.invoke_id;
    let present = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mode = invocation
        .mode
        .as_deref()
        .and_then(|m| m.trim().parse::<FileMode>().ok())
        .ok_or_else(|| format!("task {task} reports no readable FileMode"))?;
    let owner =
        present(&invocation.owner).ok_or_else(|| format!("task {task} reports no Owner"))?;
    let group =
        present(&invocation.group).ok_or_else(|| format!("task {task} reports no Group"))?;
    let overwrite = invocation
        .overwrite
        .ok_or_else(|| format!("task {task} reports no Overwrite"))?;
    let content = match invocation.content_type {
        ContentType::Digests => invocation
            .content
            .as_deref()
            .and_then(ContentDigest::decode)
            .and_then(|digests| digests.into_iter().next())
            .map(|digest| Content::Sha256(digest.sha256))
            .ok_or_else(|| format!("the snapshot of task {task} has unreadable digests"))?,
        ContentType::Other(ref other) => {
            return Err(format!(
                "task {task} reports an unknown ContentType `{other}`"
            ));
        }
        _ => match invocation.decoded_content() {
            Ok(bytes) => Content::Bytes(bytes.into_owned()),
            Err(_) => return Err(format!("task {task} reports content that does not decode")),
        },
    };
    Ok(Some(Delivered {
        mode,
        owner,
        group,
        overwrite,
        content,
    }))
}

/// The manifest as serialised (only what import writes).
#[derive(Serialize)]
struct ManifestOut {
    version: u32,
    defaults: DefaultsOut,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    instance_sets: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<FileOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    commands: Vec<CommandOut>,
}

#[derive(Serialize)]
struct CommandOut {
    command_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i64>,
    /// Only when the exit code is not 0 (the default status is then Failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    instances: Vec<String>,
}

#[derive(Serialize)]
struct DefaultsOut {
    region: String,
}

#[derive(Serialize)]
struct FileOut {
    name: String,
    target_dir: String,
    mode: String,
    owner: String,
    group: String,
    overwrite: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<InlineText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    instances: Vec<String>,
}

/// Inline content: a literal block (`|`) when it has several lines and
/// nothing a block would have to escape, else a quoted scalar.
struct InlineText(String);

impl Serialize for InlineText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.0.as_str();
        let block = text.contains('\n')
            && !text.starts_with([' ', '\t', '\n'])
            && !text.lines().any(|line| line.ends_with([' ', '\t']));
        if block {
            serde_saphyr::LitStr(text).serialize(serializer)
        } else {
            serializer.serialize_str(text)
        }
    }
}

/// Serialises the entries: instance lists shared by several entries, or
/// longer than one, become `set-1`, `set-2`, … in order of first use.
fn render(
    region: &str,
    entries: &[FileEntry],
    commands: &[CommandEntry],
) -> Result<(String, Vec<SideFile>), miette::Report> {
    let mut set_names: HashMap<Vec<String>, String> = HashMap::new();
    let mut instance_sets = BTreeMap::new();
    let mut targets = |on: &[String]| {
        if on.len() > 1 {
            let next = set_names.len() + 1;
            let set = set_names
                .entry(on.to_vec())
                .or_insert_with(|| format!("set-{next}"));
            instance_sets
                .entry(set.clone())
                .or_insert_with(|| on.to_vec());
            vec![set.clone()]
        } else {
            on.to_vec()
        }
    };
    let mut side_files = Vec::new();
    let mut used_paths = HashSet::new();
    let mut files = Vec::with_capacity(entries.len());
    for ((dir, name), delivered, on) in entries {
        let instances = targets(on);
        let mut file = FileOut {
            name: name.clone(),
            target_dir: dir.clone(),
            mode: delivered.mode.to_string(),
            owner: delivered.owner.clone(),
            group: delivered.group.clone(),
            overwrite: delivered.overwrite,
            content: None,
            content_file: None,
            sha256: None,
            instances,
        };
        match &delivered.content {
            Content::Sha256(digest) => file.sha256 = Some(digest.clone()),
            Content::Bytes(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) if inline(text) => file.content = Some(InlineText(text.to_owned())),
                // Binary: only its digest (a manifest holds text).
                Err(_) => file.sha256 = Some(hex::encode(Sha256::digest(bytes))),
                Ok(_) => {
                    let path = side_path(dir, name, bytes, &mut used_paths);
                    file.content_file = Some(path.clone());
                    side_files.push(SideFile {
                        path: PathBuf::from(path),
                        bytes: bytes.clone(),
                    });
                }
            },
        }
        files.push(file);
    }
    let commands = commands
        .iter()
        .map(|(command_id, exit_code, on)| CommandOut {
            command_id: command_id.clone(),
            exit_code: *exit_code,
            status: exit_code.is_some_and(|code| code != 0).then_some("Success"),
            instances: targets(on),
        })
        .collect();
    let manifest = ManifestOut {
        version: 1,
        defaults: DefaultsOut {
            region: region.to_owned(),
        },
        instance_sets,
        files,
        commands,
    };
    let options = serde_saphyr::ser_options! {
        quote_all: true,
    };
    let body = serde_saphyr::to_string_with_options(&manifest, options)
        .map_err(|err| miette::miette!("cannot write the manifest as YAML: {err}"))?;
    verify(&manifest, &body)?;
    let text =
        format!("# Written by `shipcheck import` from the latest successful deliveries.\n{body}");
    Ok((text, side_files))
}

/// Whether `text` reads well inline: short, and nothing but printable
/// characters, tabs and newlines.
fn inline(text: &str) -> bool {
    text.len() <= INLINE_MAX_BYTES
        && text.lines().count() <= INLINE_MAX_LINES
        && !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// `files/<dir>/<name>` with every component made a safe file name; the
/// content's digest is added when that path is taken already (variants of
/// one file, or names that differ only in unsafe characters).
fn side_path(dir: &str, name: &str, bytes: &[u8], used: &mut HashSet<String>) -> String {
    let mut parts = vec![CONTENT_DIR.to_owned()];
    parts.extend(dir.split('/').filter(|c| !c.is_empty()).map(safe_component));
    parts.push(safe_component(name));
    let mut path = parts.join("/");
    if !used.insert(path.clone()) {
        let digest = hex::encode(Sha256::digest(bytes));
        path = format!("{path}.{}", &digest[..12]);
        used.insert(path.clone());
    }
    path
}

/// A path component that names a file in its directory and nothing else.
fn safe_component(text: &str) -> String {
    let safe: String = text
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.chars().all(|c| c == '.') {
        safe.replace('.', "_")
    } else {
        safe
    }
}

/// Reads the YAML back: every name, directory and content must come back
/// exactly as written, or the manifest is not returned.
fn verify(manifest: &ManifestOut, yaml: &str) -> Result<(), miette::Report> {
    let parsed: crate::manifest::model::Manifest = serde_saphyr::from_str(yaml)
        .map_err(|err| miette::miette!("the imported manifest does not read back: {err}"))?;
    let back = parsed.files.unwrap_or_default();
    let same = back.len() == manifest.files.len()
        && back.iter().zip(&manifest.files).all(|(read, written)| {
            read.name == written.name
                && read.target_dir == written.target_dir
                && read.content.as_deref() == written.content.as_ref().map(|c| c.0.as_str())
                && read.mode == Some(ModeSpec::Text(written.mode.clone()))
                && read.owner.as_ref() == Some(&written.owner)
                && read.group.as_ref() == Some(&written.group)
                && read.overwrite == Some(written.overwrite)
                && read.content_file == written.content_file
                && read.sha256 == written.sha256
                && read.instances.as_ref() == Some(&written.instances)
        })
        && parsed
            .instance_sets
            .unwrap_or_default()
            .iter()
            .map(|(name, set)| match set {
                InstanceSet::Ids(ids) => Some((name, ids)),
                InstanceSet::Source(_) => None,
            })
            .eq(manifest.instance_sets.iter().map(Some))
        && parsed
            .commands
            .unwrap_or_default()
            .iter()
            .map(|c| (c.command_id.as_deref(), c.instances.as_deref(), c.exit_code))
            .eq(manifest.commands.iter().map(|c| {
                (
                    Some(c.command_id.as_str()),
                    Some(c.instances.as_slice()),
                    c.exit_code,
                )
            }));
    if same {
        Ok(())
    } else {
        Err(miette::miette!(
            "the imported manifest does not read back as written (a YAML emitter fault); \
             nothing was imported"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_paths_stay_inside_and_unique() {
        let mut used = HashSet::new();
        assert_eq!(
            side_path("/etc/nginx", "nginx.conf", b"a", &mut used),
            "files/etc/nginx/nginx.conf"
        );
        let second = side_path("/etc/nginx", "nginx.conf", b"b", &mut used);
        assert!(
            second.starts_with("files/etc/nginx/nginx.conf."),
            "{second}"
        );
        assert_eq!(side_path("/../x", "..", b"c", &mut used), "files/__/x/__");
    }

    /// Text a literal block or a quoted scalar could get wrong: each is
    /// rendered and read back exactly (`render` refuses anything else).
    #[test]
    fn awkward_text_reads_back_exactly() {
        let awkward = [
            "",
            "no newline",
            "  leading spaces\nsecond\n",
            "trailing spaces  \nx\n",
            "two trailing newlines\n\n",
            "\nstarts with a newline\n",
            "---\n...\n# not a comment\n",
            "tab\tinside\n\tand leading\n",
            "unicode: héllo ✓\n",
            "key: value\n- item\n{flow: [x]}\n",
            "'single' \"double\" \\ backslash\n",
            "null",
            "0644",
        ];
        for (i, text) in awkward.iter().enumerate() {
            let delivered = Delivered {
                mode: "0644".parse().unwrap(),
                owner: "root".to_owned(),
                group: "root".to_owned(),
                overwrite: true,
                content: Content::Bytes(text.as_bytes().to_vec()),
            };
            let name = format!("{text}-{i}");
            let entries = [(
                ("/etc".to_owned(), name.clone()),
                delivered,
                vec!["i-1".to_owned()],
            )];
            let (yaml, side) = render("cn-hangzhou", &entries, &[])
                .unwrap_or_else(|err| panic!("{text:?}: {err}"));
            assert!(side.is_empty(), "{text:?}");
            let parsed: crate::manifest::model::Manifest = serde_saphyr::from_str(&yaml).unwrap();
            let file = &parsed.files.unwrap()[0];
            assert_eq!(file.content.as_deref(), Some(*text), "{yaml}");
            assert_eq!(file.name, name, "{yaml}");
        }
    }

    #[test]
    fn only_clean_short_text_is_inline() {
        assert!(inline("a: b\n\tc\n"));
        assert!(!inline("a\r\nb"));
        assert!(!inline(&"x\n".repeat(INLINE_MAX_LINES + 1)));
    }
}
