//! Test helpers for the simulator: start it on a state file, and sign RPC
//! requests with the library's request builder (`shipcheck::protocol::
//! request`) the way a client does (V1 GET query, V1 POST form, V3), with
//! control over nonce and timestamp so tests can provoke the refusals.

use std::sync::atomic::{AtomicU64, Ordering};

use shipcheck::protocol::request::{AccessKey, Method, RpcRequest, SignedRequest, Stamp};
use shipcheck::protocol::sign::SignatureVersion;
use shipcheck::protocol::time::format_timestamp;
use shipcheck::secret::Secret;
use shipcheck::sim::{SimConfig, SimServer};

pub const ECS: &str = "2014-05-26";
pub const EFLO: &str = "2022-12-15";
pub const KEY_ID: &str = "test-key-id";
pub const SECRET: &str = "test-key-secret";

/// A config from a fixture state, accepting the test key.
pub fn config(state: &str) -> SimConfig {
    SimConfig::from_state_file(&super::fixture(state))
        .unwrap()
        .with_key(KEY_ID, Secret::new(SECRET))
}

pub async fn start(config: SimConfig) -> SimServer {
    shipcheck::sim::start(config).await.unwrap()
}

/// `check manifest.yaml --wait` in `tests/data/<dir>` against a simulator
/// on `<dir>/state.yaml`, polling every 200 ms for a 2 s grace, with the
/// fetch's debug log (one `polling` line per poll) on stderr.
pub async fn check_waiting(dir: &'static str) -> (SimServer, std::process::Output) {
    let config = SimConfig::from_state_file(&super::data(&format!("{dir}/state.yaml")))
        .unwrap()
        .with_key(KEY_ID, Secret::new(SECRET));
    let server = start(config).await;
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || {
        super::shipcheck()
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .env("RUST_LOG", "shipcheck::fetch=debug")
            .current_dir(super::data(dir))
            .args(["check", "manifest.yaml", "--endpoint", &url])
            .args(["--wait", "60s", "--interval", "200ms", "--grace", "2s"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (server, output)
}

/// The host clock in the V1/V3 timestamp format.
pub fn now() -> String {
    format_timestamp(jiff::Timestamp::now())
}

static NONCE: AtomicU64 = AtomicU64::new(0);

pub fn nonce() -> String {
    format!(
        "nonce-{}-{}",
        std::process::id(),
        NONCE.fetch_add(1, Ordering::Relaxed)
    )
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An unsigned request: `form_body` puts the business parameters in a form
/// body instead of the query.
pub fn rpc<'a>(
    method: Method,
    action: &'a str,
    version: &'a str,
    params: &[(&str, &str)],
    form_body: bool,
) -> RpcRequest<'a> {
    let (query, form) = if form_body {
        (Vec::new(), owned(params))
    } else {
        (owned(params), Vec::new())
    };
    RpcRequest {
        method,
        action,
        version,
        query,
        form,
    }
}

/// A signing client for one server and one credential.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub key_id: String,
    pub secret: String,
    pub token: Option<String>,
}

/// A parsed answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: serde_json::Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["Code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn ok(self) -> serde_json::Value {
        assert_eq!(self.status, 200, "{}", self.json);
        self.json
    }
}

/// How to place a V1 request's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1 {
    /// GET, everything in the query.
    Get,
    /// POST, common parameters in the query, the action's in a form body.
    PostForm,
}

