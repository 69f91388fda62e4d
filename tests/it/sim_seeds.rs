//! Each API document's sample response, served back verbatim from a state
//! file and compared field by field with tests/data/fixtures/seeds/*.json.

use crate::support::fixture;
use crate::support::sim::{Client, ECS, EFLO, V1, config, differences, start};

fn seed(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(&format!("seeds/{name}"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[track_caller]
fn assert_verbatim(expected: &serde_json::Value, actual: &serde_json::Value) {
    let differences = differences(expected, actual);
    assert!(
        differences.is_empty(),
        "the answer differs from the sample:\n{}",
        differences.join("\n")
    );
}

#[tokio::test]
async fn ecs_describe_send_file_results_en_and_zh_samples() {
    let server = start(config("sim/seed-ecs-describe-send-file-results.yaml")).await;
    let client = Client::new(&server);
    // The documents' sample request.
    let answer = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &[
                ("RegionId", "cn-hangzhou"),
                ("InvokeId", "f-hz0vk9****"),
                ("Name", "test.txt"),
                ("InstanceId", "i-bp1hsglsw****"),
                ("PageNumber", "1"),
                ("PageSize", "10"),
            ],
        )
        .await
        .ok();
    assert_verbatim(&seed("ecs-describe-send-file-results.en.json"), &answer);
    assert_verbatim(&seed("ecs-describe-send-file-results.zh.json"), &answer);
}

#[tokio::test]
async fn ecs_describe_send_file_results_zh_tw_sample() {
    let server = start(config("sim/seed-ecs-describe-send-file-results-zh-tw.yaml")).await;
    let client = Client::new(&server);
    let answer = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &[("RegionId", "cn-hangzhou"), ("MaxResults", "1")],
        )
        .await
        .ok();
    assert_verbatim(&seed("ecs-describe-send-file-results.zh-tw.json"), &answer);
    // The pinned token really continues the listing.
    let next = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &[
                ("RegionId", "cn-hangzhou"),
                ("MaxResults", "1"),
                ("NextToken", "AAAAAdDWBF2"),
            ],
        )
        .await
        .ok();
    assert_eq!(next["Invocations"]["Invocation"][0]["Name"], "older.txt");
    assert!(next.get("NextToken").is_none(), "{next}");
}

#[tokio::test]
async fn eflo_describe_send_file_results_sample() {
    let server = start(config("sim/seed-eflo-describe-send-file-results.yaml")).await;
    let client = Client::new(&server);
    // EFLO-PY sends the business parameters in a form body.
    let answer = client
        .v1(
            V1::PostForm,
            "DescribeSendFileResults",
            EFLO,
            &[("InvokeId", "t-bj038i0d6r8zoqo")],
        )
        .await
        .ok();
    assert_verbatim(&seed("eflo-describe-send-file-results.json"), &answer);
}

#[tokio::test]
async fn ecs_describe_invocation_results_sample() {
    let server = start(config("sim/seed-ecs-describe-invocation-results.yaml")).await;
    let client = Client::new(&server);
    let answer = client
        .v1(
            V1::Get,
            "DescribeInvocationResults",
            ECS,
            &[
                ("RegionId", "cn-hangzhou"),
                ("InstanceId", "i-bp1i7gg30r52z2em****"),
                ("PageNumber", "1"),
                ("PageSize", "1"),
            ],
        )
        .await
        .ok();
    assert_verbatim(&seed("ecs-describe-invocation-results.json"), &answer);
}

#[test]
fn the_comparison_sees_a_changed_field() {
    // Guards the guard: a one-field change must be reported with its path.
    let expected = seed("eflo-describe-send-file-results.json");
    let mut changed = expected.clone();
    changed["Invocations"]["Invocation"][0]["NodeCount"] = serde_json::json!(2);
    assert_eq!(
        differences(&expected, &changed),
        ["/Invocations/Invocation/0/NodeCount: expected 3, got 2"]
    );
}
