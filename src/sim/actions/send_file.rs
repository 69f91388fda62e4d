//! SendFile (ECS 2014-05-26 and eflo-controller 2022-12-15): creates a
//! delivery whose per-machine outcome follows rules on the simulated
//! machines, so failures can be provoked through the real API.
//!
//! Rules, in the order the agent would hit them: the machine must exist (in
//! the region), not be released or stopped, run a current agent; the owner
//! and group must exist; the mode must be a chmod mode; and an existing file
//! is only replaced with `Overwrite=true`.

use base64::Engine as _;
use serde_json::json;

use super::{Answer, record_tags, region, reply, targets};
use crate::mode::FileMode;
use crate::protocol::Provider;
use crate::protocol::join_path;
use crate::sim::context::Sim;
use crate::sim::delivery::{Delivery, DeliveryTarget, PinnedTimes};
use crate::sim::errors::ApiError;
use crate::sim::params::Params;
use crate::sim::records::{Outcome, Stamp};
use crate::sim::state::{AgentStatus, MachineStatus};
use crate::sim::store::World;

/// The documented limits.
const MAX_TARGETS: usize = 50;
const MAX_BASE64_CONTENT: usize = 32 * 1024;

/// What a SendFile asks for, whatever the product.
struct FileRequest {
    name: String,
    description: String,
    content: String,
    content_type: String,
    target_dir: String,
    mode: String,
    owner: String,
    group: String,
    overwrite: bool,
    resource_group_id: Option<String>,
    tags: Vec<(String, String)>,
}

pub fn ecs(sim: &Sim, params: &Params, request_id: &str) -> Answer {
    let region = region(sim, params)?.to_owned();
    let instances = params.list("InstanceId");
    // Blank ids name no instance either.
    if instances.iter().all(String::is_empty) {
        return Err(ApiError::missing_parameter("InstanceId.1"));
    }
    let instances = targets(instances, "InstanceId.1", "InstanceId", MAX_TARGETS)?;
    let request = file_request(params, record_tags(params)?)?;
    let invoke_id = create(sim, Provider::Ecs, &region, request, instances);
    Ok(reply(json!({ "InvokeId": invoke_id }), request_id))
}

pub fn eflo(sim: &Sim, params: &Params, request_id: &str) -> Answer {
    // eflo takes the node list as a JSON array in one parameter.
    let list = params.required("NodeIdList")?;
    let nodes: Vec<String> =
        serde_json::from_str(list).map_err(|_| ApiError::invalid_parameter("NodeIdList"))?;
    let nodes = targets(nodes, "NodeIdList", "NodeIdList", MAX_TARGETS)?;
    let request = file_request(params, Vec::new())?;
    let region = sim.default_region();
    let invoke_id = create(sim, Provider::Eflo, &region, request, nodes);
    Ok(reply(json!({ "InvokeId": invoke_id }), request_id))
}

fn file_request(params: &Params, tags: Vec<(String, String)>) -> Result<FileRequest, ApiError> {
    let name = params.required("Name")?.to_owned();
    let target_dir = params.required("TargetDir")?.to_owned();
    let content = params.required("Content")?.to_owned();
    let content_type = match params.get_nonempty("ContentType") {
        None => "PlainText".to_owned(),
        Some(t) if t.eq_ignore_ascii_case("PlainText") => "PlainText".to_owned(),
        Some(t) if t.eq_ignore_ascii_case("Base64") => "Base64".to_owned(),
        Some(_) => return Err(ApiError::invalid_parameter("ContentType")),
    };
    let encoded_len = if content_type == "Base64" {
        content.len()
    } else {
        content.len().div_ceil(3) * 4
    };
    if encoded_len > MAX_BASE64_CONTENT {
        return Err(ApiError::invalid_parameter("Content"));
    }
    if name.chars().count() > 255 || target_dir.chars().count() > 255 {
        return Err(ApiError::invalid_parameter(if name.chars().count() > 255 {
            "Name"
        } else {
            "TargetDir"
        }));
    }
    Ok(FileRequest {
        name,
        description: params.get("Description").unwrap_or_default().to_owned(),
        content,
        content_type,
        target_dir,
        mode: params.get_nonempty("FileMode").unwrap_or("0644").to_owned(),
        owner: params
            .get_nonempty("FileOwner")
            .unwrap_or("root")
            .to_owned(),
        group: params
            .get_nonempty("FileGroup")
            .unwrap_or("root")
            .to_owned(),
        overwrite: params.bool("Overwrite")?.unwrap_or(false),
        resource_group_id: params.get_nonempty("ResourceGroupId").map(str::to_owned),
        tags,
    })
}

