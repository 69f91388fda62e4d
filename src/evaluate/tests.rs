use super::testkit::*;
use super::*;
use crate::exit::Exit;
use crate::expect::{CommandSelector, ExpectedContent, FileExpectation, OutputMatch};
use crate::findings::Severity;
use crate::observe::{ContentType, FileInvocation, FileTarget, Observed, TargetStatus};
use crate::protocol::Provider;
use crate::report::model::{Outcome, Verdict};

const MANIFEST: &str = r#"version: 1
files:
  - name: nginx.conf
    target_dir: /etc/nginx
    mode: "0640"
    owner: www
    group: www-data
    overwrite: true
    content: "worker_processes 2;\n"
    max_age: 7d
    instances: [i-web1, i-web2]
  - name: app.env
    target_dir: /etc/app
    sensitive: true
    content: "TOKEN=abc\n"
    instances: [i-web1]
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
"#;

const NOW: &str = "2026-11-22T12:00:00Z";
const NGINX: &[u8] = b"worker_processes 2;\n";

fn options() -> EvalOptions {
    EvalOptions {
        now: ts(NOW),
        strict: false,
    }
}

/// The nginx.conf entry with every attribute declared.
fn nginx(exp: &Expectations) -> FileExpectation {
    let mut f = file(exp, "nginx.conf", "/etc/nginx", &["i-web1", "i-web2"]);
    f.mode = mode(exp, f.origin, "0640");
    f.owner = declared(exp, f.origin, "owner: www", "www".to_owned());
    f.group = declared(exp, f.origin, "group: www-data", "www-data".to_owned());
    f.overwrite = declared(exp, f.origin, "overwrite: true", true);
    f.content = Some(content(exp, f.origin, "content: ", NGINX));
    f.max_age = Some(max_age(exp, f.origin, "max_age: 7d", 7 * 86400));
    f
}

/// A delivery of nginx.conf exactly as declared.
fn nginx_delivery(invoke_id: &str, targets: Vec<FileTarget>) -> FileInvocation {
    let mut inv = invocation(invoke_id, "nginx.conf", "/etc/nginx");
    inv.mode = Some("640".into());
    inv.owner = Some("www".into());
    inv.group = Some("www-data".into());
    inv.overwrite = Some(true);
    inv.content = Some(String::from_utf8(NGINX.to_vec()).unwrap());
    inv.targets = targets;
    inv
}

fn ok(id: &str) -> FileTarget {
    target(id, "Success", "2026-11-21T08:00:00Z", None)
}

fn only_nginx() -> Expectations {
    let mut exp = expectations(MANIFEST);
    exp.files.push(nginx(&exp));
    exp
}

fn run(exp: &Expectations, files: Vec<FileInvocation>) -> Report {
    let obs = Observations {
        files,
        ..Observations::default()
    };
    both_ways(exp, obs, &options())
}

/// [`evaluate`], checked to say exactly what [`evaluate_owned`] says.
#[track_caller]
fn both_ways(exp: &Expectations, obs: Observations, options: &EvalOptions) -> Report {
    let shared = evaluate(exp, &obs, options);
    let owned = evaluate_owned(exp, obs, options);
    assert_eq!(
        crate::report::json::render(&owned),
        crate::report::json::render(&shared),
        "judging owned deliveries, freed as they are used up, changes the report"
    );
    shared
}

/// The report's only finding, once checked to be `code` on `target`.
#[track_caller]
fn sole<'r>(report: &'r Report, code: &str, target: &str) -> &'r Finding {
    assert_eq!(codes(report), [(code.to_owned(), Some(target.to_owned()))]);
    report.findings().next().unwrap()
}

/// Asserts that `text` contains `needle`, showing both when not.
#[track_caller]
fn assert_mentions(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} is not in {text:?}");
}

fn codes(report: &Report) -> Vec<(String, Option<String>)> {
    report
        .findings()
        .map(|f| (f.code.as_str().to_owned(), f.target.clone()))
        .collect()
}

fn line_of(report: &Report, code: FindingCode) -> usize {
    report
        .findings()
        .find(|f| f.code == code)
        .unwrap()
        .location
        .line
}

