//! `shipcheck plan`: what a check would ask the API, worked out from the
//! manifest alone.
//!
//! A reviewer (or whoever writes the RAM policy) wants to see the calls,
//! the regions and the permissions before giving a CI job credentials, so
//! this reads no credentials and opens no connection. It runs the check's
//! own narrowing and planning ([`crate::check`]), so what it prints is what
//! a check with the same flags would query. One difference: a check may
//! take a region from the credentials' profile; the plan knows only
//! `--region` and `ALIBABA_CLOUD_REGION_ID`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::check::{CheckError, CheckOptions};
use crate::expect::Expectations;
use crate::narrow::Narrowing;
use crate::plan::{Query, StrictCoverage};
use crate::probe::ProbeDescription;

/// The queries a check would make, and what they need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRun {
    pub queries: Vec<Query>,
    /// The planner's lower bound on pages, all queries together.
    pub estimated_pages: usize,
    pub strict_coverage: Option<StrictCoverage>,
    pub narrowed: Option<Narrowing>,
    /// Instance sets listed through DescribeInstances before the queries
    /// for their members are planned: (region, set, filters).
    pub instance_sets: Vec<(String, String, String)>,
    /// With `--probe`: the RunCommand calls that read the disks.
    pub probe: Option<ProbeDescription>,
    /// Regions whose `TotalCount` the check asks first, with the pages of
    /// their own listings: fewer pages of every task replace them.
    pub sized_regions: BTreeMap<String, usize>,
}

/// Plans `expectations` as a check with `options` would, without any call.
pub fn dry_run(
    mut expectations: Expectations,
    options: &CheckOptions,
) -> Result<DryRun, CheckError> {
    crate::check::prepare(&mut expectations, options, None)?;
    // Tag and resource-group sets are listed when the check runs; their
    // members' queries cannot be planned without that call.
    let instance_sets = crate::fleet::listings(&expectations);
    crate::check::narrow(&mut expectations, options)?;
    let (plan, strict_coverage) = crate::check::planned(&expectations, options)?;
    let probe = options.probe.then(|| crate::probe::describe(&expectations));
    Ok(DryRun {
        queries: plan.queries,
        estimated_pages: plan.estimated_pages,
        sized_regions: plan.whole_region_candidates,
        strict_coverage,
        narrowed: (!options.narrowing.is_empty()).then(|| options.narrowing.clone()),
        instance_sets,
        probe,
    })
}

impl DryRun {
    /// The regions the queries go to, sorted.
    pub fn regions(&self) -> Vec<&str> {
        let regions: BTreeSet<&str> = self
            .queries
            .iter()
            .map(Query::region)
            .chain(
                self.instance_sets
                    .iter()
                    .map(|(region, _, _)| region.as_str()),
            )
            .collect();
        regions.into_iter().collect()
    }

    /// The RAM actions a policy must allow (`ecs:DescribeSendFileResults`,
    /// `eflo:DescribeSendFileResults`, …), sorted.
    pub fn ram_actions(&self) -> Vec<String> {
        let mut actions: BTreeSet<String> = self.queries.iter().map(ram_action).collect();
        if !self.instance_sets.is_empty() {
            actions.insert("ecs:DescribeInstances".to_owned());
        }
        if let Some(probe) = &self.probe {
            actions.extend(probe.ram_actions.iter().map(|a| (*a).to_owned()));
        }
        actions.into_iter().collect()
    }

