//! Evidence that outlives the API: `check --save-snapshot`, then
//! `--from-snapshot` and `--offline`, through the binary and the simulator.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{repo, run};

const FORMATS: &[&str] = &["human", "json", "junit", "sarif", "markdown", "github"];

/// The demo's manifest without `max_age` (an offline replay judges ages
/// against the real clock, the simulator against its pinned one), beside
/// a copy of its content files.
fn demo_manifest(dir: &Path) -> PathBuf {
    let demo = repo("examples/demo");
    std::fs::create_dir_all(dir.join("files")).unwrap();
    for entry in std::fs::read_dir(demo.join("files")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("files").join(entry.file_name())).unwrap();
    }
    let text = std::fs::read_to_string(demo.join("shipcheck.yaml")).unwrap();
    let text: String = text
        .lines()
        .filter(|line| !line.contains("max_age"))
        .map(|line| format!("{line}\n"))
        .collect();
    let path = dir.join("shipcheck.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn state() -> PathBuf {
    repo("examples/demo/sim-state.yaml")
}

/// The demo's state with its clock moved to `now`: past the simulator's
/// 14-day retention, every record has aged out.
fn state_at(dir: &Path, now: &str) -> PathBuf {
    let text = std::fs::read_to_string(state()).unwrap();
    let text = text.replace("now: \"2026-11-20T10:00:00Z\"", &format!("now: \"{now}\""));
    assert!(text.contains(now), "the demo state pins its clock");
    let path = dir.join("later-state.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A live check of `manifest` against the demo state that saves its
/// evidence to `snapshot`; its exit code.
fn record(manifest: &Path, snapshot: &Path) -> i32 {
    run(&[
        "check",
        "--simulate",
        s(&state()),
        s(manifest),
        "--save-snapshot",
        s(snapshot),
    ])
    .0
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The JSON report without what differs between runs by design: when it
/// was checked and where each target's evidence came from.
fn without_provenance(mut value: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("checked_at");
                map.remove("evidence");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

/// The human report without its "evidence from snapshots" section.
fn without_snapshot_section(text: &str) -> String {
    let mut kept = Vec::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.contains("evidence from snapshots") {
            skipping = true;
        } else if skipping && line.trim().is_empty() {
            skipping = false;
            continue;
        }
        if !skipping {
            kept.push(line);
        }
    }
    kept.join("\n")
}

fn sources(report: &Value) -> Vec<String> {
    let mut sources = Vec::new();
    for section in ["files", "commands"] {
        for entry in report[section].as_array().unwrap() {
            for target in entry["targets"].as_array().unwrap() {
                sources.push(target["evidence"]["source"].as_str().unwrap().to_owned());
            }
        }
    }
    sources
}

#[test]
fn an_offline_replay_of_a_snapshot_gives_the_live_findings_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = demo_manifest(dir.path());
    let snapshot = dir.path().join("evidence.json");
    for format in FORMATS {
        let (live_exit, live, _) = run(&[
            "check",
            "--simulate",
            s(&state()),
            s(&manifest),
            "--format",
            format,
            "--save-snapshot",
            s(&snapshot),
        ]);
        assert_eq!(live_exit, 1, "the demo drifts");
        // No credentials, an endpoint nothing listens on: never contacted.
        let (offline_exit, offline, stderr) = run(&[
            "check",
            "--offline",
            "--endpoint",
            "http://127.0.0.1:9",
            "--from-snapshot",
            s(&snapshot),
            s(&manifest),
            "--format",
            format,
        ]);
        assert_eq!(offline_exit, live_exit, "{format}: {stderr}");
        match *format {
            "json" => {
                let live: Value = serde_json::from_str(&live).unwrap();
                let offline: Value = serde_json::from_str(&offline).unwrap();
                assert!(sources(&live).iter().all(|s| s == "live"));
                let replayed = format!("snapshot {}", snapshot.display());
                assert!(
                    sources(&offline).iter().all(|s| *s == replayed),
                    "{offline}"
                );
                assert_eq!(without_provenance(live), without_provenance(offline));
            }
            "human" => {
                assert!(offline.contains("evidence from snapshots"), "{offline}");
                assert_eq!(live, without_snapshot_section(&offline) + "\n");
            }
            _ => assert_eq!(live, offline, "{format}"),
        }
    }

    // The snapshot validates against its schema, keeps the declared
    // non-sensitive content (diffs need it) and only digests of the rest.
    let text = std::fs::read_to_string(&snapshot).unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    let schema: Value = serde_json::from_str(shipcheck::schemas::SNAPSHOT_V1).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(document["version"], 1);
    assert!(
        text.contains("worker_processes auto;"),
        "nginx.conf content kept"
    );
    let sensitive = std::fs::read_to_string(repo("examples/demo/files/shop.env")).unwrap();
    for line in sensitive.lines().filter(|l| l.contains('=')) {
        let value = line.split_once('=').unwrap().1;
        assert!(
            value.len() < 4 || !text.contains(value),
            "the sensitive shop.env value `{value}` is in the snapshot"
        );
    }
    assert!(text.contains("\"content_digests\": ["), "digests instead");
}

#[test]
fn a_delivery_the_api_has_forgotten_is_still_known_from_the_snapshot_with_its_age() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = demo_manifest(dir.path());
    let snapshot = dir.path().join("ledger.json");
    let exit = record(&manifest, &snapshot);
    assert_eq!(exit, 1);
    let later = state_at(dir.path(), "2026-12-20T10:00:00Z");

    // The API alone has forgotten everything: not-delivered, naming the
    // retention the user set.
    let (exit, forgotten, _) = run(&[
        "check",
        "--simulate",
        s(&later),
        s(&manifest),
        "--format",
        "json",
        "--retention",
        "14d",
    ]);
    assert_eq!(exit, 1);
    assert!(forgotten.contains("\"not-delivered\""), "{forgotten}");
    assert!(
        forgotten.contains("the API keeps records for 14days (retention)"),
        "{forgotten}"
    );

    // With the snapshot, the same verdicts as a month ago, from the snapshot.
    let (exit, merged, _) = run(&[
        "check",
        "--simulate",
        s(&later),
        s(&manifest),
        "--from-snapshot",
        s(&snapshot),
        "--format",
        "json",
    ]);
    assert_eq!(exit, 1);
    assert!(!merged.contains("\"not-delivered\""), "{merged}");
    let report: Value = serde_json::from_str(&merged).unwrap();
    let target = &report["files"][0]["targets"][0];
    assert_eq!(
        target["evidence"]["source"],
        format!("snapshot {}", snapshot.display())
    );
    assert_eq!(target["evidence"]["fetched_at"], "2026-11-20T10:00:00Z");

    let (_, human, _) = run(&[
        "check",
        "--simulate",
        s(&later),
        s(&manifest),
        "--from-snapshot",
        s(&snapshot),
    ]);
    assert!(
        human.contains(&format!("from snapshot {}, 30 d old", snapshot.display())),
        "{human}"
    );

    // A ledger kept current carries the old records on with their own
    // fetch times.
    let ledger = dir.path().join("ledger-2.json");
    run(&[
        "check",
        "--simulate",
        s(&later),
        s(&manifest),
        "--from-snapshot",
        s(&snapshot),
        "--save-snapshot",
        s(&ledger),
    ]);
    let ledger: Value = serde_json::from_str(&std::fs::read_to_string(&ledger).unwrap()).unwrap();
    assert_eq!(ledger["fetched_at"], "2026-12-20T10:00:00Z");
    assert_eq!(
        ledger["files"][0]["targets"][0]["fetched_at"],
        "2026-11-20T10:00:00Z"
    );
}

#[test]
fn offline_an_expectation_no_snapshot_covers_is_unverified_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let motd = "version: 1\ndefaults:\n  region: cn-hangzhou\nfiles:\n  - name: motd\n    target_dir: /etc\n    content: |\n      Managed by Cloud Assistant. Local edits are overwritten.\n    overwrite: true\n    instances: [i-bp1web0000000001, i-bp1web0000000002]\n";
    let recorded = dir.path().join("motd.yaml");
    std::fs::write(&recorded, motd).unwrap();
    let snapshot = dir.path().join("motd.json");
    let exit = record(&recorded, &snapshot);
    assert_eq!(exit, 0);
    let (exit, _, _) = run(&[
        "check",
        "--offline",
        "--from-snapshot",
        s(&snapshot),
        s(&recorded),
    ]);
    assert_eq!(exit, 0, "the snapshot covers all of it");

    let more = dir.path().join("more.yaml");
    std::fs::write(
        &more,
        format!(
            "{motd}  - name: other.conf\n    target_dir: /etc/other\n    content: \"x\\n\"\n    instances: [i-bp1web0000000001]\n"
        ),
    )
    .unwrap();
    let (exit, out, _) = run(&[
        "check",
        "--offline",
        "--from-snapshot",
        s(&snapshot),
        s(&more),
    ]);
    assert_eq!(exit, 3, "{out}");
    assert!(
        out.contains("/etc/other/other.conf on instance i-bp1web0000000001"),
        "{out}"
    );
    assert!(out.contains("not-in-snapshot"), "{out}");
    assert!(
        out.contains("in sync on 2 instances"),
        "motd still judged: {out}"
    );

    // Offline with no snapshot at all: nothing is verified, nothing is called.
    let (exit, out, _) = run(&["check", "--offline", s(&recorded), "--format", "json"]);
    assert_eq!(exit, 3, "{out}");
}

