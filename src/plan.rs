//! Planning: the fewest API queries that cover every declared file and command.
//!
//! `DescribeSendFileResults` can be filtered by `InvokeId`, `Name` or
//! `InstanceId`, and each filter costs a different number of pages:
//!
//! - by `InvokeId`: one task, so one page; used whenever a file declares
//!   `invoke_id`, and always for eflo (whose API requires it);
//! - by `Name`: every task that sent a file of that name. One SendFile call
//!   reaches at most 50 instances, so a file on N targets needs at least
//!   ⌈N/50⌉ tasks, and a page holds 50 tasks;
//! - by `InstanceId`: every task that reached that instance, at least one per
//!   file declared on it.
//!
//! Within each (provider, region) the planner covers every declared
//! (file, target) pair with a greedy weighted set cover over those lower
//! bounds: it repeatedly takes the query that covers the most uncovered
//! pairs per estimated page, preferring `Name` on ties (it returns fewer
//! unrelated files). Real page counts are higher for both kinds alike (the
//! API keeps history), so comparing lower bounds is fair. For 20 files on
//! 1,000 instances this gives 20 `Name` queries rather than 1,000
//! `InstanceId` ones; for 30 files on 2 instances, 2 `InstanceId` queries.
//!
//! Commands are fetched by `InvokeId` or `CommandId`, narrowed by
//! `InstanceId` when the command names exactly one instance and by `Tag.N`
//! when it is pinned by `task_tags`.

use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use crate::expect::{CommandExpectation, CommandSelector, Expectations, FileExpectation};
use crate::protocol::Provider;

/// Tasks per page (`MaxResults` is at most 50).
const PAGE: usize = 50;
/// Instances one SendFile call reaches at most.
const INSTANCES_PER_SEND: usize = 50;

/// One API query; the orchestration maps each to the cloud client's call.
///
/// Only ECS lists deliveries by `Name` or `InstanceId`; the eflo API takes
/// nothing but an `InvokeId`. So only [`Query::FilesByInvokeId`] names a
/// provider, and an eflo query by name cannot be written.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Query {
    /// ECS `DescribeSendFileResults` filtered by `Name`.
    FilesByName { region: String, name: String },
    /// `DescribeSendFileResults` of either provider, by `InvokeId`.
    FilesByInvokeId {
        provider: Provider,
        region: String,
        invoke_id: String,
    },
    /// ECS `DescribeSendFileResults` filtered by `InstanceId`.
    FilesByInstance { region: String, instance_id: String },
    /// ECS `DescribeSendFileResults` filtered by `Name` and `Tag.N`: a file
    /// pinned by `task_tags`.
    FilesByTags {
        region: String,
        name: String,
        tags: Vec<(String, String)>,
    },
    /// ECS `DescribeSendFileResults` with no filter: every task of the
    /// region, read by page number and checked against `TotalCount`. Takes
    /// the place of a region's `Name`/`InstanceId` listings when the
    /// region's `TotalCount` says it needs fewer pages
    /// ([`Plan::list_whole_region`]).
    FilesInRegion { region: String },
    /// `DescribeInvocationResults` filtered by `InvokeId` (and one instance,
    /// and the `Tag.N` of a command pinned by `task_tags`).
    CommandsByInvokeId {
        region: String,
        invoke_id: String,
        instance_id: Option<String>,
        /// Sorted by key; absent in snapshots written before commands took
        /// `task_tags`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<(String, String)>,
    },
    /// `DescribeInvocationResults` filtered by `CommandId` (and one instance,
    /// and the `Tag.N` of a command pinned by `task_tags`).
    CommandsByCommandId {
        region: String,
        command_id: String,
        instance_id: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tags: Vec<(String, String)>,
    },
}

impl Query {
    pub fn region(&self) -> &str {
        match self {
            Query::FilesByName { region, .. }
            | Query::FilesByInvokeId { region, .. }
            | Query::FilesByInstance { region, .. }
            | Query::FilesByTags { region, .. }
            | Query::FilesInRegion { region }
            | Query::CommandsByInvokeId { region, .. }
            | Query::CommandsByCommandId { region, .. } => region,
        }
    }

