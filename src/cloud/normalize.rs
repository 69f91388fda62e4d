//! Wire records → [`crate::observe`] types.
//!
//! ECS instances and eflo nodes become one model here: `InvokeInstances` and
//! `InvokeNodes` both become targets, `VmCount` and `NodeCount` the target
//! count, `Z` and `+08:00` times one [`Timestamp`]. A record that lacks what
//! identifies it (an `InvokeId`, a `Name`, a `TargetDir`, a target id) or
//! carries an unreadable time is an error for the whole query: which
//! expectation it belongs to cannot be known. A field only some verdicts
//! need (`Content`, `FileMode`, `ExitCode`, `Output`) stays absent or
//! invalid here, and those verdicts become unverified; it is never defaulted.

use jiff::Timestamp;

use crate::cloud::wire;
use crate::observe::{
    CommandResult, ContentType, FileInvocation, FileTarget, Observed, Stamp, TargetError,
    TargetStatus, decode_base64,
};
use crate::protocol::Provider;
use crate::protocol::time::parse_response_time;

/// How `DescribeInvocationResults` was asked to encode `Output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentEncoding {
    /// Output arrives Base64-encoded (the API's default; safe for binary output).
    #[default]
    Base64,
    PlainText,
}

impl ContentEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Base64 => "Base64",
            Self::PlainText => "PlainText",
        }
    }
}

/// Parses an API time: RFC 3339 with `Z` or an offset; blank means absent.
pub fn parse_time(field: &str, text: Option<&str>) -> Result<Option<Timestamp>, String> {
    let Some(text) = text.map(str::trim_ascii).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    parse_response_time(text)
        .map(Some)
        .map_err(|e| format!("{field} `{text}` is not a time: {e}"))
}

/// [`parse_time`], held compactly: a time outside 1677–2262 makes the
/// record malformed rather than be moved or dropped.
fn parse_stamp(field: &str, text: Option<&str>) -> Result<Option<Stamp>, String> {
    parse_time(field, text)?
        .map(|at| Stamp::new(at).ok_or_else(|| format!("{field} `{at}` is out of range")))
        .transpose()
}

fn non_empty<S: AsRef<str>>(value: Option<S>) -> Option<S> {
    value.filter(|v| !v.as_ref().trim().is_empty())
}

/// One SendFile task from ECS or eflo.
pub fn file_invocation(
    provider: Provider,
    region: &str,
    raw: wire::SendFileInvocation,
) -> Result<FileInvocation, String> {
    let invoke_id = non_empty(raw.invoke_id).ok_or("a record has no InvokeId")?;
    let context = |e: String| format!("{invoke_id}: {e}");
    let name = non_empty(raw.name).ok_or_else(|| context("the record has no Name".into()))?;
    let target_dir =
        non_empty(raw.target_dir).ok_or_else(|| context("the record has no TargetDir".into()))?;
    let mut raw_targets = raw.invoke_instances.into_vec();
    raw_targets.extend(raw.invoke_nodes.into_vec());
    // Into a Vec of its own, exactly as long: collected in place, the wire
    // records' larger allocation (and its growth slack) would be kept, and a
    // fleet holds one target per pair.
    let mut targets = Vec::with_capacity(raw_targets.len());
    for raw in raw_targets {
        targets.push(file_target(raw).map_err(context)?);
    }
    let tags = raw
        .tags
        .into_vec()
        .into_iter()
        .filter_map(|t| Some((t.key?, t.value.unwrap_or_default())))
        .collect();
    Ok(FileInvocation {
        provider,
        region: region.to_owned(),
        name,
        target_dir,
        description: raw.description,
        content: raw.content,
        content_type: ContentType::parse(raw.content_type.as_deref().unwrap_or("")),
        mode: non_empty(raw.file_mode).map(|m| m.trim().to_owned()),
        owner: non_empty(raw.file_owner),
        group: non_empty(raw.file_group),
        overwrite: raw.overwrite,
        status: raw.invocation_status.unwrap_or_default(),
        created: parse_time("CreationTime", raw.creation_time.as_deref()).map_err(context)?,
        target_count: raw.vm_count.or(raw.node_count),
        tags,
        targets,
        invoke_id,
    })
}

