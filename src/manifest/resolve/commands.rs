//! `commands:`: one [`CommandExpectation`] per entry: which command or
//! invocation, on which targets, with what status, exit code and output.

use super::Resolver;
use super::defaults::ResolvedDefaults;
use super::sets::InstanceSets;
use crate::expect::{Attr, CommandExpectation, CommandSelector, OutputMatch};
use crate::manifest::diagnostics::{Code, ManifestDiagnostic};
use crate::manifest::document::pointer_display;
use crate::manifest::model::{CommandEntry, OutputSpec};
use crate::protocol::Provider;

impl Resolver<'_> {
    pub(super) fn command(
        &mut self,
        i: usize,
        entry: &CommandEntry,
        provider: Provider,
        sets: &InstanceSets,
        defaults: &ResolvedDefaults,
    ) -> Option<CommandExpectation> {
        let at = |key: &str| format!("/commands/{i}/{key}");
        let entry_pointer = format!("/commands/{i}");
        if provider == Provider::Eflo {
            // Checking them would need eflo's DescribeInvocations, which
            // this version does not read; refusing beats a silent pass.
            self.push(
                ManifestDiagnostic::new(
                    Code::EfloCommand,
                    format!(
                        "{} is a command on eflo nodes, which shipcheck cannot check yet",
                        pointer_display(&entry_pointer)
                    ),
                )
                .label(self.entry_label(&entry_pointer), "not checked on eflo")
                .help("shipcheck checks eflo file deliveries only; remove the command, or move it to an ECS manifest"),
            );
            return None;
        }
        let mut ok = true;
        let selector = match (&entry.command_id, &entry.invoke_id) {
            (Some(id), None) => self.string(id, &at("command_id")).map(|a| {
                Attr::declared(
                    CommandSelector::CommandId(a.value),
                    a.origin.expect("declared"),
                )
            }),
            (None, Some(id)) => self.string(id, &at("invoke_id")).map(|a| {
                Attr::declared(
                    CommandSelector::InvokeId(a.value),
                    a.origin.expect("declared"),
                )
            }),
            (Some(_), Some(_)) => {
                self.push(
                    ManifestDiagnostic::new(
                        Code::CommandSelector,
                        format!("{} has both command_id and invoke_id", pointer_display(&entry_pointer)),
                    )
                    .label(self.index.head(&at("invoke_id")), "as well as `command_id`")
                    .help("keep one: `command_id` checks every run of the command, `invoke_id` one invocation"),
                );
                None
            }
            (None, None) => {
                self.push(
                    ManifestDiagnostic::new(
                        Code::CommandSelector,
                        format!("{} names no command_id or invoke_id", pointer_display(&entry_pointer)),
                    )
                    .label(self.entry_label(&entry_pointer), "which command?")
                    .help("add `command_id: c-…` (every run of a command) or `invoke_id: t-…` (one invocation)"),
                );
                None
            }
        };
        let targets = self.targets(
            &entry_pointer,
            entry.instances.as_ref(),
            entry.nodes.as_ref(),
            provider,
            sets,
        );
        ok &= targets.is_some();
        let exit_code = entry
            .exit_code
            .map(|code| Attr::declared(code, self.origin(&at("exit_code"))));
        let status = match entry.status {
            Some(status) => Attr::declared(status.as_str().to_owned(), self.origin(&at("status"))),
            None if entry.exit_code.is_some_and(|code| code != 0) => {
                Attr::builtin("Failed".to_owned())
            }
            None => Attr::builtin("Success".to_owned()),
        };
        let output = match &entry.output {
            Some(output) => {
                let matched = self.output(i, output);
                ok &= matched.is_some();
                matched
            }
            None => None,
        };
        let region = self.region(entry.region.as_ref(), &at("region"), defaults);
        let since = match &entry.since {
            Some(since) => {
                let since = self.since(since, &at("since"));
                ok &= since.is_some();
                since
            }
            None => defaults.since.clone(),
        };
        let task_tags = self.entry_task_tags(entry.task_tags.as_ref(), &at("task_tags"), defaults);
        ok &= task_tags.is_some();
        let task_tags = task_tags.unwrap_or_default();
        if !ok {
            return None;
        }
        Some(CommandExpectation {
            origin: self.origin(&entry_pointer),
            provider,
            region,
            selector: selector?,
            target_sources: targets.as_ref()?.sources.clone(),
            targets: targets?.ids,
            exit_code,
            status,
            output,
            since,
            task_tags,
        })
    }

    fn output(&mut self, i: usize, output: &OutputSpec) -> Option<Attr<OutputMatch>> {
        let at = |key: &str| format!("/commands/{i}/output/{key}");
        if let Some(text) = &output.equals {
            let a = self.string(text, &at("equals"))?;
            return Some(Attr::declared(OutputMatch::Equals(a.value), a.origin?));
        }
        if let Some(text) = &output.contains {
            let a = self.string(text, &at("contains"))?;
            return Some(Attr::declared(OutputMatch::Contains(a.value), a.origin?));
        }
        let text = output.regex.as_ref()?;
        let a = self.string(text, &at("regex"))?;
        let origin = a.origin?;
        match regex::Regex::new(&a.value) {
            Ok(regex) => Some(Attr::declared(OutputMatch::Regex(regex), origin)),
            Err(err) => {
                let detail = err.to_string();
                let reason = detail.lines().last().unwrap_or_default().trim();
                let reason = reason.strip_prefix("error: ").unwrap_or(reason).to_owned();
                self.push(
                    ManifestDiagnostic::new(
                        Code::InvalidRegex,
                        format!("the output regex does not compile: {reason}"),
                    )
                    .label(origin.span, "invalid regex")
                    .help(
                        "the syntax is Rust's `regex` crate; escape literal characters with `\\\\`",
                    ),
                );
                None
            }
        }
    }
}
