//! Every credential mode against local stand-ins: the metadata service
//! (IMDSv2 token and v1 fallback), STS AssumeRole (checking our V1
//! signature), a credentials URI, an External command, profiles and the
//! environment. Each resolved key is proven by a signed call to the fake
//! ECS API, which verifies it with the secret and token it expects.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use serde_json::json;
use shipcheck::cloud::CredentialConfig;
use shipcheck::cloud::{
    ChainOptions, ClientConfig, CloudClient, CredentialInfo, Env, SendFileFilter,
};
use shipcheck::protocol::request::v1_string_to_sign_for;
use shipcheck::protocol::sign;
use shipcheck::protocol::time::format_timestamp;

use crate::support::fake_cloud::*;

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/")
}

fn chain(env: &[(&str, &str)], profile: Option<&str>, config: Option<&Path>) -> ChainOptions {
    let mut opts = ChainOptions::with_env(
        profile.map(str::to_owned),
        Env::from_pairs(env.iter().copied()),
    );
    opts.config_path = Some(
        config
            .map(Path::to_path_buf)
            .unwrap_or_else(|| "/nonexistent/config.json".into()),
    );
    opts
}

/// Builds a client on `opts`, proves the key with a signed call, returns what it used.
async fn prove(opts: ChainOptions) -> Result<CredentialInfo, shipcheck::cloud::CloudError> {
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let mut config: ClientConfig = api.config(shipcheck::cloud::Credentials::new("x", "y"));
    config.credentials = CredentialConfig::Chain(opts);
    let client = CloudClient::new(config)?;
    let mut got = 0;
    client
        .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |p| {
            got += p.len()
        })
        .await?;
    assert_eq!(got, 1);
    client.credentials().await
}

fn write_config(dir: &Path, body: serde_json::Value) -> std::path::PathBuf {
    let path = dir.join("config.json");
    std::fs::write(&path, body.to_string()).unwrap();
    path
}

#[tokio::test]
async fn environment_keys_in_every_spelling() {
    let info = prove(chain(
        &[
            ("ALIBABACLOUD_ACCESS_KEY_ID", KEY_ID),
            ("ALIBABACLOUD_ACCESS_KEY_SECRET", SECRET),
        ],
        None,
        None,
    ))
    .await
    .unwrap();
    assert_eq!(info.access_key_id, KEY_ID);
    assert!(info.source.contains("ALIBABACLOUD_ACCESS_KEY_ID"));
    let info = prove(chain(
        &[
            ("ALICLOUD_ACCESS_KEY_ID", STS_KEY_ID),
            ("ALICLOUD_ACCESS_KEY_SECRET", STS_SECRET),
            ("ALICLOUD_SECURITY_TOKEN", STS_TOKEN),
        ],
        None,
        None,
    ))
    .await
    .unwrap();
    assert!(info.temporary);
}

#[tokio::test]
async fn profiles_in_ak_and_sts_token_modes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        json!({"current": "ak", "profiles": [
            {"name": "ak", "mode": "AK", "access_key_id": KEY_ID, "access_key_secret": SECRET},
            {"name": "sts", "mode": "StsToken", "access_key_id": STS_KEY_ID, "access_key_secret": STS_SECRET, "sts_token": STS_TOKEN}
        ]}),
    );
    let info = prove(chain(&[], None, Some(&path))).await.unwrap();
    assert!(info.source.contains("profile `ak` (AK)"), "{}", info.source);
    let info = prove(chain(
        &[("ALIBABA_CLOUD_PROFILE", "sts")],
        None,
        Some(&path),
    ))
    .await
    .unwrap();
    assert!(info.temporary && info.source.contains("StsToken"));
}

