//! Test helpers: expectations built by hand over a small manifest text, and
//! observations built by hand or read from the seed samples.
//!
//! The real manifest loader computes spans from the YAML parser; here a span
//! is the first occurrence of a needle after an offset, which is enough for
//! hand-written manifests whose lines are unique.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use crate::expect::{
    Attr, CommandExpectation, CommandSelector, Expectations, ExpectedContent, FileExpectation,
    Origin, OutputMatch, Source, Span, TargetRef, Waiver,
};
use crate::mode::FileMode;
use crate::observe::{
    CommandResult, ContentType, FileInvocation, FileTarget, Stamp, TargetError, TargetStatus,
};
use crate::protocol::Provider;

pub(crate) const MANIFEST_PATH: &str = "shipcheck.yaml";

/// Expectations with one source and nothing declared yet.
pub(crate) fn expectations(text: &str) -> Expectations {
    Expectations {
        sources: vec![Source {
            path: MANIFEST_PATH.into(),
            text: Arc::from(text),
        }],
        ..Expectations::default()
    }
}

/// The span of the first `needle` at or after `after`.
pub(crate) fn origin(exp: &Expectations, after: usize, needle: &str) -> Origin {
    let text = &exp.sources[0].text;
    let start = text[after..]
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in the manifest after byte {after}"))
        + after;
    Origin {
        source: 0,
        span: Span::new(start, start + needle.len()),
    }
}

/// A declared value on the line holding `needle`, inside `entry`.
pub(crate) fn declared<T>(exp: &Expectations, entry: Origin, needle: &str, value: T) -> Attr<T> {
    Attr::declared(value, origin(exp, entry.span.start, needle))
}

/// A `files:` entry starting at `- name: NAME`, with SendFile's defaults and
/// one target per id (each labelled on its first mention in the entry).
pub(crate) fn file(
    exp: &Expectations,
    name: &str,
    target_dir: &str,
    targets: &[&str],
) -> FileExpectation {
    let entry = origin(exp, 0, &format!("- name: {name}"));
    let text = &exp.sources[0].text;
    // The entry runs to the next list item at the same indentation.
    let rest = &text[entry.span.start + 2..];
    let end = rest
        .find("\n  - ")
        .map_or(text.trim_end().len(), |i| entry.span.start + 2 + i);
    let entry = Origin {
        source: 0,
        span: Span::new(entry.span.start, end),
    };
    FileExpectation {
        origin: entry,
        provider: Provider::Ecs,
        region: Some(Attr::builtin("cn-hangzhou".to_owned())),
        name: declared(exp, entry, &format!("name: {name}"), name.to_owned()),
        target_dir: declared(
            exp,
            entry,
            &format!("target_dir: {target_dir}"),
            target_dir.to_owned(),
        ),
        mode: Attr::builtin(crate::mode::DEFAULT_MODE),
        owner: Attr::builtin("root".to_owned()),
        group: Attr::builtin("root".to_owned()),
        overwrite: Attr::builtin(false),
        content: None,
        content_file: None,
        content_type: Attr::builtin(ContentType::PlainText),
        targets: target_refs(exp, entry, targets),
        target_sources: Vec::new(),
        invoke_id: None,
        max_age: None,
        task_tags: Vec::new(),
        since: None,
        sensitive: false,
        description: None,
    }
}

/// One target per id, each labelled on its first mention in `entry`.
fn target_refs(exp: &Expectations, entry: Origin, ids: &[&str]) -> Vec<TargetRef> {
    ids.iter()
        .map(|id| TargetRef {
            id: (*id).into(),
            origin: origin(exp, entry.span.start, id),
            via_set: None,
        })
        .collect()
}

pub(crate) fn mode(exp: &Expectations, entry: Origin, mode: &str) -> Attr<FileMode> {
    declared(
        exp,
        entry,
        &format!("mode: \"{mode}\""),
        mode.parse().unwrap(),
    )
}

pub(crate) fn content(
    exp: &Expectations,
    entry: Origin,
    needle: &str,
    bytes: &[u8],
) -> Attr<ExpectedContent> {
    declared(exp, entry, needle, ExpectedContent::Bytes(bytes.to_vec()))
}

