//! The check as a library: plan → fetch → evaluate, and the `--wait` loop.
//!
//! Orchestration only: every step is another module's job. What this module
//! decides is the order, when to poll again, and which exit code the
//! outcome maps to (DESIGN.md's table): entries left without a region are
//! an invalid manifest (2), a deadline with deliveries still moving is 4,
//! and otherwise the report's verdict: 0, 1 on drift, 3 when nothing drifted
//! but something is unverified. A query that fails does not end the check:
//! what it covers is reported unverified, with the reason. Only a check that
//! cannot start (no simulator, no client) fails without a report. With
//! `--wait`, a declared delivery or command that is not listed at all is
//! given a grace period before it counts as missing: a red verdict needs
//! evidence too.
//!
//! It takes plain values and prints nothing, so the command line, the
//! benches and the tests all drive the same pipeline:
//!
//! ```no_run
//! # async fn demo() -> Result<(), shipcheck::check::CheckError> {
//! use shipcheck::check::{Api, CheckOptions, NoProgress};
//! use shipcheck::cloud::{ClientConfig, Credentials};
//! use shipcheck::secret::Secret;
//!
//! let manifests = [std::path::PathBuf::from("shipcheck.yaml")];
//! let expectations = shipcheck::manifest::load(&manifests, &[], &|_| None)
//!     .map_err(shipcheck::check::CheckError::Manifest)?;
//! let config = ClientConfig::with_credentials(Credentials::new("id", Secret::new("secret")));
//! let checked = shipcheck::check::run(
//!     expectations,
//!     Api::Cloud(config),
//!     &CheckOptions::default(),
//!     &mut NoProgress,
//! )
//! .await?;
//! assert_eq!(checked.exit, checked.report.exit());
//! # Ok(()) }
//! ```

#[cfg(feature = "sim")]
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::cloud::{ClientConfig, CloudClient, Deadline, Env};
use crate::evaluate::{EvalOptions, evaluate, evaluate_owned};
use crate::exit::{Exit, Failure};
use crate::expect::Expectations;
pub use crate::fetch::FetchProgress;
use crate::manifest::ManifestErrors;
use crate::narrow::Narrowing;
use crate::plan::{Plan, StrictCoverage};
use crate::protocol::endpoint::check_region;
use crate::report::Report;
use crate::snapshot::{Loaded, Merged, Snapshot};

/// Where the evidence comes from.
// One value per check: boxing the client configuration (large only next
// to `Offline` when the simulator is not built) would buy nothing.
#[cfg_attr(not(feature = "sim"), allow(clippy::large_enum_variant))]
#[derive(Debug)]
pub enum Api {
    /// The cloud API, or the client's `endpoint`.
    Cloud(ClientConfig),
    /// The simulator, started in-process on `state` for the length of the
    /// check with a fresh key pair that only this check knows, so no
    /// credentials are needed. `client` gives the client's other settings.
    #[cfg(feature = "sim")]
    Simulator {
        state: PathBuf,
        client: ClientConfig,
    },
    /// No API at all (`--offline`): the evidence is the snapshots in
    /// [`CheckOptions::snapshots`], and what they do not cover is unverified.
    Offline,
}

