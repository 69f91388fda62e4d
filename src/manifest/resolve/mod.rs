//! Sections as written → [`crate::expect`] values: defaults applied,
//! instance sets expanded, variables substituted, content files read, and
//! every format checked (modes, paths, sizes, durations, dates).
//!
//! Each resolved value keeps the [`Origin`] of the YAML it came from; a
//! value that falls back to SendFile's own default has none.
//!
//! This file holds the [`Resolver`] and what every section reads with it
//! (strings with variables, modes, durations); one module per section does
//! the rest: `defaults`, `sets` (instance sets and target lists), `files`,
//! `commands`, `waivers`.

mod budget;
mod commands;
mod defaults;
mod files;
mod sets;
mod waivers;

use std::path::PathBuf;
use std::time::Duration;

use super::diagnostics::{Code, ManifestDiagnostic, Sink};
use super::document::SpanIndex;
use super::model::{CommandEntry, ContentTypeName, Defaults, FileEntry, ModeSpec, WaiverEntry};
use super::schema::first_line;
use super::vars::Expander;
use crate::expect::{Attr, CommandExpectation, FileExpectation, Origin, Since, Span, Waiver};
use crate::mode::FileMode;
use crate::observe::ContentType;
use crate::protocol::Provider;

/// The typed sections of one manifest that deserialised; `usize` is the
/// entry's index in its list, for its JSON pointer.
#[derive(Debug, Default)]
pub struct Sections {
    pub provider: Provider,
    pub defaults: Option<Defaults>,
    pub instance_sets: Vec<(String, super::model::InstanceSet)>,
    pub files: Vec<(usize, FileEntry)>,
    pub commands: Vec<(usize, CommandEntry)>,
    pub waivers: Vec<(usize, WaiverEntry)>,
}

/// What one manifest resolves to.
#[derive(Debug, Default)]
pub struct Resolved {
    /// `defaults.retention`.
    pub retention: Option<std::time::Duration>,
    pub files: Vec<FileExpectation>,
    pub commands: Vec<CommandExpectation>,
    pub waivers: Vec<Waiver>,
}

pub struct Resolver<'a> {
    pub source: usize,
    /// `content_file` paths are relative to this (the manifest's directory).
    pub base_dir: PathBuf,
    /// `content_file` must resolve inside this (`--content-root`); `None`:
    /// inside `base_dir`.
    pub content_root: Option<PathBuf>,
    /// The most (file, target) pairs the entries may expand to.
    pub max_pairs: u64,
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
        let mut resolved = Resolved {
            retention: defaults.retention.as_ref().map(|r| r.value),
            ..Resolved::default()
        };
        // Counted before anything is expanded: a hostile manifest is refused
        // in the time it takes to read it.
        if !self.within_pair_budget(sections, &sets, provider) {
            return resolved;
        }
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

    /// `since:`: an RFC 3339 time or a duration back from the check's clock.
    fn since(&mut self, text: &str, pointer: &str) -> Option<Attr<Since>> {
        let attr = self.string(text, pointer)?;
        match Since::parse(&attr.value) {
            Ok(since) => Some(Attr::declared(since, attr.origin?)),
            Err(err) => {
                self.push(
                    ManifestDiagnostic::new(Code::InvalidSince, err)
                        .label(self.index.value(pointer), "not a time or a duration")
                        .help(
                            "write an RFC 3339 time (2026-06-01T12:00:00Z) or a duration (2h, 30m)",
                        ),
                );
                None
            }
        }
    }

    /// `task_tags:`: at most 20, the API's limit on `Tag.N` filters.
    fn task_tags(
        &mut self,
        tags: &std::collections::BTreeMap<String, String>,
        pointer: &str,
    ) -> Option<Vec<(String, String)>> {
        if tags.len() > 20 {
            self.push(
                ManifestDiagnostic::new(
                    Code::InvalidValue,
                    format!("{} task tags; the API filters by at most 20", tags.len()),
                )
                .label(self.index.value(pointer), "too many tags")
                .help("pin the deliveries with fewer tags"),
            );
            return None;
        }
        let mut out = Vec::new();
        for (key, value) in tags {
            let value = self.string(value, &super::document::pointer_push(pointer, key))?;
            out.push((key.clone(), value.value));
        }
        Some(out)
    }

    /// An entry's `task_tags:`, else the defaults'; `None` (diagnosed)
    /// when the entry's are invalid.
    fn entry_task_tags(
        &mut self,
        tags: Option<&std::collections::BTreeMap<String, String>>,
        pointer: &str,
        defaults: &defaults::ResolvedDefaults,
    ) -> Option<Vec<(String, String)>> {
        match tags {
            Some(tags) => self.task_tags(tags, pointer),
            None => Some(defaults.task_tags.clone().unwrap_or_default()),
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
}

fn content_type(name: ContentTypeName) -> ContentType {
    match name {
        ContentTypeName::PlainText => ContentType::PlainText,
        ContentTypeName::Base64 => ContentType::Base64,
    }
}
