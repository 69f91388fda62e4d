//! A manifest, any bytes: loading it (YAML under budgets, schema, variables,
//! resolution) must give expectations or diagnostics, never panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("shipcheck-fuzz-{}.yaml", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(path(), data).unwrap();
    let _ = shipcheck::manifest::load(std::slice::from_ref(path()), &[], &|_| None);
});
