//! How fast does the client read a 10,000-record listing, by concurrency?
//!
//! A local stand-in (the test suite's fake API) serves 10,000 SendFile
//! records with a fixed latency per request, like a regional endpoint seen
//! from a CI runner, and an optional per-second rate limit answered with
//! `Throttling.User` + `x-acs-retry-after`, like the API's flow control.
//! The client reads the listing in token mode once, then in page mode at
//! each concurrency, and the wall time, requests and throttles are printed.
//!
//! Run: `cargo bench --bench cloud_fetch` (env: BENCH_LATENCY_MS=60,
//! BENCH_RATE_LIMIT=0 for none, BENCH_RECORDS=10000).

// A bench prints its measurements: that is its report.
#![allow(clippy::disallowed_macros)]

// The test suite's helpers; this bench uses only the fake API.
#[allow(dead_code)]
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shipcheck::cloud::{CloudClient, Credentials, Paging, RetryPolicy, SendFileFilter};
use support::fake_cloud::*;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches as tests: nothing to check here.
        return;
    }
    let latency = Duration::from_millis(env_num("BENCH_LATENCY_MS", 60));
    let rate_limit = env_num("BENCH_RATE_LIMIT", 0);
    let records = env_num("BENCH_RECORDS", 10_000) as usize;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let items = Arc::new(fleet(records));
        // requests seen in the current one-second window
        let window = Arc::new(Mutex::new((Instant::now(), 0u64)));
        let api = FakeApi::start(move |call| {
            if rate_limit > 0 {
                let mut w = window.lock().unwrap();
                if w.0.elapsed() >= Duration::from_secs(1) {
                    *w = (Instant::now(), 0);
                }
                w.1 += 1;
                if w.1 > rate_limit {
                    return Reply::throttle(Some(200));
                }
            }
            Reply::Slow(latency, Box::new(serve_listing(&items, call)))
        })
        .await;
        println!(
            "{records} records, {} ms latency, rate limit {}",
            latency.as_millis(),
            if rate_limit == 0 {
                "none".to_owned()
            } else {
                format!("{rate_limit}/s")
            }
        );
        println!(
            "{:>8} {:>12} {:>10} {:>9} {:>10}",
            "paging", "concurrency", "wall ms", "requests", "throttled"
        );
        let mut runs = vec![(Paging::Token, 1)];
        runs.extend([1, 2, 4, 8, 16, 32, 64].map(|c| (Paging::Pages, c)));
        for (paging, concurrency) in runs {
            let mut config = api.config(Credentials::new(KEY_ID, SECRET));
            config.concurrency = concurrency;
            config.paging = paging;
            config.retry = RetryPolicy::default();
            let client = CloudClient::new(config).unwrap();
            let started = Instant::now();
            let mut got = 0;
            let summary = client
                .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |p| {
                    got += p.len()
                })
                .await
                .unwrap();
            assert_eq!(got, records);
            println!(
                "{:>8} {:>12} {:>10} {:>9} {:>10}",
                format!("{paging:?}"),
                concurrency,
                started.elapsed().as_millis(),
                summary.requests,
                summary.throttled
            );
        }
    });
}