#[test]
fn in_sync_passes_with_exit_0() {
    let exp = only_nginx();
    let report = run(
        &exp,
        vec![nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")])],
    );
    assert_eq!(codes(&report), []);
    assert_eq!(report.verdict(), Verdict::Pass);
    assert_eq!(report.exit(), Exit::Ok);
    let summary = report.summary();
    assert_eq!((summary.checks, summary.passed), (2, 2));
    assert_eq!(report.files[0].targets[0].invoke_id.as_deref(), Some("f-1"));
}

#[test]
fn no_record_is_not_delivered_and_mentions_retention() {
    let exp = only_nginx();
    let report = run(&exp, vec![nginx_delivery("f-1", vec![ok("i-web1")])]);
    let finding = sole(&report, "not-delivered", "i-web2");
    assert_mentions(&finding.message, "2 to 6 weeks");
    assert_mentions(&finding.message, "other targets");
    assert!(!finding.message.contains("never"), "{}", finding.message);
    // Labelled on the `instances:` entry that named i-web2.
    let text = &exp.sources[0].text;
    assert_eq!(
        &text[finding.location.span.start..finding.location.span.end],
        "i-web2"
    );
    assert_eq!(finding.location.line, 11);
    assert_eq!(report.exit(), Exit::Drift);
}

#[test]
fn failure_without_success_is_delivery_failed_with_the_error_code_explained() {
    let exp = only_nginx();
    let failed = target(
        "i-web2",
        "Failed",
        "2026-11-21T08:00:00Z",
        Some(("UserGroupNotExists", "Group not exists")),
    );
    let report = run(
        &exp,
        vec![nginx_delivery("f-1", vec![ok("i-web1"), failed])],
    );
    let finding = sole(&report, "delivery-failed", "i-web2");
    assert_mentions(&finding.message, "UserGroupNotExists");
    let Some(Detail::Error(explained)) = &finding.detail else {
        panic!("{:?}", finding.detail)
    };
    assert_eq!(explained.info.as_deref(), Some("Group not exists"));
    assert_mentions(finding.help_text(), "group");
}

#[test]
fn failure_after_success_is_a_warning_and_the_success_is_checked() {
    let exp = only_nginx();
    let later_failure = target(
        "i-web1",
        "Failed",
        "2026-11-22T08:00:00Z",
        Some(("FileAlreadyExists", "File already exists")),
    );
    let report = run(
        &exp,
        vec![
            nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]),
            nginx_delivery("f-2", vec![later_failure]),
        ],
    );
    assert_eq!(
        codes(&report),
        [("last-attempt-failed".into(), Some("i-web1".into()))]
    );
    assert_eq!(report.files[0].targets[0].outcome(), Outcome::Warn);
    assert_eq!(report.files[0].targets[0].invoke_id.as_deref(), Some("f-1"));
    assert_eq!(report.exit(), Exit::Ok);
    assert_eq!(report.summary().warnings, 1);
}

#[test]
fn in_flight_latest_attempt_is_pending_and_unverified() {
    let exp = only_nginx();
    let running = target("i-web2", "Running", "2026-11-22T11:00:00Z", None);
    let mut new_version = nginx_delivery("f-2", vec![running]);
    new_version.content = Some("worker_processes 4;\n".into());
    let report = run(
        &exp,
        vec![
            nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]),
            new_version,
        ],
    );
    assert_eq!(
        codes(&report),
        [("delivery-pending".into(), Some("i-web2".into()))]
    );
    assert!(report.is_pending());
    assert_eq!(report.verdict(), Verdict::Pending);
    assert_eq!(report.exit(), Exit::Unverified);
    // Drift elsewhere wins over pending: the failure is final.
    let report = run(
        &exp,
        vec![nginx_delivery(
            "f-1",
            vec![
                target("i-web1", "Pending", "2026-11-22T11:00:00Z", None),
                target(
                    "i-web2",
                    "Failed",
                    "2026-11-22T11:00:00Z",
                    Some(("ClientNotRunning", "")),
                ),
            ],
        )],
    );
    assert_eq!(report.exit(), Exit::Drift);
    assert!(report.is_pending());
}

#[test]
fn modes_compare_as_octal_numbers() {
    let exp = only_nginx();
    for spelling in ["640", "0640", "00640"] {
        let mut inv = nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]);
        inv.mode = Some(spelling.into());
        assert_eq!(codes(&run(&exp, vec![inv])), [], "{spelling}");
    }
    let mut inv = nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]);
    inv.mode = Some("777".into());
    let report = run(&exp, vec![inv]);
    assert_eq!(
        codes(&report),
        [
            ("mode-mismatch".into(), Some("i-web1".into())),
            ("mode-mismatch".into(), Some("i-web2".into()))
        ]
    );
    let finding = report.findings().next().unwrap();
    assert_eq!(finding.expected.as_deref(), Some("0640"));
    assert_eq!(finding.observed.as_deref(), Some("0777"));
    // Labelled on the `mode:` line.
    assert_eq!(finding.location.line, 5);
}

#[test]
fn an_unparsable_mode_is_unverified_never_a_mismatch() {
    let exp = only_nginx();
    for mode in ["rw-r-----", "rwx"] {
        let mut inv = nginx_delivery("f-1", vec![ok("i-web1")]);
        inv.mode = Some(mode.into());
        let report = run(&exp, vec![inv, nginx_delivery("f-2", vec![ok("i-web2")])]);
        let finding = sole(&report, "unverified", "i-web1");
        assert_mentions(&finding.message, "not an octal mode");
        assert_eq!(finding.unverified_reason(), Some(GapReason::FieldInvalid));
        assert!(
            report
                .findings()
                .all(|f| f.code != FindingCode::ModeMismatch),
            "{mode}"
        );
        assert_eq!(report.files[0].targets[0].outcome(), Outcome::Unverified);
    }
}

/// Each field an attribute check depends on: left out, the check is
/// unverified (reason field-missing), whatever was declared; the target is
/// neither in sync nor drifted, and the check exits 3.
#[test]
fn each_attribute_needs_its_field() {
    type Spoil = fn(&mut crate::observe::FileInvocation);
    let cases: [(&str, Spoil); 5] = [
        ("FileMode", |inv| inv.mode = None),
        ("FileOwner", |inv| inv.owner = None),
        ("FileGroup", |inv| inv.group = Some("  ".into())),
        ("Overwrite", |inv| inv.overwrite = None),
        ("Content", |inv| inv.content = None),
    ];
    for (field, spoil) in cases {
        let exp = only_nginx();
        let mut inv = nginx_delivery("f-1", vec![ok("i-web1")]);
        spoil(&mut inv);
        let report = run(&exp, vec![inv, nginx_delivery("f-2", vec![ok("i-web2")])]);
        let target = &report.files[0].targets[0];
        assert_eq!(target.outcome(), Outcome::Unverified, "{field}");
        assert_eq!(target.unverified_reason(), Some(GapReason::FieldMissing));
        let finding = sole(&report, "unverified", "i-web1");
        assert_mentions(&finding.message, &format!("no {field}"));
        assert_eq!(report.exit(), crate::exit::Exit::Unverified, "{field}");
        assert_eq!(report.summary().unverified, 1, "{field}");
    }
}