/// How a check runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOptions {
    /// Also report deliveries the manifest does not declare.
    pub strict: bool,
    /// Poll pending deliveries until they settle or this long has passed.
    pub wait: Option<Duration>,
    /// How often to poll while waiting.
    pub interval: Duration,
    /// While waiting, how long a declared delivery or command that is not
    /// listed at all counts as not listed *yet* (bounded by `wait`).
    pub grace: Duration,
    /// The region for entries that name none, before the one the
    /// credentials' profile or the environment names.
    pub region: Option<String>,
    /// How long the check may take, `wait` not counted: queries still
    /// running then fail with a deadline error (what they cover is
    /// unverified).
    pub timeout: Duration,
    /// `--since`: for files that set no `since:` themselves.
    pub since: Option<crate::expect::Since>,
    /// Also read the declared files on the instances' disks with a
    /// read-only RunCommand ([`crate::probe`]), once the deliveries are judged.
    pub probe: bool,
    /// Also work out the SendFile calls that would fix the drift
    /// ([`Checked::fix`]).
    pub fix: bool,
    /// Check only part of the manifest (`--only`, `--instance`).
    pub narrowing: Narrowing,
    /// Earlier evidence merged with the API's (`--from-snapshot`).
    pub snapshots: Vec<Loaded>,
    /// Return the evidence used as a snapshot (`--save-snapshot`).
    pub save_snapshot: bool,
    /// How long the API keeps records (`--retention`), over the manifest's.
    pub retention: Option<Duration>,
}

/// The default `timeout`: ten minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            strict: false,
            wait: None,
            interval: Duration::from_secs(5),
            grace: DEFAULT_GRACE,
            region: None,
            timeout: DEFAULT_TIMEOUT,
            since: None,
            probe: false,
            fix: false,
            narrowing: Narrowing::default(),
            snapshots: Vec::new(),
            save_snapshot: false,
            retention: None,
        }
    }
}

/// The default `grace`. The API may list a task a moment after SendFile or
/// RunCommand returned (AWS SSM's waiters retry "does not exist yet" for
/// the same reason); that takes seconds, so half a minute is ample, and a
/// delivery that never happened still fails in half a minute rather than
/// at the end of a long `--wait`.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// Told about a check while it runs, e.g. to draw a spinner.
pub trait Progress {
    /// A query of the fetch ended; `progress` counts all that have.
    fn fetching(&mut self, _progress: &FetchProgress) {}

    /// `--wait` is about to sleep: `pending` deliveries are still moving
    /// and the deadline is `left` away.
    fn waiting(&mut self, pending: usize, left: Duration);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn waiting(&mut self, _pending: usize, _left: Duration) {}
}

/// A finished check: the report, and the exit code it ends with (the
/// report's verdict, or [`Exit::Pending`] when `--wait` ran out).
#[derive(Debug)]
pub struct Checked {
    pub report: Report,
    pub exit: Exit,
    /// The fix for the drift, when [`CheckOptions::fix`] asked for it.
    pub fix: Option<crate::fix::FixPlan>,
    /// The evidence the report rests on, with `save_snapshot`.
    pub snapshot: Option<Snapshot>,
}

/// Why a check produced no report.
#[derive(Debug)]
pub enum CheckError {
    /// The manifests cannot be checked as written (exit 2), with every
    /// problem on its line.
    Manifest(ManifestErrors),
    /// Anything else, with the exit code it maps to.
    Failed(Failure),
}

impl From<Failure> for CheckError {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}

/// Checks `expectations` against what `api` reports.
pub async fn run(
    expectations: Expectations,
    api: Api,
    options: &CheckOptions,
    progress: &mut dyn Progress,
) -> Result<Checked, CheckError> {
    let mut expectations = expectations;
    // `--wait` polls on top of the time the check itself may take.
    let deadline = Deadline::after(
        options
            .timeout
            .saturating_add(options.wait.unwrap_or_default()),
    );
    let connection = match Connection::open(api, deadline).await {
        Ok(connection) => connection,
        // The API cannot be reached at all: still a report, with every
        // expectation unverified for that reason, so that every format
        // says what went unchecked.
        Err(failure) if failure.exit == Exit::Unverified => {
            narrow(&mut expectations, options)?;
            return unreachable(expectations, options, failure);
        }
        Err(failure) => return Err(failure.into()),
    };
    let checked = check(&connection, expectations, options, progress).await;
    connection.close().await;
    checked
}

