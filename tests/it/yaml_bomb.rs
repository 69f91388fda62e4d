//! A 1 MiB "billion laughs" manifest (nested aliases) is refused with a
//! clear diagnostic instead of expanding into gigabytes. How fast is
//! measured by hand (see the README), never asserted here.

use shipcheck::manifest::{self, Code};

/// Ten levels of ten aliases each (10^10 values once expanded), padded with
/// more aliases to 1 MiB.
fn bomb() -> String {
    let mut yaml =
        String::from("version: 1\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let prev = level - 1;
        let aliases = vec![format!("*a{prev}"); 10].join(", ");
        yaml.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
    }
    let mut i = 0;
    while yaml.len() < 1024 * 1024 {
        yaml.push_str(&format!("p{i}: [*a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9]\n"));
        i += 1;
    }
    yaml
}

#[test]
fn a_one_mebibyte_alias_bomb_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.yaml");
    let text = bomb();
    assert!(text.len() >= 1024 * 1024);
    std::fs::write(&path, &text).unwrap();

    let errors = manifest::load(&[path], &[], &|_| None).expect_err("a bomb is refused");
    assert_eq!(errors.diagnostics.len(), 1);
    let diagnostic = &errors.diagnostics[0];
    assert_eq!(diagnostic.code, Code::TooComplex);
    assert!(
        diagnostic.message.contains("too complex") && diagnostic.message.contains("alias"),
        "{}",
        diagnostic.message
    );
    // It points into the file, on the line where the parser gave up.
    let records = errors.to_records();
    assert!(records[0].line.is_some_and(|line| line >= 2));
}
