//! Everything that can go wrong talking to the cloud, as typed errors that
//! say what to do next.
//!
//! The API's error envelope (`Code`, `Message`, `RequestId`, `Recommend`)
//! becomes [`ApiError`]; the codes people actually hit (a wrong secret, a
//! missing RAM permission, a skewed clock, a mistyped region) get a help text
//! of their own. No message built here ever holds a secret, a token or a
//! signature: API messages pass through [`crate::cloud::redact`] first, and
//! URLs are shown without their query
//! ([`crate::protocol::endpoint::redacted_url`]).

use std::fmt;
use std::time::Duration;

use miette::Diagnostic;

use crate::protocol::endpoint::EndpointError;

/// What went wrong, for a caller that maps it to "could not verify" (exit 3).
#[derive(Debug, thiserror::Error)]
#[allow(unused_assignments)] // miette's derive trips this lint spuriously
pub enum CloudError {
    /// The API answered with its error envelope.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The request never got an answer: refused, reset, timed out, TLS.
    #[error("{action}: {kind} talking to {url}")]
    Transport {
        action: String,
        /// The endpoint without its query (which holds the signature).
        url: String,
        kind: TransportKind,
        #[source]
        source: reqwest::Error,
    },

    /// The answer arrived but is not what the API documents.
    #[error("{action}: the response from {url} could not be read: {detail}")]
    Malformed {
        action: String,
        url: String,
        request_id: Option<String>,
        detail: String,
    },

    /// Retries ran out (attempts or time budget); the last failure is attached.
    #[error(
        "{action}: gave up after {attempts} attempt{s} in {elapsed:.1?} ({reason})",
        s = if *attempts == 1 { "" } else { "s" }
    )]
    GaveUp {
        action: String,
        attempts: u32,
        elapsed: Duration,
        reason: GiveUpReason,
        #[source]
        last: Box<CloudError>,
    },

    /// The pages did not add up: the answer would be incomplete.
    #[error("{action}: incomplete listing: {detail}")]
    Incomplete { action: String, detail: String },

    /// The listing moved while it was read and did not hold still on any
    /// of the passes allowed: what it holds cannot be known.
    #[error("{action} ({query}): the listing changed while it was read: {detail}")]
    ListingChanged {
        action: String,
        /// The query's filters, e.g. `RegionId=cn-hangzhou, Name=app.conf`.
        query: String,
        detail: String,
    },

    /// The listing stopped making progress: a `NextToken` came back again,
    /// or pages kept coming with a token but no new record.
    #[error("{action} ({query}): the listing makes no progress: {detail}")]
    ListingStalled {
        action: String,
        query: String,
        detail: String,
    },

    /// The listing claims more than the API can hold (100,000 records per
    /// region: 2,000 pages of 50).
    #[error("{action} ({query}): the listing is longer than the API can hold: {detail}")]
    ListingTooLong {
        action: String,
        query: String,
        detail: String,
    },

    /// The whole check's deadline passed before this query was answered.
    #[error(
        "{action} ({query}): the check's deadline ({timeout:?}) passed before the query was answered"
    )]
    Deadline {
        action: String,
        query: String,
        /// The deadline, counted from the start of the check.
        timeout: Duration,
    },

    /// No usable credentials, or a credential source failed.
    #[error("credentials: {detail}")]
    Credentials {
        /// Where they were being read from (a profile, the metadata service, …).
        source_name: String,
        detail: String,
        help: String,
    },

    /// The configuration cannot work (a bad endpoint URL, region, filter).
    #[error("{detail}")]
    Config { detail: String, help: String },
}

/// Why [`CloudError::GaveUp`] stopped retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    /// `--max-attempts` were all used.
    Attempts,
    /// The next wait would pass `--retry-budget`.
    Budget,
    /// The API kept throttling past the (larger) bound on throttled answers.
    Throttled,
}

impl fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Attempts => "attempt limit reached",
            Self::Budget => "retry time budget spent",
            Self::Throttled => "still throttled after the most throttled answers allowed",
        })
    }
}