    /// Whether this query's answer is evidence for `file` on `target`: if
    /// it fails, that pair cannot be judged.
    pub fn covers_file(&self, file: &FileExpectation, target: &str) -> bool {
        if self.region() != file.region() || self.provider() != file.provider {
            return false;
        }
        match self {
            Query::FilesByName { name, .. } => *name == file.name.value,
            Query::FilesByInvokeId { invoke_id, .. } => file
                .invoke_id
                .as_ref()
                .is_none_or(|pinned| pinned.value == *invoke_id),
            Query::FilesByInstance { instance_id, .. } => instance_id == target,
            Query::FilesByTags { name, tags, .. } => {
                *name == file.name.value && tags.iter().all(|tag| file.task_tags.contains(tag))
            }
            Query::FilesInRegion { .. } => true,
            Query::CommandsByInvokeId { .. } | Query::CommandsByCommandId { .. } => false,
        }
    }

    /// Whether this query's answer is evidence for `command` on `target`
    /// (`None`: the command's runs on any instance). A command pinned by
    /// `task_tags` counts only runs listed under its tags, so only the
    /// query with exactly those tags is its evidence.
    pub fn covers_command(&self, command: &CommandExpectation, target: Option<&str>) -> bool {
        if self.region() != command.region() {
            return false;
        }
        let (selected, narrowed, tags) = match self {
            Query::CommandsByInvokeId {
                invoke_id,
                instance_id,
                tags,
                ..
            } => (
                matches!(&command.selector.value, CommandSelector::InvokeId(id) if id == invoke_id),
                instance_id,
                tags,
            ),
            Query::CommandsByCommandId {
                command_id,
                instance_id,
                tags,
                ..
            } => (
                matches!(&command.selector.value, CommandSelector::CommandId(id) if id == command_id),
                instance_id,
                tags,
            ),
            _ => return false,
        };
        selected
            && *tags == command.task_tags
            && match (narrowed, target) {
                (None, _) | (Some(_), None) => true,
                (Some(one), Some(target)) => one == target,
            }
    }

    /// The API action this query calls, for messages.
    pub fn action(&self) -> &'static str {
        match self {
            Query::FilesByName { .. }
            | Query::FilesByInvokeId { .. }
            | Query::FilesByInstance { .. }
            | Query::FilesByTags { .. }
            | Query::FilesInRegion { .. } => "DescribeSendFileResults",
            Query::CommandsByInvokeId { .. } | Query::CommandsByCommandId { .. } => {
                "DescribeInvocationResults"
            }
        }
    }

    pub fn provider(&self) -> Provider {
        match self {
            Query::FilesByInvokeId { provider, .. } => *provider,
            Query::FilesByName { .. }
            | Query::FilesByInstance { .. }
            | Query::FilesByTags { .. }
            | Query::FilesInRegion { .. }
            | Query::CommandsByInvokeId { .. }
            | Query::CommandsByCommandId { .. } => Provider::Ecs,
        }
    }
}

impl std::fmt::Display for Query {
    /// `DescribeSendFileResults Name=app.conf in cn-hangzhou`: the action and
    /// its filter, as a user would recognise the query.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let action = self.action();
        let region = self.region();
        let narrowed = |instance_id: &Option<String>, tags: &[(String, String)]| {
            let mut filters = match instance_id {
                Some(id) => format!(" InstanceId={id}"),
                None => String::new(),
            };
            for (i, (key, value)) in tags.iter().enumerate() {
                filters += &format!(" Tag.{n}.Key={key} Tag.{n}.Value={value}", n = i + 1);
            }
            filters
        };
        match self {
            Query::FilesByName { name, .. } => write!(f, "{action} Name={name} in {region}"),
            Query::FilesByInvokeId {
                provider: Provider::Eflo,
                invoke_id,
                ..
            } => write!(f, "eflo {action} InvokeId={invoke_id} in {region}"),
            Query::FilesByInvokeId { invoke_id, .. } => {
                write!(f, "{action} InvokeId={invoke_id} in {region}")
            }
            Query::FilesByInstance { instance_id, .. } => {
                write!(f, "{action} InstanceId={instance_id} in {region}")
            }
            Query::FilesByTags { name, tags, .. } => {
                write!(f, "{action} Name={name}")?;
                for (i, (key, value)) in tags.iter().enumerate() {
                    write!(f, " Tag.{n}.Key={key} Tag.{n}.Value={value}", n = i + 1)?;
                }
                write!(f, " in {region}")
            }
            Query::FilesInRegion { .. } => write!(f, "{action} (every task) in {region}"),
            Query::CommandsByInvokeId {
                invoke_id,
                instance_id,
                tags,
                ..
            } => write!(
                f,
                "{action} InvokeId={invoke_id}{} in {region}",
                narrowed(instance_id, tags)
            ),
            Query::CommandsByCommandId {
                command_id,
                instance_id,
                tags,
                ..
            } => write!(
                f,
                "{action} CommandId={command_id}{} in {region}",
                narrowed(instance_id, tags)
            ),
        }
    }
}