async fn check(
    connection: &Connection,
    mut expectations: Expectations,
    options: &CheckOptions,
    progress: &mut dyn Progress,
) -> Result<Checked, CheckError> {
    let region_hint = connection
        .client
        .as_ref()
        .and_then(CloudClient::region_hint);
    prepare(&mut expectations, options, region_hint)?;
    // Sets named by tags or resource group become targets before narrowing
    // and planning; offline, nothing can list them.
    let sets = match &connection.client {
        Some(client) => crate::fleet::resolve(client, &mut expectations).await,
        None => crate::fleet::unresolved(
            &expectations,
            "offline: instance sets are listed through DescribeInstances",
        ),
    };
    if let Some(max) = expectations.max_pairs
        && !sets.is_empty()
        && let pairs = expectations.pairs()
        && pairs > max
    {
        return Err(CheckError::Manifest(crate::manifest::resolved_over_budget(
            expectations,
            pairs,
            max,
        )));
    }
    narrow(&mut expectations, options)?;
    let (mut plan, coverage) = planned(&expectations, options)?;
    let first_pages = match &connection.client {
        Some(client) => crate::fetch::size_regions(client, &mut plan).await,
        None => crate::fetch::FirstPages::default(),
    };
    tracing::info!(
        queries = plan.queries.len(),
        estimated_pages = plan.estimated_pages,
        "plan"
    );
    // Without a wait, a probe or a snapshot to come, nothing reads the
    // observations after they are judged: the judging frees them as it goes.
    let judged_once = options.wait.is_none() && !options.probe && !options.save_snapshot;
    let judge = |merged: &mut Merged, now: Timestamp| {
        let eval_options = EvalOptions {
            now,
            strict: options.strict,
        };
        let mut report = if judged_once {
            evaluate_owned(
                &expectations,
                std::mem::take(&mut merged.observations),
                &eval_options,
            )
        } else {
            evaluate(&expectations, &merged.observations, &eval_options)
        };
        crate::snapshot::annotate(&mut report, &merged.provenance);
        report.strict_coverage.clone_from(&coverage);
        report.narrowed = narrowed(options);
        crate::fleet::record(&sets, &expectations, &mut report);
        report
    };

    let started = Instant::now();
    let deadline = options.wait.map(|wait| started + wait);
    let grace_ends = options.wait.map(|wait| started + options.grace.min(wait));
    // While waiting, a poll asks again only the queries whose answers can
    // still change; the others' answers are kept.
    let mut answers = crate::fetch::Answers::new(&plan, first_pages);
    let mut again = vec![true; plan.queries.len()];
    let (mut report, mut exit, mut merged) = loop {
        let mut merged = observe(
            connection,
            &expectations,
            &plan,
            options,
            (&mut answers, &again),
            &mut *progress,
        )
        .await;
        let report = judge(&mut merged, connection.now());
        let exit = report.exit();
        let (Some(deadline), Some(grace_ends)) = (deadline, grace_ends) else {
            break (report, exit, merged);
        };
        let now = Instant::now();
        let in_grace = now < grace_ends;
        let unlisted = unlisted(&report);
        // Keep polling while something is still moving, or while a
        // delivery may yet appear in the listing (the grace window); a
        // terminal failure ends the wait at once.
        let moving = report.is_pending() || (in_grace && unlisted > 0);
        if !moving || failed_for_good(&report, in_grace) {
            break (report, exit, merged);
        }
        let left = deadline.saturating_duration_since(now);
        if left.is_zero() {
            let mut report = report;
            report.wait_expired = true;
            break (report, Exit::Pending, merged);
        }
        let pending = report.summary().pending + unlisted;
        tracing::info!(
            pending,
            left_ms = left.as_millis() as u64,
            "waiting for deliveries"
        );
        progress.waiting(pending, left);
        again = moving_queries(&plan, &expectations, &report);
        let mut nap = options.interval.min(left);
        if in_grace {
            nap = nap.min(grace_ends - now);
        }
        tokio::time::sleep(nap).await;
    };
    // The snapshot holds the listings' evidence, not the probe's: a disk
    // read is true only when it is made.
    let snapshot = options.save_snapshot.then(|| {
        crate::snapshot::record(
            &merged,
            &crate::snapshot::Context {
                expectations: &expectations,
                queries: &plan.queries,
                snapshots: &options.snapshots,
                endpoint_hosts: connection.endpoint_hosts(&plan),
            },
        )
    });
    if options.probe
        && let Some(client) = &connection.client
    {
        // The disks are read once, after the deliveries have settled (or
        // the wait ran out), and judged with the same evidence.
        let groups = crate::probe::plan(&expectations);
        tracing::info!(runs = groups.len(), "probing disks");
        merged.observations.disk = Some(crate::probe::run(client, &groups, options.interval).await);
        let wait_expired = report.wait_expired;
        report = judge(&mut merged, connection.now());
        report.wait_expired = wait_expired;
        exit = report.exit();
    }
    let fix = options
        .fix
        .then(|| crate::fix::plan(&expectations, &report));
    Ok(Checked {
        report,
        exit,
        fix,
        snapshot,
    })
}

