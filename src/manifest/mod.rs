//! The user's YAML manifest: model with spans, schema, validation, resolution.
