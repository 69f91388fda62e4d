//! RunCommand invocations: the record, what a reader sees of each run at an
//! instant, and how the tables list and find invocations, whole and one
//! item per instance.

use std::sync::Arc;

use jiff::Timestamp;

use super::lifecycle::{Lifecycle, Phase, overall};
use super::listing::SortKey;
use super::records::{Outcome, Stamp, TimeTexts};
use super::tables::{Lookup, Record, Table};

/// Output beyond this is dropped and counted in `Dropped` (24 KB).
pub const OUTPUT_LIMIT: usize = 24 * 1024;

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

impl CommandRun {
    /// A run that ended with `outcome`; its times follow the lifecycle.
    pub fn new(outcome: Outcome, exit_code: i64, output: String) -> Self {
        Self {
            outcome,
            record_status: None,
            exit_code,
            output,
            dropped: 0,
            repeats: None,
            username: None,
            start_time: None,
            finished_time: None,
            stop_time: None,
        }
    }
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
        lc.status_at(self.created.at, now, &run.outcome.status)
    }

    /// The invocation's overall status at `now` from its latest runs (or the
    /// state's override).
    pub fn overall_at(&self, now: Timestamp, lc: &Lifecycle) -> String {
        let statuses = self
            .targets
            .iter()
            .map(|t| self.run_status_at(&t.run, now, lc));
        self.status_override
            .clone()
            .unwrap_or_else(|| overall(statuses).to_owned())
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

/// The positions of an invocation's indexed fields in a `Lookup`.
const COMMAND: usize = 0;
const INSTANCE: usize = 1;

/// Sub-positions of per-instance command results: the instance's index in
/// the high bits, the run (0 the latest, then older ones) in the low.
const HISTORY_SLOTS: u64 = 1 << 20;

/// Invocations are listed per region, whole (DescribeInvocations) and one
/// item per instance (DescribeInvocationResults), and found by command and
/// instance.
impl Record for Invocation {
    type Scope = String;

    fn key(&self) -> SortKey {
        SortKey::record(self.created.at.as_nanosecond(), self.seq)
    }

    fn invoke_id(&self) -> &str {
        &self.invoke_id
    }

    fn scope(&self) -> Self::Scope {
        self.region.clone()
    }

    fn index(&self, add: &mut dyn FnMut(usize, &str)) {
        add(COMMAND, &self.command_id);
        for target in &self.targets {
            add(INSTANCE, &target.id);
        }
    }

    fn index_items(&self, add: &mut dyn FnMut(u64, &[&str])) {
        for (index, target) in self.targets.iter().enumerate() {
            add(result_sub(index, 0), &[&self.command_id, &target.id]);
        }
    }

    fn item_subs(&self, history: bool) -> Vec<u64> {
        let mut subs = Vec::new();
        for (index, target) in self.targets.iter().enumerate() {
            let runs = if history { 1 + target.history.len() } else { 1 };
            subs.extend((0..runs).map(|run| result_sub(index, run)));
        }
        subs
    }
}

/// The sub-position of run `run` (0 the latest, then older ones) on
/// instance `index`.
fn result_sub(index: usize, run: usize) -> u64 {
    index as u64 * HISTORY_SLOTS + run as u64
}

/// What DescribeInvocations and DescribeInvocationResults can find by index.
#[derive(Debug, Clone, Copy)]
pub struct InvocationLookup<'q> {
    pub region: &'q str,
    pub invoke_id: Option<&'q str>,
    pub command_id: Option<&'q str>,
    pub instance_id: Option<&'q str>,
}

impl<'q> From<InvocationLookup<'q>> for Lookup<'q, String> {
    fn from(q: InvocationLookup<'q>) -> Self {
        Self {
            scope: Some(q.region.to_owned()),
            invoke_id: q.invoke_id,
            fields: vec![q.command_id, q.instance_id],
        }
    }
}

/// One per-instance item of DescribeInvocationResults.
#[derive(Debug, Clone)]
pub struct ResultRef {
    pub invocation: Arc<Invocation>,
    index: usize,
    run: usize,
}

impl ResultRef {
    pub fn target(&self) -> &CommandTarget {
        &self.invocation.targets[self.index]
    }

    pub fn run(&self) -> &CommandRun {
        let target = self.target();
        match self.run {
            0 => &target.run,
            n => &target.history[target.history.len() - n],
        }
    }
}

