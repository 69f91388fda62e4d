//! SARIF 2.1.0, for code-scanning dashboards: every finding is a result at
//! the manifest line and column that declared the expectation, every finding
//! code a rule. Waived findings stay in the log with an `inSource`
//! suppression whose justification is the waiver's reason.

use serde_sarif::sarif::{
    ArtifactLocation, Location as SarifLocation, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};

use super::model::{Finding, Report};
use crate::findings::{FindingCode, REGISTRY, Severity};

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(report: &Report) -> String {
    let rules: Vec<ReportingDescriptor> = REGISTRY
        .iter()
        .map(|info| {
            ReportingDescriptor::builder()
                .id(info.name)
                .name(info.name)
                .short_description(text(info.title))
                .full_description(text(info.explanation))
                .help(text(info.remediation))
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(serde_json::json!(if info.code.is_unverified() {
                            // Not seen is not proven wrong.
                            "warning"
                        } else {
                            level(info.severity)
                        }))
                        .build(),
                )
                .build()
        })
        .collect();
    let results: Vec<SarifResult> = report.findings().map(|f| result(report, f)).collect();
    document(rules, results)
}

/// One SARIF 2.1.0 log of one run of shipcheck, pretty-printed: shared by
/// the report and the exit-2 diagnostics.
pub(super) fn document(rules: Vec<ReportingDescriptor>, results: Vec<SarifResult>) -> String {
    let driver = ToolComponent::builder()
        .name(env!("CARGO_PKG_NAME"))
        .version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let sarif = Sarif::builder()
        .schema(SARIF_SCHEMA)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut out = serde_json::to_string_pretty(&sarif).expect("SARIF serialises to JSON");
    out.push('\n');
    out
}

fn text(text: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn result(report: &Report, finding: &Finding) -> SarifResult {
    let location = finding.location;
    let region = Region::builder()
        .start_line(location.line as i64)
        .start_column(location.column as i64)
        .end_line(location.end_line as i64)
        .end_column(location.end_column as i64)
        .build();
    let physical = PhysicalLocation::builder()
        .artifact_location(
            ArtifactLocation::builder()
                .uri(report.manifest(location).path.clone())
                .build(),
        )
        .region(region)
        .build();
    let mut message = finding.message.clone();
    if let Some(detail) = &finding.detail {
        message.push_str("\n\n");
        message.push_str(&detail.plain_lines().join("\n"));
    }
    let mut properties = serde_json::Map::new();
    if let Some(target) = &finding.target {
        properties.insert("target".into(), target.as_str().into());
    }
    if let Some(file) = &finding.file {
        properties.insert("file".into(), file.as_str().into());
    }
    // Many targets share one manifest line; code scanning would merge their
    // results without a fingerprint that names the target.
    let fingerprint = format!(
        "{}:{}:{}",
        finding.code,
        finding.file.as_deref().unwrap_or(""),
        finding.target.as_deref().unwrap_or("")
    );
    let result = SarifResult::builder()
        .rule_id(finding.code.as_str())
        .partial_fingerprints(std::collections::BTreeMap::from([(
            "shipcheckFinding/v1".to_owned(),
            fingerprint,
        )]))
        .rule_index(rule_index(finding.code))
        .level(match finding.severity() {
            _ if finding.code.is_unverified() => ResultLevel::Warning,
            Severity::Error => ResultLevel::Error,
            Severity::Warning => ResultLevel::Warning,
        })
        .message(Message::builder().text(message).build())
        .locations(vec![
            SarifLocation::builder().physical_location(physical).build(),
        ])
        .properties(
            PropertyBag::builder()
                .additional_properties(
                    properties
                        .into_iter()
                        .collect::<std::collections::BTreeMap<_, _>>(),
                )
                .build(),
        );
    match &finding.waived {
        Some(waived) => result
            .suppressions(vec![
                Suppression::builder()
                    .kind(serde_json::json!("inSource"))
                    .justification(waived.reason.clone())
                    .build(),
            ])
            .build(),
        None => result.build(),
    }
}

fn rule_index(code: FindingCode) -> i64 {
    code as i64
}
