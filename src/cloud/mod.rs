//! The only door to the network: signed RPC calls to ECS and eflo-controller.
//!
//! The protocol itself (products, endpoints, signatures, the request
//! builder) is [`crate::protocol`]'s; this module does the talking. One file
//! per concern: `transport` owns the one HTTP client every outbound call
//! goes through (the API, STS, the metadata service, credentials URIs),
//! `retry` decides when to try again, `rpc` signs each API attempt and reads
//! its answer, `credentials` walks the SDKs' credential chain, `wire` reads
//! the API's loosely typed JSON, `normalize` turns it into
//! [`crate::observe`] types, `paging` reads listings completely, `actions`
//! holds the three API calls, `error` explains failures, and `redact` keeps
//! secrets out of everything printed.
//!
//! Callers use [`CloudClient`]: build it from [`ClientConfig`] (the command
//! line fills one in from its flags), then call its actions.

pub mod actions;
pub mod credentials;
pub mod error;
pub mod normalize;
pub mod paging;
pub mod redact;
pub mod retry;
pub mod rpc;
pub mod run_command;
pub mod transport;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

pub use actions::{InstanceFilter, InvocationFilter, SendFileFilter};
pub use credentials::{ChainOptions, CredentialInfo, Credentials, Env};
pub use error::{ApiError, CloudError};
pub use normalize::ContentEncoding;
pub use paging::{
    FetchSummary, MAX_IDLE_PAGES, MAX_PAGES, MAX_PASSES, MAX_RECORDS, PageOf, Paging,
};
pub use retry::RetryPolicy;
pub use rpc::Clock;

use crate::cloud::credentials::CredentialProvider;
use crate::cloud::rpc::Rpc;
use crate::cloud::transport::Transport;
use crate::protocol::endpoint::Endpoints;
use crate::protocol::sign::SignatureVersion;

/// The default cap on requests in flight (see docs/cloud-client.md for the
/// measurement behind it).
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Where the client gets its credentials.
#[derive(Debug, Clone)]
pub enum CredentialConfig {
    /// These, and nothing else (e.g. the in-process simulator's key pair).
    Explicit(Credentials),
    /// The SDKs' default chain.
    Chain(ChainOptions),
}

/// When the whole check must be over: every query still running then stops
/// and fails with [`CloudError::Deadline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub at: std::time::Instant,
    /// How long after the start `at` is (for the message).
    pub timeout: Duration,
}

impl Deadline {
    /// `timeout` from now.
    pub fn after(timeout: Duration) -> Self {
        Self {
            at: std::time::Instant::now() + timeout,
            timeout,
        }
    }
}

/// Everything a [`CloudClient`] needs; every field has a working default.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `--endpoint`: one URL for every product.
    pub endpoint: Option<String>,
    pub vpc: bool,
    pub signature: SignatureVersion,
    /// The most requests in flight at once.
    pub concurrency: usize,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub retry: RetryPolicy,
    pub paging: Paging,
    pub credentials: CredentialConfig,
    /// The time signed into requests.
    pub clock: Clock,
    /// The end of the whole check (none: each request is bounded by its
    /// retry budget only).
    pub deadline: Option<Deadline>,
}

impl ClientConfig {
    /// Defaults, with these credentials.
    pub fn with_credentials(credentials: Credentials) -> Self {
        Self {
            endpoint: None,
            vpc: false,
            signature: SignatureVersion::V1,
            concurrency: DEFAULT_CONCURRENCY,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            paging: Paging::Token,
            credentials: CredentialConfig::Explicit(credentials),
            clock: Clock::system(),
            deadline: None,
        }
    }
}

/// The cloud API client: cheap to clone, safe to share between tasks.
#[derive(Clone)]
pub struct CloudClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) rpc: Rpc,
    pub(crate) endpoints: Endpoints,
    pub(crate) paging: Paging,
    pub(crate) concurrency: usize,
    pub(crate) deadline: Option<Deadline>,
}

impl std::fmt::Debug for CloudClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudClient")
            .field("credentials", &self.inner.rpc.credentials.source())
            .field("signature", &self.inner.rpc.signature)
            .field("concurrency", &self.inner.concurrency)
            .finish_non_exhaustive()
    }
}

impl CloudClient {
    /// Checks the configuration and decides the credential source; touches
    /// no network (credentials that need it are fetched on first use).
    pub fn new(config: ClientConfig) -> Result<Self, CloudError> {
        let endpoints = Endpoints::new(config.endpoint.as_deref(), config.vpc)?;
        let credentials = match config.credentials {
            CredentialConfig::Explicit(creds) => CredentialProvider::explicit(creds),
            CredentialConfig::Chain(opts) => CredentialProvider::from_chain(&opts)?,
        };
        let concurrency = config.concurrency.max(1);
        let transport = Transport::new(
            config.connect_timeout,
            config.read_timeout,
            concurrency,
            config.retry,
        )?;
        tracing::debug!(source = credentials.source(), "credentials chosen");
        Ok(Self {
            inner: Arc::new(Inner {
                rpc: Rpc {
                    transport,
                    credentials,
                    signature: config.signature,
                    clock: config.clock,
                },
                endpoints,
                paging: config.paging,
                concurrency,
                deadline: config.deadline,
            }),
        })
    }

    /// Fetches the credentials now (instead of on the first call) and says
    /// what they are, without the secret.
    pub async fn credentials(&self) -> Result<CredentialInfo, CloudError> {
        let rpc = &self.inner.rpc;
        rpc.credentials.info(&rpc.transport).await
    }

    /// Where the credentials come from, e.g. `environment (ALIBABA_CLOUD_ACCESS_KEY_ID)`.
    pub fn credential_source(&self) -> &str {
        self.inner.rpc.credentials.source()
    }

    /// Runs one query, stopping it with [`CloudError::Deadline`] when the
    /// check's deadline passes first.
    pub(crate) async fn before_deadline<T>(
        &self,
        action: &str,
        query: &str,
        work: impl std::future::Future<Output = Result<T, CloudError>>,
    ) -> Result<T, CloudError> {
        let Some(deadline) = self.inner.deadline else {
            return work.await;
        };
        match tokio::time::timeout_at(deadline.at.into(), work).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(action, query, "the check's deadline passed");
                Err(CloudError::Deadline {
                    action: action.to_owned(),
                    query: query.to_owned(),
                    timeout: deadline.timeout,
                })
            }
        }
    }

    /// The host `provider`'s API in `region` is reached at (a snapshot
    /// names it; a URL's credentials or path never appear).
    pub fn endpoint_host(
        &self,
        provider: crate::protocol::Provider,
        region: &str,
    ) -> Option<String> {
        let url = self.inner.endpoints.url(provider, region).ok()?;
        Some(crate::protocol::endpoint::host_header(&url))
    }

    /// The region the environment or the profile names, for entries that name none.
    pub fn region_hint(&self) -> Option<&str> {
        self.inner.rpc.credentials.region_hint()
    }
}
