//! A signed API call on the transport, and what its answer means.
//!
//! Each attempt fetches the credentials (refreshed when they are about to
//! expire), signs the request afresh with [`crate::protocol::request`] (a
//! new nonce and timestamp: a reused nonce is refused) and sends it through
//! [`Transport`]. The answer is judged here: a success body parses as the
//! action's response; anything else becomes an [`ApiError`] scrubbed of the
//! request's secrets, retried when its code says the API was busy.

use std::sync::Arc;

use crate::cloud::wire::Contract;
use jiff::Timestamp;
use url::Url;

use crate::cloud::credentials::{CredentialProvider, Credentials};
use crate::cloud::error::{ApiError, CloudError, SignatureCheck};
use crate::cloud::redact::Redactor;
use crate::cloud::retry::{AttemptError, Stats, is_retryable};
use crate::cloud::transport::{Answer, Outgoing, Transport};
use crate::protocol::Provider;
use crate::protocol::endpoint::redacted_url;
use crate::protocol::request::{Method, RpcRequest, SignedRequest, Stamp, new_nonce};
use crate::protocol::sign::SignatureVersion;
use crate::protocol::time::format_timestamp;

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

/// One API action with its business parameters.
#[derive(Debug, Clone)]
pub struct ApiCall {
    pub provider: Provider,
    /// The region, for error messages (ECS also sends it as `RegionId`).
    pub region: String,
    pub request: RpcRequest<'static>,
}

impl ApiCall {
    /// A POST of `action`: ECS parameters go in the query, eflo's in a form
    /// body, the way the official SDKs send them.
    pub fn new(
        provider: Provider,
        action: &'static str,
        region: &str,
        params: Vec<(String, String)>,
    ) -> Self {
        let (query, form) = match provider {
            Provider::Ecs => (params, Vec::new()),
            Provider::Eflo => (Vec::new(), params),
        };
        Self {
            provider,
            region: region.to_owned(),
            request: RpcRequest {
                method: Method::Post,
                action,
                version: provider.version(),
                query,
                form,
            },
        }
    }

    fn action(&self) -> &'static str {
        self.request.action
    }
}

/// A successful response, parsed.
pub struct Reply<T> {
    pub value: T,
    pub request_id: Option<String>,
}

/// What one attempt signed, for reading its answer.
struct Attempt {
    signed: SignedRequest,
    timestamp: String,
    access_key_id: String,
    /// The secret values of this attempt, signature included.
    redactor: Redactor,
}

/// Signs API calls and sends them.
pub struct Rpc {
    pub transport: Transport,
    pub credentials: CredentialProvider,
    pub signature: SignatureVersion,
    /// The time signed into requests.
    pub clock: Clock,
}

impl Rpc {
    /// Sends `call` to `endpoint` with retries and parses the success body as `T`.
    pub async fn call<T: Contract>(
        &self,
        call: &ApiCall,
        endpoint: &Url,
        stats: &Stats,
    ) -> Result<Reply<T>, CloudError> {
        let transport = &self.transport;
        transport
            .send(
                call.action(),
                &transport.retry,
                stats,
                move || async move {
                    let creds = self
                        .credentials
                        .get(transport)
                        .await
                        .map_err(AttemptError::fatal)?;
                    let attempt = self.sign(call, endpoint, &creds);
                    Ok((Outgoing::signed(&attempt.signed), attempt))
                },
                |answer, attempt| judge(call, endpoint, stats, answer, &attempt),
            )
            .await
    }

    /// Signs `call` for one attempt, with a fresh nonce and timestamp.
    fn sign(&self, call: &ApiCall, endpoint: &Url, creds: &Credentials) -> Attempt {
        let timestamp = format_timestamp(self.clock.now());
        let signed = call.request.sign(
            endpoint,
            &creds.access_key(),
            self.signature,
            &Stamp {
                timestamp: &timestamp,
                nonce: &new_nonce(),
            },
        );
        let redactor = creds.redactor().with(&signed.signature);
        crate::cloud::redact::remember(&redactor);
        Attempt {
            signed,
            timestamp,
            access_key_id: creds.access_key_id.clone(),
            redactor,
        }
    }
}