/// A file the planner cannot fetch, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplannable {
    /// Index into [`Expectations::files`].
    pub file: usize,
    pub reason: String,
}

/// The queries to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Deduplicated, in a stable order (grouped by provider and region).
    pub queries: Vec<Query>,
    /// The lower bound on pages the planner minimised.
    pub estimated_pages: usize,
    /// Files that cannot be fetched (eflo without `invoke_id`); the manifest
    /// loader should have refused them already.
    pub unplannable: Vec<Unplannable>,
    /// Regions whose files one unfiltered listing might read in fewer pages
    /// than their own listings (estimated pages of those), if the region
    /// holds few other tasks: only its `TotalCount` can tell, on the first
    /// page of that listing ([`crate::fetch::size_regions`]).
    pub whole_region_candidates: BTreeMap<String, usize>,
}

impl Plan {
    /// Whether listing every task of a region that holds `tasks` takes
    /// fewer pages than `filtered_pages` of `Name`/`InstanceId` listings.
    pub fn whole_region_is_cheaper(tasks: u64, filtered_pages: usize) -> bool {
        Self::whole_region_pages(tasks) < filtered_pages
    }

    /// The pages of a region's unfiltered listing when it holds `tasks`
    /// (an empty listing is still one page).
    fn whole_region_pages(tasks: u64) -> usize {
        (tasks as usize).div_ceil(PAGE).max(1)
    }

    /// Lists `region`'s files through one [`Query::FilesInRegion`] of its
    /// `tasks` instead of their `Name`/`InstanceId` listings of
    /// `filtered_pages` (pinned files keep theirs).
    pub fn list_whole_region(&mut self, region: &str, tasks: u64, filtered_pages: usize) {
        self.queries.retain(|query| {
            !matches!(
                query,
                Query::FilesByName { region: r, .. } | Query::FilesByInstance { region: r, .. }
                    if r == region
            )
        });
        let whole = Query::FilesInRegion {
            region: region.to_owned(),
        };
        let at = self.queries.partition_point(|query| *query < whole);
        self.queries.insert(at, whole);
        self.whole_region_candidates.remove(region);
        self.estimated_pages =
            self.estimated_pages.saturating_sub(filtered_pages) + Self::whole_region_pages(tasks);
    }
}

