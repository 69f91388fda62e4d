//! Files: per declared file × target, which delivery counts.
//!
//! The effective delivery is the latest successful one; what came after it
//! only colours the verdict (in flight → pending, failed → a warning). Once
//! it is known, [`super::attributes`] judges what was delivered. With
//! `--strict`, deliveries the manifest does not declare are reported too.

use foldhash::{HashMap, HashMapExt, HashSet};
use smallvec::SmallVec;

use jiff::Timestamp;

use crate::expect::{FileExpectation, TargetRef};
use crate::findings::{FindingCode, error_codes};
use crate::observe::{FileInvocation, FileTarget, GapReason, Stamp, TargetStatus};
use crate::protocol::Provider;
use crate::report::model::{Detail, FileReport, Finding, Location, TargetReport};

use super::attributes::{self, ContentVerdicts, Delivered};
use super::{Evaluator, FindingBuilder, normalize_dir, normalize_path};

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

/// The attempts of one file on one target, oldest first: nearly always
/// one, so held inline (a file's index holds one list per target).
type Attempts<'a> = SmallVec<[Attempt<'a>; 1]>;

/// The observed deliveries: borrowed, or owned and freed as they are used
/// up ([`super::evaluate_owned`]).
pub(super) enum Deliveries<'a> {
    Shared(&'a [FileInvocation]),
    Owned(Vec<FileInvocation>),
}

impl Deliveries<'_> {
    pub(super) fn all(&self) -> &[FileInvocation] {
        match self {
            Self::Shared(invocations) => invocations,
            Self::Owned(invocations) => invocations,
        }
    }

    /// Drops the targets of the invocations at `used_up` (owned only).
    fn release(&mut self, used_up: &[usize]) {
        if let Self::Owned(invocations) = self {
            for &at in used_up {
                invocations[at].targets = Vec::new();
            }
        }
    }
}

/// Which observed deliveries can vouch for which declared files: the
/// files grouped by identity, each group with its invocations (by index)
/// and the last file of the manifest that needs them.
struct DeliveryIndex {
    /// Each declared file's group.
    group_of: Vec<usize>,
    /// Each group's invocations, in the order they were listed.
    invocations: Vec<Vec<usize>>,
    /// Each group's last file.
    last_file: Vec<usize>,
}

impl DeliveryIndex {
    fn new(files: &[FileExpectation], invocations: &[FileInvocation]) -> Self {
        let mut groups: HashMap<FileKey<'_>, usize> = HashMap::new();
        let mut group_of = Vec::with_capacity(files.len());
        let mut last_file = Vec::new();
        for (at, file) in files.iter().enumerate() {
            let key = FileKey {
                provider: file.provider,
                region: file.region(),
                name: &file.name.value,
                dir: normalize_dir(&file.target_dir.value),
            };
            let next = groups.len();
            let group = *groups.entry(key).or_insert(next);
            if group == next {
                last_file.push(at);
            }
            last_file[group] = at;
            group_of.push(group);
        }
        let mut by_group = vec![Vec::new(); groups.len()];
        for (at, invocation) in invocations.iter().enumerate() {
            let key = FileKey {
                provider: invocation.provider,
                region: &invocation.region,
                name: &invocation.name,
                dir: normalize_dir(&invocation.target_dir),
            };
            if let Some(&group) = groups.get(&key) {
                by_group[group].push(at);
            }
        }
        Self {
            group_of,
            invocations: by_group,
            last_file,
        }
    }

    /// The `file`-th declared file's delivery attempts by target, each list
    /// oldest first; `None` when no task delivered the file anywhere.
    fn targets<'a>(
        &self,
        file: usize,
        invocations: &'a [FileInvocation],
    ) -> Option<HashMap<&'a str, Attempts<'a>>> {
        let group = &self.invocations[self.group_of[file]];
        if group.is_empty() {
            return None;
        }
        let mut targets: HashMap<&'a str, Attempts<'a>> = HashMap::new();
        for &at in group {
            let invocation = &invocations[at];
            for target in &invocation.targets {
                targets
                    .entry(target.id.as_str())
                    .or_default()
                    .push(Attempt { invocation, target });
            }
        }
        for attempts in targets.values_mut() {
            attempts.sort_by(|a, b| {
                (a.when(), &a.invocation.invoke_id).cmp(&(b.when(), &b.invocation.invoke_id))
            });
        }
        Some(targets)
    }
}

