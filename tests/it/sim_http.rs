//! The simulator through real HTTP: requests signed with the library's
//! request builder (`shipcheck::protocol::request`) and sent with reqwest
//! to a server on 127.0.0.1:0, as a client would.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use shipcheck::protocol::time::format_timestamp;
use shipcheck::secret::Secret;
use shipcheck::sim::{Fault, FaultSpec, SimConfig, SynthSpec};

use crate::support::sim::{self, Client, ECS, EFLO, KEY_ID, SECRET, V1, config, now, start};

const REGION: (&str, &str) = ("RegionId", "cn-hangzhou");

fn describe_files(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut params = vec![REGION];
    params.extend_from_slice(extra);
    params
}

// ---- signatures -----------------------------------------------------------

#[tokio::test]
async fn every_signature_style_is_accepted() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let params = describe_files(&[("InvokeId", "f-fresh")]);
    for answer in [
        client
            .v1(V1::Get, "DescribeSendFileResults", ECS, &params)
            .await,
        client
            .v1(V1::PostForm, "DescribeSendFileResults", ECS, &params)
            .await,
        client
            .v3("DescribeSendFileResults", ECS, &params, false)
            .await,
        client
            .v3("DescribeSendFileResults", ECS, &params, true)
            .await,
    ] {
        let json = answer.ok();
        assert_eq!(json["TotalCount"], 1, "{json}");
        assert_eq!(json["Invocations"]["Invocation"][0]["InvokeId"], "f-fresh");
    }
}

#[tokio::test]
async fn a_wrong_secret_gets_signature_does_not_match_with_the_server_string_to_sign() {
    let server = start(config("sim/rules.yaml")).await;
    let wrong = Client::new(&server).with_secret("not-the-secret");
    let params = describe_files(&[]);

    // V1: the server's string-to-sign equals the one the client signed, which
    // is how a client tells a wrong secret from a wrong canonicalisation.
    let (nonce, timestamp) = (sim::nonce(), now());
    let answer = wrong
        .v1_with(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &params,
            &nonce,
            &timestamp,
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, "SignatureDoesNotMatch")
    );
    let expected = wrong
        .v1_signed(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &params,
            &nonce,
            &timestamp,
        )
        .string_to_sign;
    let message = answer.json["Message"].as_str().unwrap();
    assert_eq!(
        message.split_once("server string to sign is:").unwrap().1,
        expected
    );
    assert!(!message.contains(SECRET) && !message.contains("not-the-secret"));
    for key in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(
            answer.json.get(key).is_some(),
            "{key} missing: {}",
            answer.json
        );
    }

    let answer = wrong
        .v1(V1::PostForm, "DescribeSendFileResults", ECS, &params)
        .await;
    assert_eq!(answer.code(), "SignatureDoesNotMatch");
    assert!(
        answer.json["Message"]
            .as_str()
            .unwrap()
            .contains("is:POST&%2F&")
    );

    let answer = wrong
        .v3("DescribeSendFileResults", ECS, &params, false)
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, "SignatureDoesNotMatch")
    );
    assert!(
        answer.json["Message"]
            .as_str()
            .unwrap()
            .contains("is:ACS3-HMAC-SHA256\n")
    );
}

#[tokio::test]
async fn an_unknown_access_key_is_404() {
    let server = start(config("sim/rules.yaml")).await;
    let stranger = Client::new(&server).with_key("nobody", "x", None);
    for answer in [
        stranger
            .v1(
                V1::Get,
                "DescribeSendFileResults",
                ECS,
                &describe_files(&[]),
            )
            .await,
        stranger
            .v3("DescribeSendFileResults", ECS, &describe_files(&[]), false)
            .await,
    ] {
        assert_eq!(
            (answer.status, answer.code()),
            (404, "InvalidAccessKeyId.NotFound")
        );
    }
}

#[tokio::test]
async fn a_reused_nonce_is_refused() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let params = describe_files(&[]);
    let (nonce, timestamp) = (sim::nonce(), now());
    let first = client
        .v1_with(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &params,
            &nonce,
            &timestamp,
        )
        .await;
    assert_eq!(first.status, 200);
    let again = client
        .v1_with(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &params,
            &nonce,
            &timestamp,
        )
        .await;
    assert_eq!((again.status, again.code()), (400, "SignatureNonceUsed"));

    let nonce = sim::nonce();
    let first = client
        .v3_with(
            "DescribeSendFileResults",
            ECS,
            &params,
            false,
            &nonce,
            &now(),
        )
        .await;
    assert_eq!(first.status, 200);
    let again = client
        .v3_with(
            "DescribeSendFileResults",
            ECS,
            &params,
            false,
            &nonce,
            &now(),
        )
        .await;
    assert_eq!(again.code(), "SignatureNonceUsed");
}

#[tokio::test]
async fn a_skewed_or_malformed_timestamp_is_refused() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let params = describe_files(&[]);
    let hour_ago = format_timestamp(jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1));
    let answer = client
        .v1_with(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &params,
            &sim::nonce(),
            &hour_ago,
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, "InvalidTimeStamp.Expired")
    );
    let answer = client
        .v3_with(
            "DescribeSendFileResults",
            ECS,
            &params,
            false,
            &sim::nonce(),
            &hour_ago,
        )
        .await;
    assert_eq!(answer.code(), "InvalidTimeStamp.Expired");
    let answer = client
        .v1_with(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &params,
            &sim::nonce(),
            "yesterday",
        )
        .await;
    assert_eq!(answer.code(), "InvalidTimeStamp.Format");
}

