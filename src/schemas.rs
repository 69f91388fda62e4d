//! The JSON Schemas shipped inside the binary, one constant per schema, and
//! what `shipcheck schema KIND` prints.

use crate::cli::SchemaKind;

/// `schemas/manifest.v1.schema.json`, generated from `manifest::model`.
pub const MANIFEST_V1: &str = include_str!("../schemas/manifest.v1.schema.json");

/// `schemas/report.v1.schema.json`, the contract of `--format json`.
pub const REPORT_V1: &str = include_str!("../schemas/report.v1.schema.json");

/// The schema text for `kind`.
pub fn for_kind(kind: SchemaKind) -> miette::Result<&'static str> {
    match kind {
        SchemaKind::Manifest => Ok(MANIFEST_V1),
        SchemaKind::Report => Ok(REPORT_V1),
        SchemaKind::SimState => Err(miette::miette!(
            code = "schema::unavailable",
            help = "`shipcheck schema manifest` prints the manifest schema",
            "the sim-state schema is not part of this build yet",
        )),
    }
}
