//! The budget on (file, target) pairs: the one amplification a manifest
//! can ask for after parsing. A 360 KB manifest of 2,000 files on a
//! 10,000-instance set asks for 20 million pairs; counting them first
//! (entries × set sizes, nothing expanded) refuses it at once, with the
//! entries responsible named and the flag that raises the budget.

use super::Resolver;
use super::sets::InstanceSets;
use crate::manifest::diagnostics::{Code, ManifestDiagnostic};
use crate::manifest::document::pointer_display;
use crate::protocol::Provider;

/// How many of the largest entries a refusal names.
const NAMED: usize = 5;

impl Resolver<'_> {
    /// False (after reporting) when the files and commands together would
    /// expand to more than `max_pairs` (file, target) pairs.
    pub(super) fn within_pair_budget(
        &mut self,
        sections: &super::Sections,
        sets: &InstanceSets,
        provider: Provider,
    ) -> bool {
        // Each list item counts as its set's size (or 1 for an id); an
        // upper bound, since duplicates are dropped only when expanding. An
        // item with a variable may name any set once expanded, so it counts
        // as the largest: counting it as one id would let `${var.…}` carry
        // a set past the budget.
        let largest = sets
            .values()
            .map(|m| m.known_len() as u64)
            .max()
            .unwrap_or(1);
        let size = |list: Option<&Vec<String>>| -> u64 {
            list.into_iter()
                .flatten()
                .map(|item| match sets.get(item) {
                    Some(members) => members.known_len() as u64,
                    None if item.contains("${") => largest,
                    None => 1,
                })
                .sum()
        };
        let pick = |instances, nodes| match provider {
            Provider::Ecs => instances,
            Provider::Eflo => nodes,
        };
        let mut per_entry: Vec<(u64, String)> = Vec::new();
        for (i, entry) in &sections.files {
            let n = size(pick(entry.instances.as_ref(), entry.nodes.as_ref()));
            per_entry.push((n, format!("/files/{i}")));
        }
        for (i, entry) in &sections.commands {
            let n = size(pick(entry.instances.as_ref(), entry.nodes.as_ref()));
            per_entry.push((n, format!("/commands/{i}")));
        }
        let total: u64 = per_entry.iter().map(|(n, _)| n).sum();
        if total <= self.max_pairs {
            return true;
        }
        per_entry.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
        let named: Vec<String> = per_entry
            .iter()
            .take(NAMED)
            .map(|(n, pointer)| format!("{} ({n})", pointer_display(pointer)))
            .collect();
        let first = per_entry[0].1.clone();
        let label = self.entry_label(&first);
        let max = self.max_pairs;
        self.push(
            ManifestDiagnostic::new(
                Code::TooManyPairs,
                format!(
                    "the entries expand to {total} (entry, target) pairs, over the budget of {max}"
                ),
            )
            .label(label, format!("{} targets", per_entry[0].0))
            .help(format!(
                "the largest: {}; if this fleet is real, raise the budget with --max-pairs {total}",
                named.join(", ")
            )),
        );
        false
    }
}