/// Every declared file, in the manifest's order. Owned deliveries are
/// freed group by group as the last file that needs them is judged.
pub(super) fn evaluate_all(
    eval: &Evaluator<'_>,
    deliveries: &mut Deliveries<'_>,
) -> Vec<FileReport> {
    let files = &eval.expectations.files;
    let index = DeliveryIndex::new(files, deliveries.all());
    let mut reports = Vec::with_capacity(files.len());
    for (at, file) in files.iter().enumerate() {
        let observed = index.targets(at, deliveries.all());
        reports.push(evaluate(eval, file, observed));
        let group = index.group_of[at];
        if index.last_file[group] == at {
            deliveries.release(&index.invocations[group]);
        }
    }
    reports
}

fn evaluate(
    eval: &Evaluator<'_>,
    file: &FileExpectation,
    observed: Option<HashMap<&str, Attempts<'_>>>,
) -> FileReport {
    // Pinned deliveries only: to the task (`invoke_id`), to tasks carrying
    // the `task_tags`, created at or after `since`. A delivery of unknown
    // creation time cannot be shown to be recent enough, so it does not count.
    let since = file.since.as_ref().map(|s| s.value.at(eval.options.now));
    let pinned = |attempt: &&Attempt<'_>| {
        let invocation = attempt.invocation;
        file.invoke_id
            .as_ref()
            .is_none_or(|id| invocation.invoke_id == id.value)
            && file
                .task_tags
                .iter()
                .all(|tag| invocation.tags.contains(tag))
            && since.is_none_or(|since| invocation.created.is_some_and(|at| at >= since))
    };
    let path = normalize_path(&file.target_dir.value, &file.name.value);
    let contents = ContentVerdicts::default();
    let mut targets: Vec<TargetReport> = file
        .targets
        .iter()
        .map(|target| {
            let attempts: SmallVec<[&Attempt<'_>; 1]> = observed
                .as_ref()
                .and_then(|targets| targets.get(target.id.as_str()))
                .map(|attempts| attempts.iter().filter(pinned).collect())
                .unwrap_or_default();
            let seen_elsewhere = observed.is_some();
            let mut report = judge(
                eval,
                file,
                &path,
                target,
                &attempts,
                seen_elsewhere,
                &contents,
            );
            report
                .findings
                .extend(super::disk::judge(eval, file, target));
            report
        })
        .collect();
    if eval.options.strict {
        targets.extend(unexpected_instances(
            eval,
            file,
            &path,
            observed.as_ref(),
            pinned,
        ));
    }
    FileReport {
        name: file.name.value.clone(),
        target_dir: file.target_dir.value.clone(),
        path: file.path(),
        provider: file.provider,
        region: file.region().to_owned(),
        sensitive: file.sensitive,
        location: eval.location(file.origin),
        targets,
    }
}

fn finding(code: FindingCode, path: &str, target: &str, location: Location) -> FindingBuilder {
    FindingBuilder::new(code, Some(target), Some(path), location)
}

