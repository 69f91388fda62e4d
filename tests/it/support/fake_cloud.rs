//! Local stand-ins for the cloud, bound to 127.0.0.1:0.
//!
//! [`FakeApi`] verifies V1 and V3 signatures with the library's
//! canonicalisation (`shipcheck::protocol::request`, against its own key
//! table, exactly as the real API would), records every
//! request, and answers with whatever the test's script says: a JSON body,
//! an error envelope, a throttle with `x-acs-retry-after`, a slow answer, or
//! a body cut off mid-stream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use shipcheck::cloud::{ClientConfig, CloudClient, Credentials, RetryPolicy};
use shipcheck::protocol::request::{v1_string_to_sign_for, v3_canonical_for};
use shipcheck::protocol::sign;

pub const KEY_ID: &str = "LTAI-test-key";
pub const SECRET: &str = "test-secret-Zq9vX2mK7pL4";
pub const STS_KEY_ID: &str = "STS.test-key";
pub const STS_SECRET: &str = "sts-secret-Hh3kP0wQ8rT1";
pub const STS_TOKEN: &str = "CAIS-sts-token/with+chars=Yy7uI6oP5aS4";

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub action: String,
    pub version: String,
    /// Query and form parameters, decoded (V1 common parameters included).
    pub params: HashMap<String, String>,
    pub headers: HashMap<String, String>,
    pub nonce: String,
    pub timestamp: String,
    /// The signature the client sent (to check it never leaks).
    pub signature: String,
    pub access_key_id: String,
    pub signed_with: &'static str,
    pub index: usize,
}

impl Call {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// What the fake answers.
pub enum Reply {
    Json(u16, Value),
    /// An error envelope with a code, plus headers.
    Error {
        status: u16,
        code: String,
        message: String,
        retry_after_ms: Option<u64>,
    },
    /// Waits, then answers.
    Slow(Duration, Box<Reply>),
    /// Starts a 200 body and breaks the connection halfway.
    Truncated,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply::Json(200, body)
    }

    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Reply::Error {
            status,
            code: code.into(),
            message: message.into(),
            retry_after_ms: None,
        }
    }

    pub fn throttle(retry_after_ms: Option<u64>) -> Self {
        Reply::Error {
            status: 400,
            code: "Throttling.User".into(),
            message: "Request was denied due to user flow control.".into(),
            retry_after_ms,
        }
    }
}

type Script = dyn Fn(&Call) -> Reply + Send + Sync;

pub struct Fake {
    /// AccessKeyId → (secret, token).
    pub keys: HashMap<String, (String, Option<String>)>,
    pub script: Box<Script>,
    pub calls: Mutex<Vec<Call>>,
    counter: AtomicUsize,
    /// Reject timestamps further than this from now (InvalidTimeStamp.Expired).
    pub max_skew: Option<Duration>,
}

pub struct FakeApi {
    pub url: String,
    pub state: Arc<Fake>,
}

impl FakeApi {
    /// Serves `script` for the standard test keys.
    pub async fn start(script: impl Fn(&Call) -> Reply + Send + Sync + 'static) -> Self {
        let keys = HashMap::from([
            (KEY_ID.to_owned(), (SECRET.to_owned(), None)),
            (
                STS_KEY_ID.to_owned(),
                (STS_SECRET.to_owned(), Some(STS_TOKEN.to_owned())),
            ),
        ]);
        Self::start_with(keys, None, script).await
    }

    pub async fn start_with(
        keys: HashMap<String, (String, Option<String>)>,
        max_skew: Option<Duration>,
        script: impl Fn(&Call) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let state = Arc::new(Fake {
            keys,
            script: Box::new(script),
            calls: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(0),
            max_skew,
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}"),
            state,
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    /// A client for this fake with fast retries and the test key.
    pub fn client(&self) -> CloudClient {
        CloudClient::new(self.config(Credentials::new(KEY_ID, SECRET))).unwrap()
    }

    pub fn config(&self, creds: Credentials) -> ClientConfig {
        let mut config = ClientConfig::with_credentials(creds);
        config.endpoint = Some(self.url.clone());
        config.retry = fast_retries();
        config
    }
}

/// Short waits so tests do not sleep: what is checked is the decisions.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        max_throttled: 5,
        budget: Duration::from_secs(30),
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(5),
    }
}