#[tokio::test]
async fn an_sts_triple_needs_its_token() {
    let server = start(config("sim/rules.yaml").with_sts(
        "STS.temp",
        Secret::new("temp-secret"),
        Secret::new("CAIS-token/with+chars="),
    ))
    .await;
    let client = Client::new(&server);
    let with_token = client.with_key("STS.temp", "temp-secret", Some("CAIS-token/with+chars="));
    let params = describe_files(&[]);
    assert_eq!(
        with_token
            .v1(V1::Get, "DescribeSendFileResults", ECS, &params)
            .await
            .status,
        200
    );
    assert_eq!(
        with_token
            .v3("DescribeSendFileResults", ECS, &params, false)
            .await
            .status,
        200
    );
    let without = client.with_key("STS.temp", "temp-secret", None);
    let answer = without
        .v1(V1::Get, "DescribeSendFileResults", ECS, &params)
        .await;
    assert_eq!(answer.code(), "InvalidSecurityToken.MismatchWithAccessKey");
    let other = client.with_key("STS.temp", "temp-secret", Some("another-token"));
    let answer = other
        .v3("DescribeSendFileResults", ECS, &params, false)
        .await;
    assert_eq!(answer.code(), "InvalidSecurityToken.MismatchWithAccessKey");
}

#[tokio::test]
async fn protocol_errors_follow_the_documents() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let answer = client
        .v1(V1::Get, "DescribeSendFileResults", ECS, &[])
        .await;
    assert_eq!((answer.status, answer.code()), (400, "MissingParameter"));
    assert!(
        answer.json["Message"]
            .as_str()
            .unwrap()
            .contains("\"RegionId\"")
    );
    let answer = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &[("RegionId", "xx-nowhere-9")],
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (404, "InvalidRegionId.NotFound")
    );
    let answer = client.v1(V1::Get, "DescribeRegions", ECS, &[]).await;
    assert_eq!(
        (answer.status, answer.code()),
        (404, "InvalidAction.NotFound")
    );
    let answer = client
        .v1(V1::Get, "DescribeSendFileResults", "2099-01-01", &[])
        .await;
    assert_eq!(answer.code(), "InvalidVersion");
    let answer = client
        .v1(V1::PostForm, "DescribeSendFileResults", EFLO, &[])
        .await;
    assert_eq!(answer.code(), "MissingParameter");
    let answer = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("Tag.1.Value", "x")]),
        )
        .await;
    assert_eq!(answer.code(), "MissingParameter.TagKey");
    assert!(
        answer.json["Recommend"]
            .as_str()
            .unwrap()
            .contains("q=MissingParameter.TagKey")
    );
}

// ---- paging ---------------------------------------------------------------

#[tokio::test]
async fn a_page_size_of_51_is_refused_as_documented() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let answer = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("PageSize", "51")]),
        )
        .await;
    // DescribeSendFileResults' current document: 400.
    assert_eq!(
        (answer.status, answer.code()),
        (400, "InvalidParam.PageSize")
    );
    let answer = client
        .v1(
            V1::Get,
            "DescribeInvocationResults",
            ECS,
            &describe_files(&[("PageSize", "51")]),
        )
        .await;
    // DescribeInvocationResults' document: 403.
    assert_eq!(
        (answer.status, answer.code()),
        (403, "InvalidParam.PageSize")
    );
    let answer = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("PageSize", "50")]),
        )
        .await;
    assert_eq!(answer.status, 200);
    let answer = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("PageNumber", "0")]),
        )
        .await;
    assert_eq!(answer.code(), "InvalidParam.PageNumber");
    let answer = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("MaxResults", "51")]),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, "InvalidParameter.MaxResults")
    );
    let answer = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("NextToken", "forged")]),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, "InvalidParameter.NextToken")
    );
}

fn fleet_10k() -> SimConfig {
    SimConfig::new()
        .with_key(KEY_ID, Secret::new(SECRET))
        .synthesize(SynthSpec {
            seed: 42,
            instances: 10_000,
            files: 1,
            commands: 1,
            // One instance per file task: 10,000 tasks. Commands go 50 at a
            // time: 200 invocations, 10,000 per-instance results.
            per_call: 1,
            failure_rate: 0.05,
            drift_rate: 0.05,
            ..SynthSpec::default()
        })
}

/// Pages through an action in both styles; returns the items of each.
async fn page_all(
    client: &Client,
    action: &str,
    items: fn(&Value) -> (Option<&Value>, &Value),
) -> (Vec<Value>, Vec<Value>) {
    let mut by_page = Vec::new();
    let mut number = 1;
    loop {
        let page_number = number.to_string();
        let json = client
            .v1(
                V1::Get,
                action,
                ECS,
                &[REGION, ("PageSize", "50"), ("PageNumber", &page_number)],
            )
            .await
            .ok();
        let (total, list) = items(&json);
        let list = list.as_array().unwrap().clone();
        assert_eq!(total.unwrap(), 10_000);
        if list.is_empty() {
            break;
        }
        assert!(list.len() <= 50);
        by_page.extend(list);
        number += 1;
    }
    let mut by_token = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = vec![REGION, ("MaxResults", "50")];
        if let Some(t) = &token {
            params.push(("NextToken", t));
        }
        let json = client.v1(V1::Get, action, ECS, &params).await.ok();
        let (_, list) = items(&json);
        by_token.extend(list.as_array().unwrap().clone());
        let next = match action {
            "DescribeInvocationResults" => &json["Invocation"]["NextToken"],
            _ => &json["NextToken"],
        };
        match next.as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    (by_page, by_token)
}

