//! The simulated world at run time: machines, SendFile tasks, RunCommand
//! invocations, and the rules that decide their outcomes.
//!
//! Records keep their *final* outcome and creation time; what a reader sees
//! at a given instant (Pending, Running, final; which times are set) is
//! derived by `lifecycle`, and retention is applied when reading. The
//! records themselves live in `tables`, in listing order and indexed.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use regex::Regex;

use super::lifecycle::{Lifecycle, Phase};
use super::state::{
    AgentStatus, CommandSpec, CommandTargetSpec, DeliverySpec, MachineSpec, MachineStatus,
    ProductSpec, StateFile, TargetSpec,
};
use super::tables::{Deliveries, Invocations};
use crate::protocol::time::parse_response_time;
use crate::protocol::{Provider, join_path};

/// The region of everything that names none.
pub const DEFAULT_REGION: &str = "cn-hangzhou";

/// Output beyond this is dropped and counted in `Dropped` (24 KB).
pub const OUTPUT_LIMIT: usize = 24 * 1024;

/// A time as the state wrote it (echoed verbatim) or as the simulator made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub at: Timestamp,
    pub text: Option<String>,
}

impl Stamp {
    pub fn made(at: Timestamp) -> Self {
        Self { at, text: None }
    }

    /// Parses an RFC 3339 time; surrounding whitespace is ignored for the
    /// instant but kept for the echo (the eflo sample has a trailing newline).
    pub fn written(text: &str) -> Result<Self, String> {
        let at = parse_time(text)?;
        Ok(Self {
            at,
            text: Some(text.to_owned()),
        })
    }

    pub fn show(&self, product: Provider) -> String {
        self.text
            .clone()
            .unwrap_or_else(|| product.format_time(self.at))
    }
}

/// Times as one product writes them, each instant formatted once: the
/// targets of a task share their start and finish times, and formatting
/// them is most of what rendering a large page costs.
#[derive(Debug)]
pub struct TimeTexts {
    product: Provider,
    seen: Vec<(Timestamp, String)>,
}

impl TimeTexts {
    pub fn new(product: Provider) -> Self {
        Self {
            product,
            seen: Vec::new(),
        }
    }

    pub fn format(&mut self, at: Timestamp) -> String {
        if let Some((_, text)) = self.seen.iter().find(|(seen, _)| *seen == at) {
            return text.clone();
        }
        let text = self.product.format_time(at);
        self.seen.push((at, text.clone()));
        text
    }

    /// A stamp as written, or formatted.
    pub fn show(&mut self, stamp: &Stamp) -> String {
        match &stamp.text {
            Some(text) => text.clone(),
            None => self.format(stamp.at),
        }
    }
}

pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    parse_response_time(text)
        .map_err(|e| format!("`{}` is not an RFC 3339 time ({e})", text.escape_debug()))
}

#[derive(Debug, Clone)]
pub struct Machine {
    pub id: String,
    pub product: Provider,
    pub region: String,
    pub status: MachineStatus,
    pub agent: AgentStatus,
    pub resource_group_id: Option<String>,
    pub users: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    pub files: BTreeSet<String>,
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
            users: names(&spec.users),
            groups: names(&spec.groups),
            files: spec.files.iter().cloned().collect(),
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
            users: BTreeSet::from(["root".to_owned()]),
            groups: BTreeSet::from(["root".to_owned()]),
            files: BTreeSet::new(),
        }
    }
}

/// A per-target outcome: final status, error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: String,
    pub error_code: String,
    pub error_info: String,
}

impl Outcome {
    pub fn success() -> Self {
        Self {
            status: "Success".to_owned(),
            error_code: String::new(),
            error_info: String::new(),
        }
    }

    pub fn failure(status: &str, code: &str, info: &str) -> Self {
        Self {
            status: status.to_owned(),
            error_code: code.to_owned(),
            error_info: info.to_owned(),
        }
    }
}

/// Times a state pinned for one target; unset ones follow the lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinnedTimes {
    pub creation: Option<String>,
    pub start: Option<String>,
    pub finish: Option<String>,
    pub update: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DeliveryTarget {
    pub id: String,
    pub outcome: Outcome,
    pub times: PinnedTimes,
}

/// A SendFile task.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub seq: u64,
    pub product: Provider,
    pub invoke_id: String,
    pub region: String,
    pub name: String,
    pub description: String,
    pub content: String,
    pub content_type: String,
    pub target_dir: String,
    pub mode: String,
    pub owner: String,
    pub group: String,
    pub overwrite: bool,
    pub resource_group_id: Option<String>,
    pub tags: Vec<(String, String)>,
    pub created: Stamp,
    pub status_override: Option<String>,
    pub target_count: Option<u64>,
    pub targets: Vec<DeliveryTarget>,
}

