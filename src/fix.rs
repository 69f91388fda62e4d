//! `--fix-script` and `--fix-plan`: the SendFile calls that would bring
//! every drifted (file, target) back to the declaration.
//!
//! shipcheck never runs them: it reports, and leaves the write to a person
//! (the script, for the `aliyun` CLI) or a tool (the plan, as JSON with the
//! API's parameter names). Delivery and disk findings alike are fixed by
//! sending the declared file again with `Overwrite=true` and the declared
//! mode, owner and group, at most 50 instances per call. A sensitive file's
//! content is never written into either: the script reads it from its
//! `content_file` when it runs, and the plan names that file.

use std::path::PathBuf;

use base64::Engine as _;
use serde::Serialize;

use crate::expect::{Expectations, ExpectedContent, FileExpectation};
use crate::findings::FindingCode;
use crate::observe::ContentType;
use crate::probe::script::shell_quote;
use crate::protocol::Provider;
use crate::report::Report;

/// The most instances one SendFile names.
pub const MAX_INSTANCES: usize = 50;

/// Every call of the fix, and the drifted pairs it cannot fix.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FixPlan {
    pub calls: Vec<FixCall>,
    /// Drifted files that no call covers, and why (no declared content, a
    /// sensitive inline content, an eflo node).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unfixable: Vec<Unfixable>,
}

impl FixPlan {
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.unfixable.is_empty()
    }
}

/// One SendFile.
#[derive(Debug, Clone, Serialize)]
pub struct FixCall {
    pub action: &'static str,
    pub parameters: SendFileParameters,
    /// For a sensitive file: `Content` is left out, and is this file's
    /// bytes, Base64-encoded, read when the call is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_from_file: Option<PathBuf>,
    /// The findings this call fixes (for the script's comments).
    #[serde(skip)]
    pub fixes: Vec<&'static str>,
}

/// SendFile's parameters, by the API's names.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendFileParameters {
    pub region_id: String,
    pub name: String,
    pub target_dir: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    pub content_type: &'static str,
    pub file_mode: String,
    pub file_owner: String,
    pub file_group: String,
    pub overwrite: bool,
    pub instance_id: Vec<String>,
}

/// A drifted file the fix leaves alone.
#[derive(Debug, Clone, Serialize)]
pub struct Unfixable {
    pub path: String,
    pub targets: Vec<String>,
    pub reason: &'static str,
}

/// Findings that sending the declared file again resolves.
fn resolved_by_sending(code: FindingCode) -> bool {
    use FindingCode::*;
    matches!(
        code,
        NotDelivered
            | DeliveryFailed
            | ModeMismatch
            | OwnerMismatch
            | GroupMismatch
            | OverwriteMismatch
            | ContentMismatch
            | StaleDelivery
            | DiskMissing
            | DiskModeMismatch
            | DiskOwnerMismatch
            | DiskGroupMismatch
            | DiskContentMismatch
    )
}

/// The fix for every drifted (file, target) of `report`, which
/// [`crate::check::run`] made from `expectations`.
pub fn plan(expectations: &Expectations, report: &Report) -> FixPlan {
    let mut plan = FixPlan::default();
    for (file, file_report) in expectations.files.iter().zip(&report.files) {
        let mut codes: Vec<&'static str> = Vec::new();
        let drifted: Vec<String> = file_report
            .targets
            .iter()
            .filter(|t| t.declared)
            .filter(|t| {
                let mut fixable = false;
                for f in t
                    .findings
                    .iter()
                    .filter(|f| f.fails() && resolved_by_sending(f.code))
                {
                    fixable = true;
                    if !codes.contains(&f.code.as_str()) {
                        codes.push(f.code.as_str());
                    }
                }
                fixable
            })
            .map(|t| t.id.to_string())
            .collect();
        if drifted.is_empty() {
            continue;
        }
        match content_of(file) {
            Ok((content, content_type, from_file)) => {
                for chunk in drifted.chunks(MAX_INSTANCES) {
                    plan.calls.push(FixCall {
                        action: "SendFile",
                        parameters: SendFileParameters {
                            region_id: file.region().to_owned(),
                            name: file.name.value.clone(),
                            target_dir: file.target_dir.value.clone(),
                            content: content.clone(),
                            content_type,
                            file_mode: format!("{:04o}", file.mode.value.bits()),
                            file_owner: file.owner.value.clone(),
                            file_group: file.group.value.clone(),
                            overwrite: true,
                            instance_id: chunk.to_vec(),
                        },
                        content_from_file: from_file.clone(),
                        fixes: codes.clone(),
                    });
                }
            }
            Err(reason) => plan.unfixable.push(Unfixable {
                path: file.path(),
                targets: drifted,
                reason,
            }),
        }
    }
    plan
}

/// `Content` (none when read from a file at run time), `ContentType`, and
/// that file.
type Content = (Option<String>, &'static str, Option<PathBuf>);

fn content_of(file: &FileExpectation) -> Result<Content, &'static str> {
    if file.provider == Provider::Eflo {
        return Err("eflo nodes take SendFile through eflo-controller; send it there");
    }
    let Some(content) = &file.content else {
        return Err("the manifest declares no content for it");
    };
    let ExpectedContent::Bytes(bytes) = &content.value else {
        return Err("the manifest declares only its sha256, not its content");
    };
    if file.sensitive {
        let Some(path) = &file.content_file else {
            return Err("it is sensitive and its content is inline; give it a content_file");
        };
        let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        return Ok((None, "Base64", Some(path)));
    }
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|_| file.content_type.value == ContentType::PlainText && !bytes.contains(&0));
    Ok(match text {
        Some(text) => (Some(text.to_owned()), "PlainText", None),
        None => (
            Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            "Base64",
            None,
        ),
    })
}

