//! Sections as written → [`crate::expect`] values: defaults applied,
//! instance sets expanded, variables substituted, content files read, and
//! every format checked (modes, paths, sizes, durations, dates).
//!
//! Each resolved value keeps the [`Origin`] of the YAML it came from; a
//! value that falls back to SendFile's own default has none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;

use super::diagnostics::{Code, ManifestDiagnostic, Sink, did_you_mean};
use super::document::{SpanIndex, pointer_display, pointer_push};
use super::model::{
    CommandEntry, ContentTypeName, Defaults, FileEntry, ModeSpec, OutputSpec, WaiverEntry,
};
use super::schema::first_line;
use super::vars::Expander;
use crate::expect::{
    Attr, CommandExpectation, CommandSelector, ExpectedContent, FileExpectation, Origin,
    OutputMatch, Span, TargetRef, Waiver,
};
use crate::mode::{DEFAULT_MODE, FileMode};
use crate::observe::ContentType;
use crate::protocol::Provider;

/// SendFile's limit on `Content`, measured after Base64 encoding.
pub const MAX_CONTENT_BASE64_BYTES: usize = 32 * 1024;
/// SendFile's limit on `Name` and `TargetDir`, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// The typed sections of one manifest that deserialised; `usize` is the
/// entry's index in its list, for its JSON pointer.
#[derive(Debug, Default)]
pub struct Sections {
    pub provider: Provider,
    pub defaults: Option<Defaults>,
    pub instance_sets: Vec<(String, Vec<String>)>,
    pub files: Vec<(usize, FileEntry)>,
    pub commands: Vec<(usize, CommandEntry)>,
    pub waivers: Vec<(usize, WaiverEntry)>,
}

/// What one manifest resolves to.
#[derive(Debug, Default)]
pub struct Resolved {
    pub files: Vec<FileExpectation>,
    pub commands: Vec<CommandExpectation>,
    pub waivers: Vec<Waiver>,
}

/// Defaults after their own checks, reported once rather than per file.
#[derive(Debug, Default)]
struct ResolvedDefaults {
    region: Option<Attr<String>>,
    mode: Option<Attr<FileMode>>,
    owner: Option<Attr<String>>,
    group: Option<Attr<String>>,
    overwrite: Option<Attr<bool>>,
    content_type: Option<Attr<ContentType>>,
    max_age: Option<Attr<Duration>>,
}

pub struct Resolver<'a> {
    pub source: usize,
    /// `content_file` paths are relative to this (the manifest's directory).
    pub base_dir: PathBuf,
    pub text: &'a str,
    pub index: &'a SpanIndex,
    pub expander: Expander<'a>,
    pub sink: &'a mut Sink,
}

