//! Helpers shared by the test modules: where the test data is, a signing
//! client for the simulator ([`sim`]), the synthesized fleet's names and
//! manifest ([`synth`]) and a scriptable stand-in for the cloud API
//! ([`fake_cloud`]).

pub mod fake_cloud;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "sim")]
pub mod synth;

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

/// The binary, isolated from the developer's credentials, colour and
/// `SHIPCHECK_*` settings: an empty environment but for a HOME without any
/// configuration, with the metadata service switched off.
pub fn shipcheck() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("shipcheck").unwrap();
    cmd.env_clear()
        .env("HOME", std::env::temp_dir().join("shipcheck-no-home"))
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Runs the isolated binary with `args`: (exit code, stdout, stderr).
#[cfg(feature = "sim")]
pub fn run(args: &[&str]) -> (i32, String, String) {
    let output = shipcheck().args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}
