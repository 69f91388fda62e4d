//! Exit 2 in every format: the manifest's diagnostics where a report would be.
//!
//! An invalid manifest is exactly when a CI job must show *something* in the
//! format it reads, so `check --format F` and every `--report F=PATH` carry
//! the diagnostics instead of a report: JSON `"verdict": "invalid"` with the
//! records `validate --format json` prints, SARIF results and GitHub
//! annotations at the manifest lines, one failing JUnit case per problem, a
//! Markdown table. The human form stays miette's graphical report.
//!
//! Like the report renderers, these only format: the exit code is decided
//! before anything is rendered.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;
use serde_sarif::sarif::{
    ArtifactLocation, Location as SarifLocation, Message, PhysicalLocation, Region,
    ReportingDescriptor, Result as SarifResult, ResultLevel,
};

use super::ReportFormat;
use super::github::{data, property};
use super::markdown::inline;
use crate::manifest::{DiagnosticRecord, ManifestErrors};
use crate::text::count;

/// The diagnostics of `errors` in `format`, ending with a newline. The
/// human form has no colour (it is what `--report human=PATH` holds).
pub fn render(errors: &ManifestErrors, format: ReportFormat) -> String {
    let records = errors.to_records();
    let manifests: Vec<String> = errors.sources.iter().map(|s| s.name()).collect();
    match format {
        ReportFormat::Human => errors.render_human(false),
        ReportFormat::Json => json(&manifests, &records),
        ReportFormat::Sarif => sarif(&records),
        ReportFormat::Junit => junit(&records),
        ReportFormat::Github => github(&manifests, &records),
        ReportFormat::Markdown => markdown(&manifests, &records),
    }
}

/// The JSON report's second shape (`schemas/report.v1.schema.json`).
#[derive(Serialize)]
struct InvalidDocument<'a> {
    schema_version: u32,
    tool: Producer,
    verdict: &'static str,
    manifests: &'a [String],
    diagnostics: &'a [DiagnosticRecord],
}

#[derive(Serialize)]
struct Producer {
    name: &'static str,
    version: &'static str,
}

fn json(manifests: &[String], records: &[DiagnosticRecord]) -> String {
    let document = InvalidDocument {
        schema_version: super::json::SCHEMA_VERSION,
        tool: Producer {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        verdict: "invalid",
        manifests,
        diagnostics: records,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("diagnostics serialise");
    text.push('\n');
    text
}

/// `file:line:column`, or the part of it that is known.
fn place(record: &DiagnosticRecord) -> Option<String> {
    let file = record.file.as_deref()?;
    Some(match (record.line, record.column) {
        (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
        (Some(line), None) => format!("{file}:{line}"),
        _ => file.to_owned(),
    })
}

/// The message and what to do, as plain lines.
fn message_and_help(record: &DiagnosticRecord) -> String {
    match &record.help {
        Some(help) => format!("{}\nhelp: {help}", record.message),
        None => record.message.clone(),
    }
}

fn sarif(records: &[DiagnosticRecord]) -> String {
    // One rule per code that occurs, in order of first occurrence.
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    for record in records {
        rule_index.entry(record.code).or_insert_with(|| {
            rules.push(
                ReportingDescriptor::builder()
                    .id(record.code)
                    .name(record.code)
                    .build(),
            );
            rules.len() - 1
        });
    }
    let results: Vec<SarifResult> = records
        .iter()
        .map(|record| {
            let result = SarifResult::builder()
                .rule_id(record.code)
                .rule_index(rule_index[record.code] as i64)
                .level(ResultLevel::Error)
                .message(Message::builder().text(message_and_help(record)).build());
            match &record.file {
                Some(file) => {
                    let physical = PhysicalLocation::builder()
                        .artifact_location(ArtifactLocation::builder().uri(file.clone()).build());
                    let physical = match record.line {
                        Some(line) => physical
                            .region(
                                Region::builder()
                                    .start_line(line as i64)
                                    .start_column(record.column.unwrap_or(1) as i64)
                                    .build(),
                            )
                            .build(),
                        None => physical.build(),
                    };
                    result
                        .locations(vec![
                            SarifLocation::builder().physical_location(physical).build(),
                        ])
                        .build()
                }
                // A command-line problem (`--var`) has no place in a file.
                None => result.build(),
            }
        })
        .collect();
    super::sarif::document(rules, results)
}

fn junit(records: &[DiagnosticRecord]) -> String {
    let mut junit = JunitReport::new("shipcheck");
    let mut suite = TestSuite::new("manifest");
    for record in records {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_type(record.code);
        status.set_message(record.message.clone());
        status.set_description(format!("{}: {}", record.code, message_and_help(record)));
        let name = match place(record) {
            Some(place) => format!("{} at {place}", record.code),
            None => record.code.to_owned(),
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(record.file.clone().unwrap_or_else(|| "command line".into()));
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    match junit.to_string() {
        Ok(xml) => xml,
        Err(err) => format!("<!-- shipcheck could not write JUnit XML: {err} -->\n"),
    }
}

fn summary(manifests: &[String], records: &[DiagnosticRecord]) -> String {
    format!(
        "{} in {}",
        count(records.len(), "problem"),
        match manifests {
            [one] => one.clone(),
            _ => count(manifests.len().max(1), "manifest"),
        }
    )
}

fn github(manifests: &[String], records: &[DiagnosticRecord]) -> String {
    let mut out = String::new();
    for record in records {
        let mut properties = Vec::new();
        if let Some(file) = &record.file {
            properties.push(format!("file={}", property(file)));
            if let Some(line) = record.line {
                properties.push(format!("line={line}"));
            }
            if let Some(column) = record.column {
                properties.push(format!("col={column}"));
            }
        }
        properties.push(format!("title={}", property(record.code)));
        let _ = writeln!(
            out,
            "::error {}::{}",
            properties.join(","),
            data(&message_and_help(record))
        );
    }
    let _ = writeln!(
        out,
        "shipcheck: invalid — {}; nothing was checked",
        summary(manifests, records)
    );
    out
}

fn markdown(manifests: &[String], records: &[DiagnosticRecord]) -> String {
    let cell = |text: &str| inline(text).replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(out, "## shipcheck: ⛔ invalid manifest\n");
    let _ = writeln!(
        out,
        "{}; nothing was checked.\n",
        summary(manifests, records)
    );
    let _ = writeln!(out, "| where | code | problem | what to do |");
    let _ = writeln!(out, "|---|---|---|---|");
    for record in records {
        let place = place(record).unwrap_or_else(|| "command line".into());
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} |",
            place.replace('`', "'").replace('|', "\\|"),
            record.code,
            cell(&record.message),
            cell(record.help.as_deref().unwrap_or("")),
        );
    }
    out
}