impl Resolver<'_> {
    pub fn resolve(mut self, sections: &Sections) -> Resolved {
        let provider = sections.provider;
        let sets = self.instance_sets(&sections.instance_sets, provider);
        let defaults = self.defaults(sections.defaults.as_ref());
        let mut resolved = Resolved::default();
        for (i, entry) in &sections.files {
            if let Some(file) = self.file(*i, entry, provider, &sets, &defaults) {
                resolved.files.push(file);
            }
        }
        for (i, entry) in &sections.commands {
            if let Some(command) = self.command(*i, entry, provider, &sets, &defaults) {
                resolved.commands.push(command);
            }
        }
        for (i, entry) in &sections.waivers {
            if let Some(waiver) = self.waiver(*i, entry) {
                resolved.waivers.push(waiver);
            }
        }
        resolved
    }

    fn origin(&self, pointer: &str) -> Origin {
        Origin {
            source: self.source,
            span: self.index.value(pointer),
        }
    }

    /// The first line of an entry: a label for "this entry".
    fn entry_label(&self, pointer: &str) -> Span {
        first_line(self.index.value(pointer), self.text)
    }

    fn push(&mut self, diagnostic: ManifestDiagnostic) {
        self.sink.push(diagnostic);
    }

    /// Expands the string at `pointer`.
    fn string(&mut self, value: &str, pointer: &str) -> Option<Attr<String>> {
        let origin = self.origin(pointer);
        self.expander
            .expand(value, origin.span, self.sink)
            .map(|value| Attr::declared(value, origin))
    }

    fn opt_string(&mut self, value: Option<&String>, pointer: &str) -> Option<Attr<String>> {
        value.and_then(|value| self.string(value, pointer))
    }

    fn instance_sets(
        &mut self,
        sets: &[(String, Vec<String>)],
        provider: Provider,
    ) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        for (name, members) in sets {
            let set_pointer = pointer_push("/instance_sets", name);
            let mut ids = Vec::new();
            for (i, member) in members.iter().enumerate() {
                let pointer = pointer_push(&set_pointer, &i.to_string());
                let Some(id) = self.string(member, &pointer) else {
                    continue;
                };
                if looks_like_id(&id.value, provider) {
                    ids.push(id.value);
                } else {
                    let noun = provider.target_noun();
                    self.push(
                        ManifestDiagnostic::new(
                            Code::InvalidTargetId,
                            format!(
                                "`{}` in instance set `{name}` is not an {noun} id",
                                id.value
                            ),
                        )
                        .label(self.index.value(&pointer), format!("not an {noun} id"))
                        .help(format!(
                            "instance sets list {noun} ids ({}); sets cannot include other sets",
                            id_example(provider)
                        )),
                    );
                }
            }
            out.insert(name.clone(), ids);
        }
        out
    }

    fn defaults(&mut self, defaults: Option<&Defaults>) -> ResolvedDefaults {
        let Some(d) = defaults else {
            return ResolvedDefaults::default();
        };
        ResolvedDefaults {
            region: self.opt_string(d.region.as_ref(), "/defaults/region"),
            mode: d
                .mode
                .as_ref()
                .and_then(|mode| self.mode(mode, "/defaults/mode")),
            owner: self.opt_string(d.owner.as_ref(), "/defaults/owner"),
            group: self.opt_string(d.group.as_ref(), "/defaults/group"),
            overwrite: d
                .overwrite
                .map(|b| Attr::declared(b, self.origin("/defaults/overwrite"))),
            content_type: d
                .content_type
                .map(|t| Attr::declared(content_type(t), self.origin("/defaults/content_type"))),
            max_age: d
                .max_age
                .as_ref()
                .and_then(|age| self.duration(age, "/defaults/max_age")),
        }
    }

    fn mode(&mut self, mode: &ModeSpec, pointer: &str) -> Option<Attr<FileMode>> {
        let origin = self.origin(pointer);
        let text = match mode {
            // A YAML number: read its digits as written (`644` is 0o644),
            // never its decimal value.
            ModeSpec::Digits(_) => self
                .text
                .get(origin.span.start..origin.span.end)
                .unwrap_or_default()
                .trim()
                .to_owned(),
            ModeSpec::Text(text) => self.expander.expand(text, origin.span, self.sink)?,
        };
        match text.parse::<FileMode>() {
            Ok(mode) => Some(Attr::declared(mode, origin)),
            Err(err) => {
                self.push(
                    ManifestDiagnostic::new(Code::InvalidMode, err.to_string())
                        .label(origin.span, "not an octal mode")
                        .help("write the mode in octal, as chmod takes it: \"0644\", \"0755\", \"0600\""),
                );
                None
            }
        }
    }

    fn duration(&mut self, text: &str, pointer: &str) -> Option<Attr<Duration>> {
        let attr = self.string(text, pointer)?;
        match humantime::parse_duration(attr.value.trim()) {
            Ok(duration) => Some(Attr::declared(duration, attr.origin?)),
            Err(err) => {
                self.push(
                    ManifestDiagnostic::new(
                        Code::InvalidDuration,
                        format!("`{}` is not a duration ({err})", attr.value),
                    )
                    .label(self.index.value(pointer), "not a duration")
                    .help("write a number and a unit: 90s, 30m, 12h, 7d"),
                );
                None
            }
        }
    }

    fn file(
        &mut self,
        i: usize,
        entry: &FileEntry,
        provider: Provider,
        sets: &BTreeMap<String, Vec<String>>,
        defaults: &ResolvedDefaults,
    ) -> Option<FileExpectation> {
        let at = |key: &str| format!("/files/{i}/{key}");
        let entry_pointer = format!("/files/{i}");
        let mut ok = true;

        let name = self.string(&entry.name, &at("name"));
        if let Some(name) = &name {
            ok &= self.length("name", &name.value, &at("name"));
        }
        let target_dir = self.string(&entry.target_dir, &at("target_dir"));
        if let Some(dir) = &target_dir {
            ok &= self.length("target_dir", &dir.value, &at("target_dir"));
            if !is_absolute(&dir.value) {
                ok = false;
                self.push(
                    ManifestDiagnostic::new(
                        Code::RelativeTargetDir,
                        format!("target_dir `{}` is not an absolute path", dir.value),
                    )
                    .label(self.index.value(&at("target_dir")), "relative path")
                    .help(format!(
                        "SendFile needs an absolute directory: write `/{}`",
                        dir.value.trim_start_matches("./")
                    )),
                );
            }
        }

        let mode = match &entry.mode {
            Some(mode) => self.mode(mode, &at("mode")),
            None => Some(defaults.mode.clone().unwrap_or(Attr::builtin(DEFAULT_MODE))),
        };
        let owner = self.with_default(entry.owner.as_ref(), &at("owner"), &defaults.owner, "root");
        let group = self.with_default(entry.group.as_ref(), &at("group"), &defaults.group, "root");
        let overwrite = match entry.overwrite {
            Some(b) => Attr::declared(b, self.origin(&at("overwrite"))),
            None => defaults.overwrite.clone().unwrap_or(Attr::builtin(false)),
        };
        let content_type = match entry.content_type {
            Some(t) => Attr::declared(content_type(t), self.origin(&at("content_type"))),
            None => defaults
                .content_type
                .clone()
                .unwrap_or(Attr::builtin(ContentType::PlainText)),
        };
        let content = self.content(i, entry, &content_type.value);
        ok &= content.is_ok();

        let targets = self.targets(
            &entry_pointer,
            entry.instances.as_ref(),
            entry.nodes.as_ref(),
            provider,
            sets,
        );
        let targets = match targets {
            Some(targets) if targets.is_empty() => {
                let key = match provider {
                    Provider::Ecs => "instances",
                    Provider::Eflo => "nodes",
                };
                self.push(
                    ManifestDiagnostic::new(
                        Code::NoTargets,
                        format!(
                            "{} names no {}",
                            pointer_display(&entry_pointer),
                            provider.target_noun()
                        ),
                    )
                    .label(
                        self.entry_label(&entry_pointer),
                        format!("no `{key}:` in this entry"),
                    )
                    .help(format!(
                        "add `{key}: [{}]` (ids or instance set names)",
                        id_example(provider)
                    )),
                );
                None
            }
            other => other,
        };

        let invoke_id = self.opt_string(entry.invoke_id.as_ref(), &at("invoke_id"));
        if provider == Provider::Eflo && entry.invoke_id.is_none() {
            ok = false;
            self.push(
                ManifestDiagnostic::new(
                    Code::EfloNeedsInvokeId,
                    format!("{} is on eflo nodes but names no invoke_id", pointer_display(&entry_pointer)),
                )
                .label(self.entry_label(&entry_pointer), "no `invoke_id:` in this entry")
                .help("eflo's DescribeSendFileResults requires the SendFile task id: add `invoke_id: f-…`"),
            );
        }
        let region = match &entry.region {
            Some(region) => self.string(region, &at("region")),
            None => defaults.region.clone(),
        };
        let max_age = match &entry.max_age {
            Some(age) => self.duration(age, &at("max_age")),
            None => defaults.max_age.clone(),
        };
        let description = entry
            .description
            .as_ref()
            .and_then(|d| self.string(d, &at("description")))
            .map(|d| d.value);

        if !ok {
            return None;
        }
        Some(FileExpectation {
            origin: self.origin(&entry_pointer),
            provider,
            region,
            name: name?,
            target_dir: target_dir?,
            mode: mode?,
            owner: owner?,
            group: group?,
            overwrite,
            content: content.ok()?,
            content_type,
            targets: targets?,
            invoke_id,
            max_age,
            sensitive: entry.sensitive.unwrap_or(false),
            description,
        })
    }

    fn with_default(
        &mut self,
        value: Option<&String>,
        pointer: &str,
        default: &Option<Attr<String>>,
        builtin: &str,
    ) -> Option<Attr<String>> {
        match value {
            Some(value) => self.string(value, pointer),
            None => Some(
                default
                    .clone()
                    .unwrap_or_else(|| Attr::builtin(builtin.to_owned())),
            ),
        }
    }

    fn length(&mut self, key: &str, value: &str, pointer: &str) -> bool {
        let chars = value.chars().count();
        if chars <= MAX_NAME_CHARS {
            return true;
        }
        self.push(
            ManifestDiagnostic::new(
                Code::TooLong,
                format!(
                    "{key} is {chars} characters long; SendFile accepts at most {MAX_NAME_CHARS}"
                ),
            )
            .label(self.index.value(pointer), format!("{chars} characters"))
            .help(format!("shorten the {key}; SendFile refuses longer ones")),
        );
        false
    }

    /// `Ok(None)`: no content declared. `Err`: reported.
    fn content(
        &mut self,
        i: usize,
        entry: &FileEntry,
        content_type: &ContentType,
    ) -> Result<Option<Attr<ExpectedContent>>, ()> {
        let at = |key: &str| format!("/files/{i}/{key}");
        let declared: Vec<&str> = [
            ("content", entry.content.is_some()),
            ("content_file", entry.content_file.is_some()),
            ("sha256", entry.sha256.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect();
        if declared.len() > 1 {
            let mut diagnostic = ManifestDiagnostic::new(
                Code::ConflictingContent,
                format!(
                    "a file takes one of content, content_file and sha256; this one has {}",
                    declared.join(" and ")
                ),
            );
            for key in &declared[1..] {
                diagnostic = diagnostic.label(
                    self.index.head(&at(key)),
                    format!("`{key}` as well as `{}`", declared[0]),
                );
            }
            self.push(
                diagnostic.help("keep the one that states what you expect; remove the others"),
            );
            return Err(());
        }
        if let Some(content) = &entry.content {
            let pointer = at("content");
            let attr = self.string(content, &pointer).ok_or(())?;
            let origin = attr.origin.expect("declared");
            let (bytes, encoded_len) = if *content_type == ContentType::Base64 {
                let compact: String = attr.value.split_ascii_whitespace().collect();
                match base64::engine::general_purpose::STANDARD.decode(&compact) {
                    Ok(bytes) => (bytes, compact.len()),
                    Err(err) => {
                        self.push(
                            ManifestDiagnostic::new(
                                Code::InvalidBase64,
                                format!("content is declared Base64 but does not decode ({err})"),
                            )
                            .label(origin.span, "not Base64")
                            .help("give the Base64 text of the file, or set `content_type: PlainText`"),
                        );
                        return Err(());
                    }
                }
            } else {
                let len = base64_len(attr.value.len());
                (attr.value.into_bytes(), len)
            };
            self.size_limit(encoded_len, origin.span, "content")?;
            return Ok(Some(Attr::declared(ExpectedContent::Bytes(bytes), origin)));
        }
        if let Some(path) = &entry.content_file {
            let pointer = at("content_file");
            let attr = self.string(path, &pointer).ok_or(())?;
            let origin = attr.origin.expect("declared");
            let full = self.base_dir.join(&attr.value);
            let bytes = self.read_content_file(&attr.value, &full, origin.span)?;
            self.size_limit(base64_len(bytes.len()), origin.span, "content_file")?;
            return Ok(Some(Attr::declared(ExpectedContent::Bytes(bytes), origin)));
        }
        if let Some(sha) = &entry.sha256 {
            let pointer = at("sha256");
            let attr = self.string(sha, &pointer).ok_or(())?;
            let origin = attr.origin.expect("declared");
            let mut digest = [0u8; 32];
            if hex::decode_to_slice(attr.value.trim(), &mut digest).is_err() {
                self.push(
                    ManifestDiagnostic::new(
                        Code::InvalidSha256,
                        format!("`{}` is not a SHA-256 digest", attr.value),
                    )
                    .label(origin.span, "not 64 hex digits")
                    .help("write the 64 hexadecimal digits that `sha256sum FILE` prints"),
                );
                return Err(());
            }
            return Ok(Some(Attr::declared(
                ExpectedContent::Sha256(digest),
                origin,
            )));
        }
        Ok(None)
    }

    fn read_content_file(&mut self, shown: &str, full: &Path, span: Span) -> Result<Vec<u8>, ()> {
        // Refuse before reading: a file over the limit is an error anyway.
        if let Ok(meta) = std::fs::metadata(full)
            && meta.is_file()
            && base64_len(meta.len() as usize) > MAX_CONTENT_BASE64_BYTES
        {
            self.size_limit(base64_len(meta.len() as usize), span, "content_file")?;
        }
        std::fs::read(full).map_err(|err| {
            let (code, message) = if err.kind() == std::io::ErrorKind::NotFound {
                (
                    Code::ContentFileMissing,
                    format!("content_file `{shown}` does not exist"),
                )
            } else {
                (
                    Code::ContentFileUnreadable,
                    format!("content_file `{shown}` cannot be read: {err}"),
                )
            };
            let label = if code == Code::ContentFileMissing {
                "no such file"
            } else {
                "cannot be read"
            };
            self.push(
                ManifestDiagnostic::new(code, message)
                    .label(span, label)
                    .help(format!(
                        "the path is relative to the manifest's directory; looked for {}",
                        full.display()
                    )),
            );
        })
    }

    fn size_limit(&mut self, encoded_len: usize, span: Span, key: &str) -> Result<(), ()> {
        if encoded_len <= MAX_CONTENT_BASE64_BYTES {
            return Ok(());
        }
        self.push(
            ManifestDiagnostic::new(
                Code::ContentTooLarge,
                format!(
                    "{key} is {encoded_len} bytes after Base64; SendFile accepts at most {MAX_CONTENT_BASE64_BYTES} (32 KB)"
                ),
            )
            .label(span, "over SendFile's limit")
            .help("SendFile cannot deliver this in one piece; split the file, or deliver it another way and check it with a command"),
        );
        Err(())
    }

    /// `None` when a target failed (reported); otherwise the targets,
    /// instance sets expanded and duplicates dropped.
    fn targets(
        &mut self,
        entry_pointer: &str,
        instances: Option<&Vec<String>>,
        nodes: Option<&Vec<String>>,
        provider: Provider,
        sets: &BTreeMap<String, Vec<String>>,
    ) -> Option<Vec<TargetRef>> {
        let (key, list, wrong_key, wrong_list) = match provider {
            Provider::Ecs => ("instances", instances, "nodes", nodes),
            Provider::Eflo => ("nodes", nodes, "instances", instances),
        };
        let mut ok = true;
        if wrong_list.is_some() {
            ok = false;
            let provider_name = match provider {
                Provider::Ecs => "ecs",
                Provider::Eflo => "eflo",
            };
            let help = match provider {
                Provider::Ecs => {
                    "write `instances:`, or set `provider: eflo` at the top for Lingjun nodes"
                }
                Provider::Eflo => "write `nodes:`, or remove `provider: eflo` for ECS instances",
            };
            self.push(
                ManifestDiagnostic::new(
                    Code::WrongTargetKey,
                    format!(
                        "`{wrong_key}:` does not apply: this manifest's provider is {provider_name}"
                    ),
                )
                .label(
                    self.index.head(&pointer_push(entry_pointer, wrong_key)),
                    format!("use `{key}:`"),
                )
                .help(help),
            );
        }
        let mut targets: Vec<TargetRef> = Vec::new();
        let list_pointer = pointer_push(entry_pointer, key);
        for (i, item) in list.into_iter().flatten().enumerate() {
            let pointer = pointer_push(&list_pointer, &i.to_string());
            let Some(item) = self.string(item, &pointer) else {
                ok = false;
                continue;
            };
            let origin = item.origin.expect("declared");
            let mut push = |id: &str, via_set: Option<&str>| {
                if !targets.iter().any(|t| t.id == id) {
                    targets.push(TargetRef {
                        id: id.to_owned(),
                        origin,
                        via_set: via_set.map(str::to_owned),
                    });
                }
            };
            if let Some(members) = sets.get(&item.value) {
                for id in members {
                    push(id, Some(&item.value));
                }
            } else if looks_like_id(&item.value, provider) {
                push(&item.value, None);
            } else {
                ok = false;
                let help = match did_you_mean(&item.value, sets.keys().map(String::as_str)) {
                    Some(suggestion) => format!("did you mean the instance set `{suggestion}`?"),
                    None if sets.is_empty() => format!(
                        "define it under `instance_sets:`, or write an {} id ({})",
                        provider.target_noun(),
                        id_example(provider)
                    ),
                    None => format!(
                        "the instance sets are: {}",
                        sets.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                };
                self.push(
                    ManifestDiagnostic::new(
                        Code::UnknownInstanceSet,
                        format!(
                            "`{}` is neither an instance set nor an {} id",
                            item.value,
                            provider.target_noun()
                        ),
                    )
                    .label(origin.span, "unknown instance set")
                    .help(help),
                );
            }
        }
        ok.then_some(targets)
    }

    fn command(
        &mut self,
        i: usize,
        entry: &CommandEntry,
        provider: Provider,
        sets: &BTreeMap<String, Vec<String>>,
        defaults: &ResolvedDefaults,
    ) -> Option<CommandExpectation> {
        let at = |key: &str| format!("/commands/{i}/{key}");
        let entry_pointer = format!("/commands/{i}");
        if provider == Provider::Eflo {
            // Checking them would need eflo's DescribeInvocations, which
            // this version does not read; refusing beats a silent pass.
            self.push(
                ManifestDiagnostic::new(
                    Code::EfloCommand,
                    format!(
                        "{} is a command on eflo nodes, which shipcheck cannot check yet",
                        pointer_display(&entry_pointer)
                    ),
                )
                .label(self.entry_label(&entry_pointer), "not checked on eflo")
                .help("shipcheck checks eflo file deliveries only; remove the command, or move it to an ECS manifest"),
            );
            return None;
        }
        let mut ok = true;
        let selector = match (&entry.command_id, &entry.invoke_id) {
            (Some(id), None) => self.string(id, &at("command_id")).map(|a| {
                Attr::declared(
                    CommandSelector::CommandId(a.value),
                    a.origin.expect("declared"),
                )
            }),
            (None, Some(id)) => self.string(id, &at("invoke_id")).map(|a| {
                Attr::declared(
                    CommandSelector::InvokeId(a.value),
                    a.origin.expect("declared"),
                )
            }),
            (Some(_), Some(_)) => {
                self.push(
                    ManifestDiagnostic::new(
                        Code::CommandSelector,
                        format!("{} has both command_id and invoke_id", pointer_display(&entry_pointer)),
                    )
                    .label(self.index.head(&at("invoke_id")), "as well as `command_id`")
                    .help("keep one: `command_id` checks every run of the command, `invoke_id` one invocation"),
                );
                None
            }
            (None, None) => {
                self.push(
                    ManifestDiagnostic::new(
                        Code::CommandSelector,
                        format!("{} names no command_id or invoke_id", pointer_display(&entry_pointer)),
                    )
                    .label(self.entry_label(&entry_pointer), "which command?")
                    .help("add `command_id: c-…` (every run of a command) or `invoke_id: t-…` (one invocation)"),
                );
                None
            }
        };
        let targets = self.targets(
            &entry_pointer,
            entry.instances.as_ref(),
            entry.nodes.as_ref(),
            provider,
            sets,
        );
        ok &= targets.is_some();
        let exit_code = entry
            .exit_code
            .map(|code| Attr::declared(code, self.origin(&at("exit_code"))));
        let status = match entry.status {
            Some(status) => Attr::declared(status.as_str().to_owned(), self.origin(&at("status"))),
            None if entry.exit_code.is_some_and(|code| code != 0) => {
                Attr::builtin("Failed".to_owned())
            }
            None => Attr::builtin("Success".to_owned()),
        };
        let output = match &entry.output {
            Some(output) => {
                let matched = self.output(i, output);
                ok &= matched.is_some();
                matched
            }
            None => None,
        };
        let region = match &entry.region {
            Some(region) => self.string(region, &at("region")),
            None => defaults.region.clone(),
        };
        if !ok {
            return None;
        }
        Some(CommandExpectation {
            origin: self.origin(&entry_pointer),
            provider,
            region,
            selector: selector?,
            targets: targets?,
            exit_code,
            status,
            output,
        })
    }

    fn output(&mut self, i: usize, output: &OutputSpec) -> Option<Attr<OutputMatch>> {
        let at = |key: &str| format!("/commands/{i}/output/{key}");
        if let Some(text) = &output.equals {
            let a = self.string(text, &at("equals"))?;
            return Some(Attr::declared(OutputMatch::Equals(a.value), a.origin?));
        }
        if let Some(text) = &output.contains {
            let a = self.string(text, &at("contains"))?;
            return Some(Attr::declared(OutputMatch::Contains(a.value), a.origin?));
        }
        let text = output.regex.as_ref()?;
        let a = self.string(text, &at("regex"))?;
        let origin = a.origin?;
        match regex::Regex::new(&a.value) {
            Ok(regex) => Some(Attr::declared(OutputMatch::Regex(regex), origin)),
            Err(err) => {
                let detail = err.to_string();
                let reason = detail.lines().last().unwrap_or_default().trim();
                let reason = reason.strip_prefix("error: ").unwrap_or(reason).to_owned();
                self.push(
                    ManifestDiagnostic::new(
                        Code::InvalidRegex,
                        format!("the output regex does not compile: {reason}"),
                    )
                    .label(origin.span, "invalid regex")
                    .help(
                        "the syntax is Rust's `regex` crate; escape literal characters with `\\\\`",
                    ),
                );
                None
            }
        }
    }

    /// A waiver must name a finding code shipcheck reports, or it silences nothing.
    fn known_finding(&mut self, finding: Attr<String>, pointer: &str) -> Option<Attr<String>> {
        use crate::findings::{FindingCode, REGISTRY};
        if finding.value.parse::<FindingCode>().is_ok() {
            return Some(finding);
        }
        let names = REGISTRY.iter().map(|info| info.name);
        let help = match did_you_mean(&finding.value, names) {
            Some(name) => format!("did you mean `{name}`?"),
            None => "`docs/findings.md` lists every finding code".to_owned(),
        };
        self.push(
            ManifestDiagnostic::new(
                Code::UnknownFinding,
                format!("`{}` is not a finding code", finding.value),
            )
            .label(self.index.value(pointer), "unknown finding")
            .help(help),
        );
        None
    }

    fn waiver(&mut self, i: usize, entry: &WaiverEntry) -> Option<Waiver> {
        let at = |key: &str| format!("/waivers/{i}/{key}");
        let finding = self.string(&entry.finding, &at("finding"));
        let mut reason = self.string(&entry.reason, &at("reason"));
        if reason.as_ref().is_some_and(|r| r.value.trim().is_empty()) {
            reason = None;
            self.push(
                ManifestDiagnostic::new(
                    Code::WaiverWithoutReason,
                    format!(
                        "{} has a blank reason",
                        pointer_display(&format!("/waivers/{i}"))
                    ),
                )
                .label(self.index.value(&at("reason")), "blank")
                .help("say why the finding is accepted (a ticket, a person, a date)"),
            );
        }
        let finding = finding.and_then(|f| self.known_finding(f, &at("finding")));
        let instance = self.opt_string(entry.instance.as_ref(), &at("instance"));
        let file = self.opt_string(entry.file.as_ref(), &at("file"));
        let expires = match &entry.expires {
            Some(text) => {
                let attr = self.string(text, &at("expires"))?;
                match attr.value.trim().parse::<jiff::civil::Date>() {
                    Ok(date) => Some(date),
                    Err(err) => {
                        self.push(
                            ManifestDiagnostic::new(
                                Code::InvalidDate,
                                format!("`{}` is not a date ({err})", attr.value),
                            )
                            .label(self.index.value(&at("expires")), "not a date")
                            .help("write the last day the waiver applies as YYYY-MM-DD, for example 2026-12-31"),
                        );
                        return None;
                    }
                }
            }
            None => None,
        };
        Some(Waiver {
            origin: self.origin(&format!("/waivers/{i}")),
            finding: finding?.value,
            instance: instance.map(|a| a.value),
            file: file.map(|a| a.value),
            reason: reason?.value,
            expires,
        })
    }
}

fn content_type(name: ContentTypeName) -> ContentType {
    match name {
        ContentTypeName::PlainText => ContentType::PlainText,
        ContentTypeName::Base64 => ContentType::Base64,
    }
}

/// The length of `n` bytes once Base64-encoded (with padding).
pub fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// `/etc/app` on Linux, `C:\app` on Windows.
fn is_absolute(dir: &str) -> bool {
    let bytes = dir.as_bytes();
    dir.starts_with('/')
        || (bytes.len() >= 3
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && matches!(bytes[2], b'\\' | b'/'))
}

/// Instance ids are `i-…` (ECS) or `mi-…` (managed instances); Lingjun
/// node ids are `e01-…`. Anything else in a target list must be a set name.
pub fn looks_like_id(id: &str, provider: Provider) -> bool {
    let valid_rest = |rest: &str| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*')
    };
    match provider {
        Provider::Ecs => id
            .strip_prefix("i-")
            .or_else(|| id.strip_prefix("mi-"))
            .is_some_and(valid_rest),
        Provider::Eflo => id
            .strip_prefix('e')
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(digits, rest)| {
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && valid_rest(rest)
            }),
    }
}

fn id_example(provider: Provider) -> &'static str {
    match provider {
        Provider::Ecs => "i-…",
        Provider::Eflo => "e01-…",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_paths() {
        assert!(looks_like_id("i-bp1hsglsw****", Provider::Ecs));
        assert!(looks_like_id("mi-abc", Provider::Ecs));
        assert!(!looks_like_id("web", Provider::Ecs));
        assert!(!looks_like_id("i-", Provider::Ecs));
        assert!(looks_like_id("e01-cn-9lb3c15m81j", Provider::Eflo));
        assert!(!looks_like_id("i-abc", Provider::Eflo));
        assert!(is_absolute("/etc"));
        assert!(is_absolute("C:\\app"));
        assert!(!is_absolute("etc/nginx"));
        assert_eq!(base64_len(0), 0);
        assert_eq!(base64_len(1), 4);
        assert_eq!(base64_len(24 * 1024), 32 * 1024);
        assert_eq!(base64_len(24 * 1024 + 1), 32 * 1024 + 4);
    }
}
