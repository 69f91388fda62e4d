//! How fast the simulator serves a large listing, and how many API calls a
//! full listing takes.
//!
//!   cargo bench --bench sim_paging
//!
//! Two synthetic fleets: 10,000 single-instance tasks (10,000 records), and
//! the realistic shape of 10,000 instances × 50 files in SendFile batches of
//! 50 (10,000 tasks, 500,000 per-instance results). Each is listed in full
//! with DescribeSendFileResults (50 per page) by NextToken, by PageNumber,
//! and by PageNumber with 8 pages in flight. Under `cargo test` (no
//! `--bench` argument) it runs once on a small fleet as a smoke test.

#[path = "../tests/sim_support/mod.rs"]
mod sim_support;

use std::collections::BTreeSet;
use std::time::Instant;

use futures_util::StreamExt as _;
use shipcheck::secret::Secret;
use shipcheck::sim::{SimConfig, SynthSpec};
use sim_support::{Client, ECS, V1};

const REGION: (&str, &str) = ("RegionId", "cn-hangzhou");

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let fleets: &[(&str, u64, u64, u64)] = if full {
        &[
            ("10,000 tasks × 1 instance", 10_000, 1, 1),
            ("10,000 instances × 50 files", 10_000, 50, 50),
        ]
    } else {
        &[("smoke: 200 tasks × 1 instance", 200, 1, 1)]
    };
    for &(label, instances, files, per_call) in fleets {
        runtime.block_on(run(label, instances, files, per_call));
    }
}

async fn run(label: &str, instances: u64, files: u64, per_call: u64) {
    let config = SimConfig::new()
        .with_key(sim_support::KEY_ID, Secret::new(sim_support::SECRET))
        .synthesize(SynthSpec {
            seed: 1,
            instances,
            files,
            per_call,
            failure_rate: 0.02,
            drift_rate: 0.01,
            ..SynthSpec::default()
        });
    let server = shipcheck::sim::start(config).await.unwrap();
    let client = Client::new(&server);
    let tasks = instances.div_ceil(per_call) * files;
    println!(
        "{label}: {tasks} tasks, {} per-instance results",
        instances * files
    );

    // NextToken, one page at a time (what a client must do).
    let started = Instant::now();
    let mut token: Option<String> = None;
    let (mut pages, mut seen, mut bytes) = (0u64, BTreeSet::new(), 0usize);
    loop {
        let mut params = vec![REGION, ("MaxResults", "50")];
        if let Some(t) = &token {
            params.push(("NextToken", t));
        }
        let json = client
            .v1(V1::Get, "DescribeSendFileResults", ECS, &params)
            .await
            .ok();
        bytes += json.to_string().len();
        pages += 1;
        for item in json["Invocations"]["Invocation"].as_array().unwrap() {
            seen.insert(item["InvokeId"].as_str().unwrap().to_owned());
        }
        match json["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, tasks, "incomplete listing");
    report("NextToken, sequential", pages, tasks, bytes, started);

    // PageNumber, one page at a time.
    let started = Instant::now();
    let page_count = tasks.div_ceil(50);
    let mut seen = BTreeSet::new();
    for page in 1..=page_count {
        let number = page.to_string();
        let json = client
            .v1(
                V1::Get,
                "DescribeSendFileResults",
                ECS,
                &[REGION, ("PageSize", "50"), ("PageNumber", &number)],
            )
            .await
            .ok();
        for item in json["Invocations"]["Invocation"].as_array().unwrap() {
            seen.insert(item["InvokeId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(seen.len() as u64, tasks, "incomplete listing");
    report("PageNumber, sequential", page_count, tasks, bytes, started);

    // PageNumber, 8 in flight.
    let started = Instant::now();
    let counts: Vec<usize> = futures_util::stream::iter(1..=page_count)
        .map(|page| {
            let client = client.clone();
            async move {
                let number = page.to_string();
                let json = client
                    .v1(
                        V1::Get,
                        "DescribeSendFileResults",
                        ECS,
                        &[REGION, ("PageSize", "50"), ("PageNumber", &number)],
                    )
                    .await
                    .ok();
                json["Invocations"]["Invocation"].as_array().unwrap().len()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(
        counts.iter().sum::<usize>() as u64,
        tasks,
        "incomplete listing"
    );
    report("PageNumber, 8 in flight", page_count, tasks, bytes, started);

    let stats = server.stats();
    println!(
        "  API calls: {} DescribeSendFileResults ({} total)\n",
        stats.requests["ecs/DescribeSendFileResults"], stats.total
    );
    server.shutdown().await;
}

fn report(how: &str, pages: u64, tasks: u64, bytes: usize, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "  {how:<24} {pages:>4} pages in {seconds:>6.2}s: {:>7.1} pages/s, {:>8.0} tasks/s, {:.1} MB per listing",
        pages as f64 / seconds,
        tasks as f64 / seconds,
        bytes as f64 / 1e6
    );
}
