//! DescribeSendFileResults (ECS 2014-05-26): SendFile tasks with their
//! per-instance results, every documented filter, both paging styles.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::{
    Answer, InvocationsPage, Paging, Tag, Wrapped, file_mode_json, overwrite_json, region,
    tags_match, tags_view, write,
};
use crate::protocol::Provider;
use crate::sim::context::Sim;
use crate::sim::delivery::{Delivery, DeliveryLookup};
use crate::sim::params::Params;
use crate::sim::records::TimeTexts;

pub fn run(sim: &Sim, params: &Params, request_id: &str) -> Answer {
    let region = region(sim, params)?;
    let invoke_id = params.get_nonempty("InvokeId");
    let instance_id = params.get_nonempty("InstanceId");
    let name = params.get_nonempty("Name");
    let status = params.get_nonempty("InvocationStatus");
    let resource_group = params.get_nonempty("ResourceGroupId");
    let tags = params.tags()?;
    // The current document gives 400 for bad PageNumber/PageSize here.
    let paging = Paging::read(
        sim,
        params,
        "ecs/DescribeSendFileResults",
        StatusCode::BAD_REQUEST,
    )?;

    let now = sim.now();
    let cutoff = sim.retention_cutoff(now);
    let lifecycle = sim.lifecycle();
    let matches = |d: &Delivery| {
        d.product == Provider::Ecs
            && d.region == region
            && d.created.at >= cutoff
            && invoke_id.is_none_or(|id| d.invoke_id == id)
            && name.is_none_or(|n| d.name == n)
            && instance_id.is_none_or(|id| d.targets.iter().any(|t| t.id == id))
            && resource_group.is_none_or(|rg| d.resource_group_id.as_deref() == Some(rg))
            && tags_match(&d.tags, &tags)
            && status.is_none_or(|s| d.overall_at(now, &lifecycle) == s)
    };
    let indexed_only = resource_group.is_none() && tags.is_empty() && status.is_none();
    // The world is locked only while the page is picked.
    let page = {
        let world = sim.world();
        let lookup = DeliveryLookup {
            product: Provider::Ecs,
            region: Some(region),
            invoke_id,
            name,
            instance_id,
        };
        paging.page(
            sim,
            &world.deliveries.candidates(&lookup.into()),
            indexed_only,
            cutoff,
            |key| matches(world.deliveries.get(key)),
            |key| world.deliveries.get(key).clone(),
        )
    };

    let tasks = page
        .items
        .iter()
        .map(|d| render(sim, d, now, instance_id))
        .collect();
    Ok(write(&InvocationsPage::new(&page, tasks, request_id)))
}

/// One `Invocation` item, ECS or eflo shaped.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct FileTask<'a> {
    content: &'a str,
    content_type: &'a str,
    creation_time: String,
    description: &'a str,
    file_group: &'a str,
    file_mode: Value,
    file_owner: &'a str,
    invocation_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoke_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoke_instances: Option<Wrapped<Vec<MachineResult<'a>>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoke_nodes: Option<Wrapped<Vec<MachineResult<'a>>>>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_count: Option<u64>,
    overwrite: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Wrapped<Vec<Tag<'a>>>>,
    target_dir: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    vm_count: Option<u64>,
}

/// One machine's result under a task: `InstanceId` on ECS, `NodeId` on eflo.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MachineResult<'a> {
    creation_time: String,
    error_code: String,
    error_info: String,
    finish_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_id: Option<&'a str>,
    invocation_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_id: Option<&'a str>,
    start_time: String,
    update_time: String,
}

/// One task as listed. `only` limits the listed machines to one (an
/// InstanceId/NodeId filter).
pub(super) fn render<'a>(
    sim: &Sim,
    d: &'a Delivery,
    now: jiff::Timestamp,
    only: Option<&str>,
) -> FileTask<'a> {
    let lifecycle = sim.lifecycle();
    let style = sim.presentation();
    let ecs = d.product == Provider::Ecs;
    let mut texts = TimeTexts::new(d.product);
    let machines: Vec<MachineResult<'a>> = d
        .targets
        .iter()
        .filter(|t| only.is_none_or(|id| t.id == id))
        .map(|t| {
            let v = d.target_view(t, now, &lifecycle, &mut texts);
            MachineResult {
                creation_time: v.creation_time,
                error_code: v.error_code,
                error_info: v.error_info,
                finish_time: v.finish_time,
                instance_id: ecs.then_some(t.id.as_str()),
                invocation_status: v.status,
                node_id: (!ecs).then_some(t.id.as_str()),
                start_time: v.start_time,
                update_time: v.update_time,
            }
        })
        .collect();
    let machines = Wrapped {
        name: if ecs { "InvokeInstance" } else { "InvokeNode" },
        items: machines,
    };
    let (invoke_instances, invoke_nodes) = if ecs {
        (Some(machines), None)
    } else {
        (None, Some(machines))
    };
    FileTask {
        content: &d.content,
        content_type: &d.content_type,
        creation_time: d.created.show(d.product),
        description: &d.description,
        file_group: &d.group,
        file_mode: file_mode_json(&d.mode, style.file_mode),
        file_owner: &d.owner,
        invocation_status: d.overall_at(now, &lifecycle),
        // eflo's items carry no InvokeId (it is a required filter), no
        // tags, and a boolean Overwrite.
        invoke_id: ecs.then_some(d.invoke_id.as_str()),
        invoke_instances,
        invoke_nodes,
        name: &d.name,
        node_count: (!ecs).then(|| d.target_count()),
        overwrite: if ecs {
            overwrite_json(d.overwrite, style.overwrite)
        } else {
            Value::Bool(d.overwrite)
        },
        tags: if ecs { tags_view(&d.tags) } else { None },
        target_dir: &d.target_dir,
        vm_count: ecs.then(|| d.target_count()),
    }
}
