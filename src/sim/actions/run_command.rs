//! RunCommand (ECS 2014-05-26): creates an invocation. The simulator runs
//! nothing; the state's `command_rules` decide each run's exit code and
//! output, and the machines' rules decide whether it reaches them at all.

use base64::Engine as _;
use serde_json::json;

use super::{Answer, record_tags, region, reply, targets};
use crate::probe::script;
use crate::sim::context::Sim;
use crate::sim::disk::{self, Disk};
use crate::sim::errors::ApiError;
use crate::sim::invocation::{CommandRun, CommandTarget, Invocation, limit_output};
use crate::sim::params::Params;
use crate::sim::records::{Outcome, Stamp};
use crate::sim::state::{MachineStatus, OsSpec};
use crate::sim::store::World;

const MAX_TARGETS: usize = 100;
const COMMAND_TYPES: &[&str] = &["RunShellScript", "RunBatScript", "RunPowerShellScript"];

pub fn run(sim: &Sim, params: &Params, request_id: &str) -> Answer {
    let region = region(sim, params)?.to_owned();
    let command_type = params.required("Type")?;
    if !COMMAND_TYPES.contains(&command_type) {
        return Err(ApiError::invalid_parameter("Type"));
    }
    let raw = params.required("CommandContent")?;
    // CommandContent's own encoding: PlainText by default for RunCommand.
    let content = match params.get_nonempty("ContentEncoding") {
        None => raw.to_owned(),
        Some(e) if e.eq_ignore_ascii_case("PlainText") => raw.to_owned(),
        Some(e) if e.eq_ignore_ascii_case("Base64") => base64::engine::general_purpose::STANDARD
            .decode(raw)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| ApiError::invalid_parameter("CommandContent"))?,
        Some(_) => return Err(ApiError::invalid_parameter("ContentEncoding")),
    };
    let instances = targets(
        params.list("InstanceId"),
        "InstanceId.1",
        "InstanceId",
        MAX_TARGETS,
    )?;
    let tags = record_tags(params)?;
    let username = params.get_nonempty("Username").unwrap_or("root").to_owned();
    let repeat_mode = params
        .get_nonempty("RepeatMode")
        .unwrap_or("Once")
        .to_owned();

    let now = sim.now();
    let mut world = sim.world_mut();
    world.prune(now, sim.retention);
    let invoke_id = world.new_id("t");
    let command_id = world.new_id("c");
    let seq = world.next_seq();
    let targets = instances
        .iter()
        .map(|id| CommandTarget {
            id: id.clone(),
            run: command_run(&world, &region, id, &username, command_type, &content),
            history: Vec::new(),
        })
        .collect();
    world.insert_invocation(Invocation {
        seq,
        invoke_id: invoke_id.clone(),
        command_id: command_id.clone(),
        region,
        name: params.get("Name").unwrap_or_default().to_owned(),
        command_type: command_type.to_owned(),
        content,
        repeat_mode,
        username: Some(username),
        resource_group_id: params.get_nonempty("ResourceGroupId").map(str::to_owned),
        tags,
        created: Stamp::made(now),
        status_override: None,
        targets,
    });
    Ok(reply(
        json!({ "CommandId": command_id, "InvokeId": invoke_id }),
        request_id,
    ))
}

fn command_run(
    world: &World,
    region: &str,
    id: &str,
    username: &str,
    command_type: &str,
    content: &str,
) -> CommandRun {
    let refused = |status: &str, code: &str, info: &str| {
        CommandRun::new(Outcome::failure(status, code, info), 0, String::new())
    };
    let machine = world.machines.get(id).filter(|m| m.region == region);
    match machine {
        None if !world.accept_unknown_machines => {
            return refused(
                "Invalid",
                "InstanceNotExists",
                "the specified instance does not exists",
            );
        }
        None => {}
        Some(machine) => {
            match machine.status {
                MachineStatus::Released => {
                    return refused(
                        "Aborted",
                        "InstanceReleased",
                        "the instance has released when create task",
                    );
                }
                MachineStatus::Stopped => {
                    return refused(
                        "Aborted",
                        "InstanceNotRunning",
                        "the instance is not running when create task",
                    );
                }
                MachineStatus::Running => {}
            }
            if let Some((code, info)) = machine.agent.refusal() {
                return refused("Aborted", code, info);
            }
            if !machine.users.contains(username) {
                return refused(
                    "Invalid",
                    "AccountNotExists",
                    "the specified account does not exists",
                );
            }
            // A shell script does not run on Windows.
            if command_type == "RunShellScript" && machine.os == OsSpec::Windows {
                return refused(
                    "Invalid",
                    "CommandNotApplicable",
                    "the command is not applicable",
                );
            }
        }
    }
    // The probe is answered from the machine's disk; any other script by
    // the state's command rules.
    let (exit_code, output) = match script::paths_of(content) {
        Some(paths) => (0, probe_output(world.machines.get(id), &paths)),
        None => world.run_rule(content),
    };
    let (output, dropped) = limit_output(output);
    CommandRun {
        dropped,
        ..CommandRun::new(Outcome::of_exit_code(exit_code), exit_code, output)
    }
}

/// What the probe script prints on `machine` (an unknown machine has an
/// empty disk).
fn probe_output(machine: Option<&crate::sim::store::Machine>, paths: &[String]) -> String {
    let empty = Disk::new();
    let disk = machine.map_or(&empty, |m| &m.files);
    let states: Vec<_> = paths.iter().map(|path| disk::probe(disk, path)).collect();
    script::render_output(&states)
}
