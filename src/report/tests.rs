//! Golden tests: three scenarios × every format, under
//! tests/data/golden/<case>-exit<N>/, plus format-specific checks (schema
//! validation, SARIF and annotation line numbers, stable JUnit names, 80
//! columns, no sensitive content anywhere).

use super::ReportFormat;
use crate::evaluate::testkit::*;
use crate::evaluate::{EvalOptions, evaluate};
use crate::expect::Expectations;
use crate::findings::FindingCode;
use crate::observe::{CommandResult, FileInvocation, Observations};

use super::*;

const MANIFEST: &str = r#"# yaml-language-server: $schema=../schemas/manifest.v1.schema.json
version: 1
defaults:
  region: cn-hangzhou
files:
  - name: nginx.conf
    target_dir: /etc/nginx
    mode: "0640"
    group: www-data
    content_file: files/nginx.conf
    overwrite: true
    max_age: 7d
    instances: [i-web1, i-web2, i-web3]
  - name: app.env
    target_dir: /etc/app
    sensitive: true
    content_file: files/app.env
    instances: [i-web1, i-web2]
commands:
  - command_id: c-reload
    instances: [i-web1, i-web2]
    exit_code: 0
    output: { contains: "reloaded" }
waivers:
  - finding: mode-mismatch
    instance: i-web2
    file: /etc/nginx/nginx.conf
    reason: "OPS-12: chmod pending"
    expires: 2026-12-31
  - finding: owner-mismatch
    reason: "OPS-7: old owner accepted"
    expires: 2026-10-01
"#;

const NOW: &str = "2026-11-22T12:00:00Z";
const NGINX: &str =
    "user www-data;\nworker_processes 2;\n\nevents {\n    worker_connections 1024;\n}\n";
const APP_ENV: &str = "DATABASE_PASSWORD=correct-horse-battery\n";
const LEAKED: &str = "DATABASE_PASSWORD=hunter2-staple\n";

fn manifest() -> Expectations {
    let mut exp = expectations(MANIFEST);
    let mut nginx = file(
        &exp,
        "nginx.conf",
        "/etc/nginx",
        &["i-web1", "i-web2", "i-web3"],
    );
    nginx.mode = mode(&exp, nginx.origin, "0640");
    nginx.group = declared(&exp, nginx.origin, "group: www-data", "www-data".into());
    nginx.content = Some(content(
        &exp,
        nginx.origin,
        "content_file: files/nginx.conf",
        NGINX.as_bytes(),
    ));
    nginx.overwrite = declared(&exp, nginx.origin, "overwrite: true", true);
    nginx.max_age = Some(max_age(&exp, nginx.origin, "max_age: 7d", 7 * 86400));
    let mut app = file(&exp, "app.env", "/etc/app", &["i-web1", "i-web2"]);
    app.sensitive = true;
    app.content = Some(content(
        &exp,
        app.origin,
        "content_file: files/app.env",
        APP_ENV.as_bytes(),
    ));
    exp.files = vec![nginx, app];

    exp.commands = vec![reload_command(&exp)];

    let mut owner_waiver = waiver(
        &exp,
        "- finding: owner-mismatch",
        "owner-mismatch",
        "OPS-7: old owner accepted",
    );
    owner_waiver.expires = Some("2026-10-01".parse().unwrap());
    exp.waivers = vec![mode_waiver(&exp), owner_waiver];
    exp
}

fn nginx(invoke_id: &str, targets: Vec<crate::observe::FileTarget>) -> FileInvocation {
    let mut inv = invocation(invoke_id, "nginx.conf", "/etc/nginx");
    inv.mode = Some("0640".into());
    inv.group = Some("www-data".into());
    inv.overwrite = Some(true);
    inv.content = Some(NGINX.into());
    inv.targets = targets;
    inv
}

