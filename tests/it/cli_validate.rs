//! `shipcheck validate` and `shipcheck schema` through the real binary.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn shipcheck() -> Command {
    let mut cmd = Command::cargo_bin("shipcheck").unwrap();
    cmd.env_remove("NO_COLOR").arg("--color=never");
    cmd
}

#[test]
fn valid_manifests_exit_0() {
    shipcheck()
        .args(["validate", "examples/basic.yaml", "examples/eflo.yaml"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains(
            "2 manifests valid: 4 files, 0 commands, 0 waivers",
        ));
}

#[test]
fn an_invalid_manifest_exits_2_with_labelled_diagnostics_on_stderr() {
    shipcheck()
        .args([
            "validate",
            "examples/basic.yaml",
            "tests/data/manifest/invalid/many-problems.yaml",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("manifest::invalid-mode"))
        .stderr(predicate::str::contains("many-problems.yaml:15:11"))
        .stderr(predicate::str::contains("6 problems in 1 manifest"))
        // Colour is off when asked.
        .stderr(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn json_format_prints_every_diagnostic_on_stdout() {
    let output = shipcheck()
        .args([
            "validate",
            "--format",
            "json",
            "tests/data/manifest/invalid/many-problems.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let records: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(records.len(), 6);
    let mode = records
        .iter()
        .find(|r| r["code"] == "manifest::invalid-mode")
        .unwrap();
    assert_eq!(mode["severity"], "error");
    assert_eq!(
        mode["file"],
        "tests/data/manifest/invalid/many-problems.yaml"
    );
    assert_eq!(mode["line"], 15);
    assert_eq!(mode["column"], 11);
    assert!(mode["message"].as_str().unwrap().contains("rw-r--r--"));
    assert!(mode["help"].as_str().unwrap().contains("0644"));
    for record in &records {
        for key in [
            "code", "severity", "message", "file", "line", "column", "help",
        ] {
            assert!(record.get(key).is_some(), "{record} has no {key}");
        }
    }
}

#[test]
fn json_format_prints_an_empty_array_when_valid() {
    shipcheck()
        .args(["validate", "--format", "json", "examples/commands.yaml"])
        .assert()
        .code(0)
        .stdout("[]\n");
}

#[test]
fn a_missing_manifest_is_invalid() {
    let output = shipcheck()
        .args(["validate", "--format", "json", "no/such/manifest.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let records: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(records[0]["code"], "manifest::read-failed");
    assert_eq!(records[0]["file"], "no/such/manifest.yaml");
    assert_eq!(records[0]["line"], Value::Null);
}

#[test]
fn vars_and_env_reach_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    std::fs::write(
        &path,
        "version: 1\nvars:\n  dir: null\nfiles:\n  - name: ${env:SHIPCHECK_TEST_NAME}\n    target_dir: ${var.dir}\n    instances: [i-bp1aaaa]\n",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    // Neither given: both references are reported.
    shipcheck()
        .env_remove("SHIPCHECK_TEST_NAME")
        .args(["validate", path])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest::unset-env-var"))
        .stderr(predicate::str::contains("manifest::undefined-variable"));
    shipcheck()
        .env("SHIPCHECK_TEST_NAME", "app.conf")
        .args(["validate", path, "--var", "dir=/etc/app"])
        .assert()
        .code(0);
    // A --var no manifest declares is a mistake, not ignored.
    shipcheck()
        .env("SHIPCHECK_TEST_NAME", "app.conf")
        .args(["validate", path, "--var", "dir=/etc/app", "--var", "dri=/x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `--var dir=…`?"));
}

#[test]
fn schema_prints_the_committed_manifest_schema() {
    let committed = std::fs::read_to_string("schemas/manifest.v1.schema.json").unwrap();
    shipcheck()
        .arg("schema")
        .assert()
        .code(0)
        .stdout(committed.clone());
    shipcheck()
        .args(["schema", "manifest"])
        .assert()
        .code(0)
        .stdout(committed);
}

#[test]
fn schema_prints_each_committed_schema() {
    for (kind, file) in [
        ("report", "report.v1.schema.json"),
        ("sim-state", "sim-state.v1.schema.json"),
    ] {
        let committed = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("schemas")
                .join(file),
        )
        .unwrap();
        shipcheck()
            .args(["schema", kind])
            .assert()
            .code(0)
            .stdout(committed);
    }
}
