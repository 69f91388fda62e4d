//! `check --only` and `--instance` through the real binary against the
//! simulator: the report says the check was narrowed, in every format, and
//! a narrowing that selects nothing is invalid input, never a green.

use crate::support::{repo, shipcheck};

fn demo(args: &[&str]) -> std::process::Output {
    shipcheck()
        .current_dir(repo("examples/demo"))
        .args(["check", "--simulate", "sim-state.yaml", "shipcheck.yaml"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn instance_narrows_every_entry_and_the_json_report_says_so() {
    let output = demo(&["--instance", "i-bp1web0000000001", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["narrowed"],
        serde_json::json!({ "only": [], "instances": ["i-bp1web0000000001"] })
    );
    let targets: Vec<&serde_json::Value> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["commands"].as_array().unwrap())
        .flat_map(|entry| entry["targets"].as_array().unwrap())
        .collect();
    assert!(!targets.is_empty());
    assert!(
        targets
            .iter()
            .all(|t| t.to_string().contains("i-bp1web0000000001")),
        "{targets:?}"
    );
    assert_eq!(report["files"].as_array().unwrap().len(), 3);
}

#[test]
fn only_checks_the_matching_files_and_no_command_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let markdown = dir.path().join("summary.md");
    let output = demo(&[
        "--only",
        "/etc/*",
        "--report",
        &format!("markdown={}", markdown.display()),
    ]);
    let human = String::from_utf8(output.stdout).unwrap();
    // /etc/motd is in sync; nginx.conf and shop.env (with their drift) are
    // in subdirectories and the command is not a file: all left out.
    assert_eq!(output.status.code(), Some(0), "{human}");
    assert!(
        human.contains("narrowed: only files matching /etc/* (no commands)"),
        "{human}"
    );
    assert!(!human.contains("nginx"), "{human}");
    let markdown = std::fs::read_to_string(markdown).unwrap();
    assert!(markdown.contains("narrowed:"), "{markdown}");
}

#[test]
fn a_narrowing_that_matches_nothing_is_invalid_input() {
    for args in [
        &["--only", "/srv/**"][..],
        &["--instance", "i-bp1web0000000009"],
        &["--only", "/etc/*", "--instance", "i-unknown"],
    ] {
        let output = demo(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    // A bad glob is a usage error; so is narrowing a strict check, whose
    // "nothing undeclared" would count the left-out entries as undeclared.
    for args in [
        &["--only", "/etc/[x"][..],
        &["--instance", "i-1", "--strict"],
    ] {
        assert_eq!(demo(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn the_narrowing_comes_from_the_environment_too() {
    let output = shipcheck()
        .current_dir(repo("examples/demo"))
        .args(["check", "--simulate", "sim-state.yaml", "shipcheck.yaml"])
        .env("SHIPCHECK_ONLY", "/etc/*")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("narrowed:"));
}