/// Declared content that is empty (or its digest) never matches a record
/// without `Content`; undecodable Base64 is unverified, not drift.
#[test]
fn absent_or_undecodable_content_never_matches() {
    let exp0 = expectations(MANIFEST);
    let mut exp = expectations(MANIFEST);
    let mut empty = file(&exp0, "app.env", "/etc/app", &["i-web1"]);
    empty.content = Some(Attr::builtin(ExpectedContent::Bytes(Vec::new())));
    exp.files = vec![empty];
    let mut inv = invocation("f-9", "app.env", "/etc/app");
    inv.targets = vec![ok("i-web1")];
    inv.content = None;
    let report = run(&exp, vec![inv.clone()]);
    assert_eq!(report.exit(), crate::exit::Exit::Unverified);
    inv.content = Some("!!not base64!!".into());
    inv.content_type = crate::observe::ContentType::Base64;
    let report = run(&exp, vec![inv]);
    let finding = sole(&report, "unverified", "i-web1");
    assert_eq!(finding.unverified_reason(), Some(GapReason::FieldInvalid));
    assert_mentions(&finding.message, "does not decode");
}

/// A missing or unknown per-target status, on the attempt that would count,
/// is unverified; an unreadable status before the latest success is not.
#[test]
fn an_unreadable_target_status_is_unverified() {
    for status in ["", "Exploded"] {
        let exp = only_nginx();
        let mut bad = ok("i-web1");
        bad.status = TargetStatus::parse(status);
        let report = run(&exp, vec![nginx_delivery("f-1", vec![bad, ok("i-web2")])]);
        let target = &report.files[0].targets[0];
        assert_eq!(target.outcome(), Outcome::Unverified, "{status:?}");
        let reason = if status.is_empty() {
            GapReason::FieldMissing
        } else {
            GapReason::FieldInvalid
        };
        assert_eq!(target.unverified_reason(), Some(reason));
    }
}

#[test]
fn owner_group_and_overwrite_compare_to_the_declaration() {
    let exp = only_nginx();
    let mut inv = nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]);
    inv.owner = Some("root".into());
    inv.group = Some("root".into());
    inv.overwrite = Some(false);
    let report = run(&exp, vec![inv]);
    let kinds: Vec<_> = report.files[0].targets[0]
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.location.line))
        .collect();
    assert_eq!(
        kinds,
        [
            ("owner-mismatch", 6),
            ("group-mismatch", 7),
            ("overwrite-mismatch", 8)
        ]
    );
}

#[test]
fn builtin_defaults_are_labelled_on_the_entry() {
    let exp0 = expectations(MANIFEST);
    let mut exp = expectations(MANIFEST);
    // app.env declares no mode/owner/group: SendFile's defaults apply.
    exp.files
        .push(file(&exp0, "app.env", "/etc/app", &["i-web1"]));
    let mut inv = invocation("f-9", "app.env", "/etc/app");
    inv.mode = Some("0600".into());
    inv.targets = vec![ok("i-web1")];
    let report = run(&exp, vec![inv]);
    let finding = sole(&report, "mode-mismatch", "i-web1");
    assert_eq!(finding.location.line, 12, "the `- name: app.env` entry");
    assert_mentions(&finding.label, "SendFile's default");
}

#[test]
fn content_drift_shows_a_diff_and_sensitive_content_only_digests() {
    let mut exp = only_nginx();
    let mut app = file(&exp, "app.env", "/etc/app", &["i-web1"]);
    app.sensitive = true;
    app.content = Some(content(
        &exp,
        app.origin,
        "content: \"TOKEN",
        b"TOKEN=abc\n",
    ));
    exp.files.push(app);

    let mut nginx_inv = nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]);
    nginx_inv.content = Some("worker_processes 4;\n".into());
    let mut app_inv = invocation("f-2", "app.env", "/etc/app");
    app_inv.content = Some("VE9LRU49c2VjcmV0Cg==".into()); // TOKEN=secret\n
    app_inv.content_type = ContentType::Base64;
    app_inv.targets = vec![ok("i-web1")];
    let report = run(&exp, vec![nginx_inv, app_inv]);

    let nginx = report
        .findings()
        .find(|f| f.target.as_deref() == Some("i-web1"))
        .unwrap();
    assert_eq!(nginx.code, FindingCode::ContentMismatch);
    assert_eq!(nginx.location.line, 9, "the `content:` line");
    let Some(Detail::Diff(diff)) = &nginx.detail else {
        panic!()
    };
    assert!(diff.contains("-worker_processes 2;") && diff.contains("+worker_processes 4;"));

    let app = report
        .findings()
        .find(|f| f.file.as_deref() == Some("/etc/app/app.env"))
        .unwrap();
    assert!(matches!(app.detail, Some(Detail::Digest { .. })));
    // Neither the declared nor the delivered secret reaches a finding.
    let findings = format!("{:?}", report.findings().collect::<Vec<_>>());
    assert!(
        !findings.contains("secret") && !findings.contains("TOKEN"),
        "{findings}"
    );
}

