//! Manifests written by an attacker (a pull request's author) against the
//! job that runs them: each attack of issue 10 through the real binary,
//! with its exit code and the line of its diagnostic. Data in
//! `tests/data/manifest/hostile/`; the special files (FIFO, device, symlinks,
//! a sparse gigabyte) are made in a temporary directory at run time.
//!
//! A hang would never end, so the FIFO and device cases run under a
//! timeout: they must be refused at once, not read.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

const SECRET: &str = "HOSTILE-secret-7f3a9c1e5b";
const TOKEN: &str = "HOSTILE-sts-token-CAIS42xyz";

/// Long enough for a loaded CI machine to start a debug binary; a read
/// of a FIFO or of /dev/zero never ends at all.
const AT_ONCE: Duration = Duration::from_secs(2);

fn fixture(name: &str) -> PathBuf {
    crate::support::data("manifest/hostile").join(name)
}

/// A directory holding the fixture as `m.yaml`.
fn staged(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture(name), dir.path().join("m.yaml")).unwrap();
    dir
}

struct Outcome {
    code: i32,
    /// (code, line) of each diagnostic.
    diagnostics: Vec<(String, usize)>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

fn validate(dir: &Path, manifest: &str, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::cargo_bin("shipcheck").unwrap();
    cmd.current_dir(dir)
        .args(["validate", "--format", "json", manifest])
        .args(args)
        .env_remove("SHIPCHECK_ALLOW_ENV")
        .timeout(AT_ONCE * 5);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let output = cmd.output().unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let records: Vec<Value> = serde_json::from_str(&stdout).unwrap_or_default();
    Outcome {
        code: output.status.code().unwrap_or(-1),
        diagnostics: records
            .iter()
            .map(|r| {
                (
                    r["code"].as_str().unwrap_or_default().to_owned(),
                    r["line"].as_u64().unwrap_or(0) as usize,
                )
            })
            .collect(),
        stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed,
    }
}

fn human(dir: &Path, manifest: &str, args: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("shipcheck")
        .unwrap()
        .current_dir(dir)
        .args(["--color", "never", "validate", manifest])
        .args(args)
        .timeout(AT_ONCE * 5)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn expect(outcome: &Outcome, code: i32, diagnostics: &[(&str, usize)]) {
    let expected: Vec<(String, usize)> = diagnostics
        .iter()
        .map(|(c, l)| (format!("manifest::{c}"), *l))
        .collect();
    assert_eq!(
        (outcome.code, &outcome.diagnostics),
        (code, &expected),
        "stdout: {}\nstderr: {}",
        outcome.stdout,
        outcome.stderr
    );
}

#[test]
fn content_files_outside_the_manifests_directory_are_refused() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("outside.conf"), "secret = 1\n").unwrap();
    let dir = outer.path().join("repo");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(fixture("content-outside.yaml"), dir.join("m.yaml")).unwrap();
    std::os::unix::fs::symlink(outer.path().join("outside.conf"), dir.join("link-out")).unwrap();

    let outcome = validate(&dir, "m.yaml", &[], &[]);
    expect(
        &outcome,
        2,
        &[
            ("content-file-outside", 6),
            ("content-file-outside", 10),
            ("content-file-outside", 14),
        ],
    );
    let (_, text) = human(&dir, "m.yaml", &[]);
    assert!(!text.contains("secret = 1"), "{text}");
    assert!(!text.contains("root:"), "{text}");

    // An operator may name a wider root; /etc/passwd stays outside it.
    let root = outer.path().to_str().unwrap();
    let outcome = validate(&dir, "m.yaml", &["--content-root", root], &[]);
    expect(&outcome, 2, &[("content-file-outside", 10)]);
}