/// The plan as JSON: `{"calls": [{"action": "SendFile", "parameters": {…}}]}`.
pub fn to_json(plan: &FixPlan) -> String {
    let mut json = serde_json::to_string_pretty(plan).expect("plain data");
    json.push('\n');
    json
}

/// The plan as a bash script of `aliyun ecs SendFile` calls.
pub fn to_script(plan: &FixPlan) -> String {
    let mut script = String::from(
        "#!/usr/bin/env bash\n\
         # Written by `shipcheck check --fix-script`: sends every drifted file again as the\n\
         # manifest declares it. shipcheck never runs it: review it, then run it with the\n\
         # aliyun CLI configured (RAM action ecs:SendFile).\n\
         set -euo pipefail\n",
    );
    if plan.calls.is_empty() {
        script.push_str("\n# Nothing to send.\n");
    }
    for call in &plan.calls {
        let p = &call.parameters;
        script.push_str(&format!(
            "\n# {}/{} on {} instance(s): {}\n",
            p.target_dir.trim_end_matches('/'),
            p.name,
            p.instance_id.len(),
            call.fixes.join(", ")
        ));
        let content = match (&p.content, &call.content_from_file) {
            (Some(content), _) => shell_quote(content),
            (None, Some(path)) => format!(
                "\"$(base64 < {} | tr -d '\\n')\"",
                shell_quote(&path.display().to_string())
            ),
            (None, None) => unreachable!("a call carries its content or its file"),
        };
        let mut args = vec![
            "aliyun ecs SendFile".to_owned(),
            format!("--RegionId {}", shell_quote(&p.region_id)),
            format!("--Name {}", shell_quote(&p.name)),
            format!("--TargetDir {}", shell_quote(&p.target_dir)),
            format!("--Content {content}"),
            format!("--ContentType {}", p.content_type),
            format!("--FileMode {}", shell_quote(&p.file_mode)),
            format!("--FileOwner {}", shell_quote(&p.file_owner)),
            format!("--FileGroup {}", shell_quote(&p.file_group)),
            "--Overwrite true".to_owned(),
        ];
        args.extend(
            p.instance_id
                .iter()
                .enumerate()
                .map(|(i, id)| format!("--InstanceId.{} {}", i + 1, shell_quote(id))),
        );
        script.push_str(&args.join(" \\\n  "));
        script.push('\n');
    }
    for skipped in &plan.unfixable {
        script.push_str(&format!(
            "\n# Not fixed: {} on {}: {}.\n",
            skipped.path,
            skipped.targets.join(", "),
            skipped.reason
        ));
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{EvalOptions, evaluate};
    use crate::observe::Observations;

    /// The fix for a manifest none of whose files were delivered.
    fn fix_of(manifest: &str, files: &[(&str, &str)]) -> FixPlan {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let path = dir.path().join("shipcheck.yaml");
        std::fs::write(&path, manifest).unwrap();
        let expectations = crate::manifest::load(&[path], &[], &|_| None).unwrap();
        let report = evaluate(
            &expectations,
            &Observations::default(),
            &EvalOptions {
                now: jiff::Timestamp::now(),
                strict: false,
            },
        );
        plan(&expectations, &report)
    }

    #[test]
    fn sensitive_content_is_read_at_run_time_never_embedded() {
        let plan = fix_of(
            "version: 1\nfiles:\n  - name: key.pem\n    target_dir: /etc/tls\n    region: cn-hangzhou\n    \
             mode: \"0600\"\n    sensitive: true\n    content_file: key.pem\n    instances: [i-1]\n",
            &[("key.pem", "TOP-SECRET-KEY\n")],
        );
        let script = to_script(&plan);
        let json = to_json(&plan);
        for text in [&script, &json] {
            assert!(!text.contains("TOP-SECRET-KEY"), "{text}");
            assert!(
                !text.contains(
                    &base64::engine::general_purpose::STANDARD.encode("TOP-SECRET-KEY\n")
                )
            );
        }
        assert!(script.contains("--Content \"$(base64 < '"), "{script}");
        assert!(
            script.contains("key.pem' | tr -d '\\n')\" \\\n  --ContentType Base64"),
            "{script}"
        );
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        let call = &json["calls"][0];
        assert!(call["parameters"].get("Content").is_none(), "{call}");
        assert!(
            call["content_from_file"]
                .as_str()
                .unwrap()
                .ends_with("key.pem")
        );
        assert_eq!(call["parameters"]["FileMode"], "0600");
    }

    #[test]
    fn calls_name_at_most_50_instances_and_quote_everything() {
        let ids: Vec<String> = (0..120).map(|n| format!("i-{n}")).collect();
        let plan = fix_of(
            &format!(
                "version: 1\nfiles:\n  - name: \"it's.conf\"\n    target_dir: /etc/app\n    region: cn-hangzhou\n    \
                 content: \"a 'quoted' $(value)\\n\"\n    instances: [{}]\n",
                ids.join(", ")
            ),
            &[],
        );
        let sizes: Vec<usize> = plan
            .calls
            .iter()
            .map(|c| c.parameters.instance_id.len())
            .collect();
        assert_eq!(sizes, [50, 50, 20]);
        let script = to_script(&plan);
        assert!(script.contains(r"--Name 'it'\''s.conf'"), "{script}");
        assert!(
            script.contains(r"--Content 'a '\''quoted'\'' $(value)"),
            "{script}"
        );
        assert!(plan.calls.iter().all(|c| c.parameters.overwrite));
    }
}
