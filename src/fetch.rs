//! Runs a plan's queries against the cloud and gathers what they return.
//!
//! Queries run concurrently; the client's own semaphore bounds how many
//! requests are in flight. A task reached by two queries (by name and by
//! instance, say) is kept once, with the targets every listing showed. A
//! query that fails (after the client's retries) keeps nothing of what it
//! read: it becomes a [`Gap`], and every expectation it covers is judged
//! `unverified` with its reason, while the other queries' evidence is still
//! judged. A partial answer is never
//! evaluated as if it were complete.
//!
//! As each query ends, the caller is told how far the fetch has got
//! ([`FetchProgress`]), so a terminal can show it; the records are still
//! gathered in plan order, whatever order the queries end in.
//!
//! `--wait` keeps every query's latest answer ([`Answers`]) and [`refresh`]es
//! only the queries whose answers can still change.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use miette::Diagnostic as _;

use crate::cloud::{
    CloudClient, CloudError, FetchSummary, InvocationFilter, PageOf, Paging, SendFileFilter,
};
use jiff::Timestamp;

use crate::observe::{CommandResult, FileInvocation, Gap, GapReason, Observations};
use crate::plan::{Plan, Query};
use crate::protocol::Provider;

/// What one query returned.
#[derive(Clone)]
enum Fetched {
    Files(Vec<FileInvocation>),
    Commands(Vec<CommandResult>),
    /// The query failed: what it covers is unverified.
    Failed(Gap),
}

/// How far a fetch has got, counted over the queries that have ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchProgress {
    /// Queries ended (answered or failed), of `total`.
    pub done: usize,
    pub total: usize,
    /// Queries that failed (their coverage is unverified).
    pub failed: usize,
    /// Records the answered queries listed.
    pub records: u64,
    /// Requests retried, and throttled answers, in the answered queries.
    pub retries: u64,
    pub throttled: u64,
}

/// Reads page 1 of every task of each region in
/// [`Plan::whole_region_candidates`] (one request), and lists the region
/// whole where its `TotalCount` takes fewer pages than its files' own
/// listings: a small fleet's fifty `Name` listings of one page each become
/// the two pages its hundred tasks fill, the first of them this one. A
/// page that cannot be read leaves the plan as it was.
pub async fn size_regions(client: &CloudClient, plan: &mut Plan) -> FirstPages {
    let candidates = std::mem::take(&mut plan.whole_region_candidates);
    let pages = futures_util::future::join_all(
        candidates
            .keys()
            .map(|region| client.first_send_file_page(region)),
    )
    .await;
    let mut first_pages = FirstPages::default();
    for ((region, filtered_pages), page) in candidates.iter().zip(pages) {
        match page {
            Ok(page) => {
                let tasks = page.total.unwrap_or_default();
                if Plan::whole_region_is_cheaper(tasks, *filtered_pages) {
                    tracing::info!(region, tasks, filtered_pages, "listing the region whole");
                    plan.list_whole_region(region, tasks, *filtered_pages);
                    first_pages.0.insert(region.clone(), page);
                } else {
                    tracing::info!(region, tasks, filtered_pages, "listing by file");
                }
            }
            Err(error) => {
                tracing::info!(region, %error, "the region's size is unknown: listing by file");
            }
        }
    }
    first_pages
}

/// Page 1 of each region [`size_regions`] chose to list whole, kept for
/// that listing's first pass (a `--wait` poll after it reads page 1 anew).
#[derive(Debug, Default)]
pub struct FirstPages(BTreeMap<String, PageOf<FileInvocation>>);

impl FirstPages {
    /// The kept page 1 of each of `queries` that has one, taken: only the
    /// first listing may start from it.
    fn take_for(&mut self, queries: &[Query]) -> Vec<Option<PageOf<FileInvocation>>> {
        queries
            .iter()
            .map(|query| match query {
                Query::FilesInRegion { region } => self.0.remove(region),
                _ => None,
            })
            .collect()
    }
}

