//! The simulated world at run time: machines, SendFile tasks, RunCommand
//! invocations, and the rules that decide their outcomes.
//!
//! The records themselves (`records`) live in `tables`, in listing order
//! and indexed; the world adds the machines they ran on, the command rules,
//! and the state file's reading into them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use regex::Regex;

use super::delivery::{Delivery, DeliveryTarget, PinnedTimes};
use super::disk::{Disk, DiskFile};
use super::invocation::{CommandRun, CommandTarget, Invocation};
use super::records::{Outcome, Stamp, parse_time};
use super::regions::DEFAULT_REGION;
use super::state::{
    AgentStatus, CommandSpec, CommandTargetSpec, DeliverySpec, FileSpec, MachineSpec,
    MachineStatus, OsSpec, ProductSpec, StateFile, TargetSpec,
};
use super::tables::Table;
use crate::protocol::Provider;
use crate::protocol::join_path;

#[derive(Debug, Clone)]
pub struct Machine {
    pub id: String,
    pub product: Provider,
    pub region: String,
    pub status: MachineStatus,
    pub agent: AgentStatus,
    pub resource_group_id: Option<String>,
    pub tags: Vec<(String, String)>,
    pub users: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    pub files: Disk,
    pub os: OsSpec,
}

impl Machine {
    fn from_spec(spec: &MachineSpec, product: Provider, default_region: &str) -> Self {
        let names = |list: &Option<Vec<String>>| -> BTreeSet<String> {
            list.clone()
                .unwrap_or_else(|| vec!["root".to_owned()])
                .into_iter()
                .collect()
        };
        Self {
            id: spec.id.clone(),
            product,
            region: spec
                .region
                .clone()
                .unwrap_or_else(|| default_region.to_owned()),
            status: spec.status,
            agent: spec.agent,
            resource_group_id: spec.resource_group_id.clone(),
            tags: tags_of(&spec.tags),
            users: names(&spec.users),
            groups: names(&spec.groups),
            files: Disk::new(),
            os: spec.os,
        }
    }

    pub fn running(id: &str, product: Provider, region: &str) -> Self {
        Self {
            id: id.to_owned(),
            product,
            region: region.to_owned(),
            status: MachineStatus::Running,
            agent: AgentStatus::Running,
            resource_group_id: None,
            tags: Vec::new(),
            users: BTreeSet::from(["root".to_owned()]),
            groups: BTreeSet::from(["root".to_owned()]),
            files: Disk::new(),
            os: OsSpec::Linux,
        }
    }
}

/// A compiled `command_rules` entry.
#[derive(Debug, Clone)]
pub struct CommandRule {
    pub pattern: Regex,
    pub exit_code: i64,
    pub output: String,
}

/// The whole simulated world; the server keeps it behind one lock.
#[derive(Debug, Default)]
pub struct World {
    pub machines: HashMap<String, Machine>,
    pub accept_unknown_machines: bool,
    pub default_region: String,
    pub deliveries: Table<Delivery>,
    pub invocations: Table<Invocation>,
    pub rules: Vec<CommandRule>,
    next_seq: u64,
}

impl World {
    pub fn new(default_region: &str) -> Self {
        Self {
            default_region: default_region.to_owned(),
            ..Self::default()
        }
    }

    /// Builds the world a state file describes. Errors name the record.
    pub fn from_state(state: &StateFile) -> Result<Self, Vec<String>> {
        let region = state.region.as_deref().unwrap_or(DEFAULT_REGION);
        let mut world = Self::new(region);
        world.accept_unknown_machines = state.accept_unknown_instances;
        let mut problems = Vec::new();
        for spec in &state.instances {
            world.add_machine(Machine::from_spec(spec, Provider::Ecs, region));
        }
        for spec in &state.nodes {
            world.add_machine(Machine::from_spec(spec, Provider::Eflo, region));
        }
        for (i, rule) in state.command_rules.iter().enumerate() {
            match Regex::new(&rule.pattern) {
                Ok(pattern) => world.rules.push(CommandRule {
                    pattern,
                    exit_code: rule.exit_code,
                    output: rule.output.clone(),
                }),
                Err(e) => problems.push(format!("/command_rules/{i}/match: {e}")),
            }
        }
        // Oldest first, so sequence numbers follow creation order.
        let mut deliveries: Vec<(usize, &DeliverySpec)> =
            state.deliveries.iter().enumerate().collect();
        deliveries.sort_by_key(|(_, d)| parse_time(&d.creation_time).ok());
        for (i, spec) in deliveries {
            match world.delivery_from_spec(spec) {
                Ok(delivery) => world.insert_delivery(delivery),
                Err(e) => problems.push(format!("/deliveries/{i}: {e}")),
            }
        }
        // The disks as they are now, after what the deliveries wrote.
        for spec in &state.instances {
            world.set_disk(&spec.id, &spec.files);
        }
        for spec in &state.nodes {
            world.set_disk(&spec.id, &spec.files);
        }
        let mut commands: Vec<(usize, &CommandSpec)> = state.commands.iter().enumerate().collect();
        commands.sort_by_key(|(_, c)| parse_time(&c.creation_time).ok());
        for (i, spec) in commands {
            match world.invocation_from_spec(spec) {
                Ok(invocation) => world.insert_invocation(invocation),
                Err(e) => problems.push(format!("/commands/{i}: {e}")),
            }
        }
        let mut seen = BTreeSet::new();
        for id in world
            .deliveries
            .iter()
            .map(|d| &d.invoke_id)
            .chain(world.invocations.iter().map(|i| &i.invoke_id))
        {
            if !seen.insert(id.clone()) {
                problems.push(format!("invoke id `{id}` is used by two records"));
            }
        }
        if problems.is_empty() {
            Ok(world)
        } else {
            Err(problems)
        }
    }

