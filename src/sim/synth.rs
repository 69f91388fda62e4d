//! `--synthesize`: a large, deterministic fleet for benchmarks and paging
//! tests, generated from a seed and a few sizes instead of a state file.
//!
//! Every file is sent to every instance in SendFile-sized batches (50
//! instances per call by default), so 10,000 instances × 50 files make
//! 10,000 tasks and 500,000 per-instance results. A chosen fraction of the
//! per-instance results fail and a chosen fraction of the tasks drift (mode,
//! owner or content differ from the canonical file), so a checker has
//! something to find. Names are predictable (docs/simulator.md) so a
//! benchmark manifest can be written against them.

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

use super::delivery::{Delivery, DeliveryTarget, PinnedTimes};
use super::invocation::{CommandRun, CommandTarget, Invocation};
use super::records::{Outcome, Stamp};
use super::regions::DEFAULT_REGION;
use super::store::{Machine, World};
use crate::protocol::Provider;

/// The sizes and rates of a synthetic fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpec {
    pub seed: u64,
    pub instances: u64,
    pub files: u64,
    pub commands: u64,
    /// Instances per SendFile/RunCommand call (1 to 50).
    pub per_call: u64,
    /// Fraction of per-instance results that fail.
    pub failure_rate: f64,
    /// Fraction of tasks whose mode, owner or content drifted.
    pub drift_rate: f64,
    pub region: String,
}

impl Default for SynthSpec {
    fn default() -> Self {
        Self {
            seed: 0,
            instances: 1000,
            files: 10,
            commands: 0,
            per_call: 50,
            failure_rate: 0.0,
            drift_rate: 0.0,
            region: DEFAULT_REGION.to_owned(),
        }
    }
}

/// The id of synthetic instance `n` (0-based).
pub fn instance_id(n: u64) -> String {
    format!("i-sim{n:015}")
}

/// The canonical name, directory and content of synthetic file `k`.
pub fn file_name(k: u64) -> String {
    format!("app-{k:02}.conf")
}

pub const FILE_DIR: &str = "/etc/shipcheck";

pub fn file_content(k: u64) -> String {
    format!("# synthetic file {k}\nkey = value-{k}\n")
}

const FAILURES: &[(&str, &str, &str)] = &[
    ("Failed", "FileAlreadyExists", "File already exists"),
    (
        "Aborted",
        "ClientNotRunning",
        "the aliyun service is not running on the instance",
    ),
    (
        "Aborted",
        "InstanceNotRunning",
        "the instance is not running when create task",
    ),
    (
        "Timeout",
        "DeliveryTimeout",
        "the command delivery has been timeout",
    ),
    ("Failed", "AccountNotExists", "Owner not exists"),
];