#[test]
fn seed_plaintext_sample_with_base64_content_checks_clean() {
    // The EN and CN samples: ContentType PlainText, Content base64 of "echo hello".
    let text = "files:\n  - name: test.txt\n    target_dir: /root\n    content: echo hello\n    instances: [i-bp1hsglsw****]\n";
    let mut exp = expectations(text);
    let mut f = file(&exp, "test.txt", "/root", &["i-bp1hsglsw****"]);
    f.content = Some(content(&exp, f.origin, "content:", b"echo hello"));
    exp.files.push(f);
    for sample in [
        "ecs-describe-send-file-results.en.json",
        "ecs-describe-send-file-results.zh.json",
    ] {
        let obs = Observations {
            files: seed_files(&seed(sample), Provider::Ecs, "cn-hangzhou"),
            ..Observations::default()
        };
        let report = evaluate(
            &exp,
            &obs,
            &EvalOptions {
                now: ts("2020-09-12T00:00:00Z"),
                strict: true,
            },
        );
        assert_eq!(codes(&report), [], "{sample}");
        assert_eq!(report.exit(), Exit::Ok);
    }
}

/// Asserts that the deliveries in the seed sample `name` match `exp`.
#[track_caller]
fn assert_seed_checks_clean(exp: &Expectations, name: &str, provider: Provider) {
    let files = seed_files(&seed(name), provider, "cn-hangzhou");
    assert_eq!(codes(&run(exp, files)), [], "{name}");
}

#[test]
fn seed_samples_check_clean_against_what_they_declare() {
    // The zh-tw sample: FileMode 777 (the number), Overwrite "false".
    let text = "files:\n  - name: test.txt\n    target_dir: /home/user\n    mode: \"0777\"\n    owner: test\n    group: test\n    instances: [i-uf614fhehhz****]\n";
    let mut exp = expectations(text);
    let mut f = file(&exp, "test.txt", "/home/user", &["i-uf614fhehhz****"]);
    f.mode = mode(&exp, f.origin, "0777");
    f.owner = declared(&exp, f.origin, "owner: test", "test".into());
    f.group = declared(&exp, f.origin, "group: test", "test".into());
    exp.files.push(f);
    assert_seed_checks_clean(
        &exp,
        "ecs-describe-send-file-results.zh-tw.json",
        Provider::Ecs,
    );

    // The eflo sample: node target, a tab before the directory.
    let text = "files:\n  - name: test\n    target_dir: /home/user\n    overwrite: true\n    invoke_id: t-x\n    nodes: [e01-cn-9lb3c15m81j]\n";
    let mut exp = expectations(text);
    let mut f = file(&exp, "test", "/home/user", &["e01-cn-9lb3c15m81j"]);
    f.provider = Provider::Eflo;
    f.overwrite = declared(&exp, f.origin, "overwrite: true", true);
    exp.files.push(f);
    assert_seed_checks_clean(&exp, "eflo-describe-send-file-results.json", Provider::Eflo);

    // The command sample: exit code 1, ExitCodeNonzero, declared as such.
    let text = "commands:\n  - command_id: c-hz0jdfwcsr****\n    instances: [i-bp1i7gg30r52z2em****]\n    exit_code: 1\n";
    let mut exp = expectations(text);
    let mut c = command(
        &exp,
        "- command_id",
        CommandSelector::CommandId("c-hz0jdfwcsr****".into()),
        &["i-bp1i7gg30r52z2em****"],
    );
    c.exit_code = Some(declared(&exp, c.origin, "exit_code: 1", 1));
    exp.commands.push(c);
    let commands = seed_commands(&seed("ecs-describe-invocation-results.json"), "cn-hangzhou");
    let report = evaluate(
        &exp,
        &Observations {
            commands,
            ..Default::default()
        },
        &options(),
    );
    assert_eq!(codes(&report), []);
}

#[test]
fn stale_delivery_is_measured_from_the_finish_time() {
    let exp = only_nginx();
    let old = target("i-web1", "Success", "2026-11-01T00:00:00Z", None);
    let report = run(&exp, vec![nginx_delivery("f-1", vec![old, ok("i-web2")])]);
    let finding = sole(&report, "stale-delivery", "i-web1");
    assert_eq!(finding.location.line, 10, "the `max_age:` line");
    assert_mentions(&finding.message, "21days 12h");
}

#[test]
fn invoke_id_pins_the_check_to_one_task() {
    let mut exp = only_nginx();
    let entry = exp.files[0].origin;
    exp.files[0].invoke_id = Some(declared(&exp, entry, "name: nginx.conf", "f-2".to_owned()));
    // f-1 is newer and fine, but the manifest pins f-2, which never reached i-web2.
    let mut pinned = nginx_delivery(
        "f-2",
        vec![target("i-web1", "Success", "2026-11-20T00:00:00Z", None)],
    );
    pinned.mode = Some("0600".into());
    let report = run(
        &exp,
        vec![
            nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]),
            pinned,
        ],
    );
    assert_eq!(
        codes(&report),
        [
            ("mode-mismatch".into(), Some("i-web1".into())),
            ("not-delivered".into(), Some("i-web2".into()))
        ]
    );
    assert!(
        report
            .findings()
            .nth(1)
            .unwrap()
            .message
            .contains("in task f-2")
    );
}

#[test]
fn trailing_slashes_in_directories_do_not_matter() {
    let exp = only_nginx();
    let mut inv = nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]);
    inv.target_dir = "/etc/nginx/".into();
    assert_eq!(codes(&run(&exp, vec![inv])), []);
}