fn decode_pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn envelope(status: u16, code: &str, message: &str, request_id: &str) -> Response {
    let body = json!({
        "RequestId": request_id,
        "HostId": "fake.local",
        "Code": code,
        "Message": message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}&product=Ecs&requestId={request_id}"),
    });
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn handle(
    State(fake): State<Arc<Fake>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let index = fake.counter.fetch_add(1, Ordering::SeqCst);
    let request_id = format!("REQ-{index:05}");
    let query = decode_pairs(uri.query().unwrap_or(""));
    let form = decode_pairs(std::str::from_utf8(&body).unwrap_or(""));
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut params: HashMap<String, String> = query.iter().cloned().collect();
    params.extend(form.iter().cloned());

    // Verify the signature the way the cloud does.
    let (call, check) = if let Some(signature) = params.get("Signature").cloned() {
        let key_id = params.get("AccessKeyId").cloned().unwrap_or_default();
        let sts = v1_string_to_sign_for(method.as_str(), &query, &form);
        let call = Call {
            action: params.get("Action").cloned().unwrap_or_default(),
            version: params.get("Version").cloned().unwrap_or_default(),
            nonce: params.get("SignatureNonce").cloned().unwrap_or_default(),
            timestamp: params.get("Timestamp").cloned().unwrap_or_default(),
            signature: signature.clone(),
            access_key_id: key_id.clone(),
            signed_with: "v1",
            params: params.clone(),
            headers: HashMap::new(),
            index,
        };
        let token = params.get("SecurityToken").cloned();
        let check = fake.keys.get(&key_id).map(|(secret, want_token)| {
            let ok = sign::signatures_match(&sign::v1_signature(secret, &sts), &signature);
            (ok, sts, want_token.clone() == token)
        });
        (call, check)
    } else if let Some(auth) = header("authorization") {
        let parsed = sign::parse_v3_authorization(&auth);
        let Some(parsed) = parsed else {
            return envelope(400, "IncompleteSignature", "bad Authorization", &request_id);
        };
        let signed_headers: Vec<(String, String)> = parsed
            .signed_headers
            .iter()
            .map(|name| ((*name).to_owned(), header(name).unwrap_or_default()))
            .collect();
        let h: Vec<(&str, &str)> = signed_headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let payload = sign::sha256_hex(&body);
        let canonical = v3_canonical_for(method.as_str(), &query, &h, &body);
        let sts = sign::v3_string_to_sign(&canonical.canonical_request);
        let mut all_headers = HashMap::new();
        for (name, value) in &headers {
            all_headers.insert(
                name.as_str().to_owned(),
                value.to_str().unwrap_or("").to_owned(),
            );
        }
        let call = Call {
            action: header("x-acs-action").unwrap_or_default(),
            version: header("x-acs-version").unwrap_or_default(),
            nonce: header("x-acs-signature-nonce").unwrap_or_default(),
            timestamp: header("x-acs-date").unwrap_or_default(),
            signature: parsed.signature.to_owned(),
            access_key_id: parsed.access_key_id.to_owned(),
            signed_with: "v3",
            params: params.clone(),
            headers: all_headers,
            index,
        };
        let token = header("x-acs-security-token");
        let payload_ok = header("x-acs-content-sha256").as_deref() == Some(payload.as_str());
        let check = fake
            .keys
            .get(parsed.access_key_id)
            .map(|(secret, want_token)| {
                let ok = payload_ok
                    && sign::signatures_match(&sign::v3_signature(secret, &sts), parsed.signature);
                (ok, sts, want_token.clone() == token)
            });
        (call, check)
    } else {
        return envelope(
            400,
            "MissingParameter.Signature",
            "no signature",
            &request_id,
        );
    };
    fake.calls.lock().unwrap().push(call.clone());

    match check {
        None => {
            return envelope(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
                &request_id,
            );
        }
        Some((false, sts, _)) => {
            return envelope(
                400,
                "SignatureDoesNotMatch",
                &format!(
                    "Specified signature is not matched with our calculation. server string to sign is:{sts}"
                ),
                &request_id,
            );
        }
        Some((true, _, false)) => {
            return envelope(
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The security token does not match the access key.",
                &request_id,
            );
        }
        Some((true, _, true)) => {}
    }
    if let Some(max_skew) = fake.max_skew {
        let sent: jiff::Timestamp = call.timestamp.parse().unwrap();
        let skew = (jiff::Timestamp::now() - sent).get_seconds().unsigned_abs();
        if skew > max_skew.as_secs() {
            return envelope(
                400,
                "InvalidTimeStamp.Expired",
                &format!(
                    "Specified time stamp or date value is expired. {}",
                    call.timestamp
                ),
                &request_id,
            );
        }
    }
    render((fake.script)(&call), &request_id).await
}

