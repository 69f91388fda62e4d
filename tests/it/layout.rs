//! The layout rules of `src/`, held by reading the source:
//!
//! - only `src/main.rs` and `src/cli/` mention clap: the library takes
//!   plain values, the command line is an edge;
//! - only `src/cli/` prints (clippy.toml's `disallowed-macros` holds the
//!   code; this holds the text, doc examples included);
//! - no two files have `use` declarations naming each other, so data flows
//!   one way and each file can be read knowing only what it imports
//!   (`mod x;` is not a use; `pub use` is; `#[cfg(test)] mod tests` blocks
//!   are left out).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One `.rs` file under `src/`.
struct SourceFile {
    /// Relative to `src/`, with `/`: `cli/mod.rs`.
    path: String,
    /// The module it defines: `["cli"]` for `cli/mod.rs`, `[]` for `lib.rs`.
    module: Vec<String>,
    text: String,
}

fn source_files() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    collect(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let mut module: Vec<String> = relative
                .trim_end_matches(".rs")
                .split('/')
                .map(str::to_owned)
                .collect();
            if module.last().is_some_and(|last| last == "mod") {
                module.pop();
            }
            if module == ["lib"] || module == ["main"] {
                module.clear();
            }
            SourceFile {
                text: std::fs::read_to_string(&path).unwrap(),
                path: relative,
                module,
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

fn in_cli(path: &str) -> bool {
    path.starts_with("cli/")
}

#[test]
fn only_main_and_the_command_line_mention_clap() {
    let offenders: Vec<String> = source_files()
        .into_iter()
        .filter(|file| file.path != "main.rs" && !in_cli(&file.path))
        .filter(|file| file.text.contains("clap"))
        .map(|file| file.path)
        .collect();
    assert!(
        offenders.is_empty(),
        "clap belongs in src/cli/ (the library takes plain values); mentioned in src/{offenders:?}"
    );
}

#[test]
fn only_the_command_line_prints() {
    let offenders: Vec<String> = source_files()
        .into_iter()
        .filter(|file| !in_cli(&file.path) && !print_macros(&file.text).is_empty())
        .map(|file| format!("{} ({})", file.path, print_macros(&file.text).join(", ")))
        .collect();
    assert!(
        offenders.is_empty(),
        "only src/cli/ writes to stdout and stderr; print macros in src/{offenders:?}"
    );
}

/// The print macros `text` invokes (`println!`, `std::eprint!`, …).
fn print_macros(text: &str) -> Vec<String> {
    const PRINTS: [&str; 4] = ["print", "println", "eprint", "eprintln"];
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for (bang, _) in text.match_indices('!') {
        let start = text[..bang]
            .rfind(|c: char| !is_ident(c))
            .map_or(0, |i| i + 1);
        let name = &text[start..bang];
        if PRINTS.contains(&name) {
            found.push(format!("{name}!"));
        }
    }
    found
}

#[test]
fn no_two_files_import_each_other() {
    let files = source_files();
    let modules: BTreeMap<&[String], &str> = files
        .iter()
        .map(|file| (file.module.as_slice(), file.path.as_str()))
        .collect();
    let mut edges: BTreeSet<(Vec<String>, Vec<String>)> = BTreeSet::new();
    for file in &files {
        for path in use_paths(without_test_module(&file.text)) {
            let Some(target) = resolve(&file.module, &path, &modules) else {
                continue;
            };
            if target != file.module {
                edges.insert((file.module.clone(), target));
            }
        }
    }
    let mut pairs = Vec::new();
    for (from, to) in &edges {
        if from < to && edges.contains(&(to.clone(), from.clone())) {
            pairs.push(format!(
                "src/{} <-> src/{}",
                modules[from.as_slice()],
                modules[to.as_slice()]
            ));
        }
    }
    assert!(
        pairs.is_empty(),
        "these files import each other; move what both need into one of them or a third file:\n{}",
        pairs.join("\n")
    );
}

/// `text` without a trailing `#[cfg(test)] mod tests { … }`, whose imports
/// of the module under test are not part of the layout.
fn without_test_module(text: &str) -> &str {
    for (at, _) in text.match_indices("#[cfg(test)]") {
        let rest = text[at + "#[cfg(test)]".len()..].trim_start();
        if let Some(rest) = rest.strip_prefix("mod tests")
            && rest.trim_start().starts_with('{')
        {
            return &text[..at];
        }
    }
    text
}

/// Every path a `use` declaration names, braces expanded:
/// `use crate::a::{b, c::d};` gives `crate::a::b` and `crate::a::c::d`.
fn use_paths(text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(tree) = use_tree(line.trim_start()) else {
            continue;
        };
        // The tree is the end of the line; the declaration may go on.
        let tree_start = start + line.len() - tree.len();
        let Some(end) = text[tree_start..].find(';') else {
            continue;
        };
        let tree: String = text[tree_start..tree_start + end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for path in expand(&tree) {
            paths.push(path.split("::").map(str::to_owned).collect());
        }
    }
    paths
}

/// The use tree of a line that starts a `use` declaration (`pub use`,
/// `pub(crate) use` included), up to the end of the line.
fn use_tree(line: &str) -> Option<&str> {
    let line = match line.strip_prefix("pub") {
        Some(rest) if rest.starts_with('(') => rest[rest.find(')')? + 1..].trim_start(),
        Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim_start(),
        Some(_) => return None,
        None => line,
    };
    let rest = line.strip_prefix("use")?;
    rest.starts_with(char::is_whitespace)
        .then(|| rest.trim_start())
}

/// `a::{b,c::{d,e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let (Some(open), true) = (tree.find('{'), tree.ends_with('}')) else {
        return vec![tree.to_owned()];
    };
    let (prefix, inner) = (&tree[..open], &tree[open + 1..tree.len() - 1]);
    let mut items = Vec::new();
    let (mut depth, mut current) = (0, String::new());
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
        .iter()
        .flat_map(|item| expand(&format!("{prefix}{item}")))
        .collect()
}

