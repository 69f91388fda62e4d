//! The diff: expectations × observations → findings. Pure; no I/O.
//!
//! For each declared (file, target) the effective state is the latest
//! *successful* delivery of that name to that directory on that target
//! (restricted to the declared `invoke_id`, if any). Later attempts only
//! colour the verdict: still in flight → pending; failed after a success →
//! a warning, since the earlier file still stands. Commands are judged on
//! their latest execution per target. Waivers are applied last, so every
//! renderer sees the same silenced findings with their reasons.
//!
//! A verdict needs its evidence. A (file or command) × target that a failed
//! query covers, or whose record lacks (or garbles) a field its verdict
//! depends on, gets an `unverified` finding with the reason instead: never
//! in sync, never drift. Everything else is still judged.
//!
//! This file is the entry and the shared vocabulary; one module per part:
//! `files` (which delivery counts), `attributes` (one rule per declared
//! attribute), `content` (decoding and diffs), `commands`, `waivers`.

mod attributes;
mod commands;
mod content;
mod disk;
mod files;
mod waivers;

/// What a snapshot keeps of content it may not keep.
pub(crate) use content::reading_digests;

#[cfg(test)]
pub(crate) mod testkit;

use jiff::Timestamp;

use crate::expect::{Attr, Expectations, Origin};
use crate::expect::{CommandExpectation, FileExpectation};
use crate::findings::FindingCode;
use crate::observe::{DiskObservations, Gap, GapReason, Observations};
use crate::protocol::{join_path, normalize_dir};
use crate::report::model::{Detail, Finding, Location, Locator, ManifestFile, Report};

/// What the evaluation needs besides the two inputs.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Ages (`max_age`) and waiver expiry are measured against this.
    pub now: Timestamp,
    /// Also report deliveries and targets the manifest does not declare.
    pub strict: bool,
}

/// Compares what was declared with what the cloud reports.
pub fn evaluate(
    expectations: &Expectations,
    observations: &Observations,
    options: &EvalOptions,
) -> Report {
    judge(
        expectations,
        files::Deliveries::Shared(&observations.files),
        Observed::of(observations),
        options,
    )
}

/// [`evaluate`], freeing each task's targets as soon as the last file they
/// can vouch for is judged: a fleet's check never holds its observations
/// and its report whole at once.
pub fn evaluate_owned(
    expectations: &Expectations,
    mut observations: Observations,
    options: &EvalOptions,
) -> Report {
    let files = std::mem::take(&mut observations.files);
    judge(
        expectations,
        files::Deliveries::Owned(files),
        Observed::of(&observations),
        options,
    )
}

/// The observations but the deliveries, which the files are judged on.
struct Observed<'a> {
    commands: &'a [crate::observe::CommandResult],
    gaps: &'a [Gap],
    disk: Option<&'a DiskObservations>,
}

impl<'a> Observed<'a> {
    fn of(observations: &'a Observations) -> Self {
        Self {
            commands: &observations.commands,
            gaps: &observations.gaps,
            disk: observations.disk.as_ref(),
        }
    }
}

fn judge(
    expectations: &Expectations,
    mut deliveries: files::Deliveries<'_>,
    observed: Observed<'_>,
    options: &EvalOptions,
) -> Report {
    let eval = Evaluator {
        expectations,
        options,
        gaps: observed.gaps,
        disk: observed.disk,
        locator: Locator::new(&expectations.sources),
    };
    // Before any task's targets are freed.
    let mut general = Vec::new();
    if options.strict {
        general.extend(files::unexpected_deliveries(&eval, deliveries.all()));
    }
    let files = files::evaluate_all(&eval, &mut deliveries);
    let commands = expectations
        .commands
        .iter()
        .map(|command| commands::evaluate(&eval, command, observed.commands))
        .collect();
    let mut report = Report {
        manifests: expectations
            .sources
            .iter()
            .map(|source| ManifestFile {
                path: source.name(),
                text: source.text.clone(),
            })
            .collect(),
        checked_at: options.now,
        strict: options.strict,
        strict_coverage: None,
        narrowed: None,
        files,
        commands,
        general,
        instance_sets: Vec::new(),
        fix: None,
        wait_expired: false,
    };
    waivers::apply(expectations, &eval.locator, options.now, &mut report);
    report
}

