//! DescribeInvocations (ECS 2014-05-26): RunCommand invocations with their
//! overall status and per-instance results (output only on request).

use axum::http::StatusCode;
use serde::Serialize;

use super::{
    Answer, Encoding, InvocationsPage, Paging, Tag, Wrapped, region, tags_match, tags_view, write,
};
use crate::protocol::Provider;
use crate::sim::context::Sim;
use crate::sim::invocation::{Invocation, InvocationLookup};
use crate::sim::params::Params;
use crate::sim::records::TimeTexts;

pub fn run(sim: &Sim, params: &Params, request_id: &str) -> Answer {
    let region = region(sim, params)?;
    let invoke_id = params.get_nonempty("InvokeId");
    let instance_id = params.get_nonempty("InstanceId");
    let command_id = params.get_nonempty("CommandId");
    let command_name = params.get_nonempty("CommandName");
    let command_type = params.get_nonempty("CommandType");
    let repeat_mode = params.get_nonempty("RepeatMode");
    let invoke_status = params.get_nonempty("InvokeStatus");
    let invocation_status = params.get_nonempty("InvocationStatus");
    let resource_group = params.get_nonempty("ResourceGroupId");
    let include_output = params.bool("IncludeOutput")?.unwrap_or(false);
    let encoding = Encoding::from_params(params, Encoding::Base64)?;
    let tags = params.tags()?;
    let paging = Paging::read(
        sim,
        params,
        "ecs/DescribeInvocations",
        StatusCode::FORBIDDEN,
    )?;

    let now = sim.now();
    let cutoff = sim.retention_cutoff(now);
    let lifecycle = sim.lifecycle();
    let status_of = |inv: &Invocation| inv.overall_at(now, &lifecycle);
    let matches = |inv: &Invocation| {
        inv.region == region
            && inv.created.at >= cutoff
            && invoke_id.is_none_or(|id| inv.invoke_id == id)
            && command_id.is_none_or(|id| inv.command_id == id)
            && command_name.is_none_or(|n| inv.name == n)
            && command_type.is_none_or(|t| inv.command_type == t)
            && repeat_mode.is_none_or(|m| inv.repeat_mode == m)
            && instance_id.is_none_or(|id| inv.targets.iter().any(|t| t.id == id))
            && resource_group.is_none_or(|rg| inv.resource_group_id.as_deref() == Some(rg))
            && tags_match(&inv.tags, &tags)
            && invocation_status.is_none_or(|s| status_of(inv) == s)
            && invoke_status.is_none_or(|s| invoke_status_of(&status_of(inv)) == s)
    };
    let indexed_only = [
        command_name,
        command_type,
        repeat_mode,
        invoke_status,
        invocation_status,
        resource_group,
    ]
    .iter()
    .all(Option::is_none)
        && tags.is_empty();
    // The world is locked only while the page is picked.
    let page = {
        let world = sim.world();
        let lookup = InvocationLookup {
            region,
            invoke_id,
            command_id,
            instance_id,
        };
        paging.page(
            sim,
            &world.invocations.candidates(&lookup.into()),
            indexed_only,
            cutoff,
            |key| matches(world.invocations.get(key)),
            |key| world.invocations.get(key).clone(),
        )
    };

    let invocations: Vec<InvocationItem<'_>> = page
        .items
        .iter()
        .map(|inv| {
            let mut texts = TimeTexts::new(Provider::Ecs);
            let created = inv.created.show(Provider::Ecs);
            let instances = inv
                .targets
                .iter()
                .filter(|t| instance_id.is_none_or(|id| t.id == id))
                .map(|t| {
                    let view = inv.run_view(&t.run, now, &lifecycle, &mut texts);
                    let update = if view.finished_time.is_empty() {
                        if view.start_time.is_empty() {
                            created.clone()
                        } else {
                            view.start_time.clone()
                        }
                    } else {
                        view.finished_time.clone()
                    };
                    InstanceRun {
                        creation_time: created.clone(),
                        dropped: view.dropped,
                        error_code: view.error_code,
                        error_info: view.error_info,
                        exit_code: view.exit_code,
                        finish_time: view.finished_time,
                        instance_id: &t.id,
                        instance_invoke_status: instance_invoke_status(&view.status),
                        invocation_status: view.status,
                        output: include_output.then(|| encoding.encode(&view.output)),
                        repeats: view.repeats,
                        start_time: view.start_time,
                        stop_time: view.stop_time,
                        timed: false,
                        update_time: update,
                    }
                })
                .collect();
            let status = status_of(inv);
            InvocationItem {
                command_content: encoding.encode(&inv.content),
                command_id: &inv.command_id,
                command_name: &inv.name,
                command_type: &inv.command_type,
                creation_time: created,
                frequency: "",
                invoke_status: invoke_status_of(&status),
                invocation_status: status,
                invoke_id: &inv.invoke_id,
                invoke_instances: Wrapped {
                    name: "InvokeInstance",
                    items: instances,
                },
                parameters: "{}",
                repeat_mode: &inv.repeat_mode,
                tags: tags_view(&inv.tags),
                timed: false,
                username: inv.username.as_deref().unwrap_or_default(),
                vm_count: inv.targets.len(),
            }
        })
        .collect();
    Ok(write(&InvocationsPage::new(&page, invocations, request_id)))
}

/// One invocation with its overall status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InvocationItem<'a> {
    command_content: String,
    command_id: &'a str,
    command_name: &'a str,
    command_type: &'a str,
    creation_time: String,
    frequency: &'static str,
    invocation_status: String,
    invoke_id: &'a str,
    invoke_instances: Wrapped<Vec<InstanceRun<'a>>>,
    invoke_status: &'static str,
    parameters: &'static str,
    repeat_mode: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Wrapped<Vec<Tag<'a>>>>,
    timed: bool,
    username: &'a str,
    vm_count: usize,
}

/// The latest run on one instance; `Output` only with `IncludeOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceRun<'a> {
    creation_time: String,
    dropped: u64,
    error_code: String,
    error_info: String,
    exit_code: i64,
    finish_time: String,
    instance_id: &'a str,
    instance_invoke_status: &'static str,
    invocation_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    repeats: u64,
    start_time: String,
    stop_time: String,
    timed: bool,
    update_time: String,
}

/// The legacy overall `InvokeStatus`.
fn invoke_status_of(status: &str) -> &'static str {
    match status {
        "Pending" | "Running" | "Scheduled" => "Running",
        "Success" => "Finished",
        "PartialFailed" => "PartialFinished",
        "Stopped" | "Stopping" => "Stopped",
        _ => "Failed",
    }
}

/// The legacy per-instance `InstanceInvokeStatus`.
fn instance_invoke_status(status: &str) -> &'static str {
    match status {
        "Pending" | "Running" | "Scheduled" => "Running",
        "Success" | "Failed" => "Finished",
        "Stopping" | "Terminated" | "Cancelled" => "Stopped",
        _ => "Failed",
    }
}
