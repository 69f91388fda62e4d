//! The human report at fleet scale, through the binary against a
//! synthesized simulator: targets whose findings say the same thing share
//! one block that lists their ids, at most `MAX_BLOCKS` blocks are drawn,
//! a last line counts the rest, and the JSON report keeps every finding.

use shipcheck::report::human::MAX_BLOCKS;
use shipcheck::secret::Secret;
use shipcheck::sim::{SimConfig, SynthSpec};

use crate::support::shipcheck;
use crate::support::sim::{KEY_ID, SECRET};
use crate::support::synth::{instance_id, manifest};

const INSTANCES: u64 = 100;
const FILES: u64 = 60;

#[tokio::test(flavor = "multi_thread")]
async fn every_drifted_task_is_one_block_and_the_rest_is_counted() {
    // Every task drifted (mode, owner or content) on all its 50 instances:
    // 2 tasks per file, 120 tasks, 6,000 findings in 120 groups.
    let config = SimConfig::new()
        .with_key(KEY_ID, Secret::new(SECRET))
        .synthesize(SynthSpec {
            seed: 7,
            instances: INSTANCES,
            files: FILES,
            commands: 0,
            per_call: 50,
            failure_rate: 0.0,
            drift_rate: 1.0,
            region: "cn-hangzhou".into(),
        });
    let server = shipcheck::sim::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), manifest(INSTANCES, FILES)).unwrap();
    let url = server.url();
    let output = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        move || {
            shipcheck()
                .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
                .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
                .current_dir(&dir)
                .args(["check", "fleet.yaml", "--endpoint", &url])
                .args(["--report", "json=report.json"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let human = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{human}");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let findings: usize = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["targets"].as_array().unwrap())
        .map(|t| t["findings"].as_array().unwrap().len())
        .sum();
    assert_eq!(findings, 6_000, "JSON keeps every finding");

    // One block per task, naming how many instances, then their ids.
    let blocks = human.matches("✘ 50 instances: drift, task ").count();
    assert_eq!(blocks, MAX_BLOCKS, "{human}");
    assert!(!human.contains("✘ instance i-sim"), "{human}");
    // The first block (app-00.conf's first task) lists its 50 ids, each
    // whole, ahead of the finding said of all of them.
    let first = human.find("✘ 50 instances").unwrap();
    let ids = &human[first..first + human[first..].find("\n\n").unwrap()];
    let listed: Vec<&str> = ids
        .lines()
        .skip(1)
        .flat_map(|line| line.split(", "))
        .map(|id| id.trim().trim_end_matches(','))
        .collect();
    let expected: Vec<String> = (0..50).map(instance_id).collect();
    assert_eq!(listed, expected, "{ids}");
    assert!(ids.lines().all(|l| l.chars().count() <= 80), "{ids}");
    let said_of_all = human.matches(" on 50 instances ").count();
    assert!(said_of_all >= MAX_BLOCKS, "{human}");
    assert!(
        human.contains(&format!(
            "… and {} more findings in {} groups; see --format json/sarif/junit for all",
            findings - MAX_BLOCKS * 50,
            120 - MAX_BLOCKS
        )),
        "{human}"
    );
    // The verdict still counts every finding.
    assert!(human.contains("drift: 6000 errors"), "{human}");
}
