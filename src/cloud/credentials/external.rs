//! An `External` profile: a command that prints credentials JSON (the CLI's
//! `process_command`, given the CLI's 60 s).

use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;

use super::key::{Credentials, cred_error, parse_expiration};
use crate::cloud::error::CloudError;
use crate::secret::Secret;

/// A `process_command` gets this long (the CLI's limit).
const EXTERNAL_TIMEOUT: Duration = Duration::from_secs(60);

/// What a `process_command` prints (CLI `External` mode).
#[derive(Deserialize)]
struct ExternalOutput {
    #[serde(default)]
    mode: String,
    access_key_id: Option<String>,
    access_key_secret: Option<Secret>,
    #[serde(default)]
    sts_token: Option<Secret>,
    #[serde(default)]
    expiration: Option<serde_json::Value>,
}

pub(super) async fn run_external(command: &str) -> Result<Credentials, CloudError> {
    const SOURCE: &str = "process_command";
    let mut cmd = if cfg!(windows) {
        let mut c = tokio::process::Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| {
        cred_error(
            SOURCE,
            format!("cannot run process_command: {e}"),
            "Check the profile's process_command.",
        )
    })?;
    let output = tokio::time::timeout(EXTERNAL_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            cred_error(
                SOURCE,
                format!(
                    "process_command did not finish within {}s",
                    EXTERNAL_TIMEOUT.as_secs()
                ),
                "Check that the command runs without prompting.",
            )
        })?
        .map_err(|e| {
            cred_error(
                SOURCE,
                format!("process_command failed: {e}"),
                "Check the command.",
            )
        })?;
    if !output.status.success() {
        return Err(cred_error(
            SOURCE,
            format!("process_command exited with {}", output.status),
            "Run the command by hand to see why (its stderr is shown above).",
        ));
    }
    // Never echo stdout: it holds the secret.
    let parsed: ExternalOutput = serde_json::from_slice(&output.stdout).map_err(|e| {
        cred_error(
            SOURCE,
            format!("process_command did not print credentials JSON (line {}, column {})", e.line(), e.column()),
            "It must print {\"mode\": \"AK\"|\"StsToken\", \"access_key_id\", \"access_key_secret\", \"sts_token\"}.",
        )
    })?;
    let (Some(id), Some(secret)) = (parsed.access_key_id, parsed.access_key_secret) else {
        return Err(cred_error(
            SOURCE,
            "process_command printed no access_key_id/access_key_secret".into(),
            "Fix the command's output.",
        ));
    };
    let mut creds = Credentials::new(id, secret);
    if parsed.mode.eq_ignore_ascii_case("StsToken") {
        creds.security_token = parsed.sts_token.filter(|t| !t.is_empty());
        if creds.security_token.is_none() {
            return Err(cred_error(
                SOURCE,
                "mode StsToken without sts_token".into(),
                "Fix the command's output.",
            ));
        }
    }
    creds.expiration = match parsed.expiration {
        Some(serde_json::Value::String(s)) => parse_expiration(Some(&s), SOURCE)?,
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .and_then(|secs| Timestamp::from_second(secs).ok()),
        _ => None,
    };
    Ok(creds)
}