fn file_target(raw: wire::InvokeTarget) -> Result<FileTarget, String> {
    let id = non_empty(raw.instance_id)
        .or(non_empty(raw.node_id))
        .ok_or("a target has neither InstanceId nor NodeId")?;
    let context = |e: String| format!("{id}: {e}");
    Ok(FileTarget {
        status: TargetStatus::parse(raw.invocation_status.as_deref().unwrap_or("")),
        error: TargetError::of(
            non_empty(raw.error_code).map(String::from),
            non_empty(raw.error_info),
        ),
        created: parse_stamp("CreationTime", raw.creation_time.as_deref()).map_err(context)?,
        started: parse_stamp("StartTime", raw.start_time.as_deref()).map_err(context)?,
        finished: parse_stamp("FinishTime", raw.finish_time.as_deref()).map_err(context)?,
        updated: parse_stamp("UpdateTime", raw.update_time.as_deref()).map_err(context)?,
        id,
    })
}

/// One command execution on one instance.
pub fn command_result(
    region: &str,
    encoding: ContentEncoding,
    raw: wire::InvocationResult,
) -> Result<CommandResult, String> {
    let invoke_id = non_empty(raw.invoke_id).ok_or("a result has no InvokeId")?;
    let instance_id = non_empty(raw.instance_id)
        .ok_or_else(|| format!("{invoke_id}: a result has no InstanceId"))?;
    let context = |e: String| format!("{invoke_id} on {instance_id}: {e}");
    let output = match raw.output {
        None => Observed::Missing,
        Some(text) => match encoding {
            ContentEncoding::PlainText => Observed::Value(text.into_bytes()),
            ContentEncoding::Base64 if text.trim().is_empty() => Observed::Value(Vec::new()),
            ContentEncoding::Base64 => decode_base64(&text).map_or_else(
                || {
                    Observed::Invalid(
                        "Output is not Base64 although ContentEncoding=Base64 was asked for".into(),
                    )
                },
                Observed::Value,
            ),
        },
    };
    Ok(CommandResult {
        region: region.to_owned(),
        command_id: raw.command_id.unwrap_or_default(),
        status: raw.invocation_status.unwrap_or_default(),
        record_status: non_empty(raw.invoke_record_status),
        exit_code: raw.exit_code,
        error_code: non_empty(raw.error_code),
        error_info: non_empty(raw.error_info),
        output,
        dropped: raw.dropped,
        repeats: raw.repeats,
        username: non_empty(raw.username),
        started: parse_time("StartTime", raw.start_time.as_deref()).map_err(context)?,
        finished: parse_time(
            "FinishedTime",
            raw.finished_time.as_deref().or(raw.finish_time.as_deref()),
        )
        .map_err(context)?,
        invoke_id,
        instance_id,
        // Set by the fetch, which knows the query that listed it.
        listed_with_tags: Vec::new(),
    })
}

/// The key that identifies one command result across pages.
/// One listed ECS instance; an instance without an id is malformed.
pub fn instance(raw: wire::Instance) -> Result<Instance, String> {
    let id = non_empty(raw.instance_id).ok_or("an instance without an InstanceId")?;
    Ok(Instance {
        id,
        status: raw.status.unwrap_or_default(),
        resource_group_id: non_empty(raw.resource_group_id),
        tags: raw
            .tags
            .into_vec()
            .into_iter()
            .filter_map(|t| Some((t.key?, t.value.unwrap_or_default())))
            .collect(),
    })
}

/// An ECS instance as DescribeInstances lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    /// `Running`, `Stopped`, …
    pub status: String,
    pub resource_group_id: Option<String>,
    pub tags: Vec<(String, String)>,
}