/// The file a path used from `module` lands in: the longest prefix of the
/// absolute path that is a file's module. Paths into other crates: `None`.
fn resolve(
    module: &[String],
    path: &[String],
    modules: &BTreeMap<&[String], &str>,
) -> Option<Vec<String>> {
    let absolute: Vec<String> = match path.first()?.as_str() {
        "crate" => path[1..].to_vec(),
        "self" => [module, &path[1..]].concat(),
        "super" => {
            let supers = path.iter().take_while(|s| *s == "super").count();
            let base = &module[..module.len().saturating_sub(supers)];
            [base, &path[supers..]].concat()
        }
        _ => return None,
    };
    (1..=absolute.len())
        .rev()
        .map(|len| &absolute[..len])
        .find(|prefix| modules.contains_key(prefix))
        .map(<[String]>::to_vec)
}

#[test]
fn the_rules_read_rust_as_written() {
    assert_eq!(
        expand("crate::a::{b,c::{d,e}}"),
        ["crate::a::b", "crate::a::c::d", "crate::a::c::e"]
    );
    assert_eq!(use_tree("pub(crate) use x::y;"), Some("x::y;"));
    assert_eq!(use_tree("pub use x;"), Some("x;"));
    assert_eq!(use_tree("user::x;"), None);
    assert_eq!(
        use_paths("use crate::{a,\n    b::C};\nmod x;\npub use super::d;\n"),
        [
            vec!["crate", "a"],
            vec!["crate", "b", "C"],
            vec!["super", "d"]
        ]
    );
    assert_eq!(
        print_macros("std::println!(); eprint!(\"x\"); format!(); x.print!"),
        ["println!", "eprint!", "print!"]
    );
    assert_eq!(
        without_test_module("use a;\n#[cfg(test)]\nmod tests {\n    use super::b;\n}\n"),
        "use a;\n"
    );
}
