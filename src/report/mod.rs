//! The report model and one renderer per output format.