#[tokio::test]
async fn ten_thousand_records_page_out_completely_in_both_modes() {
    let server = start(fleet_10k()).await;
    let client = Client::new(&server);

    let (pages, tokens) = page_all(&client, "DescribeSendFileResults", |json| {
        (json.get("TotalCount"), &json["Invocations"]["Invocation"])
    })
    .await;
    for items in [&pages, &tokens] {
        let ids: BTreeSet<&str> = items
            .iter()
            .map(|i| i["InvokeId"].as_str().unwrap())
            .collect();
        assert_eq!(items.len(), 10_000);
        assert_eq!(ids.len(), 10_000, "duplicates in the listing");
    }
    // Both styles list the same records in the same order.
    assert_eq!(pages, tokens);

    let (pages, tokens) = page_all(&client, "DescribeInvocationResults", |json| {
        (
            json["Invocation"].get("TotalCount"),
            &json["Invocation"]["InvocationResults"]["InvocationResult"],
        )
    })
    .await;
    for items in [&pages, &tokens] {
        let keys: BTreeSet<(&str, &str)> = items
            .iter()
            .map(|i| {
                (
                    i["InvokeId"].as_str().unwrap(),
                    i["InstanceId"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(items.len(), 10_000);
        assert_eq!(keys.len(), 10_000, "duplicates in the listing");
    }
    assert_eq!(pages, tokens);

    let stats = server.stats();
    // 201 page-mode calls (the last one empty) and 200 token calls, each.
    assert_eq!(stats.requests["ecs/DescribeSendFileResults"], 401);
    assert_eq!(stats.requests["ecs/DescribeInvocationResults"], 401);
}

#[tokio::test]
async fn a_next_token_stays_valid_when_records_are_added_between_pages() {
    let server = start(
        config("sim/rules.yaml").with_lifecycle(shipcheck::sim::Lifecycle {
            pending: Duration::ZERO,
            running: Duration::ZERO,
        }),
    )
    .await;
    let client = Client::new(&server);
    for i in 0..3 {
        let name = format!("f{i}.txt");
        client
            .v1(
                V1::Get,
                "SendFile",
                ECS,
                &[
                    REGION,
                    ("InstanceId.1", "i-ok"),
                    ("Name", &name),
                    ("TargetDir", "/tmp"),
                    ("Content", "x"),
                ],
            )
            .await
            .ok();
        server.advance_clock(Duration::from_secs(1));
    }
    let first = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("MaxResults", "2")]),
        )
        .await
        .ok();
    let token = first["NextToken"].as_str().unwrap().to_owned();
    // A newer record appears before the next page is read.
    client
        .v1(
            V1::Get,
            "SendFile",
            ECS,
            &[
                REGION,
                ("InstanceId.1", "i-ok"),
                ("Name", "late.txt"),
                ("TargetDir", "/tmp"),
                ("Content", "x"),
            ],
        )
        .await
        .ok();
    let second = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &[REGION, ("MaxResults", "2"), ("NextToken", &token)],
        )
        .await
        .ok();
    let names = |json: &Value| -> Vec<String> {
        json["Invocations"]["Invocation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["Name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["f2.txt", "f1.txt"]);
    assert_eq!(names(&second), ["f0.txt", "fresh.txt"]);
}

/// A synthesized fleet with several tasks per file and per instance, and
/// command results, at a fixed instant.
fn mixed_fleet() -> SimConfig {
    SimConfig::new()
        .with_key(KEY_ID, Secret::new(SECRET))
        .with_clock(shipcheck::sim::ClockSetting::Frozen(
            "2026-01-01T00:00:00Z".parse().unwrap(),
        ))
        .synthesize(SynthSpec {
            seed: 9,
            instances: 130,
            files: 3,
            commands: 2,
            per_call: 7,
            failure_rate: 0.1,
            drift_rate: 0.1,
            ..SynthSpec::default()
        })
}

/// Every item of a listing and its TotalCount, walked by PageNumber and by
/// NextToken (which must agree), `size` at a time.
async fn listing(
    client: &Client,
    action: &str,
    filters: &[(&str, &str)],
    size: &str,
) -> (u64, Vec<Value>) {
    let items = |json: &Value| -> (u64, Vec<Value>, Option<String>) {
        let body = match action {
            "DescribeInvocationResults" => &json["Invocation"],
            _ => json,
        };
        let list = match action {
            "DescribeInvocationResults" => &body["InvocationResults"]["InvocationResult"],
            _ => &body["Invocations"]["Invocation"],
        };
        (
            body["TotalCount"].as_u64().unwrap(),
            list.as_array().unwrap().clone(),
            body["NextToken"].as_str().map(str::to_owned),
        )
    };
    let mut by_page = Vec::new();
    let mut total = None;
    for number in 1.. {
        let number = number.to_string();
        let mut params = vec![REGION, ("PageSize", size), ("PageNumber", &number)];
        params.extend_from_slice(filters);
        let (count, list, _) = items(&client.v1(V1::Get, action, ECS, &params).await.ok());
        assert_eq!(*total.get_or_insert(count), count);
        if list.is_empty() {
            break;
        }
        by_page.extend(list);
    }
    let mut by_token = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = vec![REGION, ("MaxResults", size)];
        if let Some(t) = &token {
            params.push(("NextToken", t));
        }
        params.extend_from_slice(filters);
        let (count, list, next) = items(&client.v1(V1::Get, action, ECS, &params).await.ok());
        assert_eq!(Some(count), total, "{action} {filters:?}");
        by_token.extend(list);
        match next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(
        by_page, by_token,
        "{action} {filters:?}: the two paging styles differ"
    );
    let total = total.unwrap();
    assert_eq!(total, by_page.len() as u64, "{action} {filters:?}");
    (total, by_page)
}

fn str_of<'v>(item: &'v Value, key: &str) -> &'v str {
    item[key].as_str().unwrap()
}

