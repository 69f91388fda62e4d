//! Fleet-scale benchmark: evaluate + render for 1,000 instances × 20 files.
//!
//! `cargo bench --bench evaluate` measures the full size; under `cargo test`
//! (no `--bench` argument) it runs a small fleet once as a smoke test, so the
//! benchmark cannot rot. Reported times are the main thread's CPU time from
//! /proc/self/schedstat (wall time where that is unavailable); everything
//! measured here is single-threaded.

// A bench prints its measurements: that is its report.
#![allow(clippy::disallowed_macros)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use shipcheck::evaluate::{EvalOptions, evaluate};
use shipcheck::expect::{
    Attr, Expectations, ExpectedContent, FileExpectation, Origin, Source, Span, TargetRef,
};
use shipcheck::observe::{
    ContentType, FileInvocation, FileTarget, Observations, Stamp, TargetStatus,
};
use shipcheck::protocol::Provider;
use shipcheck::report::ReportFormat;
use shipcheck::report::{HumanOptions, render};

const FORMATS: [ReportFormat; 6] = [
    ReportFormat::Human,
    ReportFormat::Json,
    ReportFormat::Junit,
    ReportFormat::Sarif,
    ReportFormat::Markdown,
    ReportFormat::Github,
];

struct Fleet {
    expectations: Expectations,
    observations: Observations,
    drifted_pairs: usize,
}

fn span(text: &str, start: usize, needle: &str) -> Origin {
    let at = text[start..].find(needle).expect("needle in text") + start;
    Origin {
        source: 0,
        span: Span::new(at, at + needle.len()),
    }
}

fn content(file: usize) -> String {
    (0..40)
        .map(|line| format!("setting_{file}_{line} = value {line}\n"))
        .collect()
}

/// `instances` targets × `files` files; one SendFile task per 50 instances;
/// the first task of every file delivered mode 0600 instead of 0640.
fn fleet(instances: usize, files: usize) -> Fleet {
    let ids: Vec<String> = (0..instances).map(|i| format!("i-bp1{i:08}")).collect();
    let mut text = String::from("version: 1\ninstance_sets:\n  fleet:\n");
    for id in &ids {
        text.push_str(&format!("    - {id}\n"));
    }
    text.push_str("files:\n");
    for f in 0..files {
        text.push_str(&format!(
            "  - name: app{f}.conf\n    target_dir: /etc/app\n    mode: \"0640\"\n    content_file: files/app{f}.conf\n    instances: [fleet]\n"
        ));
    }
    let target_origins: Vec<Origin> = ids.iter().map(|id| span(&text, 0, id)).collect();
    let mut expectations = Expectations {
        sources: vec![Source {
            path: "fleet.yaml".into(),
            text: Arc::from(text.as_str()),
        }],
        ..Expectations::default()
    };
    let mut observations = Observations::default();
    let finished: Timestamp = "2026-11-21T08:00:00Z".parse().unwrap();
    for f in 0..files {
        let name = format!("app{f}.conf");
        let entry = span(&text, 0, &format!("- name: {name}"));
        let at = |needle: &str| span(&text, entry.span.start, needle);
        let body = content(f);
        expectations.files.push(FileExpectation {
            origin: entry,
            provider: Provider::Ecs,
            region: Some(Attr::builtin("cn-hangzhou".into())),
            name: Attr::declared(name.clone(), at("name:")),
            target_dir: Attr::declared("/etc/app".into(), at("target_dir:")),
            mode: Attr::declared("0640".parse().unwrap(), at("mode:")),
            owner: Attr::builtin("root".into()),
            group: Attr::builtin("root".into()),
            overwrite: Attr::builtin(false),
            content: Some(Attr::declared(
                ExpectedContent::Bytes(body.clone().into_bytes()),
                at("content_file:"),
            )),
            content_file: None,
            content_type: Attr::builtin(ContentType::PlainText),
            target_sources: Vec::new(),
            targets: ids
                .iter()
                .zip(&target_origins)
                .map(|(id, origin)| TargetRef {
                    id: id.as_str().into(),
                    origin: *origin,
                    via_set: Some("fleet".into()),
                })
                .collect(),
            invoke_id: None,
            max_age: None,
            task_tags: Vec::new(),
            since: None,
            sensitive: false,
            description: None,
        });
        for (task, chunk) in ids.chunks(50).enumerate() {
            observations.files.push(FileInvocation {
                provider: Provider::Ecs,
                region: "cn-hangzhou".into(),
                invoke_id: format!("f-{f}-{task}"),
                name: name.clone(),
                target_dir: "/etc/app".into(),
                description: None,
                content: Some(body.clone()),
                content_type: ContentType::PlainText,
                mode: Some(if task == 0 { "0600" } else { "0640" }.into()),
                owner: Some("root".into()),
                group: Some("root".into()),
                overwrite: Some(false),
                status: "Success".into(),
                created: Some(finished),
                target_count: Some(chunk.len() as u64),
                tags: vec![],
                targets: chunk
                    .iter()
                    .map(|id| FileTarget {
                        id: id.as_str().into(),
                        status: TargetStatus::Success,
                        error: None,
                        created: Stamp::new(finished),
                        started: Stamp::new(finished),
                        finished: Stamp::new(finished),
                        updated: Stamp::new(finished),
                    })
                    .collect(),
            });
        }
    }
    Fleet {
        expectations,
        observations,
        drifted_pairs: files * instances.min(50),
    }
}