/// Applies `--only` and `--instance` (a narrowing that selects nothing is
/// invalid input, exit 2).
pub(crate) fn narrow(
    expectations: &mut Expectations,
    options: &CheckOptions,
) -> Result<(), CheckError> {
    options
        .narrowing
        .apply(expectations)
        .map_err(|err| Failure::invalid(miette::miette!("{err}")).into())
}

/// The narrowing, for the report (`None` when the check is whole).
fn narrowed(options: &CheckOptions) -> Option<Narrowing> {
    (!options.narrowing.is_empty()).then(|| options.narrowing.clone())
}

/// Gives regionless entries a region — the option, then `region_hint` (the
/// profile the credentials came from), then the environment — and files
/// without `since:` the option's.
pub(crate) fn prepare(
    expectations: &mut Expectations,
    options: &CheckOptions,
    region_hint: Option<&str>,
) -> Result<(), CheckError> {
    let fallback = options
        .region
        .clone()
        .or_else(|| region_hint.map(str::to_owned))
        .or_else(|| Env::from_process().region());
    // `--region` is checked by the command line; the profile's or the
    // environment's region is checked here, when an entry would use it.
    if let Some(region) = fallback.as_deref().filter(|r| check_region(r).is_err())
        && let Err(entries) = expectations.apply_region_fallback(None)
    {
        return Err(CheckError::Manifest(
            crate::manifest::malformed_fallback_region(
                std::mem::take(expectations),
                &entries,
                region,
            ),
        ));
    }
    if let Err(missing) = expectations.apply_region_fallback(fallback.as_deref()) {
        return Err(CheckError::Manifest(crate::manifest::missing_regions(
            std::mem::take(expectations),
            &missing,
        )));
    }
    if let Some(since) = options.since {
        expectations.apply_since_fallback(since);
    }
    if options.retention.is_some() {
        expectations.retention = options.retention;
    }
    Ok(())
}

/// Plans the queries (widened with `--strict`); an entry the API cannot
/// list is invalid input.
pub(crate) fn planned(
    expectations: &Expectations,
    options: &CheckOptions,
) -> Result<(Plan, Option<StrictCoverage>), CheckError> {
    let mut plan = crate::plan::plan(expectations);
    let coverage = options
        .strict
        .then(|| crate::plan::widen_for_strict(&mut plan, expectations));
    if let Some(unplannable) = plan.unplannable.first() {
        return Err(Failure::invalid(miette::miette!(
            "{} cannot be fetched: {}",
            expectations.files[unplannable.file].path(),
            unplannable.reason
        ))
        .into());
    }
    Ok((plan, coverage))
}

/// Declared deliveries and commands with no record at all (unwaived).
fn unlisted(report: &Report) -> usize {
    report
        .findings()
        .filter(|f| f.fails() && f.code.is_not_listed())
        .count()
}

