//! Tells `shipcheck --version` which commit and day it was built from.
//!
//! A build from a git checkout asks `git` for the commit; a source tarball
//! (no `.git`) or a machine without `git` still builds and says `commit
//! unknown`. The logic is in `build/version.rs`, which a test also runs.

// Cargo reads a build script's instructions from its stdout.
#![allow(clippy::disallowed_macros)]

#[path = "build/version.rs"]
mod version;

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let commit = version::git_commit(&root);
    let date = version::build_date(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref());

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/version.rs");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    // A commit or a checkout rewrites HEAD or the branch's ref. Only files
    // that exist are watched: cargo reruns on every build for a missing one.
    for path in commit.watch.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!(
        "cargo:rustc-env=SHIPCHECK_COMMIT={}",
        commit.hash.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rustc-env=SHIPCHECK_BUILD_DATE={date}");
}
