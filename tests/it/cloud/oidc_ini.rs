//! OIDC/RRSA and the official INI credentials file, through the binary:
//! an STS stand-in for `AssumeRoleWithOIDC` checks the call is anonymous
//! (no key, no signature) and carries the token the file holds now; the
//! fake ECS API then demands exactly the temporary key STS handed out. No
//! output, at `-vv`, holds the OIDC token, the secret or the STS token,
//! even when STS echoes the token back in an error.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::json;
use shipcheck::cloud::{
    ChainOptions, CloudClient, CredentialConfig, Credentials, Env, SendFileFilter,
};

use crate::support::fake_cloud::*;

const ROLE_ARN: &str = "acs:ram::123:role/rrsa-reader";
const PROVIDER_ARN: &str = "acs:ram::123:oidc-provider/ack-rrsa";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.OIDC-sig_Qq1Ww2Ee3";

/// What the OIDC stand-in saw: the token of each call.
type Seen = Arc<Mutex<Vec<String>>>;

/// An STS stand-in for `AssumeRoleWithOIDC`, answering credentials that
/// expire in `expires_in` (inside the refresh margin, every use refreshes),
/// or refusing with the token echoed when `refuse` is set.
async fn oidc_sts(seen: Seen, expires_in: Duration, refuse: bool) -> String {
    let app =
        axum::Router::new().route(
            "/",
            post(
                move |Query(query): Query<Vec<(String, String)>>,
                      headers: HeaderMap,
                      body: Bytes| async move {
                    let q = |n: &str| query.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    let f = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
                    // Anonymous, as the official libraries send it.
                    assert_eq!(q("Action").as_deref(), Some("AssumeRoleWithOIDC"));
                    assert_eq!(q("Version").as_deref(), Some("2015-04-01"));
                    assert_eq!(q("Format").as_deref(), Some("JSON"));
                    assert!(q("Timestamp").is_some());
                    for signed in [
                        "Signature",
                        "AccessKeyId",
                        "SignatureNonce",
                        "SecurityToken",
                    ] {
                        assert!(q(signed).is_none() && f(signed).is_none(), "{signed} sent");
                    }
                    assert!(headers.get("authorization").is_none());
                    assert_eq!(
                        headers.get("content-type").and_then(|v| v.to_str().ok()),
                        Some("application/x-www-form-urlencoded")
                    );
                    assert_eq!(f("RoleArn").as_deref(), Some(ROLE_ARN));
                    assert_eq!(f("OIDCProviderArn").as_deref(), Some(PROVIDER_ARN));
                    assert_eq!(f("DurationSeconds").as_deref(), Some("3600"));
                    let token = f("OIDCToken").unwrap_or_default();
                    seen.lock().unwrap().push(token.clone());
                    if refuse {
                        return (
                            StatusCode::BAD_REQUEST,
                            json!({"Code": "InvalidParameter.OIDCToken", "RequestId": "STS-9",
                               "Message": format!("the token {token} has expired")})
                            .to_string(),
                        );
                    }
                    let session = f("RoleSessionName").unwrap_or_default();
                    let expiration = jiff::Timestamp::now()
                        + jiff::SignedDuration::try_from(expires_in).unwrap();
                    (
                        StatusCode::OK,
                        json!({
                            "RequestId": "STS-1",
                            "AssumedRoleUser": {"Arn": format!("{ROLE_ARN}/{session}")},
                            "Credentials": {
                                "AccessKeyId": STS_KEY_ID, "AccessKeySecret": STS_SECRET,
                                "SecurityToken": STS_TOKEN,
                                "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
                            }
                        })
                        .to_string(),
                    )
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn manifest(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("shipcheck.yaml");
    std::fs::write(
        &path,
        "version: 1\nfiles:\n  - name: file-0.conf\n    target_dir: /etc/app\n    content: hello\n    overwrite: true\n    instances: [i-000000]\n",
    )
    .unwrap();
    path
}

/// Runs `check --format json -vv` against `api` with `env`; returns
/// (exit code, stdout, stderr).
async fn run_check(api: &FakeApi, dir: &Path, env: Vec<(String, String)>) -> (i32, String, String) {
    let url = api.url.clone();
    let manifest = manifest(dir);
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let output = tokio::task::spawn_blocking(move || {
        crate::support::shipcheck()
            .args([
                "check",
                "-vv",
                "--format",
                "json",
                "--region",
                "cn-hangzhou",
                "--endpoint",
                &url,
            ])
            .arg(&manifest)
            .env("HOME", &home)
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_no_secrets(stdout: &str, stderr: &str) {
    for needle in [OIDC_TOKEN, STS_SECRET, STS_TOKEN, SECRET] {
        let encoded: String = url::form_urlencoded::byte_serialize(needle.as_bytes()).collect();
        for text in [stdout, stderr] {
            assert!(
                !text.contains(needle) && !text.contains(&encoded),
                "leaks {needle}:\n{text}"
            );
        }
    }
}

/// Every call reached the API with the key STS handed out, and was accepted.
fn assert_used_sts_key(api: &FakeApi, stdout: &str, stderr: &str) {
    let calls = api.calls();
    assert!(!calls.is_empty(), "no call reached the API: {stderr}");
    assert!(
        calls
            .iter()
            .all(|c| c.access_key_id == STS_KEY_ID && c.param("SecurityToken") == Some(STS_TOKEN)),
        "{stderr}"
    );
    assert!(
        !stdout.contains("query-failed") && !stdout.contains("InvalidAccessKeyId"),
        "{stdout}"
    );
}

fn oidc_env(sts: &str, token_file: &Path) -> Vec<(String, String)> {
    [
        ("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", PROVIDER_ARN),
        (
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            token_file.to_str().unwrap(),
        ),
        ("ALIBABA_CLOUD_ROLE_SESSION_NAME", "ci-run"),
        ("ALIBABA_CLOUD_STS_ENDPOINT", sts),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_assumes_the_role_with_the_oidc_token() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{OIDC_TOKEN}\n")).unwrap();
    let seen = Seen::default();
    let sts = oidc_sts(seen.clone(), Duration::from_secs(3600), false).await;
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;

    let (code, stdout, stderr) = run_check(&api, dir.path(), oidc_env(&sts, &token_file)).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_used_sts_key(&api, &stdout, &stderr);
    assert_eq!(
        *seen.lock().unwrap(),
        [OIDC_TOKEN],
        "one exchange, then cached"
    );
    assert_no_secrets(&stdout, &stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_oidc_token_is_an_error_that_does_not_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    let sts = oidc_sts(Seen::default(), Duration::from_secs(3600), true).await;
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;

    let (code, stdout, stderr) = run_check(&api, dir.path(), oidc_env(&sts, &token_file)).await;
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    assert!(api.calls().is_empty(), "no key, no API call");
    assert!(
        stderr.contains("AssumeRoleWithOIDC") && stderr.contains("InvalidParameter.OIDCToken"),
        "{stderr}"
    );
    assert_no_secrets(&stdout, &stderr);
}

/// The token file is read again on every refresh: the platform rotates it.
#[tokio::test]
async fn each_refresh_reads_the_token_file_again() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "token-one").unwrap();
    let seen = Seen::default();
    // Credentials that are already inside the refresh margin: every use refreshes.
    let sts = oidc_sts(seen.clone(), Duration::from_secs(60), false).await;
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let env: Vec<(String, String)> = oidc_env(&sts, &token_file);
    let mut config = api.config(Credentials::new("unused", "unused"));
    config.credentials =
        CredentialConfig::Chain(ChainOptions::with_env(None, Env::from_pairs(env)));
    let client = CloudClient::new(config).unwrap();
    let list = || async {
        client
            .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |_| {})
            .await
            .unwrap()
    };
    list().await;
    std::fs::write(&token_file, "token-two").unwrap();
    list().await;
    assert_eq!(*seen.lock().unwrap(), ["token-one", "token-two"]);
    assert!(
        client
            .credentials()
            .await
            .unwrap()
            .source
            .contains("OIDC role")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_reads_the_ini_credentials_file() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    let seen = Seen::default();
    let sts = oidc_sts(seen.clone(), Duration::from_secs(3600), false).await;
    let ini = dir.path().join("credentials");
    std::fs::write(
        &ini,
        format!(
            "[default]\ntype = access_key\naccess_key_id = {KEY_ID}\naccess_key_secret = {SECRET}\n\n\
             [ci]\ntype = sts\naccess_key_id = {STS_KEY_ID}\naccess_key_secret = {STS_SECRET}\nsecurity_token = {STS_TOKEN}\n\n\
             [rrsa]\ntype = oidc_role_arn\nrole_arn = {ROLE_ARN}\noidc_provider_arn = {PROVIDER_ARN}\n\
             oidc_token_file_path = {}\nrole_session_name = ini\n",
            token_file.display()
        ),
    )
    .unwrap();
    let file = ini.to_str().unwrap().to_owned();
    let with = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain([("ALIBABA_CLOUD_CREDENTIALS_FILE".to_owned(), file.clone())])
            .collect()
    };

    // ALIBABA_CLOUD_PROFILE picks the `sts` section: the token goes along.
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let (code, stdout, stderr) =
        run_check(&api, dir.path(), with(&[("ALIBABA_CLOUD_PROFILE", "ci")])).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_used_sts_key(&api, &stdout, &stderr);
    assert_no_secrets(&stdout, &stderr);

    // `oidc_role_arn` exchanges the token with STS.
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let (code, stdout, stderr) = run_check(
        &api,
        dir.path(),
        with(&[
            ("ALIBABA_CLOUD_PROFILE", "rrsa"),
            ("ALIBABA_CLOUD_STS_ENDPOINT", &sts),
        ]),
    )
    .await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_used_sts_key(&api, &stdout, &stderr);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_no_secrets(&stdout, &stderr);

    // `default` otherwise; the environment's key still comes first.
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let (code, stdout, stderr) = run_check(&api, dir.path(), with(&[])).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        api.calls().iter().all(|c| c.access_key_id == KEY_ID),
        "{stderr}"
    );
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let (_, _, stderr) = run_check(
        &api,
        dir.path(),
        with(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", STS_KEY_ID),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", STS_SECRET),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", STS_TOKEN),
        ]),
    )
    .await;
    assert!(
        api.calls().iter().all(|c| c.access_key_id == STS_KEY_ID),
        "{stderr}"
    );
}

/// `~/.alibabacloud/credentials` by default, after a `~/.aliyun/config.json`
/// profile (the official chain's order).
#[tokio::test(flavor = "multi_thread")]
async fn the_default_ini_file_comes_after_the_cli_profile() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".alibabacloud")).unwrap();
    std::fs::write(
        home.join(".alibabacloud/credentials"),
        format!(
            "[default]\ntype = access_key\naccess_key_id = {KEY_ID}\naccess_key_secret = {SECRET}\n"
        ),
    )
    .unwrap();
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let (code, stdout, stderr) = run_check(&api, dir.path(), Vec::new()).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        api.calls().iter().all(|c| c.access_key_id == KEY_ID),
        "{stderr}"
    );

    std::fs::create_dir_all(home.join(".aliyun")).unwrap();
    std::fs::write(
        home.join(".aliyun/config.json"),
        json!({"current": "cli", "profiles": [{"name": "cli", "mode": "StsToken",
            "access_key_id": STS_KEY_ID, "access_key_secret": STS_SECRET, "sts_token": STS_TOKEN}]})
        .to_string(),
    )
    .unwrap();
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let (code, stdout, stderr) = run_check(&api, dir.path(), Vec::new()).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_used_sts_key(&api, &stdout, &stderr);
}
