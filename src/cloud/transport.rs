//! The one HTTP transport: every request shipcheck sends goes through it.
//!
//! API calls, STS AssumeRole, the ECS metadata service and credentials URIs
//! all use `Transport::send`: a single reqwest client (rustls with the ring
//! provider, connect and read timeouts, a user agent with the version), a
//! limit on requests in flight that adapts to throttling, the retry loop of
//! [`crate::cloud::retry`], a bounded body read, and one log line per attempt
//! (action, attempt, status, latency, request id) that never holds a secret,
//! a token or a signature. What an answer means is the caller's business:
//! it hands in a judge that turns each answer into a value or a failure.
//!
//! Throttling slows the whole client, not only the request that met it: the
//! limit on requests in flight is additive-increase/multiplicative-decrease
//! (TCP's congestion rule, and what the AWS SDKs' adaptive retry mode does
//! with its send rate). Each throttled answer halves it, never below one;
//! every `limit` answers that get through raise it by one, up to the
//! configured `--concurrency`.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use url::Url;

use crate::cloud::error::{CloudError, TransportKind};
use crate::cloud::retry::{self, AttemptError, RetryPolicy, Stats};
use crate::cloud::wire::ErrorEnvelope;
use crate::protocol::endpoint::redacted_url;
use crate::protocol::request::{Method, SignedRequest};