/// Which of `plan`'s queries cover a declared delivery or command that is
/// still pending or not listed yet: the ones a `--wait` poll asks again.
fn moving_queries(plan: &Plan, expectations: &Expectations, report: &Report) -> Vec<bool> {
    let moving = |findings: &[crate::report::model::Finding]| {
        findings
            .iter()
            .any(|f| !f.is_waived() && (f.code.is_pending() || f.code.is_not_listed()))
    };
    let mut again = vec![false; plan.queries.len()];
    if report.files.len() != expectations.files.len()
        || report.commands.len() != expectations.commands.len()
    {
        // Not one report entry per declaration: ask everything again.
        again.fill(true);
        return again;
    }
    for (file, judged) in expectations.files.iter().zip(&report.files) {
        for target in judged.targets.iter().filter(|t| moving(&t.findings)) {
            for (at, query) in plan.queries.iter().enumerate() {
                again[at] = again[at] || query.covers_file(file, &target.id);
            }
        }
    }
    for (command, judged) in expectations.commands.iter().zip(&report.commands) {
        let targets = judged
            .targets
            .iter()
            .filter(|t| moving(&t.findings))
            .map(|t| Some(t.id.as_str()));
        let whole = moving(&judged.findings).then_some(None);
        for target in targets.chain(whole) {
            for (at, query) in plan.queries.iter().enumerate() {
                again[at] = again[at] || query.covers_command(command, target);
            }
        }
    }
    again
}

/// Whether something failed that waiting cannot change: any unwaived error
/// but a pending one, and, within the grace period, a missing record.
fn failed_for_good(report: &Report, in_grace: bool) -> bool {
    report
        .findings()
        .any(|f| f.fails() && !f.code.is_pending() && !(in_grace && f.code.is_not_listed()))
}

/// The report of a check that could not start talking to the API: every
/// planned query is a gap with the failure as its reason. Falls back to the
/// failure itself when not even a plan can be made.
fn unreachable(
    mut expectations: Expectations,
    options: &CheckOptions,
    failure: Failure,
) -> Result<Checked, CheckError> {
    let fallback = options
        .region
        .clone()
        .or_else(|| Env::from_process().region());
    if expectations
        .apply_region_fallback(fallback.as_deref())
        .is_err()
    {
        return Err(failure.into());
    }
    let plan = crate::plan::plan(&expectations);
    if !plan.unplannable.is_empty() || plan.queries.is_empty() {
        return Err(failure.into());
    }
    let detail = failure.report.to_string();
    let help = failure.report.help().map(|help| help.to_string());
    let observations = crate::observe::Observations {
        gaps: plan
            .queries
            .iter()
            .map(|query| crate::observe::Gap {
                query: query.clone(),
                reason: crate::observe::GapReason::QueryFailed,
                detail: detail.clone(),
                help: help.clone(),
            })
            .collect(),
        ..Default::default()
    };
    let now = Timestamp::now();
    let mut report = evaluate(
        &expectations,
        &observations,
        &EvalOptions {
            now,
            strict: options.strict,
        },
    );
    let sets = crate::fleet::unresolved(&expectations, &detail);
    crate::fleet::record(&sets, &expectations, &mut report);
    report.narrowed = narrowed(options);
    let exit = report.exit();
    Ok(Checked {
        report,
        exit,
        fix: None,
        snapshot: None,
    })
}

