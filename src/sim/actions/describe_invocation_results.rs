//! DescribeInvocationResults (ECS 2014-05-26): one item per command run per
//! instance. Unlike DescribeSendFileResults its paging fields are nested
//! under `Invocation`, its status filter is `InvokeRecordStatus`, and
//! `Output` is Base64 unless `ContentEncoding=PlainText`.

use axum::http::StatusCode;
use serde::Serialize;

use super::{Answer, Encoding, Paging, Tag, Wrapped, region, tags_match, tags_view, write};
use crate::protocol::Provider;
use crate::sim::context::Sim;
use crate::sim::invocation::{InvocationLookup, ResultRef, record_status_of};
use crate::sim::params::Params;
use crate::sim::records::TimeTexts;

pub fn run(sim: &Sim, params: &Params, request_id: &str) -> Answer {
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
    // This action's document gives 403 for bad PageNumber/PageSize.
    let paging = Paging::read(
        sim,
        params,
        "ecs/DescribeInvocationResults",
        StatusCode::FORBIDDEN,
    )?;

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
        // The statuses run_view would show, without rendering the run.
        let run = result.run();
        let run_status = inv.run_status_at(run, now, &lifecycle);
        let run_record_status = run
            .record_status
            .as_deref()
            .unwrap_or_else(|| record_status_of(run_status));
        record_status.is_none_or(|s| run_record_status == s)
            && status.is_none_or(|s| run_status == s)
    };
    let indexed_only = [record_status, status, resource_group]
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
            &world
                .invocations
                .item_candidates(&lookup.into(), include_history),
            indexed_only,
            cutoff,
            |key| matches(&world.invocations.result(key)),
            |key| world.invocations.result(key),
        )
    };

    let mut texts = TimeTexts::new(Provider::Ecs);
    let results = page
        .items
        .iter()
        .map(|result| {
            let inv = &result.invocation;
            let view = inv.run_view(result.run(), now, &lifecycle, &mut texts);
            RunResult {
                command_id: &inv.command_id,
                dropped: view.dropped,
                error_code: view.error_code,
                error_info: view.error_info,
                exit_code: view.exit_code,
                finished_time: view.finished_time,
                instance_id: &result.target().id,
                invocation_status: view.status,
                invoke_id: &inv.invoke_id,
                invoke_record_status: view.record_status,
                output: encoding.encode(&view.output),
                repeats: view.repeats,
                start_time: view.start_time,
                stop_time: view.stop_time,
                tags: tags_view(&inv.tags),
                username: view.username,
            }
        })
        .collect();
    Ok(write(&ResultsAnswer {
        invocation: ResultsPage {
            invocation_results: Wrapped {
                name: "InvocationResult",
                items: results,
            },
            next_token: page.next_token,
            page_number: page.page_number,
            page_size: page.page_size,
            total_count: page.total,
        },
        request_id,
    }))
}

/// The answer: paging fields nest under `Invocation` (fields in alphabetical
/// order: see the module docs of `actions`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResultsAnswer<'a> {
    invocation: ResultsPage<'a>,
    request_id: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResultsPage<'a> {
    invocation_results: Wrapped<Vec<RunResult<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    page_number: u64,
    page_size: u64,
    total_count: u64,
}

/// One run on one instance.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct RunResult<'a> {
    command_id: &'a str,
    dropped: u64,
    error_code: String,
    error_info: String,
    exit_code: i64,
    finished_time: String,
    instance_id: &'a str,
    invocation_status: String,
    invoke_id: &'a str,
    invoke_record_status: String,
    output: String,
    repeats: u64,
    start_time: String,
    stop_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Wrapped<Vec<Tag<'a>>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
}
