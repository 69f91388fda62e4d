//! Helpers shared by the test modules: where the test data is, a signing
//! client for the simulator ([`sim`]) and a scriptable stand-in for the
//! cloud API ([`fake_cloud`]).

pub mod fake_cloud;
#[cfg(feature = "sim")]
pub mod sim;

use std::path::{Path, PathBuf};

/// A path in this repository, independent of the working directory.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A file or folder under `tests/data/`.
pub fn data(path: &str) -> PathBuf {
    repo("tests/data").join(path)
}

/// A file under `tests/data/fixtures/`: the API documents' sample answers
/// (`seeds/`) and simulator states (`sim/`).
pub fn fixture(name: &str) -> PathBuf {
    data("fixtures").join(name)
}
