//! The world's records in listing order, with the indexes the Describe
//! actions filter by, so that a request costs an index lookup plus its page
//! rather than a pass over every record.
//!
//! Each listing holds exactly the records its key names (a product and
//! region, and perhaps a name, an instance, a command id). A request whose
//! only filter is such a key is answered from its listing alone: TotalCount
//! is the listing's length past the retention cutoff and the page is cut by
//! index arithmetic. A request with other filters starts from the smallest
//! listing that holds every possible match and tests only those records.
//!
//! Records never change once stored and are shared as `Arc`s, so a request
//! holds the world's lock only while it picks its page, then renders
//! without it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use super::listing::{EMPTY, Listing};
use super::paging::SortKey;
use super::store::{CommandRun, CommandTarget, Delivery, Invocation};
use crate::protocol::Provider;

/// Sub-positions of per-instance command results: the instance's index in
/// the high bits, the run (0 the latest, then older ones) in the low.
const HISTORY_SLOTS: u64 = 1 << 20;

/// Where to start reading for a query, and whether every record there
/// matches it (then nothing needs testing).
#[derive(Debug)]
pub struct Candidates<'a> {
    pub listing: Cow<'a, Listing>,
    pub exact: bool,
}

impl<'a> Candidates<'a> {
    fn exact(listing: Option<&'a Listing>) -> Self {
        Self {
            listing: Cow::Borrowed(listing.unwrap_or(&EMPTY)),
            exact: true,
        }
    }

    /// The shortest listing among the indexed filters a query gives, each
    /// `None` when not given and `Some(None)` when no record has that value
    /// (so nothing matches); `scope` when none is given. Exact when at most
    /// one is given.
    fn narrowest(filters: &[Option<Option<&'a Listing>>], scope: &'a Listing) -> Self {
        let given: Vec<Option<&'a Listing>> = filters.iter().flatten().copied().collect();
        match given.as_slice() {
            [] => Self::exact(Some(scope)),
            [only] => Self::exact(*only),
            _ => Self {
                listing: Cow::Borrowed(
                    given
                        .iter()
                        .map(|l| l.unwrap_or(&EMPTY))
                        .min_by_key(|l| l.len())
                        .expect("two or more"),
                ),
                exact: false,
            },
        }
    }

    fn tested(listing: Cow<'a, Listing>) -> Self {
        Self {
            listing,
            exact: false,
        }
    }
}

/// What DescribeSendFileResults can find by index.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryLookup<'q> {
    pub product: Provider,
    /// eflo queries name no region.
    pub region: Option<&'q str>,
    pub invoke_id: Option<&'q str>,
    pub name: Option<&'q str>,
    pub instance_id: Option<&'q str>,
}

/// SendFile tasks.
#[derive(Debug, Default)]
pub struct Deliveries {
    records: HashMap<u64, Arc<Delivery>>,
    /// Every task, for retention.
    all: Listing,
    scopes: HashMap<Provider, HashMap<String, DeliveryScope>>,
    /// Across products and regions: invoke ids are unique, so these are tiny.
    by_invoke_id: HashMap<String, Listing>,
}

/// The tasks of one product in one region.
#[derive(Debug, Default)]
struct DeliveryScope {
    all: Listing,
    by_name: HashMap<String, Listing>,
    by_instance: HashMap<String, Listing>,
}

fn delivery_key(d: &Delivery) -> SortKey {
    SortKey {
        created_ns: d.created.at.as_nanosecond(),
        seq: d.seq,
        sub: 0,
    }
}

impl Deliveries {
    pub fn insert(&mut self, delivery: Delivery) {
        let key = delivery_key(&delivery);
        self.all.insert(key);
        push(&mut self.by_invoke_id, &delivery.invoke_id, key);
        let scope = self
            .scopes
            .entry(delivery.product)
            .or_default()
            .entry(delivery.region.clone())
            .or_default();
        scope.all.insert(key);
        push(&mut scope.by_name, &delivery.name, key);
        for target in &delivery.targets {
            push(&mut scope.by_instance, &target.id, key);
        }
        self.records.insert(delivery.seq, Arc::new(delivery));
    }

