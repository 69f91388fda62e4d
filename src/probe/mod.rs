//! `check --probe`: on-disk truth, read with a read-only RunCommand.
//!
//! DescribeSendFileResults echoes the request: the mode, owner and content it
//! reports are what was asked for, not what is on the disk now. The probe
//! asks Cloud Assistant to run [`script`] on the instances and reads its
//! output back through DescribeInvocationResults.
//!
//! Instances that share a list of declared paths are probed together, at
//! most [`MAX_INSTANCES`] per RunCommand. Anything short of a complete,
//! well-formed answer (a failed or timed-out run, a truncated output, a
//! Windows instance, an agent that is not running) leaves the pairs it
//! covers unverified, with the reason: never a pass.
//!
//! [`describe`] is the same plan as data, for `--dry-run` (and `plan`).

pub mod script;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use crate::cloud::run_command::run_command_params;
use crate::cloud::{CloudClient, ContentEncoding, InvocationFilter};
use crate::expect::Expectations;
use crate::observe::{CommandResult, DiskObservations, GapReason, Observed, Probed};
use crate::protocol::Provider;

/// The most instances one RunCommand names (the probe keeps to SendFile's
/// limit, so one group's answers fit one listing page).
pub const MAX_INSTANCES: usize = 50;

/// What the probe needs in a RAM policy.
pub const RAM_ACTIONS: &[&str] = &["ecs:RunCommand", "ecs:DescribeInvocationResults"];

/// The command's `Name`, so the runs are recognisable in the console.
pub const COMMAND_NAME: &str = "shipcheck-probe";

/// RunCommand's `Timeout` for the probe, in seconds: hashing a few files
/// takes far less.
pub const TIMEOUT_SECS: u64 = 60;

/// One RunCommand: instances of one region that share a list of paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeGroup {
    pub region: String,
    pub paths: Vec<String>,
    pub instances: Vec<String>,
}

impl ProbeGroup {
    pub fn script(&self) -> String {
        script::render(&self.paths)
    }

    /// The RunCommand parameters, by their API names.
    pub fn parameters(&self) -> Vec<(String, String)> {
        run_command_params(
            &self.region,
            COMMAND_NAME,
            &self.script(),
            TIMEOUT_SECS,
            &self.instances,
        )
    }
}

