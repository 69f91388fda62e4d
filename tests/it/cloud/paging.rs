//! Paging: both styles, in order, each record once, and never a short list.

use std::sync::Arc;

use serde_json::{Value, json};
use shipcheck::cloud::error::CloudError;
use shipcheck::cloud::{
    CloudClient, ContentEncoding, Credentials, InvocationFilter, Paging, SendFileFilter,
};

use crate::support::fake_cloud::*;

async fn collect(
    client: &CloudClient,
    paging: Paging,
) -> Result<(Vec<String>, shipcheck::cloud::FetchSummary), CloudError> {
    let mut ids = Vec::new();
    let filter = SendFileFilter {
        paging: Some(paging),
        ..SendFileFilter::default()
    };
    let summary = client
        .describe_send_file_results("cn-hangzhou", &filter, |page| {
            ids.extend(page.into_iter().map(|f| f.invoke_id))
        })
        .await?;
    Ok((ids, summary))
}

fn expected_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("f-{i:06}")).collect()
}

#[tokio::test]
async fn token_paging_reads_every_page_in_order() {
    let items = Arc::new(fleet(1234));
    let served = items.clone();
    let api = FakeApi::start(move |call| {
        assert_eq!(
            call.param("PageNumber"),
            None,
            "token mode sends no PageNumber"
        );
        serve_listing(&served, call)
    })
    .await;
    let (ids, summary) = collect(&api.client(), Paging::Token).await.unwrap();
    assert_eq!(ids, expected_ids(1234));
    // 25 pages, then page 1 again to see that the head held still.
    assert_eq!(
        (summary.pages, summary.requests, summary.duplicates),
        (26, 26, 0)
    );
    let calls = api.calls();
    assert_eq!(calls[0].param("NextToken"), None);
    assert_eq!(calls[1].param("NextToken"), Some("tok-50"));
    assert_eq!(calls[25].param("NextToken"), None);
}

#[tokio::test]
async fn page_paging_fetches_in_parallel_and_delivers_in_order() {
    let items = Arc::new(fleet(1234));
    let served = items.clone();
    let api = FakeApi::start(move |call| {
        assert_eq!(
            call.param("MaxResults"),
            None,
            "page mode sends no MaxResults"
        );
        serve_listing(&served, call)
    })
    .await;
    let (ids, summary) = collect(&api.client(), Paging::Pages).await.unwrap();
    assert_eq!(ids, expected_ids(1234));
    assert_eq!(
        (summary.pages, summary.passes, summary.total_count),
        (25, 1, Some(1234))
    );
    let mut numbers: Vec<usize> = api
        .calls()
        .iter()
        .map(|c| c.param("PageNumber").unwrap().parse().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=25).collect::<Vec<_>>());
}

#[tokio::test]
async fn records_that_shift_between_pages_are_delivered_once() {
    // After page 1 a new delivery appears at the head: every later page
    // shifts by one and TotalCount grows. The client re-reads the listing.
    let before = fleet(120);
    let mut after = vec![json!({
        "InvokeId": "f-new", "Name": "new", "TargetDir": "/x", "InvocationStatus": "Running",
        "InvokeInstances": {"InvokeInstance": [{"InstanceId": "i-new", "InvocationStatus": "Running"}]}
    })];
    after.extend(before.iter().cloned());
    let api = FakeApi::start(move |call| {
        if call.index == 0 {
            serve_listing(&before, call)
        } else {
            serve_listing(&after, call)
        }
    })
    .await;
    let (ids, summary) = collect(&api.client(), Paging::Pages).await.unwrap();
    assert_eq!(ids.len(), 121);
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 121, "duplicates reached the caller");
    assert!(ids.contains(&"f-new".to_owned()));
    assert_eq!(summary.passes, 2);
    assert!(summary.duplicates > 0);
    assert_eq!(summary.total_count, Some(121));
}

#[tokio::test]
async fn token_pages_that_repeat_a_record_are_deduplicated() {
    let items = fleet(60);
    let api = FakeApi::start(move |call| match call.param("NextToken") {
        None => Reply::ok(
            json!({"Invocations": {"Invocation": items[0..50].to_vec()}, "NextToken": "t2"}),
        ),
        // The last record of page 1 shows up again on page 2.
        Some(_) => Reply::ok(json!({"Invocations": {"Invocation": items[49..60].to_vec()}})),
    })
    .await;
    let (ids, summary) = collect(&api.client(), Paging::Token).await.unwrap();
    assert_eq!(ids, expected_ids(60));
    assert_eq!(summary.duplicates, 1);
}