    /// Applies a state file's `files:` to a machine's disk.
    fn set_disk(&mut self, id: &str, files: &[FileSpec]) {
        let Some(machine) = self.machines.get_mut(id) else {
            return;
        };
        for file in files {
            match file {
                FileSpec::Path(path) => {
                    machine
                        .files
                        .entry(path.clone())
                        .or_insert_with(|| Arc::new(DiskFile::placeholder()));
                }
                FileSpec::Absent(spec) => {
                    machine.files.remove(&spec.path);
                }
                FileSpec::Present(spec) => {
                    machine.files.insert(
                        spec.path.clone(),
                        Arc::new(DiskFile {
                            mode: spec.mode.clone(),
                            owner: spec.owner.clone(),
                            group: spec.group.clone(),
                            content: spec.content.clone().into_bytes(),
                        }),
                    );
                }
            }
        }
    }

    pub fn add_machine(&mut self, machine: Machine) {
        self.machines.insert(machine.id.clone(), machine);
    }

    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// A fresh id that looks like the cloud's (`f-hz0jdfwd9f1a2b`).
    pub fn new_id(&mut self, prefix: &str) -> String {
        let seq = self.next_seq();
        format!("{prefix}-{}", id_suffix(seq, prefix))
    }

    /// Adds a delivery; a successful one leaves its file on the machines.
    pub fn insert_delivery(&mut self, delivery: Delivery) {
        let path = join_path(&delivery.target_dir, &delivery.name);
        let written = Arc::new(DiskFile {
            mode: delivery.mode.clone(),
            owner: delivery.owner.clone(),
            group: delivery.group.clone(),
            content: delivery.decoded_content(),
        });
        for target in &delivery.targets {
            // A machine a record was delivered to exists, unless the record
            // says it does not.
            if matches!(
                target.outcome.error_code.as_str(),
                "InstanceNotExists" | "NodeNotExists"
            ) {
                continue;
            }
            let machine = self.machine_or_running(&target.id, delivery.product, &delivery.region);
            if target.outcome.status == "Success" {
                machine.files.insert(path.clone(), Arc::clone(&written));
            }
        }
        self.deliveries.insert(delivery);
    }

    pub fn insert_invocation(&mut self, invocation: Invocation) {
        for target in &invocation.targets {
            if target.run.outcome.error_code == "InstanceNotExists" {
                continue;
            }
            self.machine_or_running(&target.id, Provider::Ecs, &invocation.region);
        }
        self.invocations.insert(invocation);
    }

    /// The machine `id`, created running if unknown (without copying the id
    /// for machines that exist: a fleet has half a million targets).
    fn machine_or_running(&mut self, id: &str, product: Provider, region: &str) -> &mut Machine {
        if !self.machines.contains_key(id) {
            self.add_machine(Machine::running(id, product, region));
        }
        self.machines.get_mut(id).expect("just added")
    }

    fn delivery_from_spec(&mut self, spec: &DeliverySpec) -> Result<Delivery, String> {
        let product = match spec.product {
            ProductSpec::Ecs => Provider::Ecs,
            ProductSpec::Eflo => Provider::Eflo,
        };
        let created =
            Stamp::written(&spec.creation_time).map_err(|e| format!("creation_time: {e}"))?;
        let seq = self.next_seq();
        let invoke_id = match &spec.invoke_id {
            Some(id) => id.clone(),
            None => format!("{}-{}", product.file_invoke_prefix(), id_suffix(seq, "f")),
        };
        let targets = spec.targets.iter().map(target_from_spec).collect();
        Ok(Delivery {
            seq,
            product,
            invoke_id,
            region: self.region_or_default(spec.region.as_ref()),
            name: spec.name.clone(),
            description: spec.description.clone(),
            content: spec.content.clone(),
            content_type: spec.content_type.clone(),
            target_dir: spec.target_dir.clone(),
            mode: spec.mode.clone(),
            owner: spec.owner.clone(),
            group: spec.group.clone(),
            overwrite: spec.overwrite,
            resource_group_id: spec.resource_group_id.clone(),
            tags: tags_of(&spec.tags),
            created,
            status_override: spec.status.clone(),
            target_count: spec.target_count,
            targets,
        })
    }

