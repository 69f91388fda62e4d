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

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

pub use diagnostics::{Code, DiagnosticRecord, ManifestDiagnostic, ManifestErrors};
pub use vars::{VarOverride, env_name_refusal};

use crate::expect::{Expectations, FileExpectation, Origin, Source, Span};
use crate::protocol::Provider;
use crate::text::LineIndex;
use diagnostics::{Sink, did_you_mean};
use document::{Document, SpanIndex};
use resolve::{Resolved, Resolver, Sections};
use vars::{Expander, Vars};

/// The budgets and permissions a manifest is read under. A manifest may
/// come from a pull request: it is untrusted input, and these say how far
/// it may reach (which files, which environment variables) and how much
/// work it may ask for.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `content_file` paths must resolve inside this directory (symlinks
    /// followed); `None`: each manifest's own directory.
    pub content_root: Option<PathBuf>,
    /// Environment variables a manifest may read although their names look
    /// like secrets (`--allow-env`). The credential chain's own variables
    /// are refused whatever this says.
    pub allow_env: Vec<String>,
    /// The most (file, target) pairs all entries may expand to.
    pub max_pairs: u64,
    /// The largest manifest file read, in bytes.
    pub max_bytes: u64,
}

/// Millions of pairs are a real fleet; hundreds of millions are an attack.
pub const DEFAULT_MAX_PAIRS: u64 = 5_000_000;
/// Large enough for a 50 MB manifest of comments and plain entries.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            content_root: None,
            allow_env: Vec::new(),
            max_pairs: DEFAULT_MAX_PAIRS,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Loads, validates and resolves `paths` together, with the default
