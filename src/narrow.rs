//! Narrowing: `--only GLOB` and `--instance ID` check part of a manifest.
//!
//! A narrowed check must never read as a full one, and a narrowing that
//! selects nothing must never read as a pass: every glob and every instance
//! has to match something declared, or the check is refused as invalid
//! input (a typo in `--only` would otherwise be a silent green). The report
//! carries the [`Narrowing`] so every format says what was left out.
//!
//! `--only` selects declared files by their full path (`target_dir/name`);
//! commands are not files, so a check narrowed by `--only` checks no
//! commands. `--instance` keeps only those targets of each entry; an entry
//! left with none (or a command that names no instance) is not checked.
//! Globs follow `globset`: `*` stays within one directory, `**` crosses them.

use globset::{GlobBuilder, GlobMatcher};

use crate::expect::{Expectations, TargetRef};

/// What `--only` and `--instance` asked for; empty when the check is whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// Globs over declared file paths (`--only`).
    pub only: Vec<String>,
    /// Instance (or node) ids (`--instance`).
    pub instances: Vec<String>,
}

/// Why a narrowing cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NarrowError {
    #[error("`--only {glob}` is not a valid glob: {reason}")]
    BadGlob { glob: String, reason: String },
    #[error("`--only {0}` matches no declared file")]
    NoFile(String),
    #[error("`--instance {0}` is not a target of any declared entry")]
    NoInstance(String),
    #[error("the narrowing leaves nothing to check")]
    Empty,
}

/// One `--only` glob, checked and compiled: a file path is matched whole,
/// and `*` does not cross `/`.
pub fn compile(glob: &str) -> Result<GlobMatcher, NarrowError> {
    GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|err| NarrowError::BadGlob {
            glob: glob.to_owned(),
            reason: err.kind().to_string(),
        })
}

impl Narrowing {
    pub fn is_empty(&self) -> bool {
        self.only.is_empty() && self.instances.is_empty()
    }

    /// Drops from `expectations` what the narrowing leaves out; refuses a
    /// glob or an instance that matches nothing declared.
    pub fn apply(&self, expectations: &mut Expectations) -> Result<(), NarrowError> {
        if self.is_empty() {
            return Ok(());
        }
        let globs = self
            .only
            .iter()
            .map(|glob| compile(glob))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(unmatched) = self.only.iter().zip(&globs).find_map(|(text, glob)| {
            let matched = expectations.files.iter().any(|f| glob.is_match(f.path()));
            (!matched).then_some(text)
        }) {
            return Err(NarrowError::NoFile(unmatched.clone()));
        }
        let all_targets = || {
            let files = expectations.files.iter().flat_map(|f| &f.targets);
            files.chain(expectations.commands.iter().flat_map(|c| &c.targets))
        };
        if let Some(unmatched) = self
            .instances
            .iter()
            .find(|id| !all_targets().any(|t| t.id == **id))
        {
            return Err(NarrowError::NoInstance(unmatched.clone()));
        }

        if !globs.is_empty() {
            let path_matches = |path: String| globs.iter().any(|g| g.is_match(&path));
            expectations.files.retain(|f| path_matches(f.path()));
            expectations.commands.clear();
        }
        if !self.instances.is_empty() {
            let keep = |targets: &mut Vec<TargetRef>| {
                targets.retain(|t| self.instances.iter().any(|id| *id == t.id));
                !targets.is_empty()
            };
            expectations.files.retain_mut(|f| keep(&mut f.targets));
            expectations.commands.retain_mut(|c| keep(&mut c.targets));
        }
        if expectations.files.is_empty() && expectations.commands.is_empty() {
            return Err(NarrowError::Empty);
        }
        Ok(())
    }

    /// One line for the human and Markdown reports.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.only.is_empty() {
            parts.push(format!(
                "only files matching {} (no commands)",
                self.only.join(", ")
            ));
        }
        if !self.instances.is_empty() {
            parts.push(format!("only on {}", self.instances.join(", ")));
        }
        format!(
            "narrowed: {}; the rest of the manifest was not checked",
            parts.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::testkit::{command, expectations, file};
    use crate::expect::CommandSelector;

    fn fleet() -> Expectations {
        let text = "files:\n  - name: a.conf\n    target_dir: /etc/app\n    instances: [i-1, i-2]\n  - name: b.conf\n    target_dir: /etc/app/sub\n    instances: [i-2]\ncommands:\n  - command_id: c-1\n    instances: [i-1]\n";
        let mut exp = expectations(text);
        let a = file(&exp, "a.conf", "/etc/app", &["i-1", "i-2"]);
        let b = file(&exp, "b.conf", "/etc/app/sub", &["i-2"]);
        let c = command(
            &exp,
            "- command_id: c-1",
            CommandSelector::CommandId("c-1".into()),
            &["i-1"],
        );
        exp.files = vec![a, b];
        exp.commands = vec![c];
        exp
    }

    fn narrowing(only: &[&str], instances: &[&str]) -> Narrowing {
        Narrowing {
            only: only.iter().map(|s| (*s).to_owned()).collect(),
            instances: instances.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn only_keeps_matching_files_and_drops_commands() {
        let mut exp = fleet();
        narrowing(&["/etc/app/*"], &[]).apply(&mut exp).unwrap();
        let paths: Vec<_> = exp.files.iter().map(|f| f.path()).collect();
        assert_eq!(paths, ["/etc/app/a.conf"], "`*` stays in one directory");
        assert!(exp.commands.is_empty());

        let mut exp = fleet();
        narrowing(&["/etc/**"], &[]).apply(&mut exp).unwrap();
        assert_eq!(exp.files.len(), 2);
    }

    #[test]
    fn instance_keeps_its_targets_and_entries() {
        let mut exp = fleet();
        narrowing(&[], &["i-1"]).apply(&mut exp).unwrap();
        assert_eq!(exp.files.len(), 1);
        assert_eq!(exp.files[0].targets.len(), 1);
        assert_eq!(exp.commands.len(), 1);
    }

    #[test]
    fn a_narrowing_that_matches_nothing_is_refused() {
        let cases = [
            (
                narrowing(&["/nowhere/*"], &[]),
                NarrowError::NoFile("/nowhere/*".into()),
            ),
            (
                narrowing(&[], &["i-9"]),
                NarrowError::NoInstance("i-9".into()),
            ),
            (narrowing(&["/etc/app/sub/*"], &["i-1"]), NarrowError::Empty),
        ];
        for (narrowing, expected) in cases {
            assert_eq!(narrowing.apply(&mut fleet()), Err(expected));
        }
        assert!(matches!(
            narrowing(&["/etc/[app"], &[]).apply(&mut fleet()),
            Err(NarrowError::BadGlob { .. })
        ));
    }

    #[test]
    fn no_narrowing_changes_nothing() {
        let mut exp = fleet();
        Narrowing::default().apply(&mut exp).unwrap();
        assert_eq!((exp.files.len(), exp.commands.len()), (2, 1));
    }
}
