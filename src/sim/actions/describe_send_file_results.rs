//! DescribeSendFileResults (ECS 2014-05-26): SendFile tasks with their
//! per-instance results, every documented filter, both paging styles.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{
    Answer, Params, file_mode_json, object, overwrite_json, region, tags_json, tags_match,
};
use crate::sim::Product;
use crate::sim::paging::{self, SortKey};
use crate::sim::server::Sim;
use crate::sim::store::Delivery;

pub fn run(sim: &Sim, params: &Params) -> Answer {
    let region = region(sim, params)?;
    let invoke_id = params.get_nonempty("InvokeId");
    let instance_id = params.get_nonempty("InstanceId");
    let name = params.get_nonempty("Name");
    let status = params.get_nonempty("InvocationStatus");
    let resource_group = params.get_nonempty("ResourceGroupId");
    let tags = params.tags()?;
    let fingerprint = params.fingerprint("ecs/DescribeSendFileResults");
    // The current document gives 400 for bad PageNumber/PageSize here.
    let request = paging::parse(params, &sim.tokens(), &fingerprint, StatusCode::BAD_REQUEST)?;

    let now = sim.now();
    let cutoff = sim.retention_cutoff(now);
    let lifecycle = sim.lifecycle();
    let world = sim.world();
    let mut matching: Vec<(SortKey, &Delivery)> = world
        .deliveries
        .iter()
        .filter(|d| {
            d.product == Product::Ecs
                && d.region == region
                && d.created.at >= cutoff
                && invoke_id.is_none_or(|id| d.invoke_id == id)
                && name.is_none_or(|n| d.name == n)
                && instance_id.is_none_or(|id| d.targets.iter().any(|t| t.id == id))
                && resource_group.is_none_or(|rg| d.resource_group_id.as_deref() == Some(rg))
                && tags_match(&d.tags, &tags)
                && status.is_none_or(|s| d.overall_at(now, &lifecycle) == s)
        })
        .map(|d| (sort_key(d), d))
        .collect();
    matching.sort_by_key(|(key, _)| *key);
    let page = paging::page(matching, &request, &mut sim.tokens(), &fingerprint);

    let invocations: Vec<Value> = page
        .items
        .iter()
        .map(|d| Value::Object(render(sim, d, now, instance_id)))
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

pub(super) fn sort_key(d: &Delivery) -> SortKey {
    SortKey {
        created_ns: d.created.at.as_nanosecond(),
        seq: d.seq,
        sub: 0,
    }
}

/// One `Invocation` item, ECS or eflo shaped. `only` limits the listed
/// machines to one (an InstanceId/NodeId filter).
pub(super) fn render(
    sim: &Sim,
    d: &Delivery,
    now: jiff::Timestamp,
    only: Option<&str>,
) -> Map<String, Value> {
    let lifecycle = sim.lifecycle();
    let style = sim.presentation();
    let all_views: Vec<_> = d
        .targets
        .iter()
        .map(|t| (t, d.target_view(t, now, &lifecycle)))
        .collect();
    let overall = d.overall_at(now, &lifecycle);
    let id_field = match d.product {
        Product::Ecs => "InstanceId",
        Product::Eflo => "NodeId",
    };
    let machines: Vec<Value> = all_views
        .iter()
        .filter(|(t, _)| only.is_none_or(|id| t.id == id))
        .map(|(t, v)| {
            json!({
                id_field: t.id,
                "InvocationStatus": v.status,
                "ErrorCode": v.error_code,
                "ErrorInfo": v.error_info,
                "CreationTime": v.creation_time,
                "StartTime": v.start_time,
                "FinishTime": v.finish_time,
                "UpdateTime": v.update_time,
            })
        })
        .collect();
    let mut item = object(json!({
        "Name": d.name,
        "Description": d.description,
        "Content": d.content,
        "ContentType": d.content_type,
        "TargetDir": d.target_dir,
        "FileMode": file_mode_json(&d.mode, style.file_mode),
        "FileOwner": d.owner,
        "FileGroup": d.group,
        "CreationTime": d.created.show(d.product),
        "InvocationStatus": overall,
    }));
    match d.product {
        Product::Ecs => {
            item.insert("InvokeId".to_owned(), json!(d.invoke_id));
            item.insert(
                "Overwrite".to_owned(),
                overwrite_json(d.overwrite, style.overwrite),
            );
            item.insert("VmCount".to_owned(), json!(d.target_count()));
            item.insert(
                "InvokeInstances".to_owned(),
                json!({ "InvokeInstance": machines }),
            );
            if !d.tags.is_empty() {
                item.insert("Tags".to_owned(), tags_json(&d.tags));
            }
        }
        Product::Eflo => {
            // eflo's items carry no InvokeId (it is a required filter) and a
            // boolean Overwrite.
            item.insert("Overwrite".to_owned(), json!(d.overwrite));
            item.insert("NodeCount".to_owned(), json!(d.target_count()));
            item.insert("InvokeNodes".to_owned(), json!({ "InvokeNode": machines }));
        }
    }
    item
}
