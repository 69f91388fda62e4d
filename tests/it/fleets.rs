//! Instance sets from what a fleet is (issue 14), through the real binary
//! and the simulator: tag and resource-group sets resolved by
//! DescribeInstances when the check runs, file sets read with the manifest,
//! and an empty set reported as unverified rather than passed.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::shipcheck;

/// The simulator's clock in these worlds; deliveries are a day older.
const NOW: &str = "2026-06-01T00:00:00Z";
const DELIVERED: &str = "2026-05-31T00:00:00Z";

/// A state file: `instances` as given, and one successful `app.conf`
/// delivery (content `hello\n`) per 50 of `delivered_to`.
fn state(instances: Vec<Value>, delivered_to: &[String]) -> Value {
    let deliveries: Vec<Value> = delivered_to
        .chunks(50)
        .map(|chunk| {
            json!({
                "name": "app.conf",
                "target_dir": "/etc/app",
                "content": "hello\n",
                "creation_time": DELIVERED,
                "targets": chunk.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "version": 1,
        "region": "cn-hangzhou",
        "clock": { "now": NOW },
        "instances": instances,
        "deliveries": deliveries,
    })
}

/// A manifest declaring `app.conf` on `instances`, with `sets`.
fn manifest(sets: &str, instances: &str) -> String {
    format!(
        "version: 1\ndefaults:\n  region: cn-hangzhou\ninstance_sets:\n{sets}files:\n  - name: app.conf\n    target_dir: /etc/app\n    content: \"hello\\n\"\n    instances: {instances}\n"
    )
}

/// `check --simulate` in `dir` as JSON: (exit code, report).
fn check(dir: &Path) -> (i32, Value) {
    check_json(dir, &["--simulate", "state.json"])
}

/// `check shipcheck.yaml ARGS… --format json` in `dir`: (exit code, report).
fn check_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let output = shipcheck()
        .current_dir(dir)
        .args(["check", "shipcheck.yaml"])
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "not JSON ({err}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap(), report)
}

fn world(state: &Value, manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.json"), state.to_string()).unwrap();
    std::fs::write(dir.path().join("shipcheck.yaml"), manifest).unwrap();
    dir
}

/// The ids the report checked `app.conf` on, sorted.
fn checked_targets(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["files"][0]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn id(n: usize) -> String {
    format!("i-fleet{n:06}")
}

#[test]
fn a_tag_set_resolves_to_exactly_the_tagged_running_instances() {
    // 5,000 instances: every fifth is role=web (1,000, Running); twenty
    // more carry the tag but are stopped; the rest are role=db.
    let mut instances = Vec::new();
    let mut web = Vec::new();
    for n in 0..5000 {
        let (role, status) = match n % 5 {
            0 => ("web", "Running"),
            1 if n < 100 => ("web", "Stopped"),
            _ => ("db", "Running"),
        };
        if role == "web" && status == "Running" {
            web.push(id(n));
        }
        instances
            .push(json!({ "id": id(n), "status": status, "tags": { "role": role, "team": "a" } }));
    }
    let dir = world(
        &state(instances, &web),
        &manifest("  web:\n    tags: { role: web }\n", "[web]"),
    );
    let (code, report) = check(dir.path());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(checked_targets(&report), web);
    let sets = report["instance_sets"].as_array().unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0]["name"], "web");
    assert_eq!(sets[0]["region"], "cn-hangzhou");
    assert_eq!(sets[0]["source"], "tags role=web; status Running");
    assert_eq!(sets[0]["instances"].as_array().unwrap().len(), 1000);
}