/// The family of a transport failure, which decides whether it is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Connect,
    Timeout,
    /// The connection broke mid-request or mid-body (reset, truncated).
    Interrupted,
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "could not connect",
            Self::Timeout => "timed out",
            Self::Interrupted => "connection interrupted",
            Self::Other => "HTTP failure",
        })
    }
}

/// The documented error envelope (PROTOCOL.md §3.2), already redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub action: String,
    /// `ecs` or `eflo`: the RAM namespace of the action.
    pub ram_namespace: &'static str,
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub host_id: Option<String>,
    pub recommend: Option<String>,
    pub region: Option<String>,
    /// The AccessKeyId the request was signed with (an id, not a secret).
    pub access_key_id: Option<String>,
    /// For `SignatureDoesNotMatch`: what comparing string-to-signs showed.
    pub signature_check: Option<SignatureCheck>,
    /// For `InvalidTimeStamp.*`: the timestamp the request carried.
    pub sent_timestamp: Option<String>,
}

/// Result of comparing the server's string-to-sign with ours (GOSDK's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Same string: the server used another secret for this key id.
    SameStringToSign,
    /// Different strings: the request was canonicalised differently.
    DifferentStringToSign,
    /// The server did not say what it signed.
    Unknown,
}

impl ApiError {
    /// Whether the code is one of the throttling family.
    pub fn is_throttling(&self) -> bool {
        self.code.contains("Throttling")
    }

    /// The RAM action a policy must allow, e.g. `ecs:DescribeSendFileResults`.
    pub fn ram_action(&self) -> String {
        format!("{}:{}", self.ram_namespace, self.action)
    }

    /// What the user should do about this code.
    pub fn help(&self) -> String {
        let key = self.access_key_id.as_deref().unwrap_or("the access key");
        let code = self.code.as_str();
        let mut help = match code {
            "SignatureDoesNotMatch" | "IncompleteSignature" => match self.signature_check {
                Some(SignatureCheck::SameStringToSign) => format!(
                    "The server signed exactly what shipcheck signed, so the access key secret \
                     is wrong for AccessKeyId {key}: check ALIBABA_CLOUD_ACCESS_KEY_SECRET or the \
                     profile in ~/.aliyun/config.json (a rotated key keeps its id but not its secret)."
                ),
                Some(SignatureCheck::DifferentStringToSign) => "The server canonicalised the \
                     request differently from shipcheck (the secret was not the problem). A proxy \
                     may be rewriting the request; otherwise this is a shipcheck bug: rerun with \
                     -vv and report it. `--signature v3` (or v1) may work around it."
                    .to_owned(),
                _ => format!(
                    "Check the access key secret for AccessKeyId {key}; if it is right, rerun \
                     with -vv and try `--signature v3` (or v1)."
                ),
            },
            "InvalidAccessKeyId.NotFound" | "InvalidAccessKeyId" => format!(
                "AccessKeyId {key} does not exist: it was deleted, mistyped, or is a temporary \
                 (STS) key sent without its security token. Check where the credentials came \
                 from (run with -v) and create a new AccessKey in the RAM console if needed."
            ),
            "InvalidAccessKeyId.Inactive" => format!(
                "AccessKeyId {key} is disabled; enable it in the RAM console or use another key."
            ),
            "InvalidSecurityToken.Expired"
            | "InvalidSecurityToken.Malformed"
            | "InvalidSecurityToken.MismatchWithAccessKey" => {
                "The STS security token is expired or does not belong to this AccessKeyId; \
                 fetch fresh temporary credentials."
                    .to_owned()
            }
            "InvalidTimeStamp.Expired" | "InvalidTimeStamp.Format" => format!(
                "The request's timestamp{} is too far from the server's clock: synchronise this \
                 machine's clock (NTP) and retry.",
                self.sent_timestamp
                    .as_deref()
                    .map(|t| format!(" ({t} UTC)"))
                    .unwrap_or_default()
            ),
            "InvalidRegionId.NotFound" | "InvalidRegionId" | "RegionId.ApiNotSupported" => {
                format!(
                    "Region `{}` is not known to {} (or does not offer this API): check \
                     --region and the manifest's regions (e.g. cn-hangzhou, ap-southeast-1).",
                    self.region.as_deref().unwrap_or("?"),
                    self.ram_namespace
                )
            }
            "SignatureNonceUsed" => "The server saw this request's nonce before. shipcheck \
                 makes a fresh nonce per attempt, so a proxy is probably replaying requests."
                .to_owned(),
            c if c.starts_with("Forbidden")
                || c == "NoPermission"
                || c.contains("NotAuthorized") =>
            {
                format!(
                    "The RAM identity behind AccessKeyId {key} lacks permission for `{}`: \
                     attach a policy allowing that action (AliyunECSReadOnlyAccess covers the \
                     ECS reads) or use another profile.",
                    self.ram_action()
                )
            }
            c if self.is_throttling()
                || c == "ServiceUnavailable"
                || c.starts_with("InternalError") =>
            {
                "The API stayed busy or failing through every retry: lower --concurrency, or \
                 raise --max-attempts / --retry-budget, and try again later."
                    .to_owned()
            }
            _ => "See the API's error code documentation.".to_owned(),
        };
        if let Some(recommend) = &self.recommend {
            help.push_str("\nTroubleshoot: ");
            help.push_str(recommend);
        }
        help
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {} (HTTP {}): {}",
            self.action, self.code, self.status, self.message
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl CloudError {
    /// The API error at the root of this error, if any (through `GaveUp`).
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(api) => Some(api),
            Self::GaveUp { last, .. } => last.api(),
            _ => None,
        }
    }