/// An IMDS stand-in; `v2` decides whether the token endpoint exists.
async fn imds(v2: bool, hits: Arc<Mutex<Vec<String>>>) -> String {
    const TOKEN: &str = "imds-session-token-Rr5tY";
    let app =
        axum::Router::new()
            .route(
                "/latest/api/token",
                put(move |headers: HeaderMap| async move {
                    assert_eq!(
                        headers
                            .get("X-aliyun-ecs-metadata-token-ttl-seconds")
                            .unwrap(),
                        "21600"
                    );
                    if v2 {
                        (StatusCode::OK, TOKEN)
                    } else {
                        (StatusCode::NOT_FOUND, "")
                    }
                }),
            )
            .route(
                "/latest/meta-data/ram/security-credentials/",
                get({
                    let hits = hits.clone();
                    move |headers: HeaderMap| async move {
                        hits.lock().unwrap().push(format!(
                            "roles token={:?}",
                            headers.get("X-aliyun-ecs-metadata-token")
                        ));
                        "ShipcheckRole\n"
                    }
                }),
            )
            .route(
                "/latest/meta-data/ram/security-credentials/ShipcheckRole",
                get(move |headers: HeaderMap| async move {
                    let token = headers
                        .get("X-aliyun-ecs-metadata-token")
                        .map(|v| v.to_str().unwrap().to_owned());
                    hits.lock().unwrap().push(format!("creds token={token:?}"));
                    if v2 && token.as_deref() != Some(TOKEN) {
                        return (StatusCode::UNAUTHORIZED, String::new());
                    }
                    (StatusCode::OK, json!({
                    "Code": "Success", "AccessKeyId": STS_KEY_ID, "AccessKeySecret": STS_SECRET,
                    "SecurityToken": STS_TOKEN, "Expiration": "2099-01-01T00:00:00Z",
                    "LastUpdated": "2026-01-01T00:00:00Z"
                }).to_string())
                }),
            );
    serve(app).await
}

#[tokio::test]
async fn the_metadata_service_with_an_imdsv2_token_ends_the_chain() {
    let hits = Arc::new(Mutex::new(Vec::new()));
    let mut opts = chain(&[], None, None);
    opts.imds_url = url::Url::parse(&imds(true, hits.clone()).await).unwrap();
    let info = prove(opts).await.unwrap();
    assert!(info.temporary && info.source.contains("metadata service"));
    let hits = hits.lock().unwrap().clone();
    assert!(
        hits.iter().all(|h| h.contains("Some")),
        "the token was sent: {hits:?}"
    );
}

#[tokio::test]
async fn imdsv1_fallback_and_its_opt_out() {
    let hits = Arc::new(Mutex::new(Vec::new()));
    let url = url::Url::parse(&imds(false, hits.clone()).await).unwrap();
    let mut opts = chain(&[], None, None);
    opts.imds_url = url.clone();
    prove(opts).await.unwrap();

    let mut opts = chain(&[("ALIBABA_CLOUD_IMDSV1_DISABLED", "true")], None, None);
    opts.imds_url = url;
    let err = prove(opts).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("IMDSv2 token request answered HTTP 404"),
        "{err}"
    );
}

