//! The integration tests: one binary, so the library and the helpers are
//! compiled and linked once, and every module shares `support`.
//!
//! Their data lives in `tests/data/`. Expected outputs are insta snapshots
//! (`snapshots/` beside each module, report formats under
//! `tests/data/golden/`): `cargo insta test` then `cargo insta review`.

mod check_cases;
mod check_cli;
mod cli_validate;
mod cloud;
mod cloud_sim;
mod examples;
mod manifest_invalid;
mod sim_cli;
mod sim_http;
mod sim_sdk;
mod sim_seeds;
mod support;
mod yaml_bomb;
