//! Property tests (issue 9, "fail closed"): what shipcheck reads from
//! outside never panics, and a page that lost the evidence a verdict reads
//! never passes. Bounded (a few hundred cases each) so they run in the
//! normal suite; `fuzz/` holds the unbounded versions, and the smoke test
//! at the end runs each fuzz target's body over its seeds.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use proptest::prelude::*;
use serde_json::{Map, Value};
use shipcheck::cloud::normalize::{self, ContentEncoding};
use shipcheck::cloud::wire::{Contract, InvocationResultsResponse, SendFileResultsResponse};
use shipcheck::evaluate::{EvalOptions, evaluate};
use shipcheck::exit::Exit;
use shipcheck::expect::Expectations;
use shipcheck::manifest::{self, LoadOptions};
use shipcheck::observe::Observations;
use shipcheck::protocol::Provider;
use shipcheck::report::model::Verdict;

const REGION: &str = "cn-hangzhou";
const INSTANCE: &str = "i-bp1hsglsw0000001";

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // A failure is reported with its shrunk input; nothing is written
        // into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The fuzz target `response`'s body: parse as either listing, normalise
/// every record. Only "no panic" is asserted.
fn response_body(data: &[u8]) {
    if let Ok(page) = serde_json::from_slice::<SendFileResultsResponse>(data) {
        for raw in page.invocations.into_vec() {
            let _ = normalize::file_invocation(Provider::Ecs, REGION, raw);
        }
    }
    if let Ok(reply) = serde_json::from_slice::<InvocationResultsResponse>(data) {
        for raw in reply.invocation.unwrap_or_default().results.into_vec() {
            let _ = normalize::command_result(REGION, ContentEncoding::Base64, raw);
        }
    }
}

/// What the client does with a 2xx body: the action's contract, then the
/// lenient types. `None`: refused (a gap in the real pipeline).
fn accept<T: Contract>(body: &Value) -> Option<T> {
    let bytes = serde_json::to_vec(body).expect("a Value serializes");
    T::check(&bytes).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Any JSON value, small: scalars from the API's vocabulary and random.
fn json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("Invocations".to_owned()),
        Just("Invocation".to_owned()),
        Just("InvocationResults".to_owned()),
        Just("InvocationResult".to_owned()),
        Just("InvokeInstances".to_owned()),
        Just("InvokeInstance".to_owned()),
        Just("InvokeNodes".to_owned()),
        Just("InvokeId".to_owned()),
        Just("InstanceId".to_owned()),
        Just("Name".to_owned()),
        Just("TargetDir".to_owned()),
        Just("Content".to_owned()),
        Just("FileMode".to_owned()),
        Just("Overwrite".to_owned()),
        Just("TotalCount".to_owned()),
        Just("ExitCode".to_owned()),
        Just("Output".to_owned()),
        Just("CreationTime".to_owned()),
        Just("Tags".to_owned()),
        "[A-Za-z]{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("2020-09-11T08:30:55Z"),
            Just("2020-09-11T16:30:55+08:00"),
            Just("9999-99-99T99:99:99Z"),
            Just("Success"),
            Just("ZWNobyBoZWxsbw=="),
            Just("0644"),
            Just("true"),
            Just(""),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    /// (a) Any bytes as an answer: parsed, checked, normalised, no panic.
    #[test]
    fn any_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        response_body(&data);
        let _ = SendFileResultsResponse::check(&data);
        let _ = InvocationResultsResponse::check(&data);
    }

    /// (a) Any JSON value, bare or inside either action's wrapper: no panic.
    #[test]
    fn any_json_never_panics(value in json(), wrap in 0..3u8) {
        let body = match wrap {
            0 => value,
            1 => serde_json::json!({"TotalCount": 1, "Invocations": {"Invocation": [value]}}),
            _ => serde_json::json!({
                "Invocation": {"TotalCount": 1, "InvocationResults": {"InvocationResult": [value]}}
            }),
        };
        let bytes = serde_json::to_vec(&body).unwrap();
        response_body(&bytes);
        if let Some(page) = accept::<SendFileResultsResponse>(&body) {
            for raw in page.invocations.into_vec() {
                let _ = normalize::file_invocation(Provider::Eflo, REGION, raw);
            }
        }
        if let Some(reply) = accept::<InvocationResultsResponse>(&body) {
            for raw in reply.invocation.unwrap_or_default().results.into_vec() {
                let _ = normalize::command_result(REGION, ContentEncoding::PlainText, raw);
            }
        }
    }
}

