//! Every invalid-manifest fixture in `tests/data/manifest/invalid/` is
//! refused with exactly the diagnostics its header declares, on the declared
//! lines, and renders (colour off) as its committed snapshot.
//!
//! A fixture's header lists what it must produce:
//!
//! ```yaml
//! # expect: manifest::invalid-mode @ 7     (code @ 1-based line; 0: no line)
//! # var: NAME=VALUE                        (a --var for this fixture)
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use shipcheck::manifest::{self, Code, VarOverride};

/// Relative to the package root (where cargo runs tests), as a user would
/// type it: the path appears in every rendered snapshot.
const DIR: &str = "tests/data/manifest/invalid";

struct Fixture {
    path: PathBuf,
    name: String,
    expected: Vec<(String, usize)>,
    vars: Vec<VarOverride>,
}

fn fixtures() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(DIR)
        .expect("the fixture directory exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    paths.sort();
    paths.into_iter().map(|path| read_fixture(&path)).collect()
}

fn read_fixture(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap();
    let mut expected = Vec::new();
    let mut vars = Vec::new();
    for line in text.lines().take_while(|line| line.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("# expect: ") {
            let (code, at) = rest.split_once(" @ ").expect("`code @ line`");
            expected.push((code.to_owned(), at.parse().expect("a line number")));
        } else if let Some(var) = line.strip_prefix("# var: ") {
            let (name, value) = var.split_once('=').expect("NAME=VALUE");
            vars.push(VarOverride::new(name, value));
        }
    }
    assert!(
        !expected.is_empty(),
        "{} declares no `# expect:`",
        path.display()
    );
    Fixture {
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        path: path.to_owned(),
        expected,
        vars,
    }
}

/// The environment the fixtures see: one variable set, the rest unset.
fn env(name: &str) -> Option<String> {
    (name == "SHIPCHECK_FIXTURE_REGION").then(|| "cn-hangzhou".to_owned())
}

#[test]
fn each_fixture_reports_its_diagnostics_on_the_declared_lines() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 20, "only {} fixtures", fixtures.len());
    let mut failures = Vec::new();
    for fixture in &fixtures {
        let errors = match manifest::load(std::slice::from_ref(&fixture.path), &fixture.vars, &env)
        {
            Ok(_) => {
                failures.push(format!("{}: loaded without error", fixture.name));
                continue;
            }
            Err(errors) => errors,
        };
        let actual: Vec<(String, usize)> = errors
            .to_records()
            .into_iter()
            .map(|record| (record.code.to_owned(), record.line.unwrap_or(0)))
            .collect();
        if actual != fixture.expected {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                fixture.name, fixture.expected, actual
            ));
        }
        // Every diagnostic explains itself and, when it has a place, is
        // labelled in the fixture.
        for diagnostic in &errors.diagnostics {
            assert!(
                diagnostic.help.is_some(),
                "{}: {} has no help",
                fixture.name,
                diagnostic.code
            );
            if diagnostic.source.is_some() && diagnostic.code != Code::ReadFailed {
                assert!(
                    !diagnostic.labels.is_empty(),
                    "{}: {} has no label",
                    fixture.name,
                    diagnostic.code
                );
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn each_fixture_renders_as_its_snapshot() {
    for fixture in fixtures() {
        let errors = manifest::load(std::slice::from_ref(&fixture.path), &fixture.vars, &env)
            .expect_err("an invalid fixture");
        insta::assert_snapshot!(fixture.name.clone(), errors.render_human(false));
    }
}

/// "One fixture per diagnostic": every code the loader can emit from a file
/// has a fixture (reading a missing file is covered by the CLI tests, and
/// the generic schema fallback has no path the typed model leaves open;
/// no-region comes from `check` and is tested through the binary, and
/// too-many-pairs needs millions of pairs under the default budget:
/// tests/hostile_manifests.rs drives it with `--max-pairs`).
#[test]
fn every_code_has_a_fixture() {
    let covered: BTreeSet<String> = fixtures()
        .into_iter()
        .flat_map(|fixture| fixture.expected.into_iter().map(|(code, _)| code))
        .collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| {
            !matches!(
                code,
                Code::ReadFailed | Code::Schema | Code::NoRegion | Code::TooManyPairs
            )
        })
        .map(|code| code.as_str())
        .filter(|code| !covered.contains(*code))
        .collect();
    assert!(missing.is_empty(), "no fixture for {missing:?}");
}
