//! Each simulated machine's disk: what SendFile left there, or what the
//! state file says is there now (a file edited, chmod-ed or deleted by hand
//! after its delivery), and the probe's view of it.
//!
//! The disk is what lets `check --probe` be tested end to end: a delivery
//! record says one thing, the disk another, and only RunCommand can tell.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::mode::FileMode;
use crate::probe::script::{DiskState, FileFacts};

/// A file on a simulated disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskFile {
    pub mode: String,
    pub owner: String,
    pub group: String,
    pub content: Vec<u8>,
}

impl DiskFile {
    /// A file the state lists by path only: SendFile's defaults, empty.
    pub fn placeholder() -> Self {
        Self {
            mode: "0644".into(),
            owner: "root".into(),
            group: "root".into(),
            content: Vec::new(),
        }
    }
}

/// Absolute path → file; one delivery's file is shared by every machine it
/// was written to (a synthetic fleet has half a million).
pub type Disk = BTreeMap<String, Arc<DiskFile>>;

/// What the probe script would print about `path`.
pub fn probe(disk: &Disk, path: &str) -> DiskState {
    let Some(file) = disk.get(path) else {
        return DiskState::Absent;
    };
    // A mode SendFile refused never got written; one in the state that is
    // not a chmod mode reads as an unreadable file.
    let Ok(mode) = file.mode.parse::<FileMode>() else {
        return DiskState::NotAFile;
    };
    DiskState::File(FileFacts {
        mode: mode.bits(),
        owner: file.owner.clone(),
        group: file.group.clone(),
        size: file.content.len() as u64,
        sha256: hex::encode(Sha256::digest(&file.content)),
    })
}
