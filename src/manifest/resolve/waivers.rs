//! `waivers:`: accepted findings, each with a reason and an optional last
//! day; a waiver that could silence nothing (an unknown finding code, a
//! blank reason, a malformed date) is refused here.

use super::Resolver;
use crate::expect::{Attr, Waiver};
use crate::findings::{FindingCode, REGISTRY};
use crate::manifest::diagnostics::{Code, ManifestDiagnostic, did_you_mean};
use crate::manifest::document::pointer_display;
use crate::manifest::model::WaiverEntry;

impl Resolver<'_> {
    /// A waiver must name a finding code shipcheck reports, or it silences nothing.
    fn known_finding(&mut self, finding: Attr<String>, pointer: &str) -> Option<Attr<String>> {
        if finding.value.parse::<FindingCode>().is_ok() {
            return Some(finding);
        }
        let names = REGISTRY.iter().map(|info| info.name);
        let help = match did_you_mean(&finding.value, names) {
            Some(name) => format!("did you mean `{name}`?"),
            None => "`docs/findings.md` lists every finding code".to_owned(),
        };
        self.push(
            ManifestDiagnostic::new(
                Code::UnknownFinding,
                format!("`{}` is not a finding code", finding.value),
            )
            .label(self.index.value(pointer), "unknown finding")
            .help(help),
        );
        None
    }

    pub(super) fn waiver(&mut self, i: usize, entry: &WaiverEntry) -> Option<Waiver> {
        let at = |key: &str| format!("/waivers/{i}/{key}");
        let finding = self.string(&entry.finding, &at("finding"));
        let mut reason = self.string(&entry.reason, &at("reason"));
        if reason.as_ref().is_some_and(|r| r.value.trim().is_empty()) {
            reason = None;
            self.push(
                ManifestDiagnostic::new(
                    Code::WaiverWithoutReason,
                    format!(
                        "{} has a blank reason",
                        pointer_display(&format!("/waivers/{i}"))
                    ),
                )
                .label(self.index.value(&at("reason")), "blank")
                .help("say why the finding is accepted (a ticket, a person, a date)"),
            );
        }
        let finding = finding.and_then(|f| self.known_finding(f, &at("finding")));
        let instance = self.opt_string(entry.instance.as_ref(), &at("instance"));
        let file = self.opt_string(entry.file.as_ref(), &at("file"));
        let expires = match &entry.expires {
            Some(text) => {
                let attr = self.string(text, &at("expires"))?;
                match attr.value.trim().parse::<jiff::civil::Date>() {
                    Ok(date) => Some(date),
                    Err(err) => {
                        self.push(
                            ManifestDiagnostic::new(
                                Code::InvalidDate,
                                format!("`{}` is not a date ({err})", attr.value),
                            )
                            .label(self.index.value(&at("expires")), "not a date")
                            .help("write the last day the waiver applies as YYYY-MM-DD, for example 2026-12-31"),
                        );
                        return None;
                    }
                }
            }
            None => None,
        };
        Some(Waiver {
            origin: self.origin(&format!("/waivers/{i}")),
            finding: finding?.value,
            instance: instance.map(|a| a.value),
            file: file.map(|a| a.value),
            reason: reason?.value,
            expires,
        })
    }
}