/// The probes for the declared (file, instance) pairs: ECS files only
/// (RunCommand does not reach eflo nodes).
pub fn plan(expectations: &Expectations) -> Vec<ProbeGroup> {
    let mut paths: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for file in expectations
        .files
        .iter()
        .filter(|f| f.provider == Provider::Ecs)
    {
        for target in &file.targets {
            paths
                .entry((file.region(), target.id.as_str()))
                .or_default()
                .insert(file.path());
        }
    }
    let mut sharing: BTreeMap<(&str, Vec<String>), Vec<String>> = BTreeMap::new();
    for ((region, instance), paths) in paths {
        sharing
            .entry((region, paths.into_iter().collect()))
            .or_default()
            .push(instance.to_owned());
    }
    sharing
        .into_iter()
        .flat_map(|((region, paths), instances)| {
            instances
                .chunks(MAX_INSTANCES)
                .map(|chunk| ProbeGroup {
                    region: region.to_owned(),
                    paths: paths.clone(),
                    instances: chunk.to_vec(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What `check --probe` would do, without credentials or calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeDescription {
    /// The calls in order: per group a RunCommand, then
    /// DescribeInvocationResults on its InvokeId until it finishes.
    pub calls: Vec<PlannedCall>,
    pub ram_actions: Vec<&'static str>,
}

/// One API call the probe would make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedCall {
    pub action: &'static str,
    /// By the API's names; `InvokeId` is the one RunCommand returns.
    pub parameters: Vec<(String, String)>,
    /// The script RunCommand runs (also in `parameters` as CommandContent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
}

/// The probe of `expectations` as data.
pub fn describe(expectations: &Expectations) -> ProbeDescription {
    let mut calls = Vec::new();
    for group in plan(expectations) {
        calls.push(PlannedCall {
            action: "RunCommand",
            parameters: group.parameters(),
            script: Some(group.script()),
        });
        calls.push(PlannedCall {
            action: "DescribeInvocationResults",
            parameters: vec![
                ("RegionId".into(), group.region.clone()),
                ("InvokeId".into(), "<InvokeId from RunCommand>".into()),
                ("ContentEncoding".into(), "Base64".into()),
            ],
            script: None,
        });
    }
    ProbeDescription {
        calls,
        ram_actions: RAM_ACTIONS.to_vec(),
    }
}

/// Runs every probe and reads its answers, polling every `interval` until
/// each has finished; the client's deadline bounds it all.
pub async fn run(
    client: &CloudClient,
    groups: &[ProbeGroup],
    interval: Duration,
) -> DiskObservations {
    let mut disk = DiskObservations::default();
    let mut running = Vec::new();
    for group in groups {
        match client.run_command(&group.region, group.parameters()).await {
            Ok(invoke_id) => running.push((group, invoke_id)),
            Err(e) => unprobed_group(
                &mut disk,
                group,
                GapReason::ProbeFailed,
                &format!("RunCommand failed: {e}"),
            ),
        }
    }
    while !running.is_empty() {
        let mut still = Vec::new();
        for (group, invoke_id) in running {
            let filter = InvocationFilter {
                invoke_id: Some(invoke_id.clone()),
                content_encoding: ContentEncoding::Base64,
                ..InvocationFilter::default()
            };
            let mut results = Vec::new();
            let listed = client
                .describe_invocation_results(&group.region, &filter, |page| results.extend(page))
                .await;
            if let Err(e) = listed {
                let reason = match e {
                    crate::cloud::CloudError::Deadline { .. } => GapReason::Deadline,
                    _ => GapReason::ProbeFailed,
                };
                unprobed_group(
                    &mut disk,
                    group,
                    reason,
                    &format!("reading probe {invoke_id} failed: {e}"),
                );
                continue;
            }
            let in_flight = group.instances.iter().any(|id| {
                results
                    .iter()
                    .find(|r| &r.instance_id == id)
                    .is_none_or(CommandResult::is_in_flight)
            });
            if in_flight {
                still.push((group, invoke_id));
                continue;
            }
            for id in &group.instances {
                let result = results
                    .iter()
                    .find(|r| &r.instance_id == id)
                    .expect("settled");
                record(&mut disk, group, id, &invoke_id, result);
            }
        }
        running = still;
        if !running.is_empty() {
            tokio::time::sleep(interval).await;
        }
    }
    disk
}

fn unprobed_group(
    disk: &mut DiskObservations,
    group: &ProbeGroup,
    reason: GapReason,
    detail: &str,
) {
    for id in &group.instances {
        unprobed(disk, group, id, reason, detail);
    }
}

fn unprobed(
    disk: &mut DiskObservations,
    group: &ProbeGroup,
    id: &str,
    reason: GapReason,
    detail: &str,
) {
    let paths = disk.probed.entry(id.to_owned()).or_default();
    for path in &group.paths {
        paths.insert(
            path.clone(),
            Probed::Unprobed {
                reason,
                detail: detail.to_owned(),
            },
        );
    }
}

/// Reads one instance's settled result.
fn record(
    disk: &mut DiskObservations,
    group: &ProbeGroup,
    id: &str,
    invoke_id: &str,
    result: &CommandResult,
) {
    if result.status != "Success" || result.exit_code != Some(0) {
        let mut why = format!("probe {invoke_id} ended {}", result.status);
        if let Some(code) = result.error_code.as_deref().filter(|c| !c.is_empty()) {
            why.push_str(&format!(" with {code}"));
            if let Some(info) = result.error_info.as_deref().filter(|i| !i.is_empty()) {
                why.push_str(&format!(" ({info})"));
            }
        }
        if let Some(code) = result.exit_code.filter(|c| *c != 0) {
            why.push_str(&format!(", exit code {code}"));
        }
        return unprobed(disk, group, id, GapReason::ProbeFailed, &why);
    }
    if let Some(dropped) = result.dropped.filter(|d| *d > 0) {
        let why =
            format!("the API dropped {dropped} bytes of probe {invoke_id}'s output (24 KB limit)");
        return unprobed(disk, group, id, GapReason::ProbeOutputIncomplete, &why);
    }
    let output = match &result.output {
        Observed::Value(output) => output,
        Observed::Missing => {
            let why = format!("probe {invoke_id} returned no Output");
            return unprobed(disk, group, id, GapReason::ProbeOutputIncomplete, &why);
        }
        Observed::Invalid(e) => {
            let why = format!("probe {invoke_id}'s Output is unreadable: {e}");
            return unprobed(disk, group, id, GapReason::ProbeOutputIncomplete, &why);
        }
    };
    match script::parse(output, group.paths.len()) {
        Ok(states) => {
            let paths = disk.probed.entry(id.to_owned()).or_default();
            for (path, state) in group.paths.iter().zip(states) {
                paths.insert(path.clone(), Probed::Seen { state });
            }
        }
        Err(e) => {
            let why = format!("probe {invoke_id}'s output is malformed: {e}");
            unprobed(disk, group, id, GapReason::ProbeOutputIncomplete, &why);
        }
    }
}
