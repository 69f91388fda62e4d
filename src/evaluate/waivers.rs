//! Waivers: a finding the user has accepted, with a reason, until a date.
//!
//! A waiver matches on the finding code and, when given, the target and the
//! file's full path. It applies up to and including its `expires` day (in
//! UTC, the same day everywhere a pipeline runs); after that it is reported
//! as `waiver-expired` and silences nothing, so an accepted risk cannot
//! quietly outlive its review date.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::expect::{Expectations, Waiver};
use crate::findings::FindingCode;
use crate::report::model::{Finding, Locator, Report, Waived};

use super::FindingBuilder;

pub(super) fn apply(
    expectations: &Expectations,
    locator: &Locator<'_>,
    now: Timestamp,
    report: &mut Report,
) {
    let today = now.to_zoned(TimeZone::UTC).date();
    let mut active: Vec<(&Waiver, Waived)> = Vec::new();
    for waiver in &expectations.waivers {
        let location = locator.locate(waiver.origin);
        match waiver.expires {
            Some(expires) if expires < today => {
                report.general.push(
                    FindingBuilder::new(
                        FindingCode::WaiverExpired,
                        waiver.instance.as_deref(),
                        waiver.file.as_deref(),
                        location,
                    )
                    .message(format!(
                        "the waiver of {} ({}) expired on {expires} and no longer applies",
                        waiver.finding, waiver.reason
                    ))
                    .label(format!("expired on {expires}"))
                    .expected(format!("on or before {expires}"))
                    .observed(today.to_string())
                    .build(),
                );
            }
            _ => active.push((
                waiver,
                Waived {
                    reason: waiver.reason.clone(),
                    location,
                    expires: waiver.expires,
                },
            )),
        }
    }
    if active.is_empty() {
        return;
    }
    let mut waive = |finding: &mut Finding| {
        if let Some((_, waived)) = active.iter().find(|(waiver, _)| matches(waiver, finding)) {
            finding.waived = Some(waived.clone());
        }
    };
    for file in &mut report.files {
        for target in &mut file.targets {
            target.findings.iter_mut().for_each(&mut waive);
        }
    }
    for command in &mut report.commands {
        command.findings.iter_mut().for_each(&mut waive);
        for target in &mut command.targets {
            target.findings.iter_mut().for_each(&mut waive);
        }
    }
    report.general.iter_mut().for_each(&mut waive);
}

fn matches(waiver: &Waiver, finding: &Finding) -> bool {
    // Not seeing is not a drift someone accepted: it is never waived.
    if finding.code.is_unverified() {
        return false;
    }
    if waiver.finding != finding.code.as_str() {
        return false;
    }
    if let Some(instance) = &waiver.instance
        && finding.target.as_deref() != Some(instance.as_str())
    {
        return false;
    }
    if let Some(path) = &waiver.file {
        let Some(file) = &finding.file else {
            return false;
        };
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let dir = if dir.is_empty() { "/" } else { dir };
        if super::normalize_path(dir, name) != *file {
            return false;
        }
    }
    true
}
