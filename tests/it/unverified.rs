//! Fail closed, through the real binary: answers that do not carry the
//! evidence a verdict needs end in `unverified` (exit 3 when nothing
//! drifted), naming what went unverified and why — never 0, and never 1
//! from garbage. A drifted world with one failed query still exits 1 and
//! lists the unverified part.
//!
//! The API is a local stand-in (`support/fake_cloud.rs`: signed HTTP on
//! 127.0.0.1:0) whose script answers each listing page with a canned body,
//! so each hostile answer can be aimed at one query and one page.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::fake_cloud::{Call, FakeApi, KEY_ID, Reply, SECRET};
use crate::support::shipcheck;

/// app.conf on i-1 and other.conf on i-2 (so each is listed by its own
/// `Name` query), and a command on i-1.
const MANIFEST: &str = r#"version: 1
defaults:
  region: cn-hangzhou
files:
  - name: app.conf
    target_dir: /etc/app
    content: "hello\n"
    instances: [i-1]
  - name: other.conf
    target_dir: /etc/app
    content: "other\n"
    instances: [i-2]
commands:
  - command_id: c-1
    instances: [i-1]
    exit_code: 0
    output: {contains: "done"}
"#;

/// A delivery of `name` to `instance` exactly as declared.
fn delivery(invoke_id: &str, name: &str, instance: &str, content: &str) -> Value {
    json!({
        "InvokeId": invoke_id, "Name": name, "TargetDir": "/etc/app",
        "Content": content, "ContentType": "PlainText",
        "FileMode": "0644", "FileOwner": "root", "FileGroup": "root", "Overwrite": false,
        "InvocationStatus": "Success", "CreationTime": "2026-11-20T08:00:00Z",
        "InvokeInstances": {"InvokeInstance": [{
            "InstanceId": instance, "InvocationStatus": "Success",
            "FinishTime": "2026-11-20T08:00:05Z"
        }]}
    })
}

fn page(records: Vec<Value>, next_token: &str) -> Reply {
    Reply::ok(json!({
        "RequestId": "r", "TotalCount": records.len(), "PageSize": 50, "NextToken": next_token,
        "Invocations": {"Invocation": records}
    }))
}

fn command_result(result: Value) -> Reply {
    Reply::ok(json!({"RequestId": "r", "Invocation": {
        "TotalCount": 1, "PageSize": 50, "NextToken": "",
        "InvocationResults": {"InvocationResult": [result]}
    }}))
}

fn finished_run() -> Value {
    json!({
        "InvokeId": "t-1", "CommandId": "c-1", "InstanceId": "i-1",
        "InvocationStatus": "Success", "InvokeRecordStatus": "Finished", "ExitCode": 0,
        "Output": "ZG9uZQo=", "StartTime": "2026-11-20T08:00:00Z",
        "FinishedTime": "2026-11-20T08:00:01Z"
    })
}