    /// The human form: one line per query, then regions and permissions.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "shipcheck plan: {} (at least {} {}), no API call made\n",
            count(self.queries.len(), "query", "queries"),
            self.estimated_pages,
            if self.estimated_pages == 1 {
                "page"
            } else {
                "pages"
            },
        );
        if let Some(narrowed) = &self.narrowed {
            let _ = writeln!(out, "{}\n", narrowed.describe());
        }
        for (region, set, filters) in &self.instance_sets {
            let _ = writeln!(
                out,
                "  ecs DescribeInstances for set {set}: {filters} ({region}); its members' queries are planned when the check runs"
            );
        }
        for (region, pages) in &self.sized_regions {
            let _ = writeln!(
                out,
                "  ecs DescribeSendFileResults PageNumber=1 PageSize=50 ({region}): page 1 of \
                 every task; if its TotalCount fills fewer than {pages} pages, the rest of them \
                 replace the {region} listings below"
            );
        }
        for query in &self.queries {
            let _ = writeln!(out, "  {}", query_line(query));
        }
        if let Some(probe) = &self.probe {
            out.push_str(&probe_section(probe));
        }
        let _ = writeln!(out, "\nregions: {}", self.regions().join(", "));
        let _ = writeln!(out, "RAM actions: {}", self.ram_actions().join(", "));
        if let Some(coverage) = &self.strict_coverage {
            let _ = writeln!(out, "\n{}", crate::report::human::strict_line(coverage));
        }
        out
    }

    /// The JSON form, pretty-printed with a trailing newline.
    pub fn render_json(&self) -> String {
        let document = JsonPlan {
            queries: self.queries.iter().map(JsonQuery::from).collect(),
            estimated_pages: self.estimated_pages,
            regions: self.regions(),
            ram_actions: self.ram_actions(),
            strict: self.strict_coverage.is_some(),
            narrowed: self.narrowed.as_ref().map(|narrowed| JsonNarrowed {
                only: &narrowed.only,
                instances: &narrowed.instances,
            }),
            instance_sets: self
                .instance_sets
                .iter()
                .map(|(region, name, filters)| JsonInstanceSet {
                    name,
                    region,
                    filters,
                })
                .collect(),
            probe: self.probe.as_ref(),
            sized_regions: self
                .sized_regions
                .iter()
                .map(|(region, pages)| JsonSizedRegion {
                    region,
                    listed_whole_below_pages: *pages,
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&document)
            .expect("the plan types serialise to JSON infallibly");
        text.push('\n');
        text
    }
}

/// `--probe`: each RunCommand with its parameters and its script.
fn probe_section(probe: &ProbeDescription) -> String {
    let mut out = String::new();
    let runs = probe
        .calls
        .iter()
        .filter(|c| c.action == "RunCommand")
        .count();
    let _ = writeln!(
        out,
        "\n--probe: {}, each followed by DescribeInvocationResults until it finishes",
        crate::text::count(runs, "RunCommand")
    );
    for call in &probe.calls {
        let _ = writeln!(out, "\n  {}", call.action);
        for (name, value) in &call.parameters {
            if name == "CommandContent" {
                let _ = writeln!(out, "    CommandContent: (the script below)");
            } else {
                let _ = writeln!(out, "    {name}: {value}");
            }
        }
        if let Some(script) = &call.script {
            let _ = writeln!(out, "    script:");
            for line in script.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    out
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `ecs:DescribeSendFileResults`: the product's RAM namespace, then the action.
fn ram_action(query: &Query) -> String {
    format!("{}:{}", product(query), query.action())
}

/// The API product a query goes to, by its short name (`ecs`, `eflo`, as
/// RAM names it).
fn product(query: &Query) -> &'static str {
    query.provider().ram_namespace()
}

/// The request parameters that select what a query lists.
fn filters(query: &Query) -> BTreeMap<String, &str> {
    let mut filters = BTreeMap::new();
    match query {
        Query::FilesByName { name, .. } => {
            filters.insert("Name".to_owned(), name.as_str());
        }
        Query::FilesByInvokeId { invoke_id, .. } => {
            filters.insert("InvokeId".to_owned(), invoke_id.as_str());
        }
        Query::FilesByInstance { instance_id, .. } => {
            filters.insert("InstanceId".to_owned(), instance_id.as_str());
        }
        Query::FilesInRegion { .. } => {}
        Query::FilesByTags { name, tags, .. } => {
            filters.insert("Name".to_owned(), name.as_str());
            insert_tags(&mut filters, tags);
        }
        Query::CommandsByInvokeId {
            invoke_id,
            instance_id,
            tags,
            ..
        } => {
            filters.insert("InvokeId".to_owned(), invoke_id.as_str());
            if let Some(id) = instance_id {
                filters.insert("InstanceId".to_owned(), id.as_str());
            }
            insert_tags(&mut filters, tags);
        }
        Query::CommandsByCommandId {
            command_id,
            instance_id,
            tags,
            ..
        } => {
            filters.insert("CommandId".to_owned(), command_id.as_str());
            if let Some(id) = instance_id {
                filters.insert("InstanceId".to_owned(), id.as_str());
            }
            insert_tags(&mut filters, tags);
        }
    }
    filters
}

/// `Tag.N.Key`/`Tag.N.Value`, numbered from 1 as the API takes them.
fn insert_tags<'a>(filters: &mut BTreeMap<String, &'a str>, tags: &'a [(String, String)]) {
    for (n, (key, value)) in tags.iter().enumerate() {
        filters.insert(format!("Tag.{}.Key", n + 1), key.as_str());
        filters.insert(format!("Tag.{}.Value", n + 1), value.as_str());
    }
}

/// `ecs DescribeSendFileResults Name=app.conf (cn-hangzhou)`.
fn query_line(query: &Query) -> String {
    let filters: Vec<String> = filters(query)
        .into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    format!(
        "{} {} {} ({})",
        product(query),
        query.action(),
        filters.join(" "),
        query.region()
    )
}

#[derive(Serialize)]
struct JsonPlan<'a> {
    queries: Vec<JsonQuery<'a>>,
    estimated_pages: usize,
    regions: Vec<&'a str>,
    ram_actions: Vec<String>,
    strict: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    narrowed: Option<JsonNarrowed<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    instance_sets: Vec<JsonInstanceSet<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probe: Option<&'a ProbeDescription>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sized_regions: Vec<JsonSizedRegion<'a>>,
}

/// A region whose `TotalCount` is asked first: fewer pages of every task
/// than `listed_whole_below_pages` replace its `Name`/`InstanceId` queries.
#[derive(Serialize)]
struct JsonSizedRegion<'a> {
    region: &'a str,
    listed_whole_below_pages: usize,
}

/// A set listed through DescribeInstances before planning.
#[derive(Serialize)]
struct JsonInstanceSet<'a> {
    name: &'a str,
    region: &'a str,
    filters: &'a str,
}

#[derive(Serialize)]
struct JsonQuery<'a> {
    product: &'static str,
    action: &'static str,
    region: &'a str,
    filters: BTreeMap<String, &'a str>,
}

impl<'a> From<&'a Query> for JsonQuery<'a> {
    fn from(query: &'a Query) -> Self {
        Self {
            product: product(query),
            action: query.action(),
            region: query.region(),
            filters: filters(query),
        }
    }
}

#[derive(Serialize)]
struct JsonNarrowed<'a> {
    only: &'a [String],
    instances: &'a [String],
}
