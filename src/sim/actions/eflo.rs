//! eflo-controller 2022-12-15 DescribeSendFileResults (Lingjun nodes):
//! InvokeId is required, NodeId filters, there is no paging and no RegionId,
//! and `TotalCount` is declared a string.

use serde_json::{Value, json};

use super::describe_send_file_results::{render, sort_key};
use super::{Answer, Params, object};
use crate::sim::Product;
use crate::sim::server::Sim;
use crate::sim::state::TotalCountStyle;

pub fn describe_send_file_results(sim: &Sim, params: &Params) -> Answer {
    let invoke_id = params.required("InvokeId")?;
    let node_id = params.get_nonempty("NodeId");
    let now = sim.now();
    let cutoff = sim.retention_cutoff(now);
    let world = sim.world();
    let mut matching: Vec<_> = world
        .deliveries
        .iter()
        .filter(|d| {
            d.product == Product::Eflo
                && d.invoke_id == invoke_id
                && d.created.at >= cutoff
                && node_id.is_none_or(|id| d.targets.iter().any(|t| t.id == id))
        })
        .collect();
    matching.sort_by_key(|d| sort_key(d));
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
