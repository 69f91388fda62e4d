//! Instance sets that only the cloud can answer (`tags:`, `resource_group:`),
//! resolved when the check runs, before it plans.
//!
//! A fleet changes between two checks, so a tag set is listed through ECS
//! DescribeInstances each time, in the region of every entry that uses it,
//! and its members join those entries' targets. What each set resolved to
//! goes into the report. Two outcomes would otherwise pass in silence, and
//! both leave the check unverified (exit 3) instead: a listing that failed
//! (its entries would check fewer targets than the manifest means), and a
//! set that resolved to no instance (there is nothing to verify, which
//! proves nothing either way, so it is neither in sync nor drift).

use std::collections::BTreeMap;
use std::sync::Arc;

use compact_str::CompactString;
use foldhash::HashSet;

use futures_util::future::join_all;

use crate::cloud::{CloudClient, InstanceFilter};
use crate::expect::{Expectations, InstanceQuery, Origin, TargetRef, TargetSource};
use crate::findings::FindingCode;
use crate::observe::GapReason;
use crate::report::model::{Detail, Finding, InstanceSetReport, Locator, Report};

/// One set in one region, and the entry that first named it (where its
/// findings are labelled).
#[derive(Debug, Clone)]
pub struct ResolvedSet {
    pub report: InstanceSetReport,
    origin: Origin,
}

/// The DescribeInstances listings a check of `expectations` starts with:
/// (region, set name, filters), each once, sorted.
pub fn listings(expectations: &Expectations) -> Vec<(String, String, String)> {
    let listed: std::collections::BTreeSet<(String, String, String)> = named_sets(expectations)
        .map(|(region, source)| {
            (
                region.to_owned(),
                source.set.clone(),
                source.query.describe(),
            )
        })
        .collect();
    listed.into_iter().collect()
}

/// Lists every set the entries name and adds its members to their targets.
/// Never fails: a set whose listing failed is returned with its error.
pub async fn resolve(client: &CloudClient, expectations: &mut Expectations) -> Vec<ResolvedSet> {
    // Each (region, set) is listed once, however many entries use it.
    let mut wanted: BTreeMap<(String, String), (InstanceQuery, Origin)> = BTreeMap::new();
    for (region, source) in named_sets(expectations) {
        wanted
            .entry((region.to_owned(), source.set.clone()))
            .or_insert_with(|| (source.query.clone(), source.origin));
    }
    if wanted.is_empty() {
        return Vec::new();
    }
    let listings = wanted.iter().map(|((region, _), (query, _))| {
        let filter = InstanceFilter {
            tags: query.tags.clone(),
            resource_group_id: query.resource_group.clone(),
            status: query.status.clone(),
        };
        async move { client.describe_instances(region, &filter).await }
    });
    let results = join_all(listings).await;
    let mut resolved = Vec::new();
    let mut members: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (((region, name), (query, origin)), result) in wanted.into_iter().zip(results) {
        let (instances, error) = match result {
            Ok(listed) => {
                let mut ids: Vec<String> = listed.into_iter().map(|i| i.id).collect();
                ids.sort();
                members.insert((region.clone(), name.clone()), ids.clone());
                (Some(ids), None)
            }
            Err(err) => (None, Some(err.to_string())),
        };
        tracing::info!(set = %name, %region, resolved = instances.as_ref().map(Vec::len), "instance set");
        resolved.push(ResolvedSet {
            report: InstanceSetReport {
                name,
                region,
                source: query.describe(),
                instances,
                error,
            },
            origin,
        });
    }
    let add = |region: &str, targets: &mut Vec<TargetRef>, sources: &[TargetSource]| {
        let mut seen: HashSet<CompactString> = targets.iter().map(|t| t.id.clone()).collect();
        for source in sources {
            let set: Arc<str> = Arc::from(source.set.as_str());
            for id in members
                .get(&(region.to_owned(), source.set.clone()))
                .into_iter()
                .flatten()
            {
                let id = CompactString::from(id.as_str());
                if seen.insert(id.clone()) {
                    targets.push(TargetRef {
                        id,
                        origin: source.origin,
                        via_set: Some(set.clone()),
                    });
                }
            }
        }
    };
    for file in &mut expectations.files {
        let region = file.region().to_owned();
        add(&region, &mut file.targets, &file.target_sources);
    }
    for command in &mut expectations.commands {
        let region = command.region().to_owned();
        add(&region, &mut command.targets, &command.target_sources);
    }
    resolved
}

/// The sets as they stand when the API cannot be reached at all: each
/// named set, unresolved for `reason`.
pub fn unresolved(expectations: &Expectations, reason: &str) -> Vec<ResolvedSet> {
    let mut sets: BTreeMap<(String, String), ResolvedSet> = BTreeMap::new();
    for (region, source) in named_sets(expectations) {
        sets.entry((region.to_owned(), source.set.clone()))
            .or_insert_with(|| ResolvedSet {
                report: InstanceSetReport {
                    name: source.set.clone(),
                    region: region.to_owned(),
                    source: source.query.describe(),
                    instances: None,
                    error: Some(reason.to_owned()),
                },
                origin: source.origin,
            });
    }
    sets.into_values().collect()
}

/// Every (region, set) an entry names, entries in manifest order.
fn named_sets(expectations: &Expectations) -> impl Iterator<Item = (&str, &TargetSource)> {
    let files = expectations
        .files
        .iter()
        .flat_map(|f| f.target_sources.iter().map(move |s| (f.region(), s)));
    let commands = expectations
        .commands
        .iter()
        .flat_map(|c| c.target_sources.iter().map(move |s| (c.region(), s)));
    files.chain(commands)
}

/// Puts the sets into `report`, with a finding for each that failed or
/// came back empty.
pub fn record(sets: &[ResolvedSet], expectations: &Expectations, report: &mut Report) {
    let locator = Locator::new(&expectations.sources);
    for set in sets {
        let InstanceSetReport {
            name,
            region,
            source,
            instances,
            error,
        } = &set.report;
        let (code, message, label, detail, help) = match (instances, error) {
            (Some(ids), _) if ids.is_empty() => (
                FindingCode::InstanceSetEmpty,
                format!("instance set `{name}` resolved to no instance in {region} ({source})"),
                "no instance".to_owned(),
                None,
                None,
            ),
            (Some(_), _) => continue,
            (None, error) => (
                FindingCode::Unverified,
                format!(
                    "instance set `{name}` could not be resolved in {region}: {}",
                    error.as_deref().unwrap_or("unknown error")
                ),
                format!("unverified: {}", GapReason::QueryFailed.title()),
                Some(Detail::Unverified(GapReason::QueryFailed)),
                Some(
                    "the set needs ecs:DescribeInstances; fix credentials, permissions or the \
                     network and run the check again"
                        .to_owned(),
                ),
            ),
        };
        report.general.push(Finding {
            code,
            message,
            target: None,
            file: None,
            location: locator.locate(set.origin),
            label,
            expected: None,
            observed: None,
            detail,
            help,
            waived: None,
        });
    }
    report.instance_sets = sets.iter().map(|s| s.report.clone()).collect();
}