#[test]
fn a_snapshot_that_is_not_one_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = demo_manifest(dir.path());
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"version\": 2}").unwrap();
    let (exit, _, stderr) = run(&[
        "check",
        "--offline",
        "--from-snapshot",
        s(&bad),
        s(&manifest),
    ]);
    assert_eq!(exit, 2);
    assert!(stderr.contains("version 2"), "{stderr}");
    let (exit, _, _) = run(&[
        "check",
        "--offline",
        "--from-snapshot",
        s(&dir.path().join("missing.json")),
        s(&manifest),
    ]);
    assert_eq!(exit, 2);
}

#[test]
fn schema_snapshot_prints_the_committed_schema() {
    let (exit, out, _) = run(&["schema", "snapshot"]);
    assert_eq!(exit, 0);
    assert_eq!(
        out,
        std::fs::read_to_string(repo("schemas/snapshot.v1.schema.json")).unwrap()
    );
}

#[test]
fn report_renders_a_saved_json_report_as_the_check_did_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = repo("examples/demo/shipcheck.yaml");
    let saved = dir.path().join("saved.json");
    for format in FORMATS {
        let (exit, direct, _) = run(&[
            "check",
            "--simulate",
            s(&state()),
            s(&manifest),
            "--format",
            format,
            "--report",
            &format!("json={}", saved.display()),
        ]);
        assert_eq!(exit, 1);
        let written = dir.path().join(format!("again.{format}"));
        let (again_exit, again, stderr) = run(&[
            "report",
            s(&saved),
            "--format",
            format,
            "--report",
            &format!("{format}={}", written.display()),
        ]);
        assert_eq!(again_exit, exit, "{format}: {stderr}");
        assert_eq!(again, direct, "{format}");
        assert_eq!(
            std::fs::read_to_string(&written).unwrap(),
            direct,
            "{format} file"
        );
    }

    // The manifest gone: every finding is still rendered, without snippets.
    let text = std::fs::read_to_string(&saved).unwrap();
    let moved = dir.path().join("moved.json");
    std::fs::write(&moved, text.replace(s(&manifest), "/gone/shipcheck.yaml")).unwrap();
    for format in FORMATS {
        let (exit, out, stderr) = run(&["report", s(&moved), "--format", format]);
        assert_eq!(exit, 1, "{format}: {stderr}");
        assert!(out.contains("i-bp1web0000000003"), "{format}: {out}");
    }
    let (_, human, _) = run(&["report", s(&moved)]);
    assert!(
        human.contains("group-mismatch") || human.contains("mode-mismatch"),
        "{human}"
    );

    // Not a report: invalid input.
    let (exit, _, stderr) = run(&["report", s(&manifest)]);
    assert_eq!(exit, 2, "{stderr}");
}