pub(crate) fn max_age(
    exp: &Expectations,
    entry: Origin,
    needle: &str,
    secs: u64,
) -> Attr<Duration> {
    declared(exp, entry, needle, Duration::from_secs(secs))
}

/// A `commands:` entry starting at the line holding `needle`.
pub(crate) fn command(
    exp: &Expectations,
    needle: &str,
    selector: CommandSelector,
    targets: &[&str],
) -> CommandExpectation {
    let entry = origin(exp, 0, needle);
    CommandExpectation {
        origin: entry,
        provider: Provider::Ecs,
        region: Some(Attr::builtin("cn-hangzhou".to_owned())),
        selector: Attr::declared(selector, entry),
        targets: target_refs(exp, entry, targets),
        target_sources: Vec::new(),
        exit_code: None,
        status: Attr::builtin("Success".to_owned()),
        output: None,
        since: None,
        task_tags: Vec::new(),
    }
}

/// A `waivers:` entry starting at the line holding `needle`.
pub(crate) fn waiver(exp: &Expectations, needle: &str, finding: &str, reason: &str) -> Waiver {
    Waiver {
        origin: origin(exp, 0, needle),
        finding: finding.to_owned(),
        instance: None,
        file: None,
        reason: reason.to_owned(),
        expires: None,
    }
}

// --- Entries the evaluation and report test manifests both declare. -----

/// `- command_id: c-reload` on i-web1 and i-web2, expecting exit code 0 and
/// output that contains "reloaded".
pub(crate) fn reload_command(exp: &Expectations) -> CommandExpectation {
    let mut c = command(
        exp,
        "- command_id: c-reload",
        CommandSelector::CommandId("c-reload".into()),
        &["i-web1", "i-web2"],
    );
    c.exit_code = Some(declared(exp, c.origin, "exit_code: 0", 0));
    c.output = Some(declared(
        exp,
        c.origin,
        "output: {",
        OutputMatch::Contains("reloaded".into()),
    ));
    c
}

/// `- finding: mode-mismatch` for /etc/nginx/nginx.conf on i-web2, until
/// 2026-12-31, because "OPS-12: chmod pending".
pub(crate) fn mode_waiver(exp: &Expectations) -> Waiver {
    let mut w = waiver(
        exp,
        "- finding: mode-mismatch",
        "mode-mismatch",
        "OPS-12: chmod pending",
    );
    w.instance = Some("i-web2".into());
    w.file = Some("/etc/nginx/nginx.conf".into());
    w.expires = Some("2026-12-31".parse().unwrap());
    w
}

pub(crate) fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A successful ECS delivery with SendFile's defaults and no targets yet.
pub(crate) fn invocation(invoke_id: &str, name: &str, target_dir: &str) -> FileInvocation {
    FileInvocation {
        provider: Provider::Ecs,
        region: "cn-hangzhou".into(),
        invoke_id: invoke_id.into(),
        name: name.into(),
        target_dir: target_dir.into(),
        description: None,
        content: Some(String::new()),
        content_type: ContentType::PlainText,
        mode: Some("0644".into()),
        owner: Some("root".into()),
        group: Some("root".into()),
        overwrite: Some(false),
        status: "Success".into(),
        created: None,
        target_count: None,
        tags: vec![],
        targets: vec![],
    }
}

/// One target of a delivery; `error` is `(ErrorCode, ErrorInfo)`.
pub(crate) fn target(
    id: &str,
    status: &str,
    finished: &str,
    error: Option<(&str, &str)>,
) -> FileTarget {
    let when = ts(finished);
    FileTarget {
        id: id.into(),
        status: TargetStatus::parse(status),
        error: error
            .and_then(|(code, info)| TargetError::of(Some(code.to_owned()), Some(info.to_owned()))),
        created: Stamp::new(when),
        started: Stamp::new(when),
        finished: Stamp::new(when).filter(|_| !TargetStatus::parse(status).is_in_flight()),
        updated: Stamp::new(when),
    }
}