struct Evaluator<'a> {
    expectations: &'a Expectations,
    options: &'a EvalOptions,
    /// The queries that failed.
    gaps: &'a [Gap],
    /// What `--probe` read on the disks.
    disk: Option<&'a DiskObservations>,
    locator: Locator<'a>,
}

/// A full path, normalised the same way, for matching waivers.
pub(crate) fn normalize_path(dir: &str, name: &str) -> String {
    join_path(normalize_dir(dir), name)
}

impl Evaluator<'_> {
    /// The failed query that leaves `file` on `target` without evidence.
    fn file_gap(&self, file: &FileExpectation, target: &str) -> Option<&Gap> {
        self.gaps
            .iter()
            .find(|gap| gap.query.covers_file(file, target))
    }

    /// The failed query that leaves `command` (on `target`, or anywhere)
    /// without evidence.
    fn command_gap(&self, command: &CommandExpectation, target: Option<&str>) -> Option<&Gap> {
        self.gaps
            .iter()
            .find(|gap| gap.query.covers_command(command, target))
    }

    fn location(&self, origin: Origin) -> Location {
        self.locator.locate(origin)
    }

    /// Where a finding about `attr` is labelled: the value's own line, or
    /// the entry when the value is a built-in default.
    fn attr_location<T>(&self, attr: &Attr<T>, entry: Origin) -> Location {
        self.location(attr.origin.unwrap_or(entry))
    }
}

/// A finding under construction; keeps the call sites readable.
struct FindingBuilder(Finding);

impl FindingBuilder {
    fn new(
        code: FindingCode,
        target: Option<&str>,
        file: Option<&str>,
        location: Location,
    ) -> Self {
        Self(Finding {
            code,
            message: String::new(),
            target: target.map(str::to_owned),
            file: file.map(str::to_owned),
            location,
            label: String::new(),
            expected: None,
            observed: None,
            detail: None,
            help: None,
            waived: None,
        })
    }

    fn message(mut self, message: String) -> Self {
        self.0.message = message;
        self
    }

    fn label(mut self, label: String) -> Self {
        self.0.label = label;
        self
    }

    fn expected(mut self, expected: impl Into<String>) -> Self {
        self.0.expected = Some(expected.into());
        self
    }

    fn observed(mut self, observed: impl Into<String>) -> Self {
        self.0.observed = Some(observed.into());
        self
    }

    fn detail(mut self, detail: Detail) -> Self {
        self.0.detail = Some(detail);
        self
    }

    fn help(mut self, help: String) -> Self {
        self.0.help = Some(help);
        self
    }

    /// An `unverified` finding: `subject` could not be judged for `reason`.
    fn unverified(
        target: Option<&str>,
        file: Option<&str>,
        location: Location,
        reason: GapReason,
        message: String,
    ) -> Self {
        Self::new(FindingCode::Unverified, target, file, location)
            .message(message)
            .label(format!("unverified: {}", reason.title()))
            .detail(Detail::Unverified(reason))
    }

    /// The finding for a pair a failed query covers.
    fn from_gap(
        gap: &Gap,
        target: Option<&str>,
        file: Option<&str>,
        location: Location,
        subject: &str,
    ) -> Finding {
        let mut builder = Self::unverified(
            target,
            file,
            location,
            gap.reason,
            format!(
                "{subject} is unverified: {} failed: {}",
                gap.query, gap.detail
            ),
        );
        if let Some(help) = &gap.help {
            builder = builder.help(help.clone());
        }
        builder.build()
    }

    fn build(self) -> Finding {
        self.0
    }
}

#[cfg(test)]
mod tests;
