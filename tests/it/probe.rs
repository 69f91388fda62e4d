//! `check --probe` and the fix, through the real binary against a simulator
//! started here (so its request counts can be read): one RunCommand per 50
//! instances, a truncated output is unverified, the fix plan sent back
//! through the API brings the next probe to exit 0, and the fix script is
//! valid bash. The per-finding cases are in tests/data/check/cases/disk-*.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;
use shipcheck::secret::Secret;
use shipcheck::sim::{SimConfig, SimServer};

use crate::support::sim::{Client, ECS, KEY_ID, SECRET, V1};
use crate::support::{data, shipcheck};

/// A world of `instances` instances, each holding `files` delivered files
/// (`/etc/probe/f<k>.conf`), `f0.conf` on the last one changed by hand
/// (mode and content) while its delivery record stays clean.
fn world(instances: usize, files: usize) -> (String, String) {
    let id = |n: usize| format!("i-bp1probe{n:07}");
    let mut state = String::from(
        "version: 1\nregion: cn-hangzhou\nclock:\n  now: \"2026-11-20T10:00:00Z\"\n\
         lifecycle: { pending: 0s, running: 0s }\ninstances:\n",
    );
    for n in 0..instances {
        let _ = writeln!(state, "  - id: {}", id(n));
    }
    // Under the last instance listed.
    let _ = writeln!(
        state,
        "    files:\n      - {{ path: /etc/probe/f0.conf, mode: \"0600\", content: \"edited\\n\" }}"
    );
    state.push_str("deliveries:\n");
    let mut manifest = String::from("version: 1\ndefaults:\n  region: cn-hangzhou\nfiles:\n");
    for k in 0..files {
        let _ = writeln!(
            state,
            "  - {{ invoke_id: f-hz0probe{k:07}, name: f{k}.conf, target_dir: /etc/probe, \
             content: \"value {k}\\n\", overwrite: true, creation_time: \"2026-11-20T09:00:00Z\", \
             targets: [{}] }}",
            (0..instances)
                .map(|n| format!("{{ id: {} }}", id(n)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            manifest,
            "  - name: f{k}.conf\n    target_dir: /etc/probe\n    overwrite: true\n    \
             content: \"value {k}\\n\"\n    instances: [{}]",
            (0..instances).map(id).collect::<Vec<_>>().join(", ")
        );
    }
    (state, manifest)
}

async fn simulator(state: &str) -> SimServer {
    let config = SimConfig::from_state_str(state, Path::new("probe-state.yaml"))
        .unwrap()
        .with_key(KEY_ID, Secret::new(SECRET));
    crate::support::sim::start(config).await
}

/// `check --probe` against `server` on `manifest`, with `extra` flags.
async fn check(server: &SimServer, manifest: &Path, extra: &[&str]) -> (i32, Value) {
    let url = server.url();
    let manifest = manifest.to_owned();
    let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        shipcheck()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .args([
                "check",
                "--endpoint",
                &url,
                "--probe",
                "--interval",
                "100ms",
            ])
            .args(["--format", "json"])
            .arg(&manifest)
            .args(&extra)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), report)
}

fn codes(report: &Value) -> Vec<String> {
    let mut codes: Vec<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["targets"].as_array().unwrap())
        .flat_map(|t| t["findings"].as_array().unwrap())
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

