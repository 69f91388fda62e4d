//! The diff: expectations × observations → findings. Pure; no I/O.