/// A finished command execution.
pub(crate) fn command_result(
    invoke_id: &str,
    command_id: &str,
    instance: &str,
    status: &str,
    exit_code: i64,
    output: &str,
    finished: &str,
) -> CommandResult {
    CommandResult {
        region: "cn-hangzhou".into(),
        invoke_id: invoke_id.into(),
        command_id: command_id.into(),
        instance_id: instance.into(),
        status: status.into(),
        record_status: Some("Finished".into()),
        exit_code: Some(exit_code),
        error_code: None,
        error_info: None,
        output: crate::observe::Observed::Value(output.as_bytes().to_vec()),
        dropped: Some(0),
        repeats: Some(1),
        username: Some("root".into()),
        started: Some(ts(finished)),
        finished: Some(ts(finished)),
        listed_with_tags: Vec::new(),
    }
}

// --- The seed samples (tests/data/fixtures/seeds), read leniently. -------
// This is test scaffolding so evaluation can run on the documents' own
// samples; the cloud client owns the real wire parsing.

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn time(value: &Value) -> Option<Timestamp> {
    text(value).and_then(|s| s.trim().parse().ok())
}

/// `DescribeSendFileResults` (ECS or eflo) → invocations.
pub(crate) fn seed_files(json: &str, provider: Provider, region: &str) -> Vec<FileInvocation> {
    let root: Value = serde_json::from_str(json).unwrap();
    let (targets_key, target_key, id_key) = match provider {
        Provider::Ecs => ("InvokeInstances", "InvokeInstance", "InstanceId"),
        Provider::Eflo => ("InvokeNodes", "InvokeNode", "NodeId"),
    };
    root["Invocations"]["Invocation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|inv| FileInvocation {
            provider,
            region: region.into(),
            invoke_id: text(&inv["InvokeId"]).unwrap_or_default(),
            name: text(&inv["Name"]).unwrap_or_default(),
            target_dir: text(&inv["TargetDir"]).unwrap_or_default(),
            description: text(&inv["Description"]),
            content: text(&inv["Content"]),
            content_type: ContentType::parse(&text(&inv["ContentType"]).unwrap_or_default()),
            mode: text(&inv["FileMode"]),
            owner: text(&inv["FileOwner"]),
            group: text(&inv["FileGroup"]),
            overwrite: text(&inv["Overwrite"]).map(|s| s.eq_ignore_ascii_case("true")),
            status: text(&inv["InvocationStatus"]).unwrap_or_default(),
            created: time(&inv["CreationTime"]),
            target_count: None,
            tags: vec![],
            targets: inv[targets_key][target_key]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| FileTarget {
                    id: text(&t[id_key]).unwrap_or_default().into(),
                    status: TargetStatus::parse(&text(&t["InvocationStatus"]).unwrap_or_default()),
                    error: TargetError::of(text(&t["ErrorCode"]), text(&t["ErrorInfo"])),
                    created: Stamp::of(time(&t["CreationTime"])),
                    started: Stamp::of(time(&t["StartTime"])),
                    finished: Stamp::of(time(&t["FinishTime"])),
                    updated: Stamp::of(time(&t["UpdateTime"])),
                })
                .collect(),
        })
        .collect()
}

/// `DescribeInvocationResults` → command results (Output decoded from Base64).
pub(crate) fn seed_commands(json: &str, region: &str) -> Vec<CommandResult> {
    let root: Value = serde_json::from_str(json).unwrap();
    root["Invocation"]["InvocationResults"]["InvocationResult"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| CommandResult {
            region: region.into(),
            invoke_id: text(&r["InvokeId"]).unwrap_or_default(),
            command_id: text(&r["CommandId"]).unwrap_or_default(),
            instance_id: text(&r["InstanceId"]).unwrap_or_default(),
            status: text(&r["InvocationStatus"]).unwrap_or_default(),
            record_status: text(&r["InvokeRecordStatus"]),
            exit_code: r["ExitCode"].as_i64(),
            error_code: text(&r["ErrorCode"]),
            error_info: text(&r["ErrorInfo"]),
            output: crate::observe::Observed::Value(
                text(&r["Output"])
                    .and_then(|o| crate::observe::decode_base64(&o))
                    .unwrap_or_default(),
            ),
            dropped: r["Dropped"].as_u64(),
            repeats: r["Repeats"].as_u64(),
            username: text(&r["Username"]),
            started: time(&r["StartTime"]),
            finished: time(&r["FinishedTime"]),
            listed_with_tags: Vec::new(),
        })
        .collect()
}

pub(crate) fn seed(name: &str) -> String {
    let path = format!(
        "{}/tests/data/fixtures/seeds/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