#[tokio::test]
async fn filtered_listings_agree_with_the_full_listing() {
    let server = start(mixed_fleet()).await;
    let client = Client::new(&server);

    let (total, all) = listing(&client, "DescribeSendFileResults", &[], "50").await;
    // 130 instances in calls of 7: 19 tasks per file.
    assert_eq!(total, 3 * 19);
    let instance = "i-sim000000000000008";
    let invoke_id = str_of(&all[11], "InvokeId").to_owned();
    let only_instance = |item: &Value| -> Option<Value> {
        let machines = item["InvokeInstances"]["InvokeInstance"]
            .as_array()
            .unwrap();
        let mine: Vec<Value> = machines
            .iter()
            .filter(|m| m["InstanceId"] == instance)
            .cloned()
            .collect();
        (!mine.is_empty()).then(|| {
            let mut item = item.clone();
            item["InvokeInstances"]["InvokeInstance"] = Value::Array(mine);
            item
        })
    };
    // (filters, the items they should list)
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<Value>);
    let cases: Vec<Case> = vec![
        (
            vec![("Name", "app-01.conf")],
            all.iter()
                .filter(|i| str_of(i, "Name") == "app-01.conf")
                .cloned()
                .collect(),
        ),
        (
            vec![("InstanceId", instance)],
            all.iter().filter_map(only_instance).collect(),
        ),
        (
            vec![("InstanceId", instance), ("Name", "app-02.conf")],
            all.iter()
                .filter(|i| str_of(i, "Name") == "app-02.conf")
                .filter_map(only_instance)
                .collect(),
        ),
        (vec![("InvokeId", &invoke_id)], vec![all[11].clone()]),
        (
            vec![("InvocationStatus", "PartialFailed")],
            all.iter()
                .filter(|i| str_of(i, "InvocationStatus") == "PartialFailed")
                .cloned()
                .collect(),
        ),
        (vec![("Name", "app-09.conf")], Vec::new()),
    ];
    for (filters, want) in &cases {
        // Every case but the last selects something, or it tests nothing.
        assert!(
            !want.is_empty() || filters[0].1 == "app-09.conf",
            "{filters:?} selects nothing to test"
        );
        for size in ["7", "50"] {
            let (_, got) = listing(&client, "DescribeSendFileResults", filters, size).await;
            assert_eq!(&got, want, "{filters:?}");
        }
    }

    let (total, results) = listing(&client, "DescribeInvocationResults", &[], "50").await;
    assert_eq!(total, 2 * 130);
    let command = "c-sim0000000001";
    // (filters, which results of the full listing they keep)
    type Keep<'a> = (Vec<(&'a str, &'a str)>, Box<dyn Fn(&Value) -> bool + 'a>);
    let cases: Vec<Keep> = vec![
        (
            vec![("CommandId", command)],
            Box::new(|r| str_of(r, "CommandId") == command),
        ),
        (
            vec![("InstanceId", instance)],
            Box::new(|r| str_of(r, "InstanceId") == instance),
        ),
        (
            vec![("InstanceId", instance), ("CommandId", command)],
            Box::new(|r| str_of(r, "InstanceId") == instance && str_of(r, "CommandId") == command),
        ),
        (
            vec![("InvocationStatus", "Failed")],
            Box::new(|r| str_of(r, "InvocationStatus") == "Failed"),
        ),
    ];
    for (filters, keep) in &cases {
        let want: Vec<Value> = results.iter().filter(|r| keep(r)).cloned().collect();
        assert!(!want.is_empty(), "{filters:?} selects nothing to test");
        for size in ["7", "50"] {
            let (_, got) = listing(&client, "DescribeInvocationResults", filters, size).await;
            assert_eq!(got, want, "{filters:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_walked_while_records_are_written_stay_complete() {
    let server = start(mixed_fleet()).await;
    let client = Client::new(&server);
    let (_, before) = listing(&client, "DescribeSendFileResults", &[], "10").await;
    let first = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("MaxResults", "10")]),
        )
        .await
        .ok();
    let token = first["NextToken"].as_str().unwrap().to_owned();

    // Four readers continue from the same cursor while a writer adds tasks.
    let writer = {
        let client = client.clone();
        tokio::spawn(async move {
            for i in 0..20 {
                let name = format!("late-{i}.conf");
                client
                    .v1(
                        V1::Get,
                        "SendFile",
                        ECS,
                        &[
                            REGION,
                            ("InstanceId.1", "i-sim000000000000001"),
                            ("Name", &name),
                            ("TargetDir", "/tmp"),
                            ("Content", "x"),
                        ],
                    )
                    .await
                    .ok();
            }
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (client, token) = (client.clone(), token.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut token = Some(token);
                while let Some(t) = token.take() {
                    let json = client
                        .v1(
                            V1::Get,
                            "DescribeSendFileResults",
                            ECS,
                            &[REGION, ("MaxResults", "10"), ("NextToken", &t)],
                        )
                        .await
                        .ok();
                    seen.extend(
                        json["Invocations"]["Invocation"]
                            .as_array()
                            .unwrap()
                            .clone(),
                    );
                    token = json["NextToken"].as_str().map(str::to_owned);
                }
                seen
            })
        })
        .collect();
    let first = first["Invocations"]["Invocation"]
        .as_array()
        .unwrap()
        .clone();
    for reader in readers {
        let rest = reader.await.unwrap();
        // Tasks created meanwhile are newer than the cursor: never listed.
        let walked: Vec<Value> = first.iter().cloned().chain(rest).collect();
        assert_eq!(walked, before);
    }
    writer.await.unwrap();
    let (total, after) = listing(&client, "DescribeSendFileResults", &[], "10").await;
    assert_eq!(total as usize, before.len() + 20);
    assert_eq!(after[20..], before[..]);
    assert!(
        after[..20]
            .iter()
            .all(|i| str_of(i, "Name").starts_with("late-"))
    );
}