// --- (b) never a pass without evidence -------------------------------------

/// The manifest the ECS seed page satisfies: every attribute declared, so
/// every one is read.
const DELIVERY_MANIFEST: &str = "\
version: 1
defaults:
  region: cn-hangzhou
files:
  - name: test.txt
    target_dir: /root
    mode: \"0644\"
    owner: root
    group: root
    overwrite: false
    content: echo hello
    instances: [i-bp1hsglsw0000001]
";

fn delivery_expectations() -> Expectations {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shipcheck.yaml");
    std::fs::write(&path, DELIVERY_MANIFEST).unwrap();
    manifest::load(&[path], &[], &|_| None).expect("the delivery manifest loads")
}

/// The ECS `DescribeSendFileResults` seed, its masked instance id made real.
fn seed_page() -> Value {
    let text = std::fs::read_to_string(repo(
        "tests/data/fixtures/seeds/ecs-describe-send-file-results.en.json",
    ))
    .unwrap();
    let mut page: Value = serde_json::from_str(&text).unwrap();
    page["Invocations"]["Invocation"][0]["InvokeInstances"]["InvokeInstance"][0]["InstanceId"] =
        Value::from(INSTANCE);
    page
}

/// parse → normalise → evaluate, as the pipeline does. `None`: the page is
/// refused (the pipeline turns that into a gap: unverified, exit 3).
fn judge(page: &Value, expectations: &Expectations) -> Option<(Verdict, Exit)> {
    let page = accept::<SendFileResultsResponse>(page)?;
    let files = page
        .invocations
        .into_vec()
        .into_iter()
        .map(|raw| normalize::file_invocation(Provider::Ecs, REGION, raw))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    let observations = Observations {
        files,
        ..Observations::default()
    };
    let options = EvalOptions {
        now: Timestamp::now(),
        strict: false,
    };
    let report = evaluate(expectations, &observations, &options);
    Some((report.verdict(), report.exit()))
}

/// The record's fields whose loss must cost the pass.
const RECORD_EVIDENCE: &[&str] = &[
    "Content",
    "FileMode",
    "FileOwner",
    "FileGroup",
    "Overwrite",
    "Name",
    "TargetDir",
];
/// The target's.
const TARGET_EVIDENCE: &[&str] = &["InvocationStatus", "InstanceId"];
/// Fields no file verdict reads: losing them may keep the pass.
const RECORD_OTHER: &[&str] = &[
    "InvocationStatus",
    "Description",
    "ContentType",
    "VmCount",
    "CreationTime",
    "InvokeId",
];
const TARGET_OTHER: &[&str] = &[
    "FinishTime",
    "ErrorInfo",
    "CreationTime",
    "StartTime",
    "UpdateTime",
    "ErrorCode",
];

#[derive(Debug, Clone)]
enum Damage {
    Remove,
    Null,
    /// A string that is no valid value for any evidence field: not a
    /// boolean, not `root`, not the content's Base64, not a directory.
    Text(String),
    /// A number no lenient reading turns into the declared value (not 0
    /// or 1, not 644 or 420).
    Number(i64),
    EmptyString,
}