    fn invocation_from_spec(&mut self, spec: &CommandSpec) -> Result<Invocation, String> {
        let created =
            Stamp::written(&spec.creation_time).map_err(|e| format!("creation_time: {e}"))?;
        let seq = self.next_seq();
        Ok(Invocation {
            seq,
            invoke_id: spec
                .invoke_id
                .clone()
                .unwrap_or_else(|| format!("t-{}", id_suffix(seq, "t"))),
            command_id: spec
                .command_id
                .clone()
                .unwrap_or_else(|| format!("c-{}", id_suffix(seq, "c"))),
            region: self.region_or_default(spec.region.as_ref()),
            name: spec.name.clone().unwrap_or_default(),
            command_type: spec.command_type.clone(),
            content: spec.content.clone(),
            repeat_mode: spec.repeat_mode.clone(),
            username: spec.username.clone(),
            resource_group_id: spec.resource_group_id.clone(),
            tags: tags_of(&spec.tags),
            created,
            status_override: spec.status.clone(),
            targets: spec
                .targets
                .iter()
                .map(|t| CommandTarget {
                    id: t.id.clone(),
                    run: run_from_spec(t),
                    history: t.history.iter().map(run_from_spec).collect(),
                })
                .collect(),
        })
    }

    /// Every region the world's machines and records name.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.default_region.as_str())
            .chain(self.machines.values().map(|m| m.region.as_str()))
            .chain(self.deliveries.iter().map(|d| d.region.as_str()))
            .chain(self.invocations.iter().map(|i| i.region.as_str()))
    }

    /// A record's region, or the world's when it names none.
    fn region_or_default(&self, region: Option<&String>) -> String {
        region.unwrap_or(&self.default_region).clone()
    }

    /// The first rule matching the command text decides how it ends.
    pub fn run_rule(&self, content: &str) -> (i64, String) {
        self.rules
            .iter()
            .find(|rule| rule.pattern.is_match(content))
            .map_or((0, String::new()), |rule| {
                (rule.exit_code, rule.output.clone())
            })
    }

    /// Drops records older than the retention window (keeps memory bounded
    /// for long benchmark runs; reads filter by the same rule).
    pub fn prune(&mut self, now: Timestamp, retention: Duration) {
        let cutoff = retention_cutoff(now, retention).as_nanosecond();
        self.deliveries.prune(cutoff);
        self.invocations.prune(cutoff);
    }
}

pub fn retention_cutoff(now: Timestamp, retention: Duration) -> Timestamp {
    now.saturating_sub(SignedDuration::try_from(retention).unwrap_or(SignedDuration::MAX))
        .expect("in range")
}

fn tags_of(tags: &BTreeMap<String, String>) -> Vec<(String, String)> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn target_from_spec(spec: &TargetSpec) -> DeliveryTarget {
    let status = spec.status.clone().unwrap_or_else(|| "Success".to_owned());
    DeliveryTarget {
        id: spec.id.clone(),
        outcome: Outcome {
            status,
            error_code: spec.error_code.clone().unwrap_or_default(),
            error_info: spec.error_info.clone().unwrap_or_default(),
        },
        times: PinnedTimes {
            creation: spec.creation_time.clone(),
            start: spec.start_time.clone(),
            finish: spec.finish_time.clone(),
            update: spec.update_time.clone(),
        },
    }
}

fn run_from_spec(spec: &CommandTargetSpec) -> CommandRun {
    let exit_code = spec.exit_code.unwrap_or(0);
    let ended = Outcome::of_exit_code(exit_code);
    CommandRun {
        outcome: Outcome {
            status: spec.status.clone().unwrap_or(ended.status),
            error_code: spec.error_code.clone().unwrap_or(ended.error_code),
            error_info: spec.error_info.clone().unwrap_or(ended.error_info),
        },
        record_status: spec.invoke_record_status.clone(),
        exit_code,
        output: spec.output.clone(),
        dropped: spec.dropped,
        repeats: spec.repeats,
        username: spec.username.clone(),
        start_time: spec.start_time.clone(),
        finished_time: spec.finished_time.clone(),
        stop_time: spec.stop_time.clone(),
    }
}

/// 14 lowercase base-36 characters derived from a sequence number: ids look
/// like the cloud's and are the same on every run.
fn id_suffix(seq: u64, salt: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{salt}:{seq}").as_bytes());
    let mut n = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"));
    let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(14);
    for _ in 0..14 {
        out.push(alphabet[(n % 36) as usize] as char);
        n /= 36;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_shaped_like_the_clouds() {
        let mut a = World::new(DEFAULT_REGION);
        let mut b = World::new(DEFAULT_REGION);
        let (x, y) = (a.new_id("f"), b.new_id("f"));
        assert_eq!(x, y);
        assert!(x.starts_with("f-") && x.len() == 16, "{x}");
        assert_ne!(a.new_id("f"), x);
    }
}