#[tokio::test]
async fn an_ecs_ram_role_profile_names_its_role() {
    let hits = Arc::new(Mutex::new(Vec::new()));
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        json!({"current": "ecs", "profiles": [{"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "ShipcheckRole"}]}),
    );
    let mut opts = chain(&[], None, Some(&path));
    opts.imds_url = url::Url::parse(&imds(true, hits.clone()).await).unwrap();
    prove(opts).await.unwrap();
    assert!(
        !hits.lock().unwrap().iter().any(|h| h.starts_with("roles")),
        "the role list was not needed"
    );
}

/// An STS stand-in that checks the V1 signature with `source_secret`.
async fn sts(
    source_id: &'static str,
    source_secret: &'static str,
    calls: Arc<AtomicUsize>,
) -> String {
    let app = axum::Router::new().route(
        "/",
        get(
            move |Query(params): Query<Vec<(String, String)>>| async move {
                calls.fetch_add(1, Ordering::SeqCst);
                let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                let string_to_sign = v1_string_to_sign_for("GET", &params, &[]);
                let expected = sign::v1_signature(source_secret, &string_to_sign);
                if get("AccessKeyId").as_deref() != Some(source_id)
                    || get("Signature") != Some(expected)
                {
                    return (
                        StatusCode::BAD_REQUEST,
                        json!({
                            "Code": "SignatureDoesNotMatch", "RequestId": "STS-1",
                            "Message": format!("server string to sign is:{string_to_sign}"),
                        })
                        .to_string(),
                    );
                }
                assert_eq!(get("Action").as_deref(), Some("AssumeRole"));
                assert_eq!(get("Version").as_deref(), Some("2015-04-01"));
                assert_eq!(
                    get("RoleArn").as_deref(),
                    Some("acs:ram::123:role/deployer")
                );
                assert_eq!(get("RoleSessionName").as_deref(), Some("ci-run"));
                assert_eq!(get("DurationSeconds").as_deref(), Some("1200"));
                (StatusCode::OK, json!({
                "RequestId": "STS-2",
                "AssumedRoleUser": {"Arn": "acs:ram::123:role/deployer/ci-run"},
                "Credentials": {"AccessKeyId": STS_KEY_ID, "AccessKeySecret": STS_SECRET,
                                "SecurityToken": STS_TOKEN, "Expiration": "2099-01-01T00:00:00Z"}
            }).to_string())
            },
        ),
    );
    serve(app).await
}

#[tokio::test]
async fn ram_role_arn_assumes_the_role_with_a_v1_signed_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let sts_url = sts(KEY_ID, SECRET, calls.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let role = |name: &str, mode: &str| {
        json!({
            "name": name, "mode": mode, "access_key_id": KEY_ID, "access_key_secret": SECRET,
            "ram_role_arn": "acs:ram::123:role/deployer", "ram_session_name": "ci-run", "expired_seconds": 1200,
            "source_profile": "base"
        })
    };
    let path = write_config(
        dir.path(),
        json!({"profiles": [
            role("direct", "RamRoleArn"),
            role("chained", "ChainableRamRoleArn"),
            {"name": "base", "mode": "AK", "access_key_id": KEY_ID, "access_key_secret": SECRET}
        ]}),
    );
    for profile in ["direct", "chained"] {
        let mut opts = chain(&[], Some(profile), Some(&path));
        opts.sts_url = Some(url::Url::parse(&sts_url).unwrap());
        let info = prove(opts).await.unwrap();
        assert_eq!(info.access_key_id, STS_KEY_ID);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one AssumeRole per client, then cached"
    );

    // A wrong source secret: STS refuses, and says so.
    let path = write_config(
        dir.path(),
        json!({"profiles": [{"name": "bad", "mode": "RamRoleArn", "access_key_id": KEY_ID,
               "access_key_secret": "wrong-secret-123", "ram_role_arn": "acs:ram::123:role/deployer"}]}),
    );
    let mut opts = chain(&[], Some("bad"), Some(&path));
    opts.sts_url = Some(url::Url::parse(&sts_url).unwrap());
    let err = prove(opts).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("AssumeRole acs:ram::123:role/deployer failed: SignatureDoesNotMatch"),
        "{err}"
    );
}

#[tokio::test]
async fn credentials_uri_from_env_and_profile_refreshing_before_expiry() {
    let fetches = Arc::new(AtomicUsize::new(0));
    let app = {
        let fetches = fetches.clone();
        axum::Router::new().route(
            "/creds",
            get(move || async move {
                fetches.fetch_add(1, Ordering::SeqCst);
                // Expires within the refresh margin: every use refreshes.
                let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60);
                json!({"Code": "Success", "AccessKeyId": STS_KEY_ID, "AccessKeySecret": STS_SECRET,
                       "SecurityToken": STS_TOKEN, "Expiration": format_timestamp(soon)})
                .to_string()
            }),
        )
    };
    let uri = format!("{}creds", serve(app).await);
    let opts = chain(
        &[
            ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
            ("ALIBABA_CLOUD_CREDENTIALS_URI", &uri),
        ],
        None,
        None,
    );
    let info = prove(opts).await.unwrap();
    assert!(info.source.contains("ALIBABA_CLOUD_CREDENTIALS_URI"));
    // one fetch for the call, one more for `credentials()`: both found them stale
    assert_eq!(fetches.load(Ordering::SeqCst), 2);

    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        json!({"current": "uri", "profiles": [{"name": "uri", "mode": "CredentialsURI", "credentials_uri": uri}]}),
    );
    prove(chain(&[], None, Some(&path))).await.unwrap();
}