#[test]
fn strict_reports_undeclared_instances_and_deliveries() {
    let exp = only_nginx();
    let mut stray = invocation("f-3", "other.conf", "/etc/nginx");
    stray.targets = vec![ok("i-web1")];
    let unrelated = {
        let mut inv = invocation("f-4", "motd", "/etc");
        inv.targets = vec![ok("i-web1")];
        inv
    };
    let files = vec![
        nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2"), ok("i-db1")]),
        stray,
        unrelated,
    ];
    let obs = Observations {
        files,
        ..Default::default()
    };
    let lenient = evaluate(&exp, &obs, &options());
    assert_eq!(codes(&lenient), []);
    let strict = both_ways(
        &exp,
        obs,
        &EvalOptions {
            strict: true,
            ..options()
        },
    );
    assert_eq!(
        codes(&strict),
        [
            ("unexpected-instance".into(), Some("i-db1".into())),
            ("unexpected-delivery".into(), Some("i-web1".into()))
        ]
    );
    assert!(!strict.files[0].targets[2].declared);
    assert!(strict.general[0].message.contains("/etc/nginx/other.conf"));
    assert_eq!(strict.exit(), Exit::Drift);
}

#[test]
fn files_of_one_identity_share_the_deliveries_they_are_judged_on() {
    // Two entries for one path, on different instances, then another file:
    // owned deliveries are freed only after the second entry is judged.
    let mut exp = only_nginx();
    let mut second = nginx(&exp);
    second.targets = vec![second.targets[0].clone()];
    second.targets[0].id = "i-web3".into();
    let motd = file(&exp, "app.env", "/etc/app", &["i-web1"]);
    exp.files.extend([motd, second]);
    let files = vec![
        nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]),
        nginx_delivery("f-2", vec![ok("i-web3")]),
    ];
    let report = run(&exp, files);
    assert_eq!(
        codes(&report),
        [("not-delivered".into(), Some("i-web1".into()))],
        "only app.env is missing"
    );
    assert_eq!(report.files[2].targets[0].invoke_id.as_deref(), Some("f-2"));
}

fn run_commands(results: Vec<crate::observe::CommandResult>) -> Report {
    let mut exp = expectations(MANIFEST);
    exp.commands.push(reload_command(&exp));
    let obs = Observations {
        commands: results,
        ..Default::default()
    };
    evaluate(&exp, &obs, &options())
}

const T: &str = "2026-11-21T08:00:00Z";

#[test]
fn commands_in_sync_pass() {
    let report = run_commands(vec![
        command_result(
            "t-1",
            "c-reload",
            "i-web1",
            "Success",
            0,
            "nginx reloaded\n",
            T,
        ),
        command_result(
            "t-1",
            "c-reload",
            "i-web2",
            "Success",
            0,
            "nginx reloaded\n",
            T,
        ),
    ]);
    assert_eq!(codes(&report), []);
    assert_eq!(report.summary().checks, 2);
}

#[test]
fn command_findings_cover_missing_failed_pending_exit_code_and_output() {
    let mut failed = command_result("t-2", "c-reload", "i-web1", "Failed", 1, "error\n", T);
    failed.error_code = Some("ExitCodeNonzero".into());
    failed.error_info = Some("the command execution exit code is not zero.".into());
    let report = run_commands(vec![
        // An older success on i-web1 is superseded by the later failure.
        command_result(
            "t-1",
            "c-reload",
            "i-web1",
            "Success",
            0,
            "nginx reloaded\n",
            "2026-11-20T00:00:00Z",
        ),
        failed,
    ]);
    assert_eq!(
        codes(&report),
        [
            ("command-failed".into(), Some("i-web1".into())),
            ("exit-code-mismatch".into(), Some("i-web1".into())),
            ("output-mismatch".into(), Some("i-web1".into())),
            ("command-not-found".into(), Some("i-web2".into())),
        ]
    );
    let not_found = report.findings().last().unwrap();
    assert_mentions(&not_found.message, "age out");
    assert_eq!(
        not_found.location.line, 19,
        "labelled on the instances entry"
    );
    assert_eq!(line_of(&report, FindingCode::ExitCodeMismatch), 20);
    assert_eq!(line_of(&report, FindingCode::OutputMismatch), 21);

    let mut running = command_result("t-3", "c-reload", "i-web1", "Running", 0, "", T);
    running.exit_code = None;
    let mut truncated = command_result(
        "t-3",
        "c-reload",
        "i-web2",
        "Success",
        0,
        "nginx reloaded",
        T,
    );
    truncated.dropped = Some(1024);
    let report = run_commands(vec![running, truncated]);
    assert_eq!(
        codes(&report),
        [
            ("command-pending".into(), Some("i-web1".into())),
            ("output-truncated".into(), Some("i-web2".into())),
        ]
    );
    assert_eq!(report.exit(), Exit::Unverified);
}

