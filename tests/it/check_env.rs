//! `check` as a shell and a CI job meet it, through the real binary and the
//! simulator: flags from `SHIPCHECK_*` variables (a flag beats its
//! variable), `--quiet`, `--report` appending to `$GITHUB_STEP_SUMMARY`,
//! and the human report fitted to `COLUMNS` without breaking ids.

use std::path::Path;

use assert_cmd::Command;

use crate::support::{data, repo, shipcheck};

/// `check --simulate` on the demo (exit 1: drift).
fn demo() -> Command {
    let mut cmd = shipcheck();
    cmd.current_dir(repo("examples/demo")).args([
        "check",
        "--simulate",
        "sim-state.yaml",
        "shipcheck.yaml",
    ]);
    cmd
}

/// `check --simulate` on a fleet in sync (exit 0).
fn in_sync() -> Command {
    let mut cmd = shipcheck();
    cmd.current_dir(data("check/cases/in-sync-exit0")).args([
        "check",
        "--simulate",
        "state.yaml",
        "manifest.yaml",
    ]);
    cmd
}

fn run(mut cmd: Command, code: i32) -> String {
    let output = cmd.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_environment_sets_the_format() {
    let mut cmd = demo();
    cmd.env("SHIPCHECK_FORMAT", "json");
    let report: serde_json::Value = serde_json::from_str(&run(cmd, 1)).unwrap();
    assert_eq!(report["schema_version"], 1);
}

#[test]
fn a_flag_beats_its_variable() {
    let mut cmd = demo();
    cmd.env("SHIPCHECK_FORMAT", "json")
        .args(["--format", "junit"]);
    assert!(run(cmd, 1).starts_with("<?xml"));
}

#[test]
fn boolean_and_duration_flags_come_from_the_environment_too() {
    let mut cmd = in_sync();
    cmd.env("SHIPCHECK_QUIET", "true")
        .env("SHIPCHECK_WAIT", "1s")
        .env("SHIPCHECK_INTERVAL", "100ms");
    assert_eq!(run(cmd, 0), "");

    // A variable with a bad value is a usage error that names it.
    let output = demo().env("SHIPCHECK_WAIT", "soon").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("soon"));
}

#[test]
fn help_shows_every_variable() {
    let help = run(
        {
            let mut cmd = shipcheck();
            cmd.args(["check", "--help"]);
            cmd
        },
        0,
    );
    // Every long flag `check --help` lists, but help, version and the
    // counted -v, has a SHIPCHECK_<FLAG> variable, so a flag added later
    // without one fails here.
    let flags: Vec<String> = help
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix("-q, ").unwrap_or(line);
            let flag = line.strip_prefix("--")?;
            let name: String = flag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!["help", "version", "verbose"].contains(&name.as_str())).then_some(name)
        })
        .collect();
    assert!(flags.len() >= 25, "{flags:?}");
    for flag in flags {
        let variable = format!("SHIPCHECK_{}", flag.replace('-', "_").to_uppercase());
        assert!(
            help.contains(&format!("[env: {variable}")),
            "{variable} missing from --help"
        );
    }
}

#[test]
fn quiet_prints_nothing_when_in_sync() {
    let mut cmd = in_sync();
    cmd.arg("--quiet");
    assert_eq!(run(cmd, 0), "");
}

#[test]
fn quiet_prints_only_the_findings_and_the_verdict_on_drift() {
    let full = run(demo(), 1);
    let mut cmd = demo();
    cmd.arg("-q");
    let quiet = run(cmd, 1);
    assert!(!quiet.contains("in sync on"), "{quiet}");
    assert!(!quiet.starts_with("shipcheck:"), "no header: {quiet}");
    assert!(!quiet.contains("/etc/motd"), "a file in sync is left out");
    for finding in ["content-mismatch", "delivery-failed", "mode-mismatch"] {
        assert!(quiet.contains(finding), "{finding}: {quiet}");
    }
    let verdict = full.lines().last().unwrap();
    assert!(verdict.starts_with("drift:"));
    assert_eq!(quiet.lines().last(), Some(verdict));
    assert!(quiet.len() < full.len());
}

#[test]
fn quiet_leaves_machine_formats_alone() {
    let mut loud = in_sync();
    loud.args(["--format", "json"]);
    let mut quiet = in_sync();
    quiet.args(["--format", "json", "--quiet"]);
    let strip = |text: String| -> serde_json::Value {
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value.as_object_mut().unwrap().remove("checked_at");
        value
    };
    assert_eq!(strip(run(loud, 0)), strip(run(quiet, 0)));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_step_summary_is_appended_to_and_other_reports_are_written_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step_summary.md");
    let other = dir.path().join("report.md");
    std::fs::write(&summary, "# written by an earlier step\n").unwrap();
    std::fs::write(&other, "stale\n").unwrap();

    for _ in 0..2 {
        let mut cmd = demo();
        cmd.env("GITHUB_STEP_SUMMARY", &summary)
            .arg("--report")
            .arg(format!("markdown={}", summary.display()))
            .arg("--report")
            .arg(format!("markdown={}", other.display()));
        run(cmd, 1);
    }
    let summary = read(&summary);
    let other = read(&other);
    assert!(summary.starts_with("# written by an earlier step\n"));
    assert!(!other.contains("stale"));
    assert_eq!(
        summary,
        format!("# written by an earlier step\n{other}{other}")
    );
}

#[test]
fn without_github_the_same_path_is_written_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary.md");
    std::fs::write(&path, "old\n").unwrap();
    let mut cmd = demo();
    cmd.arg("--report")
        .arg(format!("markdown={}", path.display()));
    run(cmd, 1);
    assert!(!read(&path).contains("old"));
}

/// No line wider than `width` unless it is one unbreakable word, and no id
/// cut at a hyphen (a line ending in `i-`, `f-`, `c-`, …).
fn assert_fits(text: &str, width: usize) {
    let ids = regex::Regex::new(r"\b[a-z]{1,2}-[a-z0-9]{8,}\b").unwrap();
    let frame = regex::Regex::new(r"^\d+ │").unwrap();
    let cut = regex::Regex::new(r"\b[a-z]{1,2}-$").unwrap();
    for line in text.lines() {
        let trimmed = line.trim_end();
        assert!(!cut.is_match(trimmed), "an id is cut: {line:?}");
        if trimmed.chars().count() > width {
            // Only the manifest's lines with their labels, and diff lines,
            // may be wider: they are quoted as they are.
            let quoted = trimmed.trim_start();
            assert!(
                quoted.starts_with(['·', '+', '-', ' ']) || frame.is_match(quoted),
                "{width} columns: {line:?}"
            );
        }
    }
    for id in [
        "i-bp1web0000000002",
        "f-hz0demonginx0001",
        "f-hz0demoshopenv02",
    ] {
        assert!(ids.find_iter(text).any(|m| m.as_str() == id), "{id} whole");
    }
}

#[test]
fn the_report_fits_columns_and_keeps_ids_whole() {
    for width in [60, 120] {
        let mut cmd = demo();
        cmd.env("COLUMNS", width.to_string());
        let text = run(cmd, 1);
        assert_fits(&text, width);
        insta::assert_snapshot!(format!("demo_human_{width}_columns"), text);
    }
}

#[test]
fn off_a_terminal_the_report_is_80_columns() {
    let text = run(demo(), 1);
    assert_fits(&text, 80);
    let mut cmd = demo();
    cmd.env("COLUMNS", "80");
    assert_eq!(run(cmd, 1), text);
}