/// One declared target: its attempts (oldest first, pinned to `invoke_id`)
/// decide which delivery counts, then the attributes are judged on it.
fn judge(
    eval: &Evaluator<'_>,
    file: &FileExpectation,
    path: &str,
    target: &TargetRef,
    attempts: &[&Attempt<'_>],
    file_seen_elsewhere: bool,
    contents: &ContentVerdicts,
) -> TargetReport {
    let noun = file.provider.target_noun();
    let id = target.id.as_str();
    let mut report = TargetReport {
        id: id.into(),
        declared: true,
        invoke_id: None,
        finished_at: None,
        evidence: None,
        findings: Vec::new(),
    };
    // Located only when a finding needs it: most targets have none.
    let target_location = || eval.location(target.origin);

    if let Some(gap) = eval.file_gap(file, id) {
        let subject = format!("{path} on {noun} {id}");
        report.findings.push(FindingBuilder::from_gap(
            gap,
            Some(id),
            Some(path),
            target_location(),
            &subject,
        ));
        return report;
    }

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
        let window = match eval.expectations.retention {
            Some(window) => format!(
                "the API keeps records for {} (retention), so an older delivery is no longer \
                 listed; a --from-snapshot ledger keeps it",
                humantime::format_duration(window)
            ),
            None => "records age out of the API after 2 to 6 weeks, so an older delivery may \
                     no longer be listed"
                .to_owned(),
        };
        report.findings.push(
            finding(FindingCode::NotDelivered, path, id, target_location())
                .message(format!(
                    "no delivery record of {path} on {noun} {id}{pin}{seen}; {window}"
                ))
                .label(format!("no record on this {noun}"))
                .build(),
        );
        return report;
    };
    let success_at = attempts.iter().rposition(|a| a.target.status.is_success());
    let latest_success = success_at.map(|at| attempts[at]);

    // A status this version cannot read, on the latest attempt or one after
    // the latest success, might be the delivery that counts.
    let after_success = &attempts[success_at.map_or(0, |at| at + 1)..];
    if let Some(unreadable) = after_success
        .iter()
        .find(|a| matches!(a.target.status, TargetStatus::Unknown(_)))
    {
        let task = &unreadable.invocation.invoke_id;
        let (reason, what) = match unreadable.target.status.as_str().trim() {
            "" => (GapReason::FieldMissing, "no InvocationStatus".to_owned()),
            other => (
                GapReason::FieldInvalid,
                format!("an unknown InvocationStatus `{other}`"),
            ),
        };
        report.invoke_id = Some(task.as_str().into());
        report.findings.push(
            FindingBuilder::unverified(
                Some(id),
                Some(path),
                target_location(),
                reason,
                format!("{path} on {noun} {id} is unverified: task {task} reports {what} for it"),
            )
            .build(),
        );
        return report;
    }

    if latest.target.status.is_in_flight() {
        report.invoke_id = Some(latest.invocation.invoke_id.as_str().into());
        let standing = match latest_success {
            Some(success) => format!(
                "; an earlier delivery ({}) succeeded and is checked once this one settles",
                success.invocation.invoke_id
            ),
            None => String::new(),
        };
        report.findings.push(
            finding(FindingCode::DeliveryPending, path, id, target_location())
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
        let explained =
            error_codes::explain(latest.target.error_code(), latest.target.error_info());
        report.invoke_id = Some(latest.invocation.invoke_id.as_str().into());
        report.finished_at = Stamp::of(latest.when());
        let code = explained.code.as_deref().unwrap_or("no ErrorCode");
        let tries = match attempts.len() {
            1 => String::new(),
            n => format!(", and so did the {} earlier attempts", n - 1),
        };
        report.findings.push(
            finding(FindingCode::DeliveryFailed, path, id, target_location())
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

    report.invoke_id = Some(success.invocation.invoke_id.as_str().into());
    report.finished_at = Stamp::of(success.when());
    if !std::ptr::eq(*latest, success) {
        let explained =
            error_codes::explain(latest.target.error_code(), latest.target.error_info());
        let code = explained.code.as_deref().unwrap_or("no ErrorCode");
        report.findings.push(
            finding(FindingCode::LastAttemptFailed, path, id, target_location())
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
    report.findings.extend(attributes::judge(&Delivered {
        eval,
        file,
        path,
        target: id,
        invocation: success.invocation,
        finished: success.when(),
        contents,
    }));
    report
}

/// `--strict`: successful deliveries of this file to targets it does not declare.
fn unexpected_instances(
    eval: &Evaluator<'_>,
    file: &FileExpectation,
    path: &str,
    observed: Option<&HashMap<&str, Attempts<'_>>>,
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
            let finding = finding(
                FindingCode::UnexpectedInstance,
                path,
                id,
                eval.location(file.origin),
            )
            .message(format!(
                "{path} was delivered to {noun} {id}, which this file's instances do not \
                 name (task {task})"
            ))
            .label(format!("{id} is not declared here"))
            .build();
            Some(TargetReport {
                id: (*id).into(),
                declared: false,
                invoke_id: Some(task.as_str().into()),
                finished_at: Stamp::of(success.when()),
                evidence: None,
                findings: vec![finding],
            })
        })
        .collect();
    extra.sort_by(|a, b| a.id.cmp(&b.id));
    extra
}

/// `--strict`: successful deliveries that share a declared file's name or
/// directory but whose path no file declares.
pub(super) fn unexpected_deliveries(
    eval: &Evaluator<'_>,
    invocations: &[FileInvocation],
) -> Vec<Finding> {
    let files = &eval.expectations.files;
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
                && (f.name.value == invocation.name || normalize_dir(&f.target_dir.value) == dir)
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
            finding(
                FindingCode::UnexpectedDelivery,
                &path,
                id,
                eval.location(related.origin),
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