impl Table<Invocation> {
    /// The run an item key names.
    pub fn result(&self, key: SortKey) -> ResultRef {
        ResultRef {
            invocation: self.get(key).clone(),
            index: (key.sub / HISTORY_SLOTS) as usize,
            run: (key.sub % HISTORY_SLOTS) as usize,
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
    use jiff::SignedDuration;

    use super::*;

    const REGIONS: [&str; 2] = ["cn-hangzhou", "cn-beijing"];
    const MACHINES: [&str; 4] = ["i-1", "i-2", "i-3", "i-4"];

    fn at(minutes: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_mins(minutes)
    }

    #[test]
    fn long_output_is_cut_at_24k() {
        let (kept, dropped) = limit_output("x".repeat(OUTPUT_LIMIT + 10));
        assert_eq!(kept.len(), OUTPUT_LIMIT);
        assert_eq!(dropped, 10);
    }

    fn invocation(seq: u64, created: i64) -> Invocation {
        let n = seq as usize;
        let run = |output: &str| CommandRun::new(Outcome::success(), 0, output.to_owned());
        let targets = [MACHINES[n % 4], MACHINES[(n * 3) % 4], MACHINES[n % 2]]
            .into_iter()
            .enumerate()
            .map(|(i, id)| CommandTarget {
                id: id.to_owned(),
                run: run("latest"),
                history: (0..(n + i) % 3).map(|h| run(&format!("run {h}"))).collect(),
            })
            .collect();
        Invocation {
            seq,
            invoke_id: format!("t-{}", n % 40),
            command_id: format!("c-{}", n % 5),
            region: REGIONS[(n / 2) % 2].to_owned(),
            name: String::new(),
            command_type: "RunShellScript".to_owned(),
            content: "true".to_owned(),
            repeat_mode: "Once".to_owned(),
            username: None,
            resource_group_id: None,
            tags: Vec::new(),
            created: Stamp::made(at(created)),
            status_override: None,
            targets,
        }
    }

    fn invocation_lookups() -> Vec<InvocationLookup<'static>> {
        let mut all = Vec::new();
        for region in REGIONS {
            for invoke_id in [None, Some("t-3"), Some("t-none")] {
                for command_id in [None, Some("c-1"), Some("c-none")] {
                    for instance_id in MACHINES.map(Some).into_iter().chain([None]) {
                        all.push(InvocationLookup {
                            region,
                            invoke_id,
                            command_id,
                            instance_id,
                        });
                    }
                }
            }
        }
        all
    }

    fn selects(inv: &Invocation, q: &InvocationLookup<'_>, cutoff_ns: i128) -> bool {
        inv.region == q.region
            && inv.created.at.as_nanosecond() >= cutoff_ns
            && q.invoke_id.is_none_or(|id| inv.invoke_id == id)
            && q.command_id.is_none_or(|id| inv.command_id == id)
    }

    /// Both listings (whole invocations, per-instance runs) against a pass
    /// over every record, in the order the actions list them.
    fn check_invocations(table: &Table<Invocation>, cutoff_ns: i128) {
        let mut newest_first: Vec<&Invocation> = table.iter().collect();
        newest_first.reverse();
        for q in invocation_lookups() {
            let want: Vec<u64> = newest_first
                .iter()
                .filter(|inv| {
                    selects(inv, &q, cutoff_ns)
                        && q.instance_id
                            .is_none_or(|id| inv.targets.iter().any(|t| t.id == id))
                })
                .map(|inv| inv.seq)
                .collect();
            let candidates = table.candidates(&q.into());
            let got: Vec<u64> = candidates
                .listing
                .since(cutoff_ns)
                .iter()
                .filter(|k| {
                    candidates.exact || {
                        let inv = table.get(*k);
                        selects(inv, &q, cutoff_ns)
                            && q.instance_id
                                .is_none_or(|id| inv.targets.iter().any(|t| t.id == id))
                    }
                })
                .map(|k| k.seq)
                .collect();
            assert_eq!(got, want, "{q:?} (exact: {})", candidates.exact);

            for include_history in [false, true] {
                let history = include_history && q.invoke_id.is_some();
                let mut want: Vec<(u64, String, String)> = Vec::new();
                for inv in newest_first
                    .iter()
                    .filter(|inv| selects(inv, &q, cutoff_ns))
                {
                    for target in &inv.targets {
                        if q.instance_id.is_some_and(|id| target.id != id) {
                            continue;
                        }
                        let older = target.history.iter().rev().filter(|_| history);
                        for run in std::iter::once(&target.run).chain(older) {
                            want.push((inv.seq, target.id.clone(), run.output.clone()));
                        }
                    }
                }
                let candidates = table.item_candidates(&q.into(), include_history);
                let got: Vec<(u64, String, String)> = candidates
                    .listing
                    .since(cutoff_ns)
                    .iter()
                    .map(|k| table.result(k))
                    .filter(|r| {
                        candidates.exact
                            || (selects(&r.invocation, &q, cutoff_ns)
                                && q.instance_id.is_none_or(|id| r.target().id == id))
                    })
                    .map(|r| {
                        (
                            r.invocation.seq,
                            r.target().id.clone(),
                            r.run().output.clone(),
                        )
                    })
                    .collect();
                assert_eq!(got, want, "{q:?} history {include_history}");
            }
        }
    }

    #[test]
    fn invocations_and_their_runs_are_indexed_the_same_way() {
        let mut table = Table::<Invocation>::default();
        for seq in 1..=90u64 {
            table.insert(invocation(seq, ((seq * 37) % 100) as i64));
        }
        check_invocations(&table, i128::MIN);
        let cutoff = at(50).as_nanosecond();
        check_invocations(&table, cutoff);
        table.prune(cutoff);
        assert!(
            table
                .iter()
                .all(|inv| inv.created.at.as_nanosecond() >= cutoff)
        );
        check_invocations(&table, i128::MIN);
        table.assert_kept_since(cutoff);
    }
}