/// The in-sync world: every page as documented, every field there.
fn in_sync(call: &Call) -> Reply {
    match (call.action.as_str(), call.param("Name")) {
        ("DescribeSendFileResults", Some("app.conf")) => {
            page(vec![delivery("f-1", "app.conf", "i-1", "hello\n")], "")
        }
        ("DescribeSendFileResults", Some("other.conf")) => {
            page(vec![delivery("f-2", "other.conf", "i-2", "other\n")], "")
        }
        ("DescribeInvocationResults", _) => command_result(finished_run()),
        _ => Reply::error(400, "InvalidParameter", "unexpected call"),
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// Runs `shipcheck check` against a stand-in answering with `script`.
async fn check(script: impl Fn(&Call) -> Reply + Send + Sync + 'static, extra: &[&str]) -> Run {
    let api = FakeApi::start(script).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("shipcheck.yaml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let mut args = vec![
        "check".to_owned(),
        "--endpoint".to_owned(),
        api.url.clone(),
        "--max-attempts".to_owned(),
        "2".to_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args.push(manifest.display().to_string());
    let output = tokio::task::spawn_blocking(move || {
        shipcheck()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .current_dir(dir.path())
            .args(&args)
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The (file or command, target, outcome, reason) rows of a JSON report.
fn outcomes(report: &Value) -> Vec<(String, String, String, String)> {
    let mut rows = Vec::new();
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    for file in report["files"].as_array().unwrap() {
        for target in file["targets"].as_array().unwrap() {
            rows.push((
                text(&file["name"]),
                text(&target["id"]),
                text(&target["outcome"]),
                text(&target["reason"]),
            ));
        }
    }
    for command in report["commands"].as_array().unwrap() {
        for target in command["targets"].as_array().unwrap() {
            rows.push((
                text(&command["selector"]["id"]),
                text(&target["id"]),
                text(&target["outcome"]),
                text(&target["reason"]),
            ));
        }
    }
    rows
}

fn row(what: &str, target: &str, outcome: &str, reason: &str) -> (String, String, String, String) {
    (what.into(), target.into(), outcome.into(), reason.into())
}

/// Asserts exit 3 with exactly `what` unverified for `reason`, all else pass.
#[track_caller]
fn assert_unverified(run: &Run, what: &str, target: &str, reason: &str) {
    assert_eq!(run.code, Some(3), "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["verdict"], "unverified");
    assert_eq!(report["summary"]["unverified"], 1);
    assert_eq!(report["summary"]["drifted"], 0);
    for (w, t, outcome, why) in outcomes(&report) {
        if w == what && t == target {
            assert_eq!((outcome.as_str(), why.as_str()), ("unverified", reason));
        } else {
            assert_eq!(outcome, "pass", "{w} on {t}: {}", run.stdout);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_in_sync_world_passes() {
    let run = check(in_sync, &["--format", "json"]).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["summary"]["unverified"], 0);
}

/// Page 2 of app.conf's listing answers 200 without the wrapper: after the
/// retries, app.conf on i-1 is unverified (malformed-response); it is never
/// read as an empty last page.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_without_its_wrapper_is_malformed_not_the_end() {
    for garbage in [
        json!({}),
        json!([]),
        json!({"RequestId": "r"}),
        json!({"RequestId": "r", "Invocations": null}),
        json!({"RequestId": "r", "Data": {"Invocations": {"Invocation": []}}}),
    ] {
        let body = garbage.clone();
        let run = check(
            move |call| match (call.param("Name"), call.param("NextToken")) {
                (Some("app.conf"), None) => {
                    page(vec![delivery("f-0", "app.conf", "i-1", "old\n")], "page-2")
                }
                (Some("app.conf"), Some(_)) => Reply::ok(body.clone()),
                _ => in_sync(call),
            },
            &["--format", "json"],
        )
        .await;
        assert_unverified(&run, "app.conf", "i-1", "malformed-response");
        let message = run.json()["files"][0]["targets"][0]["findings"][0]["message"].clone();
        let message = message.as_str().unwrap();
        assert!(
            message.contains("DescribeSendFileResults Name=app.conf in cn-hangzhou")
                && message.contains("could not be read"),
            "{garbage}: {message}"
        );
    }
}

/// An error envelope without `Message` is an error, even on HTTP 200.
#[tokio::test(flavor = "multi_thread")]
async fn an_error_envelope_without_message_is_an_error() {
    let run = check(
        |call| match call.param("Name") {
            Some("other.conf") => Reply::ok(json!({"Code": "Forbidden.RAM", "RequestId": "r"})),
            _ => in_sync(call),
        },
        &["--format", "json"],
    )
    .await;
    assert_unverified(&run, "other.conf", "i-2", "query-failed");
    assert!(run.stdout.contains("Forbidden.RAM"), "{}", run.stdout);
}

/// One record spoiled in one field: that check is unverified, with the
/// reason, and the rest is judged.
#[tokio::test(flavor = "multi_thread")]
async fn records_without_the_fields_a_verdict_needs_are_unverified() {
    type Spoil = fn(&mut Value);
    let cases: [(&str, Spoil); 5] = [
        ("field-missing", |r| {
            r.as_object_mut().unwrap().remove("Content");
        }),
        ("field-missing", |r| r["Content"] = Value::Null),
        ("field-invalid", |r| r["FileMode"] = json!("rwx")),
        ("field-invalid", |r| {
            r["ContentType"] = json!("Base64");
            r["Content"] = json!("!!not base64!!");
        }),
        ("field-missing", |r| {
            r["InvokeInstances"]["InvokeInstance"][0]
                .as_object_mut()
                .unwrap()
                .remove("InvocationStatus");
        }),
    ];
    for (reason, spoil) in cases {
        let mut record = delivery("f-1", "app.conf", "i-1", "hello\n");
        spoil(&mut record);
        let run = check(
            move |call| match call.param("Name") {
                Some("app.conf") => page(vec![record.clone()], ""),
                _ => in_sync(call),
            },
            &["--format", "json"],
        )
        .await;
        assert_unverified(&run, "app.conf", "i-1", reason);
    }
}

/// A finished run without `ExitCode` or `Output`, or with undecodable
/// Output, leaves the command unverified on that instance.
#[tokio::test(flavor = "multi_thread")]
async fn finished_commands_without_exit_code_or_output_are_unverified() {
    type Spoil = fn(&mut Value);
    let cases: [(&str, Spoil); 3] = [
        ("field-missing", |r| {
            r.as_object_mut().unwrap().remove("ExitCode");
        }),
        ("field-missing", |r| r["Output"] = Value::Null),
        ("field-invalid", |r| r["Output"] = json!("@@@ not base64")),
    ];
    for (reason, spoil) in cases {
        let mut result = finished_run();
        spoil(&mut result);
        let run = check(
            move |call| match call.action.as_str() {
                "DescribeInvocationResults" => command_result(result.clone()),
                _ => in_sync(call),
            },
            &["--format", "json"],
        )
        .await;
        assert_unverified(&run, "c-1", "i-1", reason);
    }
}

/// Drift on app.conf and a failed listing for other.conf: exit 1, and the
/// report still lists other.conf as unverified.
#[tokio::test(flavor = "multi_thread")]
async fn drift_with_a_failed_query_exits_1_and_lists_the_gap() {
    let script = |call: &Call| match call.param("Name") {
        Some("app.conf") => page(vec![delivery("f-1", "app.conf", "i-1", "changed\n")], ""),
        Some("other.conf") => Reply::ok(json!([])),
        _ => in_sync(call),
    };
    let run = check(script, &["--format", "json"]).await;
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["verdict"], "drift");
    let rows = outcomes(&report);
    assert!(
        rows.contains(&row("app.conf", "i-1", "drift", "")),
        "{rows:?}"
    );
    assert!(
        rows.contains(&row(
            "other.conf",
            "i-2",
            "unverified",
            "malformed-response"
        )),
        "{rows:?}"
    );
    // The human report groups what was not verified by reason.
    let human = check(script, &[]).await;
    assert_eq!(human.code, Some(1));
    assert!(
        human.stdout.contains("unverified (1), by reason")
            && human
                .stdout
                .contains("malformed response (malformed-response):"),
        "{}",
        human.stdout
    );
}

/// Exit 3 prints the whole report in every format and writes `--report`
/// files: CI shows what went unverified exactly when the gate fails.
#[tokio::test(flavor = "multi_thread")]
async fn exit_3_reports_in_every_format_and_writes_report_files() {
    let script = |call: &Call| match call.param("Name") {
        Some("other.conf") => Reply::ok(json!({"RequestId": "r"})),
        _ => in_sync(call),
    };
    for (format, marks) in [
        (
            "json",
            &[
                "\"verdict\": \"unverified\"",
                "\"reason\": \"malformed-response\"",
            ][..],
        ),
        ("junit", &["<error", "unverified"][..]),
        (
            "sarif",
            &["\"ruleId\": \"unverified\"", "\"level\": \"warning\""][..],
        ),
        ("markdown", &["❔ unverified", "1 unverified"][..]),
        ("github", &["::warning file=", "title=unverified::"][..]),
        ("human", &["unverified (1), by reason", "1 unverified"][..]),
    ] {
        let run = check(script, &["--format", format]).await;
        assert_eq!(run.code, Some(3), "{format}: {}", run.stderr);
        for mark in marks {
            assert!(
                run.stdout.contains(mark),
                "{format} lacks {mark}: {}",
                run.stdout
            );
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("report.json");
    let sarif_path = dir.path().join("report.sarif");
    let run = check(
        script,
        &[
            "--report",
            &format!("json={}", json_path.display()),
            "--report",
            &format!("sarif={}", sarif_path.display()),
        ],
    )
    .await;
    assert_eq!(run.code, Some(3));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(written["verdict"], "unverified");
    assert!(Path::new(&sarif_path).exists());
}
