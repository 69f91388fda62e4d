//! DescribeInvocations (ECS 2014-05-26): RunCommand invocations with their
//! overall status and per-instance results (output only on request).

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Answer, Encoding, Params, object, region, tags_json, tags_match};
use crate::sim::Product;
use crate::sim::lifecycle::overall;
use crate::sim::listing::Listing;
use crate::sim::paging;
use crate::sim::server::Sim;
use crate::sim::store::Invocation;
use crate::sim::tables::InvocationLookup;

pub fn run(sim: &Sim, params: &Params) -> Answer {
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
    let fingerprint = params.fingerprint("ecs/DescribeInvocations");
    let request = paging::parse(params, &sim.tokens(), &fingerprint, StatusCode::FORBIDDEN)?;

    let now = sim.now();
    let cutoff = sim.retention_cutoff(now);
    let lifecycle = sim.lifecycle();
    let status_of = |inv: &Invocation| -> String {
        inv.status_override.clone().unwrap_or_else(|| {
            let views: Vec<_> = inv
                .targets
                .iter()
                .map(|t| inv.run_view(&t.run, now, &lifecycle).status)
                .collect();
            overall(views.iter().map(String::as_str)).to_owned()
        })
    };
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
    let unindexed = [
        command_name,
        command_type,
        repeat_mode,
        invoke_status,
        invocation_status,
        resource_group,
    ];
    let world = sim.world();
    let candidates = world.invocations.candidates(&InvocationLookup {
        region,
        invoke_id,
        command_id,
        instance_id,
    });
    let visible = candidates.listing.since(cutoff.as_nanosecond());
    let tested: Listing;
    let keys = if candidates.exact && unindexed.iter().all(Option::is_none) && tags.is_empty() {
        visible
    } else {
        tested = visible.filter(|key| matches(world.invocations.get(key)));
        tested.keys()
    };
    let page = paging::page(keys, &request, &mut sim.tokens(), &fingerprint);
    let records: Vec<Arc<Invocation>> = page
        .items
        .iter()
        .map(|key| world.invocations.get(*key).clone())
        .collect();
    drop(world);

    let invocations: Vec<Value> = records
        .iter()
        .map(|inv| {
            let created = inv.created.show(Product::Ecs);
            let instances: Vec<Value> = inv
                .targets
                .iter()
                .filter(|t| instance_id.is_none_or(|id| t.id == id))
                .map(|t| {
                    let view = inv.run_view(&t.run, now, &lifecycle);
                    let update = if view.finished_time.is_empty() {
                        if view.start_time.is_empty() {
                            created.clone()
                        } else {
                            view.start_time.clone()
                        }
                    } else {
                        view.finished_time.clone()
                    };
                    let mut item = object(json!({
                        "InstanceId": t.id,
                        "InvocationStatus": view.status,
                        "InstanceInvokeStatus": instance_invoke_status(&view.status),
                        "ExitCode": view.exit_code,
                        "ErrorCode": view.error_code,
                        "ErrorInfo": view.error_info,
                        "Dropped": view.dropped,
                        "Repeats": view.repeats,
                        "CreationTime": created,
                        "StartTime": view.start_time,
                        "FinishTime": view.finished_time,
                        "UpdateTime": update,
                        "StopTime": view.stop_time,
                        "Timed": false,
                    }));
                    if include_output {
                        item.insert("Output".to_owned(), json!(encoding.encode(&view.output)));
                    }
                    Value::Object(item)
                })
                .collect();
            let status = status_of(inv);
            let mut item = object(json!({
                "InvokeId": inv.invoke_id,
                "CommandId": inv.command_id,
                "CommandName": inv.name,
                "CommandType": inv.command_type,
                "CommandContent": encoding.encode(&inv.content),
                "InvocationStatus": status,
                "InvokeStatus": invoke_status_of(&status),
                "Timed": false,
                "RepeatMode": inv.repeat_mode,
                "Frequency": "",
                "Parameters": "{}",
                "Username": inv.username.clone().unwrap_or_default(),
                "CreationTime": created,
                "VmCount": inv.targets.len(),
                "InvokeInstances": { "InvokeInstance": instances },
            }));
            if !inv.tags.is_empty() {
                item.insert("Tags".to_owned(), tags_json(&inv.tags));
            }
            Value::Object(item)
        })
        .collect();
    let mut answer = object(json!({
        "TotalCount": page.total,
        "PageNumber": page.page_number,
        "PageSize": page.page_size,
        "Invocations": { "Invocation": invocations },
    }));
    if let Some(token) = page.next_token {
        answer.insert("NextToken".to_owned(), Value::String(token));
    }
    Ok(answer)
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
