//! Credential sources over HTTP (the metadata service, credentials URIs):
//! how they go through the transport, and the JSON they answer with.

use serde::Deserialize;

use super::key::{Credentials, cred_error, parse_expiration};
use crate::cloud::error::CloudError;
use crate::cloud::retry::{AttemptError, RetryPolicy, Stats, is_retryable};
use crate::cloud::transport::{Answer, Outgoing, Transport};
use crate::secret::Secret;

/// Sends `request` to `source` through the transport. Failures to connect
/// and busy answers (5xx, 429) are retried under `policy`; any other answer
/// comes back as it is, for the source to read.
pub(super) async fn fetch(
    transport: &Transport,
    action: &str,
    source: &str,
    policy: &RetryPolicy,
    request: Outgoing,
) -> Result<Answer, CloudError> {
    transport
        .send(
            action,
            policy,
            &Stats::default(),
            || {
                let request = request.clone();
                async move { Ok((request, ())) }
            },
            |answer, ()| {
                if is_retryable("", answer.status) {
                    let status = answer.status;
                    return Err(AttemptError::transient(
                        cred_error(
                            source,
                            format!("{source} answered HTTP {status}"),
                            "Check that the source is healthy.",
                        ),
                        answer.retry_after,
                    ));
                }
                Ok(answer)
            },
        )
        .await
}

/// A transport failure, told as the source's failure.
pub(super) fn unreachable(source: &str, error: CloudError) -> CloudError {
    match error {
        CloudError::Credentials { .. } => error,
        other => {
            let detail = match &other {
                CloudError::GaveUp { last, .. } => format!("{source} failed: {other}: {last}"),
                _ => format!("{source} failed: {other}"),
            };
            cred_error(
                source,
                detail,
                "Check that the source is reachable from this machine.",
            )
        }
    }
}

/// The JSON shape shared by the metadata service, credentials URIs and STS.
#[derive(Deserialize)]
pub(super) struct RemoteCredentials {
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "AccessKeyId", default)]
    access_key_id: Option<String>,
    #[serde(rename = "AccessKeySecret", default)]
    access_key_secret: Option<Secret>,
    #[serde(rename = "SecurityToken", default)]
    security_token: Option<Secret>,
    #[serde(rename = "Expiration", default)]
    expiration: Option<String>,
}

/// Reads an answer's body as [`RemoteCredentials`] (`what` names it in errors).
pub(super) fn read_remote(
    answer: &Answer,
    source: &str,
    what: &str,
    help: &str,
) -> Result<RemoteCredentials, CloudError> {
    serde_json::from_slice(&answer.body)
        .map_err(|e| cred_error(source, format!("{what}: {e}"), help))
}

impl RemoteCredentials {
    pub fn into_credentials(
        self,
        source: &str,
        require_success: bool,
    ) -> Result<Credentials, CloudError> {
        if require_success && self.code.as_deref() != Some("Success") {
            return Err(cred_error(
                source,
                format!(
                    "{source} answered Code={}",
                    self.code.as_deref().unwrap_or("(none)")
                ),
                "Check that the source is healthy and the role is attached.",
            ));
        }
        let (Some(id), Some(secret)) = (self.access_key_id, self.access_key_secret) else {
            return Err(cred_error(
                source,
                format!("{source} answered without AccessKeyId/AccessKeySecret"),
                "Check the credentials source.",
            ));
        };
        Ok(Credentials {
            access_key_id: id,
            access_key_secret: secret,
            security_token: self.security_token.filter(|t| !t.is_empty()),
            expiration: parse_expiration(self.expiration.as_deref(), source)?,
        })
    }
}
