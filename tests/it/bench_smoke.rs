//! bench/sdk_compare.sh on a tiny fleet, so the benchmark cannot rot: the
//! official Python SDK scripts (sequential NextToken, 8-thread PageNumber)
//! and `shipcheck check` against one synthesized simulator. Nothing here is
//! timed; it checks that every client read the whole fleet.
//! scripts/test.sh builds the SDK virtualenv and sets SHIPCHECK_SDK_PYTHON.

use std::process::Command;

#[test]
#[ignore = "needs the Python SDK: run scripts/test.sh"]
fn the_sdk_comparison_benchmark_runs_on_a_tiny_fleet() {
    let python = std::env::var("SHIPCHECK_SDK_PYTHON")
        .expect("SHIPCHECK_SDK_PYTHON names the SDK virtualenv's python (scripts/test.sh sets it)");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/sdk_compare.sh");
    let output = Command::new("bash")
        .arg(&script)
        .args(["60", "3"])
        .env("REPS", "1")
        .env("LATENCY", "1ms")
        .env("SHIPCHECK_BIN", env!("CARGO_BIN_EXE_shipcheck"))
        .env("SHIPCHECK_SDK_PYTHON", python)
        .env("HOME", std::env::temp_dir().join("shipcheck-no-home"))
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // 60 instances × 3 files: 2 tasks per file, 180 (file, instance) results.
    assert!(
        stdout.contains(
            "outputs: 6 tasks, 180 results (sequential SDK), 6 tasks, 180 results (8 threads)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("shipcheck --format json: verdict pass, 180 checks, 180 passed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("180 of 180 checks in sync"),
        "the default-flags run did not check the fleet:\n{stdout}"
    );
    for client in [
        "NextToken, sequential",
        "PageNumber, 8 threads",
        "shipcheck check (default flags)",
        "shipcheck check --format json",
    ] {
        assert!(stdout.contains(client), "no row for {client}:\n{stdout}");
    }
    assert!(stdout.contains("wall vs 8-thread SDK:"), "{stdout}");
}