#[derive(Debug, Clone)]
enum Mutation {
    Record(&'static str, Damage),
    Target(&'static str, Damage),
    /// The page without its `Invocations` wrapper, or with it emptied.
    DropWrapper(u8),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        Just(Damage::Remove),
        Just(Damage::Null),
        Just(Damage::EmptyString),
        "x[a-z0-9]{0,8}".prop_map(Damage::Text),
        (1000i64..1_000_000).prop_map(Damage::Number),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let record: Vec<&'static str> = RECORD_EVIDENCE
        .iter()
        .chain(RECORD_OTHER)
        .copied()
        .collect();
    let target: Vec<&'static str> = TARGET_EVIDENCE
        .iter()
        .chain(TARGET_OTHER)
        .copied()
        .collect();
    prop_oneof![
        4 => (prop::sample::select(record), damage()).prop_map(|(f, d)| Mutation::Record(f, d)),
        3 => (prop::sample::select(target), damage()).prop_map(|(f, d)| Mutation::Target(f, d)),
        1 => (0u8..4).prop_map(Mutation::DropWrapper),
    ]
}

fn apply(field: &mut Map<String, Value>, name: &str, damage: &Damage) {
    match damage {
        Damage::Remove => {
            field.remove(name);
        }
        Damage::Null => {
            field.insert(name.to_owned(), Value::Null);
        }
        Damage::EmptyString => {
            field.insert(name.to_owned(), Value::from(""));
        }
        Damage::Text(text) => {
            field.insert(name.to_owned(), Value::from(text.as_str()));
        }
        Damage::Number(n) => {
            field.insert(name.to_owned(), Value::from(*n));
        }
    }
}

/// Applies the mutations; true when one of them damaged evidence.
fn mutate(page: &mut Value, mutations: &[Mutation]) -> bool {
    let mut evidence_lost = false;
    for mutation in mutations {
        match mutation {
            Mutation::Record(name, damage) => {
                let Some(record) = page
                    .pointer_mut("/Invocations/Invocation/0")
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                apply(record, name, damage);
                evidence_lost |= RECORD_EVIDENCE.contains(name);
            }
            Mutation::Target(name, damage) => {
                let Some(target) = page
                    .pointer_mut("/Invocations/Invocation/0/InvokeInstances/InvokeInstance/0")
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                apply(target, name, damage);
                evidence_lost |= TARGET_EVIDENCE.contains(name);
            }
            Mutation::DropWrapper(how) => {
                let Some(top) = page.as_object_mut() else {
                    continue;
                };
                let wrapper = top.remove("Invocations");
                match how {
                    0 => {}
                    1 => {
                        top.insert("Invocations".into(), Value::Null);
                    }
                    2 => {
                        top.insert("Invocations".into(), serde_json::json!({}));
                    }
                    _ => {
                        // The list, unwrapped.
                        let list = wrapper
                            .and_then(|mut w| w.get_mut("Invocation").map(Value::take))
                            .unwrap_or(Value::Null);
                        top.insert("Invocations".into(), list);
                    }
                }
                evidence_lost = true;
            }
        }
    }
    evidence_lost
}

#[test]
fn the_seed_page_passes_untouched() {
    let verdict = judge(&seed_page(), &delivery_expectations());
    assert_eq!(verdict, Some((Verdict::Pass, Exit::Ok)));
}

proptest! {
    #![proptest_config(config())]

    /// (b) A page that lost, nulled or garbled a field the verdict reads, or
    /// its wrapper, is refused or judged anything but pass.
    #[test]
    fn never_a_pass_without_evidence(
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let expectations = delivery_expectations();
        let mut page = seed_page();
        let evidence_lost = mutate(&mut page, &mutations);
        let judged = judge(&page, &expectations);
        if evidence_lost && let Some((verdict, exit)) = judged {
            prop_assert_ne!(verdict, Verdict::Pass, "page: {}", page);
            prop_assert_ne!(exit, Exit::Ok, "page: {}", page);
        }
    }
}

// --- (c) manifest loading never panics -------------------------------------

/// A YAML node from the manifest's vocabulary, rendered in flow style.
fn yaml_node() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("1"),
        Just("2"),
        Just("\"0644\""),
        Just("0o777"),
        Just("true"),
        Just("~"),
        Just("\"\""),
        Just("web"),
        Just("i-bp1web0000000001"),
        Just("/etc/nginx"),
        Just("files/x.conf"),
        Just("../../etc/passwd"),
        Just("\"${var.x}\""),
        Just("\"${var.web}\""),
        Just("\"${env:HOME}\""),
        Just("\"${env:NOPE}\""),
        Just("\"${var.\""),
        Just("7d"),
        Just("cn-hangzhou"),
        Just("*a"),
        Just("&a x"),
        Just("!!binary aGk="),
        Just("2026-12-31"),
    ]
    .prop_map(str::to_owned);
    let key = prop::sample::select(KEYS);
    scalar.prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            (
                prop::option::of(Just("&a ")),
                prop::collection::vec((key.clone(), inner), 0..5)
            )
                .prop_map(|(anchor, pairs)| {
                    let body: Vec<String> =
                        pairs.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    format!("{}{{{}}}", anchor.unwrap_or(""), body.join(", "))
                }),
        ]
    })
}

