//! `instance_sets:` and the target lists that use them: each entry's
//! `instances:` (or `nodes:`) becomes ids, sets expanded, duplicates dropped.
//!
//! A set is a list of ids, a file of ids (read here, under the same
//! confinement as `content_file`), or a query (`tags:`, `resource_group:`)
//! that only the cloud can answer: an entry that names one keeps it as a
//! [`TargetSource`], and the check resolves it before planning.

use std::collections::BTreeMap;

use compact_str::CompactString;
use foldhash::{HashSet, HashSetExt};
use std::path::Path;
use std::sync::Arc;

use super::Resolver;
use crate::expect::{InstanceQuery, TargetRef, TargetSource};
use crate::manifest::diagnostics::{Code, ManifestDiagnostic, did_you_mean};
use crate::manifest::document::pointer_push;
use crate::manifest::model::{InstanceSet, SetSource};
use crate::protocol::Provider;

/// The largest file of ids read: 100,000 ids of 30 bytes with room to spare.
const MAX_SET_FILE_BYTES: u64 = 4 << 20;

/// What a set holds once the manifest is read.
#[derive(Debug, Clone)]
pub(super) enum SetMembers {
    Ids(Vec<String>),
    /// Resolved when the check runs.
    Query(InstanceQuery),
}

impl SetMembers {
    /// What the set counts for in the pair budget: a query's size is
    /// unknown until the check runs, so it counts as one target here.
    pub(super) fn known_len(&self) -> usize {
        match self {
            SetMembers::Ids(ids) => ids.len(),
            SetMembers::Query(_) => 1,
        }
    }
}

/// Instance sets by name.
pub(super) type InstanceSets = BTreeMap<String, SetMembers>;

/// An entry's targets: ids now, and sets the check resolves.
#[derive(Debug, Default)]
pub(super) struct Targets {
    pub ids: Vec<TargetRef>,
    pub sources: Vec<TargetSource>,
}

impl Targets {
    pub(super) fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.sources.is_empty()
    }
}

