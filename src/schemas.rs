//! The JSON Schemas shipped inside the binary, one constant per schema, and
//! what `shipcheck schema KIND` prints.

use crate::cli::SchemaKind;

/// `schemas/manifest.v1.schema.json`, generated from `manifest::model`.
pub const MANIFEST_V1: &str = include_str!("../schemas/manifest.v1.schema.json");

/// The schema text for `kind`.
pub fn for_kind(kind: SchemaKind) -> miette::Result<&'static str> {
    match kind {
        SchemaKind::Manifest => Ok(MANIFEST_V1),
        SchemaKind::Report | SchemaKind::SimState => Err(miette::miette!(
            code = "schema::unavailable",
            help = "`shipcheck schema manifest` prints the manifest schema",
            "the {} schema is not part of this build yet",
            match kind {
                SchemaKind::Report => "report",
                _ => "sim-state",
            }
        )),
    }
}