fn create(
    sim: &Sim,
    product: Provider,
    region: &str,
    request: FileRequest,
    targets: Vec<String>,
) -> String {
    let now = sim.now();
    let mut world = sim.world_mut();
    world.prune(now, sim.retention);
    let invoke_id = world.new_id(product.file_invoke_prefix());
    let seq = world.next_seq();
    let path = join_path(&request.target_dir, &request.name);
    let outcomes: Vec<DeliveryTarget> = targets
        .iter()
        .map(|id| DeliveryTarget {
            id: id.clone(),
            outcome: outcome(&world, product, region, id, &request, &path),
            times: PinnedTimes::default(),
        })
        .collect();
    world.insert_delivery(Delivery {
        seq,
        product,
        invoke_id: invoke_id.clone(),
        region: region.to_owned(),
        name: request.name,
        description: request.description,
        content: request.content,
        content_type: request.content_type,
        target_dir: request.target_dir,
        mode: request.mode,
        owner: request.owner,
        group: request.group,
        overwrite: request.overwrite,
        resource_group_id: request.resource_group_id,
        tags: request.tags,
        created: Stamp::made(now),
        status_override: None,
        target_count: None,
        targets: outcomes,
    });
    invoke_id
}

fn outcome(
    world: &World,
    product: Provider,
    region: &str,
    id: &str,
    request: &FileRequest,
    path: &str,
) -> Outcome {
    let (not_exists, released, not_running) = match product {
        Provider::Ecs => (
            "InstanceNotExists",
            "InstanceReleased",
            "InstanceNotRunning",
        ),
        Provider::Eflo => ("NodeNotExists", "NodeReleased", "NodeNotRunning"),
    };
    let machine = world
        .machines
        .get(id)
        .filter(|m| m.product == product && (product == Provider::Eflo || m.region == region));
    let Some(machine) = machine else {
        return if world.accept_unknown_machines {
            Outcome::success()
        } else {
            Outcome::failure(
                "Aborted",
                not_exists,
                "the specified instance does not exists",
            )
        };
    };
    match machine.status {
        MachineStatus::Released => {
            return Outcome::failure(
                "Aborted",
                released,
                "the instance has released when create task",
            );
        }
        MachineStatus::Stopped => {
            return Outcome::failure(
                "Aborted",
                not_running,
                "the instance is not running when create task",
            );
        }
        MachineStatus::Running => {}
    }
    if let Some((code, info)) = machine.agent.refusal() {
        // An agent that does not answer lets the delivery time out.
        let status = if machine.agent == AgentStatus::Unresponsive {
            "Timeout"
        } else {
            "Aborted"
        };
        return Outcome::failure(status, code, info);
    }
    if request.resource_group_id.is_some() && machine.resource_group_id != request.resource_group_id
    {
        return Outcome::failure(
            "Aborted",
            not_exists,
            "the specified instance does not exists",
        );
    }
    if !machine.users.contains(&request.owner) {
        return Outcome::failure("Failed", "AccountNotExists", "Owner not exists");
    }
    if !machine.groups.contains(&request.group) {
        return Outcome::failure("Failed", "UserGroupNotExists", "Group not exists");
    }
    if request.mode.parse::<FileMode>().is_err() {
        return Outcome::failure("Failed", "FileAuthorityInvalid", "Mode is invalid");
    }
    if request.content_type == "Base64"
        && base64::engine::general_purpose::STANDARD
            .decode(&request.content)
            .is_err()
    {
        return Outcome::failure("Failed", "FileContentInvalid", "File content is invalid");
    }
    if !request.target_dir.starts_with('/') {
        return Outcome::failure("Failed", "FilePathInvalid", "File path is invalid");
    }
    if machine.files.contains_key(path) && !request.overwrite {
        return Outcome::failure("Failed", "FileAlreadyExists", "File already exists");
    }
    Outcome::success()
}