// ---- SendFile rules, lifecycle, retention ----------------------------------

async fn send(client: &Client, instances: &[&str], extra: &[(&str, &str)]) -> String {
    let keys: Vec<String> = (1..=instances.len())
        .map(|i| format!("InstanceId.{i}"))
        .collect();
    let mut params: Vec<(&str, &str)> =
        vec![REGION, ("TargetDir", "/etc/app"), ("Content", "hello")];
    params.extend(
        keys.iter()
            .map(String::as_str)
            .zip(instances.iter().copied()),
    );
    params.extend_from_slice(extra);
    if !extra.iter().any(|(k, _)| *k == "Name") {
        params.push(("Name", "app.conf"));
    }
    let json = client.v1(V1::Get, "SendFile", ECS, &params).await.ok();
    json["InvokeId"].as_str().unwrap().to_owned()
}

async fn file_task(client: &Client, invoke_id: &str) -> Value {
    let json = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &[REGION, ("InvokeId", invoke_id)],
        )
        .await
        .ok();
    json["Invocations"]["Invocation"][0].clone()
}

fn per_instance(task: &Value) -> Vec<(String, String, String)> {
    task["InvokeInstances"]["InvokeInstance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["InstanceId"].as_str().unwrap().to_owned(),
                i["InvocationStatus"].as_str().unwrap().to_owned(),
                i["ErrorCode"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn triple(id: &str, status: &str, code: &str) -> (String, String, String) {
    (id.to_owned(), status.to_owned(), code.to_owned())
}

#[tokio::test]
async fn send_file_failures_follow_the_machines() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let settle = || server.advance_clock(Duration::from_secs(60));

    let id = send(
        &client,
        &[
            "i-ok",
            "i-missing",
            "i-stopped",
            "i-released",
            "i-noagent",
            "i-old-agent",
            "i-beijing",
        ],
        &[],
    )
    .await;
    settle();
    let task = file_task(&client, &id).await;
    assert_eq!(
        per_instance(&task),
        [
            triple("i-ok", "Success", ""),
            triple("i-missing", "Aborted", "InstanceNotExists"),
            triple("i-stopped", "Aborted", "InstanceNotRunning"),
            triple("i-released", "Aborted", "InstanceReleased"),
            triple("i-noagent", "Aborted", "ClientNotRunning"),
            triple("i-old-agent", "Aborted", "ClientNeedUpgrade"),
            triple("i-beijing", "Aborted", "InstanceNotExists"),
        ]
    );
    assert_eq!(task["InvocationStatus"], "PartialFailed");
    assert_eq!(task["VmCount"], 7);
    assert_eq!(
        task["InvokeInstances"]["InvokeInstance"][1]["ErrorInfo"],
        "the specified instance does not exists"
    );

    // The file now exists on i-ok: a second send needs Overwrite.
    let id = send(&client, &["i-ok"], &[]).await;
    settle();
    let task = file_task(&client, &id).await;
    assert_eq!(
        per_instance(&task),
        [triple("i-ok", "Failed", "FileAlreadyExists")]
    );
    assert_eq!(task["InvocationStatus"], "Failed");
    assert_eq!(
        task["InvokeInstances"]["InvokeInstance"][0]["ErrorInfo"],
        "File already exists"
    );

    type Case<'a> = (&'a [(&'a str, &'a str)], (&'a str, &'a str));
    let cases: &[Case] = &[
        (
            &[("Name", "existing.conf")],
            ("Failed", "FileAlreadyExists"),
        ),
        (
            &[("Name", "existing.conf"), ("Overwrite", "true")],
            ("Success", ""),
        ),
        (
            &[("Name", "o.conf"), ("FileOwner", "nobody")],
            ("Failed", "AccountNotExists"),
        ),
        (
            &[("Name", "g.conf"), ("FileGroup", "nogroup")],
            ("Failed", "UserGroupNotExists"),
        ),
        (
            &[
                ("Name", "w.conf"),
                ("FileOwner", "www"),
                ("FileGroup", "www"),
            ],
            ("Success", ""),
        ),
        (
            &[("Name", "m.conf"), ("FileMode", "0999")],
            ("Failed", "FileAuthorityInvalid"),
        ),
        (
            &[
                ("Name", "b.conf"),
                ("ContentType", "Base64"),
                ("Content", "%%%"),
            ],
            ("Failed", "FileContentInvalid"),
        ),
        (
            &[("Name", "r.conf"), ("ResourceGroupId", "rg-other")],
            ("Aborted", "InstanceNotExists"),
        ),
        (
            &[("Name", "r.conf"), ("ResourceGroupId", "rg-a")],
            ("Success", ""),
        ),
    ];
    for (extra, (status, code)) in cases {
        let id = send(&client, &["i-ok"], extra).await;
        settle();
        let task = file_task(&client, &id).await;
        assert_eq!(
            per_instance(&task),
            [triple("i-ok", status, code)],
            "{extra:?}"
        );
    }

    // Request-level refusals.
    let answer = client
        .v1(
            V1::Get,
            "SendFile",
            ECS,
            &[
                REGION,
                ("Name", "x"),
                ("TargetDir", "/tmp"),
                ("Content", "x"),
            ],
        )
        .await;
    assert_eq!(answer.code(), "MissingParameter");
    let big = "x".repeat(24 * 1024 + 1);
    let answer = client
        .v1(
            V1::PostForm,
            "SendFile",
            ECS,
            &[
                REGION,
                ("InstanceId.1", "i-ok"),
                ("Name", "x"),
                ("TargetDir", "/tmp"),
                ("Content", &big),
            ],
        )
        .await;
    assert_eq!(answer.code(), "InvalidParameter");
}

#[tokio::test]
async fn a_task_moves_from_pending_to_running_to_its_final_status() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let id = send(&client, &["i-ok"], &[("Name", "life.conf")]).await;

    let task = file_task(&client, &id).await;
    assert_eq!(task["InvocationStatus"], "Pending");
    let instance = &task["InvokeInstances"]["InvokeInstance"][0];
    assert_eq!(instance["InvocationStatus"], "Pending");
    assert_eq!(instance["StartTime"], "");
    assert_eq!(task["CreationTime"], "2026-01-01T00:00:00Z");
    let pending = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("InvocationStatus", "Pending")]),
        )
        .await
        .ok();
    assert_eq!(pending["TotalCount"], 1);

    server.advance_clock(Duration::from_secs(10));
    let task = file_task(&client, &id).await;
    let instance = &task["InvokeInstances"]["InvokeInstance"][0];
    assert_eq!(task["InvocationStatus"], "Running");
    assert_eq!(instance["StartTime"], "2026-01-01T00:00:10Z");
    assert_eq!(instance["FinishTime"], "");

    server.advance_clock(Duration::from_secs(20));
    let task = file_task(&client, &id).await;
    let instance = &task["InvokeInstances"]["InvokeInstance"][0];
    assert_eq!(task["InvocationStatus"], "Success");
    assert_eq!(instance["FinishTime"], "2026-01-01T00:00:30Z");
    assert_eq!(instance["UpdateTime"], "2026-01-01T00:00:30Z");
}

