//! DescribeInvocationResults (ECS 2014-05-26): one item per command run per
//! instance. Unlike DescribeSendFileResults its paging fields are nested
//! under `Invocation`, its status filter is `InvokeRecordStatus`, and
//! `Output` is Base64 unless `ContentEncoding=PlainText`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Answer, Encoding, Params, object, region, tags_json, tags_match};
use crate::sim::listing::Listing;
use crate::sim::paging;
use crate::sim::server::Sim;
use crate::sim::tables::{InvocationLookup, ResultRef};

pub fn run(sim: &Sim, params: &Params) -> Answer {
    let region = region(sim, params)?;
    let invoke_id = params.get_nonempty("InvokeId");
    let instance_id = params.get_nonempty("InstanceId");
    let command_id = params.get_nonempty("CommandId");
    let record_status = params.get_nonempty("InvokeRecordStatus");
    let status = params.get_nonempty("InvocationStatus");
    let resource_group = params.get_nonempty("ResourceGroupId");
    // History is only listed for one given (recurring) invocation.
    let include_history = params.bool("IncludeHistory")?.unwrap_or(false) && invoke_id.is_some();
    let encoding = Encoding::from_params(params, Encoding::Base64)?;
    let tags = params.tags()?;
    let fingerprint = params.fingerprint("ecs/DescribeInvocationResults");
    // This action's document gives 403 for bad PageNumber/PageSize.
    let request = paging::parse(params, &sim.tokens(), &fingerprint, StatusCode::FORBIDDEN)?;

    let now = sim.now();
    let cutoff = sim.retention_cutoff(now);
    let lifecycle = sim.lifecycle();
    let matches = |result: &ResultRef| {
        let inv = &result.invocation;
        let selected = inv.region == region
            && inv.created.at >= cutoff
            && invoke_id.is_none_or(|id| inv.invoke_id == id)
            && command_id.is_none_or(|id| inv.command_id == id)
            && resource_group.is_none_or(|rg| inv.resource_group_id.as_deref() == Some(rg))
            && tags_match(&inv.tags, &tags)
            && instance_id.is_none_or(|id| result.target().id == id);
        if !selected {
            return false;
        }
        if record_status.is_some() || status.is_some() {
            let view = inv.run_view(result.run(), now, &lifecycle);
            if record_status.is_some_and(|s| view.record_status != s)
                || status.is_some_and(|s| view.status != s)
            {
                return false;
            }
        }
        true
    };
    let world = sim.world();
    let candidates = world.invocations.result_candidates(
        &InvocationLookup {
            region,
            invoke_id,
            command_id,
            instance_id,
        },
        include_history,
    );
    let visible = candidates.listing.since(cutoff.as_nanosecond());
    let unindexed = [record_status, status, resource_group];
    let tested: Listing;
    let keys = if candidates.exact && unindexed.iter().all(Option::is_none) && tags.is_empty() {
        visible
    } else {
        tested = visible.filter(|key| matches(&world.invocations.result(key)));
        tested.keys()
    };
    let page = paging::page(keys, &request, &mut sim.tokens(), &fingerprint);
    let items: Vec<ResultRef> = page
        .items
        .iter()
        .map(|key| world.invocations.result(*key))
        .collect();
    drop(world);

    let results: Vec<Value> = items
        .iter()
        .map(|result| {
            let inv = &result.invocation;
            let instance = &result.target().id;
            let view = inv.run_view(result.run(), now, &lifecycle);
            let mut item = object(json!({
                "InstanceId": instance,
                "InvokeId": inv.invoke_id,
                "CommandId": inv.command_id,
                "InvocationStatus": view.status,
                "InvokeRecordStatus": view.record_status,
                "ExitCode": view.exit_code,
                "ErrorCode": view.error_code,
                "ErrorInfo": view.error_info,
                "Output": encoding.encode(&view.output),
                "Dropped": view.dropped,
                "Repeats": view.repeats,
                "StartTime": view.start_time,
                "FinishedTime": view.finished_time,
                "StopTime": view.stop_time,
            }));
            if let Some(user) = view.username {
                item.insert("Username".to_owned(), json!(user));
            }
            if !inv.tags.is_empty() {
                item.insert("Tags".to_owned(), tags_json(&inv.tags));
            }
            Value::Object(item)
        })
        .collect();
    let mut invocation = object(json!({
        "TotalCount": page.total,
        "PageNumber": page.page_number,
        "PageSize": page.page_size,
        "InvocationResults": { "InvocationResult": results },
    }));
    if let Some(token) = page.next_token {
        invocation.insert("NextToken".to_owned(), Value::String(token));
    }
    Ok(object(json!({ "Invocation": invocation })))
}