/// [`LoadOptions`].
///
/// `vars` are the `--var` overrides; `env` looks up `${env:NAME}` (pass
/// `&|name| std::env::var(name).ok()`; tests pass a fixed map).
pub fn load(
    paths: &[PathBuf],
    vars: &[VarOverride],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Expectations, ManifestErrors> {
    load_with(paths, vars, env, &LoadOptions::default())
}

/// [`load`] under explicit budgets and permissions.
pub fn load_with(
    paths: &[PathBuf],
    vars: &[VarOverride],
    env: &dyn Fn(&str) -> Option<String>,
    options: &LoadOptions,
) -> Result<Expectations, ManifestErrors> {
    let mut sources = Vec::new();
    let mut diagnostics = Vec::new();
    let mut expectations = Expectations::default();
    let mut declared_vars = BTreeSet::new();
    let mut all_parsed = true;
    for path in paths {
        let source_id = sources.len();
        let mut sink = Sink::for_source(source_id);
        let text = match read_manifest(path, options.max_bytes) {
            Ok(text) => text,
            Err(err) => {
                sink.push(
                    ManifestDiagnostic::new(
                        Code::ReadFailed,
                        format!("cannot read {}: {err}", path.display()),
                    )
                    .help(
                        "check the path; a manifest is a UTF-8 YAML file \
                         (--max-manifest-bytes raises the size limit)",
                    ),
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
        match load_one(&sources[source_id], vars, env, options, &mut sink) {
            Some((resolved, names)) => {
                declared_vars.extend(names);
                // Of several manifests' windows, the shortest is the one to warn of.
                expectations.retention = expectations
                    .retention
                    .min(resolved.retention)
                    .or(expectations.retention.or(resolved.retention));
                expectations.files.extend(resolved.files);
                expectations.commands.extend(resolved.commands);
                expectations.waivers.extend(resolved.waivers);
            }
            None => all_parsed = false,
        }
        diagnostics.extend(sink.diagnostics);
    }
    expectations.max_pairs = Some(options.max_pairs);
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
    overrides: &[VarOverride],
    env: &dyn Fn(&str) -> Option<String>,
    options: &LoadOptions,
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
    let content_root = options.content_root.clone();
    let mut expander = Expander {
        vars: Vars::default(),
        env,
        allow_env: &options.allow_env,
        text,
    };
    // `vars:` defaults follow the rules of every other value: `${env:…}`
    // is expanded (and refused for credentials), `$${` is a literal.
    expander.vars = Vars::with_expanded_defaults(&defaults, overrides, &expander, &doc.index, sink);
    let resolver = Resolver {
        source: sink.source().unwrap_or_default(),
        base_dir,
        content_root,
        max_pairs: options.max_pairs,
        text,
        index: &doc.index,
        expander,
        sink,
    };
    Some((resolver.resolve(&sections), names))
}

/// Reads a manifest, refusing one over `max_bytes` before reading it.
fn read_manifest(path: &Path, max_bytes: u64) -> std::io::Result<String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > max_bytes {
        return Err(std::io::Error::other(format!(
            "it is {} bytes, over the limit of {max_bytes}",
            meta.len()
        )));
    }
    let mut text = String::new();
    file.take(max_bytes + 1).read_to_string(&mut text)?;
    if text.len() as u64 > max_bytes {
        return Err(std::io::Error::other(format!(
            "it is over the limit of {max_bytes} bytes"
        )));
    }
    Ok(text)
}

/// The diagnostics for entries left without a region: the manifest names
/// none for them, and neither `--region` nor the environment gave one.
pub fn missing_regions(expectations: Expectations, missing: &[Origin]) -> ManifestErrors {
    on_entries(expectations, missing, |entry| {
        ManifestDiagnostic::new(Code::NoRegion, "no region for this entry")
            .label(entry, "which region is this in?")
            .help(
                "set `defaults.region` or `region:` on the entry, pass --region, \
                 or set ALIBABA_CLOUD_REGION_ID",
            )
    })
}

/// The diagnostics for entries that name no region when the one they would
/// take (from the credentials' profile or `ALIBABA_CLOUD_REGION_ID`) is not
/// a region id: the user's input to fix, like a malformed `region:`.
pub fn malformed_fallback_region(
    expectations: Expectations,
    entries: &[Origin],
    region: &str,
) -> ManifestErrors {
    on_entries(expectations, entries, |entry| {
        ManifestDiagnostic::new(
            Code::InvalidRegion,
            format!(
                "this entry names no region, and the one it would take (`{region}`, from the \
                 profile or ALIBABA_CLOUD_REGION_ID) is not a region id"
            ),
        )
        .label(entry, "which region is this in?")
        .help(
            "set `defaults.region` or `region:` on the entry, or pass --region; region ids are \
             lowercase letters, digits and hyphens, such as cn-hangzhou",
        )
    })
}

/// The diagnostic for instance sets that resolved, when the check ran, to
/// more (entry, target) pairs than the budget the manifest was loaded under:
/// a query set counts as one target at load, so this is where a tag that
/// matches the whole fleet is refused.
pub fn resolved_over_budget(expectations: Expectations, pairs: u64, max: u64) -> ManifestErrors {
    let entries: Vec<Origin> = expectations
        .files
        .iter()
        .filter(|f| !f.target_sources.is_empty())
        .map(|f| f.origin)
        .chain(
            expectations
                .commands
                .iter()
                .filter(|c| !c.target_sources.is_empty())
                .map(|c| c.origin),
        )
        .take(1)
        .collect();
    on_entries(expectations, &entries, |entry| {
        ManifestDiagnostic::new(
            Code::TooManyPairs,
            format!(
                "the instance sets resolved to {pairs} (entry, target) pairs, over the budget of {max}"
            ),
        )
        .label(entry, "its sets resolved when the check ran")
        .help(format!(
            "if this fleet is real, raise the budget with --max-pairs {pairs}; otherwise narrow the sets' tags"
        ))
    })
}

/// One diagnostic per entry, given the entry's span.
fn on_entries(
    expectations: Expectations,
    entries: &[Origin],
    diagnostic: impl Fn(Span) -> ManifestDiagnostic,
) -> ManifestErrors {
    let mut diagnostics = Vec::new();
    for origin in entries {
        let mut sink = Sink::for_source(origin.source);
        sink.push(diagnostic(origin.span));
        diagnostics.append(&mut sink.diagnostics);
    }
    ManifestErrors::new(expectations.sources, diagnostics)
}

fn syntax_diagnostic(err: &parse::ParseError, text: &str) -> ManifestDiagnostic {
    let offset = err
        .position
        .map(|(line, column)| LineIndex::new(text).offset(line, column))
        .unwrap_or(0);
    let span = Span::new(offset, offset);
    if err.over_budget {
        ManifestDiagnostic::new(
            Code::TooComplex,
            format!(
                "the YAML is too large or too complex to read safely: {}",
                err.message
            ),
        )
        .label(span, "refused here")
        .maybe_help(err.help.clone())
    } else {
        ManifestDiagnostic::new(Code::YamlSyntax, format!("invalid YAML: {}", err.message))
            .label(span, "here")
            .help("check the indentation and quoting around this place")
    }
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
    // Only files with the same path can clash: most paths are declared once,
    // and their targets need no look-up at all.
    let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        by_path.entry(file.path()).or_default().push(i);
    }
    // (first declaration, repeat) → the targets they share.
    let mut clashes: BTreeMap<(usize, usize), Vec<&str>> = BTreeMap::new();
    for same_path in by_path.values().filter(|files| files.len() > 1) {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for &i in same_path {
            for target in &files[i].targets {
                match *first.entry(target.id.as_str()).or_insert(i) {
                    j if j != i => clashes.entry((j, i)).or_default().push(&target.id),
                    _ => {}
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
    vars: &[VarOverride],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::{CommandSelector, ExpectedContent, OutputMatch};
    use crate::mode::FileMode;
    use crate::observe::ContentType;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load_text(text: &str, vars: &[&str], env: &[(&str, &str)]) -> Expectations {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "app.conf", "key = value\n");
        let path = write(dir.path(), "m.yaml", text);
        let vars: Vec<VarOverride> = vars
            .iter()
            .map(|v| {
                let (name, value) = v.split_once('=').unwrap();
                VarOverride::new(name, value)
            })
            .collect();
        let env = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        load(&[path], &vars, &env).unwrap_or_else(|errors| panic!("{}", errors.render_human(false)))
    }

    fn slice(expectations: &Expectations, origin: Option<crate::expect::Origin>) -> &str {
        let origin = origin.expect("declared");
        &expectations.source(origin).text[origin.span.start..origin.span.end]
    }

    #[test]
    fn builtin_defaults_have_no_origin_and_declared_defaults_do() {
        let e = load_text(
            "version: 1\ndefaults:\n  owner: app\n  max_age: 7d\nfiles:\n  - name: a\n    target_dir: /etc\n    instances: [i-bp1a]\n",
            &[],
            &[],
        );
        let file = &e.files[0];
        assert_eq!(file.mode.value, FileMode::from_bits(0o644).unwrap());
        assert_eq!(file.mode.origin, None);
        assert_eq!(
            (file.group.value.as_str(), file.group.origin),
            ("root", None)
        );
        assert_eq!((file.overwrite.value, file.overwrite.origin), (false, None));
        assert_eq!(file.content_type.value, ContentType::PlainText);
        assert_eq!(file.region, None);
        assert_eq!(file.owner.value, "app");
        assert_eq!(slice(&e, file.owner.origin), "app");
        let max_age = file.max_age.as_ref().unwrap();
        assert_eq!(max_age.value, std::time::Duration::from_secs(7 * 24 * 3600));
        assert_eq!(slice(&e, max_age.origin), "7d");
        assert_eq!(file.content, None);
        assert_eq!(file.path(), "/etc/a");
        // The entry's origin is the whole entry.
        assert!(slice(&e, Some(file.origin)).starts_with("name: a\n"));
    }

    #[test]
    fn a_file_overrides_defaults_and_modes_read_as_octal() {
        let e = load_text(
            "version: 1\ndefaults:\n  mode: \"0600\"\n  region: cn-hangzhou\nfiles:\n  - {name: a, target_dir: /x, instances: [i-bp1a]}\n  - {name: b, target_dir: /x, mode: 755, region: cn-beijing, instances: [i-bp1a]}\n",
            &[],
            &[],
        );
        assert_eq!(e.files[0].mode.value.to_string(), "0600");
        assert_eq!(slice(&e, e.files[0].mode.origin), "\"0600\"");
        assert_eq!(e.files[0].region.as_ref().unwrap().value, "cn-hangzhou");
        assert_eq!(e.files[1].mode.value.to_string(), "0755");
        assert_eq!(slice(&e, e.files[1].mode.origin), "755");
        assert_eq!(e.files[1].region.as_ref().unwrap().value, "cn-beijing");
    }

    #[test]
    fn instance_sets_expand_with_the_origin_of_the_entry_that_named_them() {
        let e = load_text(
            "version: 1\ninstance_sets:\n  web: [i-bp1a, i-bp1b]\nfiles:\n  - name: a\n    target_dir: /x\n    instances: [web, i-bp1c, i-bp1a]\n",
            &[],
            &[],
        );
        let targets = &e.files[0].targets;
        let ids: Vec<_> = targets.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["i-bp1a", "i-bp1b", "i-bp1c"]);
        assert_eq!(targets[0].via_set.as_deref(), Some("web"));
        assert_eq!(targets[2].via_set, None);
        assert_eq!(slice(&e, Some(targets[1].origin)), "web");
        assert_eq!(slice(&e, Some(targets[2].origin)), "i-bp1c");
    }

    #[test]
    fn vars_defaults_overrides_and_env_are_substituted() {
        let e = load_text(
            "version: 1\nvars:\n  app: shop\n  env: dev\nfiles:\n  - name: ${var.app}-${var.env}.conf\n    target_dir: /etc/${env:APP_DIR}\n    content: \"cost: $${price}\"\n    instances: [i-bp1a]\n",
            &["env=prod"],
            &[("APP_DIR", "shop")],
        );
        let file = &e.files[0];
        assert_eq!(file.name.value, "shop-prod.conf");
        assert_eq!(file.target_dir.value, "/etc/shop");
        assert_eq!(
            file.content.as_ref().unwrap().value,
            ExpectedContent::Bytes(b"cost: ${price}".to_vec())
        );
    }

    #[test]
    fn content_file_is_read_relative_to_the_manifest() {
        let e = load_text(
            "version: 1\nfiles:\n  - name: app.conf\n    target_dir: /etc\n    content_file: app.conf\n    instances: [i-bp1a]\n",
            &[],
            &[],
        );
        let content = e.files[0].content.as_ref().unwrap();
        assert_eq!(
            content.value,
            ExpectedContent::Bytes(b"key = value\n".to_vec())
        );
        assert_eq!(slice(&e, content.origin), "app.conf");
    }

    #[test]
    fn base64_content_is_decoded_and_sha256_parsed() {
        let e = load_text(
            "version: 1\ndefaults:\n  content_type: Base64\nfiles:\n  - name: a\n    target_dir: /x\n    content: |\n      aGVsbG8g\n      d29ybGQ=\n    instances: [i-bp1a]\n  - name: b\n    target_dir: /x\n    sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n    instances: [i-bp1a]\n",
            &[],
            &[],
        );
        assert_eq!(e.files[0].content_type.value, ContentType::Base64);
        assert_eq!(
            e.files[0].content.as_ref().unwrap().value,
            ExpectedContent::Bytes(b"hello world".to_vec())
        );
        let ExpectedContent::Sha256(digest) = e.files[1].content.as_ref().unwrap().value else {
            panic!("not a digest");
        };
        assert_eq!(digest[..4], [0x9f, 0x86, 0xd0, 0x81]);
    }

    #[test]
    fn eflo_files_carry_provider_nodes_and_invoke_ids() {
        let e = load_text(
            "version: 1\nprovider: eflo\nfiles:\n  - {name: a, target_dir: /x, invoke_id: f-1, nodes: [e01-cn-a]}\n",
            &[],
            &[],
        );
        assert_eq!(e.files[0].provider, Provider::Eflo);
        assert_eq!(e.files[0].invoke_id.as_ref().unwrap().value, "f-1");
        assert_eq!(e.files[0].targets[0].id, "e01-cn-a");
    }

    #[test]
    fn a_non_zero_exit_code_expects_the_failed_status() {
        let e = load_text(
            "version: 1\ncommands:\n  - {invoke_id: t-1, instances: [i-a], exit_code: 2, output: {regex: \"^ok$\"}}\n",
            &[],
            &[],
        );
        let command = &e.commands[0];
        assert_eq!(command.provider, Provider::Ecs);
        assert_eq!(
            command.selector.value,
            CommandSelector::InvokeId("t-1".into())
        );
        assert_eq!(command.exit_code.as_ref().unwrap().value, 2);
        // A non-zero exit code expects the Failed status unless one is declared.
        assert_eq!(
            (command.status.value.as_str(), command.status.origin),
            ("Failed", None)
        );
        assert!(
            matches!(&command.output.as_ref().unwrap().value, OutputMatch::Regex(r) if r.is_match("ok"))
        );
    }

    #[test]
    fn commands_default_to_success_and_waivers_resolve() {
        let e = load_text(
            "version: 1\ncommands:\n  - command_id: c-1\nwaivers:\n  - finding: mode-mismatch\n    file: /etc/a\n    reason: OPS-1\n    expires: 2026-12-31\n",
            &[],
            &[],
        );
        let command = &e.commands[0];
        assert_eq!(
            command.selector.value,
            CommandSelector::CommandId("c-1".into())
        );
        assert!(command.targets.is_empty());
        assert_eq!(command.status.value, "Success");
        let waiver = &e.waivers[0];
        assert_eq!(waiver.finding, "mode-mismatch");
        assert_eq!(waiver.file.as_deref(), Some("/etc/a"));
        assert_eq!(waiver.expires, Some(jiff::civil::date(2026, 12, 31)));
    }

    #[test]
    fn an_empty_manifest_is_only_missing_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "m.yaml", "");
        let errors = load(&[path], &[], &|_| None).unwrap_err();
        let codes: Vec<_> = errors.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::MissingKey]);
    }
}
