//! The command line described for shells and for `man`, and `--version`:
//! completion scripts for every shell (the bash one syntax-checked by
//! bash), the manual pages (rendered by `man` when it is installed), and
//! the commit and date a build names.

use std::process::Command as Process;

use assert_cmd::Command;

const SUBCOMMANDS: &[&str] = &["check", "validate", "schema", "sim", "completions", "man"];

fn shipcheck() -> Command {
    let mut cmd = Command::cargo_bin("shipcheck").unwrap();
    cmd.env_remove("COLUMNS");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let output = shipcheck().args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn installed(program: &str) -> bool {
    Process::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn completions_exist_for_every_shell_and_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell}: no `{sub}`");
        }
        assert!(script.contains("format"), "{shell}: no check flags");
    }
}

#[test]
fn the_bash_completion_is_valid_bash() {
    let script = stdout_of(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shipcheck.bash");
    std::fs::write(&path, &script).unwrap();
    let checked = Process::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        checked.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // Sourced, it registers the completion function for `shipcheck`.
    let sourced = Process::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p shipcheck",
            path.display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&sourced.stdout).contains("shipcheck"),
        "{}",
        String::from_utf8_lossy(&sourced.stderr)
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    shipcheck().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn the_man_pages_are_roff_with_every_subcommand_and_the_exit_codes() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH shipcheck 1 "), "{page}");
    for sub in SUBCOMMANDS {
        assert!(page.contains(&format!("shipcheck\\-{sub}(1)")), "no {sub}");
    }
    assert!(page.contains(".SH \"EXIT STATUS\""));

    let check = stdout_of(&["man", "check"]);
    assert!(check.contains(".TH shipcheck-check 1 "), "{check}");
    assert!(
        check.contains("SHIPCHECK_FORMAT"),
        "the page names the variables"
    );
    assert!(check.contains("\\-\\-quiet"));

    shipcheck().args(["man", "nope"]).assert().code(2);
}

#[test]
fn the_man_page_renders_when_man_is_installed() {
    if !installed("man") {
        return; // `man` is not installed: the roff test above still ran
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shipcheck-check.1");
    std::fs::write(&path, stdout_of(&["man", "check"])).unwrap();
    let rendered = Process::new("man")
        .arg("-l")
        .arg(&path)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert!(
        text.contains("SYNOPSIS") && text.contains("--format"),
        "{text}"
    );
    assert!(text.contains("EXIT STATUS"), "{text}");
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let version = stdout_of(&["--version"]);
    let pattern = regex::Regex::new(
        r"^shipcheck \d+\.\d+\.\d+ \(commit ([0-9a-f]{40}|unknown), built \d{4}-\d{2}-\d{2}\)\n$",
    )
    .unwrap();
    let captures = pattern
        .captures(&version)
        .unwrap_or_else(|| panic!("{version:?}"));
    let root = crate::support::repo("");
    if root.join(".git").exists() {
        let head = Process::new("git")
            .arg("-C")
            .arg(&root)
            .args(["rev-parse", "HEAD"])
            .output()
            .unwrap();
        assert_eq!(
            &captures[1],
            String::from_utf8_lossy(&head.stdout).trim(),
            "build.rs reruns when HEAD moves"
        );
    }
    // Subcommands say the same.
    let check = stdout_of(&["check", "--version"]);
    assert_eq!(
        check.strip_prefix("shipcheck-check"),
        version.strip_prefix("shipcheck")
    );
}