#[tokio::test]
async fn records_older_than_the_retention_window_vanish() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let ids = |json: Value| -> Vec<String> {
        json["Invocations"]["Invocation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["InvokeId"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[]),
        )
        .await
        .ok();
    assert_eq!(ids(listed), ["f-fresh"]);
    let stale = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("InvokeId", "f-stale")]),
        )
        .await
        .ok();
    assert_eq!(stale["TotalCount"], 0);

    server.advance_clock(Duration::from_secs(3 * 24 * 3600));
    let listed = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[]),
        )
        .await
        .ok();
    assert!(ids(listed).is_empty());
}

#[tokio::test]
async fn a_shorter_retention_is_honoured() {
    let server =
        start(config("sim/rules.yaml").with_retention(Duration::from_secs(5 * 24 * 3600))).await;
    let client = Client::new(&server);
    let listed = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[]),
        )
        .await
        .ok();
    assert_eq!(listed["TotalCount"], 0);
}

// ---- commands ---------------------------------------------------------------

async fn run_command(client: &Client, content: &str, instances: &[&str]) -> String {
    let keys: Vec<String> = (1..=instances.len())
        .map(|i| format!("InstanceId.{i}"))
        .collect();
    let mut params: Vec<(&str, &str)> = vec![
        REGION,
        ("Type", "RunShellScript"),
        ("CommandContent", content),
    ];
    params.extend(
        keys.iter()
            .map(String::as_str)
            .zip(instances.iter().copied()),
    );
    let json = client
        .v1(V1::PostForm, "RunCommand", ECS, &params)
        .await
        .ok();
    assert!(json["CommandId"].as_str().unwrap().starts_with("c-"));
    json["InvokeId"].as_str().unwrap().to_owned()
}

async fn results(client: &Client, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![REGION];
    params.extend_from_slice(extra);
    client
        .v1(V1::Get, "DescribeInvocationResults", ECS, &params)
        .await
        .ok()["Invocation"]
        .clone()
}

#[tokio::test]
async fn run_command_results_read_back_with_encoding_filters_and_history() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let ok = run_command(&client, "echo hi", &["i-ok", "i-missing"]).await;
    let bad = run_command(&client, "make it fail", &["i-ok"]).await;

    let running = results(&client, &[("InvokeId", &ok)]).await;
    assert_eq!(
        running["InvocationResults"]["InvocationResult"][0]["InvokeRecordStatus"],
        "Running"
    );

    server.advance_clock(Duration::from_secs(60));
    let done = results(&client, &[("InvokeId", &ok)]).await;
    let items = done["InvocationResults"]["InvocationResult"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 2);
    // Output is Base64 unless PlainText is asked for.
    assert_eq!(
        items[0]["Output"],
        base64::engine::general_purpose::STANDARD.encode("echoed\n")
    );
    assert_eq!(items[0]["InvocationStatus"], "Success");
    assert_eq!(items[0]["InvokeRecordStatus"], "Finished");
    assert_eq!(items[0]["Username"], "root");
    assert_eq!(
        (
            items[1]["InvocationStatus"].as_str(),
            items[1]["ErrorCode"].as_str()
        ),
        (Some("Invalid"), Some("InstanceNotExists"))
    );
    let plain = results(
        &client,
        &[
            ("InvokeId", &ok),
            ("ContentEncoding", "PlainText"),
            ("InstanceId", "i-ok"),
        ],
    )
    .await;
    assert_eq!(
        plain["InvocationResults"]["InvocationResult"][0]["Output"],
        "echoed\n"
    );

    let failed = results(
        &client,
        &[("InvokeId", &bad), ("ContentEncoding", "PlainText")],
    )
    .await;
    let item = &failed["InvocationResults"]["InvocationResult"][0];
    assert_eq!(
        (
            item["InvocationStatus"].clone(),
            item["ExitCode"].clone(),
            item["ErrorCode"].clone(),
            item["Output"].clone()
        ),
        (
            json!("Failed"),
            json!(3),
            json!("ExitCodeNonzero"),
            json!("it failed\n")
        )
    );

    let finished = results(&client, &[("InvokeRecordStatus", "Failed")]).await;
    assert_eq!(
        finished["TotalCount"], 1,
        "only the unreachable instance failed to run: {finished}"
    );

    let history = results(
        &client,
        &[
            ("InvokeId", "t-periodic"),
            ("IncludeHistory", "true"),
            ("ContentEncoding", "PlainText"),
        ],
    )
    .await;
    let outputs: Vec<&str> = history["InvocationResults"]["InvocationResult"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["Output"].as_str().unwrap())
        .collect();
    assert_eq!(outputs, ["run 3\n", "run 2\n", "run 1\n"]);
    let latest = results(&client, &[("InvokeId", "t-periodic")]).await;
    assert_eq!(latest["TotalCount"], 1);

    let answer = client
        .v1(
            V1::Get,
            "DescribeInvocationResults",
            ECS,
            &[REGION, ("ContentEncoding", "Rot13")],
        )
        .await;
    assert_eq!(answer.code(), "InvalidParameter");
}