    pub fn get(&self, key: SortKey) -> &Arc<Delivery> {
        &self.records[&key.seq]
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Delivery> {
        self.all.keys().iter().rev().map(|k| &**self.get(k))
    }

    pub fn candidates(&self, lookup: &DeliveryLookup<'_>) -> Candidates<'_> {
        if let Some(id) = lookup.invoke_id {
            return Candidates::tested(Cow::Borrowed(self.by_invoke_id.get(id).unwrap_or(&EMPTY)));
        }
        let Some(region) = lookup.region else {
            return Candidates::tested(Cow::Borrowed(&self.all));
        };
        let scope = self
            .scopes
            .get(&lookup.product)
            .and_then(|regions| regions.get(region));
        let Some(scope) = scope else {
            return Candidates::exact(None);
        };
        Candidates::narrowest(
            &[
                lookup.name.map(|n| scope.by_name.get(n)),
                lookup.instance_id.map(|i| scope.by_instance.get(i)),
            ],
            &scope.all,
        )
    }

    /// Drops the tasks created before `cutoff_ns`.
    pub fn prune(&mut self, cutoff_ns: i128) {
        let stale: Vec<SortKey> = self
            .all
            .keys()
            .iter()
            .rev()
            .take_while(|k| k.created_ns < cutoff_ns)
            .collect();
        if stale.is_empty() {
            return;
        }
        self.all.remove_older_than(cutoff_ns);
        for key in stale {
            let Some(d) = self.records.remove(&key.seq) else {
                continue;
            };
            trim(&mut self.by_invoke_id, &d.invoke_id, cutoff_ns);
            let Some(regions) = self.scopes.get_mut(&d.product) else {
                continue;
            };
            let Some(scope) = regions.get_mut(&d.region) else {
                continue;
            };
            scope.all.remove_older_than(cutoff_ns);
            trim(&mut scope.by_name, &d.name, cutoff_ns);
            for target in &d.targets {
                trim(&mut scope.by_instance, &target.id, cutoff_ns);
            }
        }
    }
}

/// What DescribeInvocations and DescribeInvocationResults can find by index.
#[derive(Debug, Clone, Copy)]
pub struct InvocationLookup<'q> {
    pub region: &'q str,
    pub invoke_id: Option<&'q str>,
    pub command_id: Option<&'q str>,
    pub instance_id: Option<&'q str>,
}

/// RunCommand invocations, listed whole (DescribeInvocations) or one item
/// per instance (DescribeInvocationResults).
#[derive(Debug, Default)]
pub struct Invocations {
    records: HashMap<u64, Arc<Invocation>>,
    all: Listing,
    regions: HashMap<String, InvocationScope>,
    by_invoke_id: HashMap<String, Listing>,
}

/// The invocations of one region, and their latest per-instance runs.
#[derive(Debug, Default)]
struct InvocationScope {
    all: Listing,
    by_command: HashMap<String, Listing>,
    by_instance: HashMap<String, Listing>,
    results: Listing,
    results_by_command: HashMap<String, Listing>,
    results_by_instance: HashMap<String, Listing>,
}

fn invocation_key(inv: &Invocation) -> SortKey {
    result_key(inv, 0, 0)
}

/// The key of run `run` (0 the latest, then older ones) on instance `index`.
fn result_key(inv: &Invocation, index: usize, run: usize) -> SortKey {
    SortKey {
        created_ns: inv.created.at.as_nanosecond(),
        seq: inv.seq,
        sub: index as u64 * HISTORY_SLOTS + run as u64,
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

impl Invocations {
    pub fn insert(&mut self, invocation: Invocation) {
        let key = invocation_key(&invocation);
        self.all.insert(key);
        push(&mut self.by_invoke_id, &invocation.invoke_id, key);
        let scope = self.regions.entry(invocation.region.clone()).or_default();
        scope.all.insert(key);
        push(&mut scope.by_command, &invocation.command_id, key);
        for target in &invocation.targets {
            push(&mut scope.by_instance, &target.id, key);
        }
        for (index, target) in invocation.targets.iter().enumerate() {
            let key = result_key(&invocation, index, 0);
            scope.results.insert(key);
            push(&mut scope.results_by_command, &invocation.command_id, key);
            push(&mut scope.results_by_instance, &target.id, key);
        }
        self.records.insert(invocation.seq, Arc::new(invocation));
    }

    pub fn get(&self, key: SortKey) -> &Arc<Invocation> {
        &self.records[&key.seq]
    }

    /// The run a result key names.
    pub fn result(&self, key: SortKey) -> ResultRef {
        ResultRef {
            invocation: self.get(key).clone(),
            index: (key.sub / HISTORY_SLOTS) as usize,
            run: (key.sub % HISTORY_SLOTS) as usize,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Invocation> {
        self.all.keys().iter().rev().map(|k| &**self.get(k))
    }

    /// Invocation keys (DescribeInvocations).
    pub fn candidates(&self, lookup: &InvocationLookup<'_>) -> Candidates<'_> {
        if let Some(id) = lookup.invoke_id {
            return Candidates::tested(Cow::Borrowed(self.by_invoke_id.get(id).unwrap_or(&EMPTY)));
        }
        let Some(scope) = self.regions.get(lookup.region) else {
            return Candidates::exact(None);
        };
        Candidates::narrowest(
            &[
                lookup.command_id.map(|c| scope.by_command.get(c)),
                lookup.instance_id.map(|i| scope.by_instance.get(i)),
            ],
            &scope.all,
        )
    }

    /// Result keys (DescribeInvocationResults). Earlier runs are listed only
    /// for a given InvokeId, as the cloud does.
    pub fn result_candidates(
        &self,
        lookup: &InvocationLookup<'_>,
        include_history: bool,
    ) -> Candidates<'_> {
        if let Some(id) = lookup.invoke_id {
            let mut keys = Vec::new();
            for key in self.by_invoke_id.get(id).unwrap_or(&EMPTY).keys().iter() {
                let inv = self.get(key);
                for (index, target) in inv.targets.iter().enumerate() {
                    let runs = if include_history {
                        1 + target.history.len()
                    } else {
                        1
                    };
                    keys.extend((0..runs).map(|run| result_key(inv, index, run)));
                }
            }
            return Candidates::tested(Cow::Owned(Listing::from_keys(keys)));
        }
        let Some(scope) = self.regions.get(lookup.region) else {
            return Candidates::exact(None);
        };
        Candidates::narrowest(
            &[
                lookup.command_id.map(|c| scope.results_by_command.get(c)),
                lookup.instance_id.map(|i| scope.results_by_instance.get(i)),
            ],
            &scope.results,
        )
    }

    /// Drops the invocations created before `cutoff_ns`.
    pub fn prune(&mut self, cutoff_ns: i128) {
        let stale: Vec<SortKey> = self
            .all
            .keys()
            .iter()
            .rev()
            .take_while(|k| k.created_ns < cutoff_ns)
            .collect();
        if stale.is_empty() {
            return;
        }
        self.all.remove_older_than(cutoff_ns);
        for key in stale {
            let Some(inv) = self.records.remove(&key.seq) else {
                continue;
            };
            trim(&mut self.by_invoke_id, &inv.invoke_id, cutoff_ns);
            let Some(scope) = self.regions.get_mut(&inv.region) else {
                continue;
            };
            scope.all.remove_older_than(cutoff_ns);
            scope.results.remove_older_than(cutoff_ns);
            trim(&mut scope.by_command, &inv.command_id, cutoff_ns);
            trim(&mut scope.results_by_command, &inv.command_id, cutoff_ns);
            for target in &inv.targets {
                trim(&mut scope.by_instance, &target.id, cutoff_ns);
                trim(&mut scope.results_by_instance, &target.id, cutoff_ns);
            }
        }
    }
}

/// Adds `key` to the listing of `name`.
fn push(index: &mut HashMap<String, Listing>, name: &str, key: SortKey) {
    match index.get_mut(name) {
        Some(listing) => listing.insert(key),
        None => {
            index.insert(name.to_owned(), Listing::from_keys(vec![key]));
        }
    }
}

/// Drops the stale keys of `name`'s listing, and the listing once empty.
fn trim(index: &mut HashMap<String, Listing>, name: &str, cutoff_ns: i128) {
    if let Some(listing) = index.get_mut(name) {
        listing.remove_older_than(cutoff_ns);
        if listing.is_empty() {
            index.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use super::*;
    use crate::sim::store::{CommandRun, DeliveryTarget, Outcome, PinnedTimes, Stamp};

    const PRODUCTS: [Provider; 2] = [Provider::Ecs, Provider::Eflo];
    const REGIONS: [&str; 2] = ["cn-hangzhou", "cn-beijing"];
    const NAMES: [&str; 3] = ["a.conf", "b.conf", "c.conf"];
    const MACHINES: [&str; 4] = ["i-1", "i-2", "i-3", "i-4"];

    fn at(minutes: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + SignedDuration::from_mins(minutes)
    }

    fn delivery(seq: u64, created: i64) -> Delivery {
        let n = seq as usize;
        // Some tasks name a machine twice; some share a creation time.
        let targets = [MACHINES[n % 4], MACHINES[(n * 3) % 4], MACHINES[n % 2]]
            .into_iter()
            .map(|id| DeliveryTarget {
                id: id.to_owned(),
                outcome: Outcome::success(),
                times: PinnedTimes::default(),
            })
            .collect();
        Delivery {
            seq,
            product: PRODUCTS[n % 2],
            invoke_id: format!("f-{}", n % 40),
            region: REGIONS[(n / 2) % 2].to_owned(),
            name: NAMES[n % 3].to_owned(),
            description: String::new(),
            content: String::new(),
            content_type: "PlainText".to_owned(),
            target_dir: "/etc".to_owned(),
            mode: "0644".to_owned(),
            owner: "root".to_owned(),
            group: "root".to_owned(),
            overwrite: false,
            resource_group_id: None,
            tags: Vec::new(),
            created: Stamp::made(at(created)),
            status_override: None,
            target_count: None,
            targets,
        }
    }

    fn lookups() -> Vec<DeliveryLookup<'static>> {
        let mut all = Vec::new();
        for product in PRODUCTS {
            for region in REGIONS.map(Some).into_iter().chain([None]) {
                for invoke_id in [None, Some("f-3"), Some("f-none")] {
                    for name in NAMES.map(Some).into_iter().chain([None, Some("z")]) {
                        for instance_id in MACHINES.map(Some).into_iter().chain([None]) {
                            all.push(DeliveryLookup {
                                product,
                                region,
                                invoke_id,
                                name,
                                instance_id,
                            });
                        }
                    }
                }
            }
        }
        all
    }

    fn matches(d: &Delivery, q: &DeliveryLookup<'_>, cutoff_ns: i128) -> bool {
        d.product == q.product
            && q.region.is_none_or(|r| d.region == r)
            && d.created.at.as_nanosecond() >= cutoff_ns
            && q.invoke_id.is_none_or(|id| d.invoke_id == id)
            && q.name.is_none_or(|n| d.name == n)
            && q.instance_id
                .is_none_or(|id| d.targets.iter().any(|t| t.id == id))
    }

    /// The listing a lookup reads holds every match, newest first, and
    /// nothing else when it says it is exact.
    fn check(table: &Deliveries, cutoff_ns: i128) {
        let mut newest_first: Vec<&Delivery> = table.iter().collect();
        newest_first.reverse();
        for q in lookups() {
            let want: Vec<u64> = newest_first
                .iter()
                .filter(|d| matches(d, &q, cutoff_ns))
                .map(|d| d.seq)
                .collect();
            let candidates = table.candidates(&q);
            let visible = candidates.listing.since(cutoff_ns);
            let got: Vec<u64> = if candidates.exact {
                visible.iter().map(|k| k.seq).collect()
            } else {
                visible
                    .iter()
                    .filter(|k| matches(table.get(*k), &q, cutoff_ns))
                    .map(|k| k.seq)
                    .collect()
            };
            assert_eq!(got, want, "{q:?} (exact: {})", candidates.exact);
        }
    }

    #[test]
    fn every_index_lists_exactly_its_records_before_and_after_pruning() {
        let mut table = Deliveries::default();
        // Out of creation order, as a state file may be.
        for seq in 1..=120u64 {
            let created = ((seq * 37) % 100) as i64;
            table.insert(delivery(seq, created));
        }
        let keys: Vec<SortKey> = table.all.keys().iter().collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "newest first");
        check(&table, i128::MIN);
        let cutoff = at(50).as_nanosecond();
        check(&table, cutoff);

        table.prune(cutoff);
        assert!(table.iter().all(|d| d.created.at.as_nanosecond() >= cutoff));
        let indexed: usize = table
            .scopes
            .values()
            .flat_map(|regions| regions.values())
            .map(|scope| scope.all.len())
            .sum();
        assert_eq!(indexed, table.len());
        check(&table, i128::MIN);
        // Every listing left is non-empty and holds only kept records.
        for scope in table.scopes.values().flat_map(|r| r.values()) {
            for listing in scope.by_name.values().chain(scope.by_instance.values()) {
                assert!(!listing.is_empty());
                assert!(listing.keys().iter().all(|k| k.created_ns >= cutoff));
            }
        }
        assert!(
            table
                .by_invoke_id
                .values()
                .all(|l| !l.is_empty() && l.keys().iter().all(|k| k.created_ns >= cutoff))
        );
    }

    fn invocation(seq: u64, created: i64) -> Invocation {
        let n = seq as usize;
        let run = |output: &str| CommandRun {
            outcome: Outcome::success(),
            record_status: None,
            exit_code: 0,
            output: output.to_owned(),
            dropped: 0,
            repeats: None,
            username: None,
            start_time: None,
            finished_time: None,
            stop_time: None,
        };
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
    fn check_invocations(table: &Invocations, cutoff_ns: i128) {
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
            let candidates = table.candidates(&q);
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
                let candidates = table.result_candidates(&q, include_history);
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
        let mut table = Invocations::default();
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
        for scope in table.regions.values() {
            assert!(scope.results.keys().iter().all(|k| k.created_ns >= cutoff));
            for listing in scope
                .by_command
                .values()
                .chain(scope.by_instance.values())
                .chain(scope.results_by_command.values())
                .chain(scope.results_by_instance.values())
            {
                assert!(!listing.is_empty());
                assert!(listing.keys().iter().all(|k| k.created_ns >= cutoff));
            }
        }
    }
}