#[test]
fn output_matchers_equals_and_regex() {
    let mut exp = expectations(MANIFEST);
    let mut c = reload_command(&exp);
    c.output = Some(declared(
        &exp,
        c.origin,
        "output:",
        OutputMatch::Equals("nginx reloaded".into()),
    ));
    exp.commands.push(c);
    let obs = |out: &str| Observations {
        commands: vec![
            command_result("t-1", "c-reload", "i-web1", "Success", 0, out, T),
            command_result(
                "t-1",
                "c-reload",
                "i-web2",
                "Success",
                0,
                "nginx reloaded",
                T,
            ),
        ],
        ..Default::default()
    };
    // A trailing newline does not matter for `equals`.
    assert_eq!(
        codes(&evaluate(&exp, &obs("nginx reloaded\n"), &options())),
        []
    );
    let report = evaluate(&exp, &obs("nginx failed\n"), &options());
    let Some(Detail::Diff(diff)) = &report.findings().next().unwrap().detail else {
        panic!()
    };
    assert!(diff.contains("+nginx failed"), "{diff}");

    exp.commands[0].output = Some(declared(
        &exp,
        exp.commands[0].origin,
        "output:",
        OutputMatch::Regex(regex::Regex::new("^nginx (re)?loaded").unwrap()),
    ));
    assert_eq!(codes(&evaluate(&exp, &obs("nginx loaded"), &options())), []);
    let report = evaluate(&exp, &obs("apache"), &options());
    assert_eq!(
        codes(&report),
        [("output-mismatch".into(), Some("i-web1".into()))]
    );
}

#[test]
fn declared_status_other_than_success_is_a_status_mismatch() {
    let mut exp = expectations(MANIFEST);
    let mut c = command(
        &exp,
        "- command_id: c-reload",
        CommandSelector::InvokeId("t-1".into()),
        &[],
    );
    c.status = declared(&exp, c.origin, "c-reload", "Stopped".into());
    exp.commands.push(c);
    let obs = Observations {
        commands: vec![command_result(
            "t-1", "c-reload", "i-web1", "Success", 0, "", T,
        )],
        ..Default::default()
    };
    let report = evaluate(&exp, &obs, &options());
    assert_eq!(
        codes(&report),
        [("command-status-mismatch".into(), Some("i-web1".into()))]
    );
    // No instances declared and no record at all: one finding for the command.
    let report = evaluate(&exp, &Observations::default(), &options());
    assert_eq!(codes(&report), [("command-not-found".into(), None)]);
}

#[test]
fn strict_reports_commands_on_undeclared_instances() {
    let mut exp = expectations(MANIFEST);
    exp.commands.push(reload_command(&exp));
    let obs = Observations {
        commands: ["i-web1", "i-web2", "i-db1"]
            .iter()
            .map(|id| command_result("t-1", "c-reload", id, "Success", 0, "reloaded", T))
            .collect(),
        ..Default::default()
    };
    let report = evaluate(
        &exp,
        &obs,
        &EvalOptions {
            strict: true,
            ..options()
        },
    );
    assert_eq!(
        codes(&report),
        [("unexpected-instance".into(), Some("i-db1".into()))]
    );
}

fn mode_drift_on_web2() -> Vec<FileInvocation> {
    let mut inv = nginx_delivery("f-1", vec![ok("i-web2")]);
    inv.mode = Some("0644".into());
    vec![nginx_delivery("f-0", vec![ok("i-web1")]), inv]
}

#[test]
fn an_active_waiver_silences_its_finding_and_shows_the_reason() {
    let mut exp = only_nginx();
    exp.waivers.push(mode_waiver(&exp));
    let report = run(&exp, mode_drift_on_web2());
    let finding = report.findings().next().unwrap();
    let waived = finding.waived.as_ref().expect("waived");
    assert_eq!(waived.reason, "OPS-12: chmod pending");
    assert_eq!(waived.location.line, 23);
    assert_eq!(report.exit(), Exit::Ok);
    assert_eq!(report.summary().waived, 1);
    assert_eq!(report.summary().errors, 0);
}

#[test]
fn a_waiver_applies_through_its_expiry_day() {
    let mut exp = only_nginx();
    let mut w = waiver(&exp, "- finding: mode-mismatch", "mode-mismatch", "OPS-12");
    w.expires = Some("2026-11-22".parse().unwrap());
    exp.waivers.push(w);
    assert_eq!(run(&exp, mode_drift_on_web2()).exit(), Exit::Ok);
}

#[test]
fn an_expired_waiver_does_not_apply_and_is_surfaced() {
    let mut exp = only_nginx();
    let mut w = waiver(
        &exp,
        "- finding: mode-mismatch",
        "mode-mismatch",
        "OPS-12: chmod pending",
    );
    w.expires = Some("2026-11-21".parse().unwrap());
    exp.waivers.push(w);
    let report = run(&exp, mode_drift_on_web2());
    assert_eq!(
        codes(&report),
        [
            ("mode-mismatch".into(), Some("i-web2".into())),
            ("waiver-expired".into(), None)
        ]
    );
    assert!(report.findings().all(|f| f.waived.is_none()));
    let expired = &report.general[0];
    assert_eq!(expired.severity(), Severity::Warning);
    assert_eq!(expired.location.line, 23);
    assert!(expired.message.contains("2026-11-21"));
    assert_eq!(report.exit(), Exit::Drift);
}

#[test]
fn a_waiver_for_another_instance_file_or_code_does_not_apply() {
    for (instance, file, code) in [
        (Some("i-web1"), None, "mode-mismatch"),
        (None, Some("/etc/nginx/other.conf"), "mode-mismatch"),
        (None, None, "owner-mismatch"),
    ] {
        let mut exp = only_nginx();
        let mut w = waiver(&exp, "- finding: mode-mismatch", code, "no");
        w.instance = instance.map(str::to_owned);
        w.file = file.map(str::to_owned);
        exp.waivers.push(w);
        let report = run(&exp, mode_drift_on_web2());
        assert_eq!(report.exit(), Exit::Drift, "{instance:?} {file:?} {code}");
        assert_eq!(report.summary().waived, 0);
    }
}