    /// The transport failure at the root of this error, if any (through `GaveUp`).
    pub fn transport_kind(&self) -> Option<TransportKind> {
        match self {
            Self::Transport { kind, .. } => Some(*kind),
            Self::GaveUp { last, .. } => last.transport_kind(),
            _ => None,
        }
    }

    /// The API error code at the root, if any.
    pub fn code(&self) -> Option<&str> {
        self.api().map(|api| api.code.as_str())
    }

    fn help_text(&self) -> Option<String> {
        match self {
            Self::Api(api) => Some(api.help()),
            Self::Transport { kind, .. } => Some(match kind {
                TransportKind::Connect => "Check the network, a proxy (HTTPS_PROXY), and \
                     --endpoint / --region; --vpc endpoints only resolve inside a VPC."
                    .to_owned(),
                TransportKind::Timeout => "The endpoint is slow or unreachable: raise \
                     --connect-timeout / --read-timeout, or lower --concurrency."
                    .to_owned(),
                _ => "Retry; if it persists, check the network path to the endpoint.".to_owned(),
            }),
            Self::Malformed { .. } => Some(
                "The endpoint did not answer like the Alibaba Cloud API: check --endpoint; \
                 rerun with -vv for the request log."
                    .to_owned(),
            ),
            Self::GaveUp { last, .. } => Some(match last.help_text() {
                Some(inner) => {
                    format!(
                        "{inner}\nRetries are bounded by --max-attempts (errors), \
                         --max-throttled (throttled answers) and --retry-budget."
                    )
                }
                None => "Retries are bounded by --max-attempts (errors), --max-throttled \
                         (throttled answers) and --retry-budget."
                    .to_owned(),
            }),
            Self::Incomplete { .. } => Some(
                "The listing changed or contradicted itself while it was read; nothing was \
                 assumed. Run again (deliveries still in progress move records between pages)."
                    .to_owned(),
            ),
            Self::ListingChanged { .. } => Some(
                "Records moved between pages on every pass (deliveries still in progress, or \
                 an API that pages by offset); nothing was assumed. Run again, or try \
                 --paging pages, which checks TotalCount."
                    .to_owned(),
            ),
            Self::ListingStalled { .. } | Self::ListingTooLong { .. } => Some(
                "The API's paging broke its own rules, so the listing was abandoned rather \
                 than read forever; check --endpoint and rerun with -vv for the request log."
                    .to_owned(),
            ),
            Self::Deadline { .. } => Some(
                "What was not read by then is unverified. Raise --timeout, or lower the \
                 load on the API (throttling slows the check down)."
                    .to_owned(),
            ),
            Self::Credentials { help, .. } | Self::Config { help, .. } => Some(help.clone()),
        }
    }
}

