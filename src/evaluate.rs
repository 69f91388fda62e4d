//! The diff: expectations × observations → findings. Pure; no I/O.
//!
//! For each declared (file, target) the effective state is the latest
//! *successful* delivery of that name to that directory on that target
//! (restricted to the declared `invoke_id`, if any). Later attempts only
//! colour the verdict: still in flight → pending; failed after a success →
//! a warning, since the earlier file still stands. Commands are judged on
//! their latest execution per target. Waivers are applied last, so every
//! renderer sees the same silenced findings with their reasons.

mod commands;
mod content;
mod waivers;

#[cfg(test)]
pub(crate) mod testkit;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use jiff::Timestamp;

use crate::expect::{Attr, Expectations, FileExpectation, Origin, TargetRef};
use crate::findings::FindingCode;
use crate::findings::error_codes;
use crate::mode::FileMode;
use crate::observe::{FileInvocation, FileTarget, Observations};
use crate::protocol::{Provider, join_path};
use crate::report::model::{
    Detail, FileReport, Finding, Location, Locator, ManifestFile, Report, TargetReport,
};

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
    let index = DeliveryIndex::new(&observations.files);
    let eval = Evaluator {
        expectations,
        options,
        locator: Locator::new(&expectations.sources),
    };
    let files = expectations
        .files
        .iter()
        .map(|file| eval.file(file, &index))
        .collect();
    let commands = expectations
        .commands
        .iter()
        .map(|command| commands::evaluate(&eval, command, &observations.commands))
        .collect();
    let mut general = Vec::new();
    if options.strict {
        general.extend(eval.unexpected_deliveries(&observations.files));
    }
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
        files,
        commands,
        general,
    };
    waivers::apply(expectations, &eval.locator, options.now, &mut report);
    report
}

struct Evaluator<'a> {
    expectations: &'a Expectations,
    options: &'a EvalOptions,
    locator: Locator<'a>,
}

/// A declared file's identity in the observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FileKey<'a> {
    provider: Provider,
    region: &'a str,
    name: &'a str,
    dir: &'a str,
}

/// One delivery attempt of a file on one target.
#[derive(Debug, Clone, Copy)]
struct Attempt<'a> {
    invocation: &'a FileInvocation,
    target: &'a FileTarget,
}

impl Attempt<'_> {
    fn when(&self) -> Option<Timestamp> {
        self.target.when().or(self.invocation.created)
    }
}

/// Observed deliveries by file and target, each list oldest first.
struct DeliveryIndex<'a> {
    by_file: HashMap<FileKey<'a>, HashMap<&'a str, Vec<Attempt<'a>>>>,
}

impl<'a> DeliveryIndex<'a> {
    fn new(invocations: &'a [FileInvocation]) -> Self {
        let mut by_file: HashMap<FileKey<'a>, HashMap<&'a str, Vec<Attempt<'a>>>> = HashMap::new();
        for invocation in invocations {
            let key = FileKey {
                provider: invocation.provider,
                region: &invocation.region,
                name: &invocation.name,
                dir: normalize_dir(&invocation.target_dir),
            };
            let targets = by_file.entry(key).or_default();
            for target in &invocation.targets {
                targets
                    .entry(target.id.as_str())
                    .or_default()
                    .push(Attempt { invocation, target });
            }
        }
        for targets in by_file.values_mut() {
            for attempts in targets.values_mut() {
                attempts.sort_by(|a, b| {
                    (a.when(), &a.invocation.invoke_id).cmp(&(b.when(), &b.invocation.invoke_id))
                });
            }
        }
        Self { by_file }
    }

    fn targets<'s>(
        &'s self,
        file: &'s FileExpectation,
    ) -> Option<&'s HashMap<&'s str, Vec<Attempt<'s>>>> {
        let key = FileKey {
            provider: file.provider,
            region: file.region(),
            name: &file.name.value,
            dir: normalize_dir(&file.target_dir.value),
        };
        self.by_file.get(&key)
    }
}