/// Runs every query of `plan`: the complete listings' records, and a gap
/// for each query that failed.
pub async fn fetch(client: &CloudClient, plan: &Plan) -> Observations {
    fetch_reporting(client, plan, FirstPages::default(), &mut |_| {}).await
}

/// [`fetch`], starting listings from the `first_pages` read to plan, and
/// calling `on_progress` each time a query ends.
pub async fn fetch_reporting(
    client: &CloudClient,
    plan: &Plan,
    mut first_pages: FirstPages,
    on_progress: &mut dyn FnMut(&FetchProgress),
) -> Observations {
    let mut results: Vec<Option<Fetched>> = plan.queries.iter().map(|_| None).collect();
    let firsts = first_pages.take_for(&plan.queries);
    run_queries(client, &plan.queries, firsts, &mut results, on_progress).await;
    gather(
        results
            .into_iter()
            .map(|result| result.expect("every query ends once")),
    )
}

/// Every query's latest answer, kept between the polls of `--wait` so that
/// a poll asks again only what can still change.
pub struct Answers {
    /// Per plan query: its latest answer, and when it was in.
    latest: Vec<Option<(Fetched, Timestamp)>>,
    /// Pages read to plan, for the first poll of the listings they begin.
    first_pages: FirstPages,
}

impl Answers {
    /// No answers yet: the first [`refresh`] asks every query.
    pub fn new(plan: &Plan, first_pages: FirstPages) -> Self {
        Self {
            latest: plan.queries.iter().map(|_| None).collect(),
            first_pages,
        }
    }

    /// The pages read to plan, for a fetch that does not poll.
    pub fn take_first_pages(&mut self) -> FirstPages {
        std::mem::take(&mut self.first_pages)
    }

    /// The observations of every latest answer. Their `fetched_at` is when
    /// the oldest of them was fetched: the evidence is as old as that.
    pub fn observations(&self) -> Observations {
        let mut observations = gather(self.latest.iter().map(|answer| {
            answer
                .as_ref()
                .expect("refresh answered every query")
                .0
                .clone()
        }));
        observations.fetched_at = self.latest.iter().flatten().map(|(_, at)| *at).min();
        observations
    }
}

/// Runs the queries of `plan` that have no answer yet, failed last time, or
/// that `again` selects (by index), and keeps their answers, stamped with
/// `now()` once they are in.
pub async fn refresh(
    client: &CloudClient,
    plan: &Plan,
    answers: &mut Answers,
    again: &dyn Fn(usize) -> bool,
    now: &dyn Fn() -> Timestamp,
    on_progress: &mut dyn FnMut(&FetchProgress),
) {
    let asked: Vec<usize> = (0..plan.queries.len())
        .filter(|&at| match &answers.latest[at] {
            None | Some((Fetched::Failed(_), _)) => true,
            Some(_) => again(at),
        })
        .collect();
    tracing::debug!(asked = asked.len(), of = plan.queries.len(), "polling");
    let queries: Vec<Query> = asked.iter().map(|&at| plan.queries[at].clone()).collect();
    let firsts = answers.first_pages.take_for(&queries);
    let mut results: Vec<_> = queries.iter().map(|_| None).collect();
    run_queries(client, &queries, firsts, &mut results, on_progress).await;
    let asked_at = now();
    for (at, result) in asked.into_iter().zip(results) {
        answers.latest[at] = Some((result.expect("every query ends once"), asked_at));
    }
}

