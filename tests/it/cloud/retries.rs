//! Retries, backoff, x-acs-retry-after, attempt and time budgets, and the
//! errors that must not be retried, against a scripted local server.

use std::time::Duration;

use shipcheck::cloud::error::{CloudError, GiveUpReason, TransportKind};
use shipcheck::cloud::{CloudClient, Credentials, SendFileFilter};

use crate::support::fake_cloud::*;

async fn fetch(
    client: &CloudClient,
) -> Result<(usize, shipcheck::cloud::FetchSummary), CloudError> {
    let mut got = 0;
    let summary = client
        .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |page| {
            got += page.len()
        })
        .await?;
    Ok((got, summary))
}

#[tokio::test]
async fn throttling_is_retried_honouring_retry_after() {
    let api = FakeApi::start(|call| {
        if call.index < 2 {
            Reply::throttle(Some(40))
        } else {
            serve_listing(&fleet(2), call)
        }
    })
    .await;
    let (got, summary) = fetch(&api.client()).await.unwrap();
    assert_eq!(got, 2);
    assert_eq!(
        (summary.requests, summary.retries, summary.throttled),
        (3, 2, 2)
    );
    // The backoff ceiling is 5 ms; only the server's 40 ms explains this.
    assert!(
        summary.backoff >= Duration::from_millis(80),
        "{:?}",
        summary.backoff
    );
}

#[tokio::test]
async fn server_errors_of_every_kind_are_retried() {
    let api = FakeApi::start(|call| match call.index {
        0 => Reply::error(500, "InternalError.Dispatch", "Try again later"),
        1 => Reply::error(503, "ServiceUnavailable", "busy"),
        2 => Reply::error(400, "Rejected.Throttling", "slow down"),
        3 => Reply::error(502, "", "bad gateway"),
        4 => Reply::Truncated,
        _ => serve_listing(&fleet(1), call),
    })
    .await;
    let mut config = api.config(Credentials::new(KEY_ID, SECRET));
    config.retry.max_attempts = 6;
    let (got, summary) = fetch(&CloudClient::new(config).unwrap()).await.unwrap();
    assert_eq!((got, summary.requests, summary.retries), (1, 6, 5));
}

#[tokio::test]
async fn read_timeouts_are_retried() {
    let api = FakeApi::start(|call| {
        if call.index == 0 {
            Reply::Slow(
                Duration::from_secs(3),
                Box::new(serve_listing(&fleet(1), call)),
            )
        } else {
            serve_listing(&fleet(1), call)
        }
    })
    .await;
    let mut config = api.config(Credentials::new(KEY_ID, SECRET));
    config.read_timeout = Duration::from_millis(300);
    let (got, summary) = fetch(&CloudClient::new(config).unwrap()).await.unwrap();
    assert_eq!((got, summary.retries), (1, 1));
}

#[tokio::test]
async fn non_retryable_errors_fail_at_once() {
    for (status, code) in [
        (403, "Forbidden.RAM"),
        (400, "InvalidParam.PageSize"),
        (404, "InvalidRegionId.NotFound"),
    ] {
        let api = FakeApi::start(move |_| Reply::error(status, code, "no")).await;
        let err = fetch(&api.client()).await.unwrap_err();
        assert_eq!(err.code(), Some(code));
        assert!(matches!(err, CloudError::Api(_)), "{err:?}");
        assert_eq!(api.calls().len(), 1, "{code} was retried");
    }
}

#[tokio::test]
async fn attempts_are_bounded() {
    let api = FakeApi::start(|_| Reply::throttle(None)).await;
    let err = fetch(&api.client()).await.unwrap_err();
    match &err {
        CloudError::GaveUp {
            attempts, reason, ..
        } => {
            // Throttles have their own bound (fast_retries: 5).
            assert_eq!((*attempts, *reason), (5, GiveUpReason::Throttled));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), Some("Throttling.User"));
    assert_eq!(api.calls().len(), 5);
}

#[tokio::test]
async fn the_time_budget_is_never_overrun() {
    // The server asks for 2 s; the budget has 1 s: give up now rather than wait.
    let api = FakeApi::start(|_| Reply::throttle(Some(2_000))).await;
    let mut config = api.config(Credentials::new(KEY_ID, SECRET));
    config.retry.budget = Duration::from_secs(1);
    let err = fetch(&CloudClient::new(config).unwrap()).await.unwrap_err();
    match err {
        CloudError::GaveUp {
            attempts, reason, ..
        } => {
            assert_eq!((attempts, reason), (1, GiveUpReason::Budget));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn faults_past_the_budget_mid_listing_are_an_error_not_a_short_list() {
    // Two good pages, then the API stays throttled.
    let api = FakeApi::start(|call| {
        if call.index < 2 {
            serve_listing(&fleet(200), call)
        } else {
            Reply::throttle(None)
        }
    })
    .await;
    let mut got = 0;
    let result = api
        .client()
        .describe_send_file_results("cn-hangzhou", &SendFileFilter::default(), |page| {
            got += page.len()
        })
        .await;
    assert_eq!(got, 100, "the first two pages were streamed");
    let err = result.unwrap_err();
    assert!(matches!(err, CloudError::GaveUp { .. }), "{err:?}");
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported_with_a_clean_url() {
    // Bind, learn the port, close: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config =
        shipcheck::cloud::ClientConfig::with_credentials(Credentials::new(KEY_ID, SECRET));
    config.endpoint = Some(format!("http://127.0.0.1:{port}"));
    config.retry = fast_retries();
    config.retry.max_attempts = 3;
    let err = fetch(&CloudClient::new(config).unwrap()).await.unwrap_err();
    let CloudError::GaveUp { attempts, last, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 3);
    let CloudError::Transport { kind, url, .. } = last.as_ref() else {
        panic!("{last:?}")
    };
    assert_eq!(*kind, TransportKind::Connect);
    assert_eq!(url, &format!("http://127.0.0.1:{port}/"));
    let shown = format!("{err} {err:?}");
    let shown = format!("{shown} {:?}", miette::Report::new(err));
    assert!(!shown.contains("Signature="), "{shown}");
    assert!(!shown.contains(SECRET));
}
