//! Where the access key comes from: the official SDKs' default chain.
//!
//! The order (PROTOCOL.md §4.1, CRED-PY `provider/default.py`):
//!
//! 1. environment: `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `_SECURITY_TOKEN`,
//!    also spelled `ALIBABACLOUD_*`, `ALICLOUD_*` (the CLI) and
//!    `ALICLOUD_ACCESS_KEY` / `ALICLOUD_SECRET_KEY` (Terraform);
//! 2. OIDC/RRSA: `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`
//!    and `ALIBABA_CLOUD_OIDC_TOKEN_FILE`, exchanged with STS
//!    `AssumeRoleWithOIDC`;
//! 3. the CLI's `~/.aliyun/config.json` (or `ALIBABA_CLOUD_CONFIG_FILE`),
//!    profile from `--profile`, then `ALIBABA_CLOUD_PROFILE`, then the
//!    file's `current`; modes `AK`, `StsToken`, `RamRoleArn`,
//!    `ChainableRamRoleArn`, `EcsRamRole`, `OIDC`, `CredentialsURI` and
//!    `External`;
//! 4. the official libraries' INI file, `~/.alibabacloud/credentials` (or
//!    `ALIBABA_CLOUD_CREDENTIALS_FILE`), section `default` or the profile;
//! 5. the ECS metadata service (IMDSv2 token first), unless
//!    `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`;
//! 6. `ALIBABA_CLOUD_CREDENTIALS_URI`.
//!
//! Deciding the source reads only the environment and the files (`env`,
//! `chain`, `profile`, `ini`); sources that need the network (`sts`,
//! `oidc`, `imds`, `uri`) or a command (`external`) run on first use, through the
//! client's transport, and again shortly before their credentials expire.
//! Every secret and token is a [`Secret`](crate::secret::Secret) from the
//! moment it is read.

mod chain;
mod env;
mod external;
mod imds;
mod ini;
mod key;
mod oidc;
mod plan;
mod profile;
mod remote;
mod sts;
mod uri;

use jiff::Timestamp;
use tokio::sync::Mutex;

pub use env::{ChainOptions, Env, credential_env_vars, secret_env_vars};
pub use key::{CredentialInfo, Credentials};
use plan::{Plan, Resolved};

use crate::cloud::error::CloudError;
use crate::cloud::transport::Transport;

/// The decided credentials source, with a cache for temporary credentials.
#[derive(Debug)]
pub struct CredentialProvider {
    plan: Plan,
    /// Human description of the source, for logs and errors.
    source: String,
    region_hint: Option<String>,
    cache: Mutex<Option<Credentials>>,
}

impl CredentialProvider {
    /// Fixed credentials (e.g. the in-process simulator's ephemeral pair).
    pub fn explicit(credentials: Credentials) -> Self {
        Self::new(Resolved {
            plan: Plan::Static(credentials),
            source: "explicit credentials".into(),
            region_hint: None,
        })
    }

    /// Walks the chain as far as it can without the network.
    pub fn from_chain(opts: &ChainOptions) -> Result<Self, CloudError> {
        chain::resolve(opts).map(Self::new)
    }

    fn new(resolved: Resolved) -> Self {
        Self {
            plan: resolved.plan,
            source: resolved.source,
            region_hint: resolved.region_hint,
            cache: Mutex::new(None),
        }
    }

    /// Where the credentials come from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The region named by the environment or the profile, if any.
    pub fn region_hint(&self) -> Option<&str> {
        self.region_hint.as_deref()
    }

    /// Current credentials, fetched or refreshed when needed.
    ///
    /// One caller fetches while the others wait, so a refresh happens once.
    pub async fn get(&self, transport: &Transport) -> Result<Credentials, CloudError> {
        let mut cache = self.cache.lock().await;
        if let Some(creds) = cache.as_ref()
            && !creds.is_stale(Timestamp::now())
        {
            return Ok(creds.clone());
        }
        tracing::debug!(source = %self.source, "fetching credentials");
        let fresh = self.plan.fetch(transport).await?;
        *cache = Some(fresh.clone());
        Ok(fresh)
    }

    /// What may be shown about the current credentials.
    pub async fn info(&self, transport: &Transport) -> Result<CredentialInfo, CloudError> {
        let creds = self.get(transport).await?;
        Ok(CredentialInfo {
            access_key_id: creds.access_key_id,
            source: self.source.clone(),
            temporary: creds.security_token.is_some(),
            expiration: creds.expiration,
        })
    }
}
