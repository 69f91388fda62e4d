//! Every seed's JSON sample parses, served verbatim over HTTP, and quirky
//! JSON in the Go SDK's fuzzy style is read the way the Go SDK reads it.

use serde_json::{Value, json};
use shipcheck::cloud::wire::{InvocationResultsResponse, SendFileResultsResponse};
use shipcheck::cloud::{InvocationFilter, SendFileFilter};
use shipcheck::observe::{ContentType, TargetStatus};
use shipcheck::protocol::Provider;

use crate::support::fake_cloud::*;
use crate::support::fixture;

fn seed(name: &str) -> Value {
    let path = fixture(&format!("seeds/{name}"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const ECS_SEEDS: &[&str] = &[
    "ecs-describe-send-file-results.en.json",
    "ecs-describe-send-file-results.zh.json",
    "ecs-describe-send-file-results.zh-tw.json",
];

#[test]
fn every_seed_parses_into_wire_types() {
    for name in ECS_SEEDS
        .iter()
        .chain(["eflo-describe-send-file-results.json"].iter())
    {
        let page: SendFileResultsResponse = serde_json::from_value(seed(name)).unwrap();
        assert!(page.request_id.is_some(), "{name}");
        assert_eq!(page.invocations.0.len(), 1, "{name}");
    }
    let results: InvocationResultsResponse =
        serde_json::from_value(seed("ecs-describe-invocation-results.json")).unwrap();
    let inv = results.invocation.unwrap();
    assert_eq!((inv.total_count, inv.page_size), (Some(5), Some(1)));
    assert_eq!(inv.results.0[0].exit_code, Some(1));
}

#[tokio::test]
async fn ecs_send_file_seeds_normalise_over_http() {
    for name in ECS_SEEDS {
        let body = seed(name);
        let api = FakeApi::start(move |call| {
            if call.param("NextToken").is_some() {
                Reply::ok(json!({"Invocations": {"Invocation": []}}))
            } else {
                Reply::ok(body.clone())
            }
        })
        .await;
        let mut got = Vec::new();
        api.client()
            .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |p| {
                got.extend(p)
            })
            .await
            .unwrap();
        assert_eq!(got.len(), 1, "{name}");
        let f = &got[0];
        assert_eq!(f.provider, Provider::Ecs);
        assert_eq!(f.name, "test.txt");
        assert_eq!(
            f.overwrite,
            Some(false),
            "{name}: false and \"false\" alike"
        );
        assert_eq!(f.targets.len(), 1);
        assert_eq!(f.targets[0].status, TargetStatus::Success);
        assert!(f.created.is_some() && f.targets[0].finished.is_some());
        if name.contains("zh-tw") {
            assert_eq!(f.mode.as_deref(), Some("777"));
            assert_eq!(f.tags, vec![("owner".to_owned(), "zhangsan".to_owned())]);
            assert_eq!(f.targets[0].error_code(), Some("InstanceNotExists"));
        } else {
            assert_eq!(f.mode.as_deref(), Some("0644"));
            assert_eq!(f.targets[0].error_code(), None, "empty ErrorCode is none");
            assert_eq!(f.target_count, Some(1));
        }
    }
}

#[tokio::test]
async fn the_invocation_results_seed_normalises_over_http() {
    let body = seed("ecs-describe-invocation-results.json");
    let api = FakeApi::start(move |_| Reply::ok(body.clone())).await;
    let mut got = Vec::new();
    let filter = InvocationFilter::default();
    api.client()
        .describe_invocation_results("cn-hangzhou", &filter, |p| got.extend(p))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(
        (r.exit_code, r.error_code.as_deref()),
        (Some(1), Some("ExitCodeNonzero"))
    );
    assert_eq!(r.output.value().map(Vec::as_slice), Some(&b""[..]));
    assert_eq!(r.record_status.as_deref(), Some("Finished"));
    assert!(r.finished.is_some(), "FinishedTime, not FinishTime");
}

#[tokio::test]
async fn the_eflo_seed_normalises_over_http() {
    let body = seed("eflo-describe-send-file-results.json");
    let api = FakeApi::start(move |_| Reply::ok(body.clone())).await;
    let got = api
        .client()
        .eflo_describe_send_file_results("cn-wulanchabu", "t-bj038i0d6r8zoqo", None)
        .await
        .unwrap();
    let f = &got[0];
    assert_eq!(f.provider, Provider::Eflo);
    assert_eq!(
        f.invoke_id, "t-bj038i0d6r8zoqo",
        "the sample omits InvokeId"
    );
    assert_eq!(f.overwrite, Some(true));
    assert_eq!(f.target_count, Some(3));
    assert_eq!(f.targets[0].id, "e01-cn-9lb3c15m81j");
    assert_eq!(f.targets[0].error_code(), Some("AccountNotExists"));
    // "2023-04-10T10:53:46.156+08:00\n": offset, milliseconds, stray newline
    assert_eq!(f.created.unwrap().to_string(), "2023-04-10T02:53:46.156Z");
}

#[tokio::test]
async fn quirky_json_is_read_like_the_go_sdk_reads_it() {
    let api = FakeApi::start(|_| {
        Reply::ok(json!({
            "TotalCount": "3",
            "Invocations": {"Invocation": [
                // FileMode as a number, Overwrite as text, counts as text, a lone
                // target object instead of a list, a null description.
                {"InvokeId": "f-1", "Name": "a", "TargetDir": "/d", "FileMode": 644, "Overwrite": "FALSE", "VmCount": "1",
                 "ContentType": "Base64", "Content": "aGk=", "Description": null,
                 "InvokeInstances": {"InvokeInstance": {"InstanceId": "i-1", "InvocationStatus": "Failed",
                                                        "ErrorCode": "FileAlreadyExists"}}},
                // No wrappers at all.
                {"InvokeId": "f-2", "Name": "b", "TargetDir": "/d", "Overwrite": 1},
                // Booleans and numbers where strings belong.
                {"InvokeId": 3, "Name": true, "TargetDir": 42, "Tags": {"Tag": [{"TagKey": "k", "TagValue": 7}]},
                 "InvokeInstances": {}}
            ]}
        }))
    })
    .await;
    let filter = SendFileFilter {
        paging: Some(shipcheck::cloud::Paging::Pages),
        ..SendFileFilter::default()
    };
    let mut got = Vec::new();
    api.client()
        .describe_send_file_results("cn-hangzhou", &filter, |p| got.extend(p))
        .await
        .unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].mode.as_deref(), Some("644"));
    assert_eq!(got[0].overwrite, Some(false));
    assert_eq!(got[0].content_type, ContentType::Base64);
    assert_eq!(got[0].decoded_content().unwrap().as_ref(), b"hi");
    assert_eq!(got[0].targets[0].error_code(), Some("FileAlreadyExists"));
    assert_eq!(got[1].overwrite, Some(true));
    assert!(got[1].targets.is_empty());
    assert_eq!(
        (
            got[2].invoke_id.as_str(),
            got[2].name.as_str(),
            got[2].target_dir.as_str()
        ),
        ("3", "true", "42")
    );
    assert_eq!(got[2].tags, vec![("k".to_owned(), "7".to_owned())]);
}

#[tokio::test]
async fn unreadable_fields_are_errors_not_defaults() {
    let api = FakeApi::start(|_| {
        Reply::ok(json!({"Invocations": {"Invocation": [{"InvokeId": "f-1", "VmCount": "lots"}]}}))
    })
    .await;
    let err = api
        .client()
        .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |_| {})
        .await
        .unwrap_err();
    // Retried as a possibly corrupted body, then reported.
    let text = format!(
        "{err}: {:?}",
        std::error::Error::source(&err).map(|s| s.to_string())
    );
    assert!(
        text.contains("could not be read") && text.contains("lots"),
        "{text}"
    );
}