/// Plans the fewest queries covering every declared file and command.
pub fn plan(expectations: &Expectations) -> Plan {
    let mut plan = Plan::default();
    let mut queries: BTreeSet<Query> = BTreeSet::new();

    // Pinned and eflo files go by InvokeId; other ECS files are grouped by
    // region for the cover.
    let mut groups: BTreeMap<&str, Vec<&FileExpectation>> = BTreeMap::new();
    for (index, file) in expectations.files.iter().enumerate() {
        let region = file.region().to_owned();
        match (&file.invoke_id, file.provider) {
            (Some(invoke_id), provider) => {
                if queries.insert(Query::FilesByInvokeId {
                    provider,
                    region,
                    invoke_id: invoke_id.value.clone(),
                }) {
                    plan.estimated_pages += 1;
                }
            }
            (None, Provider::Eflo) => plan.unplannable.push(Unplannable {
                file: index,
                reason: "the eflo API can only list deliveries by InvokeId: declare `invoke_id:`"
                    .to_owned(),
            }),
            // Pinned by tags: the API filters by them, so the file gets its
            // own query, as many pages as the tasks a tagged release needs.
            (None, Provider::Ecs) if !file.task_tags.is_empty() => {
                if queries.insert(Query::FilesByTags {
                    region,
                    name: file.name.value.clone(),
                    tags: file.task_tags.clone(),
                }) {
                    plan.estimated_pages += file
                        .targets
                        .len()
                        .div_ceil(INSTANCES_PER_SEND)
                        .div_ceil(PAGE)
                        .max(1);
                }
            }
            (None, Provider::Ecs) => groups.entry(file.region()).or_default().push(file),
        }
    }
    for (region, files) in groups {
        let (chosen, pages) = cover(&files);
        plan.estimated_pages += pages;
        // At least this many tasks deliver these files: if even one page
        // more than they fill (the first page, wasted if the region turns
        // out large) is cheaper than the cover, the region's size is worth
        // asking.
        let tasks: usize = files
            .iter()
            .map(|file| file.targets.len().div_ceil(INSTANCES_PER_SEND))
            .sum();
        if Plan::whole_region_is_cheaper(tasks as u64, pages.saturating_sub(1)) {
            plan.whole_region_candidates
                .insert(region.to_owned(), pages);
        }
        queries.extend(chosen.into_iter().map(|choice| match choice {
            Choice::Name(name) => Query::FilesByName {
                region: region.to_owned(),
                name: name.to_owned(),
            },
            Choice::Instance(id) => Query::FilesByInstance {
                region: region.to_owned(),
                instance_id: id.to_owned(),
            },
        }));
    }

    for command in &expectations.commands {
        let instance_id = match command.targets.as_slice() {
            [only] => Some(only.id.to_string()),
            _ => None,
        };
        let targets = command.targets.len().max(1);
        let query = match &command.selector.value {
            // Commands with different `task_tags` never share a query: each
            // counts only the runs listed under its own tags.
            CommandSelector::InvokeId(invoke_id) => Query::CommandsByInvokeId {
                region: command.region().to_owned(),
                invoke_id: invoke_id.clone(),
                instance_id,
                tags: command.task_tags.clone(),
            },
            CommandSelector::CommandId(command_id) => Query::CommandsByCommandId {
                region: command.region().to_owned(),
                command_id: command_id.clone(),
                instance_id,
                tags: command.task_tags.clone(),
            },
        };
        if queries.insert(query) {
            // One result per instance per run: at least one page per 50 targets.
            plan.estimated_pages += targets.div_ceil(PAGE);
        }
    }

    plan.queries = queries.into_iter().collect();
    plan
}

/// What `--strict` added to a plan, and so what it can see: the report
/// says this, so a reader knows what "nothing undeclared" covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrictCoverage {
    /// Instances listed whole (by `InstanceId`): every delivery into a
    /// declared directory on them is seen.
    pub instances: Vec<String>,
    /// File names listed on every instance (by `Name`): every delivery of a
    /// declared name, wherever it went, is seen.
    pub names: Vec<String>,
    /// Declared files strict cannot widen (eflo lists by `InvokeId` only),
    /// as `target_dir/name`.
    pub uncovered: Vec<String>,
}