#[test]
fn resource_group_and_file_sets_join_the_ids_of_an_entry() {
    let instances: Vec<Value> = (0..12)
        .map(|n| {
            let group = if n < 4 { "rg-blue" } else { "rg-green" };
            json!({ "id": id(n), "resource_group_id": group })
        })
        .collect();
    // Delivered to the blue group, the two files' ids and one named id;
    // never to i-fleet000011, which no set names.
    let delivered: Vec<String> = (0..11).map(id).collect();
    let sets = "  blue:\n    resource_group: rg-blue\n  listed:\n    file: hosts.txt\n  terraform:\n    file: tf.json\n";
    let dir = world(
        &state(instances, &delivered),
        &manifest(sets, "[blue, listed, terraform, i-fleet000010]"),
    );
    std::fs::write(
        dir.path().join("hosts.txt"),
        "# from the inventory\ni-fleet000004\n\ni-fleet000005  # canary\n i-fleet000006\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("tf.json"),
        r#"["i-fleet000007", "i-fleet000008", "i-fleet000009", "i-fleet000004"]"#,
    )
    .unwrap();
    let (code, report) = check(dir.path());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        checked_targets(&report),
        (0..11).map(id).collect::<Vec<_>>()
    );
    assert_eq!(report["instance_sets"][0]["name"], "blue");
    assert_eq!(
        report["instance_sets"][0]["instances"],
        json!((0..4).map(id).collect::<Vec<_>>())
    );
}

