//! Attributes: what the effective delivery of a file carried, judged one
//! declared attribute at a time, each by its own small rule.
//!
//! Every rule needs its field: one the API leaves out (or blank), or one
//! that cannot be read (a mode `rwx`, content that does not decode), makes
//! that attribute `unverified`. It is never taken for SendFile's default
//! (the documented API always echoes mode, owner, group and overwrite), and
//! never reported as drift.

use foldhash::HashMap;
use std::cell::RefCell;
use std::fmt::Display;
use std::time::Duration;

use jiff::Timestamp;

use crate::expect::{Attr, ExpectedContent, FileExpectation};
use crate::findings::FindingCode;
use crate::mode::FileMode;
use crate::observe::{FileInvocation, GapReason};
use crate::report::model::Finding;

use super::content::ContentDrift;
use super::{Evaluator, FindingBuilder};

/// One declared file's effective delivery on one target: what every rule reads.
pub(super) struct Delivered<'a> {
    pub eval: &'a Evaluator<'a>,
    pub file: &'a FileExpectation,
    /// The file's normalised full path.
    pub path: &'a str,
    /// The target's id.
    pub target: &'a str,
    /// The latest successful delivery there.
    pub invocation: &'a FileInvocation,
    /// When it finished on the target.
    pub finished: Option<Timestamp>,
    /// The file's content verdicts so far, one per task.
    pub contents: &'a ContentVerdicts,
}

/// How a task's echoed content compares with one file's declaration.
///
/// Every target of a task carries the same content, so it is decoded and
/// compared once per (file, task), not once per target: at 50 targets a
/// task, that is most of the evaluation's work.
#[derive(Default)]
pub(super) struct ContentVerdicts {
    /// Keyed by the task's record (its address: records are not copied
    /// during an evaluation).
    by_task: RefCell<HashMap<*const FileInvocation, ContentVerdict>>,
}

#[derive(Clone)]
enum ContentVerdict {
    Matches,
    /// The record has no `Content`.
    Missing,
    /// `Base64` content that does not decode.
    Undecodable,
    Differs(ContentDrift),
}

impl ContentVerdicts {
    fn get(
        &self,
        declared: &ExpectedContent,
        invocation: &FileInvocation,
        sensitive: bool,
    ) -> ContentVerdict {
        let key: *const FileInvocation = invocation;
        if let Some(known) = self.by_task.borrow().get(&key) {
            return known.clone();
        }
        let verdict = if invocation.content.is_none() {
            ContentVerdict::Missing
        } else if invocation.content_type == crate::observe::ContentType::Base64
            && invocation.decoded_content().is_err()
        {
            ContentVerdict::Undecodable
        } else {
            match super::content::compare(declared, invocation, sensitive) {
                Some(drift) => ContentVerdict::Differs(drift),
                None => ContentVerdict::Matches,
            }
        };
        self.by_task.borrow_mut().insert(key, verdict.clone());
        verdict
    }
}