/// What a reader sees of one target at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetView {
    pub status: String,
    pub error_code: String,
    pub error_info: String,
    pub creation_time: String,
    pub start_time: String,
    pub finish_time: String,
    pub update_time: String,
}

impl Delivery {
    pub fn target_view(
        &self,
        target: &DeliveryTarget,
        now: Timestamp,
        lc: &Lifecycle,
        texts: &mut TimeTexts,
    ) -> TargetView {
        let phase = lc.phase(self.created.at, now, &target.outcome.status);
        let created = texts.show(&self.created);
        let mut fmt = |t: Timestamp| texts.format(t);
        let (status, error_code, error_info, start, finish, update) = match phase {
            Phase::Pending => (
                "Pending".to_owned(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                created.clone(),
            ),
            Phase::Running { started } => (
                "Running".to_owned(),
                String::new(),
                String::new(),
                fmt(started),
                String::new(),
                fmt(started),
            ),
            Phase::Final { started, finished } => (
                target.outcome.status.clone(),
                target.outcome.error_code.clone(),
                target.outcome.error_info.clone(),
                started.map(&mut fmt).unwrap_or_default(),
                fmt(finished),
                fmt(finished),
            ),
        };
        let pinned = &target.times;
        TargetView {
            status,
            error_code,
            error_info,
            creation_time: pinned.creation.clone().unwrap_or(created),
            start_time: pinned.start.clone().unwrap_or(start),
            finish_time: pinned.finish.clone().unwrap_or(finish),
            update_time: pinned.update.clone().unwrap_or(update),
        }
    }

    /// A target's status at `now`, without rendering anything.
    pub fn status_at<'a>(
        &self,
        target: &'a DeliveryTarget,
        now: Timestamp,
        lc: &Lifecycle,
    ) -> &'a str {
        match lc.phase(self.created.at, now, &target.outcome.status) {
            Phase::Pending => "Pending",
            Phase::Running { .. } => "Running",
            Phase::Final { .. } => &target.outcome.status,
        }
    }

    /// The task's overall status at `now` (or the state's override).
    pub fn overall_at(&self, now: Timestamp, lc: &Lifecycle) -> String {
        self.status_override.clone().unwrap_or_else(|| {
            super::lifecycle::overall(self.targets.iter().map(|t| self.status_at(t, now, lc)))
                .to_owned()
        })
    }

    pub fn target_count(&self) -> u64 {
        self.target_count.unwrap_or(self.targets.len() as u64)
    }
}

/// One run of a command on one machine.
#[derive(Debug, Clone)]
pub struct CommandRun {
    pub outcome: Outcome,
    pub record_status: Option<String>,
    pub exit_code: i64,
    pub output: String,
    pub dropped: u64,
    pub repeats: Option<u64>,
    pub username: Option<String>,
    pub start_time: Option<String>,
    pub finished_time: Option<String>,
    pub stop_time: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CommandTarget {
    pub id: String,
    pub run: CommandRun,
    /// Earlier runs of a recurring invocation, oldest first.
    pub history: Vec<CommandRun>,
}

/// A RunCommand invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub seq: u64,
    pub invoke_id: String,
    pub command_id: String,
    pub region: String,
    pub name: String,
    pub command_type: String,
    pub content: String,
    pub repeat_mode: String,
    pub username: Option<String>,
    pub resource_group_id: Option<String>,
    pub tags: Vec<(String, String)>,
    pub created: Stamp,
    pub status_override: Option<String>,
    pub targets: Vec<CommandTarget>,
}

/// What a reader sees of one command run at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunView {
    pub status: String,
    pub record_status: String,
    pub exit_code: i64,
    pub output: String,
    pub dropped: u64,
    pub repeats: u64,
    pub error_code: String,
    pub error_info: String,
    pub start_time: String,
    pub finished_time: String,
    pub stop_time: String,
    pub username: Option<String>,
}