#[test]
fn a_waiver_with_a_file_never_matches_command_findings() {
    let mut exp = expectations(MANIFEST);
    exp.commands.push(reload_command(&exp));
    let mut w = waiver(
        &exp,
        "- finding: mode-mismatch",
        "command-not-found",
        "later",
    );
    w.file = Some("/etc/nginx/nginx.conf".into());
    exp.waivers.push(w);
    let report = evaluate(&exp, &Observations::default(), &options());
    assert_eq!(report.summary().waived, 0);
    exp.waivers[0].file = None;
    let report = evaluate(&exp, &Observations::default(), &options());
    assert_eq!(report.summary().waived, 2);
    assert_eq!(report.exit(), Exit::Ok);
}

#[test]
fn binary_content_is_compared_decoded() {
    let mut exp = only_nginx();
    exp.files[0].content = Some(Attr::builtin(ExpectedContent::Bytes(vec![
        0xde, 0xad, 0xbe, 0xef,
    ])));
    let mut inv = nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]);
    inv.content = Some("3q2+7w==".into());
    inv.content_type = ContentType::Base64;
    assert_eq!(codes(&run(&exp, vec![inv])), []);
}

/// A finished run needs the fields its declaration reads: ExitCode for
/// `exit_code:`, Output for `output:`, a known status always. Without them
/// that target is unverified, the other target is still judged.
#[test]
fn command_checks_need_their_fields() {
    type Spoil = fn(&mut crate::observe::CommandResult);
    let cases: [(&str, GapReason, Spoil); 5] = [
        ("no ExitCode", GapReason::FieldMissing, |r| {
            r.exit_code = None
        }),
        ("no Output", GapReason::FieldMissing, |r| {
            r.output = Observed::Missing
        }),
        ("not Base64", GapReason::FieldInvalid, |r| {
            r.output = Observed::Invalid("Output is not Base64".into())
        }),
        ("no InvocationStatus", GapReason::FieldMissing, |r| {
            r.status = String::new()
        }),
        (
            "unknown InvocationStatus `Weird`",
            GapReason::FieldInvalid,
            |r| r.status = "Weird".into(),
        ),
    ];
    for (what, reason, spoil) in cases {
        let good = |instance| {
            command_result(
                "t-1",
                "c-reload",
                instance,
                "Success",
                0,
                "nginx reloaded\n",
                T,
            )
        };
        let mut spoiled = good("i-web1");
        spoil(&mut spoiled);
        let report = run_commands(vec![spoiled, good("i-web2")]);
        let targets = &report.commands[0].targets;
        assert_eq!(targets[0].outcome(), Outcome::Unverified, "{what}");
        assert_eq!(targets[0].unverified_reason(), Some(reason), "{what}");
        assert!(targets[0].findings[0].message.contains(what), "{what}");
        assert_eq!(targets[1].outcome(), Outcome::Pass, "{what}");
        assert_eq!(report.verdict(), Verdict::Unverified, "{what}");
        assert_eq!(report.exit(), Exit::Unverified, "{what}");
    }
}

fn gap(query: crate::plan::Query) -> crate::observe::Gap {
    crate::observe::Gap {
        query,
        reason: GapReason::QueryFailed,
        detail: "DescribeSendFileResults: gave up after 5 attempts".into(),
        help: Some("check the network".into()),
    }
}

/// A failed query makes exactly what it covers unverified; the rest is
/// judged, and drift elsewhere still exits 1 with the gap listed.
#[test]
fn a_failed_query_leaves_what_it_covers_unverified() {
    let mut exp = only_nginx();
    exp.files
        .push(file(&exp, "app.env", "/etc/app", &["i-web1"]));
    let by_name = |name: &str| crate::plan::Query::FilesByName {
        region: "cn-hangzhou".into(),
        name: name.into(),
    };
    // nginx.conf's query failed; app.env's answered, drifted (no record).
    let obs = Observations {
        gaps: vec![gap(by_name("nginx.conf"))],
        ..Observations::default()
    };
    let report = evaluate(&exp, &obs, &options());
    let nginx = &report.files[0];
    for target in &nginx.targets {
        assert_eq!(target.outcome(), Outcome::Unverified);
        assert_eq!(target.unverified_reason(), Some(GapReason::QueryFailed));
        let message = &target.findings[0].message;
        assert!(
            message.contains("DescribeSendFileResults Name=nginx.conf in cn-hangzhou")
                && message.contains("gave up"),
            "{message}"
        );
        assert_eq!(target.findings[0].help_text(), "check the network");
    }
    assert_eq!(report.files[1].targets[0].outcome(), Outcome::Drift);
    assert_eq!(report.exit(), Exit::Drift);
    assert_eq!(report.summary().unverified, 2);

    // Only the gap: nothing drifted, so 3.
    let only_nginx = only_nginx();
    let report = evaluate(&only_nginx, &obs, &options());
    assert_eq!(report.exit(), Exit::Unverified);

    // A query for another instance covers nothing here.
    let obs = Observations {
        gaps: vec![gap(crate::plan::Query::FilesByInstance {
            region: "cn-hangzhou".into(),
            instance_id: "i-web2".into(),
        })],
        ..Observations::default()
    };
    let report = evaluate(&only_nginx, &obs, &options());
    let outcomes: Vec<_> = report.files[0]
        .targets
        .iter()
        .map(|t| t.outcome())
        .collect();
    assert_eq!(outcomes, [Outcome::Drift, Outcome::Unverified]);
}

