//! DescribeInstances (ECS 2014-05-26): the instances of a region, filtered
//! by ids, tags, resource group and status — what a manifest's tag and
//! resource-group instance sets are resolved through.
//!
//! Instances are listed by id. Released instances are gone from the API, as
//! they are from the console. Pages hold up to 100 instances in both paging
//! styles; `TotalCount` is a number here, not the string the Cloud
//! Assistant listings send.

use axum::http::StatusCode;
use serde::Serialize;

use super::{Answer, Tag, Wrapped, region, tags_match, tags_view, write};
use crate::protocol::Provider;
use crate::sim::context::Sim;
use crate::sim::errors::ApiError;
use crate::sim::listing::{Listing, SortKey};
use crate::sim::paging::{self, Page};
use crate::sim::params::Params;
use crate::sim::state::MachineStatus;
use crate::sim::store::Machine;

/// The largest page DescribeInstances serves (`MaxResults`, `PageSize`).
const MAX_PAGE_SIZE: u64 = 100;
/// The most ids `InstanceIds` may name.
const MAX_INSTANCE_IDS: usize = 100;

pub fn run(sim: &Sim, params: &Params, request_id: &str) -> Answer {
    let region = region(sim, params)?;
    let ids = instance_ids(params)?;
    let resource_group = params.get_nonempty("ResourceGroupId");
    let status = params.get_nonempty("Status");
    let tags = params.tags()?;
    let fingerprint = params.fingerprint("ecs/DescribeInstances");
    let request = paging::parse_up_to(
        params,
        &sim.tokens(),
        &fingerprint,
        StatusCode::BAD_REQUEST,
        MAX_PAGE_SIZE,
    )?;

    let page: Page<Machine> = {
        let world = sim.world();
        let mut listed: Vec<&Machine> = world
            .machines
            .values()
            .filter(|m| {
                m.product == Provider::Ecs
                    && m.region == region
                    && m.status != MachineStatus::Released
            })
            .collect();
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        // A key per instance from its rank by id among the region's
        // instances, so a NextToken names the same place on the next call;
        // listings run newest (highest) key first, hence the countdown.
        let count = listed.len() as u64;
        let keyed: Vec<(SortKey, &Machine)> = listed
            .into_iter()
            .enumerate()
            .map(|(rank, m)| (SortKey::record(0, count - rank as u64), m))
            .collect();
        let matching = Listing::from_keys(
            keyed
                .iter()
                .filter(|(_, m)| {
                    ids.as_ref().is_none_or(|ids| ids.contains(&m.id))
                        && resource_group
                            .is_none_or(|rg| m.resource_group_id.as_deref() == Some(rg))
                        && status.is_none_or(|s| status_name(m.status) == s)
                        && tags_match(&m.tags, &tags)
                })
                .map(|(key, _)| *key)
                .collect(),
        );
        let machine = |key: SortKey| (*keyed[(count - key.seq) as usize].1).clone();
        paging::page(matching.keys(), &request, &mut sim.tokens(), &fingerprint).map(machine)
    };

    let instances = page
        .items
        .iter()
        .map(|m| InstanceItem {
            instance_id: &m.id,
            // Cloud Assistant targets Linux here; the state file has no OS.
            os_type: "linux",
            region_id: &m.region,
            resource_group_id: m.resource_group_id.as_deref().unwrap_or(""),
            status: status_name(m.status),
            tags: tags_view(&m.tags),
        })
        .collect();
    Ok(write(&InstancesPage {
        instances: Wrapped {
            name: "Instance",
            items: instances,
        },
        next_token: page.next_token.clone().unwrap_or_default(),
        page_number: page.page_number,
        page_size: page.page_size,
        request_id,
        total_count: page.total,
    }))
}

/// `InstanceIds`: a JSON array of up to 100 ids, as the document says.
fn instance_ids(params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    let Some(text) = params.get_nonempty("InstanceIds") else {
        return Ok(None);
    };
    let ids: Vec<String> =
        serde_json::from_str(text).map_err(|_| ApiError::invalid_parameter("InstanceIds"))?;
    if ids.len() > MAX_INSTANCE_IDS {
        return Err(ApiError::invalid_parameter("InstanceIds"));
    }
    Ok(Some(ids))
}

fn status_name(status: MachineStatus) -> &'static str {
    match status {
        MachineStatus::Running => "Running",
        MachineStatus::Stopped => "Stopped",
        MachineStatus::Released => "Released",
    }
}

/// The answer (fields in alphabetical order: see the module docs of
/// `actions`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstancesPage<'a> {
    instances: Wrapped<Vec<InstanceItem<'a>>>,
    next_token: String,
    page_number: u64,
    page_size: u64,
    request_id: &'a str,
    total_count: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceItem<'a> {
    instance_id: &'a str,
    #[serde(rename = "OSType")]
    os_type: &'static str,
    region_id: &'a str,
    resource_group_id: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Wrapped<Vec<Tag<'a>>>>,
}
