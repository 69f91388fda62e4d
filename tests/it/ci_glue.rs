//! The CI glue kept in the repository: the composite Action (`action.yml`)
//! and the pre-commit hook (`.pre-commit-hooks.yaml`) parse, name what
//! GitHub and pre-commit read, and do what they say: the Action's check
//! script runs the real binary, and `pre-commit try-repo` runs the hook
//! when pre-commit is installed.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::repo;

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(repo(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|err| panic!("{path}: {err}"))
}

#[test]
fn the_action_is_a_composite_with_the_documented_inputs() {
    let action = yaml("action.yml");
    assert!(action["name"].is_string() && action["description"].is_string());
    assert_eq!(action["runs"]["using"], "composite");
    for input in ["manifests", "format", "reports", "wait", "strict"] {
        assert!(
            action["inputs"][input]["description"].is_string(),
            "input {input}"
        );
    }
    let steps = action["runs"]["steps"].as_array().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        runs[0].starts_with("cargo install --locked --path \"$GITHUB_ACTION_PATH\""),
        "installs this checkout: {}",
        runs[0]
    );
    assert!(runs[1].contains("--report \"markdown=$GITHUB_STEP_SUMMARY\""));
    for step in steps {
        assert_eq!(step["shell"], "bash", "a composite step names its shell");
        assert!(
            step.get("uses").is_none(),
            "the Action uploads nothing by itself"
        );
    }
}

/// The Action's check step, run by bash as the runner would, on the demo
/// through `SHIPCHECK_SIMULATE` (the Action has no simulator input).
#[cfg(feature = "sim")]
#[test]
fn the_action_check_step_runs_and_appends_to_the_summary() {
    let action = yaml("action.yml");
    let step = &action["runs"]["steps"][1];
    let script = step["run"].as_str().unwrap();

    let temp = tempfile::tempdir().unwrap();
    let bin = temp.path().join("shipcheck/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        assert_cmd::cargo::cargo_bin("shipcheck"),
        bin.join("shipcheck"),
    )
    .unwrap();
    let summary = temp.path().join("summary.md");
    let outputs = temp.path().join("outputs");
    std::fs::write(&summary, "## earlier step\n").unwrap();
    let junit = temp.path().join("out/shipcheck.xml");

    let output = Command::new("bash")
        .arg("-e")
        .arg("-c")
        .arg(script)
        .current_dir(repo("examples/demo"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", temp.path())
        .env("RUNNER_TEMP", temp.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("SHIPCHECK_SIMULATE", "sim-state.yaml")
        .env("INPUT_MANIFESTS", "shipcheck.yaml\n")
        .env("INPUT_FORMAT", "github")
        .env("INPUT_REPORTS", format!("junit={}", junit.display()))
        .env("INPUT_WAIT", "")
        .env("INPUT_STRICT", "true")
        .env("INPUT_SUMMARY", "true")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "drift fails the step: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("::error "));
    assert_eq!(std::fs::read_to_string(&outputs).unwrap(), "exit-code=1\n");
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("## earlier step\n"),
        "appended: {summary}"
    );
    assert!(summary.contains("content-mismatch"), "{summary}");
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<testsuites")
    );
}

#[test]
fn the_pre_commit_hook_validates_manifests() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().unwrap();
    let hook = hooks
        .iter()
        .find(|h| h["id"] == "shipcheck-validate")
        .expect("the shipcheck-validate hook");
    assert_eq!(hook["entry"], "shipcheck validate");
    assert_eq!(hook["language"], "rust");
    for key in ["name", "description", "files"] {
        assert!(hook[key].is_string(), "{key}");
    }
    // pre-commit matches `files` with Python's re.search; this pattern
    // means the same in the regex crate.
    let files = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();
    for path in [
        "shipcheck.yaml",
        "deploy/shipcheck.yml",
        "ops/shipcheck-prod.yaml",
    ] {
        assert!(files.is_match(path), "{path} is a manifest");
    }
    for path in [
        "other.yaml",
        "shipcheck.yaml.bak",
        "shipcheck/config.yaml",
        "README.md",
    ] {
        assert!(!files.is_match(path), "{path} is not");
    }
}

/// Runs the hook the way a user's repository would, when `pre-commit` is
/// installed (`pip install pre-commit`); it builds shipcheck with cargo, so
/// it is slow and ignored by a bare `cargo test`.
#[test]
#[ignore = "needs pre-commit, and builds shipcheck in release mode"]
fn pre_commit_try_repo_runs_the_hook() {
    let pre_commit =
        std::env::var_os("SHIPCHECK_PRE_COMMIT").unwrap_or_else(|| "pre-commit".into());
    if Command::new(&pre_commit).arg("--version").output().is_err() {
        return; // pre-commit is not installed: nothing to run
    }
    let work = tempfile::tempdir().unwrap();
    let git = |dir: &Path, args: &[&str]| {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(work.path(), &["init", "-q"]);
    std::fs::write(
        work.path().join("shipcheck.yaml"),
        "version: 1\nfiles:\n  - name: a\n    target_dir: /etc\n    mode: \"9999\"\n    instances: [i-bp1a]\n",
    )
    .unwrap();
    git(work.path(), &["add", "."]);
    let run = |dir: &Path| {
        Command::new(&pre_commit)
            .current_dir(dir)
            .env("PRE_COMMIT_HOME", work.path().join(".cache"))
            .args(["try-repo"])
            .arg(repo(""))
            .args(["shipcheck-validate", "--all-files"])
            .output()
            .unwrap()
    };
    let failed = run(work.path());
    assert!(!failed.status.success(), "an invalid mode fails the hook");
    assert!(String::from_utf8_lossy(&failed.stdout).contains("invalid-mode"));
    std::fs::write(
        work.path().join("shipcheck.yaml"),
        "version: 1\nfiles:\n  - name: a\n    target_dir: /etc\n    mode: \"0644\"\n    instances: [i-bp1a]\n",
    )
    .unwrap();
    git(work.path(), &["add", "."]);
    let passed = run(work.path());
    assert!(
        passed.status.success(),
        "{}",
        String::from_utf8_lossy(&passed.stdout)
    );
}