fn app(invoke_id: &str, content: &str, targets: Vec<crate::observe::FileTarget>) -> FileInvocation {
    let mut inv = invocation(invoke_id, "app.env", "/etc/app");
    inv.content = Some(content.into());
    inv.targets = targets;
    inv
}

const RECENT: &str = "2026-11-21T09:30:00Z";

fn ok(id: &str) -> crate::observe::FileTarget {
    target(id, "Success", RECENT, None)
}

fn reload(instance: &str, status: &str, exit: i64, output: &str) -> CommandResult {
    command_result(
        "t-reload-7",
        "c-reload",
        instance,
        status,
        exit,
        output,
        RECENT,
    )
}

/// Everything holds; one warning, one waived finding, one expired waiver.
fn in_sync() -> Observations {
    let mut web2_mode = nginx("f-102", vec![ok("i-web2")]);
    web2_mode.mode = Some("644".into());
    let later_failure = target(
        "i-web1",
        "Failed",
        "2026-11-21T10:00:00Z",
        Some(("FileAlreadyExists", "File already exists")),
    );
    let mut retry = nginx("f-104", vec![later_failure]);
    retry.overwrite = Some(false);
    Observations {
        files: vec![
            nginx("f-101", vec![ok("i-web1"), ok("i-web3")]),
            web2_mode,
            retry,
            app("f-201", APP_ENV, vec![ok("i-web1"), ok("i-web2")]),
        ],
        commands: vec![
            reload("i-web1", "Success", 0, "nginx reloaded\n"),
            reload("i-web2", "Success", 0, "nginx reloaded\n"),
        ],
        gaps: vec![],
        fetched_at: Some(ts(NOW)),
        disk: None,
    }
}

/// Most kinds of drift at once.
fn drift() -> Observations {
    let mut web1 = nginx("f-101", vec![ok("i-web1")]);
    web1.content = Some(NGINX.replace("worker_processes 2;", "worker_processes 8;"));
    let mut web2 = nginx(
        "f-102",
        vec![target("i-web2", "Success", "2026-11-01T08:00:00Z", None)],
    );
    web2.mode = Some("644".into());
    let web3 = nginx(
        "f-103",
        vec![target(
            "i-web3",
            "Failed",
            RECENT,
            Some((
                "ClientNotRunning",
                "the aliyun service is not running on the instance",
            )),
        )],
    );
    let mut failed = reload(
        "i-web2",
        "Failed",
        1,
        "nginx: [emerg] unknown directive \"worker_procs\"\n",
    );
    failed.error_code = Some("ExitCodeNonzero".into());
    failed.error_info = Some("the command execution exit code is not zero.".into());
    Observations {
        files: vec![web1, web2, web3, app("f-201", LEAKED, vec![ok("i-web1")])],
        commands: vec![reload("i-web1", "Success", 0, "nginx reloaded\n"), failed],
        gaps: vec![],
        fetched_at: Some(ts(NOW)),
        disk: None,
    }
}

/// Nothing drifted, but a delivery and a command are still running.
fn pending() -> Observations {
    let mut observations = in_sync();
    observations.files[0].targets[1] = target("i-web3", "Running", RECENT, None);
    let mut running = reload("i-web2", "Running", 0, "");
    running.exit_code = None;
    running.finished = None;
    observations.commands[1] = running;
    observations
}

/// Nothing drifted, but app.env's listing failed, a record left out a
/// FileMode and a finished run its Output: exit 3 with the report.
fn unverified() -> Observations {
    let mut observations = in_sync();
    observations.files.retain(|f| f.name != "app.env");
    observations.files[1].mode = None;
    observations.commands[1].output = crate::observe::Observed::Missing;
    observations.gaps.push(app_env_gap());
    observations
}

fn app_env_gap() -> crate::observe::Gap {
    crate::observe::Gap {
        query: crate::plan::Query::FilesByName {
            region: "cn-hangzhou".into(),
            name: "app.env".into(),
        },
        reason: crate::observe::GapReason::MalformedResponse,
        detail: "DescribeSendFileResults: gave up after 5 attempts in 3.2s (attempts): \
                 DescribeSendFileResults: the response from https://ecs.cn-hangzhou.aliyuncs.com/ \
                 could not be read: no `Invocations` wrapper (2 bytes, application/json)"
            .into(),
        help: None,
    }
}

