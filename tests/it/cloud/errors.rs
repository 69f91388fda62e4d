//! The API's error envelope becomes a typed error whose help says what to do.

use std::collections::HashMap;
use std::time::Duration;

use miette::Diagnostic as _;
use shipcheck::cloud::error::{CloudError, SignatureCheck};
use shipcheck::cloud::{Clock, CloudClient, Credentials, SendFileFilter};
use shipcheck::protocol::sign::SignatureVersion;

use crate::support::fake_cloud::*;

async fn fail(client: &CloudClient) -> CloudError {
    client
        .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |_| {})
        .await
        .unwrap_err()
}

fn render(err: &CloudError) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, err)
        .unwrap();
    out
}

#[tokio::test]
async fn a_wrong_secret_is_diagnosed_as_such_for_v1_and_v3() {
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let api = FakeApi::start(|_| Reply::ok(serde_json::json!({}))).await;
        let mut config = api.config(Credentials::new(KEY_ID, "not-the-secret"));
        config.signature = version;
        let err = fail(&CloudClient::new(config).unwrap()).await;
        let api_err = err.api().unwrap();
        assert_eq!(api_err.code, "SignatureDoesNotMatch");
        assert_eq!(api_err.status, 400);
        assert_eq!(
            api_err.signature_check,
            Some(SignatureCheck::SameStringToSign),
            "{version:?}"
        );
        assert!(
            !api_err.message.contains("string to sign is:"),
            "{}",
            api_err.message
        );
        let help = err.help().unwrap().to_string();
        assert!(
            help.contains(&format!("secret is wrong for AccessKeyId {KEY_ID}")),
            "{help}"
        );
        assert_eq!(api.calls().len(), 1, "not retried");
    }
}

#[tokio::test]
async fn a_canonicalisation_mismatch_is_told_apart() {
    let api = FakeApi::start(|_| {
        Reply::error(
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&Something%3Delse",
        )
    })
    .await;
    let err = fail(&api.client()).await;
    assert_eq!(
        err.api().unwrap().signature_check,
        Some(SignatureCheck::DifferentStringToSign)
    );
    assert!(
        err.help()
            .unwrap()
            .to_string()
            .contains("canonicalised the request differently")
    );
}

#[tokio::test]
async fn an_unknown_key_id() {
    let api = FakeApi::start(|_| Reply::ok(serde_json::json!({}))).await;
    let err =
        fail(&CloudClient::new(api.config(Credentials::new("LTAI-nobody", SECRET))).unwrap()).await;
    let e = err.api().unwrap();
    assert_eq!(
        (e.code.as_str(), e.status),
        ("InvalidAccessKeyId.NotFound", 404)
    );
    assert!(
        err.help()
            .unwrap()
            .to_string()
            .contains("AccessKeyId LTAI-nobody does not exist")
    );
}

#[tokio::test]
async fn a_missing_ram_permission_names_the_action() {
    let api = FakeApi::start(|_| {
        Reply::error(403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM.")
    })
    .await;
    let err = fail(&api.client()).await;
    insta::assert_snapshot!("forbidden_ram", render(&err));
    let eflo_err = api
        .client()
        .eflo_describe_send_file_results("cn-wulanchabu", "t-1", None)
        .await
        .unwrap_err();
    assert!(
        eflo_err
            .help()
            .unwrap()
            .to_string()
            .contains("`eflo:DescribeSendFileResults`")
    );
}

#[tokio::test]
async fn clock_skew_is_explained() {
    let keys = HashMap::from([(KEY_ID.to_owned(), (SECRET.to_owned(), None))]);
    let api = FakeApi::start_with(keys, Some(Duration::from_secs(900)), |_| {
        Reply::ok(serde_json::json!({}))
    })
    .await;
    let mut config = api.config(Credentials::new(KEY_ID, SECRET));
    config.clock = Clock::from_fn(|| jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2));
    let err = fail(&CloudClient::new(config).unwrap()).await;
    assert_eq!(err.code(), Some("InvalidTimeStamp.Expired"));
    let help = err.help().unwrap().to_string();
    assert!(
        help.contains("synchronise this machine's clock") && help.contains(" UTC)"),
        "{help}"
    );
}

#[tokio::test]
async fn an_unknown_region_is_named() {
    let api = FakeApi::start(|_| {
        Reply::error(
            404,
            "InvalidRegionId.NotFound",
            "The specified RegionId does not exist.",
        )
    })
    .await;
    let err = api
        .client()
        .describe_send_file_results("cn-atlantis-1", &SendFileFilter::default(), |_| {})
        .await
        .unwrap_err();
    insta::assert_snapshot!("invalid_region", render(&err));
}

#[tokio::test]
async fn a_body_that_is_not_the_api_is_malformed() {
    let api =
        FakeApi::start(|_| Reply::Json(200, serde_json::json!(["not", "an", "object"]))).await;
    let err = fail(&api.client()).await;
    let CloudError::GaveUp { last, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(matches!(**last, CloudError::Malformed { .. }), "{last:?}");
    assert!(err.help().unwrap().to_string().contains("--endpoint"));
}

#[tokio::test]
async fn an_error_in_a_2xx_body_is_still_an_error() {
    let api = FakeApi::start(|_| {
        Reply::Json(
            200,
            serde_json::json!({"Code": "Forbidden.RAM", "Message": "denied"}),
        )
    })
    .await;
    let err = fail(&api.client()).await;
    assert_eq!(err.code(), Some("Forbidden.RAM"));
}
