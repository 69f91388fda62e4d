//! The integration tests: one binary, so the library and the helpers are
//! compiled and linked once, and every module shares `support`.
//!
//! Their data lives in `tests/data/`. Expected outputs are insta snapshots
//! (`snapshots/` beside each module, report formats under
//! `tests/data/golden/`): `cargo insta test` then `cargo insta review`.
//!
//! Modules that drive the simulator need the `sim` feature (on by default);
//! `without_sim` checks what a build without it says instead.

#[cfg(feature = "sim")]
mod bench_smoke;
mod build_version;
#[cfg(feature = "sim")]
mod check_cases;
#[cfg(feature = "sim")]
mod check_cli;
#[cfg(feature = "sim")]
mod check_env;
#[cfg(feature = "sim")]
mod check_invalid;
#[cfg(feature = "sim")]
mod check_strict_wait;
#[cfg(feature = "sim")]
mod ci_glue;
mod cli_shell;
mod cli_validate;
mod cloud;
#[cfg(feature = "sim")]
mod cloud_sim;
#[cfg(feature = "sim")]
mod evidence;
mod examples;
#[cfg(feature = "sim")]
mod fetch_progress;
#[cfg(feature = "sim")]
mod fleets;
#[cfg(feature = "sim")]
mod hostile_listings;
mod hostile_manifests;
#[cfg(feature = "sim")]
mod human_groups;
#[cfg(feature = "sim")]
mod import;
mod layout;
mod manifest_invalid;
#[cfg(feature = "sim")]
mod narrowing;
mod plan_cli;
#[cfg(feature = "sim")]
mod probe;
mod properties;
#[cfg(feature = "sim")]
mod secret_scan;
#[cfg(feature = "sim")]
mod sim_cli;
#[cfg(feature = "sim")]
mod sim_http;
#[cfg(feature = "sim")]
mod sim_sdk;
#[cfg(feature = "sim")]
mod sim_seeds;
#[cfg(feature = "sim")]
mod sim_xml;
mod support;
mod unverified;
#[cfg(feature = "sim")]
mod whole_region;
#[cfg(not(feature = "sim"))]
mod without_sim;
mod yaml_bomb;
