//! `shipcheck plan` through the real binary: the queries, regions and RAM
//! actions of a check, printed without credentials and without a request.

use std::io::ErrorKind;
use std::net::TcpListener;

use crate::support::{data, repo, shipcheck};

/// A port on which something listens and never answers, and the URL that
/// points at it: a request sent there would be seen.
fn listening_stand_in() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

fn assert_no_connection(listener: &TcpListener) {
    match listener.accept() {
        Err(err) if err.kind() == ErrorKind::WouldBlock => {}
        other => panic!("plan connected to the endpoint: {other:?}"),
    }
}

fn run_plan(args: &[&str], endpoint: &str) -> (i32, String, String) {
    let output = shipcheck()
        .arg("plan")
        .args(args)
        .args(["--endpoint", endpoint])
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn plan_prints_the_queries_without_credentials_or_a_request() {
    let (listener, url) = listening_stand_in();
    let manifest = repo("examples/demo/shipcheck.yaml");
    let (code, stdout, stderr) = run_plan(&[manifest.to_str().unwrap()], &url);
    assert_eq!(code, 0, "{stderr}");
    assert_no_connection(&listener);
    assert!(stdout.contains("no API call made"), "{stdout}");
    assert!(
        stdout.contains("ecs DescribeInvocationResults CommandId=c-hz0reloadnginx01 (cn-hangzhou)"),
        "{stdout}"
    );
    assert!(stdout.contains("regions: cn-hangzhou"), "{stdout}");
    assert!(
        stdout.contains("RAM actions: ecs:DescribeInvocationResults, ecs:DescribeSendFileResults"),
        "{stdout}"
    );
}

#[test]
fn plan_json_names_actions_filters_regions_and_permissions() {
    // An endpoint nothing listens on: still a plan, exit 0.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let demo = repo("examples/demo/shipcheck.yaml");
    let eflo = data("check/cases/seed-eflo-exit0/manifest.yaml");
    let (code, stdout, stderr) = run_plan(
        &[
            demo.to_str().unwrap(),
            eflo.to_str().unwrap(),
            "--format",
            "json",
            "--strict",
        ],
        &closed,
    );
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["strict"], true);
    assert_eq!(
        plan["regions"],
        serde_json::json!(["cn-hangzhou", "cn-wulanchabu"])
    );
    assert_eq!(
        plan["ram_actions"],
        serde_json::json!([
            "ecs:DescribeInvocationResults",
            "ecs:DescribeSendFileResults",
            "eflo:DescribeSendFileResults"
        ])
    );
    let queries = plan["queries"].as_array().unwrap();
    assert!(queries.contains(&serde_json::json!({
        "product": "eflo",
        "action": "DescribeSendFileResults",
        "region": "cn-wulanchabu",
        "filters": { "InvokeId": "t-bj038i0d6r8zoqo" }
    })));
    // Strict lists each declared instance whole and each name everywhere.
    let by = |filter: &str| {
        queries
            .iter()
            .filter(|q| q["filters"].get(filter).is_some() && q["product"] == "ecs")
            .count()
    };
    assert_eq!(by("InstanceId"), 3, "the three web servers");
    assert_eq!(by("Name"), 3);
    assert!(plan["estimated_pages"].as_u64().unwrap() >= queries.len() as u64);
}

#[test]
fn plan_takes_the_narrowing_and_refuses_one_that_matches_nothing() {
    let (listener, url) = listening_stand_in();
    let demo = repo("examples/demo/shipcheck.yaml");
    let demo = demo.to_str().unwrap();
    let (code, stdout, stderr) =
        run_plan(&[demo, "--only", "/etc/nginx/*", "--format", "json"], &url);
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        plan["narrowed"]["only"],
        serde_json::json!(["/etc/nginx/*"])
    );
    assert_eq!(
        plan["ram_actions"],
        serde_json::json!(["ecs:DescribeSendFileResults"]),
        "--only checks no commands"
    );

    let (code, _, stderr) = run_plan(&[demo, "--instance", "i-nowhere"], &url);
    assert_eq!(code, 2);
    assert!(stderr.contains("i-nowhere"), "{stderr}");
    assert_no_connection(&listener);
}

#[test]
fn plan_refuses_report_formats_it_cannot_print() {
    let demo = repo("examples/demo/shipcheck.yaml");
    let output = shipcheck()
        .args(["plan", demo.to_str().unwrap(), "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn plan_names_the_instance_listings_a_tag_set_starts_with() {
    let (listener, url) = listening_stand_in();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("shipcheck.yaml");
    std::fs::write(
        &manifest,
        "version: 1\ndefaults:\n  region: cn-hangzhou\ninstance_sets:\n  web:\n    tags: {role: web}\nfiles:\n  - name: app.conf\n    target_dir: /etc/app\n    content: \"hello\\n\"\n    instances: [web]\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_plan(&[manifest.to_str().unwrap(), "--format", "json"], &url);
    assert_eq!(code, 0, "{stderr}");
    assert_no_connection(&listener);
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        plan["instance_sets"],
        serde_json::json!([{"name": "web", "region": "cn-hangzhou", "filters": "tags role=web; status Running"}])
    );
    let actions = plan["ram_actions"].as_array().unwrap();
    assert!(actions.contains(&"ecs:DescribeInstances".into()), "{plan}");
}