impl Resolver<'_> {
    pub(super) fn instance_sets(
        &mut self,
        sets: &[(String, InstanceSet)],
        provider: Provider,
    ) -> InstanceSets {
        let mut out = BTreeMap::new();
        for (name, set) in sets {
            let set_pointer = pointer_push("/instance_sets", name);
            let members = match set {
                InstanceSet::Ids(members) => {
                    let mut ids = Vec::new();
                    for (i, member) in members.iter().enumerate() {
                        let pointer = pointer_push(&set_pointer, &i.to_string());
                        let Some(id) = self.string(member, &pointer) else {
                            continue;
                        };
                        if self.set_member_is_id(name, &id.value, provider, &pointer) {
                            ids.push(id.value);
                        }
                    }
                    SetMembers::Ids(ids)
                }
                InstanceSet::Source(source) => {
                    // A set whose source failed (reported) still exists, so
                    // the entries naming it are not also "unknown set".
                    self.set_source(name, source, provider, &set_pointer)
                        .unwrap_or(SetMembers::Ids(Vec::new()))
                }
            };
            out.insert(name.clone(), members);
        }
        out
    }

    fn set_member_is_id(
        &mut self,
        name: &str,
        id: &str,
        provider: Provider,
        pointer: &str,
    ) -> bool {
        if looks_like_id(id, provider) {
            return true;
        }
        let noun = provider.target_noun();
        self.push(
            ManifestDiagnostic::new(
                Code::InvalidTargetId,
                format!("`{id}` in instance set `{name}` is not an {noun} id"),
            )
            .label(self.index.value(pointer), format!("not an {noun} id"))
            .help(format!(
                "instance sets list {noun} ids ({}); sets cannot include other sets",
                id_example(provider)
            )),
        );
        false
    }

    /// A set from a source: exactly one of a query (`tags` and/or
    /// `resource_group`) and `file`; `None` after reporting why not.
    fn set_source(
        &mut self,
        name: &str,
        source: &SetSource,
        provider: Provider,
        pointer: &str,
    ) -> Option<SetMembers> {
        let query = source.tags.is_some() || source.resource_group.is_some();
        let problem = match (&source.file, query) {
            (Some(_), true) => {
                Some("takes `file:` or a query (`tags:`, `resource_group:`), not both")
            }
            (Some(_), false) if source.status.is_some() => {
                Some("`status:` filters a query; a file's ids are taken as they are")
            }
            (None, false) => Some("names no source: give `tags:`, `resource_group:` or `file:`"),
            _ if query && provider == Provider::Eflo => {
                Some("cannot be a query: DescribeInstances lists ECS instances, not eflo nodes")
            }
            _ if source.tags.as_ref().is_some_and(|t| t.len() > 20) => {
                Some("has more than 20 tags; DescribeInstances filters by at most 20")
            }
            _ => None,
        };
        if let Some(problem) = problem {
            self.push(
                ManifestDiagnostic::new(
                    Code::InvalidInstanceSet,
                    format!("instance set `{name}` {problem}"),
                )
                .label(self.index.value(pointer), "this set")
                .help("a set is a list of ids, `{tags: {KEY: VALUE}}`, `{resource_group: rg-…}` or `{file: PATH}`"),
            );
            return None;
        }
        if let Some(file) = &source.file {
            let at = pointer_push(pointer, "file");
            let path = self.string(file, &at)?;
            let span = self.index.value(&at);
            let text = self.read_set_file(name, &path.value, span)?;
            let ids = self.parse_set_file(name, &path.value, &text, span)?;
            let mut members = Vec::new();
            for id in ids {
                if self.set_member_is_id(name, &id, provider, &at) {
                    members.push(id);
                }
            }
            return Some(SetMembers::Ids(members));
        }
        let mut tags = Vec::new();
        for (key, value) in source.tags.iter().flatten() {
            let at = pointer_push(&pointer_push(pointer, "tags"), key);
            tags.push((key.clone(), self.string(value, &at)?.value));
        }
        let resource_group = match &source.resource_group {
            Some(group) => Some(
                self.string(group, &pointer_push(pointer, "resource_group"))?
                    .value,
            ),
            None => None,
        };
        let status = match source.status.as_deref() {
            None => Some("Running".to_owned()),
            Some(status) if status.eq_ignore_ascii_case("any") => None,
            Some(status) => Some(self.string(status, &pointer_push(pointer, "status"))?.value),
        };
        Some(SetMembers::Query(InstanceQuery {
            tags,
            resource_group,
            status,
        }))
    }

    /// Reads a set's file as untrusted input: inside the content root
    /// (symlinks followed), a regular file, at most [`MAX_SET_FILE_BYTES`].
    fn read_set_file(
        &mut self,
        name: &str,
        shown: &str,
        span: crate::expect::Span,
    ) -> Option<String> {
        let root = self
            .content_root
            .clone()
            .unwrap_or_else(|| self.base_dir.clone());
        let full = self.base_dir.join(shown);
        let read = || -> Result<String, String> {
            let root = root
                .canonicalize()
                .map_err(|e| format!("the content root cannot be resolved: {e}"))?;
            let canonical = full.canonicalize().map_err(|e| e.to_string())?;
            if Path::new(shown).is_absolute() || !canonical.starts_with(&root) {
                return Err(format!(
                    "it is outside {} (an operator can name another root with --content-root DIR)",
                    root.display()
                ));
            }
            let file = std::fs::File::open(&canonical).map_err(|e| e.to_string())?;
            let meta = file.metadata().map_err(|e| e.to_string())?;
            if !meta.file_type().is_file() {
                return Err("it is not a regular file".into());
            }
            if meta.len() > MAX_SET_FILE_BYTES {
                return Err(format!("it is over {MAX_SET_FILE_BYTES} bytes"));
            }
            use std::io::Read as _;
            let mut text = String::new();
            file.take(MAX_SET_FILE_BYTES)
                .read_to_string(&mut text)
                .map_err(|e| e.to_string())?;
            Ok(text)
        };
        match read() {
            Ok(text) => Some(text),
            Err(why) => {
                self.push(
                    ManifestDiagnostic::new(
                        Code::InstanceSetFile,
                        format!(
                            "the file of instance set `{name}` (`{shown}`) cannot be read: {why}"
                        ),
                    )
                    .label(span, "cannot be read")
                    .help(
                        "`file:` names a regular file of ids, relative to the manifest's directory",
                    ),
                );
                None
            }
        }
    }

    /// Ids from a set's file: a JSON array (or a Terraform output object
    /// whose `value` is one), else one id a line with `#` comments.
    fn parse_set_file(
        &mut self,
        name: &str,
        shown: &str,
        text: &str,
        span: crate::expect::Span,
    ) -> Option<Vec<String>> {
        let trimmed = text.trim_start();
        if !(trimmed.starts_with('[') || trimmed.starts_with('{')) {
            return Some(
                text.lines()
                    .map(|line| line.split('#').next().unwrap_or_default().trim())
                    .filter(|line| !line.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
        let json: Result<serde_json::Value, _> = serde_json::from_str(text);
        let list = match json {
            Ok(serde_json::Value::Object(mut output)) => output.remove("value"),
            Ok(list) => Some(list),
            Err(_) => None,
        };
        match list.map(serde_json::from_value::<Vec<String>>) {
            Some(Ok(ids)) => Some(ids),
            _ => {
                self.push(
                    ManifestDiagnostic::new(
                        Code::InstanceSetFile,
                        format!(
                            "the file of instance set `{name}` (`{shown}`) is JSON but not an array of ids"
                        ),
                    )
                    .label(span, "not a list of ids")
                    .help("write one id a line, or a JSON array of strings (`terraform output -json NAME`)"),
                );
                None
            }
        }
    }

    /// `None` when a target failed (reported); otherwise the targets,
    /// instance sets expanded and duplicates dropped.
    pub(super) fn targets(
        &mut self,
        entry_pointer: &str,
        instances: Option<&Vec<String>>,
        nodes: Option<&Vec<String>>,
        provider: Provider,
        sets: &InstanceSets,
    ) -> Option<Targets> {
        let (key, list, wrong_key, wrong_list) = match provider {
            Provider::Ecs => ("instances", instances, "nodes", nodes),
            Provider::Eflo => ("nodes", nodes, "instances", instances),
        };
        let mut ok = true;
        if wrong_list.is_some() {
            ok = false;
            let provider_name = match provider {
                Provider::Ecs => "ecs",
                Provider::Eflo => "eflo",
            };
            let help = match provider {
                Provider::Ecs => {
                    "write `instances:`, or set `provider: eflo` at the top for Lingjun nodes"
                }
                Provider::Eflo => "write `nodes:`, or remove `provider: eflo` for ECS instances",
            };
            self.push(
                ManifestDiagnostic::new(
                    Code::WrongTargetKey,
                    format!(
                        "`{wrong_key}:` does not apply: this manifest's provider is {provider_name}"
                    ),
                )
                .label(
                    self.index.head(&pointer_push(entry_pointer, wrong_key)),
                    format!("use `{key}:`"),
                )
                .help(help),
            );
        }
        let mut targets: Vec<TargetRef> = Vec::new();
        let mut sources: Vec<TargetSource> = Vec::new();
        // Ids already pushed: the first declaration wins and keeps its place,
        // checked in constant time so a file on 50,000 instances stays linear.
        let mut seen: HashSet<CompactString> = HashSet::new();
        let list_pointer = pointer_push(entry_pointer, key);
        for (i, item) in list.into_iter().flatten().enumerate() {
            let pointer = pointer_push(&list_pointer, &i.to_string());
            let Some(item) = self.string(item, &pointer) else {
                ok = false;
                continue;
            };
            let origin = item.origin.expect("declared");
            let mut push = |id: &str, via_set: Option<&Arc<str>>| {
                let id = CompactString::from(id);
                if seen.insert(id.clone()) {
                    targets.push(TargetRef {
                        id,
                        origin,
                        via_set: via_set.cloned(),
                    });
                }
            };
            if let Some(members) = sets.get(&item.value) {
                match members {
                    SetMembers::Ids(ids) => {
                        // One name shared by every member, not a copy each.
                        let set: Arc<str> = Arc::from(item.value.as_str());
                        for id in ids {
                            push(id, Some(&set));
                        }
                    }
                    SetMembers::Query(query) => {
                        if !sources.iter().any(|s| s.set == item.value) {
                            sources.push(TargetSource {
                                set: item.value.clone(),
                                query: query.clone(),
                                origin,
                            });
                        }
                    }
                }
            } else if looks_like_id(&item.value, provider) {
                push(&item.value, None);
            } else {
                ok = false;
                let help = match did_you_mean(&item.value, sets.keys().map(String::as_str)) {
                    Some(suggestion) => format!("did you mean the instance set `{suggestion}`?"),
                    None if sets.is_empty() => format!(
                        "define it under `instance_sets:`, or write an {} id ({})",
                        provider.target_noun(),
                        id_example(provider)
                    ),
                    None => format!(
                        "the instance sets are: {}",
                        sets.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                };
                self.push(
                    ManifestDiagnostic::new(
                        Code::UnknownInstanceSet,
                        format!(
                            "`{}` is neither an instance set nor an {} id",
                            item.value,
                            provider.target_noun()
                        ),
                    )
                    .label(origin.span, "unknown instance set")
                    .help(help),
                );
            }
        }
        // A fleet's file holds one per instance: no growth slack.
        targets.shrink_to_fit();
        ok.then_some(Targets {
            ids: targets,
            sources,
        })
    }
}

/// Instance ids are `i-…` (ECS) or `mi-…` (managed instances); Lingjun
/// node ids are `e01-…`. Anything else in a target list must be a set name.
fn looks_like_id(id: &str, provider: Provider) -> bool {
    let valid_rest = |rest: &str| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*')
    };
    match provider {
        Provider::Ecs => id
            .strip_prefix("i-")
            .or_else(|| id.strip_prefix("mi-"))
            .is_some_and(valid_rest),
        Provider::Eflo => id
            .strip_prefix('e')
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(digits, rest)| {
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && valid_rest(rest)
            }),
    }
}

pub(super) fn id_example(provider: Provider) -> &'static str {
    match provider {
        Provider::Ecs => "i-…",
        Provider::Eflo => "e01-…",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(looks_like_id("i-bp1hsglsw****", Provider::Ecs));
        assert!(looks_like_id("mi-abc", Provider::Ecs));
        assert!(!looks_like_id("web", Provider::Ecs));
        assert!(!looks_like_id("i-", Provider::Ecs));
        assert!(looks_like_id("e01-cn-9lb3c15m81j", Provider::Eflo));
        assert!(!looks_like_id("i-abc", Provider::Eflo));
    }
}