pub fn command_result_key(r: &CommandResult) -> String {
    format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        r.invoke_id,
        r.instance_id,
        r.started.map(|t| t.to_string()).unwrap_or_default(),
        r.repeats.unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_z_offsets_and_stray_whitespace() {
        let z = parse_time("T", Some("2020-09-11T08:30:55Z"))
            .unwrap()
            .unwrap();
        let offset = parse_time("T", Some("2020-09-11T16:30:55.000+08:00\n"))
            .unwrap()
            .unwrap();
        assert_eq!(z, offset);
        assert_eq!(parse_time("T", Some("  ")).unwrap(), None);
        assert_eq!(parse_time("T", None).unwrap(), None);
        let err = parse_time("StartTime", Some("yesterday")).unwrap_err();
        assert!(err.contains("StartTime `yesterday`"), "{err}");
    }

    #[test]
    fn a_target_time_out_of_range_makes_the_record_malformed() {
        let record = |finish: &str| -> wire::SendFileInvocation {
            serde_json::from_str(&format!(
                r#"{{"InvokeId": "f-1", "Name": "a", "TargetDir": "/d", "InvokeInstances": {{"InvokeInstance": [{{"InstanceId": "i-1", "InvocationStatus": "Success", "FinishTime": "{finish}"}}]}}}}"#
            ))
            .unwrap()
        };
        let ok = file_invocation(Provider::Ecs, "r", record("2262-04-11T00:00:00Z")).unwrap();
        assert_eq!(
            ok.targets[0].when().unwrap().to_string(),
            "2262-04-11T00:00:00Z"
        );
        let err = file_invocation(Provider::Ecs, "r", record("2300-01-01T00:00:00Z")).unwrap_err();
        assert!(
            err.contains("i-1")
                && err.contains("FinishTime `2300-01-01T00:00:00Z` is out of range"),
            "{err}"
        );
    }

    #[test]
    fn records_without_identity_are_errors() {
        for (body, missing) in [
            (r#"{"InvokeId": "f-1", "TargetDir": "/d"}"#, "no Name"),
            (
                r#"{"InvokeId": "f-1", "Name": "a", "TargetDir": null}"#,
                "no TargetDir",
            ),
        ] {
            let raw: wire::SendFileInvocation = serde_json::from_str(body).unwrap();
            let err = file_invocation(Provider::Ecs, "r", raw).unwrap_err();
            assert!(err.contains(missing), "{err}");
        }
        let raw = wire::SendFileInvocation::default();
        assert!(
            file_invocation(Provider::Ecs, "r", raw)
                .unwrap_err()
                .contains("no InvokeId")
        );
        let raw: wire::SendFileInvocation = serde_json::from_str(
            r#"{"InvokeId": "f-1", "Name": "a", "TargetDir": "/d", "InvokeInstances": {"InvokeInstance": [{"InvocationStatus": "Success"}]}}"#,
        )
        .unwrap();
        let err = file_invocation(Provider::Ecs, "r", raw).unwrap_err();
        assert!(
            err.contains("f-1") && err.contains("neither InstanceId nor NodeId"),
            "{err}"
        );
    }

    #[test]
    fn output_is_decoded_as_requested() {
        let raw: wire::InvocationResult = serde_json::from_str(
            r#"{"InvokeId": "t-1", "InstanceId": "i-1", "Output": "aGVsbG8="}"#,
        )
        .unwrap();
        let r = command_result("r", ContentEncoding::Base64, raw.clone()).unwrap();
        assert_eq!(r.output, Observed::Value(b"hello".to_vec()));
        let r = command_result("r", ContentEncoding::PlainText, raw).unwrap();
        assert_eq!(r.output, Observed::Value(b"aGVsbG8=".to_vec()));
        let bad: wire::InvocationResult = serde_json::from_str(
            r#"{"InvokeId": "t-1", "InstanceId": "i-1", "Output": "not base64!"}"#,
        )
        .unwrap();
        // Undecodable output spoils the output check only, not the record.
        let r = command_result("r", ContentEncoding::Base64, bad).unwrap();
        assert!(matches!(r.output, Observed::Invalid(_)), "{:?}", r.output);
        let none: wire::InvocationResult =
            serde_json::from_str(r#"{"InvokeId": "t-1", "InstanceId": "i-1"}"#).unwrap();
        let r = command_result("r", ContentEncoding::Base64, none).unwrap();
        assert_eq!((r.output, r.exit_code), (Observed::Missing, None));
    }
}
