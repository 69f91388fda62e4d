//! `shipcheck schema`: the JSON Schemas built into the binary.

use clap::Args;

use super::terminal;
use crate::exit::{Exit, Failure};
use crate::schemas::SchemaKind;

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema to print.
    #[arg(value_enum, default_value_t = SchemaKind::Manifest)]
    pub kind: SchemaKind,
}

pub fn run(args: &SchemaArgs) -> Result<Exit, Failure> {
    terminal::stdout(crate::schemas::for_kind(args.kind))?;
    Ok(Exit::Ok)
}
