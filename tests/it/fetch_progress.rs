//! The fetch's progress: the library tells its `Progress` how far the
//! fetch has got as each query ends, and the binary draws it only on a
//! terminal, so a CI log (or any pipe) gets nothing on stderr.

use std::time::Duration;

use shipcheck::check::{Api, CheckOptions, FetchProgress, Progress};
use shipcheck::cloud::{ClientConfig, Credentials};
use shipcheck::secret::Secret;

use crate::support::{repo, shipcheck};

#[derive(Default)]
struct Recorder(Vec<FetchProgress>);

impl Progress for Recorder {
    fn fetching(&mut self, progress: &FetchProgress) {
        self.0.push(*progress);
    }

    fn waiting(&mut self, _pending: usize, _left: Duration) {}
}

#[tokio::test(flavor = "multi_thread")]
async fn the_check_reports_each_query_as_it_ends() {
    let demo = repo("examples/demo");
    let expectations =
        shipcheck::manifest::load(&[demo.join("shipcheck.yaml")], &[], &|_| None).unwrap();
    // The simulator replaces the endpoint and the key.
    let client = ClientConfig::with_credentials(Credentials::new("unused", Secret::new("unused")));
    let mut recorder = Recorder::default();
    let checked = shipcheck::check::run(
        expectations,
        Api::Simulator {
            state: demo.join("sim-state.yaml"),
            client,
        },
        &CheckOptions::default(),
        &mut recorder,
    )
    .await
    .unwrap();
    assert_eq!(checked.exit, shipcheck::exit::Exit::Drift);

    let events = recorder.0;
    let total = events[0].total;
    assert!(total >= 2, "{events:?}");
    let done: Vec<usize> = events.iter().map(|e| e.done).collect();
    assert_eq!(done, (1..=total).collect::<Vec<_>>(), "one event per query");
    let last = events.last().unwrap();
    assert_eq!(last.failed, 0);
    // Three files on three web servers and a command on them: at least one
    // record each.
    assert!(last.records >= 4, "{last:?}");
    assert!(events.windows(2).all(|w| w[0].records <= w[1].records));
}

#[test]
fn nothing_reaches_stderr_when_it_is_not_a_terminal() {
    let output = shipcheck()
        .current_dir(repo("examples/demo"))
        .args(["check", "--simulate", "sim-state.yaml", "shipcheck.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(!stdout.contains(" queries"), "progress never on stdout");
}