const KEYS: &[&str] = &[
    "version",
    "defaults",
    "files",
    "name",
    "target_dir",
    "mode",
    "owner",
    "group",
    "overwrite",
    "content",
    "content_file",
    "instances",
    "instance_sets",
    "commands",
    "command_id",
    "exit_code",
    "output",
    "contains",
    "waivers",
    "reason",
    "expires",
    "vars",
    "region",
    "max_age",
    "sensitive",
    "web",
    "x",
    "<<",
];

/// A whole manifest: top-level keys in block style, each with a node.
fn yaml_manifest() -> impl Strategy<Value = String> {
    (
        prop::option::of(prop_oneof![Just("1"), Just("2"), Just("\"1\"")]),
        prop::collection::vec((prop::sample::select(KEYS), yaml_node()), 0..6),
    )
        .prop_map(|(version, entries)| {
            let mut text = String::new();
            if let Some(version) = version {
                text.push_str(&format!("version: {version}\n"));
            }
            for (key, node) in entries {
                text.push_str(&format!("{key}: {node}\n"));
            }
            text
        })
}

/// One value for `key`, mostly valid, sometimes not: deep enough that the
/// resolver, the variables and the pair budget run, not only the schema.
fn field_value(key: &'static str) -> BoxedStrategy<String> {
    let good: &'static [&'static str] = match key {
        "name" => &[
            "app.conf",
            "\"${var.app}.env\"",
            "\"${env:HOME}\"",
            "motd",
            "\"\"",
        ],
        "target_dir" => &[
            "/etc/nginx",
            "\"/etc/${var.app}\"",
            "/etc/",
            "relative",
            "\"${var.nope}\"",
        ],
        "mode" => &["\"0640\"", "600", "\"0o777\"", "\"9999\"", "-1", "\"\""],
        "owner" | "group" => &["root", "www-data", "\"${var.app}\"", "\"\""],
        "overwrite" | "sensitive" => &["true", "false", "\"yes\"", "1"],
        "content" => &[
            "\"hi\\n\"",
            "\"${var.app}\"",
            "\"${env:HOME}\"",
            "\"\"",
            "~",
        ],
        "content_file" => &[
            "files/x.conf",
            "files/none",
            "../../etc/passwd",
            "/etc/passwd",
            "files",
        ],
        "instances" => &[
            "[web]",
            "[i-bp1aaaa0000000001, web]",
            "[\"${var.set}\"]",
            "[]",
            "web",
            "[nope]",
            "*insts",
        ],
        "description" => &["\"banner\"", "&d text", "*d"],
        _ => &["x"],
    };
    prop::sample::select(good).prop_map(str::to_owned).boxed()
}

/// Besides `name`, `target_dir` and `instances`, which every entry has.
const FILE_KEYS: &[&str] = &[
    "mode",
    "owner",
    "group",
    "overwrite",
    "content",
    "content_file",
    "sensitive",
    "description",
    "bogus_key",
];

fn file_entry() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FILE_KEYS), 0..4)
        .prop_flat_map(|extra| {
            // The keys every entry needs first, so most entries resolve.
            let keys = ["name", "target_dir", "instances"].into_iter().chain(extra);
            keys.into_iter()
                .map(|k| field_value(k).prop_map(move |v| format!("{k}: {v}")))
                .collect::<Vec<_>>()
        })
        .prop_map(|pairs| format!("  - {{{}}}\n", pairs.join(", ")))
}