/// Drift, and a failed listing: exit 1, the unverified part still listed.
fn drift_with_a_gap() -> Observations {
    let mut observations = drift();
    observations.files.retain(|f| f.name != "app.env");
    observations.gaps.push(app_env_gap());
    observations
}

fn report_for(observations: &Observations) -> Report {
    evaluate(
        &manifest(),
        observations,
        &EvalOptions {
            now: ts(NOW),
            strict: false,
        },
    )
}

fn cases() -> Vec<(&'static str, Report)> {
    vec![
        ("in-sync-exit0", report_for(&in_sync())),
        ("drift-exit1", report_for(&drift())),
        ("pending-exit3", report_for(&pending())),
        ("unverified-exit3", report_for(&unverified())),
        ("drift-unverified-exit1", report_for(&drift_with_a_gap())),
    ]
}

const FORMATS: [(ReportFormat, &str); 6] = [
    (ReportFormat::Human, "human"),
    (ReportFormat::Json, "json"),
    (ReportFormat::Junit, "junit"),
    (ReportFormat::Sarif, "sarif"),
    (ReportFormat::Markdown, "markdown"),
    (ReportFormat::Github, "github"),
];

#[test]
fn golden_reports_in_every_format() {
    for (case, report) in cases() {
        let exit: u8 = case.rsplit("-exit").next().unwrap().parse().unwrap();
        assert_eq!(
            report.exit().code(),
            exit,
            "{case}: the fixture name states the exit code"
        );
        for (format, name) in FORMATS {
            let rendered = render(&report, format, &HumanOptions::default());
            insta::with_settings!({
                snapshot_path => format!("../../tests/data/golden/{case}"),
                prepend_module_to_snapshot => false,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name, rendered);
            });
        }
    }
}

#[test]
fn the_drift_case_has_the_findings_it_is_meant_to_show() {
    let report = report_for(&drift());
    let mut codes: Vec<&str> = report.findings().map(|f| f.code.as_str()).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "command-failed",
            "content-mismatch",
            "content-mismatch",
            "delivery-failed",
            "exit-code-mismatch",
            "mode-mismatch",
            "not-delivered",
            "output-mismatch",
            "stale-delivery",
            "waiver-expired",
        ]
    );
    let waived: Vec<_> = report
        .findings()
        .filter(|f| f.is_waived())
        .map(|f| f.code)
        .collect();
    assert_eq!(waived, [FindingCode::ModeMismatch]);
}

#[test]
fn sensitive_content_never_reaches_any_format() {
    for (case, report) in cases() {
        for (format, name) in FORMATS {
            for human in [
                HumanOptions::default(),
                HumanOptions {
                    color: true,
                    width: 120,
                    ..HumanOptions::default()
                },
            ] {
                let rendered = render(&report, format, &human);
                for secret in ["correct-horse", "hunter2"] {
                    assert!(!rendered.contains(secret), "{case} {name} leaks {secret}");
                }
            }
        }
    }
}

