//! The official Alibaba Cloud Python SDK (alibabacloud-ecs20140526) against
//! the simulator: SendFile, RunCommand, DescribeSendFileResults and
//! DescribeInvocationResults, signed with the SDK's default V3 and with
//! `signature_algorithm='v2'` (V1); a wrong secret gets
//! SignatureDoesNotMatch. The old SDK (aliyun-python-sdk-core) asks for
//! XML and signs a parameter sent in both the query and the body once.
//! scripts/test.sh builds the virtualenv and sets SHIPCHECK_SDK_PYTHON.

use serde_json::{Value, json};

use crate::support::sim::{self, config, start};

const INSTANCE: &str = "i-bp1sdk0000000001";

#[tokio::test]
#[ignore = "needs the Python SDK: run scripts/test.sh"]
async fn the_official_python_sdk_round_trips_with_v3_and_v1() {
    let server = start(config("sim/sdk.yaml")).await;
    let outcome = sim::run_sdk_script(
        &server,
        "sdk/sim_roundtrip.py",
        vec![("SIM_INSTANCE", INSTANCE.into())],
    )
    .await;

    for scheme in ["v3", "v2"] {
        let run = &outcome[scheme];
        let file = &run["file"];
        assert_eq!(
            file["invoke_id"], run["send_file_invoke_id"],
            "{scheme}: {run}"
        );
        assert_eq!(file["name"], format!("{scheme}.conf"));
        assert_eq!(file["content"], format!("hello from {scheme}\n"));
        assert_eq!(file["file_mode"], "0640");
        assert_eq!(file["overwrite"], true);
        assert_eq!(file["status"], "Success");
        assert_eq!(
            file["instances"],
            json!([{"id": INSTANCE, "status": "Success", "error_code": ""}])
        );
        assert_eq!(file["tags"], json!([["via", scheme]]));
        let command = &run["command"];
        assert_eq!(command["invoke_id"], run["run_command_invoke_id"]);
        assert_eq!(command["instance_id"], INSTANCE);
        assert_eq!(command["status"], "Success");
        assert_eq!(command["exit_code"], 0);
        assert_eq!(command["output"], "hello\n");
    }
    for scheme in ["v3", "v2"] {
        let error = &outcome["wrong_secret"][scheme];
        assert_eq!(error["code"], "SignatureDoesNotMatch", "{scheme}: {error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("server string to sign is:"),
            "{error}"
        );
    }

    // The SDK really used both schemes: 2 × (4 calls) + 2 refused calls.
    let stats = server.stats();
    assert_eq!(stats.requests["ecs/SendFile"], 2);
    assert_eq!(stats.requests["ecs/RunCommand"], 2);
    assert_eq!(stats.requests["ecs/DescribeSendFileResults"], 4);
    assert_eq!(stats.requests["ecs/DescribeInvocationResults"], 2);
    assert_eq!(stats.errors["SignatureDoesNotMatch"], 2);
    assert_eq!(stats.errors.len(), 1, "{stats:?}");
}

#[tokio::test]
#[ignore = "needs the Python SDK: run scripts/test.sh"]
async fn the_python_sdk_lists_instances_by_tag_and_reads_tagged_deliveries() {
    let server = start(config("sim/fleets-sdk.yaml")).await;
    let outcome = sim::run_sdk_script(&server, "sdk/sim_fleets.py", vec![]).await;

    let web_prod = |id: &str, status: &str| {
        json!({"id": id, "status": status, "region": "cn-hangzhou",
               "tags": [["env", "prod"], ["role", "web"]]})
    };
    // Running, role=web and env=prod: two pages of two, then one.
    assert_eq!(outcome["by_token"]["pages"], 2, "{outcome}");
    assert_eq!(
        outcome["by_token"]["instances"],
        json!([
            web_prod("i-bp1fleet00000001", "Running"),
            web_prod("i-bp1fleet00000002", "Running"),
            web_prod("i-bp1fleet00000003", "Running"),
        ])
    );
    // Any status, by page number: the stopped one too.
    assert_eq!(outcome["by_page"]["total_count"], 4);
    assert_eq!(
        outcome["by_page"]["instances"][3],
        web_prod("i-bp1fleet00000004", "Stopped")
    );
    assert_eq!(
        outcome["resource_group"],
        json!([web_prod("i-bp1fleet00000003", "Running")])
    );
    // Only the tagged task, with its tags; the newer untagged one is left out.
    assert_eq!(
        outcome["tagged"],
        json!([{
            "invoke_id": outcome["send_file_invoke_id"],
            "content": "v42\n",
            "tags": [["release", "42"], ["team", "web"]],
        }])
    );
    // The same for commands: only the tagged invocation's runs, on both
    // of its instances; the newer untagged run is left out.
    let run = |instance: &str| {
        json!({
            "invoke_id": outcome["run_command_invoke_id"],
            "instance_id": instance,
            "tags": [["release", "42"], ["team", "web"]],
        })
    };
    assert_eq!(
        outcome["tagged_runs"],
        json!([run("i-bp1fleet00000001"), run("i-bp1fleet00000002")])
    );
    assert_eq!(outcome["tagged_runs_total"], 2);
    assert_eq!(server.stats().errors.len(), 0, "{:?}", server.stats());
}