impl Diagnostic for CloudError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let code = match self {
            Self::Api(_) => "shipcheck::cloud::api",
            Self::Transport { .. } => "shipcheck::cloud::transport",
            Self::Malformed { .. } => "shipcheck::cloud::malformed",
            Self::GaveUp { .. } => "shipcheck::cloud::gave_up",
            Self::Incomplete { .. } => "shipcheck::cloud::incomplete",
            Self::ListingChanged { .. } => "shipcheck::cloud::listing_changed",
            Self::ListingStalled { .. } => "shipcheck::cloud::listing_stalled",
            Self::ListingTooLong { .. } => "shipcheck::cloud::listing_too_long",
            Self::Deadline { .. } => "shipcheck::cloud::deadline",
            Self::Credentials { .. } => "shipcheck::cloud::credentials",
            Self::Config { .. } => "shipcheck::cloud::config",
        };
        Some(Box::new(code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help_text()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
}

impl From<ApiError> for CloudError {
    fn from(err: ApiError) -> Self {
        Self::Api(Box::new(err))
    }
}

impl From<EndpointError> for CloudError {
    fn from(err: EndpointError) -> Self {
        Self::Config {
            detail: err.detail,
            help: err.help,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str) -> ApiError {
        ApiError {
            action: "DescribeSendFileResults".into(),
            ram_namespace: "ecs",
            status: 400,
            code: code.into(),
            message: "msg".into(),
            request_id: Some("RID-1".into()),
            host_id: None,
            recommend: Some("https://api.aliyun.com/troubleshoot?q=X".into()),
            region: Some("cn-nowhere-1".into()),
            access_key_id: Some("LTAI-test".into()),
            signature_check: None,
            sent_timestamp: Some("2024-01-01T00:00:00Z".into()),
        }
    }

    #[test]
    fn help_texts_name_the_remedy() {
        let mut sig = api("SignatureDoesNotMatch");
        sig.signature_check = Some(SignatureCheck::SameStringToSign);
        assert!(
            sig.help()
                .contains("access key secret is wrong for AccessKeyId LTAI-test")
        );
        sig.signature_check = Some(SignatureCheck::DifferentStringToSign);
        assert!(sig.help().contains("canonicalised the request differently"));
        assert!(
            api("InvalidAccessKeyId.NotFound")
                .help()
                .contains("does not exist")
        );
        let forbidden = api("Forbidden.RAM").help();
        assert!(
            forbidden.contains("`ecs:DescribeSendFileResults`"),
            "{forbidden}"
        );
        let mut eflo = api("Forbidden.RAM");
        eflo.ram_namespace = "eflo";
        assert!(eflo.help().contains("`eflo:DescribeSendFileResults`"));
        let skew = api("InvalidTimeStamp.Expired").help();
        assert!(
            skew.contains("clock") && skew.contains("2024-01-01T00:00:00Z"),
            "{skew}"
        );
        assert!(
            api("InvalidRegionId.NotFound")
                .help()
                .contains("`cn-nowhere-1`")
        );
        assert!(api("Throttling.User").help().contains("--concurrency"));
        assert!(
            api("Whatever")
                .help()
                .contains("Troubleshoot: https://api.aliyun.com")
        );
    }

    #[test]
    fn gave_up_reaches_the_root_code() {
        let err = CloudError::GaveUp {
            action: "X".into(),
            attempts: 5,
            elapsed: Duration::from_secs(3),
            reason: GiveUpReason::Attempts,
            last: Box::new(api("Throttling.User").into()),
        };
        assert_eq!(err.code(), Some("Throttling.User"));
        assert!(err.to_string().contains("gave up after 5 attempts"));
        let help = err.help().unwrap().to_string();
        assert!(help.contains("--max-attempts"), "{help}");
    }
}