impl Invocation {
    /// A run's status at `now`, without rendering anything.
    pub fn run_status_at<'a>(
        &self,
        run: &'a CommandRun,
        now: Timestamp,
        lc: &Lifecycle,
    ) -> &'a str {
        match lc.phase(self.created.at, now, &run.outcome.status) {
            Phase::Pending => "Pending",
            Phase::Running { .. } => "Running",
            Phase::Final { .. } => &run.outcome.status,
        }
    }

    pub fn run_view(
        &self,
        run: &CommandRun,
        now: Timestamp,
        lc: &Lifecycle,
        texts: &mut TimeTexts,
    ) -> RunView {
        let mut fmt = |t: Timestamp| texts.format(t);
        let phase = lc.phase(self.created.at, now, &run.outcome.status);
        let (status, start, finish, done) = match phase {
            Phase::Pending => ("Pending".to_owned(), String::new(), String::new(), false),
            Phase::Running { started } => {
                ("Running".to_owned(), fmt(started), String::new(), false)
            }
            Phase::Final { started, finished } => (
                run.outcome.status.clone(),
                started.map(&mut fmt).unwrap_or_default(),
                fmt(finished),
                true,
            ),
        };
        let record_status = run
            .record_status
            .clone()
            .unwrap_or_else(|| record_status_of(&status).to_owned());
        RunView {
            record_status,
            exit_code: if done { run.exit_code } else { 0 },
            output: if done {
                run.output.clone()
            } else {
                String::new()
            },
            dropped: if done { run.dropped } else { 0 },
            repeats: run.repeats.unwrap_or(u64::from(done)),
            error_code: if done {
                run.outcome.error_code.clone()
            } else {
                String::new()
            },
            error_info: if done {
                run.outcome.error_info.clone()
            } else {
                String::new()
            },
            start_time: run.start_time.clone().unwrap_or(start),
            finished_time: run.finished_time.clone().unwrap_or(finish),
            stop_time: run.stop_time.clone().unwrap_or_default(),
            username: run.username.clone().or_else(|| self.username.clone()),
            status,
        }
    }
}

/// `InvokeRecordStatus` from a per-instance status.
pub fn record_status_of(status: &str) -> &'static str {
    match status {
        "Pending" | "Running" | "Scheduled" => "Running",
        "Success" | "Failed" => "Finished",
        "Stopping" | "Terminated" | "Cancelled" => "Stopped",
        _ => "Failed",
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
    pub deliveries: Deliveries,
    pub invocations: Invocations,
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
                machine.files.insert(path.clone());
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
            region: spec
                .region
                .clone()
                .unwrap_or_else(|| self.default_region.clone()),
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
            tags: spec
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
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
            region: spec
                .region
                .clone()
                .unwrap_or_else(|| self.default_region.clone()),
            name: spec.name.clone().unwrap_or_default(),
            command_type: spec.command_type.clone(),
            content: spec.content.clone(),
            repeat_mode: spec.repeat_mode.clone(),
            username: spec.username.clone(),
            resource_group_id: spec.resource_group_id.clone(),
            tags: spec
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
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
    let default_status = if exit_code == 0 { "Success" } else { "Failed" };
    let (error_code, error_info) = if exit_code != 0 {
        (
            "ExitCodeNonzero".to_owned(),
            "the command execution exit code is not zero.".to_owned(),
        )
    } else {
        (String::new(), String::new())
    };
    CommandRun {
        outcome: Outcome {
            status: spec
                .status
                .clone()
                .unwrap_or_else(|| default_status.to_owned()),
            error_code: spec.error_code.clone().unwrap_or(error_code),
            error_info: spec.error_info.clone().unwrap_or(error_info),
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

/// Cuts an output to the 24 KB the API keeps; returns what was dropped.
pub fn limit_output(output: String) -> (String, u64) {
    if output.len() <= OUTPUT_LIMIT {
        return (output, 0);
    }
    let mut cut = OUTPUT_LIMIT;
    while !output.is_char_boundary(cut) {
        cut -= 1;
    }
    let dropped = (output.len() - cut) as u64;
    (output[..cut].to_owned(), dropped)
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

    #[test]
    fn written_times_echo_verbatim_but_parse_trimmed() {
        let stamp = Stamp::written("2023-04-10T10:53:46.156+08:00\n").unwrap();
        assert_eq!(
            stamp.show(Provider::Eflo),
            "2023-04-10T10:53:46.156+08:00\n"
        );
        assert_eq!(stamp.at.to_string(), "2023-04-10T02:53:46.156Z");
        assert!(Stamp::written("yesterday").is_err());
    }

    #[test]
    fn long_output_is_cut_at_24k() {
        let (kept, dropped) = limit_output("x".repeat(OUTPUT_LIMIT + 10));
        assert_eq!(kept.len(), OUTPUT_LIMIT);
        assert_eq!(dropped, 10);
    }
}