/// Response bodies larger than this are refused (a page of 50 deliveries
/// with 32 KB contents is under 2 MB).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// `shipcheck/<version> (<os>; <arch>)`, sent as the user agent.
pub fn user_agent() -> String {
    format!(
        "shipcheck/{} ({}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// One HTTP request, built afresh for every attempt.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: reqwest::Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl Outgoing {
    pub fn get(url: Url) -> Self {
        Self {
            method: reqwest::Method::GET,
            url,
            headers: Vec::new(),
            body: None,
        }
    }

    /// A signed request as it goes on the wire.
    pub fn signed(signed: &SignedRequest) -> Self {
        Self {
            method: match signed.method {
                Method::Get => reqwest::Method::GET,
                Method::Post => reqwest::Method::POST,
            },
            url: signed.url.clone(),
            headers: signed.headers.clone(),
            body: signed.body.clone(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// An answer, whatever its status, with what every caller looks at.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// `x-acs-retry-after`, in milliseconds on the wire.
    pub retry_after: Option<Duration>,
    pub content_type: String,
    pub body: Vec<u8>,
    /// The API's envelope (`Code`, `Message`, `RequestId`, …) when the body
    /// of an error status is a JSON object (a 2xx body's is read by
    /// [`crate::cloud::wire::Contract::scan`]).
    pub envelope: Option<ErrorEnvelope>,
    /// From the envelope, else the `x-acs-request-id` header.
    pub request_id: Option<String>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (lossy: only ever parsed or shown redacted).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// Requests in flight, limited by a cap and by the API's throttling.
struct Limiter {
    slots: Semaphore,
    cap: usize,
    /// The current limit, and the answers that got through since it last moved.
    state: Mutex<(usize, usize)>,
}

impl Limiter {
    fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        Self {
            slots: Semaphore::new(cap),
            cap,
            state: Mutex::new((cap, 0)),
        }
    }

    /// An answer got through: after `limit` of them, one more slot.
    fn got_through(&self) {
        let mut state = self.state.lock().expect("limiter lock");
        let (limit, through) = &mut *state;
        *through += 1;
        if *through >= *limit && *limit < self.cap {
            *limit += 1;
            *through = 0;
            self.slots.add_permits(1);
        }
    }

    /// The API throttled: halve the limit, taking the slots out of use as
    /// the requests holding them finish.
    async fn throttled(&self) {
        let shrink = {
            let mut state = self.state.lock().expect("limiter lock");
            let (limit, through) = &mut *state;
            let new = (*limit / 2).max(1);
            let shrink = *limit - new;
            *limit = new;
            *through = 0;
            shrink
        };
        if shrink > 0 {
            tracing::debug!(shrink, "throttled: fewer requests in flight");
            let permits = self
                .slots
                .acquire_many(shrink as u32)
                .await
                .expect("the limiter is never closed");
            permits.forget();
        }
    }

    /// The limit now (for tests and logs).
    fn limit(&self) -> usize {
        self.state.lock().expect("limiter lock").0
    }
}

/// The shared HTTP machinery.
pub struct Transport {
    http: reqwest::Client,
    limiter: Limiter,
    /// The client's retry rules; sources with tighter needs pass their own.
    pub retry: RetryPolicy,
}

impl Transport {
    /// Builds the one reqwest client: rustls with ring, timeouts, user agent.
    pub fn new(
        connect_timeout: Duration,
        read_timeout: Duration,
        concurrency: usize,
        retry: RetryPolicy,
    ) -> Result<Self, CloudError> {
        // Several clients may race to install it; any one winning is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .read_timeout(read_timeout)
            .user_agent(user_agent())
            .https_only(false) // loopback http is vetted by `protocol::endpoint`
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CloudError::Config {
                detail: format!("cannot set up the HTTP client: {}", e.without_url()),
                help: "This is a bug in shipcheck's TLS setup; please report it.".into(),
            })?;
        Ok(Self {
            http,
            limiter: Limiter::new(concurrency),
            retry,
        })
    }

    /// How many requests may be in flight now (the cap, lowered while the
    /// API throttles).
    pub fn in_flight_limit(&self) -> usize {
        self.limiter.limit()
    }

    /// Sends a request until `judge` accepts an answer, fails for good, or
    /// `policy` runs out.
    ///
    /// `build` makes each attempt's request (with its context for the judge,
    /// e.g. what was signed); `judge` reads the answer. Transport failures
    /// (connect, timeout, a broken body) are retried here.
    pub(crate) async fn send<T, C, B, BFut, J>(
        &self,
        action: &str,
        policy: &RetryPolicy,
        stats: &Stats,
        build: B,
        judge: J,
    ) -> Result<T, CloudError>
    where
        B: Fn() -> BFut,
        BFut: Future<Output = Result<(Outgoing, C), AttemptError>>,
        J: Fn(Answer, C) -> Result<T, AttemptError>,
    {
        retry::run(policy, action, stats, |attempt, remaining| {
            let (build, judge) = (&build, &judge);
            async move {
                let (request, context) = build().await?;
                let answer = self
                    .attempt(action, attempt, remaining, request, stats)
                    .await?;
                let judged = judge(answer, context);
                match &judged {
                    Err(failure) if failure.throttled => self.limiter.throttled().await,
                    Err(_) => {}
                    Ok(_) => self.limiter.got_through(),
                }
                judged
            }
        })
        .await
    }

    /// One attempt: waits for a slot, sends, reads the body, logs.
    async fn attempt(
        &self,
        action: &str,
        attempt: u32,
        remaining: Duration,
        request: Outgoing,
        stats: &Stats,
    ) -> Result<Answer, AttemptError> {
        let url = request.url.clone();
        let mut builder = self
            .http
            .request(request.method, request.url)
            .timeout(remaining.max(Duration::from_millis(1)));
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }

        let permit = self
            .limiter
            .slots
            .acquire()
            .await
            .expect("the limiter is never closed");
        Stats::add(&stats.requests, 1);
        let started = Instant::now();
        let received = receive(builder).await;
        let latency = started.elapsed();
        drop(permit);

        match received {
            Ok(answer) => {
                tracing::info!(
                    action = %action,
                    attempt,
                    status = answer.status,
                    latency_ms = latency.as_millis() as u64,
                    request_id = %answer.request_id.as_deref().unwrap_or("-"),
                    "api request"
                );
                Ok(answer)
            }
            Err(err) => {
                let kind = transport_kind(&err);
                tracing::info!(
                    action = %action,
                    attempt,
                    status = "-",
                    latency_ms = latency.as_millis() as u64,
                    error = %kind,
                    "api request"
                );
                Err(AttemptError {
                    error: CloudError::Transport {
                        action: action.to_owned(),
                        url: redacted_url(&url),
                        kind,
                        source: err.without_url(),
                    },
                    retryable: kind != TransportKind::Other,
                    retry_after: None,
                    throttled: false,
                })
            }
        }
    }
}

/// Sends and reads the whole answer.
async fn receive(builder: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
    let response = builder.send().await?;
    let status = response.status().as_u16();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("x-acs-retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis);
    let content_type = header(reqwest::header::CONTENT_TYPE.as_str()).unwrap_or_default();
    let header_request_id = header("x-acs-request-id");
    let body = read_limited(response).await?;
    // Only an object can be the envelope (serde would read an array by
    // position). A 2xx body is scanned once, with its shape, by the caller
    // that knows the shape (`wire::Contract::scan`): pages are large.
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let envelope: Option<ErrorEnvelope> = (is_object && !(200..300).contains(&status))
        .then(|| serde_json::from_slice(&body).ok())
        .flatten();
    let request_id = envelope
        .as_ref()
        .and_then(|e| e.request_id.clone())
        .or(header_request_id);
    Ok(Answer {
        status,
        retry_after,
        content_type,
        body,
        envelope,
        request_id,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttling_halves_the_limit_and_answers_raise_it_again() {
        let limiter = Limiter::new(8);
        limiter.throttled().await;
        assert_eq!((limiter.limit(), limiter.slots.available_permits()), (4, 4));
        for _ in 0..3 {
            limiter.throttled().await;
        }
        assert_eq!((limiter.limit(), limiter.slots.available_permits()), (1, 1));
        // One answer through at limit 1 raises it to 2; two more, to 3.
        for _ in 0..3 {
            limiter.got_through();
        }
        assert_eq!((limiter.limit(), limiter.slots.available_permits()), (3, 3));
        for _ in 0..100 {
            limiter.got_through();
        }
        assert_eq!(limiter.limit(), 8, "never above the cap");
    }
}