/// Reads an API answer: the parsed success body, or the envelope as an error.
fn judge<T: Contract>(
    call: &ApiCall,
    endpoint: &Url,
    stats: &Stats,
    answer: Answer,
    attempt: &Attempt,
) -> Result<Reply<T>, AttemptError> {
    let action = call.action();
    let mut answer = answer;
    // One scan of a 2xx body reads its envelope and checks its shape; one
    // parse builds the typed page.
    let shape = if answer.is_success() {
        let scan = T::scan(&answer.body);
        if let Some(envelope) = scan.envelope {
            answer.request_id = envelope.request_id.clone().or(answer.request_id);
            answer.envelope = Some(envelope);
        }
        scan.shape
    } else {
        Ok(())
    };
    let error_code = answer.envelope.as_ref().and_then(|e| {
        e.code
            .as_deref()
            .filter(|c| !c.is_empty() && !matches!(*c, "Success" | "200" | "OK"))
    });
    if answer.is_success() && error_code.is_none() {
        // A body without its action's wrapper is retried like a lost
        // answer, and then fails: it is never an empty page.
        let value = shape
            .and_then(|()| serde_json::from_slice::<T>(&answer.body).map_err(|e| e.to_string()));
        return match value {
            Ok(value) => Ok(Reply {
                value,
                request_id: answer.request_id.map(|r| attempt.redactor.apply(&r)),
            }),
            Err(e) => Err(AttemptError::transient(
                CloudError::Malformed {
                    action: action.to_owned(),
                    url: redacted_url(endpoint),
                    request_id: answer.request_id.map(|r| attempt.redactor.apply(&r)),
                    detail: format!("{e} ({} bytes, {})", answer.body.len(), answer.content_type),
                },
                None,
            )),
        };
    }

    let status = answer.status;
    let envelope = answer.envelope.clone().unwrap_or_default();
    let code = envelope
        .code
        .clone()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| format!("HTTP{status}"));
    let code = attempt.redactor.apply(&code);
    let raw_message = match &envelope.message {
        Some(m) => m.clone(),
        None => body_excerpt(&answer),
    };
    let (message, signature_check) = if code == "SignatureDoesNotMatch" {
        diagnose_signature(&raw_message, attempt)
    } else {
        (raw_message, None)
    };
    let api = ApiError {
        action: action.to_owned(),
        ram_namespace: call.provider.ram_namespace(),
        status,
        code: code.clone(),
        message: attempt.redactor.apply(&message),
        // Every field of the envelope is the server's text: a hostile
        // endpoint may echo the request's secrets in any of them.
        request_id: answer.request_id.map(|r| attempt.redactor.apply(&r)),
        host_id: envelope.host_id.map(|h| attempt.redactor.apply(&h)),
        recommend: envelope.recommend.map(|r| attempt.redactor.apply(&r)),
        region: Some(call.region.clone()),
        access_key_id: Some(attempt.access_key_id.clone()),
        signature_check,
        sent_timestamp: Some(attempt.timestamp.clone()),
    };
    let throttled = api.is_throttling() || status == 429;
    if throttled {
        Stats::add(&stats.throttled, 1);
    }
    Err(AttemptError {
        error: api.into(),
        retryable: is_retryable(&code, status),
        retry_after: answer.retry_after,
        throttled,
    })
}

/// A short, printable piece of a non-JSON error body.
fn body_excerpt(answer: &Answer) -> String {
    let text = answer.text();
    let text = text.trim();
    if text.is_empty() {
        return format!("(empty {} body)", answer.content_type);
    }
    let mut excerpt: String = text.chars().take(200).collect();
    if excerpt.len() < text.len() {
        excerpt.push('…');
    }
    excerpt
}

