//! eflo-controller 2022-12-15 DescribeSendFileResults (Lingjun nodes):
//! InvokeId is required, NodeId filters, there is no paging and no RegionId,
//! and `TotalCount` is declared a string.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use super::describe_send_file_results::{FileTask, render};
use super::{Answer, Wrapped, write};
use crate::protocol::Provider;
use crate::sim::context::Sim;
use crate::sim::delivery::{Delivery, DeliveryLookup};
use crate::sim::params::Params;
use crate::sim::state::TotalCountStyle;

pub fn describe_send_file_results(sim: &Sim, params: &Params, request_id: &str) -> Answer {
    let invoke_id = params.required("InvokeId")?;
    let node_id = params.get_nonempty("NodeId");
    let now = sim.now();
    let cutoff = sim.retention_cutoff(now);
    let world = sim.world();
    let lookup = DeliveryLookup {
        product: Provider::Eflo,
        region: None,
        invoke_id: Some(invoke_id),
        name: None,
        instance_id: node_id,
    };
    let candidates = world.deliveries.candidates(&lookup.into());
    // Listing order, newest first, like the ECS listing.
    let matching: Vec<Arc<Delivery>> = candidates
        .listing
        .since(cutoff.as_nanosecond())
        .iter()
        .map(|key| world.deliveries.get(key))
        .filter(|d| {
            d.product == Provider::Eflo
                && d.invoke_id == invoke_id
                && d.created.at >= cutoff
                && node_id.is_none_or(|id| d.targets.iter().any(|t| t.id == id))
        })
        .cloned()
        .collect();
    drop(world);
    let total = matching.len();
    let total_count = match sim.presentation().eflo_total_count {
        TotalCountStyle::String => json!(total.to_string()),
        TotalCountStyle::Number => json!(total),
    };
    Ok(write(&EfloFiles {
        invocations: Wrapped {
            name: "Invocation",
            items: matching
                .iter()
                .map(|d| render(sim, d, now, node_id))
                .collect(),
        },
        request_id,
        total_count,
    }))
}

/// The answer (fields in alphabetical order: see the module docs of
/// `actions`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EfloFiles<'a> {
    invocations: Wrapped<Vec<FileTask<'a>>>,
    request_id: &'a str,
    total_count: Value,
}
