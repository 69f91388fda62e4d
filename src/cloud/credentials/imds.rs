//! The ECS metadata service (`EcsRamRole`): the role attached to this
//! instance, and its temporary key.
//!
//! An IMDSv2 session token is asked for first and sent with every read;
//! where the service has no v2, v1 is used unless
//! `ALIBABA_CLOUD_IMDSV1_DISABLED=true` forbids it.

use std::time::Duration;

use url::Url;

use super::key::{Credentials, cred_error};
use super::remote::{self, read_remote, unreachable};
use crate::cloud::error::{CloudError, TransportKind};
use crate::cloud::retry::RetryPolicy;
use crate::cloud::transport::{Outgoing, Transport};
use crate::secret::Secret;

/// The metadata service answers fast or not at all (CRED-PY uses 1 s + 1 s):
/// each read, retries included, gets this long.
const IMDS_BUDGET: Duration = Duration::from_secs(2);

const SOURCE: &str = "the ECS metadata service";

/// Where the metadata service is, and how to ask it.
#[derive(Debug, Clone)]
pub(super) struct Imds {
    pub base: Url,
    /// The role to read; `None` asks the service which one is attached.
    pub role: Option<String>,
    pub v1_fallback: bool,
}

impl Imds {
    pub async fn fetch(&self, transport: &Transport) -> Result<Credentials, CloudError> {
        let policy = RetryPolicy {
            budget: IMDS_BUDGET,
            ..transport.retry.clone()
        };
        let token = self.session_token(transport, &policy).await?;
        let read = |action: &'static str, url: Url| {
            let mut request = Outgoing::get(url);
            if let Some(token) = &token {
                request = request.with_header("X-aliyun-ecs-metadata-token", token.expose());
            }
            let policy = &policy;
            async move {
                remote::fetch(transport, action, SOURCE, policy, request)
                    .await
                    .map_err(|e| unreachable(SOURCE, e))
            }
        };
        let roles_url = self
            .base
            .join("latest/meta-data/ram/security-credentials/")
            .expect("relative URL");
        let role = match &self.role {
            Some(role) => role.clone(),
            None => {
                let answer = read("IMDS role", roles_url.clone()).await?;
                let role = answer
                    .text()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                if answer.status != 200 || role.is_empty() {
                    return Err(cred_error(
                        SOURCE,
                        format!(
                            "no RAM role is attached to this instance (HTTP {})",
                            answer.status
                        ),
                        "Attach a RAM role to the instance, or use another credentials source.",
                    ));
                }
                role
            }
        };
        let creds_url = roles_url.join(&role).map_err(|e| {
            cred_error(
                SOURCE,
                format!("role name `{role}` is not usable in a URL: {e}"),
                "Check the role name.",
            )
        })?;
        let answer = read("IMDS credentials", creds_url).await?;
        if answer.status != 200 {
            return Err(cred_error(
                SOURCE,
                format!(
                    "credentials for role `{role}` answered HTTP {}",
                    answer.status
                ),
                "Check that the role name is the one attached to the instance.",
            ));
        }
        read_remote(
            &answer,
            SOURCE,
            &format!("unreadable credentials for role `{role}`"),
            "Check the metadata service.",
        )?
        .into_credentials(SOURCE, true)
    }

    /// The IMDSv2 session token, or `None` to read with IMDSv1.
    async fn session_token(
        &self,
        transport: &Transport,
        policy: &RetryPolicy,
    ) -> Result<Option<Secret>, CloudError> {
        let url = self.base.join("latest/api/token").expect("relative URL");
        let request = Outgoing {
            method: reqwest::Method::PUT,
            ..Outgoing::get(url)
        }
        .with_header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600");
        match remote::fetch(transport, "IMDS token", SOURCE, policy, request).await {
            Ok(answer) if answer.is_success() => Ok(Some(Secret::new(answer.text().trim()))),
            Ok(answer) if self.v1_fallback => {
                tracing::debug!(
                    status = answer.status,
                    "no IMDSv2 token; falling back to IMDSv1"
                );
                Ok(None)
            }
            Err(e)
                if self.v1_fallback
                    && !matches!(
                        e.transport_kind(),
                        Some(TransportKind::Connect | TransportKind::Timeout)
                    ) =>
            {
                Ok(None)
            }
            Ok(answer) => Err(cred_error(
                SOURCE,
                format!("the IMDSv2 token request answered HTTP {}", answer.status),
                "IMDSv1 fallback is disabled (ALIBABA_CLOUD_IMDSV1_DISABLED=true); check the \
                 instance's metadata options.",
            )),
            Err(e) => Err(unreachable(SOURCE, e)),
        }
    }
}