#[tokio::test]
async fn a_count_that_contradicts_total_count_is_an_error() {
    // TotalCount says 120, but the pages hold only 100 distinct records.
    let items = fleet(100);
    let api = FakeApi::start(move |call| {
        let number: usize = call.param("PageNumber").unwrap().parse().unwrap();
        let start = ((number - 1) * 50).min(items.len());
        let end = (start + 50).min(items.len());
        Reply::ok(
            json!({"Invocations": {"Invocation": items[start..end].to_vec()}, "TotalCount": 120}),
        )
    })
    .await;
    let err = collect(&api.client(), Paging::Pages).await.unwrap_err();
    match &err {
        CloudError::ListingChanged { detail, .. } => {
            assert!(
                detail.contains("TotalCount is 120 but 100 distinct records"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(api.calls().len(), 9, "three passes of three pages");
}

#[tokio::test]
async fn a_looping_next_token_is_an_error() {
    let items = fleet(50);
    let api = FakeApi::start(move |_| {
        Reply::ok(json!({"Invocations": {"Invocation": items.clone()}, "NextToken": "same"}))
    })
    .await;
    let err = collect(&api.client(), Paging::Token).await.unwrap_err();
    assert!(err.to_string().contains("NextToken repeated"), "{err}");
}

fn results(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "InstanceId": format!("i-{i:04}"), "InvokeId": "t-1", "CommandId": "c-1",
                "InvocationStatus": "Success", "InvokeRecordStatus": "Finished",
                "ExitCode": if i % 2 == 0 { json!(0) } else { json!("0") },
                "Output": "aGVsbG8K", "Dropped": 0, "Repeats": 1,
                "StartTime": "2026-11-20T08:00:00Z", "FinishedTime": "2026-11-20T08:00:01Z"
            })
        })
        .collect()
}

#[tokio::test]
async fn invocation_results_page_through_the_nested_fields() {
    let items = results(120);
    let api = FakeApi::start(move |call| {
        assert_eq!(call.action, "DescribeInvocationResults");
        assert_eq!(call.param("ContentEncoding"), Some("Base64"));
        assert_eq!(call.param("IncludeHistory"), Some("true"));
        assert_eq!(call.param("InvokeId"), Some("t-1"));
        let (start, end, next, total) = if let Some(max) = call.param("MaxResults") {
            let max: usize = max.parse().unwrap();
            let start: usize = call
                .param("NextToken")
                .map(|t| t.parse().unwrap())
                .unwrap_or(0);
            let end = (start + max).min(items.len());
            (
                start,
                end,
                (end < items.len()).then(|| end.to_string()),
                None,
            )
        } else {
            let n: usize = call.param("PageNumber").unwrap().parse().unwrap();
            let start = ((n - 1) * 50).min(items.len());
            (
                start,
                (start + 50).min(items.len()),
                None,
                Some(items.len()),
            )
        };
        let mut inv =
            json!({"InvocationResults": {"InvocationResult": items[start..end].to_vec()}});
        if let Some(next) = next {
            inv["NextToken"] = json!(next);
        }
        if let Some(total) = total {
            inv["TotalCount"] = json!(total.to_string()); // a string, as eflo does
        }
        Reply::ok(json!({ "Invocation": inv }))
    })
    .await;
    let client = api.client();
    for paging in [Paging::Token, Paging::Pages] {
        let filter = InvocationFilter {
            invoke_id: Some("t-1".into()),
            include_history: true,
            content_encoding: ContentEncoding::Base64,
            paging: Some(paging),
            ..InvocationFilter::default()
        };
        let mut got = Vec::new();
        let summary = client
            .describe_invocation_results("cn-hangzhou", &filter, |page| got.extend(page))
            .await
            .unwrap();
        assert_eq!(got.len(), 120, "{paging:?}");
        let recheck = u64::from(paging == Paging::Token);
        assert_eq!(summary.pages, 3 + recheck, "{paging:?}");
        assert_eq!(
            got[0].output.value().map(Vec::as_slice),
            Some(&b"hello\n"[..])
        );
        assert_eq!(got[1].exit_code, Some(0));
        assert_eq!(got[119].instance_id, "i-0119");
    }
}

#[tokio::test]
async fn include_history_without_invoke_id_is_refused_before_any_request() {
    let api = FakeApi::start(|_| Reply::ok(json!({}))).await;
    let filter = InvocationFilter {
        include_history: true,
        ..InvocationFilter::default()
    };
    let err = api
        .client()
        .describe_invocation_results("cn-hangzhou", &filter, |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("IncludeHistory needs an InvokeId"));
    assert!(api.calls().is_empty());
}

#[tokio::test]
async fn an_eflo_total_that_disagrees_is_an_error() {
    let api = FakeApi::start(|_| {
        Reply::ok(json!({"TotalCount": "2", "Invocations": {"Invocation": [
            {"InvokeId": "t-1", "Name": "a", "TargetDir": "/d", "InvokeNodes": {"InvokeNode": [{"NodeId": "e01-a"}]}}
        ]}}))
    })
    .await;
    let client = CloudClient::new(api.config(Credentials::new(KEY_ID, SECRET))).unwrap();
    let err = client
        .eflo_describe_send_file_results("cn-wulanchabu", "t-1", None)
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::Incomplete { .. }), "{err:?}");
}
