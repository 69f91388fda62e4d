//! The user's YAML manifest: model with spans, schema, validation, resolution.
//!
//! [`load`] reads every manifest, reports every problem of every file at
//! once ([`ManifestErrors`]), and otherwise returns the resolved
//! [`Expectations`]. The stages, one module each:
//!
//! 1. `parse`: YAML → spanned tree (serde-saphyr, with resource budgets);
//! 2. `document`: tree → JSON + pointer→span index, duplicate keys;
//! 3. `schema`: JSON Schema validation (`schemas/manifest.v1.schema.json`);
//! 4. `model`: each section deserialised on its own, so one bad entry does
//!    not hide the problems of the others;
//! 5. `vars` + `resolve`: variables, defaults, sets, content, formats;
//! 6. here: checks across files (the same file twice on one instance).

pub mod diagnostics;
pub mod document;
pub mod model;
pub mod parse;
pub mod resolve;
pub mod schema;
pub mod vars;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

pub use diagnostics::{Code, DiagnosticRecord, ManifestDiagnostic, ManifestErrors};

use crate::cli::VarArg;
use crate::expect::{Expectations, FileExpectation, Source, Span};
use crate::observe::Provider;
use diagnostics::{Sink, did_you_mean};
use document::{Document, SpanIndex};
use resolve::{Resolved, Resolver, Sections};
use vars::{Expander, Vars};

/// Loads, validates and resolves `paths` together.
///
/// `vars` are the `--var` overrides; `env` looks up `${env:NAME}` (pass
/// `&|name| std::env::var(name).ok()`; tests pass a fixed map).
pub fn load(
    paths: &[PathBuf],
    vars: &[VarArg],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Expectations, ManifestErrors> {
    let mut sources = Vec::new();
    let mut diagnostics = Vec::new();
    let mut expectations = Expectations::default();
    let mut declared_vars = BTreeSet::new();
    let mut all_parsed = true;
    for path in paths {
        let source_id = sources.len();
        let mut sink = Sink::for_source(source_id);
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                sink.push(
                    ManifestDiagnostic::new(
                        Code::ReadFailed,
                        format!("cannot read {}: {err}", path.display()),
                    )
                    .help("check the path; a manifest is a UTF-8 YAML file"),
                );
                sources.push(Source {
                    path: path.clone(),
                    text: Arc::from(""),
                });
                diagnostics.extend(sink.diagnostics);
                all_parsed = false;
                continue;
            }
        };
        sources.push(Source {
            path: path.clone(),
            text: Arc::from(text),
        });
        match load_one(&sources[source_id], vars, env, &mut sink) {
            Some((resolved, names)) => {
                declared_vars.extend(names);
                expectations.files.extend(resolved.files);
                expectations.commands.extend(resolved.commands);
                expectations.waivers.extend(resolved.waivers);
            }
            None => all_parsed = false,
        }
        diagnostics.extend(sink.diagnostics);
    }
    duplicate_files(&expectations.files, &sources, &mut diagnostics);
    if all_parsed {
        unknown_overrides(vars, &declared_vars, &mut diagnostics);
    }
    if diagnostics.is_empty() {
        expectations.sources = sources;
        Ok(expectations)
    } else {
        Err(ManifestErrors::new(sources, diagnostics))
    }
}

/// One manifest; `None` when it is not even YAML. Also returns the names
/// of the variables it declares.
fn load_one(
    source: &Source,
    overrides: &[VarArg],
    env: &dyn Fn(&str) -> Option<String>,
    sink: &mut Sink,
) -> Option<(Resolved, Vec<String>)> {
    let text: &str = &source.text;
    let root = match parse::parse(text) {
        Ok(root) => root,
        Err(err) => {
            sink.push(syntax_diagnostic(&err, text));
            return None;
        }
    };
    let doc = document::build(&root, text, sink);
    let failed = schema::validate(&doc, text, sink);
    let sections = sections(&doc, &failed, sink);
    let defaults: BTreeMap<String, Json> = doc
        .json
        .get("vars")
        .and_then(Json::as_object)
        .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let names = defaults.keys().cloned().collect();
    let base_dir = match source.path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let resolver = Resolver {
        source: sink.source().unwrap_or_default(),
        base_dir,
        text,
        index: &doc.index,
        expander: Expander {
            vars: Vars::new(&defaults, overrides),
            env,
            text,
        },
        sink,
    };
    Some((resolver.resolve(&sections), names))
}

fn syntax_diagnostic(err: &parse::ParseError, text: &str) -> ManifestDiagnostic {
    let offset = err
        .position
        .map(|(line, column)| offset_of(text, line, column))
        .unwrap_or(0);
    let span = Span::new(offset, offset);
    if err.over_budget {
        ManifestDiagnostic::new(
            Code::TooComplex,
            format!("the YAML is too complex to read safely: {}", err.message),
        )
        .label(span, "refused here")
        .help("a manifest needs no deep alias nesting or huge expansions; write the values out, or split the manifest")
    } else {
        ManifestDiagnostic::new(Code::YamlSyntax, format!("invalid YAML: {}", err.message))
            .label(span, "here")
            .help("check the indentation and quoting around this place")
    }
}

/// The byte offset of a 1-based line and character column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        .min(text.len());
    let rest = &text[line_start..];
    let within = rest
        .char_indices()
        .take_while(|(_, c)| *c != '\n')
        .nth(column.saturating_sub(1))
        .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i);
    line_start + within
}

