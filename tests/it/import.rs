//! `shipcheck import` through the binary and the simulator: the imported
//! manifest validates and a check of it against the same world exits 0
//! (the demo fleet, a fleet of 1,000 instances × 20 files, and a snapshot
//! offline); filters, `--dry-run`, `--force`, content files and digests.

use std::path::{Path, PathBuf};

use shipcheck::secret::Secret;
use shipcheck::sim::{SimConfig, SynthSpec};

use crate::support::{data, repo, run, shipcheck};

fn demo_state() -> PathBuf {
    repo("examples/demo/sim-state.yaml")
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Imports from `state` into `output` (extra flags after), asserting exit 0.
fn import(state: &Path, output: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "import",
        "--simulate",
        s(state),
        "--region",
        "cn-hangzhou",
        "--output",
        s(output),
    ];
    args.extend_from_slice(extra);
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    std::fs::read_to_string(output).unwrap()
}

/// `validate`, then `check` against `state`: both exit 0.
fn validates_and_checks_clean(state: &Path, manifest: &Path) {
    let (code, _, stderr) = run(&["validate", s(manifest)]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&["check", "--simulate", s(state), s(manifest)]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn the_demo_fleet_round_trips_through_import_validate_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("shipcheck.yaml");
    let text = import(&demo_state(), &manifest, &["--commands"]);
    validates_and_checks_clean(&demo_state(), &manifest);

    // The demo drifted: web-2 kept the previous nginx.conf, so the file
    // becomes two entries; web-3's only nginx.conf delivery failed, so it
    // is in neither.
    assert_eq!(text.matches("name: 'nginx.conf'").count(), 2, "{text}");
    assert!(text.contains("worker_processes auto;"), "{text}");
    assert!(text.contains("worker_processes 2;"), "{text}");
    let nginx: Vec<&str> = text
        .split("- name: ")
        .filter(|entry| entry.starts_with("'nginx.conf'"))
        .collect();
    assert!(
        nginx.iter().all(|e| !e.contains("i-bp1web0000000003")),
        "{text}"
    );
    // shop.env was re-sent to web-2 with mode 0644: a second entry.
    assert!(text.contains("mode: '0600'") && text.contains("mode: '0644'"));
    // The motd on all three instances names one generated set.
    assert!(
        text.contains(
            "set-1:\n  - 'i-bp1web0000000001'\n  - 'i-bp1web0000000002'\n  - 'i-bp1web0000000003'"
        ),
        "{text}"
    );
    assert!(text.contains("command_id: 'c-hz0reloadnginx01'"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_of_1000_instances_and_20_files_round_trips() {
    const KEY_ID: &str = "LTAI-import-test";
    const SECRET: &str = "import-test-secret-5e1c";
    let config = SimConfig::new()
        .with_key(KEY_ID, Secret::new(SECRET))
        .synthesize(SynthSpec {
            instances: 1000,
            files: 20,
            ..SynthSpec::default()
        });
    let server = shipcheck::sim::start(config).await.unwrap();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("fleet.yaml");
    {
        let (url, manifest) = (url.clone(), manifest.clone());
        tokio::task::spawn_blocking(move || {
            let with_key = |args: &[&str]| {
                let output = shipcheck()
                    .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
                    .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
                    .args(args)
                    .output()
                    .unwrap();
                let stdout = String::from_utf8_lossy(&output.stdout);
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert_eq!(output.status.code(), Some(0), "{args:?}: {stdout}{stderr}");
            };
            with_key(&[
                "import",
                "--endpoint",
                &url,
                "--region",
                "cn-hangzhou",
                "--output",
                s(&manifest),
            ]);
            with_key(&["check", "--endpoint", &url, "-q", s(&manifest)]);
        })
        .await
        .unwrap();
    }
    server.shutdown().await;

    let text = std::fs::read_to_string(&manifest).unwrap();
    // Every file reached every instance alike: one set, 20 entries naming it.
    assert_eq!(text.matches("\n- name: ").count(), 20, "{text}");
    assert_eq!(text.matches("  - 'set-1'").count(), 20);
    assert!(!text.contains("set-2"));
    assert_eq!(text.matches("\n  - 'i-").count(), 1000);
}

#[test]
fn filters_narrow_what_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let state = demo_state();
    let only = |name: &str, flags: &[&str]| {
        let manifest = dir.path().join(name);
        let text = import(&state, &manifest, flags);
        validates_and_checks_clean(&state, &manifest);
        text
    };

    let text = only(
        "name.yaml",
        &["--name", "nginx.conf", "--instance", "i-bp1web0000000002"],
    );
    assert_eq!(text.matches("- name: ").count(), 1, "{text}");
    assert!(text.contains("worker_processes 2;") && !text.contains("i-bp1web0000000001"));

    let text = only("dir.yaml", &["--target-dir", "/etc/"]);
    assert_eq!(text.matches("- name: ").count(), 1, "{text}");
    assert!(text.contains("name: 'motd'"), "{text}");

    // The simulator's clock stands at 10:00 on 2026-11-20; web-2's nginx.conf
    // was delivered four days earlier.
    for since in ["2h", "2026-11-18T00:00:00Z"] {
        let text = only(
            "since.yaml",
            &["--name", "nginx.conf", "--since", since, "--force"],
        );
        assert_eq!(text.matches("- name: ").count(), 1, "{since}: {text}");
        assert!(!text.contains("worker_processes 2;"), "{since}: {text}");
    }

    let (code, _, stderr) = run(&[
        "import",
        "--simulate",
        s(&state),
        "--region",
        "cn-hangzhou",
        "--since",
        "soon",
        "--output",
        s(&dir.path().join("x.yaml")),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("neither an RFC 3339 time nor a duration"),
        "{stderr}"
    );
}

#[test]
fn dry_run_prints_and_writes_nothing_and_an_existing_output_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let state = data("import/state.yaml");
    let manifest = dir.path().join("out").join("import.yaml");
    let (code, stdout, stderr) = run(&[
        "import",
        "--simulate",
        s(&state),
        "--region",
        "cn-hangzhou",
        "--dry-run",
        "--output",
        s(&manifest),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("# Written by `shipcheck import`"),
        "{stdout}"
    );
    assert!(stderr.contains("dry run: nothing written"), "{stderr}");
    assert!(
        !dir.path().join("out").exists(),
        "--dry-run wrote something"
    );

    let written = import(&state, &manifest, &[]);
    assert_eq!(written, stdout, "--dry-run prints what import writes");
    // A dry run needs no --output.
    let (code, bare, stderr) = run(&[
        "import",
        "--simulate",
        s(&state),
        "--region",
        "cn-hangzhou",
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(bare, stdout);
    let (code, _, _) = run(&["import", "--simulate", s(&state), "--region", "cn-hangzhou"]);
    assert_eq!(code, 2, "--output is required without --dry-run");

    std::fs::write(&manifest, "mine\n").unwrap();
    let (code, _, stderr) = run(&[
        "import",
        "--simulate",
        s(&state),
        "--region",
        "cn-hangzhou",
        "--output",
        s(&manifest),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), "mine\n");
    assert_eq!(import(&state, &manifest, &["--force"]), written);
}

#[test]
fn long_text_goes_to_a_content_file_binary_to_a_digest_and_yaml_stays_inert() {
    let dir = tempfile::tempdir().unwrap();
    let state = data("import/state.yaml");
    let manifest = dir.path().join("import.yaml");
    let output = shipcheck()
        .args([
            "import",
            "--simulate",
            s(&state),
            "--region",
            "cn-hangzhou",
            "--output",
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let text = std::fs::read_to_string(&manifest).unwrap();
    validates_and_checks_clean(&state, &manifest);

    // 100 lines: beside the manifest, byte for byte.
    assert!(
        text.contains("content_file: 'files/opt/app/app.ini'"),
        "{text}"
    );
    let side = std::fs::read_to_string(dir.path().join("files/opt/app/app.ini")).unwrap();
    assert_eq!(side.lines().count(), 100);
    assert!(side.starts_with("line 0: value 0\n"));
    // Bytes 0..=255: not text, so only their SHA-256.
    let digest = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest((0..=255u8).collect::<Vec<_>>()))
    };
    assert!(text.contains(&format!("sha256: '{digest}'")), "{text}");
    // A name, a directory, an owner and content that look like YAML are
    // quoted (the check above found them again as they are).
    assert!(text.contains("name: 'a: b #c'"), "{text}");
    assert!(text.contains("owner: '*alias'"), "{text}");
    // A file still being re-delivered is left out, and said so; a file
    // whose only delivery failed is not imported.
    assert!(
        stderr.contains("skipped /opt/app/moving.conf on i-bp1imp0000000001"),
        "{stderr}"
    );
    assert!(!text.contains("moving.conf") && !text.contains("failed.conf"));
}

#[test]
fn offline_import_from_a_snapshot_checks_clean_offline() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("evidence.json");
    let (code, _, stderr) = run(&[
        "check",
        "--simulate",
        s(&demo_state()),
        s(&repo("examples/demo/shipcheck.yaml")),
        "--save-snapshot",
        s(&snapshot),
    ]);
    assert_eq!(code, 1, "the demo drifts: {stderr}");

    let manifest = dir.path().join("offline.yaml");
    // No credentials, and an endpoint nothing listens on: never contacted.
    let (code, _, stderr) = run(&[
        "import",
        "--offline",
        "--endpoint",
        "http://127.0.0.1:9",
        "--from-snapshot",
        s(&snapshot),
        "--region",
        "cn-hangzhou",
        "--output",
        s(&manifest),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&manifest).unwrap();
    // shop.env is sensitive in the demo: the snapshot kept only its digest.
    assert!(text.contains("sha256: '"), "{text}");
    assert!(!text.contains("SESSION_KEY"), "{text}");

    let (code, _, stderr) = run(&["validate", s(&manifest)]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(&[
        "check",
        "--offline",
        "--from-snapshot",
        s(&snapshot),
        s(&manifest),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // Offline without a snapshot is refused by the command line.
    let (code, _, _) = run(&[
        "import",
        "--offline",
        "--region",
        "cn-hangzhou",
        "-o",
        "x.yaml",
    ]);
    assert_eq!(code, 2);
}

#[test]
fn a_listing_that_fails_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m.yaml");
    let output = shipcheck()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "id")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
        .args([
            "import",
            "--endpoint",
            "http://127.0.0.1:9",
            "--region",
            "cn-hangzhou",
            "--max-attempts",
            "1",
            "--output",
        ])
        .arg(&manifest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(!manifest.exists());
}
