//! The registry of finding codes: stable kebab-case names, one place.