/// Runs every query concurrently; `results[at]` gets query `at`'s
/// records, or its gap.
async fn run_queries(
    client: &CloudClient,
    queries: &[Query],
    firsts: Vec<Option<PageOf<FileInvocation>>>,
    results: &mut [Option<Fetched>],
    on_progress: &mut dyn FnMut(&FetchProgress),
) {
    // Each query on a task of its own, so its pages are parsed and gathered
    // on whichever core is free, not all on the caller's.
    let mut running: FuturesUnordered<_> = queries
        .iter()
        .zip(firsts)
        .enumerate()
        .map(|(at, (query, first))| {
            let (client, query) = (client.clone(), query.clone());
            let task = AbortOnDrop(tokio::spawn(
                async move { run(&client, &query, first).await },
            ));
            async move { (at, task.join().await) }
        })
        .collect();
    let mut progress = FetchProgress {
        total: queries.len(),
        ..FetchProgress::default()
    };
    while let Some((at, result)) = running.next().await {
        progress.done += 1;
        let query = &queries[at];
        results[at] = Some(match result {
            Ok((fetched, summary)) => {
                progress.records += summary.records;
                progress.retries += summary.retries;
                progress.throttled += summary.throttled;
                fetched
            }
            Err(error) => {
                progress.failed += 1;
                tracing::warn!(%query, %error, "query failed; what it covers is unverified");
                Fetched::Failed(gap(query, &error))
            }
        });
        on_progress(&progress);
    }
}

/// The queries' records, each task once, in plan order, and their gaps.
fn gather(results: impl Iterator<Item = Fetched>) -> Observations {
    let mut observations = Observations::default();
    let mut seen_tasks: HashMap<(Provider, String, String), usize> = HashMap::new();
    let mut seen_runs: HashMap<_, usize> = HashMap::new();
    for fetched in results {
        match fetched {
            Fetched::Failed(gap) => observations.gaps.push(gap),
            Fetched::Files(files) => {
                for file in files {
                    let key = (file.provider, file.region.clone(), file.invoke_id.clone());
                    match seen_tasks.get(&key) {
                        // A listing by instance shows only that instance
                        // of a task: merge, so no query order hides one.
                        Some(&at) => merge_targets(&mut observations.files[at], file),
                        None => {
                            seen_tasks.insert(key, observations.files.len());
                            observations.files.push(file);
                        }
                    }
                }
            }
            Fetched::Commands(commands) => {
                for command in commands {
                    let key = (
                        command.region.clone(),
                        command.invoke_id.clone(),
                        command.instance_id.clone(),
                        command.repeats,
                        command.started,
                    );
                    match seen_runs.get(&key) {
                        // Listed again (by another command's query): kept
                        // once, under every tag set that listed it.
                        Some(&at) => {
                            observations.commands[at].merge_listings(&command.listed_with_tags)
                        }
                        None => {
                            seen_runs.insert(key, observations.commands.len());
                            observations.commands.push(command);
                        }
                    }
                }
            }
        }
    }
    observations
}

