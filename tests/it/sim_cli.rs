//! `shipcheck sim` as a user runs it: the real binary, its first stdout
//! line, `/_sim/stats`, the counts printed on SIGTERM, and its errors.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;

use crate::support::fixture;
use crate::support::sim::{self, Client, ECS, V1};

/// Kills the child if a test fails before it does.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sim_serves_until_terminated_and_prints_its_counts() {
    let child = Command::new(cargo_bin("shipcheck"))
        .args(["sim", "--state"])
        .arg(fixture("sim/rules.yaml"))
        .args([
            "--synthesize",
            "--instances",
            "120",
            "--files",
            "2",
            "--seed",
            "3",
        ])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", sim::KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", sim::SECRET)
        .env("RUST_LOG", "shipcheck=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .trim()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let _port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stats = runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client {
            http: reqwest::Client::new(),
            base: url.clone(),
            key_id: sim::KEY_ID.to_owned(),
            secret: sim::SECRET.to_owned(),
            token: None,
        };
        // The key from the environment is accepted; the synthetic fleet
        // (120 instances × 2 files in batches of 50) and the state's
        // fresh delivery are listed.
        let json = client
            .v1(
                V1::Get,
                "DescribeSendFileResults",
                ECS,
                &[("RegionId", "cn-hangzhou")],
            )
            .await
            .ok();
        assert_eq!(json["TotalCount"], 7, "{json}");
        client.stats().await
    });
    assert_eq!(stats["requests"]["ecs/DescribeSendFileResults"], 1);

    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.0.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let printed: serde_json::Value = serde_json::from_str(rest.trim()).unwrap();
    assert_eq!(printed, stats);

    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("served"),
        "requests are logged at info: {stderr}"
    );
    assert!(!stderr.contains(sim::SECRET), "a secret reached the log");
    assert!(
        !stderr.contains("Signature="),
        "a signature reached the log"
    );
}

#[test]
fn an_invalid_state_is_refused_with_every_problem_and_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.yaml");
    std::fs::write(
        &state,
        "version: 1\nflavour: mild\ninstances:\n  - id: i-a\n    agent: sleepy\ndeliveries:\n  - name: x\n",
    )
    .unwrap();
    assert_cmd::Command::new(cargo_bin("shipcheck"))
        .args(["sim", "--state"])
        .arg(&state)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "state.yaml is not a valid simulator state",
        ))
        .stderr(predicate::str::contains("/instances/0/agent"))
        .stderr(predicate::str::contains("/deliveries/0"))
        .stderr(predicate::str::contains("flavour"))
        .stderr(predicate::str::contains("sim-state.v1.schema.json"));
}

#[test]
fn a_missing_state_file_is_named() {
    assert_cmd::Command::new(cargo_bin("shipcheck"))
        .args(["sim", "--state", "no/such/state.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "could not read the simulator state no/such/state.yaml",
        ));
}

#[test]
fn bad_options_are_refused() {
    assert_cmd::Command::new(cargo_bin("shipcheck"))
        .args(["sim", "--throttle", "1.5"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--throttle 1.5 is not a fraction"));
    assert_cmd::Command::new(cargo_bin("shipcheck"))
        .args(["sim", "--listen", "nowhere"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--listen `nowhere`"));
    assert_cmd::Command::new(cargo_bin("shipcheck"))
        .args(["sim", "--fault-script", "throttle,explode"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("explode"));
}

#[test]
fn a_state_error_never_quotes_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.yaml");
    std::fs::write(
        &state,
        "version: 1\ncredentials:\n  - access_key_id: a\n    access_key_secret: hunter2-secret\nretention: forever\n",
    )
    .unwrap();
    assert_cmd::Command::new(cargo_bin("shipcheck"))
        .args(["sim", "--state"])
        .arg(&state)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`forever` is not a duration"))
        .stderr(predicate::str::contains("line 5"))
        .stderr(predicate::str::contains("hunter2").not());
    std::fs::write(
        &state,
        "version: 1\ncredentials:\n  - access_key_id: a\n    access_key_secret: 8675309\n",
    )
    .unwrap();
    assert_cmd::Command::new(cargo_bin("shipcheck"))
        .args(["sim", "--state"])
        .arg(&state)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/credentials/0/access_key_secret"))
        .stderr(predicate::str::contains("8675309").not());
}
