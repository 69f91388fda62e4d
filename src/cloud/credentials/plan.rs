//! A decided credential source: what to do, on first use, to get a key.

use url::Url;

use super::external::run_external;
use super::imds::Imds;
use super::key::{Credentials, cred_error};
use super::oidc::AssumeRoleWithOidc;
use super::sts::AssumeRole;
use super::uri::fetch_uri;
use crate::cloud::error::CloudError;
use crate::cloud::transport::Transport;

/// One way of obtaining credentials.
#[derive(Debug, Clone)]
pub(super) enum Plan {
    Static(Credentials),
    /// STS AssumeRole, signed with what `source` gives.
    AssumeRole {
        source: Box<Plan>,
        role: AssumeRole,
    },
    /// STS AssumeRoleWithOIDC with the token a file holds.
    Oidc(AssumeRoleWithOidc),
    Imds(Imds),
    Uri(Url),
    External(String),
    /// The chain's network tail: the first that works wins.
    FirstOf(Vec<(String, Plan)>),
}

/// The source the chain decided on.
#[derive(Debug)]
pub(super) struct Resolved {
    pub plan: Plan,
    /// Human description of the source, for logs and errors.
    pub source: String,
    /// The region the environment or the profile names.
    pub region_hint: Option<String>,
}

impl Plan {
    /// Runs the plan (boxed: an AssumeRole's source is a plan too).
    pub fn fetch<'a>(
        &'a self,
        transport: &'a Transport,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Credentials, CloudError>> + Send + 'a>,
    > {
        Box::pin(async move {
            match self {
                Plan::Static(creds) => Ok(creds.clone()),
                Plan::AssumeRole { source, role } => {
                    let source = source.fetch(transport).await?;
                    role.fetch(transport, &source).await
                }
                Plan::Oidc(oidc) => oidc.fetch(transport).await,
                Plan::Imds(imds) => imds.fetch(transport).await,
                Plan::Uri(url) => fetch_uri(transport, url).await,
                Plan::External(command) => run_external(command).await,
                Plan::FirstOf(plans) => {
                    let mut failures = Vec::new();
                    for (name, plan) in plans {
                        match plan.fetch(transport).await {
                            Ok(creds) => return Ok(creds),
                            Err(e) => {
                                tracing::debug!(source = %name, error = %e, "credential source failed");
                                failures.push(format!("{name}: {e}"));
                            }
                        }
                    }
                    Err(cred_error(
                        "the default chain",
                        format!(
                            "no credentials found (no access key in the environment, no \
                             ~/.aliyun/config.json profile; {})",
                            failures.join("; ")
                        ),
                        "Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, \
                         or run `aliyun configure`, or pass --profile.",
                    ))
                }
            }
        })
    }
}
