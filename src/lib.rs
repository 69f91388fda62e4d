//! shipcheck verifies Alibaba Cloud Cloud Assistant deliveries against a
//! declared manifest, the way `terraform plan` verifies infrastructure.
//!
//! The pipeline (DESIGN.md): `manifest` → `expect` → plan → `cloud` →
//! `observe` → `evaluate` → `report`, run in order by [`check`]. The
//! library takes plain values and prints nothing: [`cli`] is the edge that
//! parses the command line and owns stdout and stderr.

pub mod check;
pub mod cli;
pub mod cloud;
pub mod dry_run;
pub mod evaluate;
pub mod exit;
pub mod expect;
pub mod fetch;
pub mod findings;
pub mod fix;
pub mod fleet;
pub mod import;
pub mod manifest;
pub mod mode;
pub mod narrow;
pub mod observe;
pub mod plan;
pub mod probe;
pub mod protocol;
pub mod report;
pub mod schemas;
pub mod secret;
#[cfg(feature = "sim")]
pub mod sim;
pub mod snapshot;
pub mod text;