#[test]
fn a_set_that_resolves_to_no_instance_is_unverified_never_a_pass() {
    let instances = vec![json!({ "id": id(0), "tags": { "role": "web" } })];
    let dir = world(
        &state(instances, &[id(0)]),
        &manifest("  canary:\n    tags: { role: canary }\n", "[canary]"),
    );
    let (code, report) = check(dir.path());
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(report["verdict"], "unverified");
    assert_eq!(report["instance_sets"][0]["instances"], json!([]));
    let codes: Vec<&str> = report["other_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["instance-set-empty"]);

    // The human report says what the set resolved to.
    let human = shipcheck()
        .current_dir(dir.path())
        .args(["check", "shipcheck.yaml", "--simulate", "state.json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(
            "canary (cn-hangzhou, DescribeInstances tags role=canary; status Running) → no instance"
        ),
        "{text}"
    );
}

#[test]
fn a_set_source_that_cannot_be_read_is_invalid_input() {
    let dir = world(
        &state(vec![json!({ "id": id(0) })], &[]),
        &manifest(
            "  missing:\n    file: nowhere.txt\n  both:\n    file: x\n    tags: { a: b }\n  outside:\n    file: ../../etc/passwd\n",
            "[missing]",
        ),
    );
    let output = shipcheck()
        .current_dir(dir.path())
        .args(["validate", "shipcheck.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr).to_string()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("manifest::instance-set-file"), "{text}");
    assert!(text.contains("manifest::invalid-instance-set"), "{text}");
    assert!(!text.contains("root:"), "{text}");
}

/// A world of two instances where `app.conf` went out three times: a
/// tagged release (`release=42`, content `v42`), a newer untagged delivery
/// that differs, and `old.conf` long before.
fn pinned_world(file: &str) -> tempfile::TempDir {
    let delivery = |name: &str, content: &str, created: &str, tags: Value| {
        json!({
            "name": name,
            "target_dir": "/etc/app",
            "content": content,
            "creation_time": created,
            "tags": tags,
            "targets": [{ "id": id(0) }, { "id": id(1) }],
        })
    };
    let state = json!({
        "version": 1,
        "region": "cn-hangzhou",
        "clock": { "now": NOW },
        "instances": [{ "id": id(0) }, { "id": id(1) }],
        "deliveries": [
            delivery("old.conf", "old\n", "2026-05-20T00:00:00Z", json!({})),
            delivery("app.conf", "v42\n", "2026-05-31T00:00:00Z", json!({ "release": "42" })),
            delivery("app.conf", "hotfix\n", "2026-05-31T12:00:00Z", json!({})),
        ],
    });
    let manifest = format!(
        "version: 1\ndefaults:\n  region: cn-hangzhou\nfiles:\n{file}    target_dir: /etc/app\n    instances: [{}, {}]\n",
        id(0),
        id(1)
    );
    world(&state, &manifest)
}

fn codes(report: &Value) -> Vec<String> {
    let mut codes: Vec<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["targets"].as_array().unwrap())
        .flat_map(|t| t["findings"].as_array().unwrap())
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    codes.dedup();
    codes
}

#[test]
fn task_tags_pin_the_check_to_the_tagged_release() {
    let file = "  - name: app.conf\n    content: \"v42\\n\"\n";
    // Unpinned, the newer untagged delivery is the one that counts.
    let (code, report) = check(pinned_world(file).path());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(codes(&report), ["content-mismatch"]);

    let pinned = format!("{file}    task_tags: {{ release: \"42\" }}\n");
    let (code, report) = check(pinned_world(&pinned).path());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["files"][0]["targets"][0]["invoke_id"]
            .as_str()
            .map(|s| s.is_empty()),
        Some(false)
    );

    // A release that was never tagged has no delivery.
    let missing = format!("{file}    task_tags: {{ release: \"43\" }}\n");
    let (code, report) = check(pinned_world(&missing).path());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(codes(&report), ["not-delivered"]);
}

#[test]
fn since_excludes_older_deliveries() {
    let file = "  - name: old.conf\n    content: \"old\\n\"\n";
    let (code, report) = check(pinned_world(file).path());
    assert_eq!(code, 0, "{report:#}");

    // 2d before the simulator's clock is 2026-05-30: the delivery is older.
    let recent = format!("{file}    since: 2d\n");
    let (code, report) = check(pinned_world(&recent).path());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(codes(&report), ["not-delivered"]);

    // --since applies to files that set none; a file's own wins.
    let dir = pinned_world(file);
    let run = |since: &str| {
        shipcheck()
            .current_dir(dir.path())
            .args([
                "check",
                "shipcheck.yaml",
                "--simulate",
                "state.json",
                "--since",
                since,
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run("2026-05-25T00:00:00Z"), Some(1));
    assert_eq!(run("30d"), Some(0));
    let own = pinned_world(&format!("{file}    since: 30d\n"));
    let output = shipcheck()
        .current_dir(own.path())
        .args([
            "check",
            "shipcheck.yaml",
            "--simulate",
            "state.json",
            "--since",
            "1h",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn since_excludes_older_command_runs() {
    // `c-reload` ran on instance 0 long before the simulator's clock.
    let state = json!({
        "version": 1,
        "region": "cn-hangzhou",
        "clock": { "now": NOW },
        "instances": [{ "id": id(0) }],
        "commands": [{
            "invoke_id": "t-reload0001",
            "command_id": "c-reload",
            "creation_time": "2026-05-20T00:00:00Z",
            "targets": [{
                "id": id(0),
                "status": "Success",
                "exit_code": 0,
                "start_time": "2026-05-20T00:00:01Z",
                "finished_time": "2026-05-20T00:00:02Z",
            }],
        }],
    });
    let manifest = |since: &str| {
        format!(
            "version: 1\ndefaults:\n  region: cn-hangzhou\ncommands:\n  - command_id: c-reload\n    instances: [{}]\n{since}",
            id(0)
        )
    };
    let (code, report) = check(world(&state, &manifest("")).path());
    assert_eq!(code, 0, "{report:#}");

    let (code, report) = check(world(&state, &manifest("    since: 2d\n")).path());
    assert_ne!(code, 0, "{report:#}");
    let findings = report["commands"][0]["targets"][0]["findings"]
        .as_array()
        .unwrap();
    assert!(!findings.is_empty(), "{report:#}");

    // --since reaches commands that set none.
    let dir = world(&state, &manifest(""));
    let output = shipcheck()
        .current_dir(dir.path())
        .args([
            "check",
            "shipcheck.yaml",
            "--simulate",
            "state.json",
            "--since",
            "2d",
        ])
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
}

#[test]
fn a_tag_set_that_resolves_past_the_pair_budget_is_refused() {
    // Twelve tagged instances; the manifest was loaded under a budget of 10
    // pairs, which a query set (one target at load) passed.
    let instances: Vec<Value> = (0..12)
        .map(|n| json!({ "id": id(n), "tags": { "role": "web" } }))
        .collect();
    let ids: Vec<String> = (0..12).map(id).collect();
    let dir = world(
        &state(instances, &ids),
        &manifest("  web:\n    tags: { role: web }\n", "[web]"),
    );
    let (code, report) = check_json(
        dir.path(),
        &["--simulate", "state.json", "--max-pairs", "10"],
    );
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["verdict"], "invalid", "{report:#}");
    let text = report.to_string();
    assert!(text.contains("manifest::too-many-pairs"), "{text}");
    assert!(text.contains("resolved to 12"), "{text}");

    // Within the budget, the same check runs.
    let (code, report) = check(dir.path());
    assert_eq!(code, 0, "{report:#}");
}

/// `c-reload` ran twice on instances 0 and 1: first as release 42 (its
/// RunCommand tagged `release=42`), then again, untagged and later. The
/// run tagged 42 ends with `tagged_exit`, the later one with the other.
fn command_world(tagged_exit: i64, manifest: &str) -> tempfile::TempDir {
    let run = |n: usize, exit: i64, at: &str| {
        json!({
            "id": id(n),
            "status": if exit == 0 { "Success" } else { "Failed" },
            "exit_code": exit,
            "output": format!("exit {exit}\n"),
            "start_time": format!("{at}:01Z"),
            "finished_time": format!("{at}:02Z"),
        })
    };
    let invocation = |invoke_id: &str, exit: i64, at: &str, tags: Value| {
        json!({
            "invoke_id": invoke_id,
            "command_id": "c-reload",
            "creation_time": format!("{at}:00Z"),
            "tags": tags,
            "targets": [run(0, exit, at), run(1, exit, at)],
        })
    };
    let state = json!({
        "version": 1,
        "region": "cn-hangzhou",
        "clock": { "now": NOW },
        "instances": [{ "id": id(0) }, { "id": id(1) }],
        "commands": [
            invocation("t-release42", tagged_exit, "2026-05-31T00:00", json!({ "release": "42" })),
            invocation("t-hotfix", 1 - tagged_exit, "2026-05-31T12:00", json!({})),
        ],
    });
    world(&state, manifest)
}

/// A manifest of `commands` (entries without the leading `  - `).
fn command_manifest(commands: &[&str]) -> String {
    let mut text = "version: 1\ndefaults:\n  region: cn-hangzhou\ncommands:\n".to_owned();
    for command in commands {
        text += &format!("  - {command}\n    instances: [{}, {}]\n", id(0), id(1));
    }
    text
}

/// Per command, per target: (invoke_id judged, finding codes).
fn command_verdicts(report: &Value) -> Vec<Vec<(Value, Vec<String>)>> {
    report["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|command| {
            command["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    let codes = t["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f["code"].as_str().unwrap().to_owned())
                        .collect();
                    (t["invoke_id"].clone(), codes)
                })
                .collect()
        })
        .collect()
}

#[test]
fn task_tags_pin_a_command_to_the_tagged_invocation() {
    let pinned = command_manifest(&["command_id: c-reload\n    task_tags: { release: \"42\" }"]);
    let unpinned = command_manifest(&["command_id: c-reload"]);

    // The tagged run succeeded, a later untagged one failed: unpinned, the
    // later one counts and drifts; pinned, release 42 is in sync.
    let (code, report) = check(command_world(0, &unpinned).path());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["commands"][0]["targets"][0]["invoke_id"], "t-hotfix");
    let (code, report) = check(command_world(0, &pinned).path());
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        command_verdicts(&report),
        [vec![(json!("t-release42"), vec![]); 2]]
    );

    // The other way round: the tagged run failed and a later untagged one
    // succeeded. Pinned, the later success does not hide the failure.
    let (code, report) = check(command_world(1, &unpinned).path());
    assert_eq!(code, 0, "{report:#}");
    let (code, report) = check(command_world(1, &pinned).path());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        command_verdicts(&report)[0]
            .iter()
            .map(|(task, _)| task.clone())
            .collect::<Vec<_>>(),
        vec![json!("t-release42"); 2]
    );

    // A release no invocation was tagged with ran nowhere.
    let never = command_manifest(&["command_id: c-reload\n    task_tags: { release: \"43\" }"]);
    let (code, report) = check(command_world(0, &never).path());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        command_verdicts(&report),
        [vec![(Value::Null, vec!["command-not-found".to_owned()]); 2]]
    );
    let message = &report["commands"][0]["targets"][0]["findings"][0]["message"];
    assert!(
        message.as_str().unwrap().starts_with(&format!(
            "no execution of command c-reload tagged release=43 on instance {}",
            id(0)
        )),
        "{message}"
    );

    // `defaults.task_tags` pins commands too.
    let defaulted = unpinned.replacen(
        "defaults:\n",
        "defaults:\n  task_tags: { release: \"42\" }\n",
        1,
    );
    let (code, report) = check(command_world(0, &defaulted).path());
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_pinned_and_an_unpinned_command_share_the_runs_they_both_list() {
    // The untagged query lists the tagged run too, and first: kept once, it
    // must still count as listed under release 42.
    let both = command_manifest(&[
        "command_id: c-reload\n    status: Failed\n    exit_code: 1",
        "command_id: c-reload\n    task_tags: { release: \"42\" }",
    ]);
    let dir = command_world(0, &both);
    let (code, report) = check(dir.path());
    assert_eq!(code, 0, "{report:#}");
    let tasks: Vec<Vec<Value>> = command_verdicts(&report)
        .into_iter()
        .map(|targets| targets.into_iter().map(|(task, _)| task).collect())
        .collect();
    assert_eq!(
        tasks,
        [vec![json!("t-hotfix"); 2], vec![json!("t-release42"); 2]]
    );

    // `shipcheck plan` shows the two queries, the pinned one with its tags.
    let output = shipcheck()
        .current_dir(dir.path())
        .args(["plan", "shipcheck.yaml", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let filters: Vec<&Value> = plan["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| &q["filters"])
        .collect();
    assert_eq!(
        filters,
        [
            &json!({ "CommandId": "c-reload" }),
            &json!({ "CommandId": "c-reload", "Tag.1.Key": "release", "Tag.1.Value": "42" }),
        ]
    );
}

#[test]
fn a_snapshot_replays_a_pinned_command_under_its_tags() {
    let pinned = command_manifest(&["command_id: c-reload\n    task_tags: { release: \"42\" }"]);
    let unpinned = command_manifest(&["command_id: c-reload"]);
    let offline =
        |dir: &Path, snapshot: &str| check_json(dir, &["--offline", "--from-snapshot", snapshot]);
    let save = |dir: &Path, snapshot: &str| {
        let output = shipcheck()
            .current_dir(dir)
            .args([
                "check",
                "shipcheck.yaml",
                "--simulate",
                "state.json",
                "--save-snapshot",
                snapshot,
            ])
            .output()
            .unwrap();
        output.status.code().unwrap()
    };

    let dir = command_world(0, &pinned);
    assert_eq!(save(dir.path(), "pinned.json"), 0);
    let snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("pinned.json")).unwrap())
            .unwrap();
    assert_eq!(
        snapshot["commands"][0]["listed_with_tags"],
        json!([[{ "key": "release", "value": "42" }]]),
        "{snapshot:#}"
    );
    let (code, report) = offline(dir.path(), "pinned.json");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        command_verdicts(&report),
        [vec![(json!("t-release42"), vec![]); 2]]
    );

    // The untagged listing, replayed, vouches for no tag: a pinned command
    // has no evidence in it.
    std::fs::write(dir.path().join("shipcheck.yaml"), &unpinned).unwrap();
    assert_eq!(save(dir.path(), "unpinned.json"), 1);
    std::fs::write(dir.path().join("shipcheck.yaml"), &pinned).unwrap();
    let (code, report) = offline(dir.path(), "unpinned.json");
    assert_eq!(code, 3, "{report:#}");
    assert!(report.to_string().contains("not-in-snapshot"), "{report:#}");
}
