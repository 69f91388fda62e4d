//! Exit 2 through the real binary: what the user can fix in the input.
//!
//! An invalid manifest prints its diagnostics in every `--format` and
//! writes every `--report` file (golden files in
//! `tests/data/golden/invalid-exit2/`), so CI shows why the gate failed exactly
//! when it fails. A malformed region (in the manifest, `--region` or the
//! environment), a malformed `--endpoint`, plain http to a non-loopback
//! host and conflicting flags all exit 2, not 3: nothing was unverifiable,
//! the input was wrong.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use crate::support::{data, repo, shipcheck};

/// `check` on the invalid manifest of `tests/data/check/invalid/`.
fn check_invalid() -> Command {
    let mut cmd = shipcheck();
    cmd.current_dir(data("check/invalid"))
        .args(["check", "shipcheck.yaml"]);
    cmd
}

/// Each format and the name of its golden file (`<format>.snap.<extension>`).
const FORMATS: [(&str, &str); 6] = [
    ("human", "human.txt"),
    ("json", "json.json"),
    ("junit", "junit.xml"),
    ("sarif", "sarif.sarif"),
    ("markdown", "markdown.md"),
    ("github", "github.txt"),
];

/// Compares with `tests/data/golden/invalid-exit2/`, byte for byte (insta
/// binary snapshots: `cargo insta test --review` updates them).
fn golden(file: &str, actual: &[u8]) {
    insta::with_settings!({
        snapshot_path => "../data/golden/invalid-exit2",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_binary_snapshot!(file, actual.to_vec());
    });
}

#[test]
fn an_invalid_manifest_prints_its_diagnostics_in_every_format() {
    for (format, file) in FORMATS {
        let output = check_invalid()
            .args(["--format", format])
            .assert()
            .code(2)
            .get_output()
            .clone();
        if format == "human" {
            // People read errors on stderr, as from any other command.
            assert!(output.stdout.is_empty());
            golden(file, &output.stderr);
        } else {
            golden(file, &output.stdout);
        }
    }
}

#[test]
fn every_report_file_is_written_on_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = check_invalid();
    cmd.args(["--format", "github"]);
    for (format, file) in FORMATS {
        cmd.arg(format!(
            "--report={format}={}",
            dir.path().join(file).display()
        ));
    }
    cmd.assert().code(2);
    for (_, file) in FORMATS {
        golden(file, &std::fs::read(dir.path().join(file)).unwrap());
    }
}

#[test]
fn the_json_diagnostics_are_the_validate_records_and_fit_the_schema() {
    let stdout = check_invalid()
        .args(["--format", "json"])
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let document: Value = serde_json::from_slice(&stdout).unwrap();
    let schema: Value = serde_json::from_str(shipcheck::schemas::REPORT_V1).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(document["verdict"], "invalid");
    assert_eq!(document["schema_version"], 1);

    let validate = shipcheck()
        .current_dir(data("check/invalid"))
        .args(["validate", "shipcheck.yaml", "--format", "json"])
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let records: Value = serde_json::from_slice(&validate).unwrap();
    assert_eq!(document["diagnostics"], records);
    let codes: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "manifest::invalid-region",
            "manifest::relative-target-dir",
            "manifest::invalid-mode"
        ]
    );

    // A report document is not an invalid one, and the other way round.
    let mut mixed = document.clone();
    mixed["files"] = Value::Array(Vec::new());
    assert!(!validator.is_valid(&mixed));
    let mut no_diagnostics = document;
    no_diagnostics
        .as_object_mut()
        .unwrap()
        .remove("diagnostics");
    assert!(!validator.is_valid(&no_diagnostics));
}

#[test]
fn a_malformed_region_in_the_manifest_is_refused_by_validate_and_check() {
    let fixture = data("manifest/invalid/invalid-region.yaml");
    shipcheck()
        .arg("validate")
        .arg(&fixture)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest::invalid-region"))
        .stderr(predicate::str::contains("`CN-Hangzhou` is not a region id"));
    shipcheck()
        .arg("check")
        .arg(&fixture)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest::invalid-region"));
}

/// The demo manifest without its region, so it takes one from elsewhere,
/// beside a copy of its content files (content files stay under the
/// manifest's directory).
fn regionless_demo(dir: &Path) -> PathBuf {
    let manifest = dir.join("shipcheck.yaml");
    let text = std::fs::read_to_string(repo("examples/demo/shipcheck.yaml"))
        .unwrap()
        .replace("  region: cn-hangzhou\n", "");
    std::fs::write(&manifest, text).unwrap();
    std::fs::create_dir(dir.join("files")).unwrap();
    for entry in std::fs::read_dir(repo("examples/demo/files")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("files").join(path.file_name().unwrap())).unwrap();
    }
    manifest
}

#[test]
fn a_malformed_region_from_the_command_line_or_environment_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = regionless_demo(dir.path());
    let demo = || {
        let mut cmd = shipcheck();
        cmd.args(["check", "--simulate"])
            .arg(repo("examples/demo/sim-state.yaml"))
            .arg(&manifest);
        cmd
    };
    for bad in [
        "CN-HANGZHOU",
        "cn_hangzhou",
        "cn-hangzhou.evil.example",
        "-x",
    ] {
        demo()
            .arg(format!("--region={bad}"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("is not a region id"));
    }
    demo()
        .env("ALIBABA_CLOUD_REGION_ID", "cn hangzhou")
        .args(["--format", "json"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("manifest::invalid-region"))
        .stdout(predicate::str::contains("ALIBABA_CLOUD_REGION_ID"));
    // The shape, not a list: a region the simulator has never heard of is
    // well-formed, and `cn-wuhan-lr` is as good as `cn-hangzhou`.
    demo().args(["--region", "cn-hangzhou"]).assert().code(1);
}

#[test]
fn a_malformed_endpoint_exits_2_before_any_request() {
    let demo = || {
        let mut cmd = shipcheck();
        cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-invalid-test")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "never-sent-4c1f")
            .arg("check")
            .arg(repo("examples/demo/shipcheck.yaml"));
        cmd
    };
    for (endpoint, says) in [
        ("http://10.0.0.1:8080", "plain http to a non-loopback host"),
        (
            "http://ecs.example.com",
            "plain http to a non-loopback host",
        ),
        ("not a url at all", "is not a URL"),
        ("https://ecs.example.com/some/path", "has a path or query"),
        ("ftp://127.0.0.1", "has scheme `ftp`"),
    ] {
        demo()
            .args(["--endpoint", endpoint])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(says))
            .stderr(predicate::str::contains("never-sent-4c1f").not());
    }
}

#[test]
fn conflicting_flags_exit_2() {
    let state = repo("examples/demo/sim-state.yaml");
    let manifest = repo("examples/demo/shipcheck.yaml");
    let cases: [&[&str]; 4] = [
        // --simulate talks to its own server with its own key.
        &["--vpc"],
        &["--profile", "prod"],
        &["--endpoint", "http://127.0.0.1:9"],
        // A grace period only means something while waiting.
        &["--grace", "5s"],
    ];
    for extra in cases {
        shipcheck()
            .args(["check", "--simulate"])
            .arg(&state)
            .arg(&manifest)
            .args(extra)
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("cannot be used with")
                    .or(predicate::str::contains("required")),
            );
    }
    shipcheck()
        .args(["check", "--endpoint", "https://ecs.example.com", "--vpc"])
        .arg(&manifest)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}