/// A near-valid manifest: version, vars, sets, defaults, files, commands and
/// waivers, each present or not, with values drawn per key.
fn near_valid_manifest() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["version: 1\n", "version: 2\n", "", "version: \"1\"\n"][..]),
        prop::sample::select(
            &["", "vars: {app: shop, set: web}\n", "vars: {app: \"${var.app}\"}\n", "vars: [x]\n"][..],
        ),
        prop::sample::select(
            &[
                "",
                "instance_sets: {web: &insts [i-bp1aaaa0000000001, i-bp1aaaa0000000002]}\n",
                "instance_sets: {web: [web]}\n",
                "instance_sets: {web: \"${var.app}\"}\n",
            ][..],
        ),
        prop::sample::select(
            &[
                "",
                "defaults: {region: cn-hangzhou}\n",
                "defaults: {region: cn-hangzhou, max_age: 7d, owner: root, <<: {group: root}}\n",
                "defaults: {region: \"${env:HOME}\", max_age: forever}\n",
            ][..],
        ),
        prop::collection::vec(file_entry(), 0..4),
        prop::sample::select(
            &[
                "",
                "commands:\n  - {command_id: c-hz0reload0000001, instances: [web], exit_code: 0, output: {contains: ok}}\n",
                "commands:\n  - {command_id: \"\", exit_code: x}\n",
            ][..],
        ),
        prop::sample::select(
            &[
                "",
                "waivers:\n  - {finding: mode-mismatch, reason: r, expires: 2099-12-31}\n",
                "waivers:\n  - {finding: nope, file: \"${var.app}\"}\n",
            ][..],
        ),
    )
        .prop_map(|(version, vars, sets, defaults, files, commands, waivers)| {
            let files = if files.is_empty() {
                String::new()
            } else {
                format!("files:\n{}", files.concat())
            };
            [version, vars, sets, defaults, &files, commands, waivers].concat()
        })
}

fn load_text(text: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("files")).unwrap();
    std::fs::write(dir.path().join("files/x.conf"), "x\n").unwrap();
    let path = dir.path().join("shipcheck.yaml");
    std::fs::write(&path, text).unwrap();
    let env = |name: &str| (name == "HOME").then(|| "/home/ci".to_owned());
    let options = LoadOptions {
        max_pairs: 10_000,
        ..LoadOptions::default()
    };
    match manifest::load_with(&[path], &[], &env, &options) {
        Ok(_) => {}
        Err(errors) => assert!(
            !errors.diagnostics.is_empty(),
            "a refused manifest says why: {}",
            String::from_utf8_lossy(text)
        ),
    }
}

proptest! {
    #![proptest_config(config())]

    /// (c) Any string as a manifest: expectations or diagnostics.
    #[test]
    fn any_manifest_text_never_panics(text in ".{0,200}") {
        load_text(text.as_bytes());
    }

    /// (c) Manifest-shaped YAML from the vocabulary, anchors and variables
    /// included: expectations or diagnostics.
    #[test]
    fn manifest_shaped_yaml_never_panics(text in yaml_manifest()) {
        load_text(text.as_bytes());
    }

    /// (c) Near-valid manifests, so resolution runs too.
    #[test]
    fn near_valid_manifests_never_panic(text in near_valid_manifest()) {
        load_text(text.as_bytes());
    }
}

// --- fuzz smoke ------------------------------------------------------------

fn seeds(target: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo(&format!("fuzz/seeds/{target}")))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "fuzz/seeds/{target} holds seeds");
    files
}

/// Each fuzz target's body over each of its seeds (what `fuzz/run.sh`
/// starts from), so a target that no longer builds against the library's
/// API, or a seed that panics, shows in the normal suite.
#[test]
fn fuzz_smoke_response() {
    for seed in seeds("response") {
        response_body(&std::fs::read(&seed).unwrap());
    }
}

#[test]
fn fuzz_smoke_manifest() {
    for seed in seeds("manifest") {
        let path = seed.clone();
        // The fuzz body: `load` with the defaults and no environment.
        let _ = manifest::load(std::slice::from_ref(&path), &[], &|_| None);
        load_text(&std::fs::read(&seed).unwrap());
    }
}
