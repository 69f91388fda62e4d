//! One HTTP client, and one signed RPC call on it.
//!
//! Every request shipcheck sends goes through [`Transport::call`]: a single
//! reqwest client (rustls with the ring provider, connect and read timeouts,
//! a user agent with the version), a semaphore that caps requests in
//! flight, a fresh nonce and timestamp signed into every attempt, the retry
//! loop of [`crate::cloud::retry`], and one log line per attempt (action,
//! attempt, status, latency, request id) that never holds a secret, a token
//! or a signature.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

use crate::cloud::credentials::{CredentialProvider, Credentials};
use crate::cloud::endpoint::{Api, host_header};
use crate::cloud::error::{ApiError, CloudError, SignatureCheck, TransportKind, redacted_url};
use crate::cloud::redact::Redactor;
use crate::cloud::retry::{self, AttemptError, RetryPolicy, Stats};
use crate::cloud::sign::{self, SignatureVersion};
use crate::cloud::wire::ErrorEnvelope;

/// Response bodies larger than this are refused (a page of 50 deliveries
/// with 32 KB contents is under 2 MB).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// `shipcheck/<version>`, sent as the user agent.
pub fn user_agent() -> String {
    format!(
        "shipcheck/{} ({}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// A unique nonce: 32 hex digits of a random UUID.
pub fn new_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The API's timestamp format: UTC, whole seconds, `YYYY-MM-DDThh:mm:ssZ`.
pub fn timestamp(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The time source for signatures; replaceable so tests can skew it.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(Timestamp::now))
    }

    pub fn from_fn(f: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// One RPC action with its business parameters.
#[derive(Debug, Clone)]
pub struct RpcRequest {
    pub api: Api,
    pub action: &'static str,
    /// The region, for error messages (ECS also sends it as `RegionId`).
    pub region: String,
    /// Parameters sent in the URL query (what the ECS SDK does).
    pub query: Vec<(String, String)>,
    /// Parameters sent as a form body (what the eflo SDK does).
    pub form: Vec<(String, String)>,
}

/// A request signed for one attempt.
pub struct Prepared {
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// What was signed (V1 string-to-sign, or V3 string-to-sign), for
    /// diagnosing `SignatureDoesNotMatch`.
    pub string_to_sign: String,
    /// The V3 canonical request (empty for V1).
    pub canonical_request: String,
    pub timestamp: String,
    /// The secret values of this attempt, signature included.
    pub redactor: Redactor,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("url", &redacted_url(&self.url))
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

/// Signs `req` for `endpoint` with a given time and nonce.
///
/// V1 puts the common parameters (and the signature) in the query and signs
/// them together with the business parameters; V3 signs the headers. Both
/// send ECS parameters in the query and eflo parameters as a form body, the
/// way the official SDKs do (PROTOCOL.md §1.5).
pub fn prepare(
    req: &RpcRequest,
    endpoint: &Url,
    creds: &Credentials,
    version: SignatureVersion,
    now: Timestamp,
    nonce: &str,
    user_agent: &str,
) -> Prepared {
    let stamp = timestamp(now);
    let body = (!req.form.is_empty()).then(|| sign::canonical_query(&req.form));
    let mut headers: Vec<(String, String)> = vec![
        ("accept".into(), "application/json".into()),
        ("user-agent".into(), user_agent.into()),
    ];
    if body.is_some() {
        headers.push((
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    let mut redactor = creds.redactor();
    let mut url = endpoint.clone();
    match version {
        SignatureVersion::V1 => {
            let mut query: Vec<(String, String)> = vec![
                ("Action".into(), req.action.into()),
                ("Format".into(), "json".into()),
                ("Version".into(), req.api.version().into()),
                ("AccessKeyId".into(), creds.access_key_id.clone()),
                ("SignatureMethod".into(), "HMAC-SHA1".into()),
                ("SignatureVersion".into(), "1.0".into()),
                ("SignatureNonce".into(), nonce.into()),
                ("Timestamp".into(), stamp.clone()),
            ];
            if let Some(token) = &creds.security_token {
                query.push(("SecurityToken".into(), token.expose().into()));
            }
            query.extend(req.query.iter().cloned());
            let mut signed = query.clone();
            signed.extend(req.form.iter().cloned());
            let string_to_sign = sign::v1_string_to_sign("POST", &signed);
            let signature = sign::v1_signature(creds.access_key_secret.expose(), &string_to_sign);
            redactor.add(&signature);
            query.push(("Signature".into(), signature));
            url.set_query(Some(&sign::canonical_query(&query)));
            Prepared {
                url,
                headers,
                body,
                string_to_sign,
                canonical_request: String::new(),
                timestamp: stamp,
                redactor,
            }
        }
        SignatureVersion::V3 => {
            let payload_hash = sign::sha256_hex(body.as_deref().unwrap_or("").as_bytes());
            let host = host_header(endpoint);
            let mut signed_headers: Vec<(String, String)> = vec![
                ("host".into(), host),
                ("x-acs-action".into(), req.action.into()),
                ("x-acs-version".into(), req.api.version().into()),
                ("x-acs-date".into(), stamp.clone()),
                ("x-acs-signature-nonce".into(), nonce.into()),
                ("x-acs-content-sha256".into(), payload_hash.clone()),
            ];
            if let Some(token) = &creds.security_token {
                signed_headers.push(("x-acs-security-token".into(), token.expose().into()));
            }
            if body.is_some() {
                signed_headers.push((
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
            let query: Vec<(&str, &str)> = req
                .query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let header_refs: Vec<(&str, &str)> = signed_headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let canonical = sign::v3_canonical(&sign::V3Input {
                method: "POST",
                path: "/",
                query: &query,
                headers: &header_refs,
                payload_sha256: &payload_hash,
            });
            let string_to_sign = sign::v3_string_to_sign(&canonical.canonical_request);
            let signature = sign::v3_signature(creds.access_key_secret.expose(), &string_to_sign);
            redactor.add(&signature);
            let authorization =
                sign::v3_authorization(&creds.access_key_id, &canonical.signed_headers, &signature);
            if !req.query.is_empty() {
                url.set_query(Some(&sign::canonical_query(&req.query)));
            }
            // `host` is set by the HTTP stack to the same value; content-type
            // is already among the plain headers.
            headers.extend(
                signed_headers
                    .into_iter()
                    .filter(|(k, _)| k != "host" && k != "content-type"),
            );
            headers.push(("authorization".into(), authorization));
            Prepared {
                url,
                headers,
                body,
                string_to_sign,
                canonical_request: canonical.canonical_request,
                timestamp: stamp,
                redactor,
            }
        }
    }
}

/// The shared HTTP machinery of a [`crate::cloud::CloudClient`].
pub struct Transport {
    pub http: reqwest::Client,
    pub limiter: Semaphore,
    pub retry: RetryPolicy,
    pub signature: SignatureVersion,
    pub credentials: CredentialProvider,
    pub clock: Clock,
    pub user_agent: String,
}

/// Builds the one reqwest client: rustls with ring, timeouts, user agent.
pub fn build_client(
    connect_timeout: Duration,
    read_timeout: Duration,
    user_agent: &str,
) -> Result<reqwest::Client, CloudError> {
    // Several clients may race to install it; any one winning is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .read_timeout(read_timeout)
        .user_agent(user_agent)
        .https_only(false) // loopback http is vetted by `endpoint`
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CloudError::Config {
            detail: format!("cannot set up the HTTP client: {}", e.without_url()),
            help: "This is a bug in shipcheck's TLS setup; please report it.".into(),
        })
}

/// A successful response, parsed.
pub struct Reply<T> {
    pub value: T,
    pub request_id: Option<String>,
}

impl Transport {
    /// Sends `req` to `endpoint` with retries and parses the success body as `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        req: &RpcRequest,
        endpoint: &Url,
        stats: &Stats,
    ) -> Result<Reply<T>, CloudError> {
        retry::run(&self.retry, req.action, stats, |attempt, remaining| {
            self.attempt::<T>(req, endpoint, stats, attempt, remaining)
        })
        .await
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        req: &RpcRequest,
        endpoint: &Url,
        stats: &Stats,
        attempt: u32,
        remaining: Duration,
    ) -> Result<Reply<T>, AttemptError> {
        let creds = self
            .credentials
            .get(&self.http)
            .await
            .map_err(AttemptError::fatal)?;
        // Fresh for every attempt: a reused nonce is refused (SignatureNonceUsed).
        let prepared = prepare(
            req,
            endpoint,
            &creds,
            self.signature,
            self.clock.now(),
            &new_nonce(),
            &self.user_agent,
        );
        let mut builder = self
            .http
            .post(prepared.url.clone())
            .timeout(remaining.max(Duration::from_millis(1)));
        for (name, value) in &prepared.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &prepared.body {
            builder = builder.body(body.clone());
        }

        let permit = self
            .limiter
            .acquire()
            .await
            .expect("the limiter is never closed");
        Stats::add(&stats.requests, 1);
        let started = Instant::now();
        let outcome = match builder.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("x-acs-retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_millis);
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let header_request_id = response
                    .headers()
                    .get("x-acs-request-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match read_limited(response).await {
                    Ok(body) => Ok((status, retry_after, content_type, header_request_id, body)),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        let latency = started.elapsed();
        drop(permit);

        let (status, retry_after, content_type, header_request_id, body) = match outcome {
            Ok(parts) => parts,
            Err(err) => {
                let kind = transport_kind(&err);
                tracing::info!(
                    action = %req.action,
                    attempt,
                    status = "-",
                    latency_ms = latency.as_millis() as u64,
                    error = %kind,
                    "api request"
                );
                let retryable = kind != TransportKind::Other;
                let error = CloudError::Transport {
                    action: req.action.to_owned(),
                    url: redacted_url(endpoint),
                    kind,
                    source: err.without_url(),
                };
                return Err(AttemptError {
                    error,
                    retryable,
                    retry_after: None,
                });
            }
        };

        // Only an object can be the envelope (serde would read an array by position).
        let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let envelope: Option<ErrorEnvelope> = is_object
            .then(|| serde_json::from_slice(&body).ok())
            .flatten();
        let request_id = envelope
            .as_ref()
            .and_then(|e| e.request_id.clone())
            .or(header_request_id);
        tracing::info!(
            action = %req.action,
            attempt,
            status,
            latency_ms = latency.as_millis() as u64,
            request_id = %request_id.as_deref().unwrap_or("-"),
            "api request"
        );

        let success = (200..300).contains(&status);
        let error_code = envelope.as_ref().and_then(|e| {
            e.code
                .as_deref()
                .filter(|c| !c.is_empty() && !matches!(*c, "Success" | "200" | "OK"))
                .filter(|_| !success || e.message.is_some())
        });
        if success && error_code.is_none() {
            return match serde_json::from_slice::<T>(&body) {
                Ok(value) => Ok(Reply { value, request_id }),
                Err(e) => Err(AttemptError::transient(
                    CloudError::Malformed {
                        action: req.action.to_owned(),
                        url: redacted_url(endpoint),
                        request_id,
                        detail: format!("{e} ({} bytes, {content_type})", body.len()),
                    },
                    None,
                )),
            };
        }

        let envelope = envelope.unwrap_or_default();
        let code = envelope
            .code
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| format!("HTTP{status}"));
        let raw_message = match &envelope.message {
            Some(m) => m.clone(),
            None => body_excerpt(&body, &content_type),
        };
        let (message, signature_check) = if code == "SignatureDoesNotMatch" {
            diagnose_signature(&raw_message, &prepared)
        } else {
            (raw_message, None)
        };
        let api = ApiError {
            action: req.action.to_owned(),
            ram_namespace: req.api.ram_namespace(),
            status,
            code: code.clone(),
            message: prepared.redactor.apply(&message),
            request_id,
            host_id: envelope.host_id,
            recommend: envelope.recommend.map(|r| prepared.redactor.apply(&r)),
            region: Some(req.region.clone()),
            access_key_id: Some(creds.access_key_id.clone()),
            signature_check,
            sent_timestamp: Some(prepared.timestamp.clone()),
        };
        if api.is_throttling() || status == 429 {
            Stats::add(&stats.throttled, 1);
        }
        let retryable = is_retryable(&code, status);
        Err(AttemptError {
            error: api.into(),
            retryable,
            retry_after,
        })
    }
}

/// Codes and statuses worth another attempt (PROTOCOL.md §3.3).
pub fn is_retryable(code: &str, status: u16) -> bool {
    status >= 500
        || status == 429
        || code.contains("Throttling")
        || code == "ServiceUnavailable"
        || code.starts_with("InternalError")
        || code == "UnknownError"
}

fn transport_kind(err: &reqwest::Error) -> TransportKind {
    if err.is_timeout() {
        TransportKind::Timeout
    } else if err.is_connect() {
        TransportKind::Connect
    } else if err.is_request() || err.is_body() || err.is_decode() {
        TransportKind::Interrupted
    } else {
        TransportKind::Other
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            // Keep what fits: the JSON will not parse and the attempt is
            // reported as malformed, never silently cut.
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A short, printable piece of a non-JSON error body.
fn body_excerpt(body: &[u8], content_type: &str) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return format!("(empty {content_type} body)");
    }
    let mut excerpt: String = text.chars().take(200).collect();
    if excerpt.len() < text.len() {
        excerpt.push('…');
    }
    excerpt
}

/// GOSDK's rule: compare the server's string-to-sign with ours. Returns the
/// message without the server's string (which quotes the token) and the verdict.
fn diagnose_signature(message: &str, prepared: &Prepared) -> (String, Option<SignatureCheck>) {
    const MARKER: &str = "string to sign is:";
    let lower = message.to_ascii_lowercase();
    let Some(at) = lower.find(MARKER) else {
        return (message.to_owned(), Some(SignatureCheck::Unknown));
    };
    let server = message[at + MARKER.len()..].trim();
    let ours = prepared.string_to_sign.trim();
    let same = server == ours
        || (!prepared.canonical_request.is_empty() && server == prepared.canonical_request.trim());
    tracing::debug!(
        server_string_to_sign = %prepared.redactor.apply(server),
        our_string_to_sign = %prepared.redactor.apply(ours),
        "SignatureDoesNotMatch"
    );
    let head = message[..at]
        .trim_end()
        .trim_end_matches("server")
        .trim_end();
    let verdict = if same {
        "the server's string-to-sign equals shipcheck's"
    } else {
        "the server's string-to-sign differs from shipcheck's"
    };
    (
        format!("{head} ({verdict})"),
        Some(if same {
            SignatureCheck::SameStringToSign
        } else {
            SignatureCheck::DifferentStringToSign
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(token: Option<&str>) -> Credentials {
        let c = Credentials::new("testid", "testsecret");
        match token {
            Some(t) => c.with_token(t),
            None => c,
        }
    }

    fn query_value(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    #[test]
    fn v1_eflo_request_reproduces_the_derived_vector() {
        // PROTOCOL.md §1.6: POST, common params in the query, InvokeId and
        // NodeId in the form body, TEA's own output.
        let req = RpcRequest {
            api: Api::Eflo,
            action: "DescribeSendFileResults",
            region: "cn-wulanchabu".into(),
            query: vec![],
            form: vec![
                ("InvokeId".into(), "t-abc".into()),
                ("NodeId".into(), "e01-x".into()),
            ],
        };
        let endpoint = Url::parse("https://eflo-controller.cn-wulanchabu.aliyuncs.com/").unwrap();
        let p = prepare(
            &req,
            &endpoint,
            &creds(Some("tok")),
            SignatureVersion::V1,
            "2026-11-22T13:26:13Z".parse().unwrap(),
            "7a12ad63917d02343f5186f01707b09e",
            "ua",
        );
        assert_eq!(
            query_value(&p.url, "Signature").as_deref(),
            Some("rXjiYaQTpFIDaroQtGc0sTn/ZpQ=")
        );
        assert_eq!(p.body.as_deref(), Some("InvokeId=t-abc&NodeId=e01-x"));
        assert_eq!(
            query_value(&p.url, "InvokeId"),
            None,
            "business params go in the body"
        );
        // the wire query is POP-encoded: a base64 `+` or `/` never travels raw
        assert!(!p.url.query().unwrap().contains('/'));
    }

    #[test]
    fn v3_ecs_request_reproduces_the_derived_vector() {
        let req = RpcRequest {
            api: Api::Ecs,
            action: "DescribeSendFileResults",
            region: "cn-hangzhou".into(),
            query: vec![
                ("InvokeId".into(), "f-hz0jdfwd9f****".into()),
                ("MaxResults".into(), "50".into()),
                ("RegionId".into(), "cn-hangzhou".into()),
            ],
            form: vec![],
        };
        let endpoint = Url::parse("https://ecs.cn-hangzhou.aliyuncs.com/").unwrap();
        let p = prepare(
            &req,
            &endpoint,
            &creds(None),
            SignatureVersion::V3,
            "2024-01-01T00:00:00Z".parse().unwrap(),
            "0123456789abcdef0123456789abcdef",
            "ua",
        );
        assert_eq!(
            sign::sha256_hex(p.canonical_request.as_bytes()),
            "22ad0041de327079decf5bc9180de8e8a03fd9e2a563a6dfbccd3b8a6cdaab0d"
        );
        let auth = p
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .unwrap();
        assert!(auth.1.ends_with(
            "Signature=f3e6feefede3ea892df75552db5a8c191269b518a73504c4161bcb72e52e7d4f"
        ));
        assert_eq!(
            p.url.query(),
            Some("InvokeId=f-hz0jdfwd9f%2A%2A%2A%2A&MaxResults=50&RegionId=cn-hangzhou")
        );
    }

    #[test]
    fn every_attempt_gets_a_fresh_nonce_and_timestamp() {
        let req = RpcRequest {
            api: Api::Ecs,
            action: "DescribeSendFileResults",
            region: "cn-hangzhou".into(),
            query: vec![("RegionId".into(), "cn-hangzhou".into())],
            form: vec![],
        };
        let endpoint = Url::parse("https://ecs.cn-hangzhou.aliyuncs.com/").unwrap();
        // A clock that moves a second per reading, like attempts spaced by backoff.
        let tick = Arc::new(std::sync::atomic::AtomicI64::new(1_700_000_000));
        let clock = {
            let tick = tick.clone();
            Clock::from_fn(move || {
                Timestamp::from_second(tick.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
                    .unwrap()
            })
        };
        let attempts: Vec<Prepared> = (0..3)
            .map(|_| {
                prepare(
                    &req,
                    &endpoint,
                    &creds(None),
                    SignatureVersion::V1,
                    clock.now(),
                    &new_nonce(),
                    "ua",
                )
            })
            .collect();
        let nonces: std::collections::HashSet<_> = attempts
            .iter()
            .map(|p| query_value(&p.url, "SignatureNonce").unwrap())
            .collect();
        let stamps: std::collections::HashSet<_> = attempts
            .iter()
            .map(|p| query_value(&p.url, "Timestamp").unwrap())
            .collect();
        assert_eq!((nonces.len(), stamps.len()), (3, 3));
        assert_eq!(
            timestamp("2016-02-23T12:46:24.789Z".parse().unwrap()),
            "2016-02-23T12:46:24Z"
        );
    }

    #[test]
    fn the_signature_mismatch_message_loses_the_server_string() {
        let req = RpcRequest {
            api: Api::Ecs,
            action: "DescribeSendFileResults",
            region: "cn-hangzhou".into(),
            query: vec![],
            form: vec![],
        };
        let endpoint = Url::parse("https://ecs.cn-hangzhou.aliyuncs.com/").unwrap();
        let p = prepare(
            &req,
            &endpoint,
            &creds(Some("CAIS-secret-token")),
            SignatureVersion::V1,
            Timestamp::now(),
            "n",
            "ua",
        );
        let msg = format!(
            "Specified signature is not matched with our calculation. server string to sign is:{}",
            p.string_to_sign
        );
        let (shown, check) = diagnose_signature(&msg, &p);
        assert_eq!(check, Some(SignatureCheck::SameStringToSign));
        assert!(!shown.contains("CAIS"), "{shown}");
        assert!(shown.contains("equals shipcheck's"), "{shown}");
        let (_, check) = diagnose_signature("server string to sign is:POST&%2F&other", &p);
        assert_eq!(check, Some(SignatureCheck::DifferentStringToSign));
    }

    #[test]
    fn retryable_codes() {
        for code in [
            "Throttling",
            "Throttling.User",
            "Throttling.Api",
            "Rejected.Throttling",
            "ServiceUnavailable",
            "InternalError",
            "InternalError.Dispatch",
            "UnknownError",
        ] {
            assert!(is_retryable(code, 400), "{code}");
        }
        assert!(is_retryable("Anything", 502));
        for code in [
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId.NotFound",
            "Forbidden.RAM",
            "InvalidParam.PageSize",
        ] {
            assert!(!is_retryable(code, 400), "{code}");
        }
    }
}
