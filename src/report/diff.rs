//! Two runs compared: which findings a change added, which it resolved and
//! which it left, matched by a stable identity (finding code, the file's
//! path or the command, and the target), never by message text, which
//! carries times and ages.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::model::{Finding, Report};

/// What identifies a finding across runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Identity {
    pub code: String,
    /// The file's path, or `command c-…` / `invocation t-…`.
    pub subject: Option<String>,
    pub target: Option<String>,
}

/// One finding in a diff.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub identity: Identity,
    pub severity: &'static str,
    pub waived: bool,
    pub message: String,
}

/// The findings of NEW against OLD.
#[derive(Debug, Clone, Serialize)]
pub struct RunDiff {
    pub added: Vec<Entry>,
    pub resolved: Vec<Entry>,
    pub unchanged: Vec<Entry>,
}

impl RunDiff {
    /// Whether NEW adds drift: an added finding that fails the check.
    pub fn adds_drift(&self) -> bool {
        self.added
            .iter()
            .any(|e| !e.waived && e.severity == "error")
    }
}

fn entries(report: &Report) -> BTreeMap<Identity, Entry> {
    let mut entries = BTreeMap::new();
    let mut add = |subject: Option<String>, finding: &Finding| {
        let identity = Identity {
            code: finding.code.to_string(),
            subject: subject.or_else(|| finding.file.clone()),
            target: finding.target.clone(),
        };
        entries.entry(identity.clone()).or_insert(Entry {
            identity,
            severity: finding.severity().as_str(),
            waived: finding.is_waived(),
            message: finding.message.clone(),
        });
    };
    for file in &report.files {
        for finding in file.targets.iter().flat_map(|t| &t.findings) {
            add(Some(file.path.clone()), finding);
        }
    }
    for command in &report.commands {
        let findings = command
            .findings
            .iter()
            .chain(command.targets.iter().flat_map(|t| &t.findings));
        for finding in findings {
            add(Some(command.key.label()), finding);
        }
    }
    for finding in &report.general {
        add(None, finding);
    }
    entries
}

/// Compares two runs' findings.
pub fn diff(old: &Report, new: &Report) -> RunDiff {
    let mut old = entries(old);
    let mut result = RunDiff {
        added: Vec::new(),
        resolved: Vec::new(),
        unchanged: Vec::new(),
    };
    for (identity, entry) in entries(new) {
        match old.remove(&identity) {
            Some(_) => result.unchanged.push(entry),
            None => result.added.push(entry),
        }
    }
    result.resolved = old.into_values().collect();
    result
}

fn describe(entry: &Entry) -> String {
    let mut text = entry.identity.code.clone();
    if let Some(subject) = &entry.identity.subject {
        let _ = write!(text, " {subject}");
    }
    if let Some(target) = &entry.identity.target {
        let _ = write!(text, " on {target}");
    }
    if entry.waived {
        text.push_str(" (waived)");
    }
    text
}

/// For people: one line per added and resolved finding, then the counts.
pub fn render_human(diff: &RunDiff) -> String {
    let mut out = String::new();
    for (mark, entries) in [("+", &diff.added), ("-", &diff.resolved)] {
        for entry in entries {
            let _ = writeln!(out, "{mark} {}: {}", describe(entry), entry.message);
        }
    }
    let _ = writeln!(
        out,
        "{}: {} added, {} resolved, {} unchanged",
        if diff.adds_drift() {
            "drift added"
        } else {
            "no new drift"
        },
        diff.added.len(),
        diff.resolved.len(),
        diff.unchanged.len()
    );
    out
}

/// For pull-request comments.
pub fn render_markdown(diff: &RunDiff) -> String {
    let mut out = String::from("## shipcheck: findings compared\n\n");
    let _ = writeln!(
        out,
        "**{} added**, **{} resolved**, {} unchanged\n",
        diff.added.len(),
        diff.resolved.len(),
        diff.unchanged.len()
    );
    for (title, entries) in [("Added", &diff.added), ("Resolved", &diff.resolved)] {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "### {title}\n\n| finding | subject | target |\n|---|---|---|"
        );
        for entry in entries {
            let cell = |s: &Option<String>| {
                s.as_deref()
                    .map_or_else(String::new, |s| format!("`{}`", s.replace('|', "\\|")))
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                entry.identity.code,
                cell(&entry.identity.subject),
                cell(&entry.identity.target)
            );
        }
        out.push('\n');
    }
    out
}

/// For machines.
pub fn render_json(diff: &RunDiff) -> String {
    let mut text = serde_json::to_string_pretty(&serde_json::json!({
        "adds_drift": diff.adds_drift(),
        "added": diff.added,
        "resolved": diff.resolved,
        "unchanged": diff.unchanged,
    }))
    .expect("the diff serialises");
    text.push('\n');
    text
}