/// `--strict`: widens `plan` so that what it sees does not depend on the
/// queries the cover happened to choose. Undeclared deliveries are only
/// visible to some query kinds (an undeclared file in a declared directory
/// only to a listing by instance, a declared file on an undeclared
/// instance only to a listing by name), so strict lists both for every ECS
/// file, pinned or not: each declared instance whole, and each declared
/// name everywhere. eflo lists by `InvokeId` alone; its files are named as
/// not covered.
pub fn widen_for_strict(plan: &mut Plan, expectations: &Expectations) -> StrictCoverage {
    let mut queries: BTreeSet<Query> = plan.queries.iter().cloned().collect();
    let mut names = BTreeSet::new();
    let mut instances = BTreeSet::new();
    let mut uncovered = BTreeSet::new();
    // Files per name and per instance, for the page estimate.
    let mut per_name: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut per_instance: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for file in &expectations.files {
        if file.provider == Provider::Eflo {
            uncovered.insert(file.path());
            continue;
        }
        let region = file.region();
        *per_name
            .entry((region, file.name.value.as_str()))
            .or_default() += file.targets.len().div_ceil(INSTANCES_PER_SEND).max(1);
        names.insert(file.name.value.clone());
        for target in &file.targets {
            *per_instance
                .entry((region, target.id.as_str()))
                .or_default() += 1;
            instances.insert(target.id.to_string());
        }
    }
    for ((region, name), tasks) in per_name {
        if queries.insert(Query::FilesByName {
            region: region.to_owned(),
            name: name.to_owned(),
        }) {
            plan.estimated_pages += tasks.div_ceil(PAGE);
        }
    }
    for ((region, id), files) in per_instance {
        if queries.insert(Query::FilesByInstance {
            region: region.to_owned(),
            instance_id: id.to_owned(),
        }) {
            plan.estimated_pages += files.div_ceil(PAGE);
        }
    }
    plan.queries = queries.into_iter().collect();
    StrictCoverage {
        instances: instances.into_iter().collect(),
        names: names.into_iter().collect(),
        uncovered: uncovered.into_iter().collect(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Choice<'a> {
    Name(&'a str),
    Instance(&'a str),
}

/// Greedy weighted set cover of the (file, target) pairs of one group.
/// Returns the chosen queries and their estimated pages.
///
/// Every pair is covered by exactly two candidates (its file's `Name` and its
/// target's `InstanceId`), so covering a pair lowers two counts. The best
/// candidate is found lazily from a heap: counts only fall, so an entry whose
/// count is still current is the true best, and the whole cover stays
/// O(pairs · log candidates) however many candidates there are.
fn cover<'a>(files: &[&'a FileExpectation]) -> (Vec<Choice<'a>>, usize) {
    // Pairs, numbered; and which pairs each candidate query covers.
    let mut covers: BTreeMap<Choice<'a>, Vec<usize>> = BTreeMap::new();
    // Tasks a Name query returns at least: per file, ⌈targets/50⌉.
    let mut name_tasks: BTreeMap<&'a str, usize> = BTreeMap::new();
    let mut pairs = 0;
    for file in files {
        let name = file.name.value.as_str();
        *name_tasks.entry(name).or_default() +=
            file.targets.len().div_ceil(INSTANCES_PER_SEND).max(1);
        for target in &file.targets {
            covers.entry(Choice::Name(name)).or_default().push(pairs);
            covers
                .entry(Choice::Instance(target.id.as_str()))
                .or_default()
                .push(pairs);
            pairs += 1;
        }
    }
    let cost = |choice: &Choice<'a>, pair_count: usize| -> usize {
        match choice {
            Choice::Name(name) => name_tasks[name].div_ceil(PAGE).max(1),
            // At least one task per file declared on the instance.
            Choice::Instance(_) => pair_count.div_ceil(PAGE).max(1),
        }
    };
    // Candidates in `Choice` order, so a lower index is the earlier choice.
    let candidates: Vec<(Choice<'a>, &[usize], usize)> = covers
        .iter()
        .map(|(choice, covered)| (*choice, covered.as_slice(), cost(choice, covered.len())))
        .collect();
    let mut uncovered_by: Vec<usize> = candidates.iter().map(|(_, list, _)| list.len()).collect();
    let mut covering: Vec<Vec<usize>> = vec![Vec::with_capacity(2); pairs];
    for (index, (_, list, _)) in candidates.iter().enumerate() {
        for pair in *list {
            covering[*pair].push(index);
        }
    }
    let mut heap: BinaryHeap<Gain> = candidates
        .iter()
        .enumerate()
        .map(|(index, (_, list, cost))| Gain {
            new: list.len(),
            cost: *cost,
            index,
        })
        .collect();

    let mut covered = vec![false; pairs];
    let mut remaining = pairs;
    let mut chosen = Vec::new();
    let mut pages = 0;
    while remaining > 0 {
        let top = heap
            .pop()
            .expect("uncovered pairs always have a covering query");
        let current = uncovered_by[top.index];
        if current != top.new {
            // Stale: its count fell since it was pushed; requeue it as it is now.
            if current > 0 {
                heap.push(Gain {
                    new: current,
                    ..top
                });
            }
            continue;
        }
        let (choice, list, cost) = candidates[top.index];
        for pair in list {
            if !covered[*pair] {
                covered[*pair] = true;
                remaining -= 1;
                for other in &covering[*pair] {
                    uncovered_by[*other] -= 1;
                }
            }
        }
        pages += cost;
        chosen.push(choice);
    }
    chosen.sort();
    (chosen, pages)
}

/// A candidate query in the cover's heap: the pairs it would newly cover
/// when pushed, its estimated pages, and its place in `Choice` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gain {
    new: usize,
    cost: usize,
    index: usize,
}

impl Ord for Gain {
    /// Best ratio of newly covered pairs to pages first; on a tie the earlier
    /// choice (Names sort before instances, so they win ties).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.new * other.cost)
            .cmp(&(other.new * self.cost))
            .then_with(|| other.index.cmp(&self.index))
    }
}

