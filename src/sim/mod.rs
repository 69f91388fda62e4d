//! The local Cloud Assistant API simulator (`shipcheck sim`).

use std::path::PathBuf;

/// `shipcheck sim` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// The state file to serve (deliveries, command results, keys).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: String,
}
