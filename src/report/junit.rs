//! JUnit XML, for CI test dashboards: one test case per declared file ×
//! target and per command × target.
//!
//! Names are stable across runs (`<path> on <target>`), so dashboards can
//! track a case's history; the class name is the manifest path. Drift is a
//! `failure`, a pending delivery an `error` (it could not be verified), and
//! warnings and waived findings go to the case's `system-out`.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::model::{Finding, Outcome, Report, TargetReport};

pub fn render(report: &Report) -> String {
    let mut junit = JunitReport::new("shipcheck");
    for file in &report.files {
        let classname = &report.manifest(file.location).path;
        let mut suite = TestSuite::new(format!("file {}", file.path));
        for target in &file.targets {
            suite.add_test_case(case(
                format!("{} on {}", file.path, target_name(target)),
                classname,
                target.findings.iter(),
            ));
        }
        junit.add_test_suite(suite);
    }
    for command in &report.commands {
        let classname = &report.manifest(command.location).path;
        let label = command.key.label();
        let mut suite = TestSuite::new(label.clone());
        if !command.findings.is_empty() || command.targets.is_empty() {
            suite.add_test_case(case(label.clone(), classname, command.findings.iter()));
        }
        for target in &command.targets {
            suite.add_test_case(case(
                format!("{label} on {}", target_name(target)),
                classname,
                target.findings.iter(),
            ));
        }
        junit.add_test_suite(suite);
    }
    if !report.general.is_empty() {
        let mut suite = TestSuite::new("other findings");
        for finding in &report.general {
            let classname = &report.manifest(finding.location).path;
            let subject = [finding.file.as_deref(), finding.target.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" on ");
            let name = if subject.is_empty() {
                format!("{} at line {}", finding.code, finding.location.line)
            } else {
                format!("{} {subject}", finding.code)
            };
            suite.add_test_case(case(name, classname, std::iter::once(finding)));
        }
        junit.add_test_suite(suite);
    }
    match junit.to_string() {
        Ok(xml) => xml,
        // quick-junit writes to memory; it can only fail on a bug there.
        Err(err) => format!("<!-- shipcheck could not write JUnit XML: {err} -->\n"),
    }
}

fn target_name(target: &TargetReport) -> String {
    if target.declared {
        target.id.to_string()
    } else {
        format!("{} (not declared)", target.id)
    }
}

fn case<'a>(
    name: String,
    classname: &str,
    findings: impl Iterator<Item = &'a Finding> + Clone,
) -> TestCase {
    let outcome = Outcome::of(findings.clone());
    let failing: Vec<&Finding> = findings.clone().filter(|f| f.fails()).collect();
    let status = match outcome {
        Outcome::Pass | Outcome::Warn => TestCaseStatus::success(),
        Outcome::Drift | Outcome::Pending | Outcome::Unverified => {
            // Unverified and pending are errors (not seen), drift a failure.
            let kind = if outcome == Outcome::Drift {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut status = TestCaseStatus::non_success(kind);
            let codes: Vec<&str> = failing.iter().map(|f| f.code.as_str()).collect();
            status.set_type(codes.join(", "));
            if let Some(first) = failing.first() {
                status.set_message(first.message.clone());
            }
            status.set_description(
                failing
                    .iter()
                    .map(|f| describe(f))
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            );
            status
        }
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(classname.to_owned());
    let notes: Vec<String> = findings
        .filter(|f| !f.fails())
        .map(|f| match &f.waived {
            Some(waived) => format!("waived {}: {} ({})", f.code, f.message, waived.reason),
            None => format!("{} {}: {}", f.severity(), f.code, f.message),
        })
        .collect();
    if !notes.is_empty() {
        case.set_system_out(notes.join("\n"));
    }
    case
}

/// A failing finding as plain text: message, evidence and what to do.
fn describe(finding: &Finding) -> String {
    let mut lines = vec![format!("{}: {}", finding.code, finding.message)];
    if let Some(detail) = &finding.detail {
        lines.extend(detail.plain_lines());
    }
    lines.push(format!("help: {}", finding.help_text()));
    lines.join("\n")
}
