//! The only door to the network: signed RPC calls to ECS and eflo-controller.
//!
//! `sign` computes V1 and V3 signatures (shared with the simulator, which
//! verifies with the same code).

pub mod sign;

use std::time::Duration;

use clap::Args;

pub use sign::SignatureVersion;

use crate::cli::parse_duration;

/// How to reach the API; flattened into `check`.
#[derive(Debug, Clone, Args)]
pub struct CloudArgs {
    /// Send every request to this URL instead of the regional endpoint
    /// (http:// only for loopback addresses).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,

    /// The region for entries that name none (else the manifest's default,
    /// then ALIBABA_CLOUD_REGION_ID).
    #[arg(long)]
    pub region: Option<String>,

    /// The ~/.aliyun/config.json profile to use (else ALIBABA_CLOUD_PROFILE, then `current`).
    #[arg(long)]
    pub profile: Option<String>,

    /// The request signature scheme.
    #[arg(long, value_enum, default_value_t = SignatureVersion::V1)]
    pub signature: SignatureVersion,

    /// Use the VPC endpoints (ecs-vpc.<region>.aliyuncs.com).
    #[arg(long)]
    pub vpc: bool,

    /// The most API requests in flight at once.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// How long to wait for a connection.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5s")]
    pub connect_timeout: Duration,

    /// How long to wait for a response.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub read_timeout: Duration,

    /// The most attempts per request, retries included.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_attempts: u32,

    /// The most time one request may spend retrying.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "60s")]
    pub retry_budget: Duration,
}
