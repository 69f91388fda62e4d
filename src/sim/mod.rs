//! The local Cloud Assistant API simulator (`shipcheck sim`).
//!
//! Nothing in the tests can reach Alibaba Cloud, so the project carries a
//! stand-in that speaks the real protocol: signed V1/V3 RPC calls, the
//! documented error envelope, both paging styles, the response quirks of the
//! API documents, task lifecycles, retention and injected faults. The
//! official Python SDK talks to it (tests/data/sdk/), and so does our client.
//!
//! Use it in-process:
//!
//! ```no_run
//! # async fn demo() -> Result<(), shipcheck::sim::SimError> {
//! use shipcheck::secret::Secret;
//! let config = shipcheck::sim::SimConfig::from_state_file("state.yaml".as_ref())?
//!     .with_key("ephemeral-id", Secret::new("ephemeral-secret"));
//! let server = shipcheck::sim::start(config).await?;
//! let endpoint = server.url();
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod actions;
mod auth;
mod clock;
mod config;
mod context;
mod delivery;
mod disk;
mod errors;
mod faults;
mod handle;
mod hostile;
mod invocation;
mod lifecycle;
mod listing;
mod paging;
mod params;
mod records;
mod regions;
mod server;
mod state;
mod stats;
mod store;
mod synth;
mod tables;
mod xml;

pub use self::config::{
    ClockSetting, DEFAULT_RETENTION, DEFAULT_TIMESTAMP_TOLERANCE, SimConfig, SimError,
};
pub use self::faults::{Fault, FaultSpec};
pub use self::handle::{SimServer, start};
pub use self::hostile::{HostileKind, HostileSpec};
pub use self::lifecycle::Lifecycle;
pub use self::state::STATE_SCHEMA;
pub use self::stats::Stats;
pub use self::synth::SynthSpec;
