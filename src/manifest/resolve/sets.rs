//! `instance_sets:` and the target lists that use them: each entry's
//! `instances:` (or `nodes:`) becomes ids, sets expanded, duplicates dropped.

use std::collections::{BTreeMap, HashSet};

use super::Resolver;
use crate::expect::TargetRef;
use crate::manifest::diagnostics::{Code, ManifestDiagnostic, did_you_mean};
use crate::manifest::document::pointer_push;
use crate::protocol::Provider;

/// Instance sets by name, each a list of ids.
pub(super) type InstanceSets = BTreeMap<String, Vec<String>>;

impl Resolver<'_> {
    pub(super) fn instance_sets(
        &mut self,
        sets: &[(String, Vec<String>)],
        provider: Provider,
    ) -> InstanceSets {
        let mut out = BTreeMap::new();
        for (name, members) in sets {
            let set_pointer = pointer_push("/instance_sets", name);
            let mut ids = Vec::new();
            for (i, member) in members.iter().enumerate() {
                let pointer = pointer_push(&set_pointer, &i.to_string());
                let Some(id) = self.string(member, &pointer) else {
                    continue;
                };
                if looks_like_id(&id.value, provider) {
                    ids.push(id.value);
                } else {
                    let noun = provider.target_noun();
                    self.push(
                        ManifestDiagnostic::new(
                            Code::InvalidTargetId,
                            format!(
                                "`{}` in instance set `{name}` is not an {noun} id",
                                id.value
                            ),
                        )
                        .label(self.index.value(&pointer), format!("not an {noun} id"))
                        .help(format!(
                            "instance sets list {noun} ids ({}); sets cannot include other sets",
                            id_example(provider)
                        )),
                    );
                }
            }
            out.insert(name.clone(), ids);
        }
        out
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
    ) -> Option<Vec<TargetRef>> {
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
        // Ids already pushed: the first declaration wins and keeps its place,
        // checked in constant time so a file on 50,000 instances stays linear.
        let mut seen: HashSet<String> = HashSet::new();
        let list_pointer = pointer_push(entry_pointer, key);
        for (i, item) in list.into_iter().flatten().enumerate() {
            let pointer = pointer_push(&list_pointer, &i.to_string());
            let Some(item) = self.string(item, &pointer) else {
                ok = false;
                continue;
            };
            let origin = item.origin.expect("declared");
            let mut push = |id: &str, via_set: Option<&str>| {
                if seen.insert(id.to_owned()) {
                    targets.push(TargetRef {
                        id: id.to_owned(),
                        origin,
                        via_set: via_set.map(str::to_owned),
                    });
                }
            };
            if let Some(members) = sets.get(&item.value) {
                for id in members {
                    push(id, Some(&item.value));
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
        ok.then_some(targets)
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