impl Client {
    pub fn new(server: &SimServer) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            http: reqwest::Client::builder().build().unwrap(),
            base: server.url(),
            key_id: KEY_ID.to_owned(),
            secret: SECRET.to_owned(),
            token: None,
        }
    }

    pub fn with_secret(&self, secret: &str) -> Self {
        Self {
            secret: secret.to_owned(),
            ..self.clone()
        }
    }

    pub fn with_key(&self, id: &str, secret: &str, token: Option<&str>) -> Self {
        Self {
            key_id: id.to_owned(),
            secret: secret.to_owned(),
            token: token.map(str::to_owned),
            ..self.clone()
        }
    }

    /// Signs `request` with the library's builder, for this server and key.
    pub fn sign(
        &self,
        scheme: SignatureVersion,
        request: &RpcRequest<'_>,
        nonce: &str,
        timestamp: &str,
    ) -> SignedRequest {
        let endpoint = url::Url::parse(&self.base).unwrap();
        let key = AccessKey {
            id: &self.key_id,
            secret: &self.secret,
            security_token: self.token.as_deref(),
        };
        request.sign(&endpoint, &key, scheme, &Stamp { timestamp, nonce })
    }

    /// The signed V1 request as the builder makes it.
    pub fn v1_signed(
        &self,
        style: V1,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
        nonce: &str,
        timestamp: &str,
    ) -> SignedRequest {
        let request = match style {
            V1::Get => rpc(Method::Get, action, version, params, false),
            V1::PostForm => rpc(Method::Post, action, version, params, true),
        };
        self.sign(SignatureVersion::V1, &request, nonce, timestamp)
    }

    /// The request to send for a signed one.
    pub fn request(&self, signed: SignedRequest) -> reqwest::RequestBuilder {
        let method = match signed.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let mut request = self.http.request(method, signed.url);
        for (name, value) in signed.headers {
            request = request.header(name, value);
        }
        match signed.body {
            Some(body) => request.body(body),
            None => request,
        }
    }

    /// A V1 call with a fresh nonce and the current time.
    pub async fn v1(
        &self,
        style: V1,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
    ) -> Answer {
        self.v1_with(style, action, version, params, &nonce(), &now())
            .await
    }

    pub async fn v1_with(
        &self,
        style: V1,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
        nonce: &str,
        timestamp: &str,
    ) -> Answer {
        let request = self.v1_request(style, action, version, params, nonce, timestamp);
        answer(request.send().await.unwrap()).await
    }

    /// The signed V1 request, unsent (for tests that expect the transport to fail).
    pub fn v1_request(
        &self,
        style: V1,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
        nonce: &str,
        timestamp: &str,
    ) -> reqwest::RequestBuilder {
        self.request(self.v1_signed(style, action, version, params, nonce, timestamp))
    }

    /// A V3 call: business parameters in the query (as ECS-PY sends them)
    /// or in a form body (as EFLO-PY does).
    pub async fn v3(
        &self,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
        form_body: bool,
    ) -> Answer {
        self.v3_with(action, version, params, form_body, &nonce(), &now())
            .await
    }

    pub async fn v3_with(
        &self,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
        form_body: bool,
        nonce: &str,
        date: &str,
    ) -> Answer {
        let request = rpc(Method::Post, action, version, params, form_body);
        let signed = self.sign(SignatureVersion::V3, &request, nonce, date);
        answer(self.request(signed).send().await.unwrap()).await
    }

    pub async fn stats(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/_sim/stats", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let json = response.json().await.unwrap();
    Answer {
        status,
        headers,
        json,
    }
}

/// Every path where two JSON values differ, for field-by-field comparison.
pub fn differences(expected: &serde_json::Value, actual: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let mut out = Vec::new();
    fn walk(path: String, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => walk(format!("{path}/{k}"), v, w, out),
                        None => out.push(format!("{path}/{k}: missing (expected {v})")),
                    }
                }
                for k in y.keys().filter(|k| !x.contains_key(*k)) {
                    out.push(format!("{path}/{k}: unexpected {}", y[k]));
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    walk(format!("{path}/{i}"), v, w, out);
                }
            }
            _ if a == b => {}
            _ => out.push(format!("{path}: expected {a}, got {b}")),
        }
    }
    walk(String::new(), expected, actual, &mut out);
    out
}

/// Runs `script` (under `tests/data/`) with the official SDK's python
/// (`SHIPCHECK_SDK_PYTHON`, set by scripts/test.sh) against `server`, with
/// the simulator's address and keys in `SIM_ENDPOINT`, `SIM_ACCESS_KEY_ID`
/// and `SIM_ACCESS_KEY_SECRET` besides `env`; asserts that it succeeded and
/// returns the JSON it printed. The script blocks; the server keeps serving
/// on the test's runtime.
pub async fn run_sdk_script(
    server: &SimServer,
    script: &str,
    env: Vec<(&'static str, std::ffi::OsString)>,
) -> serde_json::Value {
    let python = std::env::var("SHIPCHECK_SDK_PYTHON")
        .expect("SHIPCHECK_SDK_PYTHON names the SDK virtualenv's python (scripts/test.sh sets it)");
    let script = crate::support::data(script);
    let endpoint = server.addr().to_string();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&python)
            .arg(&script)
            .env("SIM_ENDPOINT", endpoint)
            .env("SIM_ACCESS_KEY_ID", KEY_ID)
            .env("SIM_ACCESS_KEY_SECRET", SECRET)
            .envs(env)
            .output()
    })
    .await
    .unwrap()
    .expect("the SDK python runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the SDK script failed:\n{stderr}");
    serde_json::from_slice(&output.stdout).unwrap()
}
