//! DescribeSendFileResults (ECS 2014-05-26): SendFile tasks with their
//! per-instance results, every documented filter, both paging styles.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::{
    Answer, Params, file_mode_json, object, overwrite_json, region, tags_json, tags_match,
};
use crate::sim::Product;
use crate::sim::listing::Listing;
use crate::sim::paging;
use crate::sim::server::Sim;
use crate::sim::store::Delivery;
use crate::sim::tables::DeliveryLookup;

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
    let matches = |d: &Delivery| {
        d.product == Product::Ecs
            && d.region == region
            && d.created.at >= cutoff
            && invoke_id.is_none_or(|id| d.invoke_id == id)
            && name.is_none_or(|n| d.name == n)
            && instance_id.is_none_or(|id| d.targets.iter().any(|t| t.id == id))
            && resource_group.is_none_or(|rg| d.resource_group_id.as_deref() == Some(rg))
            && tags_match(&d.tags, &tags)
            && status.is_none_or(|s| d.overall_at(now, &lifecycle) == s)
    };
    let world = sim.world();
    let candidates = world.deliveries.candidates(&DeliveryLookup {
        product: Product::Ecs,
        region: Some(region),
        invoke_id,
        name,
        instance_id,
    });
    let visible = candidates.listing.since(cutoff.as_nanosecond());
    let tested: Listing;
    let keys =
        if candidates.exact && resource_group.is_none() && tags.is_empty() && status.is_none() {
            visible
        } else {
            tested = visible.filter(|key| matches(world.deliveries.get(key)));
            tested.keys()
        };
    let page = paging::page(keys, &request, &mut sim.tokens(), &fingerprint);
    let records: Vec<Arc<Delivery>> = page
        .items
        .iter()
        .map(|key| world.deliveries.get(*key).clone())
        .collect();
    drop(world);

    let invocations: Vec<Value> = records
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
    let overall = d.overall_at(now, &lifecycle);
    let id_field = match d.product {
        Product::Ecs => "InstanceId",
        Product::Eflo => "NodeId",
    };
    let machines: Vec<Value> = d
        .targets
        .iter()
        .filter(|t| only.is_none_or(|id| t.id == id))
        .map(|t| {
            let v = d.target_view(t, now, &lifecycle);
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
