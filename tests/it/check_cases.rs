//! `shipcheck check` end to end: the real binary, the simulator in-process
//! (`--simulate`), real HTTP between them.
//!
//! Each folder in tests/data/check/cases/ is one case: `manifest.yaml`, the
//! simulator's `state.yaml` (or a `--simulate` path in `args`), optional
//! extra arguments in `args` (one per line), and `expect`, the finding codes
//! the JSON report must hold (waived ones marked `(waived)`). The exit code
//! is in the folder's name: `mode-mismatch-exit1`.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

const FORMATS: &[&str] = &["human", "json", "junit", "sarif", "markdown", "github"];

struct Case {
    name: String,
    dir: PathBuf,
    exit: i32,
    args: Vec<String>,
    expect: Option<Vec<String>>,
}

fn cases() -> Vec<Case> {
    let root = crate::support::data("check/cases");
    let mut cases: Vec<Case> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.is_dir())
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let exit = name
                .rsplit_once("-exit")
                .and_then(|(_, code)| code.parse().ok())
                .unwrap_or_else(|| panic!("{name}: the folder name must end in -exitN"));
            let mut args: Vec<String> = std::fs::read_to_string(dir.join("args"))
                .map(|text| text.lines().map(str::to_owned).collect())
                .unwrap_or_default();
            if dir.join("state.yaml").exists() {
                args.extend(["--simulate".to_owned(), "state.yaml".to_owned()]);
            }
            let expect = std::fs::read_to_string(dir.join("expect"))
                .ok()
                .map(|text| text.lines().map(str::to_owned).collect());
            Case {
                name,
                dir,
                exit,
                args,
                expect,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(cases.len() >= 20, "found only {} cases", cases.len());
    cases
}

fn check(case: &Case, format: &str) -> std::process::Output {
    Command::cargo_bin("shipcheck")
        .unwrap()
        .current_dir(&case.dir)
        .env_remove("NO_COLOR")
        .args([
            "check",
            "manifest.yaml",
            "--format",
            format,
            "--color",
            "never",
        ])
        .args(&case.args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

/// Every finding code in a JSON report, sorted, waived ones marked.
fn finding_codes(report: &Value) -> Vec<String> {
    let mut codes = Vec::new();
    let mut collect = |finding: &Value| {
        let code = finding["code"].as_str().unwrap().to_owned();
        codes.push(if finding["waived"].is_null() {
            code
        } else {
            format!("{code} (waived)")
        });
    };
    for section in ["files", "commands"] {
        for entry in report[section].as_array().unwrap() {
            for target in entry["targets"].as_array().unwrap() {
                target["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .for_each(&mut collect);
            }
        }
    }
    report["other_findings"]
        .as_array()
        .unwrap()
        .iter()
        .for_each(&mut collect);
    codes.sort();
    codes
}

#[test]
fn each_case_exits_as_named_with_the_expected_findings() {
    let schema: Value = serde_json::from_str(shipcheck::schemas::REPORT_V1).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut failures = Vec::new();
    for case in cases() {
        let output = check(&case, "json");
        let code = output.status.code().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if code != case.exit {
            failures.push(format!(
                "{}: exit {code}, expected {}\n{stderr}",
                case.name, case.exit
            ));
            continue;
        }
        if code == 2 {
            // An invalid manifest: its diagnostics, as JSON, in the schema.
            let document: Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|err| panic!("{}: not JSON ({err}): {stdout}", case.name));
            assert!(validator.is_valid(&document), "{}: {stdout}", case.name);
            assert_eq!(document["verdict"], "invalid", "{}", case.name);
            assert!(stdout.contains("manifest::"), "{}: {stdout}", case.name);
            continue;
        }
        let report: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|err| panic!("{}: not JSON ({err}): {stdout}", case.name));
        if let Err(error) = validator.validate(&report) {
            failures.push(format!(
                "{}: the report breaks its schema: {error}",
                case.name
            ));
        }
        let expected = case
            .expect
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no expect file", case.name));
        let mut expected = expected.clone();
        expected.sort();
        let actual = finding_codes(&report);
        if actual != expected {
            failures.push(format!(
                "{}: findings {actual:?}, expected {expected:?}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_output_format_never_changes_the_exit_code() {
    for case in cases() {
        for format in FORMATS {
            let output = check(&case, format);
            assert_eq!(
                output.status.code(),
                Some(case.exit),
                "{} with --format {format}: {}",
                case.name,
                String::from_utf8_lossy(&output.stderr)
            );
            if case.exit != 2 {
                assert!(
                    !output.stdout.is_empty(),
                    "{} --format {format} printed nothing",
                    case.name
                );
            }
        }
    }
}