/// A spawned query that ends with the fetch: dropping the fetch (at the
/// check's deadline, say) stops its queries rather than leaving them running.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    /// The task's result; a panic in it is the caller's panic.
    async fn join(mut self) -> T {
        match (&mut self.0).await {
            Ok(value) => value,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("a fetch task was cancelled while awaited: {error}"),
        }
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a failed query leaves behind: its reason, and the error's whole
/// chain (the action, what was missing) and help.
pub fn gap(query: &Query, error: &CloudError) -> Gap {
    let root = match error {
        CloudError::GaveUp { last, .. } => last.as_ref(),
        other => other,
    };
    let reason = match root {
        CloudError::Malformed { .. } => GapReason::MalformedResponse,
        CloudError::Incomplete { .. }
        | CloudError::ListingChanged { .. }
        | CloudError::ListingStalled { .. }
        | CloudError::ListingTooLong { .. } => GapReason::ListingChanged,
        CloudError::Deadline { .. } => GapReason::Deadline,
        _ => GapReason::QueryFailed,
    };
    let mut detail = error.to_string();
    if !std::ptr::eq(root, error) {
        detail = format!("{detail}: {root}");
    }
    Gap {
        query: query.clone(),
        reason,
        detail,
        help: error.help().map(|help| help.to_string()),
    }
}

/// Adds the targets of `other` (the same task, from another listing) that
/// `task` does not have yet.
fn merge_targets(task: &mut FileInvocation, other: FileInvocation) {
    for target in other.targets {
        if !task.targets.iter().any(|t| t.id == target.id) {
            task.targets.push(target);
        }
    }
}

/// Runs one query: its records, and what its listing cost.
async fn run(
    client: &CloudClient,
    query: &Query,
    first: Option<PageOf<FileInvocation>>,
) -> Result<(Fetched, FetchSummary), CloudError> {
    let by = |invoke_id: Option<&String>, instance_id: Option<&String>, name: Option<&String>| {
        SendFileFilter {
            invoke_id: invoke_id.cloned(),
            instance_id: instance_id.cloned(),
            name: name.cloned(),
            ..SendFileFilter::default()
        }
    };
    let runs = |invoke_id: Option<&String>,
                command_id: Option<&String>,
                instance_id: &Option<String>,
                tags: &[(String, String)]| InvocationFilter {
        invoke_id: invoke_id.cloned(),
        command_id: command_id.cloned(),
        instance_id: instance_id.clone(),
        tags: tags.to_vec(),
        ..InvocationFilter::default()
    };
    match query {
        Query::FilesByInvokeId {
            provider: Provider::Eflo,
            region,
            invoke_id,
        } => {
            let files = client
                .eflo_describe_send_file_results(region, invoke_id, None)
                .await?;
            let summary = FetchSummary {
                records: files.len() as u64,
                ..FetchSummary::default()
            };
            Ok((Fetched::Files(files), summary))
        }
        Query::FilesByInvokeId {
            provider: Provider::Ecs,
            region,
            invoke_id,
        } => files(client, region, by(Some(invoke_id), None, None)).await,
        Query::FilesByName { region, name } => {
            files(client, region, by(None, None, Some(name))).await
        }
        Query::FilesByInstance {
            region,
            instance_id,
        } => files(client, region, by(None, Some(instance_id), None)).await,
        // By page number: the count that chose this listing checks it.
        Query::FilesInRegion { region } => {
            let filter = SendFileFilter {
                paging: Some(Paging::Pages),
                ..SendFileFilter::default()
            };
            let mut files = Vec::new();
            let summary = client
                .describe_send_file_results_after(region, &filter, first, |page| files.extend(page))
                .await?;
            Ok((Fetched::Files(files), summary))
        }
        Query::FilesByTags { region, name, tags } => {
            let filter = SendFileFilter {
                tags: tags.clone(),
                ..by(None, None, Some(name))
            };
            files(client, region, filter).await
        }
        Query::CommandsByInvokeId {
            region,
            invoke_id,
            instance_id,
            tags,
        } => {
            commands(
                client,
                region,
                runs(Some(invoke_id), None, instance_id, tags),
            )
            .await
        }
        Query::CommandsByCommandId {
            region,
            command_id,
            instance_id,
            tags,
        } => {
            commands(
                client,
                region,
                runs(None, Some(command_id), instance_id, tags),
            )
            .await
        }
    }
}

async fn files(
    client: &CloudClient,
    region: &str,
    filter: SendFileFilter,
) -> Result<(Fetched, FetchSummary), CloudError> {
    let mut files = Vec::new();
    let summary = client
        .describe_send_file_results(region, &filter, |page| files.extend(page))
        .await?;
    Ok((Fetched::Files(files), summary))
}

async fn commands(
    client: &CloudClient,
    region: &str,
    filter: InvocationFilter,
) -> Result<(Fetched, FetchSummary), CloudError> {
    let mut commands = Vec::new();
    let summary = client
        .describe_invocation_results(region, &filter, |page| commands.extend(page))
        .await?;
    // The results carry no tags: that this query listed them is the
    // evidence that their invocations carry the filter's.
    if !filter.tags.is_empty() {
        let mut tags = filter.tags.clone();
        tags.sort();
        for command in &mut commands {
            command.listed_with_tags = vec![tags.clone()];
        }
    }
    Ok((Fetched::Commands(commands), summary))
}
