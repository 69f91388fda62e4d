//! Small fleets read their region whole: through the binary against a
//! synthesized simulator, a region whose `TotalCount` fills fewer pages than
//! its files' own `Name` listings is read by one unfiltered listing (its
//! first page, read for the count, not read again), and a region full of
//! other tasks keeps the per-file listings. The verdict is the same either
//! way, and `--wait` reads the region anew on every later poll.

use shipcheck::secret::Secret;
use shipcheck::sim::{SimConfig, SimServer, SynthSpec};

use crate::support::shipcheck;
use crate::support::sim::{KEY_ID, SECRET, check_waiting};
use crate::support::synth::manifest;

async fn fleet(instances: u64, files: u64) -> SimServer {
    let config = SimConfig::new()
        .with_key(KEY_ID, Secret::new(SECRET))
        .synthesize(SynthSpec {
            seed: 11,
            instances,
            files,
            commands: 0,
            per_call: 50,
            failure_rate: 0.0,
            drift_rate: 0.0,
            region: "cn-hangzhou".into(),
        });
    shipcheck::sim::start(config).await.unwrap()
}

/// Checks `yaml` against `server`: the exit code, stdout, and how many
/// `DescribeSendFileResults` requests the check made.
async fn check(server: &SimServer, yaml: String) -> (Option<i32>, String, u64) {
    let before = listings(server);
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fleet.yaml"), yaml).unwrap();
        shipcheck()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .current_dir(dir.path())
            .args(["check", "fleet.yaml", "--endpoint", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (output.status.code(), stdout, listings(server) - before)
}

fn listings(server: &SimServer) -> u64 {
    server
        .stats()
        .requests
        .get("ecs/DescribeSendFileResults")
        .copied()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_small_fleet_is_read_in_as_many_pages_as_its_tasks_fill() {
    // 100 instances × 10 files, 50 instances a task: 20 tasks, one page.
    // By name it took 10 listings; now one page, whose count says it holds
    // every task.
    let server = fleet(100, 10).await;
    let (code, stdout, requests) = check(&server, manifest(100, 10)).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("1000 of 1000 checks in sync"), "{stdout}");
    assert_eq!(requests, 1, "one page of 20 tasks");

    // 300 instances × 10 files: 60 tasks, two pages; the first, read to
    // count them, is not read again.
    let server = fleet(300, 10).await;
    let (code, stdout, requests) = check(&server, manifest(300, 10)).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("3000 of 3000 checks in sync"), "{stdout}");
    assert_eq!(requests, 2, "two pages of 60 tasks");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_full_of_other_tasks_is_still_read_by_file() {
    // 5,000 instances × 3 files: 300 tasks (6 pages). The manifest declares
    // the 3 files on 50 instances only, so by its own estimate a whole
    // listing might be cheaper than 3 listings; its first page's count (300
    // tasks, 6 pages) says it is not, and the files are listed by name: 100
    // tasks each, 2 pages and token style's re-read of the first.
    let server = fleet(5_000, 3).await;
    let (code, stdout, requests) = check(&server, manifest(50, 3)).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("150 of 150 checks in sync"), "{stdout}");
    assert_eq!(
        requests,
        1 + 3 * 3,
        "the count, then three listings by name"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_read_whole_is_read_again_on_every_poll() {
    let (server, output) = check_waiting("check/wait_whole_region").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("not-delivered"), "{stdout}");
    assert!(stderr.contains("listing the region whole"), "{stderr}");
    // One query, asked on every poll; the first poll starts from the page
    // read to size the region, every later one reads it anew.
    let polls = stderr.lines().filter(|l| l.contains("polling")).count() as u64;
    assert!(polls >= 3, "{polls} polls in 2 s at 200 ms:\n{stderr}");
    assert!(!stderr.contains("asked=0"), "{stderr}");
    let listings = server.stats().requests["ecs/DescribeSendFileResults"];
    assert_eq!(listings, polls, "{polls} polls:\n{stderr}");
}