#[tokio::test]
async fn describe_invocations_lists_overall_and_per_instance_status() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    let id = run_command(&client, "make it fail", &["i-ok", "i-missing"]).await;
    server.advance_clock(Duration::from_secs(60));
    let json = client
        .v1(
            V1::Get,
            "DescribeInvocations",
            ECS,
            &[
                REGION,
                ("InvokeId", &id),
                ("IncludeOutput", "true"),
                ("ContentEncoding", "PlainText"),
            ],
        )
        .await
        .ok();
    let invocation = &json["Invocations"]["Invocation"][0];
    assert_eq!(invocation["InvocationStatus"], "Failed");
    assert_eq!(invocation["InvokeStatus"], "Failed");
    assert_eq!(invocation["CommandContent"], "make it fail");
    assert_eq!(invocation["VmCount"], 2);
    let instances = invocation["InvokeInstances"]["InvokeInstance"]
        .as_array()
        .unwrap();
    assert_eq!(instances[0]["Output"], "it failed\n");
    assert_eq!(instances[0]["InstanceInvokeStatus"], "Finished");
    let by_status = client
        .v1(
            V1::Get,
            "DescribeInvocations",
            ECS,
            &[REGION, ("InvokeStatus", "Finished")],
        )
        .await
        .ok();
    // Only the recurring invocation from the state finished cleanly.
    assert_eq!(by_status["TotalCount"], 1);
    assert_eq!(
        by_status["Invocations"]["Invocation"][0]["InvokeId"],
        "t-periodic"
    );
}

// ---- eflo and quirks -----------------------------------------------------------

#[tokio::test]
async fn eflo_send_file_reads_back_with_its_own_shape() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    // EFLO-PY: V3 with the parameters in a form body, nodes as a JSON array.
    let sent = client
        .v3(
            "SendFile",
            EFLO,
            &[
                ("Name", "node.conf"),
                ("TargetDir", "/etc"),
                ("Content", "x"),
                ("Overwrite", "True"),
                ("NodeIdList", r#"["e01-node-a","e01-missing"]"#),
            ],
            true,
        )
        .await
        .ok();
    let invoke_id = sent["InvokeId"].as_str().unwrap().to_owned();
    assert!(invoke_id.starts_with("t-"));
    server.advance_clock(Duration::from_secs(60));
    let json = client
        .v3(
            "DescribeSendFileResults",
            EFLO,
            &[("InvokeId", &invoke_id)],
            true,
        )
        .await
        .ok();
    assert_eq!(json["TotalCount"], "1");
    let item = &json["Invocations"]["Invocation"][0];
    assert!(item.get("InvokeId").is_none(), "{item}");
    assert_eq!(item["NodeCount"], 2);
    assert_eq!(item["Overwrite"], true);
    assert_eq!(item["CreationTime"], "2026-01-01T08:00:00.000+08:00");
    let nodes = item["InvokeNodes"]["InvokeNode"].as_array().unwrap();
    assert_eq!(nodes[0]["NodeId"], "e01-node-a");
    assert_eq!(nodes[0]["InvocationStatus"], "Success");
    assert_eq!(nodes[1]["ErrorCode"], "NodeNotExists");
    let one = client
        .v1(
            V1::PostForm,
            "DescribeSendFileResults",
            EFLO,
            &[("InvokeId", &invoke_id), ("NodeId", "e01-missing")],
        )
        .await
        .ok();
    assert_eq!(
        one["Invocations"]["Invocation"][0]["InvokeNodes"]["InvokeNode"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_state_picks_the_spelling_of_file_mode_and_overwrite() {
    let yaml = r#"
version: 1
clock: { now: "2026-01-01T00:00:00Z" }
responses: { file_mode: number, overwrite: string }
deliveries:
  - { invoke_id: f-q, name: q, target_dir: /q, mode: "0644", creation_time: "2025-12-31T00:00:00Z", targets: [{ id: i-q }] }
"#;
    let config = SimConfig::from_state_str(yaml, "inline.yaml".as_ref())
        .unwrap()
        .with_key(KEY_ID, Secret::new(SECRET));
    let server = start(config).await;
    let client = Client::new(&server);
    let json = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[]),
        )
        .await
        .ok();
    let item = &json["Invocations"]["Invocation"][0];
    assert_eq!(item["FileMode"], json!(644));
    assert_eq!(item["Overwrite"], json!("false"));
}

#[tokio::test]
async fn tag_filters_select_records() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    send(
        &client,
        &["i-ok"],
        &[
            ("Name", "tagged.conf"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
        ],
    )
    .await;
    let hit = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("Tag.1.Key", "env"), ("Tag.1.Value", "prod")]),
        )
        .await
        .ok();
    assert_eq!(hit["TotalCount"], 1);
    assert_eq!(
        hit["Invocations"]["Invocation"][0]["Tags"]["Tag"][0],
        json!({"TagKey": "env", "TagValue": "prod"})
    );
    let miss = client
        .v1(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &describe_files(&[("Tag.1.Key", "env"), ("Tag.1.Value", "dev")]),
        )
        .await
        .ok();
    assert_eq!(miss["TotalCount"], 0);
}