/// GOSDK's rule: compare the server's string-to-sign with ours. Returns the
/// message without the server's string (which quotes the token) and the verdict.
fn diagnose_signature(message: &str, attempt: &Attempt) -> (String, Option<SignatureCheck>) {
    const MARKER: &str = "string to sign is:";
    let lower = message.to_ascii_lowercase();
    let Some(at) = lower.find(MARKER) else {
        return (message.to_owned(), Some(SignatureCheck::Unknown));
    };
    let signed = &attempt.signed;
    let server = message[at + MARKER.len()..].trim();
    let ours = signed.string_to_sign.trim();
    let same = server == ours
        || (!signed.canonical_request.is_empty() && server == signed.canonical_request.trim());
    tracing::debug!(
        server_string_to_sign = %attempt.redactor.apply(server),
        our_string_to_sign = %attempt.redactor.apply(ours),
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

    fn query_value(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    fn rpc(clock: Clock) -> Rpc {
        Rpc {
            transport: Transport::new(
                std::time::Duration::from_secs(1),
                std::time::Duration::from_secs(1),
                1,
                Default::default(),
            )
            .unwrap(),
            credentials: CredentialProvider::explicit(Credentials::new("testid", "testsecret")),
            signature: SignatureVersion::V1,
            clock,
        }
    }

    fn ecs_call() -> ApiCall {
        ApiCall::new(
            Provider::Ecs,
            "DescribeSendFileResults",
            "cn-hangzhou",
            vec![("RegionId".into(), "cn-hangzhou".into())],
        )
    }

    #[test]
    fn each_product_places_its_parameters_like_its_sdk() {
        let params = vec![("InvokeId".to_owned(), "t-abc".to_owned())];
        let eflo = ApiCall::new(
            Provider::Eflo,
            "DescribeSendFileResults",
            "x",
            params.clone(),
        );
        assert_eq!(
            (
                eflo.request.query.len(),
                eflo.request.form,
                eflo.request.version
            ),
            (0, params.clone(), "2022-12-15")
        );
        let ecs = ApiCall::new(
            Provider::Ecs,
            "DescribeSendFileResults",
            "x",
            params.clone(),
        );
        assert_eq!((ecs.request.query, ecs.request.form.len()), (params, 0));
    }

    #[test]
    fn every_attempt_gets_a_fresh_nonce_and_timestamp() {
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
        let rpc = rpc(clock);
        let creds = Credentials::new("testid", "testsecret");
        let attempts: Vec<Attempt> = (0..3)
            .map(|_| rpc.sign(&ecs_call(), &endpoint, &creds))
            .collect();
        let nonces: std::collections::HashSet<_> = attempts
            .iter()
            .map(|a| query_value(&a.signed.url, "SignatureNonce").unwrap())
            .collect();
        let stamps: std::collections::HashSet<_> = attempts
            .iter()
            .map(|a| query_value(&a.signed.url, "Timestamp").unwrap())
            .collect();
        assert_eq!((nonces.len(), stamps.len()), (3, 3));
        assert!(stamps.contains(&attempts[0].timestamp));
    }

    #[test]
    fn the_signature_mismatch_message_loses_the_server_string() {
        let endpoint = Url::parse("https://ecs.cn-hangzhou.aliyuncs.com/").unwrap();
        let creds = Credentials::new("testid", "testsecret").with_token("CAIS-secret-token");
        let attempt = rpc(Clock::system()).sign(&ecs_call(), &endpoint, &creds);
        let msg = format!(
            "Specified signature is not matched with our calculation. server string to sign is:{}",
            attempt.signed.string_to_sign
        );
        let (shown, check) = diagnose_signature(&msg, &attempt);
        assert_eq!(check, Some(SignatureCheck::SameStringToSign));
        assert!(!shown.contains("CAIS"), "{shown}");
        assert!(shown.contains("equals shipcheck's"), "{shown}");
        let (_, check) = diagnose_signature("server string to sign is:POST&%2F&other", &attempt);
        assert_eq!(check, Some(SignatureCheck::DifferentStringToSign));
    }
}
