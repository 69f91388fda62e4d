//! `Format=XML`: the simulator serving the documents' sample states answers
//! XML equal to the documents' XML samples (tests/data/fixtures/seeds/*.xml),
//! element order aside; errors come as `<Error>`. The requests put
//! `Format=XML` in the form body while the signer's `Format=json` is in the
//! query: a name in both places is signed and read once, the body's value
//! winning, as the old Python SDK sends it.

use crate::support::fixture;
use crate::support::sim::{Client, ECS, V1, config, start};

/// An XML element: its name, its text (trimmed) and its children, sorted
/// so that two documents compare equal whatever their element order.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

/// Enough XML for these documents: elements, text and `<x/>`; no attributes.
fn parse(xml: &str) -> Element {
    let xml = xml.trim_start();
    let xml = match xml.strip_prefix("<?xml") {
        Some(rest) => &rest[rest.find("?>").unwrap() + 2..],
        None => xml,
    };
    let tag = regex::Regex::new(r"<(/?)([A-Za-z0-9]+)(/?)>").unwrap();
    let mut stack = vec![Element {
        name: String::new(),
        text: String::new(),
        children: Vec::new(),
    }];
    let mut last = 0;
    for found in tag.captures_iter(xml) {
        let whole = found.get(0).unwrap();
        stack
            .last_mut()
            .unwrap()
            .text
            .push_str(&xml[last..whole.start()]);
        last = whole.end();
        let name = found[2].to_owned();
        if &found[1] == "/" {
            let mut done = stack.pop().unwrap();
            assert_eq!(done.name, name, "badly nested XML:\n{xml}");
            done.text = done.text.trim().to_owned();
            done.children.sort();
            stack.last_mut().unwrap().children.push(done);
        } else {
            let element = Element {
                name,
                text: String::new(),
                children: Vec::new(),
            };
            if &found[3] == "/" {
                stack.last_mut().unwrap().children.push(element);
            } else {
                stack.push(element);
            }
        }
    }
    let mut document = stack.pop().unwrap();
    assert!(stack.is_empty(), "unclosed elements:\n{xml}");
    assert_eq!(document.children.len(), 1, "one root:\n{xml}");
    document.children.pop().unwrap()
}

fn sample(name: &str) -> Element {
    parse(&std::fs::read_to_string(fixture(&format!("seeds/{name}"))).unwrap())
}

/// A V1 POST with `Format=XML` in the body; the status, content type and body.
async fn xml_call(client: &Client, action: &str, params: &[(&str, &str)]) -> (u16, String, String) {
    let mut params = params.to_vec();
    params.push(("Format", "XML"));
    let response = client
        .v1_request(
            V1::PostForm,
            action,
            ECS,
            &params,
            &crate::support::sim::nonce(),
            &crate::support::sim::now(),
        )
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn describe_send_file_results_in_xml_is_the_documents_sample() {
    let server = start(config("sim/seed-ecs-describe-send-file-results.yaml")).await;
    let client = Client::new(&server);
    let (status, content_type, body) = xml_call(
        &client,
        "DescribeSendFileResults",
        &[
            ("RegionId", "cn-hangzhou"),
            ("InvokeId", "f-hz0vk9****"),
            ("Name", "test.txt"),
            ("InstanceId", "i-bp1hsglsw****"),
            ("PageNumber", "1"),
            ("PageSize", "10"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        content_type.starts_with("application/xml"),
        "{content_type}"
    );
    assert!(
        body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{body}"
    );
    assert_eq!(
        parse(&body),
        sample("ecs-describe-send-file-results.en.xml")
    );
}

#[tokio::test]
async fn describe_invocation_results_in_xml_is_the_documents_sample() {
    let server = start(config("sim/seed-ecs-describe-invocation-results.yaml")).await;
    let client = Client::new(&server);
    let (status, _, body) = xml_call(
        &client,
        "DescribeInvocationResults",
        &[
            ("RegionId", "cn-hangzhou"),
            ("InstanceId", "i-bp1i7gg30r52z2em****"),
            ("PageNumber", "1"),
            ("PageSize", "1"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(parse(&body), sample("ecs-describe-invocation-results.xml"));
}

#[tokio::test]
async fn describe_invocations_and_errors_in_xml() {
    let server = start(config("sim/seed-ecs-describe-invocation-results.yaml")).await;
    let client = Client::new(&server);
    let (status, _, body) = xml_call(
        &client,
        "DescribeInvocations",
        &[("RegionId", "cn-hangzhou")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let root = parse(&body);
    assert_eq!(root.name, "DescribeInvocationsResponse");
    assert!(
        root.children.iter().any(|c| c.name == "Invocations"),
        "{body}"
    );

    let (status, content_type, body) = xml_call(
        &client.with_secret("wrong-secret"),
        "DescribeInvocations",
        &[("RegionId", "cn-hangzhou")],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        content_type.starts_with("application/xml"),
        "{content_type}"
    );
    let error = parse(&body);
    assert_eq!(error.name, "Error");
    assert!(
        error
            .children
            .iter()
            .any(|c| c.name == "Code" && c.text == "SignatureDoesNotMatch"),
        "{body}"
    );
    // Without Format=XML, JSON as before.
    let json = client
        .v1(
            V1::PostForm,
            "DescribeInvocations",
            ECS,
            &[("RegionId", "cn-hangzhou")],
        )
        .await
        .ok();
    assert!(json["Invocations"].is_object(), "{json}");
}