#[test]
fn fifos_devices_directories_and_huge_files_are_refused_at_once() {
    let dir = staged("content-special.yaml");
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("fifo"))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    // A sparse gigabyte: refused from its metadata, never read.
    std::fs::File::create(dir.path().join("sparse.bin"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();

    let outcome = validate(dir.path(), "m.yaml", &[], &[]);
    assert!(outcome.elapsed < AT_ONCE, "took {:?}", outcome.elapsed);
    expect(
        &outcome,
        2,
        &[
            ("content-file-unreadable", 6),
            ("content-file-unreadable", 10),
            ("content-too-large", 14),
        ],
    );
    let (_, text) = human(dir.path(), "m.yaml", &[]);
    assert!(text.contains("named pipe (FIFO)"), "{text}");
    assert!(text.contains("directory, not a regular file"), "{text}");
}

#[test]
fn dev_zero_is_refused_at_once_inside_or_outside_the_root() {
    let dir = staged("dev-zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
    let outcome = validate(dir.path(), "m.yaml", &[], &[]);
    assert!(outcome.elapsed < AT_ONCE, "took {:?}", outcome.elapsed);
    expect(&outcome, 2, &[("content-file-outside", 6)]);
    // Even with the whole filesystem as the root, a device is no content.
    let outcome = validate(dir.path(), "m.yaml", &["--content-root", "/"], &[]);
    assert!(outcome.elapsed < AT_ONCE, "took {:?}", outcome.elapsed);
    expect(&outcome, 2, &[("content-file-unreadable", 6)]);
}

#[test]
fn a_manifest_cannot_read_credentials_or_secret_looking_variables() {
    let dir = staged("secret-env.yaml");
    let env = [
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN),
        ("ALICLOUD_SECRET_KEY", SECRET),
        ("GH_TOKEN", "ghp_HOSTILE123456"),
    ];
    let refused = [
        ("secret-env-var", 4),
        ("secret-env-var", 6),
        ("secret-env-var", 8),
        ("secret-env-var", 9),
    ];
    let outcome = validate(dir.path(), "m.yaml", &[], &env);
    expect(&outcome, 2, &refused);
    for text in [&outcome.stdout, &outcome.stderr] {
        for value in [SECRET, TOKEN, "ghp_HOSTILE"] {
            assert!(!text.contains(value), "{value} in {text}");
        }
    }
    // Allowing the credential chain's own variables changes nothing.
    let allow = [
        "--allow-env",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "--allow-env",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "--allow-env",
        "ALICLOUD_SECRET_KEY",
    ];
    let outcome = validate(dir.path(), "m.yaml", &allow, &env);
    expect(&outcome, 2, &refused);
    // A secret-looking name the operator vouches for is read
    // (the flag, or SHIPCHECK_ALLOW_ENV).
    let outcome = validate(dir.path(), "m.yaml", &["--allow-env", "GH_TOKEN"], &env);
    expect(&outcome, 2, &refused[..3]);
    let mut with_list = env.to_vec();
    with_list.push(("SHIPCHECK_ALLOW_ENV", "OTHER,GH_TOKEN"));
    let output = Command::cargo_bin("shipcheck")
        .unwrap()
        .current_dir(dir.path())
        .args(["validate", "--format", "json", "m.yaml"])
        .envs(with_list)
        .output()
        .unwrap();
    let records: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(records.len(), 3, "{records:?}");
}

#[test]
fn amplification_is_refused_before_expanding_and_the_budget_can_be_raised() {
    let dir = tempfile::tempdir().unwrap();
    // 2,000 files on a 10,000-instance set: 20 million pairs from 500 KB.
    let mut yaml =
        String::from("version: 1\ndefaults: {region: cn-hangzhou}\ninstance_sets:\n  fleet:\n");
    for i in 0..10_000 {
        yaml.push_str(&format!("    - i-bp{i:08}\n"));
    }
    yaml.push_str("files:\n");
    for f in 0..2_000 {
        yaml.push_str(&format!(
            "  - {{name: f{f}.conf, target_dir: /etc/app, instances: [fleet]}}\n"
        ));
    }
    std::fs::write(dir.path().join("m.yaml"), &yaml).unwrap();
    let outcome = validate(dir.path(), "m.yaml", &[], &[]);
    expect(&outcome, 2, &[("too-many-pairs", 10_006)]);
    assert!(
        outcome.elapsed < Duration::from_secs(10),
        "{:?}",
        outcome.elapsed
    );
    assert!(
        outcome.stdout.contains("--max-pairs 20000000"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("files[0] (10000)"),
        "{}",
        outcome.stdout
    );

    // The same set named through a variable is counted as a set, not as
    // one id: a variable cannot carry the amplification past the budget.
    let through_var = yaml
        .replace("instances: [fleet]", "instances: [\"${var.set}\"]")
        .replacen("instance_sets:", "vars: {set: fleet}\ninstance_sets:", 1);
    std::fs::write(dir.path().join("var.yaml"), &through_var).unwrap();
    let outcome = validate(dir.path(), "var.yaml", &[], &[]);
    assert_eq!(outcome.code, 2, "{}", outcome.stdout);
    assert!(
        outcome.stdout.contains("manifest::too-many-pairs"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.elapsed < Duration::from_secs(10),
        "{:?}",
        outcome.elapsed
    );

    // A small manifest under a small budget, and the same raised.
    let small = "version: 1\ndefaults: {region: cn-hangzhou}\ninstance_sets:\n  s: [i-a1, i-a2, i-a3]\nfiles:\n  - {name: a, target_dir: /x, instances: [s]}\n  - {name: b, target_dir: /x, instances: [s, i-a9]}\n";
    std::fs::write(dir.path().join("small.yaml"), small).unwrap();
    let outcome = validate(dir.path(), "small.yaml", &["--max-pairs", "6"], &[]);
    expect(&outcome, 2, &[("too-many-pairs", 7)]);
    let outcome = validate(dir.path(), "small.yaml", &["--max-pairs", "7"], &[]);
    expect(&outcome, 0, &[]);
}

#[test]
fn large_plain_manifests_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let mut plain = String::from("version: 1\ndefaults: {region: cn-hangzhou}\nfiles:\n");
    for f in 0..10_000 {
        plain.push_str(&format!(
            "  - name: app{f}.conf\n    target_dir: /etc/app\n    mode: \"0644\"\n    owner: root\n    instances: [i-bp{f:08}]\n"
        ));
    }
    std::fs::write(dir.path().join("plain.yaml"), &plain).unwrap();
    expect(&validate(dir.path(), "plain.yaml", &[], &[]), 0, &[]);

    // 50 MB, mostly comments.
    let mut commented = String::from("version: 1\ndefaults: {region: cn-hangzhou}\nfiles:\n");
    let comment = format!("    # {}\n", "x".repeat(94));
    for f in 0..100 {
        commented.push_str(&format!(
            "  - name: app{f}.conf\n    target_dir: /etc/app\n    instances: [i-bp{f:08}]\n"
        ));
        for _ in 0..5_000 {
            commented.push_str(&comment);
        }
    }
    assert!(commented.len() >= 50_000_000);
    std::fs::write(dir.path().join("big.yaml"), &commented).unwrap();
    expect(&validate(dir.path(), "big.yaml", &[], &[]), 0, &[]);
    // The size limit is the operator's to set.
    let outcome = validate(
        dir.path(),
        "big.yaml",
        &["--max-manifest-bytes", "1000000"],
        &[],
    );
    expect(&outcome, 2, &[("read-failed", 0)]);
}

#[test]
fn escape_sequences_in_manifest_values_reach_the_terminal_inert() {
    let dir = staged("escape.yaml");
    let (code, text) = human(dir.path(), "m.yaml", &[]);
    assert_eq!(code, 2, "{text}");
    for raw in ['\x1b', '\x07', '\u{9b}', '\u{202e}'] {
        assert!(
            !text.contains(raw),
            "{raw:?} reached the terminal: {text:?}"
        );
    }
    assert!(text.contains("\\x1b]0;pwned\\x07"), "{text}");
    assert!(text.contains("\\u{202e}txt.exe"), "{text}");
}

#[test]
fn a_five_megabyte_line_yields_a_short_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let long = "a".repeat(5 * 1024 * 1024);
    let yaml = format!(
        "version: 1\ndefaults: {{region: cn-hangzhou}}\nfiles:\n  - {{name: x, target_dir: rel/{long}, content: x, instances: [i-bp1a]}}\n"
    );
    std::fs::write(dir.path().join("m.yaml"), yaml).unwrap();
    let (code, text) = human(dir.path(), "m.yaml", &[]);
    assert_eq!(code, 2);
    assert!(text.len() < 10_000, "{} bytes of diagnostics", text.len());
    assert!(text.contains("m.yaml:4:"), "{text}");
    let outcome = validate(dir.path(), "m.yaml", &[], &[]);
    assert!(
        outcome.stdout.len() < 10_000,
        "{} bytes",
        outcome.stdout.len()
    );
    // TooLong and RelativeTargetDir, both on line 4.
    assert!(outcome.diagnostics.iter().all(|(_, line)| *line == 4));
}