#[test]
fn diff_names_added_resolved_and_unchanged_findings_and_fails_on_added_drift() {
    let dir = tempfile::tempdir().unwrap();
    let drifted = dir.path().join("drifted.json");
    let (exit, _, _) = run(&[
        "check",
        "--simulate",
        s(&state()),
        s(&repo("examples/demo/shipcheck.yaml")),
        "--report",
        &format!("json={}", drifted.display()),
    ]);
    assert_eq!(exit, 1);
    let motd = dir.path().join("motd.yaml");
    std::fs::write(
        &motd,
        "version: 1\ndefaults:\n  region: cn-hangzhou\nfiles:\n  - name: motd\n    target_dir: /etc\n    content: |\n      Managed by Cloud Assistant. Local edits are overwritten.\n    overwrite: true\n    instances: [i-bp1web0000000001]\n",
    )
    .unwrap();
    let clean = dir.path().join("clean.json");
    let (exit, _, _) = run(&[
        "check",
        "--simulate",
        s(&state()),
        s(&motd),
        "--report",
        &format!("json={}", clean.display()),
    ]);
    assert_eq!(exit, 0);

    // Unchanged: nothing added, exit 0.
    let (exit, out, _) = run(&["diff", s(&drifted), s(&drifted), "--format", "json"]);
    assert_eq!(exit, 0, "{out}");
    let same: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(same["added"].as_array().unwrap().len(), 0);
    assert_eq!(same["resolved"].as_array().unwrap().len(), 0);
    assert!(!same["unchanged"].as_array().unwrap().is_empty());

    // Resolved: exit 0.
    let (exit, out, _) = run(&["diff", s(&drifted), s(&clean)]);
    assert_eq!(exit, 0, "{out}");
    assert!(
        out.contains("- mode-mismatch /etc/shop/shop.env on i-bp1web0000000002"),
        "{out}"
    );
    assert!(out.contains("no new drift: 0 added"), "{out}");

    // Added: exit 1, in every format.
    for format in ["human", "markdown", "json"] {
        let (exit, out, _) = run(&["diff", s(&clean), s(&drifted), "--format", format]);
        assert_eq!(exit, 1, "{format}: {out}");
        assert!(out.contains("i-bp1web0000000003"), "{format}: {out}");
    }
    let (_, markdown, _) = run(&["diff", s(&clean), s(&drifted), "--format", "markdown"]);
    assert!(markdown.contains("### Added"), "{markdown}");
}
