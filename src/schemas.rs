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

/// The schema text for `kind`.
pub fn for_kind(kind: SchemaKind) -> &'static str {
    match kind {
        SchemaKind::Manifest => MANIFEST_V1,
        SchemaKind::Report => REPORT_V1,
        SchemaKind::SimState => SIM_STATE_V1,
        SchemaKind::Snapshot => SNAPSHOT_V1,
    }
}
