//! The secret scan: with a distinctive access key secret and STS token in
//! the environment, every stdout, stderr and `--report` file of both
//! commands, in every format, at `-vv`, holds neither of them nor any
//! request signature: against the simulator, and against a hostile server
//! stand-in that echoes all three in `RequestId` (body and
//! `x-acs-request-id` header), `Message`, `Recommend`, `HostId` and a
//! plain-text error body. The `--save-snapshot` file is scanned too. A new
//! leak anywhere fails this test.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use assert_cmd::Command;

use crate::support::repo;

const KEY_ID: &str = "LTAI5tSCANkeyid0001";
const SECRET: &str = "SCAN-secret-Zq8x7Wv6u5T4s3R2";
const TOKEN: &str = "CAIS-scan-token/Yy9+Xx8=Ww7";

const FORMATS: &[&str] = &["human", "json", "junit", "sarif", "markdown", "github"];

/// Every spelling of `value` that could carry it: as is, percent-encoded
/// once and twice, form-encoded.
fn spellings(value: &str) -> Vec<String> {
    let once: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let pct = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    vec![value.to_owned(), once, pct(value), pct(&pct(value))]
}

fn assert_clean(what: &str, text: &str, needles: &[String]) {
    for needle in needles {
        assert!(
            !text.contains(needle.as_str()),
            "{what} leaks `{needle}`:\n{text}"
        );
    }
}

/// A command with the distinctive credentials and nothing else of the
/// machine's (no profile, no metadata service).
fn shipcheck(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("shipcheck").unwrap();
    cmd.env_clear()
        .env("HOME", home)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN)
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

/// Runs `args` once per format with every other format as a `--report`
/// file, and scans all of it.
fn scan_every_format(home: &Path, args: &[&str], needles: &dyn Fn() -> Vec<String>) {
    for format in FORMATS {
        let out = tempfile::tempdir().unwrap();
        let mut cmd = shipcheck(home);
        cmd.arg("-vv").args(args).args(["--format", format]);
        let reports: Vec<PathBuf> = FORMATS
            .iter()
            .map(|f| out.path().join(format!("report.{f}")))
            .collect();
        for (f, path) in FORMATS.iter().zip(&reports) {
            cmd.arg("--report").arg(format!("{f}={}", path.display()));
        }
        let snapshot = out.path().join("snapshot.json");
        cmd.arg("--save-snapshot").arg(&snapshot);
        let output = cmd.output().unwrap();
        let needles = needles();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_clean(&format!("{format}: stdout"), &stdout, &needles);
        assert_clean(&format!("{format}: stderr"), &stderr, &needles);
        assert!(snapshot.exists(), "{format}: the snapshot is written");
        for path in reports.iter().chain([&snapshot]) {
            if let Ok(text) = std::fs::read_to_string(path) {
                assert_clean(&path.display().to_string(), &text, &needles);
            }
        }
    }
}

fn base_needles() -> Vec<String> {
    let mut needles = spellings(SECRET);
    needles.extend(spellings(TOKEN));
    needles
}

#[cfg(feature = "sim")]
#[test]
fn validate_and_check_against_the_simulator_never_print_a_secret() {
    let home = tempfile::tempdir().unwrap();
    let manifest = repo("examples/demo/shipcheck.yaml");
    let manifest = manifest.to_str().unwrap();
    for format in ["human", "json"] {
        let output = shipcheck(home.path())
            .args(["-vv", "validate", "--format", format, manifest])
            .output()
            .unwrap();
        assert_clean(
            "validate stdout",
            &String::from_utf8_lossy(&output.stdout),
            &base_needles(),
        );
        assert_clean(
            "validate stderr",
            &String::from_utf8_lossy(&output.stderr),
            &base_needles(),
        );
    }
    let state = repo("examples/demo/sim-state.yaml");
    scan_every_format(
        home.path(),
        &["check", "--simulate", state.to_str().unwrap(), manifest],
        &base_needles,
    );
}

/// A server that answers every request with an error echoing the secret,
/// the token and the request's own signature everywhere it can.
fn hostile_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let signatures = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&signatures);
    let signature = regex::Regex::new(r"(?:^|[?&, ])Signature=([^&\s,]+)").unwrap();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let request = format!("{head}\n{}", String::from_utf8_lossy(&body));
            let sig = signature
                .captures(&request)
                .map(|c| {
                    percent_encoding::percent_decode_str(&c[1])
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .unwrap_or_default();
            seen.lock().unwrap().push(sig.clone());
            let echo = format!("{SECRET} {TOKEN} {sig}");
            let header_id = format!("{SECRET}-{TOKEN}-{sig}");
            let (status, body) = if n % 2 == 0 {
                let envelope = serde_json::json!({
                    "Code": "InvalidParameter",
                    "Message": format!("echo {echo} of {request}"),
                    "RequestId": echo,
                    "HostId": echo,
                    "Recommend": format!("https://api.example/?q={echo}"),
                });
                ("400 Bad Request", envelope.to_string())
            } else {
                ("503 Service Unavailable", format!("upstream said {echo}"))
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nx-acs-request-id: {header_id}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (url, signatures)
}

#[test]
fn a_server_echoing_secrets_token_and_signature_gets_none_of_them_printed() {
    let home = tempfile::tempdir().unwrap();
    let (url, signatures) = hostile_server();
    let manifest = repo("examples/demo/shipcheck.yaml");
    let needles = || {
        let mut needles = base_needles();
        for sig in signatures.lock().unwrap().iter().filter(|s| s.len() >= 6) {
            needles.extend(spellings(sig));
        }
        needles
    };
    for signature in ["v1", "v3"] {
        scan_every_format(
            home.path(),
            &[
                "check",
                "--endpoint",
                &url,
                "--signature",
                signature,
                "--max-attempts",
                "2",
                "--retry-budget",
                "3s",
                manifest.to_str().unwrap(),
            ],
            &needles,
        );
    }
    assert!(
        signatures.lock().unwrap().iter().any(|s| s.len() >= 6),
        "the stand-in saw no signature"
    );
}
