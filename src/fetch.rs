//! Runs a plan's queries against the cloud and gathers what they return.
//!
//! Queries run concurrently; the client's own semaphore bounds how many
//! requests are in flight. A task reached by two queries (by name and by
//! instance, say) is kept once, with the targets every listing showed. Any
//! query that fails fails the whole fetch: a partial answer is never
//! evaluated as if it were complete.

use std::collections::{HashMap, HashSet};

use futures_util::future::try_join_all;

use crate::cloud::{CloudClient, CloudError, InvocationFilter, SendFileFilter};
use crate::observe::{CommandResult, FileInvocation, Observations};
use crate::plan::{Plan, Query};
use crate::protocol::Provider;

/// What one query returned.
enum Fetched {
    Files(Vec<FileInvocation>),
    Commands(Vec<CommandResult>),
}

/// Runs every query of `plan`; `Ok` only when every listing was complete.
pub async fn fetch(client: &CloudClient, plan: &Plan) -> Result<Observations, CloudError> {
    let results = try_join_all(plan.queries.iter().map(|query| run(client, query))).await?;
    let mut observations = Observations::default();
    let mut seen_tasks: HashMap<(Provider, String, String), usize> = HashMap::new();
    let mut seen_runs = HashSet::new();
    for fetched in results {
        match fetched {
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
                observations
                    .commands
                    .extend(commands.into_iter().filter(|c| {
                        seen_runs.insert((
                            c.region.clone(),
                            c.invoke_id.clone(),
                            c.instance_id.clone(),
                            c.repeats,
                            c.started,
                        ))
                    }))
            }
        }
    }
    Ok(observations)
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

async fn run(client: &CloudClient, query: &Query) -> Result<Fetched, CloudError> {
    let by = |invoke_id: Option<&String>, instance_id: Option<&String>, name: Option<&String>| {
        SendFileFilter {
            invoke_id: invoke_id.cloned(),
            instance_id: instance_id.cloned(),
            name: name.cloned(),
            ..SendFileFilter::default()
        }
    };
    let runs =
        |invoke_id: Option<&String>, command_id: Option<&String>, instance_id: &Option<String>| {
            InvocationFilter {
                invoke_id: invoke_id.cloned(),
                command_id: command_id.cloned(),
                instance_id: instance_id.clone(),
                ..InvocationFilter::default()
            }
        };
    match query {
        Query::FilesByInvokeId {
            provider: Provider::Eflo,
            region,
            invoke_id,
        } => Ok(Fetched::Files(
            client
                .eflo_describe_send_file_results(region, invoke_id, None)
                .await?,
        )),
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
        Query::CommandsByInvokeId {
            region,
            invoke_id,
            instance_id,
        } => commands(client, region, runs(Some(invoke_id), None, instance_id)).await,
        Query::CommandsByCommandId {
            region,
            command_id,
            instance_id,
        } => commands(client, region, runs(None, Some(command_id), instance_id)).await,
    }
}

async fn files(
    client: &CloudClient,
    region: &str,
    filter: SendFileFilter,
) -> Result<Fetched, CloudError> {
    let mut files = Vec::new();
    client
        .describe_send_file_results(region, &filter, |page| files.extend(page))
        .await?;
    Ok(Fetched::Files(files))
}

async fn commands(
    client: &CloudClient,
    region: &str,
    filter: InvocationFilter,
) -> Result<Fetched, CloudError> {
    let mut commands = Vec::new();
    client
        .describe_invocation_results(region, &filter, |page| commands.extend(page))
        .await?;
    Ok(Fetched::Commands(commands))
}