fn write_manifest(dir: &Path, manifest: &str) -> std::path::PathBuf {
    let path = dir.join("shipcheck.yaml");
    std::fs::write(&path, manifest).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn one_run_command_per_50_instances_and_the_fix_plan_brings_the_probe_to_0() {
    let (state, manifest) = world(120, 2);
    let server = simulator(&state).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), &manifest);
    let (plan_path, script_path) = (dir.path().join("fix.json"), dir.path().join("fix.sh"));

    let before = server.stats();
    let (exit, report) = check(
        &server,
        &manifest,
        &[
            "--fix-plan",
            plan_path.to_str().unwrap(),
            "--fix-script",
            script_path.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(exit, 1, "{report}");
    assert_eq!(
        codes(&report),
        ["disk-content-mismatch", "disk-mode-mismatch"],
        "only the disk drifted"
    );
    let runs =
        |stats: &shipcheck::sim::Stats| stats.requests.get("ecs/RunCommand").copied().unwrap_or(0);
    // 120 instances sharing one list of files: ceil(120 / 50) runs.
    assert_eq!(runs(&server.stats()) - runs(&before), 3);

    let script = std::fs::read_to_string(&script_path).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script_path)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}\n{script}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    assert!(
        script.contains("aliyun ecs SendFile") && script.contains("--Overwrite true"),
        "{script}"
    );

    // Issue the plan's calls as a client would, then probe again.
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let calls = plan["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "one instance drifted: {plan}");
    let client = Client::new(&server);
    for call in calls {
        assert_eq!(call["action"], "SendFile");
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in call["parameters"].as_object().unwrap() {
            match value {
                Value::Array(ids) => {
                    params.extend(ids.iter().enumerate().map(|(i, id)| {
                        (format!("{name}.{}", i + 1), id.as_str().unwrap().to_owned())
                    }))
                }
                Value::String(s) => params.push((name.clone(), s.clone())),
                other => params.push((name.clone(), other.to_string())),
            }
        }
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        client.v1(V1::PostForm, "SendFile", ECS, &params).await.ok();
    }
    let (exit, report) = check(&server, &manifest, &[]).await;
    assert_eq!(exit, 0, "{report}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the Python SDK: run scripts/test.sh"]
async fn the_fix_plan_sent_by_the_official_python_sdk_brings_the_probe_to_0() {
    let (state, manifest) = world(60, 2);
    let server = simulator(&state).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), &manifest);
    let plan_path = dir.path().join("fix.json");
    let (exit, report) = check(
        &server,
        &manifest,
        &["--fix-plan", plan_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(exit, 1, "{report}");

    let sent = crate::support::sim::run_sdk_script(
        &server,
        "sdk/sim_fix_plan.py",
        vec![("SIM_FIX_PLAN", plan_path.clone().into())],
    )
    .await;
    assert_eq!(sent["sent"], 1, "one instance drifted");

    let (exit, report) = check(&server, &manifest, &[]).await;
    assert_eq!(exit, 0, "{report}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_probe_output_is_unverified_never_a_pass() {
    // 400 paths answer more than the API's 24 KB of output.
    let (state, manifest) = world(1, 400);
    let server = simulator(&state).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), &manifest);
    let (exit, report) = check(&server, &manifest, &[]).await;
    assert_eq!(exit, 3, "{report}");
    let text = report.to_string();
    assert!(text.contains("probe-output-incomplete"), "{text}");
    assert!(text.contains("dropped"), "{text}");
    server.shutdown().await;
}

#[test]
fn disk_findings_are_labelled_on_the_declaring_line() {
    let output = shipcheck()
        .current_dir(data("check/cases/disk-drift-probe-exit1"))
        .args([
            "check",
            "manifest.yaml",
            "--simulate",
            "state.yaml",
            "--probe",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut lines: Vec<(String, u64)> = report["files"][0]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["findings"].as_array().unwrap())
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            ("disk-content-mismatch".to_owned(), 13),
            ("disk-group-mismatch".to_owned(), 10),
            ("disk-missing".to_owned(), 6),
            ("disk-mode-mismatch".to_owned(), 8),
            ("disk-owner-mismatch".to_owned(), 9),
        ]
    );
}

#[test]
fn dry_run_prints_the_script_calls_and_ram_actions_without_credentials() {
    let output = shipcheck()
        .current_dir(data("check/cases/disk-drift-probe-exit1"))
        .args(["check", "manifest.yaml", "--probe", "--dry-run"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for needed in [
        "RunCommand",
        "DescribeInvocationResults",
        "RAM actions: ecs:DescribeInvocationResults, ecs:DescribeSendFileResults, ecs:RunCommand",
        "# shipcheck-probe v1",
        "for p in '/etc/app/app.conf'; do",
        "InstanceId.5: i-bp1disk00000005",
    ] {
        assert!(stdout.contains(needed), "{needed}: {stdout}");
    }
    // `plan --probe` is the same plan, and names the probe in JSON too.
    let output = shipcheck()
        .current_dir(data("check/cases/disk-drift-probe-exit1"))
        .args(["plan", "manifest.yaml", "--probe", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["probe"]["calls"][0]["action"], "RunCommand", "{plan}");
    assert!(
        plan["ram_actions"]
            .as_array()
            .unwrap()
            .contains(&"ecs:RunCommand".into()),
        "{plan}"
    );
}

#[test]
fn the_fix_files_are_written_when_the_api_cannot_be_reached() {
    let dir = tempfile::tempdir().unwrap();
    let (plan, script) = (dir.path().join("fix.json"), dir.path().join("fix.sh"));
    let output = shipcheck()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .current_dir(data("check/cases/disk-drift-probe-exit1"))
        .args([
            "check",
            "manifest.yaml",
            "--probe",
            "--endpoint",
            "http://127.0.0.1:9",
        ])
        .args(["--max-attempts", "1", "--retry-budget", "1s"])
        .arg("--fix-plan")
        .arg(&plan)
        .arg("--fix-script")
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(plan["calls"], serde_json::json!([]));
    assert!(
        std::fs::read_to_string(&script)
            .unwrap()
            .contains("Nothing to send")
    );
}
