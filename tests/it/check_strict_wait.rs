//! Verdicts that rest on evidence, through the real binary and simulator:
//! `--strict` sees the same undeclared deliveries whichever queries the
//! planner chose, and `--wait` gives a delivery that is not listed *yet* a
//! grace period instead of calling it missing at once.

use std::time::{Duration, Instant};

use serde_json::Value;
use shipcheck::secret::Secret;
use shipcheck::sim::SimConfig;

use crate::support::sim::{Client, ECS, KEY_ID, SECRET, V1, check_waiting};
use crate::support::{data, shipcheck};

/// `check --simulate` on the strict world with `manifest`, as JSON.
fn strict_check(manifest: &str, strict: bool) -> (i32, Value) {
    let mut cmd = shipcheck();
    cmd.current_dir(data("check/strict")).args([
        "check",
        manifest,
        "--simulate",
        "state.yaml",
        "--format",
        "json",
    ]);
    if strict {
        cmd.arg("--strict");
    }
    let output = cmd.output().unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "{manifest}: not JSON ({err}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), report)
}

/// Every (code, file, target) of the report, sorted.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut take = |list: &Value| {
        for f in list.as_array().into_iter().flatten() {
            found.push((
                f["code"].as_str().unwrap().to_owned(),
                f["file"].as_str().unwrap_or("").to_owned(),
                f["target"].as_str().unwrap_or("").to_owned(),
            ));
        }
    };
    for file in report["files"].as_array().unwrap() {
        for target in file["targets"].as_array().unwrap() {
            take(&target["findings"]);
        }
    }
    take(&report["other_findings"]);
    found.sort();
    found
}

#[test]
fn strict_finds_the_same_undeclared_deliveries_with_one_file_or_five() {
    let finding = |code: &str, file: &str, target: &str| {
        (
            code.to_owned(),
            format!("/etc/app/{file}"),
            target.to_owned(),
        )
    };
    let expected = |manifest: &str| {
        let mut undeclared = vec![
            finding("unexpected-delivery", "extra.conf", "i-bp1strict0000001"),
            finding("unexpected-instance", "f0.conf", "i-bp1strict0000009"),
        ];
        // With one file declared, its four neighbours are undeclared too.
        if manifest == "one.yaml" {
            for i in 1..5 {
                undeclared.push(finding(
                    "unexpected-delivery",
                    &format!("f{i}.conf"),
                    "i-bp1strict0000001",
                ));
            }
        }
        undeclared.sort();
        undeclared
    };
    for manifest in ["one.yaml", "five.yaml"] {
        // Without --strict, both are in sync.
        let (code, _) = strict_check(manifest, false);
        assert_eq!(code, 0, "{manifest} without --strict");
        // With it, both see both undeclared deliveries: the one-file plan
        // lists by name, the five-file plan by instance, and strict adds
        // the other kind to each.
        let (code, report) = strict_check(manifest, true);
        assert_eq!(code, 1, "{manifest} with --strict: {report:#}");
        assert_eq!(findings(&report), expected(manifest), "{manifest}");
        let coverage = &report["strict_coverage"];
        assert_eq!(
            coverage["instances"],
            serde_json::json!(["i-bp1strict0000001"])
        );
        assert_eq!(
            coverage["names"].as_array().unwrap().len(),
            if manifest == "one.yaml" { 1 } else { 5 }
        );
        assert_eq!(coverage["uncovered"], serde_json::json!([]));
    }
    // The human report says what strict covered (on a terminal wide
    // enough to keep the line whole).
    shipcheck()
        .current_dir(data("check/strict"))
        .env("COLUMNS", "160")
        .args(["check", "one.yaml", "--simulate", "state.yaml", "--strict"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "strict: every delivery on 1 declared instance and every delivery of 1 declared \
             file name was listed",
        ));
}

/// The grace world on a real port with the test key; the clock runs.
async fn grace_simulator() -> shipcheck::sim::SimServer {
    let config = SimConfig::from_state_file(&data("check/grace/state.yaml"))
        .unwrap()
        .with_key(KEY_ID, Secret::new(SECRET));
    shipcheck::sim::start(config).await.unwrap()
}

/// Runs `check --wait` against `url` off the async runtime.
fn wait_check(
    url: &str,
    extra: &[&str],
) -> tokio::task::JoinHandle<(std::process::Output, Duration)> {
    let url = url.to_owned();
    let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let output = shipcheck()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .current_dir(data("check/grace"))
            .args(["check", "manifest.yaml", "--endpoint", &url])
            .args(["--wait", "60s", "--interval", "200ms"])
            .args(&extra)
            .output()
            .unwrap();
        (output, started.elapsed())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_gives_a_delivery_sent_after_the_check_started_time_to_be_listed() {
    let server = grace_simulator().await;
    let check = wait_check(&server.url(), &["--grace", "20s"]);
    // The check is polling and sees no record; the delivery goes out now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    Client::new(&server)
        .v1(
            V1::Get,
            "SendFile",
            ECS,
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId.1", "i-bp1grace0000001"),
                ("Name", "late.conf"),
                ("TargetDir", "/etc/app"),
                ("Content", "listen 8080\n"),
            ],
        )
        .await
        .ok();
    let (output, elapsed) = check.await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 of 1 check in sync"), "{stdout}");
    // It ended when the delivery settled, not at the end of the grace period.
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_calls_a_delivery_that_never_appears_missing_after_the_grace_period() {
    let server = grace_simulator().await;
    let (output, elapsed) = wait_check(&server.url(), &["--grace", "2s"]).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("not-delivered"), "{stdout}");
    assert!(elapsed >= Duration::from_secs(2), "took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    // Without --wait there is nothing to wait for: missing at once.
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || {
        shipcheck()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .current_dir(data("check/grace"))
            .args(["check", "manifest.yaml", "--endpoint", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_polls_again_only_the_listing_that_can_still_change() {
    let (server, output) = check_waiting("check/wait_polls").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("not-delivered"), "{stdout}");
    // One listing per file on the first poll, then late.conf's alone.
    let polls = stderr.lines().filter(|l| l.contains("polling")).count() as u64;
    assert!(polls >= 3, "{polls} polls in 2 s at 200 ms:\n{stderr}");
    assert!(
        stderr.contains("asked=2 of=2") && stderr.contains("asked=1 of=2"),
        "{stderr}"
    );
    let listings = server.stats().requests["ecs/DescribeSendFileResults"];
    assert_eq!(listings, polls + 1, "{polls} polls:\n{stderr}");
}