/// CPU time of this (main) thread. The kernel updates it lazily (at ticks
/// and switches), so it is read around whole runs; stages use wall time,
/// which equals CPU time for this single-threaded work on an idle core.
fn cpu_now() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn measure<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = work();
    (out, start.elapsed())
}

fn run(fleet: &Fleet) -> (Duration, Vec<Duration>, usize) {
    let options = EvalOptions {
        now: "2026-11-22T12:00:00Z".parse().unwrap(),
        strict: false,
    };
    let (report, evaluated) =
        measure(|| evaluate(&fleet.expectations, &fleet.observations, &options));
    let rendered: Vec<Duration> = FORMATS
        .iter()
        .map(|format| {
            let (text, took) = measure(|| render(&report, *format, &HumanOptions::default()));
            assert!(!black_box(text).is_empty());
            took
        })
        .collect();
    let drifted = report.summary().drifted;
    assert_eq!(
        drifted, fleet.drifted_pairs,
        "the fleet's drift is all found"
    );
    assert_eq!(report.exit().code(), 1);
    (evaluated, rendered, drifted)
}

type Sample = (Duration, Vec<Duration>, usize);

fn total((evaluated, rendered, _): &Sample) -> Duration {
    *evaluated + rendered.iter().sum::<Duration>()
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    if !benchmarking {
        // Under `cargo test`: a small fleet, once, for correctness only.
        let (_, _, drifted) = run(&fleet(120, 3));
        println!("evaluate bench smoke test: {drifted} drifted pairs found");
        return;
    }
    let (instances, files) = (1000, 20);
    let fleet = fleet(instances, files);
    let cpu_start = cpu_now();
    let mut samples: Vec<Sample> = (0..7).map(|_| run(&fleet)).collect();
    let cpu = cpu_start
        .zip(cpu_now())
        .map(|(start, end)| (end - start) / 7);
    samples.sort_by_key(total);
    let median = &samples[samples.len() / 2];
    let (evaluated, rendered, drifted) = median;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "evaluate+render, {instances} instances × {files} files ({} pairs, {drifted} drifted), median of {}:",
        instances * files,
        samples.len()
    );
    println!("  evaluate:          {:8.1} ms", ms(*evaluated));
    for (format, took) in FORMATS.iter().zip(rendered) {
        let name = format!("{format:?}:");
        println!("  render {name:<11}{:8.1} ms", ms(*took));
    }
    println!(
        "  total:             {:8.1} ms (wall, median run)",
        ms(total(median))
    );
    if let Some(cpu) = cpu {
        println!(
            "  CPU per run:       {:8.1} ms (thread CPU time, mean of 7)",
            ms(cpu)
        );
    }
}
