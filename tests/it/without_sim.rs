//! A gate built without the simulator (`--no-default-features`) still takes
//! the same command line, and says how to get what it left out.

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn check_simulate_says_how_to_get_the_simulator() {
    Command::cargo_bin("shipcheck")
        .unwrap()
        .args(["check", "--simulate", "state.yaml", "shipcheck.yaml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "`shipcheck check --simulate` needs the simulator",
        ))
        .stderr(predicate::str::contains("--features sim"));
}

#[test]
fn sim_says_how_to_get_the_simulator() {
    Command::cargo_bin("shipcheck")
        .unwrap()
        .args(["sim", "--state", "state.yaml", "--synthesize"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "`shipcheck sim` needs the simulator",
        ))
        .stderr(predicate::str::contains("--features sim"));
}
