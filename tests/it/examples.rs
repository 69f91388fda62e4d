//! Every manifest in `examples/` validates, alone and all together, and its
//! editor schema comment points at the schema in this repository.
//!
//! Manifests are recognised by their `# yaml-language-server: $schema=`
//! line naming `manifest.v1.schema.json`; other YAML files there (simulator
//! states) name other schemas and are left alone.

use std::path::{Path, PathBuf};

use shipcheck::manifest;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            out.push(path);
        }
    }
}

fn example_manifests() -> Vec<PathBuf> {
    let mut files = Vec::new();
    yaml_files(Path::new("examples"), &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|path| manifest::is_manifest_file(path))
        .collect()
}

#[test]
fn every_example_manifest_validates() {
    let manifests = example_manifests();
    assert!(manifests.len() >= 4, "found only {manifests:?}");
    for path in &manifests {
        if let Err(errors) = manifest::load(std::slice::from_ref(path), &[], &|_| None) {
            panic!(
                "{} is invalid:\n{}",
                path.display(),
                errors.render_human(false)
            );
        }
    }
    let all = manifest::load(&manifests, &[], &|_| None)
        .unwrap_or_else(|errors| panic!("together:\n{}", errors.render_human(false)));
    assert!(!all.files.is_empty() && !all.commands.is_empty() && !all.waivers.is_empty());
}

#[test]
fn every_example_names_the_repository_schema() {
    let schema = std::fs::canonicalize("schemas/manifest.v1.schema.json").unwrap();
    for path in example_manifests() {
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let relative = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| {
                panic!(
                    "{}: the first line is not the schema comment",
                    path.display()
                )
            });
        let target = std::fs::canonicalize(path.parent().unwrap().join(relative))
            .unwrap_or_else(|err| panic!("{}: {relative}: {err}", path.display()));
        assert_eq!(target, schema, "{}", path.display());
    }
}
