//! The client against the real simulator (`shipcheck::sim`), in-process on
//! 127.0.0.1:0: V1 and V3 accepted, 10,000 records complete and identical
//! under 30% throttling and 5% 5xx, and an error (never a short list) when
//! faults outlast the retry budget.

use std::time::Duration;

use shipcheck::cloud::error::CloudError;
use shipcheck::cloud::{
    ClientConfig, CloudClient, Credentials, FetchSummary, InvocationFilter, Paging, RetryPolicy,
    SendFileFilter,
};
use shipcheck::observe::{CommandResult, FileInvocation};
use shipcheck::protocol::sign::SignatureVersion;
use shipcheck::secret::Secret;
use shipcheck::sim::{ClockSetting, FaultSpec, SimConfig, SimServer, SynthSpec};

const KEY_ID: &str = "LTAI-sim-client";
const SECRET: &str = "sim-client-secret-Ab12Cd34";
const STS_KEY_ID: &str = "STS.sim-client";
const STS_SECRET: &str = "sim-sts-secret-Ef56Gh78";
const STS_TOKEN: &str = "CAIS-sim-token/with+chars=";
const REGION: &str = "cn-hangzhou";

/// 10,000 instances × 50 files in SendFile calls of 50 instances: 10,000
/// tasks; or, for command results, one command on each of 2,000 instances.
fn fleet(commands: u64) -> SynthSpec {
    let (instances, files) = if commands == 0 {
        (10_000, 50)
    } else {
        (2_000, 0)
    };
    SynthSpec {
        seed: 42,
        instances,
        files,
        commands,
        per_call: 50,
        failure_rate: 0.05,
        drift_rate: 0.05,
        region: REGION.into(),
    }
}

/// Both simulators of a comparison stand at the same instant, so the
/// synthesized fleets (whose times are relative to "now") are identical.
fn frozen_now() -> jiff::Timestamp {
    static NOW: std::sync::OnceLock<jiff::Timestamp> = std::sync::OnceLock::new();
    *NOW.get_or_init(jiff::Timestamp::now)
}

async fn sim(faults: FaultSpec, commands: u64) -> SimServer {
    let config = SimConfig::new()
        .with_key(KEY_ID, Secret::new(SECRET))
        .with_sts(STS_KEY_ID, Secret::new(STS_SECRET), Secret::new(STS_TOKEN))
        .with_clock(ClockSetting::Frozen(frozen_now()))
        .with_faults(faults)
        .synthesize(fleet(commands));
    shipcheck::sim::start(config).await.unwrap()
}

fn client(
    server: &SimServer,
    creds: Credentials,
    signature: SignatureVersion,
    paging: Paging,
) -> CloudClient {
    let mut config = ClientConfig::with_credentials(creds);
    config.endpoint = Some(server.url());
    config.signature = signature;
    config.paging = paging;
    // Patient enough for 35% faulty answers (0.35^15 per request), with
    // short waits so the test does not sleep through minutes of backoff.
    config.retry = RetryPolicy {
        max_attempts: 15,
        max_throttled: 15,
        budget: Duration::from_secs(120),
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_millis(20),
    };
    CloudClient::new(config).unwrap()
}

async fn files(client: &CloudClient) -> Result<(Vec<FileInvocation>, FetchSummary), CloudError> {
    let mut all = Vec::new();
    let summary = client
        .describe_send_file_results(REGION, &SendFileFilter::default(), |page| all.extend(page))
        .await?;
    all.sort_by(|a, b| a.invoke_id.cmp(&b.invoke_id));
    Ok((all, summary))
}

/// Equal, or a panic that shows the first difference (not 10,000 records).
fn assert_same<T: PartialEq + std::fmt::Debug>(got: &[T], want: &[T], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!(
            "{what}: record {i} differs:\n got {:?}\nwant {:?}",
            got[i], want[i]
        );
    }
}