/// Commands: a failed listing narrowed to one instance covers that one.
#[test]
fn a_failed_command_query_is_unverified_per_instance() {
    let mut exp = expectations(MANIFEST);
    exp.commands.push(reload_command(&exp));
    let obs = Observations {
        commands: vec![command_result(
            "t-1",
            "c-reload",
            "i-web1",
            "Success",
            0,
            "nginx reloaded\n",
            T,
        )],
        gaps: vec![gap(crate::plan::Query::CommandsByCommandId {
            region: "cn-hangzhou".into(),
            command_id: "c-reload".into(),
            instance_id: Some("i-web2".into()),
            tags: Vec::new(),
        })],
        ..Observations::default()
    };
    let report = evaluate(&exp, &obs, &options());
    let outcomes: Vec<_> = report.commands[0]
        .targets
        .iter()
        .map(|t| t.outcome())
        .collect();
    assert_eq!(outcomes, [Outcome::Pass, Outcome::Unverified]);
}

/// Commands pinned by `task_tags` count only the runs their tagged query
/// listed: a newer untagged run is not theirs, and a failed tagged listing
/// leaves them unverified rather than judged on the untagged runs.
#[test]
fn a_command_pinned_by_task_tags_counts_only_runs_listed_under_them() {
    let release = vec![("release".to_owned(), "42".to_owned())];
    let mut exp = expectations(MANIFEST);
    let mut pinned = reload_command(&exp);
    pinned.task_tags = release.clone();
    exp.commands.push(pinned);
    let run = |invoke_id, instance, output, finished, tagged: bool| crate::observe::CommandResult {
        listed_with_tags: if tagged {
            vec![release.clone()]
        } else {
            Vec::new()
        },
        ..command_result(
            invoke_id, "c-reload", instance, "Success", 0, output, finished,
        )
    };
    let tagged_run = |instance| run("t-42", instance, "nginx reloaded\n", T, true);
    let newer_untagged = |instance| run("t-43", instance, "oops\n", "2026-11-22T09:00:00Z", false);
    let obs = Observations {
        commands: vec![
            tagged_run("i-web1"),
            tagged_run("i-web2"),
            newer_untagged("i-web1"),
            newer_untagged("i-web2"),
        ],
        ..Observations::default()
    };
    let report = evaluate(&exp, &obs, &options());
    let judged: Vec<_> = report.commands[0]
        .targets
        .iter()
        .map(|t| (t.outcome(), t.invoke_id.as_deref().map(str::to_owned)))
        .collect();
    assert_eq!(
        judged,
        [
            (Outcome::Pass, Some("t-42".to_owned())),
            (Outcome::Pass, Some("t-42".to_owned()))
        ]
    );

    // Untagged, the same command is judged on the newer run, and drifts.
    exp.commands[0].task_tags.clear();
    let report = evaluate(&exp, &obs, &options());
    assert_eq!(report.exit(), Exit::Drift);
    exp.commands[0].task_tags = release.clone();

    // The tagged listing failed: the untagged runs are no evidence.
    let obs = Observations {
        commands: vec![newer_untagged("i-web1"), newer_untagged("i-web2")],
        gaps: vec![gap(crate::plan::Query::CommandsByCommandId {
            region: "cn-hangzhou".into(),
            command_id: "c-reload".into(),
            instance_id: None,
            tags: release.clone(),
        })],
        ..Observations::default()
    };
    let report = evaluate(&exp, &obs, &options());
    assert_eq!(report.exit(), Exit::Unverified);
    assert!(
        report.commands[0]
            .targets
            .iter()
            .all(|t| t.outcome() == Outcome::Unverified)
    );
}

/// A waiver never silences "could not see".
#[test]
fn unverified_is_never_waived() {
    let mut exp = only_nginx();
    exp.waivers
        .push(waiver(&exp, "nginx.conf", "unverified", "flaky API"));
    let obs = Observations {
        gaps: vec![gap(crate::plan::Query::FilesByName {
            region: "cn-hangzhou".into(),
            name: "nginx.conf".into(),
        })],
        ..Observations::default()
    };
    let report = evaluate(&exp, &obs, &options());
    assert!(report.findings().all(|f| !f.is_waived()));
    assert_eq!(report.exit(), Exit::Unverified);
}

/// A task's content is compared once per file, but judged per target: each
/// target of the drifted task has its own finding, and a target whose
/// latest delivery is another task gets that task's verdict.
#[test]
fn content_is_judged_per_task_and_reported_per_target() {
    let exp = only_nginx();
    let mut drifted = nginx_delivery("f-1", vec![ok("i-web1"), ok("i-web2")]);
    drifted.content = Some("worker_processes 4;\n".into());
    let report = run(&exp, vec![drifted.clone()]);
    assert_eq!(
        codes(&report),
        [
            ("content-mismatch".to_owned(), Some("i-web1".to_owned())),
            ("content-mismatch".to_owned(), Some("i-web2".to_owned())),
        ]
    );
    let findings: Vec<&Finding> = report.findings().collect();
    let (web1, web2) = (findings[0], findings[1]);
    assert!(matches!(web1.detail, Some(Detail::Diff(_))));
    assert_eq!(web1.detail, web2.detail);
    assert_mentions(&web1.message, "i-web1");
    assert_mentions(&web2.message, "i-web2");

    let fixed = nginx_delivery(
        "f-2",
        vec![target("i-web2", "Success", "2026-11-21T09:00:00Z", None)],
    );
    let report = run(&exp, vec![drifted, fixed]);
    let web1 = sole(&report, "content-mismatch", "i-web1");
    assert_mentions(&web1.message, "task f-1");
}
