//! `shipcheck check` through the real binary: credentials and network
//! failures (exit 3), `--wait` (exit 4, or 0/1 before the deadline),
//! `--report` files, colour, regions, and the README's demo.

use predicates::prelude::*;
use shipcheck::secret::Secret;
use shipcheck::sim::{SimConfig, SimServer};

use crate::support::{data, repo, shipcheck};

const KEY_ID: &str = "LTAI-check-cli-test";
const SECRET: &str = "the-right-secret-2b8f0e";
const WRONG_SECRET: &str = "a-wrong-secret-9c4d71";

async fn demo_simulator() -> SimServer {
    let config = SimConfig::from_state_file(&repo("examples/demo/sim-state.yaml"))
        .unwrap()
        .with_key(KEY_ID, Secret::new(SECRET));
    shipcheck::sim::start(config).await.unwrap()
}

/// Runs the binary against `server` with this key pair, off the async runtime.
async fn check_against(server: &SimServer, key_id: &str, secret: &str) -> std::process::Output {
    let url = server.url();
    let (key_id, secret) = (key_id.to_owned(), secret.to_owned());
    tokio::task::spawn_blocking(move || {
        shipcheck()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", key_id)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
            .args(["check", "--endpoint", &url, "--max-attempts", "2"])
            .arg(repo("examples/demo/shipcheck.yaml"))
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn real_credentials_against_an_endpoint_check_for_real() {
    let server = demo_simulator().await;
    let output = check_against(&server, KEY_ID, SECRET).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("mode-mismatch"), "{stdout}");
    assert!(!stdout.contains(SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_exits_3_and_says_what_to_fix() {
    let server = demo_simulator().await;
    let output = check_against(&server, KEY_ID, WRONG_SECRET).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    // The report says every check is unverified, why, and what to fix.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("SignatureDoesNotMatch"), "{stdout}");
    assert!(
        stdout.to_lowercase().contains("secret"),
        "no hint about the secret: {stdout}"
    );
    assert!(stdout.contains("query failed after retries"), "{stdout}");
    assert!(!stdout.contains("in sync on"), "{stdout}");
    for text in [&stderr, &String::from_utf8_lossy(&output.stdout)] {
        assert!(
            !text.contains(WRONG_SECRET) && !text.contains(SECRET),
            "{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_access_key_exits_3() {
    let server = demo_simulator().await;
    let output = check_against(&server, "LTAI-nobody", SECRET).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("InvalidAccessKeyId.NotFound"), "{stderr}");
}

#[test]
fn an_unreachable_endpoint_exits_3_with_the_address() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    shipcheck()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args([
            "check",
            "--endpoint",
            &endpoint,
            "--max-attempts",
            "2",
            "--retry-budget",
            "3s",
        ])
        .arg(repo("examples/demo/shipcheck.yaml"))
        .assert()
        .code(3)
        .stdout(predicate::str::contains(format!("127.0.0.1:{port}")))
        .stdout(predicate::str::contains("unverified"))
        .stdout(predicate::str::contains(SECRET).not())
        .stderr(predicate::str::contains(SECRET).not());
}

#[test]
fn no_credentials_at_all_exits_3() {
    shipcheck()
        .args([
            "check",
            "--endpoint",
            "http://127.0.0.1:9",
            "--max-attempts",
            "1",
        ])
        .arg(repo("examples/demo/shipcheck.yaml"))
        .assert()
        .code(3)
        .stdout(predicate::str::contains("credentials"))
        .stdout(predicate::str::contains("unverified"));
}

fn wait_check(state: &str, wait: &str) -> assert_cmd::assert::Assert {
    shipcheck()
        .current_dir(data("check/wait"))
        .args([
            "check",
            "manifest.yaml",
            "--simulate",
            state,
            "--wait",
            wait,
            "--interval",
            "200ms",
        ])
        .assert()
}

#[test]
fn wait_gives_up_with_exit_4_when_deliveries_stay_running() {
    let assert = wait_check("stays-running.yaml", "2s").code(4);
    // One final report, however many polls it took.
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert_eq!(
        stdout.matches("shipcheck: manifest.yaml").count(),
        1,
        "{stdout}"
    );
    assert!(stdout.contains("delivery-pending"), "{stdout}");
}

#[test]
fn wait_returns_as_soon_as_deliveries_settle() {
    // The deadline is ten minutes; the command's own timeout (two minutes)
    // fails this test if the check waits for it.
    wait_check("settles.yaml", "10m")
        .code(0)
        .stdout(predicate::str::contains("2 of 2 checks in sync"));
}

#[test]
fn wait_fails_fast_on_a_terminal_failure() {
    wait_check("fails-fast.yaml", "10m")
        .code(1)
        .stdout(predicate::str::contains("delivery-failed"));
}

#[test]
fn without_wait_a_pending_delivery_cannot_be_verified() {
    shipcheck()
        .current_dir(data("check/wait"))
        .args(["check", "manifest.yaml", "--simulate", "stays-running.yaml"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("delivery-pending"));
}

#[test]
fn report_files_hold_what_the_format_prints() {
    let dir = tempfile::tempdir().unwrap();
    let demo = [
        "examples/demo/sim-state.yaml",
        "examples/demo/shipcheck.yaml",
    ]
    .map(repo);
    let run = |extra: &[String]| {
        shipcheck()
            .arg("check")
            .arg("--simulate")
            .args(&demo)
            .args(extra)
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone()
    };
    let json_path = dir.path().join("out/report.json");
    let junit_path = dir.path().join("out/junit.xml");
    let human = run(&[
        format!("--report=json={}", json_path.display()),
        format!("--report=junit={}", junit_path.display()),
    ]);
    assert!(String::from_utf8_lossy(&human).contains("drift:"));
    assert_eq!(
        std::fs::read(&json_path).unwrap(),
        run(&["--format=json".into()])
    );
    assert_eq!(
        std::fs::read(&junit_path).unwrap(),
        run(&["--format=junit".into()])
    );
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let demo = || {
        let mut cmd = shipcheck();
        cmd.args(["check", "--simulate"])
            .arg(repo("examples/demo/sim-state.yaml"))
            .arg(repo("examples/demo/shipcheck.yaml"));
        cmd
    };
    let escape = predicate::str::contains("\u{1b}[");
    demo()
        .arg("--color=always")
        .assert()
        .code(1)
        .stdout(escape.clone());
    demo()
        .arg("--color=never")
        .assert()
        .code(1)
        .stdout(escape.clone().not());
    // Not a terminal, and NO_COLOR set to an empty value: no colour either way.
    demo().assert().code(1).stdout(escape.clone().not());
    demo()
        .env("NO_COLOR", "")
        .assert()
        .code(1)
        .stdout(escape.not());
}

#[test]
fn a_manifest_without_region_needs_one_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("shipcheck.yaml");
    let text = std::fs::read_to_string(repo("examples/demo/shipcheck.yaml"))
        .unwrap()
        .replace("  region: cn-hangzhou\n", "")
        .replace(
            "content_file: files/",
            &format!("content_file: {}/", repo("examples/demo/files").display()),
        );
    std::fs::write(&manifest, text).unwrap();
    let check = || {
        let mut cmd = shipcheck();
        cmd.args(["check", "--simulate"])
            .arg(repo("examples/demo/sim-state.yaml"))
            .arg(&manifest)
            // The content sits outside the manifest's directory.
            .arg("--content-root")
            .arg(repo("examples/demo/files"));
        cmd
    };
    check()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest::no-region"))
        .stderr(predicate::str::contains("--region"));
    check().args(["--region", "cn-hangzhou"]).assert().code(1);
    check()
        .env("ALIBABA_CLOUD_REGION_ID", "cn-hangzhou")
        .assert()
        .code(1);
}

/// The README shows the demo's output; it must be what the demo prints.
#[test]
fn the_readme_shows_the_demo_output_as_it_is() {
    let output = shipcheck()
        .current_dir(repo(""))
        .args([
            "check",
            "--simulate",
            "examples/demo/sim-state.yaml",
            "examples/demo/shipcheck.yaml",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let output = String::from_utf8(output).unwrap();
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let start = readme
        .find("<!-- demo-output -->")
        .expect("README marks the demo output");
    let block = &readme[start..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    assert_eq!(block, output, "update the README's demo output");
}

/// Every format of the demo's report, through the real loader, client and
/// simulator: the folder name carries the exit code, like the other cases in
/// tests/data/golden/. Binary snapshots, so that each report is kept
/// byte for byte in a file with its format's extension (`json.snap.json`).
#[test]
fn demo_report_in_every_format_matches_its_golden_file() {
    for (format, extension) in [
        ("human", "txt"),
        ("json", "json"),
        ("junit", "xml"),
        ("sarif", "sarif"),
        ("markdown", "md"),
        ("github", "txt"),
    ] {
        let output = shipcheck()
            .current_dir(repo("examples/demo"))
            .args([
                "check",
                "--simulate",
                "sim-state.yaml",
                "shipcheck.yaml",
                "--format",
                format,
            ])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        insta::with_settings!({
            snapshot_path => "../data/golden/demo-exit1",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_binary_snapshot!(&format!("{format}.{extension}"), output);
        });
    }
}

#[test]
fn a_saved_report_of_an_expired_wait_renders_again_with_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("report.json");
    shipcheck()
        .current_dir(data("check/wait"))
        .args([
            "check",
            "manifest.yaml",
            "--simulate",
            "stays-running.yaml",
            "--wait",
            "1s",
            "--interval",
            "200ms",
            "--report",
        ])
        .arg(format!("json={}", saved.display()))
        .assert()
        .code(4);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(json["wait_expired"], true, "{json}");
    shipcheck()
        .args(["report", saved.to_str().unwrap(), "--format", "markdown"])
        .assert()
        .code(4);
}
