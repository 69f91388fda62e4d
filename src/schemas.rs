//! The JSON Schemas shipped inside the binary, one constant per schema, and
//! what `shipcheck schema KIND` prints.

/// The schemas `shipcheck schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// The manifest (shipcheck.yaml).
    Manifest,
    /// The JSON report (`--format json`).
    Report,
    /// The simulator's state file.
    SimState,
    /// A snapshot of a check's evidence (`check --save-snapshot`).
    Snapshot,
}

/// `schemas/manifest.v1.schema.json`, generated from `manifest::model`.
pub const MANIFEST_V1: &str = include_str!("../schemas/manifest.v1.schema.json");

/// `schemas/report.v1.schema.json`, the contract of `--format json`.
pub const REPORT_V1: &str = include_str!("../schemas/report.v1.schema.json");

/// `schemas/sim-state.v1.schema.json`, the simulator's state file.
pub const SIM_STATE_V1: &str = include_str!("../schemas/sim-state.v1.schema.json");

/// `schemas/snapshot.v1.schema.json`, generated from `snapshot`.
pub const SNAPSHOT_V1: &str = include_str!("../schemas/snapshot.v1.schema.json");

/// Asserts that the schema committed at `path` (from the crate root) is
/// `generated` and is what the binary embeds. A contract shipped at its
/// path, not an insta snapshot, but rewritten the way snapshots are, with
/// insta's variable (`INSTA_UPDATE=always cargo test --lib`); the next build
/// embeds the new file and checks it.
#[cfg(all(test, feature = "schema"))]
pub(crate) fn assert_committed(path: &str, generated: &str, embedded: &str, regenerate: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let update = matches!(
        std::env::var("INSTA_UPDATE").as_deref(),
        Ok("always" | "1" | "force")
    );
    if update && committed != generated {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    assert!(
        committed == generated,
        "{} is out of date with its types; regenerate it with {regenerate}",
        path.display()
    );
    assert_eq!(embedded, committed, "the binary embeds {}", path.display());
}

/// The schema text for `kind`.
pub fn for_kind(kind: SchemaKind) -> &'static str {
    match kind {
        SchemaKind::Manifest => MANIFEST_V1,
        SchemaKind::Report => REPORT_V1,
        SchemaKind::SimState => SIM_STATE_V1,
        SchemaKind::Snapshot => SNAPSHOT_V1,
    }
}
