//! The whole check at fleet scale, through the real path: a generated
//! manifest of 1,000 instances × 20 files is loaded from disk, planned,
//! fetched over HTTP from the simulator (in-process, on 127.0.0.1), evaluated
//! and rendered.
//!
//! `cargo bench --bench check_fleet` prints each stage: CPU time for the
//! single-threaded stages (load, plan, evaluate, render; the thread's CPU
//! clock), wall time and API calls for the fetch; then the same check in
//! one call to the library pipeline (`shipcheck::check::run`, as
//! `check --simulate` runs it), wall time.
//! Under `cargo test` it runs a small fleet once, so it cannot rot.

// A bench prints its measurements: that is its report.
#![allow(clippy::disallowed_macros)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use shipcheck::check::{Api, CheckOptions, NoProgress};
use shipcheck::cloud::{ClientConfig, CloudClient, Credentials};
use shipcheck::evaluate::{EvalOptions, evaluate};
use shipcheck::exit::Exit;
use shipcheck::report::{HumanOptions, ReportFormat, render};
use shipcheck::secret::Secret;
use shipcheck::sim::SimConfig;

const NOW: &str = "2026-11-20T10:00:00Z";

/// Writes `shipcheck.yaml` and `state.yaml` for `instances` × `files`: one
/// SendFile task per 50 instances, and on every 20th instance the file
/// arrived with mode 0644 instead of 0640 (5% drift).
fn generate(dir: &std::path::Path, instances: usize, files: usize) -> usize {
    let ids: Vec<String> = (0..instances)
        .map(|i| format!("i-bp1fleet{i:07}"))
        .collect();
    let mut manifest = String::from(
        "version: 1\ndefaults:\n  region: cn-hangzhou\n  mode: \"0640\"\n  overwrite: true\ninstance_sets:\n  fleet:\n",
    );
    for id in &ids {
        writeln!(manifest, "    - {id}").unwrap();
    }
    manifest.push_str("files:\n");
    let mut state =
        format!("version: 1\nregion: cn-hangzhou\nclock:\n  now: \"{NOW}\"\ninstances:\n");
    for id in &ids {
        writeln!(state, "  - id: {id}").unwrap();
    }
    state.push_str("deliveries:\n");
    let mut drifted = 0;
    for file in 0..files {
        let content: String = (0..30)
            .map(|line| format!("key_{file}_{line} = {line}\n"))
            .collect();
        let quoted = serde_json::to_string(&content).unwrap();
        writeln!(
            manifest,
            "  - name: app-{file}.conf\n    target_dir: /etc/app\n    content: {quoted}\n    instances: [fleet]"
        )
        .unwrap();
        for (task, chunk) in ids.chunks(50).enumerate() {
            for (mode, wanted) in [("0640", false), ("0644", true)] {
                let targets: Vec<&String> = chunk
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (i % 20 == 0) == wanted)
                    .map(|(_, id)| id)
                    .collect();
                if targets.is_empty() {
                    continue;
                }
                if wanted {
                    drifted += targets.len();
                }
                writeln!(
                    state,
                    "  - invoke_id: f-fleet{file:03}x{task:03}{}\n    name: app-{file}.conf\n    target_dir: /etc/app\n    content: {quoted}\n    mode: \"{mode}\"\n    overwrite: true\n    creation_time: \"2026-11-20T09:00:00Z\"\n    targets:",
                    if wanted { "d" } else { "a" }
                )
                .unwrap();
                for id in targets {
                    writeln!(state, "      - id: {id}").unwrap();
                }
            }
        }
    }
    std::fs::write(dir.join("shipcheck.yaml"), manifest).unwrap();
    std::fs::write(dir.join("state.yaml"), state).unwrap();
    drifted
}

/// The CPU time `work` takes on this thread.
fn cpu<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let start = cpu_time::ThreadTime::now();
    let out = work();
    (out, start.elapsed())
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (instances, files) = if benchmarking { (1000, 20) } else { (60, 3) };
    let dir = tempfile::tempdir().unwrap();
    let drifted = generate(dir.path(), instances, files);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;

    let (expectations, load) = cpu(|| {
        shipcheck::manifest::load(&[dir.path().join("shipcheck.yaml")], &[], &|_| None)
            .unwrap_or_else(|errors| panic!("{}", errors.render_human(false)))
    });
    let (plan, planning) = cpu(|| shipcheck::plan::plan(&expectations));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (observations, fetch_wall, calls) = runtime.block_on(async {
        let config = SimConfig::from_state_file(&dir.path().join("state.yaml"))
            .unwrap()
            .with_key("LTAI-bench", Secret::new("bench-secret"));
        let server = shipcheck::sim::start(config).await.unwrap();
        let mut client_config = ClientConfig::with_credentials(Credentials::new(
            "LTAI-bench",
            Secret::new("bench-secret"),
        ));
        client_config.endpoint = Some(server.url());
        let client = CloudClient::new(client_config).unwrap();
        let started = Instant::now();
        let observations = shipcheck::fetch::fetch(&client, &plan).await;
        assert!(observations.gaps.is_empty(), "{:?}", observations.gaps);
        let wall = started.elapsed();
        (observations, wall, server.stats().total)
    });

    let options = EvalOptions {
        now: NOW.parse().unwrap(),
        strict: false,
    };
    let (report, evaluating) = cpu(|| evaluate(&expectations, &observations, &options));
    let (human, rendering) = cpu(|| render(&report, ReportFormat::Human, &HumanOptions::default()));
    let (_, rendering_json) = cpu(|| render(&report, ReportFormat::Json, &HumanOptions::default()));

    let found = report.summary().drifted;
    assert_eq!(
        found, drifted,
        "the check found {found} drifted pairs, {drifted} were planted"
    );
    assert!(human.contains("mode-mismatch"));

    let (checked, pipeline_wall) = runtime.block_on(async {
        let started = Instant::now();
        let api = Api::Simulator {
            state: dir.path().join("state.yaml"),
            client: ClientConfig::with_credentials(Credentials::new("unused", Secret::new("x"))),
        };
        let checked =
            shipcheck::check::run(expectations, api, &CheckOptions::default(), &mut NoProgress)
                .await
                .unwrap_or_else(|err| panic!("the pipeline failed: {err:?}"));
        (checked, started.elapsed())
    });
    assert_eq!(checked.exit, Exit::Drift);
    assert_eq!(checked.report.summary().drifted, drifted);
    println!(
        "check, {instances} instances × {files} files ({} pairs, {drifted} drifted):",
        instances * files
    );
    println!("  load manifest      {:8.1} ms CPU", ms(load));
    println!(
        "  plan               {:8.1} ms CPU ({} queries)",
        ms(planning),
        plan.queries.len()
    );
    println!(
        "  fetch              {:8.1} ms wall ({calls} API calls, {} tasks)",
        ms(fetch_wall),
        observations.files.len()
    );
    println!("  evaluate           {:8.1} ms CPU", ms(evaluating));
    println!("  render human       {:8.1} ms CPU", ms(rendering));
    println!("  render json        {:8.1} ms CPU", ms(rendering_json));
    println!(
        "  after the fetch    {:8.1} ms CPU (evaluate + human report)",
        ms(evaluating + rendering)
    );
    println!(
        "  check::run         {:8.1} ms wall (simulator start, plan, fetch, evaluate)",
        ms(pipeline_wall)
    );
}