/// Each section (and each list entry) deserialised on its own: an entry the
/// schema rejected is skipped, the others are still checked.
fn sections(doc: &Document, failed: &[String], sink: &mut Sink) -> Sections {
    let json = &doc.json;
    let mut sections = Sections {
        provider: match json.get("provider").and_then(Json::as_str) {
            Some("eflo") => Provider::Eflo,
            _ => Provider::Ecs,
        },
        ..Sections::default()
    };
    sections.defaults = json
        .get("defaults")
        .and_then(|v| typed(v, "/defaults", failed, &doc.index, sink));
    if let Some(Json::Object(sets)) = json.get("instance_sets") {
        for (name, members) in sets {
            let pointer = document::pointer_push("/instance_sets", name);
            if let Some(members) = typed(members, &pointer, failed, &doc.index, sink) {
                sections.instance_sets.push((name.clone(), members));
            }
        }
    }
    sections.files = entries(json, "files", failed, &doc.index, sink);
    sections.commands = entries(json, "commands", failed, &doc.index, sink);
    sections.waivers = entries(json, "waivers", failed, &doc.index, sink);
    sections
}

fn entries<T: DeserializeOwned>(
    json: &Json,
    key: &str,
    failed: &[String],
    index: &SpanIndex,
    sink: &mut Sink,
) -> Vec<(usize, T)> {
    let Some(Json::Array(items)) = json.get(key) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            typed(item, &format!("/{key}/{i}"), failed, index, sink).map(|entry| (i, entry))
        })
        .collect()
}

fn typed<T: DeserializeOwned>(
    value: &Json,
    pointer: &str,
    failed: &[String],
    index: &SpanIndex,
    sink: &mut Sink,
) -> Option<T> {
    match serde_json::from_value(value.clone()) {
        Ok(typed) => Some(typed),
        Err(err) => {
            let reported = failed.iter().any(|f| {
                f == pointer
                    || f.starts_with(&format!("{pointer}/"))
                    || pointer.starts_with(&format!("{f}/"))
            });
            // The schema and the model agree by construction; should they
            // not, the value is still refused, never silently dropped.
            if !reported {
                sink.push(
                    ManifestDiagnostic::new(
                        Code::Schema,
                        format!("{}: {err}", document::pointer_display(pointer)),
                    )
                    .label(index.value(pointer), "cannot be read")
                    .help("run `shipcheck schema` to see the manifest schema"),
                );
            }
            None
        }
    }
}

/// The same (name, target_dir) twice on one target: which declaration
/// would the check hold the delivery to?
fn duplicate_files(
    files: &[FileExpectation],
    sources: &[Source],
    diagnostics: &mut Vec<ManifestDiagnostic>,
) {
    let mut first: HashMap<(&str, String), usize> = HashMap::new();
    // (first declaration, repeat) → the targets they share.
    let mut clashes: BTreeMap<(usize, usize), Vec<&str>> = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        let path = file.path();
        for target in &file.targets {
            match first.get(&(target.id.as_str(), path.clone())) {
                Some(&j) if j != i => clashes.entry((j, i)).or_default().push(&target.id),
                Some(_) => {}
                None => {
                    first.insert((target.id.as_str(), path.clone()), i);
                }
            }
        }
    }
    for ((j, i), targets) in clashes {
        let (earlier, later) = (&files[j], &files[i]);
        let mut sink = Sink::for_source(later.origin.source);
        let span = later
            .name
            .origin
            .map_or(later.origin.span, |origin| origin.span);
        let mut diagnostic = ManifestDiagnostic::new(
            Code::DuplicateFile,
            format!(
                "`{}` is declared twice for {}",
                later.path(),
                targets.join(", ")
            ),
        )
        .label(span, "declared again here");
        let earlier_span = earlier
            .name
            .origin
            .map_or(earlier.origin.span, |origin| origin.span);
        if earlier.origin.source == later.origin.source {
            diagnostic = diagnostic.label(earlier_span, "first declared here");
            diagnostic =
                diagnostic.help("keep one declaration per file and target; merge the two entries");
        } else {
            let other = &sources[earlier.origin.source];
            let (line, _) = other.line_col(earlier_span.start);
            diagnostic = diagnostic.help(format!(
                "first declared in {} at line {line}; keep one declaration per file and target",
                other.name()
            ));
        }
        sink.push(diagnostic);
        diagnostics.extend(sink.diagnostics);
    }
}

fn unknown_overrides(
    vars: &[VarArg],
    declared: &BTreeSet<String>,
    diagnostics: &mut Vec<ManifestDiagnostic>,
) {
    for var in vars {
        if declared.contains(&var.name) {
            continue;
        }
        let help = match did_you_mean(&var.name, declared.iter().map(String::as_str)) {
            Some(suggestion) => format!("did you mean `--var {suggestion}=…`?"),
            None => format!(
                "declare it under `vars:` in the manifest (`{}: default`)",
                var.name
            ),
        };
        diagnostics.push(
            ManifestDiagnostic::new(
                Code::UnknownVarOverride,
                format!(
                    "--var {} sets a variable that no manifest declares",
                    var.name
                ),
            )
            .help(help),
        );
    }
}

/// True when `path` names a manifest file, judged by its schema comment
/// (`# yaml-language-server: $schema=…manifest.v1.schema.json`).
pub fn is_manifest_file(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.lines()
            .take(5)
            .any(|line| line.contains("$schema=") && line.contains("manifest.v1.schema.json"))
    })
}
