//! Runs the client through success, retries and every kind of failure with
//! all logging on, and scans every log line and every rendered error for the
//! test secrets, the STS token (in all its wire spellings) and every
//! signature the server received. None may appear.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use shipcheck::cloud::{
    ChainOptions, CloudClient, CloudError, CredentialConfig, Credentials, Env, SendFileFilter,
};
use shipcheck::protocol::sign::SignatureVersion;
use shipcheck::protocol::sign::pop_encode;

use crate::support::fake_cloud::*;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn shown(err: &CloudError) -> String {
    let mut rendered = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut rendered, err)
        .unwrap();
    format!("{err}\n{err:?}\n{rendered}\n")
}

// current_thread: every task, the servers' included, logs on this thread.
#[tokio::test(flavor = "current_thread")]
async fn no_secret_token_or_signature_reaches_logs_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut errors = String::new();
    let mut signatures = Vec::new();
    let sts_creds = || Credentials::new(STS_KEY_ID, STS_SECRET).with_token(STS_TOKEN);
    let wrong_sts = || Credentials::new(STS_KEY_ID, "wrong-secret-Kk2").with_token(STS_TOKEN);

    // Success after throttling and a truncated body, both signatures.
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let api = FakeApi::start(|call| match call.index {
            0 => Reply::throttle(Some(5)),
            1 => Reply::Truncated,
            2 => Reply::error(500, "InternalError", "oops"),
            _ => serve_listing(&fleet(3), call),
        })
        .await;
        let mut config = api.config(sts_creds());
        config.signature = version;
        CloudClient::new(config)
            .unwrap()
            .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |_| {})
            .await
            .unwrap();
        signatures.extend(api.calls().into_iter().map(|c| c.signature));
    }

    // A wrong secret with a token: the server quotes its string-to-sign,
    // which holds the token.
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let api = FakeApi::start(|_| Reply::ok(json!({}))).await;
        let mut config = api.config(wrong_sts());
        config.signature = version;
        let err = CloudClient::new(config)
            .unwrap()
            .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |_| {})
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
        errors.push_str(&shown(&err));
        signatures.extend(api.calls().into_iter().map(|c| c.signature));
    }

    // An eflo call refused for a missing permission, retries exhausted, a
    // dead endpoint.
    let api = FakeApi::start(|call| {
        if call.version == "2022-12-15" {
            Reply::error(403, "Forbidden.RAM", "denied")
        } else {
            Reply::error(503, "ServiceUnavailable", "down")
        }
    })
    .await;
    let client = CloudClient::new(api.config(sts_creds())).unwrap();
    let err = client
        .eflo_describe_send_file_results("cn-wulanchabu", "t-1", None)
        .await
        .unwrap_err();
    errors.push_str(&shown(&err));
    let err = client
        .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |_| {})
        .await
        .unwrap_err();
    errors.push_str(&shown(&err));
    signatures.extend(api.calls().into_iter().map(|c| c.signature));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = api.config(sts_creds());
    config.endpoint = Some(format!("http://127.0.0.1:{port}"));
    config.retry.max_attempts = 2;
    let err = CloudClient::new(config)
        .unwrap()
        .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |_| {})
        .await
        .unwrap_err();
    errors.push_str(&shown(&err));

    // Credentials from a command, and a profile whose keys are printed by
    // nothing even when the profile is refused.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        json!({"current": "ext", "profiles": [
            {"name": "ext", "mode": "External", "process_command": format!(
                "printf '%s' '{}'",
                json!({"mode": "StsToken", "access_key_id": STS_KEY_ID, "access_key_secret": STS_SECRET, "sts_token": STS_TOKEN})
            )},
            {"name": "sso", "mode": "CloudSSO", "access_key_id": KEY_ID, "access_key_secret": SECRET, "sts_token": STS_TOKEN}
        ]})
        .to_string(),
    )
    .unwrap();
    let api = FakeApi::start(|call| serve_listing(&fleet(1), call)).await;
    let mut opts = ChainOptions::with_env(None, Env::default());
    opts.config_path = Some(path.clone());
    let mut config = api.config(Credentials::new("unused", "unused"));
    config.credentials = CredentialConfig::Chain(opts.clone());
    let client = CloudClient::new(config.clone()).unwrap();
    client
        .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |_| {})
        .await
        .unwrap();
    let info = client.credentials().await.unwrap();
    errors.push_str(&format!("{info:?} {client:?} {:?}\n", sts_creds()));
    signatures.extend(api.calls().into_iter().map(|c| c.signature));
    opts.profile = Some("sso".into());
    config.credentials = CredentialConfig::Chain(opts);
    errors.push_str(&shown(&CloudClient::new(config).unwrap_err()));

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("api request") && logs.contains("retrying"),
        "logging was not captured:\n{logs}"
    );
    assert!(
        logs.contains("status=400") && logs.contains("request_id=REQ-"),
        "{logs}"
    );
    assert!(errors.contains("SignatureDoesNotMatch") && errors.contains("Forbidden.RAM"));

    let token_once = pop_encode(STS_TOKEN);
    let token_twice = pop_encode(&token_once);
    let mut needles = vec![
        SECRET.to_owned(),
        STS_SECRET.to_owned(),
        STS_TOKEN.to_owned(),
        token_once,
        token_twice,
    ];
    assert!(signatures.len() > 10, "{}", signatures.len());
    for s in &signatures {
        needles.push(s.clone());
        needles.push(pop_encode(s));
    }
    let everything = format!("{logs}\n{errors}");
    for needle in &needles {
        assert!(
            !everything.contains(needle.as_str()),
            "a secret leaked: {needle:?} found in\n{everything}"
        );
    }
}
