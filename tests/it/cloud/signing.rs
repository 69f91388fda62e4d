//! The stand-in verifies our signatures with the shared signer, V1 and V3,
//! with and without an STS token, ECS (query) and eflo (form body).

use std::collections::HashSet;

use serde_json::json;
use shipcheck::cloud::{CloudClient, Credentials, SendFileFilter};
use shipcheck::protocol::sign::SignatureVersion;

use crate::support::fake_cloud::*;

async fn one_page(version: SignatureVersion, creds: Credentials) -> (FakeApi, usize) {
    let api = FakeApi::start(|call| {
        assert_eq!(call.action, "DescribeSendFileResults");
        assert_eq!(call.version, "2014-05-26");
        serve_listing(&fleet(3), call)
    })
    .await;
    let mut config = api.config(creds);
    config.signature = version;
    let client = CloudClient::new(config).unwrap();
    let mut got = 0;
    let filter = SendFileFilter {
        name: Some("my file~v1 (é)*+.txt".into()),
        tags: vec![("env".into(), "a+b/c".into())],
        ..SendFileFilter::default()
    };
    client
        .describe_send_file_results("cn-hangzhou", &filter, |page| got += page.len())
        .await
        .unwrap();
    (api, got)
}

#[tokio::test]
async fn v1_and_v3_requests_are_accepted_with_and_without_sts_token() {
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        for creds in [
            Credentials::new(KEY_ID, SECRET),
            Credentials::new(STS_KEY_ID, STS_SECRET).with_token(STS_TOKEN),
        ] {
            let key_id = creds.access_key_id.clone();
            let (api, got) = one_page(version, creds).await;
            assert_eq!(got, 3);
            let calls = api.calls();
            assert_eq!(calls.len(), 1);
            let call = &calls[0];
            assert_eq!(call.access_key_id, key_id);
            assert_eq!(
                call.signed_with,
                if version == SignatureVersion::V1 {
                    "v1"
                } else {
                    "v3"
                }
            );
            // Filters arrive intact after POP encoding on the wire.
            assert_eq!(call.param("Name"), Some("my file~v1 (é)*+.txt"));
            assert_eq!(call.param("Tag.1.Key"), Some("env"));
            assert_eq!(call.param("Tag.1.Value"), Some("a+b/c"));
            assert_eq!(call.param("RegionId"), Some("cn-hangzhou"));
            assert_eq!(call.param("MaxResults"), Some("50"));
        }
    }
}

#[tokio::test]
async fn the_user_agent_names_the_version() {
    let (api, _) = one_page(SignatureVersion::V3, Credentials::new(KEY_ID, SECRET)).await;
    let ua = api.calls()[0].headers.get("user-agent").cloned().unwrap();
    assert!(
        ua.starts_with(&format!("shipcheck/{}", env!("CARGO_PKG_VERSION"))),
        "{ua}"
    );
}

#[tokio::test]
async fn eflo_sends_a_form_body_without_region_and_is_verified() {
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let api = FakeApi::start(|call| {
            assert_eq!(call.version, "2022-12-15");
            assert_eq!(call.param("RegionId"), None, "eflo takes no RegionId");
            assert_eq!(call.param("InvokeId"), Some("t-abc"));
            assert_eq!(call.param("NodeId"), Some("e01-x"));
            Reply::ok(json!({
                "TotalCount": "1",
                "Invocations": {"Invocation": [{
                    "InvokeId": "t-abc", "Name": "n", "TargetDir": "/tmp", "Overwrite": true,
                    "NodeCount": 1, "InvocationStatus": "Success",
                    "CreationTime": "2023-04-10T10:53:46.156+08:00",
                    "InvokeNodes": {"InvokeNode": [{"NodeId": "e01-x", "InvocationStatus": "Success"}]}
                }]}
            }))
        })
        .await;
        let mut config = api.config(Credentials::new(STS_KEY_ID, STS_SECRET).with_token(STS_TOKEN));
        config.signature = version;
        let client = CloudClient::new(config).unwrap();
        let items = client
            .eflo_describe_send_file_results("cn-wulanchabu", "t-abc", Some("e01-x"))
            .await
            .unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].provider, shipcheck::protocol::Provider::Eflo);
        assert_eq!(items[0].targets[0].id, "e01-x");
        assert_eq!(items[0].overwrite, Some(true));
    }
}

#[tokio::test]
async fn every_attempt_carries_a_fresh_nonce() {
    let api = FakeApi::start(|call| {
        if call.index < 3 {
            Reply::throttle(None)
        } else {
            serve_listing(&fleet(1), call)
        }
    })
    .await;
    let client = api.client();
    client
        .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |_| {})
        .await
        .unwrap();
    let calls = api.calls();
    assert_eq!(calls.len(), 4);
    let nonces: HashSet<_> = calls.iter().map(|c| c.nonce.clone()).collect();
    assert_eq!(nonces.len(), 4, "a nonce was reused: {nonces:?}");
}
