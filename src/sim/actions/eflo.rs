//! eflo-controller 2022-12-15 DescribeSendFileResults (Lingjun nodes):
//! InvokeId is required, NodeId filters, there is no paging and no RegionId,
//! and `TotalCount` is declared a string.

use std::sync::Arc;

use serde_json::{Value, json};

use super::describe_send_file_results::render;
use super::{Answer, Params, object};
use crate::sim::Product;
use crate::sim::server::Sim;
use crate::sim::state::TotalCountStyle;
use crate::sim::store::Delivery;
use crate::sim::tables::DeliveryLookup;

pub fn describe_send_file_results(sim: &Sim, params: &Params) -> Answer {
    let invoke_id = params.required("InvokeId")?;
    let node_id = params.get_nonempty("NodeId");
    let now = sim.now();
    let cutoff = sim.retention_cutoff(now);
    let world = sim.world();
    let candidates = world.deliveries.candidates(&DeliveryLookup {
        product: Product::Eflo,
        region: None,
        invoke_id: Some(invoke_id),
        name: None,
        instance_id: node_id,
    });
    // Listing order, newest first, like the ECS listing.
    let matching: Vec<Arc<Delivery>> = candidates
        .listing
        .since(cutoff.as_nanosecond())
        .iter()
        .map(|key| world.deliveries.get(key))
        .filter(|d| {
            d.product == Product::Eflo
                && d.invoke_id == invoke_id
                && d.created.at >= cutoff
                && node_id.is_none_or(|id| d.targets.iter().any(|t| t.id == id))
        })
        .cloned()
        .collect();
    drop(world);
    let invocations: Vec<Value> = matching
        .iter()
        .map(|d| Value::Object(render(sim, d, now, node_id)))
        .collect();
    let total = invocations.len();
    let total = match sim.presentation().eflo_total_count {
        TotalCountStyle::String => json!(total.to_string()),
        TotalCountStyle::Number => json!(total),
    };
    Ok(object(json!({
        "TotalCount": total,
        "Invocations": { "Invocation": invocations },
    })))
}
