//! STS AssumeRole (`RamRoleArn`, `ChainableRamRoleArn` profiles): a V1
//! signed GET, built and signed like every other call, sent through the
//! transport.

use jiff::Timestamp;
use serde::Deserialize;
use url::Url;

use super::env::ChainOptions;
use super::key::{Credentials, cred_error};
use super::remote::{RemoteCredentials, unreachable};
use crate::cloud::error::CloudError;
use crate::cloud::redact::Redactor;
use crate::cloud::retry::{AttemptError, Stats, is_retryable};
use crate::cloud::transport::{Answer, Outgoing, Transport};
use crate::protocol::endpoint::parse_endpoint;
use crate::protocol::request::{Method, RpcRequest, Stamp, new_nonce};
use crate::protocol::sign::SignatureVersion;
use crate::protocol::time::format_timestamp;

/// STS's global endpoint.
const DEFAULT_STS_URL: &str = "https://sts.aliyuncs.com/";
/// The STS API version.
pub(super) const STS_VERSION: &str = "2015-04-01";

const SOURCE: &str = "STS AssumeRole";

/// The role to assume, and how.
#[derive(Debug, Clone)]
pub(super) struct AssumeRole {
    pub sts_url: Url,
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: u64,
    pub external_id: Option<String>,
    pub policy: Option<String>,
}

impl AssumeRole {
    /// Assumes the role with the `source` credentials.
    pub async fn fetch(
        &self,
        transport: &Transport,
        source: &Credentials,
    ) -> Result<Credentials, CloudError> {
        let request = self.request();
        transport
            .send(
                "AssumeRole",
                &transport.retry,
                &Stats::default(),
                || {
                    // Fresh for every attempt, like every signed call.
                    let signed = request.sign(
                        &self.sts_url,
                        &source.access_key(),
                        SignatureVersion::V1,
                        &Stamp {
                            timestamp: &format_timestamp(Timestamp::now()),
                            nonce: &new_nonce(),
                        },
                    );
                    let redactor = source.redactor().with(&signed.signature);
                    crate::cloud::redact::remember(&redactor);
                    async move { Ok((Outgoing::signed(&signed), redactor)) }
                },
                |answer, redactor| self.judge(answer, &redactor),
            )
            .await
            .map_err(|e| unreachable(SOURCE, e))
    }

    fn request(&self) -> RpcRequest<'static> {
        let mut query = vec![
            (
                "DurationSeconds".to_owned(),
                self.duration_seconds.to_string(),
            ),
            ("RoleArn".to_owned(), self.role_arn.clone()),
            ("RoleSessionName".to_owned(), self.session_name.clone()),
        ];
        if let Some(id) = &self.external_id {
            query.push(("ExternalId".to_owned(), id.clone()));
        }
        if let Some(policy) = &self.policy {
            query.push(("Policy".to_owned(), policy.clone()));
        }
        RpcRequest {
            method: Method::Get,
            action: "AssumeRole",
            version: STS_VERSION,
            query,
            form: Vec::new(),
        }
    }

    /// The new credentials, or an error that says whose fault it is.
    fn judge(&self, answer: Answer, redactor: &Redactor) -> Result<Credentials, AttemptError> {
        read_answer(
            SOURCE,
            &format!("AssumeRole {}", self.role_arn),
            answer,
            redactor,
            |code| {
                if code.starts_with("NoPermission") || code.contains("Forbidden") {
                    "The source identity needs `sts:AssumeRole` on the role, and the role's \
                     trust policy must allow it."
                } else if code.contains("Signature") || code.contains("AccessKeyId") {
                    "The source access key of this profile is wrong."
                } else {
                    "Check ram_role_arn and the source credentials of the profile."
                }
            },
        )
    }
}

/// An STS answer read as new credentials, or as an error that says whose
/// fault it is (`help` chooses the advice from the error code); `what` names
/// the call in the message, e.g. `AssumeRole acs:ram::1:role/x`.
pub(super) fn read_answer(
    source: &str,
    what: &str,
    answer: Answer,
    redactor: &Redactor,
    help: impl Fn(&str) -> &'static str,
) -> Result<Credentials, AttemptError> {
    let status = answer.status;
    if !answer.is_success() {
        let envelope = answer.envelope.unwrap_or_default();
        let code = redactor.apply(&envelope.code.unwrap_or_else(|| format!("HTTP {status}")));
        let message = redactor.apply(envelope.message.as_deref().unwrap_or(""));
        let error = cred_error(
            source,
            format!(
                "{what} failed: {code} (HTTP {status}): {message}{}",
                envelope
                    .request_id
                    .map(|r| format!(" [request id {}]", redactor.apply(&r)))
                    .unwrap_or_default()
            ),
            help(&code),
        );
        return Err(AttemptError {
            error,
            retryable: is_retryable(&code, status),
            retry_after: answer.retry_after,
            throttled: code.contains("Throttling") || status == 429,
        });
    }
    #[derive(Deserialize)]
    struct StsResponse {
        #[serde(rename = "Credentials")]
        credentials: RemoteCredentials,
    }
    let parsed: StsResponse = serde_json::from_slice(&answer.body).map_err(|e| {
        AttemptError::fatal(cred_error(
            source,
            format!("unreadable {what} response: {e}"),
            "Check the STS endpoint.",
        ))
    })?;
    parsed
        .credentials
        .into_credentials(source, false)
        .map_err(AttemptError::fatal)
}

/// STS's URL: the test override, `ALIBABA_CLOUD_STS_ENDPOINT`, the source's
/// own `endpoint`, a regional one from `ALIBABA_CLOUD_STS_REGION` or the
/// source's `region` (`sts-vpc.` with `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED`),
/// else the global endpoint.
pub(super) fn sts_url(
    opts: &ChainOptions,
    endpoint: &str,
    region: &str,
) -> Result<Url, CloudError> {
    if let Some(url) = &opts.sts_url {
        return Ok(url.clone());
    }
    let endpoint = opts
        .env
        .get("ALIBABA_CLOUD_STS_ENDPOINT")
        .map(str::to_owned)
        .or_else(|| Some(endpoint.trim().to_owned()).filter(|s| !s.is_empty()));
    let endpoint = endpoint.or_else(|| {
        let region = opts
            .env
            .get("ALIBABA_CLOUD_STS_REGION")
            .map(str::to_owned)
            .or_else(|| Some(region.trim().to_owned()).filter(|s| !s.is_empty()))?;
        let vpc = if opts.env.is_true("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED") {
            "-vpc"
        } else {
            ""
        };
        Some(format!("sts{vpc}.{region}.aliyuncs.com"))
    });
    match endpoint {
        Some(e) => Ok(parse_endpoint(&e)?),
        None => Ok(Url::parse(DEFAULT_STS_URL).expect("constant URL")),
    }
}