// ---- faults and stats --------------------------------------------------------------

#[tokio::test]
async fn scripted_faults_reach_the_client_as_the_cloud_sends_them() {
    let faults = FaultSpec {
        script: vec![
            Fault::Throttle,
            Fault::InternalError,
            Fault::Unavailable,
            Fault::Drop,
            Fault::Truncate,
            Fault::None,
        ],
        retry_after_ms: Some(1500),
        ..FaultSpec::default()
    };
    let server = start(config("sim/rules.yaml").with_faults(faults)).await;
    let client = Client::new(&server);
    let params = describe_files(&[]);
    let call = || client.v1(V1::Get, "DescribeSendFileResults", ECS, &params);

    let throttled = call().await;
    assert_eq!(
        (throttled.status, throttled.code()),
        (400, "Throttling.User")
    );
    assert_eq!(throttled.headers["x-acs-retry-after"], "1500");
    let internal = call().await;
    assert_eq!(
        (internal.status, internal.code()),
        (500, "InternalError.Dispatch")
    );
    let unavailable = call().await;
    assert_eq!(
        (unavailable.status, unavailable.code()),
        (503, "ServiceUnavailable")
    );

    let request = |c: &Client| {
        c.v1_request(
            V1::Get,
            "DescribeSendFileResults",
            ECS,
            &params,
            &sim::nonce(),
            &now(),
        )
    };
    let dropped = request(&client).send().await;
    assert!(
        dropped.is_err(),
        "the connection should close unanswered: {dropped:?}"
    );
    let truncated = request(&client).send().await.unwrap();
    assert_eq!(truncated.status(), 200);
    assert!(
        truncated.bytes().await.is_err(),
        "the body should be cut short"
    );

    assert_eq!(call().await.status, 200);
    let stats = client.stats().await;
    assert_eq!(
        stats["faults"],
        json!({"drop": 1, "internal-error": 1, "throttle": 1, "truncate": 1, "unavailable": 1})
    );
    assert_eq!(stats["requests"]["ecs/DescribeSendFileResults"], 6);
    assert_eq!(stats["errors"]["Throttling.User"], 1);
}

#[tokio::test]
async fn fault_rates_are_deterministic_from_the_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let faults = FaultSpec {
            seed: Some(seed),
            throttle: 0.3,
            unavailable: 0.2,
            ..FaultSpec::default()
        };
        let server = start(config("sim/rules.yaml").with_faults(faults)).await;
        let client = Client::new(&server);
        let mut out = Vec::new();
        for _ in 0..30 {
            out.push(
                client
                    .v1(
                        V1::Get,
                        "DescribeSendFileResults",
                        ECS,
                        &describe_files(&[]),
                    )
                    .await
                    .status,
            );
        }
        out
    }
    let a = statuses(7).await;
    assert_eq!(a, statuses(7).await);
    assert_ne!(a, statuses(8).await);
    assert!(
        a.contains(&200) && a.contains(&400) && a.contains(&503),
        "{a:?}"
    );
}

#[tokio::test]
async fn faults_can_target_one_action_and_add_latency() {
    let faults = FaultSpec {
        script: vec![Fault::Unavailable, Fault::Unavailable],
        actions: vec!["RunCommand".to_owned()],
        latency: Some(Duration::from_millis(1)),
        ..FaultSpec::default()
    };
    let server = start(config("sim/rules.yaml").with_faults(faults)).await;
    let client = Client::new(&server);
    assert_eq!(
        client
            .v1(
                V1::Get,
                "DescribeSendFileResults",
                ECS,
                &describe_files(&[])
            )
            .await
            .status,
        200
    );
    let answer = client
        .v1(
            V1::Get,
            "RunCommand",
            ECS,
            &[
                REGION,
                ("Type", "RunShellScript"),
                ("CommandContent", "x"),
                ("InstanceId.1", "i-ok"),
            ],
        )
        .await;
    assert_eq!(answer.code(), "ServiceUnavailable");
}

#[tokio::test]
async fn stats_count_requests_per_action() {
    let server = start(config("sim/rules.yaml")).await;
    let client = Client::new(&server);
    for _ in 0..3 {
        client
            .v1(
                V1::Get,
                "DescribeSendFileResults",
                ECS,
                &describe_files(&[]),
            )
            .await
            .ok();
    }
    client
        .v1(
            V1::PostForm,
            "DescribeSendFileResults",
            EFLO,
            &[("InvokeId", "t-none")],
        )
        .await
        .ok();
    client
        .with_secret("wrong")
        .v1(
            V1::Get,
            "DescribeInvocationResults",
            ECS,
            &describe_files(&[]),
        )
        .await;
    let stats = client.stats().await;
    assert_eq!(
        stats,
        json!({
            "total": 5,
            "requests": {
                "ecs/DescribeInvocationResults": 1,
                "ecs/DescribeSendFileResults": 3,
                "eflo-controller/DescribeSendFileResults": 1,
            },
            "errors": { "SignatureDoesNotMatch": 1 },
            "faults": {},
        })
    );
    assert_eq!(serde_json::to_value(server.stats()).unwrap(), stats);
}
