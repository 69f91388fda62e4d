//! Test helpers for the simulator: start it on a state file, and sign RPC
//! requests with `shipcheck::cloud::sign` the way a client does (V1 GET
//! query, V1 POST form, V3), with control over nonce and timestamp so tests
//! can provoke the refusals.

use std::sync::atomic::{AtomicU64, Ordering};

use shipcheck::cloud::sign;
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

/// The host clock in the V1/V3 timestamp format.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

static NONCE: AtomicU64 = AtomicU64::new(0);

pub fn nonce() -> String {
    format!(
        "nonce-{}-{}",
        std::process::id(),
        NONCE.fetch_add(1, Ordering::Relaxed)
    )
}

fn encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", sign::pop_encode(k), sign::pop_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A signing client for one server and one credential.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub host: String,
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
            host: server.addr().to_string(),
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

    /// The common V1 parameters.
    pub fn v1_common(
        &self,
        action: &str,
        version: &str,
        nonce: &str,
        timestamp: &str,
    ) -> Vec<(String, String)> {
        let mut common = owned(&[
            ("AccessKeyId", &self.key_id),
            ("Action", action),
            ("Format", "JSON"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce),
            ("SignatureVersion", "1.0"),
            ("Timestamp", timestamp),
            ("Version", version),
        ]);
        if let Some(token) = &self.token {
            common.push(("SecurityToken".to_owned(), token.clone()));
        }
        common
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
        let mut query = self.v1_common(action, version, nonce, timestamp);
        let business = owned(params);
        let method = match style {
            V1::Get => "GET",
            V1::PostForm => "POST",
        };
        let all: Vec<(String, String)> = query.iter().chain(&business).cloned().collect();
        let signature = sign::v1_signature(&self.secret, &sign::v1_string_to_sign(method, &all));
        match style {
            V1::Get => {
                query.extend(business);
                query.push(("Signature".to_owned(), signature));
                self.http.get(format!("{}/?{}", self.base, encode(&query)))
            }
            V1::PostForm => {
                query.push(("Signature".to_owned(), signature));
                self.http
                    .post(format!("{}/?{}", self.base, encode(&query)))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(encode(&business))
            }
        }
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
        let business = owned(params);
        let (query, body) = if form_body {
            (Vec::new(), encode(&business))
        } else {
            (business, String::new())
        };
        let payload = sign::sha256_hex(body.as_bytes());
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.host.clone()),
            ("x-acs-action".into(), action.into()),
            ("x-acs-version".into(), version.into()),
            ("x-acs-date".into(), date.into()),
            ("x-acs-signature-nonce".into(), nonce.into()),
            ("x-acs-content-sha256".into(), payload.clone()),
        ];
        if form_body {
            headers.push((
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        if let Some(token) = &self.token {
            headers.push(("x-acs-security-token".into(), token.clone()));
        }
        let query_refs: Vec<(&str, &str)> = query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let header_refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let canonical = sign::v3_canonical(&sign::V3Input {
            method: "POST",
            path: "/",
            query: &query_refs,
            headers: &header_refs,
            payload_sha256: &payload,
        });
        let signature = sign::v3_signature(
            &self.secret,
            &sign::v3_string_to_sign(&canonical.canonical_request),
        );
        let mut request = self.http.post(format!("{}/?{}", self.base, encode(&query)));
        for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
            request = request.header(name, value);
        }
        request = request
            .header(
                "authorization",
                sign::v3_authorization(&self.key_id, &canonical.signed_headers, &signature),
            )
            .body(body);
        answer(request.send().await.unwrap()).await
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