fn render(
    reply: Reply,
    request_id: &str,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + '_>> {
    Box::pin(async move {
        match reply {
            Reply::Json(status, mut body) => {
                if let Value::Object(map) = &mut body {
                    map.entry("RequestId")
                        .or_insert_with(|| Value::String(request_id.to_owned()));
                }
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body.to_string(),
                )
                    .into_response()
            }
            Reply::Error {
                status,
                code,
                message,
                retry_after_ms,
            } => {
                let mut response = envelope(status, &code, &message, request_id);
                if let Some(ms) = retry_after_ms {
                    response
                        .headers_mut()
                        .insert("x-acs-retry-after", ms.to_string().parse().unwrap());
                }
                response
            }
            Reply::Slow(delay, then) => {
                tokio::time::sleep(delay).await;
                render(*then, request_id).await
            }
            Reply::Truncated => {
                let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                    Ok(Bytes::from_static(
                        b"{\"RequestId\": \"cut\", \"Invocations\": {\"Invo",
                    )),
                    Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "fault injected",
                    )),
                ];
                Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .header("content-length", "4096")
                    .body(Body::from_stream(futures_util::stream::iter(chunks)))
                    .unwrap()
            }
        }
    })
}

/// `count` synthetic SendFile tasks, newest first, shaped like the seeds.
pub fn fleet(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| {
            json!({
                "InvokeId": format!("f-{i:06}"),
                "Name": format!("file-{i}.conf"),
                "TargetDir": "/etc/app",
                "Content": "aGVsbG8=",
                "ContentType": "Base64",
                "FileMode": if i % 2 == 0 { json!("0644") } else { json!(644) },
                "FileOwner": "root",
                "FileGroup": "root",
                "Overwrite": if i % 3 == 0 { json!("true") } else { json!(false) },
                "InvocationStatus": "Success",
                "CreationTime": "2026-11-20T08:00:00Z",
                "VmCount": 1,
                "InvokeInstances": {"InvokeInstance": [{
                    "InstanceId": format!("i-{i:06}"),
                    "InvocationStatus": "Success",
                    "ErrorCode": "",
                    "ErrorInfo": "",
                    "CreationTime": "2026-11-20T08:00:00Z",
                    "StartTime": "2026-11-20T08:00:01Z",
                    "FinishTime": "2026-11-20T08:00:02Z",
                    "UpdateTime": "2026-11-20T08:00:02Z"
                }]}
            })
        })
        .collect()
}

/// Serves `items` in either paging style, the way the API documents it.
pub fn serve_listing(items: &[Value], call: &Call) -> Reply {
    let as_num = |name: &str| call.param(name).and_then(|v| v.parse::<usize>().ok());
    if let Some(max) = as_num("MaxResults") {
        let start = call
            .param("NextToken")
            .map(|t| t.trim_start_matches("tok-").parse::<usize>().unwrap())
            .unwrap_or(0);
        let end = (start + max).min(items.len());
        let mut body = json!({
            "Invocations": {"Invocation": items[start..end].to_vec()},
            "TotalCount": 0,
        });
        if end < items.len() {
            body["NextToken"] = json!(format!("tok-{end}"));
        }
        Reply::ok(body)
    } else {
        let size = as_num("PageSize").unwrap_or(10);
        let number = as_num("PageNumber").unwrap_or(1);
        let start = ((number - 1) * size).min(items.len());
        let end = (start + size).min(items.len());
        Reply::ok(json!({
            "Invocations": {"Invocation": items[start..end].to_vec()},
            "TotalCount": items.len(),
            "PageNumber": number,
            "PageSize": size,
        }))
    }
}