#[tokio::test]
async fn external_process_command() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s' '{}'\n",
            json!({"mode": "StsToken", "access_key_id": STS_KEY_ID, "access_key_secret": STS_SECRET,
                   "sts_token": STS_TOKEN, "expiration": "2099-01-01T00:00:00Z"})
        ),
    )
    .unwrap();
    let path = write_config(
        dir.path(),
        json!({"current": "ext", "profiles": [
            {"name": "ext", "mode": "External", "process_command": format!("sh {}", script.display())},
            {"name": "broken", "mode": "External", "process_command": "exit 3"},
            {"name": "garbage", "mode": "External", "process_command": "echo not-json"}
        ]}),
    );
    let info = prove(chain(&[], None, Some(&path))).await.unwrap();
    assert!(info.temporary && info.source.contains("External"));
    let err = prove(chain(&[], Some("broken"), Some(&path)))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("exited with exit status: 3"),
        "{err}"
    );
    let err = prove(chain(&[], Some("garbage"), Some(&path)))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("did not print credentials JSON"),
        "{err}"
    );
}

#[tokio::test]
async fn nothing_anywhere_says_so() {
    let opts = chain(
        &[("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")],
        None,
        None,
    );
    let err = prove(opts).await.unwrap_err();
    assert!(err.to_string().contains("no credentials found"), "{err}");
}

/// Through the binary: `ALIBABA_CLOUD_CONFIG_FILE` names the CLI's file,
/// and its profile without `mode` is taken for what its fields say (here
/// StsToken), so the call carries the token the fake API demands.
#[tokio::test(flavor = "multi_thread")]
async fn the_binary_reads_alibaba_cloud_config_file_and_detects_the_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        json!({"current": "ci", "profiles": [
            {"name": "ci", "access_key_id": STS_KEY_ID, "access_key_secret": STS_SECRET,
             "sts_token": STS_TOKEN, "region_id": "cn-hangzhou"}
        ]}),
    );
    let manifest = dir.path().join("shipcheck.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nfiles:\n  - name: app.conf\n    target_dir: /etc\n    content: x\n    instances: [i-0]\n",
    )
    .unwrap();
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let url = api.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        crate::support::shipcheck()
            .args(["check", "--format", "json", "--endpoint", &url])
            .arg(&manifest)
            .env("ALIBABA_CLOUD_CONFIG_FILE", &path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let calls = api.calls();
    assert!(!calls.is_empty(), "no call reached the API: {stderr}");
    assert!(
        calls
            .iter()
            .all(|c| c.param("SecurityToken") == Some(STS_TOKEN)
                && c.param("AccessKeyId") == Some(STS_KEY_ID)),
        "{stderr}"
    );
    // The key was accepted: the report judged evidence, not a refused call.
    assert!(
        !stdout.contains("query-failed") && !stdout.contains("InvalidAccessKeyId"),
        "{stdout}"
    );
    assert!(!stdout.contains(STS_SECRET) && !stderr.contains(STS_SECRET));
    assert!(!stdout.contains(STS_TOKEN) && !stderr.contains(STS_TOKEN));
}