/// One pass: fetch what the plan asks for and merge it with the snapshots
/// (offline, the snapshots alone).
async fn observe(
    connection: &Connection,
    expectations: &Expectations,
    plan: &Plan,
    options: &CheckOptions,
    (answers, again): (&mut crate::fetch::Answers, &[bool]),
    progress: &mut dyn Progress,
) -> Merged {
    let live = match &connection.client {
        Some(client) if options.wait.is_some() => {
            crate::fetch::refresh(
                client,
                plan,
                answers,
                &|at| again[at],
                &|| connection.now(),
                &mut |fetched| progress.fetching(fetched),
            )
            .await;
            Some(answers.observations())
        }
        Some(client) => {
            let first_pages = answers.take_first_pages();
            let mut observations =
                crate::fetch::fetch_reporting(client, plan, first_pages, &mut |fetched| {
                    progress.fetching(fetched);
                })
                .await;
            observations.fetched_at = Some(connection.now());
            Some(observations)
        }
        None => None,
    };
    let offline = live.is_none();
    let mut merged = crate::snapshot::merge(live, &options.snapshots);
    if offline {
        let gaps = crate::snapshot::offline_gaps(plan, expectations, &options.snapshots);
        merged.observations.gaps.extend(gaps);
    }
    merged
}

/// The client (none offline), and the simulator it talks to when there is one.
/// `import` opens one the same way, so `--simulate` and `--offline` mean the
/// same there.
pub(crate) struct Connection {
    pub(crate) client: Option<CloudClient>,
    #[cfg(feature = "sim")]
    simulator: Option<crate::sim::SimServer>,
}

impl Connection {
    pub(crate) async fn open(api: Api, deadline: Deadline) -> Result<Self, Failure> {
        match api {
            Api::Cloud(mut config) => Ok(Self {
                client: Some(
                    CloudClient::new({
                        config.deadline = Some(deadline);
                        config
                    })
                    .map_err(Failure::unverified)?,
                ),
                #[cfg(feature = "sim")]
                simulator: None,
            }),
            Api::Offline => Ok(Self {
                client: None,
                #[cfg(feature = "sim")]
                simulator: None,
            }),
            #[cfg(feature = "sim")]
            Api::Simulator { state, mut client } => {
                client.deadline = Some(deadline);
                let (simulator, config) = simulate(&state, client).await?;
                Ok(Self {
                    client: Some(CloudClient::new(config).map_err(Failure::unverified)?),
                    simulator: Some(simulator),
                })
            }
        }
    }

    /// The time evidence is judged at: the simulator's clock when checking
    /// against it, so its states can pin "now".
    pub(crate) fn now(&self) -> Timestamp {
        #[cfg(feature = "sim")]
        if let Some(simulator) = &self.simulator {
            return simulator.now();
        }
        Timestamp::now()
    }

    /// The hosts the plan's queries go to (none offline).
    fn endpoint_hosts(&self, plan: &Plan) -> Vec<String> {
        let Some(client) = &self.client else {
            return Vec::new();
        };
        let hosts: std::collections::BTreeSet<String> = plan
            .queries
            .iter()
            .filter_map(|q| client.endpoint_host(q.provider(), q.region()))
            .collect();
        hosts.into_iter().collect()
    }

    pub(crate) async fn close(self) {
        #[cfg(feature = "sim")]
        if let Some(simulator) = self.simulator {
            simulator.shutdown().await;
        }
    }
}

/// Starts the simulator on `state` with a fresh key pair, and points
/// `config` at it with that pair.
#[cfg(feature = "sim")]
async fn simulate(
    state: &std::path::Path,
    mut config: ClientConfig,
) -> Result<(crate::sim::SimServer, ClientConfig), Failure> {
    use crate::cloud::{CredentialConfig, Credentials};
    use crate::secret::Secret;

    let sim_config = crate::sim::SimConfig::from_state_file(state).map_err(Failure::invalid)?;
    let id = format!("LTAI-shipcheck-{}", uuid::Uuid::new_v4().simple());
    let secret = Secret::new(uuid::Uuid::new_v4().simple().to_string());
    let server = crate::sim::start(sim_config.with_key(id.clone(), secret.clone()))
        .await
        .map_err(Failure::unverified)?;
    config.endpoint = Some(server.url());
    config.credentials = CredentialConfig::Explicit(Credentials::new(id, secret));
    Ok((server, config))
}