/// A rule judges one attribute: `None` when it holds.
type Rule = fn(&Delivered<'_>) -> Option<Finding>;

/// Every rule, in the order their findings are reported.
const RULES: [Rule; 6] = [mode, owner, group, overwrite, content, max_age];

pub(super) fn judge(delivered: &Delivered<'_>) -> impl Iterator<Item = Finding> {
    RULES.iter().filter_map(|rule| rule(delivered))
}

fn mode(d: &Delivered<'_>) -> Option<Finding> {
    let text = match d.invocation.mode.as_deref().map(str::trim) {
        None => return Some(d.missing("FileMode", "mode")),
        Some(text) => text,
    };
    match text.parse::<FileMode>() {
        Ok(observed) => d.mismatch(FindingCode::ModeMismatch, "mode", &d.file.mode, observed),
        Err(err) => Some(d.invalid(
            "mode",
            format!("the API reports FileMode `{text}`, which is not an octal mode ({err})"),
        )),
    }
}

fn owner(d: &Delivered<'_>) -> Option<Finding> {
    let Some(observed) = present(d.invocation.owner.as_deref()) else {
        return Some(d.missing("FileOwner", "owner"));
    };
    d.mismatch(FindingCode::OwnerMismatch, "owner", &d.file.owner, observed)
}

fn group(d: &Delivered<'_>) -> Option<Finding> {
    let Some(observed) = present(d.invocation.group.as_deref()) else {
        return Some(d.missing("FileGroup", "group"));
    };
    d.mismatch(FindingCode::GroupMismatch, "group", &d.file.group, observed)
}

/// An owner or group that is there and not blank.
fn present(observed: Option<&str>) -> Option<&str> {
    observed.map(str::trim).filter(|o| !o.is_empty())
}

fn overwrite(d: &Delivered<'_>) -> Option<Finding> {
    let Some(observed) = d.invocation.overwrite else {
        return Some(d.missing("Overwrite", "overwrite"));
    };
    let declared = &d.file.overwrite;
    d.mismatch(
        FindingCode::OverwriteMismatch,
        "overwrite",
        declared,
        observed,
    )
}

fn content(d: &Delivered<'_>) -> Option<Finding> {
    let declared = d.file.content.as_ref()?;
    let drift = match d
        .contents
        .get(&declared.value, d.invocation, d.file.sensitive)
    {
        ContentVerdict::Matches => return None,
        ContentVerdict::Missing => return Some(d.missing("Content", "content")),
        ContentVerdict::Undecodable => {
            return Some(d.invalid(
                "content",
                "the API returned Base64 content that does not decode".to_owned(),
            ));
        }
        ContentVerdict::Differs(drift) => drift,
    };
    Some(
        d.finding(FindingCode::ContentMismatch, declared)
            .message(format!(
                "the content of {} differs from the declaration{} (task {})",
                d.subject(),
                drift.note,
                d.task()
            ))
            .label("declared content".to_owned())
            .detail(drift.detail)
            .build(),
    )
}

fn max_age(d: &Delivered<'_>) -> Option<Finding> {
    let max_age = d.file.max_age.as_ref()?;
    let finished = d.finished?;
    let age = age(finished, d.eval.options.now)?;
    if age <= max_age.value {
        return None;
    }
    Some(
        d.finding(FindingCode::StaleDelivery, max_age)
            .message(format!(
                "{} was delivered {} ago (at {finished}, task {}), longer than max_age {}",
                d.subject(),
                human_duration(age),
                d.task(),
                human_duration(max_age.value)
            ))
            .label(format!("max_age {}", human_duration(max_age.value)))
            .expected(human_duration(max_age.value))
            .observed(human_duration(age))
            .build(),
    )
}

impl Delivered<'_> {
    /// `/etc/app.conf on instance i-…`, how every message names its subject.
    fn subject(&self) -> String {
        let noun = self.file.provider.target_noun();
        format!("{} on {noun} {}", self.path, self.target)
    }

    fn task(&self) -> &str {
        &self.invocation.invoke_id
    }

    /// A finding labelled on the declaration of `attr`.
    fn finding<T>(&self, code: FindingCode, attr: &Attr<T>) -> FindingBuilder {
        let location = self.eval.attr_location(attr, self.file.origin);
        FindingBuilder::new(code, Some(self.target), Some(self.path), location)
    }

    /// `what` cannot be judged: the record has no `field`.
    fn missing(&self, field: &str, what: &str) -> Finding {
        self.unverified(
            GapReason::FieldMissing,
            what,
            format!("the record has no {field}"),
        )
    }

    /// `what` cannot be judged: its field is unreadable.
    fn invalid(&self, what: &str, why: String) -> Finding {
        self.unverified(GapReason::FieldInvalid, what, why)
    }

    fn unverified(&self, reason: GapReason, what: &str, why: String) -> Finding {
        let location = self.eval.location(self.file.origin);
        FindingBuilder::unverified(
            Some(self.target),
            Some(self.path),
            location,
            reason,
            format!(
                "the {what} of {} is unverified: {why} (task {})",
                self.subject(),
                self.task()
            ),
        )
        .build()
    }

    /// The finding for a delivered value that is not the declared one.
    fn mismatch<T, O>(
        &self,
        code: FindingCode,
        what: &str,
        declared: &Attr<T>,
        observed: O,
    ) -> Option<Finding>
    where
        T: PartialEq<O> + Display,
        O: Display,
    {
        if declared.value == observed {
            return None;
        }
        // A value nobody wrote down is SendFile's default; say so.
        let default = if declared.origin.is_none() {
            " (SendFile's default)"
        } else {
            ""
        };
        Some(
            self.finding(code, declared)
                .message(format!(
                    "{} was delivered with {what} {observed}, declared {} (task {})",
                    self.subject(),
                    declared.value,
                    self.task()
                ))
                .label(format!(
                    "declared {}{default}, delivered {observed}",
                    declared.value
                ))
                .expected(declared.value.to_string())
                .observed(observed.to_string())
                .build(),
        )
    }
}

/// How long ago `then` was; `None` when it is in the future.
fn age(then: Timestamp, now: Timestamp) -> Option<Duration> {
    let seconds = now.as_second().checked_sub(then.as_second())?;
    u64::try_from(seconds).ok().map(Duration::from_secs)
}

/// `3d 4h`, the way `max_age` is written.
fn human_duration(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
}
