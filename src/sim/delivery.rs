//! SendFile tasks: the record, what a reader sees of each target at an
//! instant, and how the tables list and find tasks.

use jiff::Timestamp;

use super::lifecycle::{Lifecycle, Phase, overall};
use super::listing::SortKey;
use super::records::{Outcome, Stamp, TimeTexts};
use super::tables::{Lookup, Record};
use crate::protocol::Provider;

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
        lc.status_at(self.created.at, now, &target.outcome.status)
    }

    /// The task's overall status at `now` (or the state's override).
    pub fn overall_at(&self, now: Timestamp, lc: &Lifecycle) -> String {
        let statuses = self.targets.iter().map(|t| self.status_at(t, now, lc));
        self.status_override
            .clone()
            .unwrap_or_else(|| overall(statuses).to_owned())
    }

    /// The bytes the file holds once written: `Content` decoded as its
    /// `ContentType` says (undecodable Base64 is what SendFile refuses).
    pub fn decoded_content(&self) -> Vec<u8> {
        use base64::Engine as _;
        if self.content_type.eq_ignore_ascii_case("Base64") {
            base64::engine::general_purpose::STANDARD
                .decode(&self.content)
                .unwrap_or_default()
        } else {
            self.content.clone().into_bytes()
        }
    }

    pub fn target_count(&self) -> u64 {
        self.target_count.unwrap_or(self.targets.len() as u64)
    }
}

/// The positions of a task's indexed fields in a `Lookup`.
const NAME: usize = 0;
const INSTANCE: usize = 1;

/// Tasks are listed per product and region, and found by name and instance.
impl Record for Delivery {
    type Scope = (Provider, String);

    fn key(&self) -> SortKey {
        SortKey::record(self.created.at.as_nanosecond(), self.seq)
    }

    fn invoke_id(&self) -> &str {
        &self.invoke_id
    }

    fn scope(&self) -> Self::Scope {
        (self.product, self.region.clone())
    }

    fn index(&self, add: &mut dyn FnMut(usize, &str)) {
        add(NAME, &self.name);
        for target in &self.targets {
            add(INSTANCE, &target.id);
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

impl<'q> From<DeliveryLookup<'q>> for Lookup<'q, (Provider, String)> {
    fn from(q: DeliveryLookup<'q>) -> Self {
        Self {
            scope: q.region.map(|region| (q.product, region.to_owned())),
            invoke_id: q.invoke_id,
            fields: vec![q.name, q.instance_id],
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::sim::tables::Table;

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
    fn check(table: &Table<Delivery>, cutoff_ns: i128) {
        let mut newest_first: Vec<&Delivery> = table.iter().collect();
        newest_first.reverse();
        for q in lookups() {
            let want: Vec<u64> = newest_first
                .iter()
                .filter(|d| matches(d, &q, cutoff_ns))
                .map(|d| d.seq)
                .collect();
            let candidates = table.candidates(&q.into());
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
        let mut table = Table::<Delivery>::default();
        // Out of creation order, as a state file may be.
        for seq in 1..=120u64 {
            let created = ((seq * 37) % 100) as i64;
            table.insert(delivery(seq, created));
        }
        let oldest_first: Vec<SortKey> = table.iter().map(Record::key).collect();
        assert!(oldest_first.windows(2).all(|w| w[0] > w[1]), "in order");
        check(&table, i128::MIN);
        let cutoff = at(50).as_nanosecond();
        check(&table, cutoff);

        table.prune(cutoff);
        assert!(table.iter().all(|d| d.created.at.as_nanosecond() >= cutoff));
        check(&table, i128::MIN);
        table.assert_kept_since(cutoff);
    }
}