/// Adds the synthetic fleet to `world`; every task is older than an hour at
/// `now`, so all are final.
pub fn populate(world: &mut World, spec: &SynthSpec, now: Timestamp) {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let per_call = spec.per_call.clamp(1, 50);
    let ids: Vec<String> = (0..spec.instances).map(instance_id).collect();
    for id in &ids {
        world.add_machine(Machine::running(id, Provider::Ecs, &spec.region));
    }
    let batches: Vec<&[String]> = ids.chunks(per_call as usize).collect();
    let base = now
        .saturating_sub(SignedDuration::from_hours(1))
        .expect("in range");
    // Each call a second older than the one generated before it.
    let created = |age: i64| {
        Stamp::made(
            base.saturating_sub(SignedDuration::from_secs(age))
                .expect("in range"),
        )
    };
    let mut age = 0i64;
    // Generated newest first, stored oldest first: listings append then.
    let mut deliveries = Vec::new();
    let mut invocations = Vec::new();
    for k in 0..spec.files {
        for batch in &batches {
            age += 1;
            let (mut mode, mut owner, mut content) =
                ("0644".to_owned(), "root".to_owned(), file_content(k));
            if rng.random::<f64>() < spec.drift_rate {
                match rng.random_range(0..3u8) {
                    0 => mode = "0600".to_owned(),
                    1 => owner = "nobody".to_owned(),
                    _ => content.push_str("# drifted\n"),
                }
            }
            let targets = batch
                .iter()
                .map(|id| DeliveryTarget {
                    id: id.clone(),
                    outcome: failure(&mut rng, spec.failure_rate),
                    times: PinnedTimes::default(),
                })
                .collect();
            let seq = world.next_seq();
            let invoke_id = world.new_id("f");
            deliveries.push(Delivery {
                seq,
                product: Provider::Ecs,
                invoke_id,
                region: spec.region.clone(),
                name: file_name(k),
                description: format!("synthetic file {k}"),
                content,
                content_type: "PlainText".to_owned(),
                target_dir: FILE_DIR.to_owned(),
                mode,
                owner,
                group: "root".to_owned(),
                overwrite: true,
                resource_group_id: None,
                tags: Vec::new(),
                created: created(age),
                status_override: None,
                target_count: None,
                targets,
            });
        }
    }
    for c in 0..spec.commands {
        for batch in &batches {
            age += 1;
            let targets = batch
                .iter()
                .map(|id| {
                    let failed = rng.random::<f64>() < spec.failure_rate;
                    let (exit_code, output) = if failed {
                        (1, format!("reload {c} failed\n"))
                    } else {
                        (0, format!("reloaded {c}\n"))
                    };
                    CommandTarget {
                        id: id.clone(),
                        run: CommandRun::new(Outcome::of_exit_code(exit_code), exit_code, output),
                        history: Vec::new(),
                    }
                })
                .collect();
            let seq = world.next_seq();
            let invoke_id = world.new_id("t");
            invocations.push(Invocation {
                seq,
                invoke_id,
                command_id: format!("c-sim{c:010}"),
                region: spec.region.clone(),
                name: format!("reload-{c}"),
                command_type: "RunShellScript".to_owned(),
                content: format!("systemctl reload app-{c}"),
                repeat_mode: "Once".to_owned(),
                username: Some("root".to_owned()),
                resource_group_id: None,
                tags: Vec::new(),
                created: created(age),
                status_override: None,
                targets,
            });
        }
    }
    for delivery in deliveries.into_iter().rev() {
        world.insert_delivery(delivery);
    }
    for invocation in invocations.into_iter().rev() {
        world.insert_invocation(invocation);
    }
}

fn failure(rng: &mut StdRng, rate: f64) -> Outcome {
    if rng.random::<f64>() < rate {
        let (status, code, info) = FAILURES[rng.random_range(0..FAILURES.len())];
        Outcome::failure(status, code, info)
    } else {
        Outcome::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(seed: u64) -> World {
        let mut world = World::new("cn-hangzhou");
        let spec = SynthSpec {
            seed,
            instances: 120,
            files: 3,
            commands: 1,
            failure_rate: 0.1,
            drift_rate: 0.2,
            ..SynthSpec::default()
        };
        populate(&mut world, &spec, "2026-01-01T00:00:00Z".parse().unwrap());
        world
    }

    fn fingerprint(world: &World) -> Vec<String> {
        world
            .deliveries
            .iter()
            .map(|d| {
                let failed: Vec<_> = d
                    .targets
                    .iter()
                    .filter(|t| t.outcome.status != "Success")
                    .map(|t| t.id.as_str())
                    .collect();
                format!("{} {} {} {:?}", d.invoke_id, d.mode, d.owner, failed)
            })
            .collect()
    }

    #[test]
    fn the_same_seed_makes_the_same_fleet() {
        assert_eq!(fingerprint(&fleet(1)), fingerprint(&fleet(1)));
        assert_ne!(fingerprint(&fleet(1)), fingerprint(&fleet(2)));
    }

    #[test]
    fn sizes_are_respected() {
        let world = fleet(1);
        // 120 instances in batches of 50: 3 calls per file.
        assert_eq!(world.deliveries.len(), 9);
        assert_eq!(world.invocations.len(), 3);
        let results: usize = world.deliveries.iter().map(|d| d.targets.len()).sum();
        assert_eq!(results, 360);
        assert_eq!(world.machines.len(), 120);
    }
}