#[tokio::test]
#[ignore = "needs the Python SDK: run scripts/test.sh"]
async fn the_official_python_sdk_runs_the_probe_and_reads_its_output() {
    use shipcheck::probe::script::{self, DiskState};

    let server = start(config("sim/sdk.yaml")).await;
    let paths = vec![
        "/etc/shipcheck/probed.conf".to_owned(),
        "/etc/shipcheck/never-sent.conf".to_owned(),
    ];
    let probe = script::render(&paths);
    let outcome = sim::run_sdk_script(
        &server,
        "sdk/sim_probe.py",
        vec![
            ("SIM_INSTANCE", INSTANCE.into()),
            ("SIM_PROBE_SCRIPT", probe.into()),
        ],
    )
    .await;
    assert_eq!(outcome["status"], "Success", "{outcome}");
    assert_eq!(outcome["exit_code"], 0);
    assert_eq!(outcome["dropped"], 0);

    // The output the SDK read parses strictly, and says what SendFile wrote.
    let states = script::parse(outcome["output"].as_str().unwrap().as_bytes(), 2).unwrap();
    let DiskState::File(facts) = &states[0] else {
        panic!("{states:?}")
    };
    let content = b"probed by the SDK\n";
    assert_eq!(facts.mode, 0o640);
    assert_eq!(
        (facts.owner.as_str(), facts.group.as_str()),
        ("root", "root")
    );
    assert_eq!(facts.size, content.len() as u64);
    assert_eq!(facts.sha256, {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(content))
    });
    assert_eq!(states[1], DiskState::Absent);
    assert_eq!(server.stats().requests["ecs/RunCommand"], 1);
    server.shutdown().await;
}

/// The old Python SDK (aliyun-python-sdk-core): `CommonRequest`s with
/// `RegionId` both in the query and in the form body, signed once by that
/// SDK, are accepted; `set_accept_format('XML')` gets XML shaped like the
/// documents' samples (every element path of the sample is in the answer).
#[tokio::test]
#[ignore = "needs the Python SDK: run scripts/test.sh"]
async fn the_old_python_sdk_gets_xml_and_is_verified_as_it_signs() {
    let server = start(config("sim/sdk.yaml")).await;
    let samples = std::env::join_paths([
        crate::support::fixture("seeds/ecs-describe-send-file-results.en.xml"),
        crate::support::fixture("seeds/ecs-describe-invocation-results.xml"),
    ])
    .unwrap();
    let outcome = sim::run_sdk_script(
        &server,
        "sdk/old_sdk_xml.py",
        vec![
            ("SIM_INSTANCE", INSTANCE.into()),
            ("SIM_XML_SAMPLES", samples),
        ],
    )
    .await;

    // Accepted although RegionId was sent twice: the SDK signed it once.
    for call in ["send_file", "run_command"] {
        assert!(outcome[call]["body"].is_string(), "{call}: {outcome}");
    }

    let files = &outcome["files_xml"];
    assert_eq!(
        files["root"], "DescribeSendFileResultsResponse",
        "{outcome}"
    );
    assert_eq!(files["total_count"], "1");
    assert_eq!(files["invocations"], 1);
    assert_eq!(files["name"], "old-sdk.conf");
    assert_eq!(files["target_dir"], "/etc/old-sdk");
    assert_eq!(files["file_mode"], "0600");
    assert_eq!(files["overwrite"], "true");
    assert_eq!(
        files["instances"],
        json!([{"id": INSTANCE, "status": "Success"}])
    );
    let results = &outcome["results_xml"];
    assert_eq!(
        results["root"], "DescribeInvocationResultsResponse",
        "{outcome}"
    );
    assert_eq!(results["instance_id"], INSTANCE);
    assert_eq!(results["exit_code"], "0");
    assert_eq!(results["output"], "hello\n");
    for shape in [files, results] {
        let answer: Vec<&Value> = shape["paths"].as_array().unwrap().iter().collect();
        let missing: Vec<&Value> = shape["sample_paths"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| !answer.contains(p))
            .collect();
        assert!(
            missing.is_empty(),
            "the sample has {missing:?}; the answer {answer:?}"
        );
    }

    let stats = server.stats();
    assert_eq!(stats.requests["ecs/DescribeSendFileResults"], 1);
    assert_eq!(stats.requests["ecs/DescribeInvocationResults"], 1);
    assert!(stats.errors.is_empty(), "{stats:?}");
}