/// Directories compare without surrounding space or a trailing slash
/// (`/etc/nginx/` is `/etc/nginx`; the eflo sample even has a leading tab).
fn normalize_dir(dir: &str) -> &str {
    let dir = dir.trim();
    match dir.trim_end_matches('/') {
        "" if dir.starts_with('/') => "/",
        trimmed => trimmed,
    }
}

/// A full path, normalised the same way, for matching waivers.
pub(crate) fn normalize_path(dir: &str, name: &str) -> String {
    join_path(normalize_dir(dir), name)
}

impl<'a> Evaluator<'a> {
    fn location(&self, origin: Origin) -> Location {
        self.locator.locate(origin)
    }

    /// Where a finding about `attr` is labelled: the value's own line, or
    /// the entry when the value is a built-in default.
    fn attr_location<T>(&self, attr: &Attr<T>, entry: Origin) -> Location {
        self.location(attr.origin.unwrap_or(entry))
    }

    fn file(&self, file: &FileExpectation, index: &DeliveryIndex<'_>) -> FileReport {
        let observed = index.targets(file);
        let pinned = |attempt: &&Attempt<'_>| match &file.invoke_id {
            Some(id) => attempt.invocation.invoke_id == id.value,
            None => true,
        };
        let path = normalize_path(&file.target_dir.value, &file.name.value);
        let mut targets: Vec<TargetReport> = file
            .targets
            .iter()
            .map(|target| {
                let attempts: Vec<&Attempt<'_>> = observed
                    .and_then(|targets| targets.get(target.id.as_str()))
                    .map(|attempts| attempts.iter().filter(pinned).collect())
                    .unwrap_or_default();
                self.file_target(file, &path, target, &attempts, observed.is_some())
            })
            .collect();
        if self.options.strict {
            targets.extend(self.unexpected_instances(file, &path, observed, pinned));
        }
        FileReport {
            name: file.name.value.clone(),
            target_dir: file.target_dir.value.clone(),
            path: file.path(),
            provider: file.provider,
            region: file.region().to_owned(),
            sensitive: file.sensitive,
            location: self.location(file.origin),
            targets,
        }
    }

    fn finding(
        &self,
        code: FindingCode,
        path: &str,
        target: &str,
        location: Location,
    ) -> FindingBuilder {
        FindingBuilder::new(code, Some(target), Some(path), location)
    }

    fn file_target(
        &self,
        file: &FileExpectation,
        path: &str,
        target: &TargetRef,
        attempts: &[&Attempt<'_>],
        file_seen_elsewhere: bool,
    ) -> TargetReport {
        let noun = file.provider.target_noun();
        let id = target.id.as_str();
        let mut report = TargetReport {
            id: id.to_owned(),
            declared: true,
            invoke_id: None,
            finished_at: None,
            findings: Vec::new(),
        };
        // Located only when a finding needs it: most targets have none.
        let target_location = || self.location(target.origin);

        let Some(latest) = attempts.last() else {
            let seen = if file_seen_elsewhere {
                " (the API has records of it on other targets)"
            } else {
                ""
            };
            let pin = match &file.invoke_id {
                Some(id) => format!(" in task {}", id.value),
                None => String::new(),
            };
            report.findings.push(
                self.finding(FindingCode::NotDelivered, path, id, target_location())
                    .message(format!(
                        "no delivery record of {path} on {noun} {id}{pin}{seen}; records age out \
                         of the API after 2 to 6 weeks, so an older delivery may no longer be \
                         listed"
                    ))
                    .label(format!("no record on this {noun}"))
                    .build(),
            );
            return report;
        };
        let latest_success = attempts.iter().rev().find(|a| a.target.status.is_success());

        if latest.target.status.is_in_flight() {
            report.invoke_id = Some(latest.invocation.invoke_id.clone());
            let standing = match latest_success {
                Some(success) => format!(
                    "; an earlier delivery ({}) succeeded and is checked once this one settles",
                    success.invocation.invoke_id
                ),
                None => String::new(),
            };
            report.findings.push(
                self.finding(FindingCode::DeliveryPending, path, id, target_location())
                    .message(format!(
                        "the delivery of {path} to {noun} {id} is {} (task {}){standing}",
                        latest.target.status, latest.invocation.invoke_id
                    ))
                    .label(format!("{} on this {noun}", latest.target.status))
                    .observed(latest.target.status.as_str())
                    .build(),
            );
            return report;
        }

        let Some(success) = latest_success else {
            let explained = error_codes::explain(
                latest.target.error_code.as_deref(),
                latest.target.error_info.as_deref(),
            );
            report.invoke_id = Some(latest.invocation.invoke_id.clone());
            report.finished_at = latest.when();
            let code = explained.code.as_deref().unwrap_or("no ErrorCode");
            let tries = match attempts.len() {
                1 => String::new(),
                n => format!(", and so did the {} earlier attempts", n - 1),
            };
            report.findings.push(
                self.finding(FindingCode::DeliveryFailed, path, id, target_location())
                    .message(format!(
                        "the delivery of {path} to {noun} {id} failed: {} ({code}, task {}){tries}",
                        latest.target.status, latest.invocation.invoke_id
                    ))
                    .label(format!("{code} on this {noun}"))
                    .observed(latest.target.status.as_str())
                    .help(explained.remediation.clone())
                    .detail(Detail::Error(explained))
                    .build(),
            );
            return report;
        };

        report.invoke_id = Some(success.invocation.invoke_id.clone());
        report.finished_at = success.when();
        if !std::ptr::eq(*latest, *success) {
            let explained = error_codes::explain(
                latest.target.error_code.as_deref(),
                latest.target.error_info.as_deref(),
            );
            let code = explained.code.as_deref().unwrap_or("no ErrorCode");
            report.findings.push(
                self.finding(FindingCode::LastAttemptFailed, path, id, target_location())
                    .message(format!(
                        "a later delivery of {path} to {noun} {id} failed ({code}, task {}); the \
                         earlier successful delivery {} still stands and was checked",
                        latest.invocation.invoke_id, success.invocation.invoke_id
                    ))
                    .label(format!("a later attempt failed with {code}"))
                    .help(explained.remediation.clone())
                    .detail(Detail::Error(explained))
                    .build(),
            );
        }
        self.compare_attributes(file, path, id, success, &mut report.findings);
        report
    }

    fn compare_attributes(
        &self,
        file: &FileExpectation,
        path: &str,
        id: &str,
        success: &Attempt<'_>,
        findings: &mut Vec<Finding>,
    ) {
        let noun = file.provider.target_noun();
        let invocation = success.invocation;
        let task = &invocation.invoke_id;

        // A field the API leaves out was not sent, so SendFile's default applied.
        let observed_mode = invocation.mode.as_deref().map(str::trim);
        match observed_mode.map(str::parse::<FileMode>) {
            None | Some(Ok(_)) => {
                let mode = observed_mode
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(crate::mode::DEFAULT_MODE);
                if mode != file.mode.value {
                    findings.push(
                        self.finding(
                            FindingCode::ModeMismatch,
                            path,
                            id,
                            self.attr_location(&file.mode, file.origin),
                        )
                        .message(format!(
                            "{path} on {noun} {id} was delivered with mode {mode}, declared {} \
                             (task {task})",
                            file.mode.value
                        ))
                        .label(declared_label(&file.mode, file.mode.value, mode))
                        .expected(file.mode.value.to_string())
                        .observed(mode.to_string())
                        .build(),
                    );
                }
            }
            Some(Err(err)) => findings.push(
                self.finding(
                    FindingCode::ModeMismatch,
                    path,
                    id,
                    self.attr_location(&file.mode, file.origin),
                )
                .message(format!(
                    "{path} on {noun} {id} has a FileMode the API reports as `{}`, which is not \
                     an octal mode ({err}); declared {}",
                    observed_mode.unwrap_or_default(),
                    file.mode.value
                ))
                .label(format!("declared {}", file.mode.value))
                .expected(file.mode.value.to_string())
                .observed(observed_mode.unwrap_or_default())
                .build(),
            ),
        }

        for (code, what, attr, observed) in [
            (
                FindingCode::OwnerMismatch,
                "owner",
                &file.owner,
                invocation.owner.as_deref(),
            ),
            (
                FindingCode::GroupMismatch,
                "group",
                &file.group,
                invocation.group.as_deref(),
            ),
        ] {
            let observed = observed.map(str::trim).filter(|o| !o.is_empty());
            let observed = observed.unwrap_or("root");
            if observed != attr.value {
                findings.push(
                    self.finding(code, path, id, self.attr_location(attr, file.origin))
                        .message(format!(
                            "{path} on {noun} {id} was delivered with {what} {observed}, declared \
                             {} (task {task})",
                            attr.value
                        ))
                        .label(declared_label(attr, &attr.value, observed))
                        .expected(attr.value.clone())
                        .observed(observed)
                        .build(),
                );
            }
        }

        let overwrite = invocation.overwrite.unwrap_or(false);
        if overwrite != file.overwrite.value {
            findings.push(
                self.finding(
                    FindingCode::OverwriteMismatch,
                    path,
                    id,
                    self.attr_location(&file.overwrite, file.origin),
                )
                .message(format!(
                    "{path} on {noun} {id} was delivered with overwrite {overwrite}, declared {} \
                     (task {task})",
                    file.overwrite.value
                ))
                .label(declared_label(
                    &file.overwrite,
                    file.overwrite.value,
                    overwrite,
                ))
                .expected(file.overwrite.value.to_string())
                .observed(overwrite.to_string())
                .build(),
            );
        }

        if let Some(expected) = &file.content
            && let Some(drift) = content::compare(&expected.value, invocation, file.sensitive)
        {
            findings.push(
                self.finding(
                    FindingCode::ContentMismatch,
                    path,
                    id,
                    self.attr_location(expected, file.origin),
                )
                .message(format!(
                    "the content of {path} on {noun} {id} differs from the declaration{} (task \
                     {task})",
                    drift.note
                ))
                .label("declared content".to_owned())
                .detail(drift.detail)
                .build(),
            );
        }

        if let Some(max_age) = &file.max_age
            && let Some(finished) = success.when()
            && let Some(age) = age(finished, self.options.now)
            && age > max_age.value
        {
            findings.push(
                self.finding(
                    FindingCode::StaleDelivery,
                    path,
                    id,
                    self.attr_location(max_age, file.origin),
                )
                .message(format!(
                    "{path} on {noun} {id} was delivered {} ago (at {finished}, task {task}), \
                     longer than max_age {}",
                    human_duration(age),
                    human_duration(max_age.value)
                ))
                .label(format!("max_age {}", human_duration(max_age.value)))
                .expected(human_duration(max_age.value))
                .observed(human_duration(age))
                .build(),
            );
        }
    }

    /// `--strict`: successful deliveries of this file to targets it does not declare.
    fn unexpected_instances(
        &self,
        file: &FileExpectation,
        path: &str,
        observed: Option<&HashMap<&str, Vec<Attempt<'_>>>>,
        pinned: impl Fn(&&Attempt<'_>) -> bool,
    ) -> Vec<TargetReport> {
        let Some(observed) = observed else {
            return Vec::new();
        };
        let declared: HashSet<&str> = file.targets.iter().map(|t| t.id.as_str()).collect();
        let noun = file.provider.target_noun();
        let mut extra: Vec<TargetReport> = observed
            .iter()
            .filter(|(id, _)| !declared.contains(**id))
            .filter_map(|(id, attempts)| {
                let success = attempts
                    .iter()
                    .filter(&pinned)
                    .rev()
                    .find(|a| a.target.status.is_success())?;
                let task = &success.invocation.invoke_id;
                let finding = self
                    .finding(
                        FindingCode::UnexpectedInstance,
                        path,
                        id,
                        self.location(file.origin),
                    )
                    .message(format!(
                        "{path} was delivered to {noun} {id}, which this file's instances do not \
                         name (task {task})"
                    ))
                    .label(format!("{id} is not declared here"))
                    .build();
                Some(TargetReport {
                    id: (*id).to_owned(),
                    declared: false,
                    invoke_id: Some(task.clone()),
                    finished_at: success.when(),
                    findings: vec![finding],
                })
            })
            .collect();
        extra.sort_by(|a, b| a.id.cmp(&b.id));
        extra
    }

    /// `--strict`: successful deliveries that share a declared file's name or
    /// directory but whose path no file declares.
    fn unexpected_deliveries(&self, invocations: &[FileInvocation]) -> Vec<Finding> {
        let files = &self.expectations.files;
        let declared: HashSet<(Provider, &str, &str, &str)> = files
            .iter()
            .map(|f| {
                (
                    f.provider,
                    f.region(),
                    normalize_dir(&f.target_dir.value),
                    f.name.value.as_str(),
                )
            })
            .collect();
        // The latest successful delivery per (path, target).
        let mut latest: HashMap<(String, &str), (&FileInvocation, &FileTarget, &FileExpectation)> =
            HashMap::new();
        for invocation in invocations {
            let dir = normalize_dir(&invocation.target_dir);
            let key = (
                invocation.provider,
                invocation.region.as_str(),
                dir,
                invocation.name.as_str(),
            );
            if declared.contains(&key) {
                continue;
            }
            let Some(related) = files.iter().find(|f| {
                f.provider == invocation.provider
                    && f.region() == invocation.region
                    && (f.name.value == invocation.name
                        || normalize_dir(&f.target_dir.value) == dir)
            }) else {
                continue;
            };
            for target in invocation.targets.iter().filter(|t| t.status.is_success()) {
                let slot = latest
                    .entry((normalize_path(dir, &invocation.name), target.id.as_str()))
                    .or_insert((invocation, target, related));
                if target.when() > slot.1.when() {
                    *slot = (invocation, target, related);
                }
            }
        }
        let mut findings: Vec<Finding> = latest
            .into_iter()
            .map(|((path, id), (invocation, _, related))| {
                let noun = invocation.provider.target_noun();
                let why = if related.name.value == invocation.name {
                    format!("shares its name with {}", related.path())
                } else {
                    format!("is in the declared directory {}", related.target_dir.value)
                };
                self.finding(
                    FindingCode::UnexpectedDelivery,
                    &path,
                    id,
                    self.location(related.origin),
                )
                .message(format!(
                    "{path} was delivered to {noun} {id} (task {}) but is not declared; it {why}",
                    invocation.invoke_id
                ))
                .label(format!("{path} is not declared"))
                .build()
            })
            .collect();
        findings.sort_by(|a, b| (&a.file, &a.target).cmp(&(&b.file, &b.target)));
        findings
    }
}

/// The label on a mismatched value: "declared X, delivered Y", noting a default.
fn declared_label<T, E: std::fmt::Display, O: std::fmt::Display>(
    attr: &Attr<T>,
    expected: E,
    observed: O,
) -> String {
    let default = if attr.origin.is_none() {
        " (SendFile's default)"
    } else {
        ""
    };
    format!("declared {expected}{default}, delivered {observed}")
}

/// How long ago `then` was; `None` when it is in the future.
fn age(then: Timestamp, now: Timestamp) -> Option<Duration> {
    let seconds = now.as_second().checked_sub(then.as_second())?;
    u64::try_from(seconds).ok().map(Duration::from_secs)
}

/// `3d 4h`, the way `max_age` is written.
pub(crate) fn human_duration(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
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

    fn build(self) -> Finding {
        self.0
    }
}

#[cfg(test)]
mod tests;
