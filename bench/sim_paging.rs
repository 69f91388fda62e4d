//! How fast the simulator serves a large listing, and how many API calls a
//! full listing takes.
//!
//!   cargo bench --bench sim_paging
//!
//! Two synthetic fleets: 10,000 single-instance tasks (10,000 records), and
//! the realistic shape of 10,000 instances × 50 files in SendFile batches of
//! 50 (10,000 tasks, 500,000 per-instance results). Each is listed in full
//! with DescribeSendFileResults (50 per page) by NextToken, by PageNumber,
//! and by PageNumber with 8 pages in flight; then single requests are timed
//! (first page, a page deep in the listing, a lookup by InvokeId, by Name,
//! by InstanceId, and a page of DescribeInvocationResults) to show what one
//! request costs as the world grows. Under `cargo test` (no `--bench`
//! argument) it runs once on a small fleet as a smoke test.
//!
//! `cargo test --bench sim_paging -- --bench` runs the full fleets in the
//! unoptimised test profile: what `cargo test` sees of the simulator.

// A bench prints its measurements: that is its report.
#![allow(clippy::disallowed_macros)]

// The test suite's helpers; this bench uses only the simulator client.
#[allow(dead_code)]
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use shipcheck::secret::Secret;
use shipcheck::sim::{SimConfig, SynthSpec};
use support::sim::{self, Client, ECS, V1};

const REGION: (&str, &str) = ("RegionId", "cn-hangzhou");

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // (label, instances, files, instances per call, commands per batch)
    let fleets: &[(&str, u64, u64, u64, u64)] = if full {
        &[
            ("10,000 tasks × 1 instance", 10_000, 1, 1, 0),
            ("10,000 instances × 50 files + 1 command", 10_000, 50, 50, 1),
        ]
    } else {
        &[("smoke: 200 tasks × 1 instance + 1 command", 200, 1, 1, 1)]
    };
    for &(label, instances, files, per_call, commands) in fleets {
        runtime.block_on(run(label, instances, files, per_call, commands));
    }
}

async fn run(label: &str, instances: u64, files: u64, per_call: u64, commands: u64) {
    let config = SimConfig::new()
        .with_key(sim::KEY_ID, Secret::new(sim::SECRET))
        .synthesize(SynthSpec {
            seed: 1,
            instances,
            files,
            per_call,
            commands,
            failure_rate: 0.02,
            drift_rate: 0.01,
            ..SynthSpec::default()
        });
    let started = Instant::now();
    let server = shipcheck::sim::start(config).await.unwrap();
    let startup = started.elapsed();
    let client = Client::new(&server);
    let tasks = instances.div_ceil(per_call) * files;
    println!(
        "{label}: {tasks} tasks, {} per-instance results, {} command results (generated in {:.2}s)",
        instances * files,
        instances * commands,
        startup.as_secs_f64()
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

    single_requests(&client, tasks, instances * commands).await;

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

/// Times single requests: the median of a few runs of each.
async fn single_requests(client: &Client, tasks: u64, command_results: u64) {
    let first = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &[REGION, ("MaxResults", "1")],
        )
        .await
        .ok();
    let item = &first["Invocations"]["Invocation"][0];
    let invoke_id = item["InvokeId"].as_str().unwrap().to_owned();
    let name = item["Name"].as_str().unwrap().to_owned();
    let instance = item["InvokeInstances"]["InvokeInstance"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let deep = tasks.div_ceil(50).div_ceil(2).to_string();
    // (what, action, parameters)
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);
    let mut cases: Vec<Case> = vec![
        (
            "first page, MaxResults=50",
            "DescribeSendFileResults",
            vec![REGION, ("MaxResults", "50")],
        ),
        (
            "middle page, PageSize=50",
            "DescribeSendFileResults",
            vec![REGION, ("PageSize", "50"), ("PageNumber", &deep)],
        ),
        (
            "InvokeId filter",
            "DescribeSendFileResults",
            vec![REGION, ("InvokeId", &invoke_id)],
        ),
        (
            "Name filter, MaxResults=50",
            "DescribeSendFileResults",
            vec![REGION, ("Name", &name), ("MaxResults", "50")],
        ),
        (
            "InstanceId filter, MaxResults=50",
            "DescribeSendFileResults",
            vec![REGION, ("InstanceId", &instance), ("MaxResults", "50")],
        ),
    ];
    if command_results > 0 {
        cases.push((
            "command results, MaxResults=50",
            "DescribeInvocationResults",
            vec![REGION, ("MaxResults", "50")],
        ));
    }
    for (what, action, params) in cases {
        const RUNS: usize = 15;
        let mut times: Vec<Duration> = Vec::new();
        let cpu_before = process_cpu_time();
        for _ in 0..RUNS {
            // Only the bytes are read: the figure is the server's cost plus
            // the transport, not JSON parsing in this client.
            let request =
                client.v1_request(V1::Get, action, ECS, &params, &sim::nonce(), &sim::now());
            let started = Instant::now();
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{what}");
            response.bytes().await.unwrap();
            times.push(started.elapsed());
        }
        let cpu = match (cpu_before, process_cpu_time()) {
            (Some(before), Some(after)) => format!(
                "{:>8.2} ms CPU",
                (after - before).as_secs_f64() * 1e3 / RUNS as f64
            ),
            _ => String::new(),
        };
        times.sort();
        println!(
            "  one request: {what:<34} {:>8.2} ms wall (median of {RUNS}), {cpu}",
            times[RUNS / 2].as_secs_f64() * 1e3,
        );
    }
}

/// CPU time of every thread of this process (client and server alike), from
/// /proc on Linux: steadier than wall time on a busy machine.
fn process_cpu_time() -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}