impl PartialOrd for Gain {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::testkit::{command, declared, expectations, file};
    use crate::expect::{Attr, TargetRef};

    fn fleet(files: usize, instances: usize) -> Expectations {
        let mut text = String::from("files:\n");
        for f in 0..files {
            text.push_str(&format!(
                "  - name: f{f}.conf\n    target_dir: /etc\n    instances: [i-0]\n"
            ));
        }
        let mut exp = expectations(&text);
        for f in 0..files {
            let mut file = file(&exp, &format!("f{f}.conf"), "/etc", &["i-0"]);
            let origin = file.targets[0].origin;
            file.targets = (0..instances)
                .map(|i| TargetRef {
                    id: format!("i-{i}").into(),
                    origin,
                    via_set: None,
                })
                .collect();
            exp.files.push(file);
        }
        exp
    }

    fn kinds(plan: &Plan) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for q in &plan.queries {
            match q {
                Query::FilesByName { .. } => counts.0 += 1,
                Query::FilesByInstance { .. } => counts.1 += 1,
                Query::FilesByInvokeId { .. } => counts.2 += 1,
                _ => {}
            }
        }
        counts
    }

    #[test]
    fn many_instances_are_fetched_by_name() {
        let plan = plan(&fleet(20, 1000));
        assert_eq!(kinds(&plan), (20, 0, 0));
        assert_eq!(plan.estimated_pages, 20);
    }

    #[test]
    fn a_small_region_is_worth_sizing_and_then_listed_whole() {
        // 50 files × 100 instances: 50 one-page listings, at least 100 tasks
        // (two pages): worth one request to learn the region's size.
        let mut small = plan(&fleet(50, 100));
        assert_eq!(
            small.whole_region_candidates,
            BTreeMap::from([("cn-hangzhou".to_owned(), 50)])
        );
        let pinned = Query::FilesByInvokeId {
            provider: Provider::Ecs,
            region: "cn-hangzhou".into(),
            invoke_id: "f-1".into(),
        };
        small.queries.push(pinned.clone());
        small.list_whole_region("cn-hangzhou", 100, 50);
        assert_eq!(
            small.queries,
            [
                pinned,
                Query::FilesInRegion {
                    region: "cn-hangzhou".into()
                }
            ],
            "pinned files keep their listing; the order stays sorted"
        );
        assert_eq!(small.estimated_pages, 2);
        assert!(small.whole_region_candidates.is_empty());
        // 5 files × 2,500 instances: 250 tasks fill five pages, as many as
        // the five listings, so the region is never counted.
        assert!(plan(&fleet(5, 2500)).whole_region_candidates.is_empty());
        // The count decides: fewer pages than the listings, strictly.
        assert!(Plan::whole_region_is_cheaper(100, 50));
        assert!(Plan::whole_region_is_cheaper(0, 2));
        assert!(!Plan::whole_region_is_cheaper(2_500, 50));
        assert!(!Plan::whole_region_is_cheaper(2_451, 50));
    }

    #[test]
    fn many_files_on_few_instances_are_fetched_by_instance() {
        let plan = plan(&fleet(30, 2));
        assert_eq!(kinds(&plan), (0, 2, 0));
        assert_eq!(plan.estimated_pages, 2);
    }

    #[test]
    fn a_file_pinned_by_task_tags_is_fetched_by_name_and_tags() {
        let mut exp = fleet(2, 100);
        exp.files[0].task_tags = vec![("release".into(), "42".into())];
        let plan = plan(&exp);
        let tagged = Query::FilesByTags {
            region: exp.files[0].region().to_owned(),
            name: exp.files[0].name.value.clone(),
            tags: vec![("release".into(), "42".into())],
        };
        assert!(plan.queries.contains(&tagged), "{:?}", plan.queries);
        assert!(
            exp.files[0]
                .targets
                .iter()
                .all(|t| tagged.covers_file(&exp.files[0], &t.id))
        );
        // The other file is not pinned: a tag-filtered answer is no evidence for it.
        assert!(!tagged.covers_file(&exp.files[1], &exp.files[1].targets[0].id));
        assert_eq!(kinds(&plan), (1, 0, 0));
    }

    #[test]
    fn equal_costs_prefer_names() {
        let plan = plan(&fleet(1, 1));
        assert_eq!(kinds(&plan), (1, 0, 0));
    }

    #[test]
    fn thousands_of_one_instance_files_each_get_one_query() {
        // 8,000 files, each on its own instance: every candidate covers one
        // pair at one page, so the cover takes one query per file (names
        // win the ties) without rescanning every candidate per choice.
        let mut exp = fleet(1, 1);
        let template = exp.files.pop().unwrap();
        for n in 0..8_000 {
            let mut one = template.clone();
            one.name.value = format!("f{n}.conf");
            one.targets[0].id = format!("i-{n}").into();
            exp.files.push(one);
        }
        let plan = plan(&exp);
        assert_eq!(kinds(&plan), (8_000, 0, 0));
        assert_eq!(plan.estimated_pages, 8_000);
    }

    #[test]
    fn a_mixed_fleet_mixes_query_kinds() {
        // f0 on 100 instances; f1..f30 on i-0 only.
        let mut exp = fleet(31, 1);
        let origin = exp.files[0].targets[0].origin;
        exp.files[0].targets = (0..100)
            .map(|i| TargetRef {
                id: format!("i-{i}").into(),
                origin,
                via_set: None,
            })
            .collect();
        let plan = plan(&exp);
        assert_eq!(kinds(&plan), (1, 1, 0), "{:?}", plan.queries);
        assert!(plan.queries.contains(&Query::FilesByName {
            region: "cn-hangzhou".into(),
            name: "f0.conf".into()
        }));
    }

    #[test]
    fn pinned_and_eflo_files_go_by_invoke_id_and_regions_stay_apart() {
        let mut exp = fleet(3, 2);
        let origin = exp.files[0].origin;
        exp.files[0].invoke_id = Some(Attr::declared("f-1".to_owned(), origin));
        exp.files[1].provider = Provider::Eflo;
        exp.files[1].invoke_id = Some(Attr::declared("f-2".to_owned(), origin));
        exp.files[2].region = Some(Attr::builtin("cn-beijing".to_owned()));
        let plan = plan(&exp);
        assert_eq!(
            plan.queries,
            [
                Query::FilesByName {
                    region: "cn-beijing".into(),
                    name: "f2.conf".into()
                },
                Query::FilesByInvokeId {
                    provider: Provider::Ecs,
                    region: "cn-hangzhou".into(),
                    invoke_id: "f-1".into()
                },
                Query::FilesByInvokeId {
                    provider: Provider::Eflo,
                    region: "cn-hangzhou".into(),
                    invoke_id: "f-2".into()
                },
            ]
        );
        assert!(
            plan.queries
                .iter()
                .all(|q| q.region() == "cn-beijing" || q.region() == "cn-hangzhou")
        );
    }

    #[test]
    fn strict_lists_every_declared_name_and_instance_whatever_the_cover() {
        // One file on one instance: the cover picks Name; 30 files on two
        // instances: it picks InstanceId. Strict adds the other kind.
        for (files, instances) in [(1, 1), (30, 2)] {
            let exp = fleet(files, instances);
            let mut plan = plan(&exp);
            let coverage = widen_for_strict(&mut plan, &exp);
            assert_eq!(kinds(&plan), (files, instances, 0), "{files} × {instances}");
            assert_eq!(coverage.names.len(), files);
            assert_eq!(coverage.instances.len(), instances);
            assert!(coverage.uncovered.is_empty());
        }
    }

    #[test]
    fn strict_widens_pinned_files_and_names_eflo_as_uncovered() {
        let mut exp = fleet(2, 1);
        let origin = exp.files[0].origin;
        exp.files[0].invoke_id = Some(Attr::declared("f-1".to_owned(), origin));
        exp.files[1].provider = Provider::Eflo;
        exp.files[1].invoke_id = Some(Attr::declared("f-2".to_owned(), origin));
        let mut plan = plan(&exp);
        let coverage = widen_for_strict(&mut plan, &exp);
        assert_eq!(kinds(&plan), (1, 1, 2), "{:?}", plan.queries);
        assert_eq!(coverage.uncovered, ["/etc/f1.conf"]);
    }

    #[test]
    fn eflo_without_invoke_id_is_unplannable() {
        let mut exp = fleet(1, 1);
        exp.files[0].provider = Provider::Eflo;
        let plan = plan(&exp);
        assert!(plan.queries.is_empty());
        assert_eq!(plan.unplannable[0].file, 0);
        assert!(plan.unplannable[0].reason.contains("invoke_id"));
    }

    #[test]
    fn commands_narrow_to_a_single_instance_and_deduplicate() {
        let text = "commands:\n  - command_id: c-1\n    instances: [i-a]\n  - invoke_id: t-1\n    instances: [i-a, i-b]\n  - command_id: c-1 # again\n    instances: [i-a]\n";
        let mut exp = expectations(text);
        let one = command(
            &exp,
            "- command_id: c-1\n",
            CommandSelector::CommandId("c-1".into()),
            &["i-a"],
        );
        let two = command(
            &exp,
            "- invoke_id: t-1",
            CommandSelector::InvokeId("t-1".into()),
            &["i-a", "i-b"],
        );
        let mut three = command(
            &exp,
            "- command_id: c-1 #",
            CommandSelector::CommandId("c-1".into()),
            &["i-a"],
        );
        three.region = Some(declared(&exp, three.origin, "c-1", "cn-hangzhou".into()));
        exp.commands = vec![one, two, three];
        let plan = plan(&exp);
        assert_eq!(
            plan.queries,
            [
                Query::CommandsByInvokeId {
                    region: "cn-hangzhou".into(),
                    invoke_id: "t-1".into(),
                    instance_id: None,
                    tags: Vec::new(),
                },
                Query::CommandsByCommandId {
                    region: "cn-hangzhou".into(),
                    command_id: "c-1".into(),
                    instance_id: Some("i-a".into()),
                    tags: Vec::new(),
                },
            ]
        );
        assert_eq!(plan.estimated_pages, 2);
    }

    #[test]
    fn commands_with_different_task_tags_never_share_a_query() {
        let text = "commands:\n  - command_id: c-1\n  - command_id: c-1 # pinned\n";
        let mut exp = expectations(text);
        let plain = command(
            &exp,
            "- command_id: c-1\n",
            CommandSelector::CommandId("c-1".into()),
            &[],
        );
        let mut pinned = command(
            &exp,
            "- command_id: c-1 #",
            CommandSelector::CommandId("c-1".into()),
            &[],
        );
        pinned.task_tags = vec![("release".into(), "42".into())];
        exp.commands = vec![plain, pinned];
        let plan = plan(&exp);
        let by = |tags: Vec<(String, String)>| Query::CommandsByCommandId {
            region: "cn-hangzhou".into(),
            command_id: "c-1".into(),
            instance_id: None,
            tags,
        };
        let tagged = by(vec![("release".into(), "42".into())]);
        assert_eq!(plan.queries, [by(Vec::new()), tagged.clone()]);
        // Each query is the evidence of its own command only: a failed
        // tagged listing leaves the pinned command unverified, not the other.
        assert!(tagged.covers_command(&exp.commands[1], None));
        assert!(!tagged.covers_command(&exp.commands[0], None));
        assert!(!by(Vec::new()).covers_command(&exp.commands[1], None));
        assert_eq!(
            tagged.to_string(),
            "DescribeInvocationResults CommandId=c-1 Tag.1.Key=release Tag.1.Value=42 in cn-hangzhou"
        );
    }

    #[test]
    fn command_queries_without_tags_read_and_write_as_before() {
        // Snapshots written before commands took `task_tags` still load.
        let old = r#"{"kind":"commands_by_invoke_id","region":"cn-hangzhou","invoke_id":"t-1","instance_id":null}"#;
        let query: Query = serde_json::from_str(old).unwrap();
        assert_eq!(
            query,
            Query::CommandsByInvokeId {
                region: "cn-hangzhou".into(),
                invoke_id: "t-1".into(),
                instance_id: None,
                tags: Vec::new(),
            }
        );
        assert_eq!(serde_json::to_string(&query).unwrap(), old);
    }
}