fn faulty() -> FaultSpec {
    FaultSpec {
        seed: Some(7),
        throttle: 0.30,
        internal_error: 0.025,
        unavailable: 0.025,
        retry_after_ms: Some(5),
        ..FaultSpec::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_records_arrive_complete_and_identical_under_faults() {
    let clean = sim(FaultSpec::default(), 0).await;
    let (reference, summary) = files(&client(
        &clean,
        Credentials::new(KEY_ID, SECRET),
        SignatureVersion::V1,
        Paging::Pages,
    ))
    .await
    .unwrap();
    assert_eq!(reference.len(), 10_000);
    assert_eq!(
        (summary.pages, summary.retries, summary.total_count),
        (200, 0, Some(10_000))
    );
    let unique: std::collections::HashSet<_> = reference.iter().map(|f| &f.invoke_id).collect();
    assert_eq!(unique.len(), 10_000);

    let noisy = sim(faulty(), 0).await;
    for (signature, paging, creds) in [
        (
            SignatureVersion::V1,
            Paging::Token,
            Credentials::new(KEY_ID, SECRET),
        ),
        (
            SignatureVersion::V3,
            Paging::Pages,
            Credentials::new(STS_KEY_ID, STS_SECRET).with_token(STS_TOKEN),
        ),
    ] {
        let (got, summary) = files(&client(&noisy, creds, signature, paging))
            .await
            .unwrap();
        assert!(
            summary.throttled > 20,
            "{signature:?} {paging:?}: faults were injected: {summary:?}"
        );
        assert!(summary.retries >= summary.throttled);
        assert_eq!(got.len(), reference.len(), "{signature:?} {paging:?}");
        assert_same(&got, &reference, &format!("{signature:?} {paging:?}"));
    }
    let stats = noisy.stats();
    assert!(stats.faults.values().sum::<u64>() > 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_beyond_the_retry_budget_are_an_error_never_a_short_list() {
    let server = sim(
        FaultSpec {
            seed: Some(3),
            throttle: 0.9,
            retry_after_ms: Some(1),
            ..FaultSpec::default()
        },
        0,
    )
    .await;
    for paging in [Paging::Token, Paging::Pages] {
        let mut config = ClientConfig::with_credentials(Credentials::new(KEY_ID, SECRET));
        config.endpoint = Some(server.url());
        config.paging = paging;
        config.retry = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            ..RetryPolicy::default()
        };
        let mut received = 0;
        let result = CloudClient::new(config)
            .unwrap()
            .describe_send_file_results(REGION, &SendFileFilter::default(), |page| {
                received += page.len()
            })
            .await;
        let err = result.expect_err("a listing cut short by faults must be an error");
        assert!(matches!(err, CloudError::GaveUp { .. }), "{err:?}");
        assert_eq!(err.code(), Some("Throttling.User"));
        assert!(received < 10_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_results_page_out_identically_in_both_styles_under_faults() {
    let clean = sim(FaultSpec::default(), 1).await;
    let noisy = sim(faulty(), 1).await;
    let fetch = |server: &SimServer, paging| {
        let client = client(
            server,
            Credentials::new(KEY_ID, SECRET),
            SignatureVersion::V3,
            paging,
        );
        async move {
            let mut all: Vec<CommandResult> = Vec::new();
            client
                .describe_invocation_results(REGION, &InvocationFilter::default(), |p| {
                    all.extend(p)
                })
                .await
                .unwrap();
            all.sort_by(|a, b| (&a.invoke_id, &a.instance_id).cmp(&(&b.invoke_id, &b.instance_id)));
            all
        }
    };
    let reference = fetch(&clean, Paging::Token).await;
    assert_eq!(
        reference.len(),
        2_000,
        "one command on each of 2,000 instances"
    );
    assert_same(&fetch(&noisy, Paging::Pages).await, &reference, "pages");
    assert_same(&fetch(&noisy, Paging::Token).await, &reference, "token");
}

#[tokio::test]
async fn the_simulator_tells_a_wrong_secret_and_a_skewed_clock() {
    let server = sim(FaultSpec::default(), 0).await;
    for signature in [SignatureVersion::V1, SignatureVersion::V3] {
        let c = client(
            &server,
            Credentials::new(KEY_ID, "not-the-secret"),
            signature,
            Paging::Token,
        );
        let err = files(&c).await.unwrap_err();
        let api = err.api().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!(api.code, "SignatureDoesNotMatch");
        assert_eq!(
            api.signature_check,
            Some(shipcheck::cloud::error::SignatureCheck::SameStringToSign),
            "{signature:?}: {}",
            api.message
        );
    }
    let mut config = ClientConfig::with_credentials(Credentials::new(KEY_ID, SECRET));
    config.endpoint = Some(server.url());
    config.clock = shipcheck::cloud::Clock::from_fn(|| {
        jiff::Timestamp::now() - jiff::SignedDuration::from_hours(3)
    });
    let err = files(&CloudClient::new(config).unwrap()).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidTimeStamp.Expired"));
}

/// The simulator serving a seed's state file, with the test key added.
async fn seed_sim(name: &str) -> SimServer {
    let config = SimConfig::from_state_file(&crate::support::fixture(&format!("sim/{name}")))
        .unwrap()
        .with_key(KEY_ID, Secret::new(SECRET));
    shipcheck::sim::start(config).await.unwrap()
}

#[tokio::test]
async fn every_seed_served_by_the_simulator_normalises() {
    for signature in [SignatureVersion::V1, SignatureVersion::V3] {
        // (state file, tasks it holds, FileMode of the sample's task)
        for (name, tasks, mode) in [
            ("seed-ecs-describe-send-file-results.yaml", 1, "0644"),
            ("seed-ecs-describe-send-file-results-zh-tw.yaml", 2, "777"),
        ] {
            let server = seed_sim(name).await;
            let c = client(
                &server,
                Credentials::new(KEY_ID, SECRET),
                signature,
                Paging::Token,
            );
            let (got, _) = files(&c).await.unwrap();
            assert_eq!(got.len(), tasks, "{name}");
            let sample = got.iter().find(|f| f.name == "test.txt").unwrap();
            assert_eq!(sample.overwrite, Some(false), "{name}");
            assert_eq!(sample.mode.as_deref(), Some(mode), "{name}");
        }

        let server = seed_sim("seed-ecs-describe-invocation-results.yaml").await;
        let c = client(
            &server,
            Credentials::new(KEY_ID, SECRET),
            signature,
            Paging::Token,
        );
        let mut results = Vec::new();
        c.describe_invocation_results(REGION, &InvocationFilter::default(), |p| results.extend(p))
            .await
            .unwrap();
        assert!(!results.is_empty());
        assert!(results.iter().any(|r| r.exit_code == Some(1)));

        let server = seed_sim("seed-eflo-describe-send-file-results.yaml").await;
        let c = client(
            &server,
            Credentials::new(KEY_ID, SECRET),
            signature,
            Paging::Token,
        );
        let got = c
            .eflo_describe_send_file_results("cn-wulanchabu", "t-bj038i0d6r8zoqo", None)
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].provider, shipcheck::protocol::Provider::Eflo);
        assert_eq!(got[0].targets[0].id, "e01-cn-9lb3c15m81j");
        assert_eq!(got[0].overwrite, Some(true));
    }
}