fn json_schema() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(json::SCHEMA).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn json_reports_validate_against_the_schema() {
    let validator = json_schema();
    for (case, report) in cases() {
        let value: serde_json::Value = serde_json::from_str(&json::render(&report)).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{case}: {errors:#?}");
        assert_eq!(value["schema_version"], 1);
        assert_eq!(value["verdict"], report.verdict().as_str());
    }
}

#[test]
fn the_schema_rejects_what_it_should() {
    let validator = json_schema();
    let report = report_for(&drift());
    let good: serde_json::Value = serde_json::from_str(&json::render(&report)).unwrap();
    let mut wrong_version = good.clone();
    wrong_version["schema_version"] = 2.into();
    assert!(!validator.is_valid(&wrong_version));
    let mut unknown_code = good.clone();
    unknown_code["other_findings"][0]["code"] = "made-up".into();
    assert!(!validator.is_valid(&unknown_code));
    let mut extra = good;
    extra["surprise"] = true.into();
    assert!(!validator.is_valid(&extra));
}

#[test]
fn the_schema_lists_exactly_the_registered_codes() {
    let schema: serde_json::Value = serde_json::from_str(json::SCHEMA).unwrap();
    let listed: Vec<&str> = schema["$defs"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let registered: Vec<&str> = FindingCode::all().map(|c| c.as_str()).collect();
    assert_eq!(listed, registered);
}

/// The 1-based line of the first manifest line containing `needle`.
fn manifest_line(needle: &str) -> usize {
    MANIFEST.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn sarif_results_sit_on_the_declaring_manifest_lines() {
    let report = report_for(&drift());
    let sarif: serde_json::Value = serde_json::from_str(&sarif::render(&report)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings().count());
    let line_of = |rule: &str| -> (i64, &serde_json::Value) {
        let result = results.iter().find(|r| r["ruleId"] == rule).unwrap();
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], MANIFEST_PATH);
        (location["region"]["startLine"].as_i64().unwrap(), result)
    };
    // app.env's `instances:` line (nginx.conf's also names i-web3).
    let app_instances = MANIFEST
        .lines()
        .position(|l| l == "    instances: [i-web1, i-web2]")
        .unwrap()
        + 1;
    for (rule, line) in [
        ("mode-mismatch", manifest_line("mode: \"0640\"")),
        ("stale-delivery", manifest_line("max_age: 7d")),
        ("not-delivered", app_instances),
        ("exit-code-mismatch", manifest_line("exit_code: 0")),
        ("waiver-expired", manifest_line("- finding: owner-mismatch")),
    ] {
        assert_eq!(line_of(rule).0 as usize, line, "{rule}");
    }
    // The column points at the value, not the line start.
    let (_, mode) = line_of("mode-mismatch");
    assert_eq!(
        mode["locations"][0]["physicalLocation"]["region"]["startColumn"],
        5
    );
    // The waived finding carries the waiver's reason as a suppression.
    assert_eq!(
        mode["suppressions"][0]["justification"],
        "OPS-12: chmod pending"
    );
    // Findings on one manifest line (one per target) stay distinct alerts.
    let fingerprints: std::collections::HashSet<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["shipcheckFinding/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(fingerprints.len(), results.len());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), FindingCode::all().count());
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
}

#[test]
fn junit_names_are_stable_and_classnames_are_the_manifest() {
    let names = |report: &Report| -> Vec<String> {
        let xml = junit::render(report);
        xml.match_indices("<testcase name=\"")
            .map(|(i, _)| {
                let rest = &xml[i + 16..];
                rest[..rest.find('"').unwrap()].to_owned()
            })
            .collect()
    };
    let expected = [
        "/etc/nginx/nginx.conf on i-web1",
        "/etc/nginx/nginx.conf on i-web2",
        "/etc/nginx/nginx.conf on i-web3",
        "/etc/app/app.env on i-web1",
        "/etc/app/app.env on i-web2",
        "command c-reload on i-web1",
        "command c-reload on i-web2",
    ];
    let in_sync = names(&report_for(&in_sync()));
    let drifted = names(&report_for(&drift()));
    assert_eq!(&in_sync[..7], expected);
    assert_eq!(
        &drifted[..7],
        expected,
        "names do not depend on the outcome"
    );
    let xml = junit::render(&report_for(&drift()));
    assert_eq!(
        xml.matches("classname=\"shipcheck.yaml\"").count(),
        in_sync.len()
    );
    assert!(xml.contains("<failure"));
    let pending = junit::render(&report_for(&pending()));
    assert!(pending.contains("<error") && !pending.contains("<failure"));
}

#[test]
fn github_annotations_point_at_the_manifest_and_escape_newlines() {
    let out = github::render(&report_for(&drift()));
    let mode_line = manifest_line("mode: \"0640\"");
    assert!(
        out.contains(&format!(
            "::notice file=shipcheck.yaml,line={mode_line},col=5,"
        )),
        "{out}"
    );
    for line in out.lines().filter(|l| l.starts_with("::")) {
        let (_, message) = line.split_once("::").unwrap().1.split_once("::").unwrap();
        assert!(!message.is_empty());
    }
    assert!(out.contains("title=content-mismatch::"));
    assert!(out.contains("%0A"), "multi-line messages stay on one line");
    // Properties escape `:` (the waiver title carries none, the path has none).
    assert!(out.contains("title=waiver-expired::"));
}

#[test]
fn human_output_fits_80_columns_and_colour_is_optional() {
    for (case, report) in cases() {
        let plain = human::render(&report, &HumanOptions::default());
        assert!(
            !plain.contains('\x1b'),
            "{case}: colour off means no escapes"
        );
        for line in plain.lines() {
            assert!(line.chars().count() <= 80, "{case}: too wide: {line:?}");
        }
        let coloured = human::render(
            &report,
            &HumanOptions {
                color: true,
                width: 80,
                ..HumanOptions::default()
            },
        );
        assert!(coloured.contains('\x1b'), "{case}: colour on");
    }
}

#[test]
fn human_output_labels_findings_on_the_manifest() {
    let out = human::render(&report_for(&drift()), &HumanOptions::default());
    let stale = manifest_line("max_age: 7d");
    assert!(
        out.contains(&format!("[shipcheck.yaml:{stale}:5]")),
        "{out}"
    );
    assert!(out.contains("-worker_processes 2;") && out.contains("+worker_processes 8;"));
    assert!(out.contains("OPS-12: chmod pending"));
    assert!(out.lines().last().unwrap().starts_with("drift: "));
}

#[test]
fn markdown_collapses_evidence_and_escapes_cells() {
    let md = markdown::render(&report_for(&drift()));
    assert!(md.starts_with("## shipcheck: ❌ drift"));
    assert!(md.contains("<details><summary>content-mismatch i-web1"));
    assert!(md.contains("```diff"));
    assert!(md.contains("| `i-web3` | ❌ drift |"));
    // Masked ids (`i-bp1****`) must not turn into bold text.
    assert_eq!(
        markdown::inline("no record on i-bp1****"),
        "no record on i-bp1\\*\\*\\*\\*"
    );
    assert_eq!(markdown::inline("a|b <c>"), "a|b &lt;c&gt;");
}

#[test]
fn an_injected_colour_code_is_shown_not_obeyed_even_with_colour_on() {
    // A server's text carrying a colour code (it could hide or recolour
    // the verdict) and a cursor move; the report is asked for in colour.
    let mut observations = drift_with_a_gap();
    observations.gaps[0].detail = "\x1b[8mhidden\x1b[0m \x1b[2Amoved".into();
    let report = report_for(&observations);
    let shown = human::render(
        &report,
        &HumanOptions {
            color: true,
            ..HumanOptions::default()
        },
    );
    assert!(
        !shown.contains('\x1b'),
        "no raw escape reaches the terminal"
    );
    assert!(shown.contains("\\x1b[8mhidden"), "{shown}");
    // Without untrusted control characters, colour is still ours to use.
    let clean = human::render(
        &report_for(&drift_with_a_gap()),
        &HumanOptions {
            color: true,
            ..HumanOptions::default()
        },
    );
    assert!(clean.contains('\x1b'));
}

/// `report`'s file `path` with `copies` more targets like `id`, each
/// finding said of its own id; `vary` makes copy `n` say something else too.
fn with_copies(
    mut report: Report,
    path: &str,
    id: &str,
    copies: usize,
    vary: impl Fn(usize, &mut model::Finding),
) -> Report {
    let file = report.files.iter_mut().find(|f| f.path == path).unwrap();
    let original = file.targets.iter().find(|t| t.id == id).unwrap().clone();
    for n in 0..copies {
        let copy_id = format!("i-fleet{n:03}");
        let mut copy = original.clone();
        copy.id = copy_id.as_str().into();
        for finding in &mut copy.findings {
            finding.message = finding.message.replace(id, &copy_id);
            finding.label = finding.label.replace(id, &copy_id);
            finding.target = Some(copy_id.clone());
            vary(n, finding);
        }
        file.targets.push(copy);
    }
    report
}

#[test]
fn human_output_says_a_finding_once_for_every_target_it_is_true_of() {
    let report = with_copies(
        report_for(&drift()),
        "/etc/nginx/nginx.conf",
        "i-web1",
        3,
        |_, _| {},
    );
    let out = human::render(&report, &HumanOptions::default());
    assert!(
        out.contains(
            "✘ 4 instances: drift, task f-101\n      i-web1, i-fleet000, i-fleet001, i-fleet002\n"
        ),
        "{out}"
    );
    assert_eq!(out.matches("+worker_processes 8;").count(), 1, "{out}");
    assert!(out.contains("on 4 instances"), "{out}");
    assert!(!out.contains("instance i-fleet"), "{out}");
    // Other targets keep their own blocks.
    assert!(out.contains("✘ instance i-web3: drift"), "{out}");
    assert!(!out.contains("more findings in"), "{out}");
}

#[test]
fn human_output_draws_at_most_max_blocks_and_counts_the_rest() {
    // 60 copies that each observed another content: 60 more blocks.
    let heads = |out: &str| {
        out.lines()
            .filter(|l| {
                ["  ✘ ", "  ? ", "  ! ", "  … "]
                    .iter()
                    .any(|m| l.starts_with(m))
            })
            .count()
    };
    // A block is a target group's (with its head line), or one finding on
    // a command or the report as a whole.
    let original = report_for(&drift());
    let headless = original
        .commands
        .iter()
        .flat_map(|c| &c.findings)
        .chain(&original.general)
        .filter(|f| !f.is_waived())
        .count();
    let blocks_before = heads(&human::render(&original, &HumanOptions::default())) + headless;
    let report = with_copies(
        report_for(&drift()),
        "/etc/nginx/nginx.conf",
        "i-web1",
        60,
        |n, finding| finding.message.push_str(&format!(" #{n}")),
    );
    let out = human::render(&report, &HumanOptions::default());
    assert_eq!(heads(&out), human::MAX_BLOCKS, "{out}");
    let untold = blocks_before + 60 - human::MAX_BLOCKS;
    let last = out
        .lines()
        .find(|l| l.starts_with("… and "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        last.ends_with(&format!(
            " more findings in {untold} groups; see --format json/sarif/junit for all"
        )),
        "{last}"
    );
    assert!(out.lines().last().unwrap().starts_with("drift: "), "{out}");
}

#[test]
fn a_report_read_back_shares_each_distinct_evidence() {
    let mut report = report_for(&in_sync());
    let evidence = Evidence {
        source: EvidenceSource::Live,
        fetched_at: ts(NOW),
    };
    for target in report.files.iter_mut().flat_map(|f| &mut f.targets) {
        target.evidence = Some(std::sync::Arc::new(evidence.clone()));
    }
    let text = json::render(&report);
    let read = parse::from_json(&text, &|_| None).unwrap();
    let shared: Vec<_> = read
        .files
        .iter()
        .flat_map(|f| &f.targets)
        .map(|t| t.evidence.clone().unwrap())
        .collect();
    assert!(shared.len() > 1, "the fixture has several targets");
    assert!(shared.iter().all(|e| **e == evidence));
    assert!(
        shared.iter().all(|e| std::sync::Arc::ptr_eq(e, &shared[0])),
        "one copy of the evidence for every target"
    );
}
