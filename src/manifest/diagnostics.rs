//! Manifest diagnostics: one registry of stable codes, one diagnostic type,
//! and the two ways they are printed (miette's graphical report for people,
//! a JSON array for machines).
//!
//! Every problem found anywhere in any manifest becomes one
//! [`ManifestDiagnostic`]; loading collects them all before failing, so a
//! user fixes a file in one pass instead of one error per run.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode};
use serde::Serialize;

use crate::expect::{Source, Span};
use crate::text::{count, excerpt};

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident => $code:literal,)*) => {
        /// A stable diagnostic code. Scripts match on these: never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }
        }
    };
}

codes! {
    /// The manifest file could not be read.
    ReadFailed => "manifest::read-failed",
    /// The text is not valid YAML.
    YamlSyntax => "manifest::yaml-syntax",
    /// The YAML exceeds a resource budget (aliases, nesting, values).
    TooComplex => "manifest::too-complex",
    /// The same key twice in one mapping.
    DuplicateKey => "manifest::duplicate-key",
    /// A mapping key that is a list or a mapping.
    ComplexKey => "manifest::complex-key",
    /// A key the manifest does not know.
    UnknownKey => "manifest::unknown-key",
    /// A key spelled the way the Cloud Assistant API spells it (`TargetDir`).
    ApiSpelling => "manifest::api-spelling",
    /// A required key is missing.
    MissingKey => "manifest::missing-key",
    /// A value of the wrong type (a string where a boolean belongs).
    WrongType => "manifest::wrong-type",
    /// A value outside the allowed set (`content_type: Text`).
    InvalidValue => "manifest::invalid-value",
    /// A string that must not be empty is empty.
    EmptyValue => "manifest::empty-value",
    /// `version` is not 1.
    UnsupportedVersion => "manifest::unsupported-version",
    /// Any other JSON Schema violation.
    Schema => "manifest::schema",
    /// `${...}` that is neither `${var.NAME}` nor `${env:NAME}`.
    BadReference => "manifest::bad-reference",
    /// `${var.NAME}` names no variable, or one with no value.
    UndefinedVariable => "manifest::undefined-variable",
    /// `${env:NAME}` names an unset environment variable.
    UnsetEnvVar => "manifest::unset-env-var",
    /// `${env:NAME}` names a credential variable or a secret-looking one.
    SecretEnvVar => "manifest::secret-env-var",
    /// `--var NAME=...` names a variable no manifest declares.
    UnknownVarOverride => "manifest::unknown-var-override",
    /// A target that is neither an instance set nor an instance/node id.
    UnknownInstanceSet => "manifest::unknown-instance-set",
    /// An instance set member that is not an instance/node id.
    InvalidTargetId => "manifest::invalid-target-id",
    /// An instance set with no source, two sources, or a query on eflo.
    InvalidInstanceSet => "manifest::invalid-instance-set",
    /// An instance set's `file:` is missing, outside the content root,
    /// unreadable, or JSON that is not a list of ids.
    InstanceSetFile => "manifest::instance-set-file",
    /// `instances:` in an eflo manifest, or `nodes:` in an ECS one.
    WrongTargetKey => "manifest::wrong-target-key",
    /// A file that names no instance or node.
    NoTargets => "manifest::no-targets",
    /// The same (name, target_dir) declared twice for one instance.
    DuplicateFile => "manifest::duplicate-file",
    /// A mode that is not an octal chmod mode.
    InvalidMode => "manifest::invalid-mode",
    /// A target_dir that is not absolute.
    RelativeTargetDir => "manifest::relative-target-dir",
    /// name or target_dir over SendFile's 255 characters.
    TooLong => "manifest::too-long",
    /// Content over SendFile's 32 KB (after Base64).
    ContentTooLarge => "manifest::content-too-large",
    /// More than one of content, content_file, sha256.
    ConflictingContent => "manifest::conflicting-content",
    /// content_file does not exist.
    ContentFileMissing => "manifest::content-file-missing",
    /// content_file exists but cannot be read, or is not a regular file.
    ContentFileUnreadable => "manifest::content-file-unreadable",
    /// content_file resolves outside the content root (`../`, absolute, symlink).
    ContentFileOutside => "manifest::content-file-outside",
    /// The entries expand to more (file, target) pairs than the budget.
    TooManyPairs => "manifest::too-many-pairs",
    /// `content_type: Base64` with content that is not Base64.
    InvalidBase64 => "manifest::invalid-base64",
    /// sha256 that is not 64 hex digits.
    InvalidSha256 => "manifest::invalid-sha256",
    /// A duration that does not parse (`max_age: 7 days`).
    InvalidDuration => "manifest::invalid-duration",
    /// `since:` that is neither an RFC 3339 time nor a duration.
    InvalidSince => "manifest::invalid-since",
    /// A date that does not parse (`expires: 2026-13-01`).
    InvalidDate => "manifest::invalid-date",
    /// A waiver with no reason, or a blank one.
    WaiverWithoutReason => "manifest::waiver-without-reason",
    /// An eflo file or command without invoke_id.
    EfloNeedsInvokeId => "manifest::eflo-needs-invoke-id",
    /// A command with neither or both of command_id and invoke_id.
    CommandSelector => "manifest::command-selector",
    /// `output: {regex: ...}` that does not compile.
    InvalidRegex => "manifest::invalid-regex",
    /// A waiver for a finding code that does not exist.
    UnknownFinding => "manifest::unknown-finding",
    /// A command in an eflo manifest: eflo has no DescribeInvocationResults.
    EfloCommand => "manifest::eflo-command",
    /// A region that is not a region id (`cn-hangzhou`, `ap-southeast-1`).
    InvalidRegion => "manifest::invalid-region",
    /// An entry with no region, and neither `--region` nor the environment names one.
    NoRegion => "manifest::no-region",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled span; the first label of a diagnostic is its primary one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One problem in one manifest (or on the command line, with no source).
#[derive(Debug, Clone)]
pub struct ManifestDiagnostic {
    pub code: Code,
    pub message: String,
    pub help: Option<String>,
    /// Index into [`ManifestErrors::sources`]; `None` for `--var` problems.
    pub source: Option<usize>,
    pub labels: Vec<Label>,
    source_code: Option<NamedSource<Arc<str>>>,
}

impl ManifestDiagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            help: None,
            source: None,
            labels: Vec::new(),
            source_code: None,
        }
    }

    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        self.help = help.or(self.help);
        self
    }

    pub fn severity(&self) -> Severity {
        Severity::Error
    }

    /// The primary label's span.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|label| label.span)
    }
}

impl fmt::Display for ManifestDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ManifestDiagnostic {}

impl Diagnostic for ManifestDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<Severity> {
        Some(ManifestDiagnostic::severity(self))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source_code
            .as_ref()
            .map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source_code.as_ref()?;
        let labels = self.labels.iter().enumerate().map(|(i, label)| {
            let text = (!label.text.is_empty()).then(|| label.text.clone());
            if i == 0 {
                LabeledSpan::new_primary_with_span(text, label.span)
            } else {
                LabeledSpan::new_with_span(text, label.span)
            }
        });
        Some(Box::new(labels))
    }
}

/// Collects the diagnostics of one manifest, stamping each with its source.
#[derive(Debug, Default)]
pub struct Sink {
    source: Option<usize>,
    pub diagnostics: Vec<ManifestDiagnostic>,
}

impl Sink {
    pub fn for_source(source: usize) -> Self {
        Self {
            source: Some(source),
            diagnostics: Vec::new(),
        }
    }

    /// The manifest these diagnostics are about.
    pub fn source(&self) -> Option<usize> {
        self.source
    }

    pub fn push(&mut self, mut diagnostic: ManifestDiagnostic) {
        diagnostic.source = self.source;
        self.diagnostics.push(diagnostic);
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }
}

/// Every problem of every manifest loaded together.
#[derive(Debug)]
pub struct ManifestErrors {
    pub sources: Vec<Source>,
    pub diagnostics: Vec<ManifestDiagnostic>,
}

/// The longest message or help shown, in characters: values quoted in a
/// message come from the manifest and may be megabytes long.
const MAX_MESSAGE_CHARS: usize = 400;
/// The most source text a snippet may show; past it, a diagnostic quotes
/// an excerpt around its place instead of whole lines.
const MAX_SNIPPET_BYTES: usize = 2_000;
/// Characters either side of the place in such an excerpt.
const EXCERPT_CONTEXT: usize = 60;

impl ManifestErrors {
    pub(crate) fn new(sources: Vec<Source>, mut diagnostics: Vec<ManifestDiagnostic>) -> Self {
        // Report in reading order: by file, then by position.
        diagnostics.sort_by_key(|d| (d.source, d.primary_span().map(|s| s.start)));
        for diagnostic in &mut diagnostics {
            diagnostic.message = excerpt(&diagnostic.message, MAX_MESSAGE_CHARS).into_owned();
            diagnostic.help = diagnostic
                .help
                .as_deref()
                .map(|help| excerpt(help, MAX_MESSAGE_CHARS).into_owned());
            for label in &mut diagnostic.labels {
                label.text = excerpt(&label.text, MAX_MESSAGE_CHARS).into_owned();
            }
            let Some(source) = diagnostic.source.and_then(|i| sources.get(i)) else {
                continue;
            };
            if snippet_len(&source.text, &diagnostic.labels) <= MAX_SNIPPET_BYTES {
                diagnostic.source_code = Some(source.named_source());
            } else if let Some(span) = diagnostic.primary_span() {
                // A 5 MB line would be shown whole: quote around the place.
                let (line, column) = source.line_col(span.start);
                let near = around(&source.text, span.start);
                let help = diagnostic.help.take().unwrap_or_default();
                diagnostic.help = Some(format!(
                    "{help}\n(at {}:{line}:{column}, near `{near}`; the line is too long to show)",
                    source.name()
                ));
            }
        }
        Self {
            sources,
            diagnostics,
        }
    }

    pub fn len(&self) -> usize {
        self.diagnostics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// Graphical diagnostics for a terminal, each followed by a blank line.
    pub fn render_human(&self, color: bool) -> String {
        // Messages quote manifest values, and the snippets show the
        // manifest: nothing in them may act on the terminal.
        crate::text::inert_render(color, |color| self.render_with(color))
    }

    fn render_with(&self, color: bool) -> String {
        let theme = if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
        let mut out = String::new();
        for diagnostic in &self.diagnostics {
            // Writing to a String cannot fail.
            let _ = handler.render_report(&mut out, diagnostic);
            out.push('\n');
        }
        let files = self
            .diagnostics
            .iter()
            .filter_map(|d| d.source)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        out.push_str(&format!(
            "{} in {}\n",
            count(self.diagnostics.len(), "problem"),
            count(files.max(1), "manifest")
        ));
        out
    }

    /// The diagnostics as the `--format json` records.
    pub fn to_records(&self) -> Vec<DiagnosticRecord> {
        self.diagnostics
            .iter()
            .map(|diagnostic| {
                let source = diagnostic.source.and_then(|i| self.sources.get(i));
                let position = source
                    .zip(diagnostic.primary_span())
                    .map(|(source, span)| source.line_col(span.start));
                DiagnosticRecord {
                    code: diagnostic.code.as_str(),
                    severity: match diagnostic.severity() {
                        Severity::Advice => "advice",
                        Severity::Warning => "warning",
                        Severity::Error => "error",
                    },
                    message: diagnostic.message.clone(),
                    file: source.map(Source::name),
                    line: position.map(|(line, _)| line),
                    column: position.map(|(_, column)| column),
                    help: diagnostic.help.clone(),
                }
            })
            .collect()
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in the manifest", count(self.len(), "problem"))
    }
}

impl std::error::Error for ManifestErrors {}

impl Diagnostic for ManifestErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("manifest::invalid"))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(
            self.diagnostics.iter().map(|d| d as &dyn Diagnostic),
        ))
    }
}

/// How many bytes of source the lines under `labels` span.
fn snippet_len(text: &str, labels: &[Label]) -> usize {
    let start = labels.iter().map(|l| l.span.start).min().unwrap_or(0);
    let end = labels.iter().map(|l| l.span.end).max().unwrap_or(0);
    let start = text
        .get(..start.min(text.len()))
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |i| i + 1);
    let end = text
        .get(end.min(text.len())..)
        .and_then(|after| after.find('\n'))
        .map_or(text.len(), |i| end + i);
    end.saturating_sub(start)
}

/// Up to [`EXCERPT_CONTEXT`] characters either side of `offset`, on its line.
fn around(text: &str, offset: usize) -> String {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let (before, after) = text.split_at(offset);
    let before = before.rsplit('\n').next().unwrap_or_default();
    let after = after.split('\n').next().unwrap_or_default();
    let skip = before.chars().count().saturating_sub(EXCERPT_CONTEXT);
    let head: String = before.chars().skip(skip).collect();
    let tail: String = after.chars().take(EXCERPT_CONTEXT).collect();
    format!(
        "{}{head}{tail}{}",
        if skip > 0 { "…" } else { "" },
        if after.chars().count() > EXCERPT_CONTEXT {
            "…"
        } else {
            ""
        }
    )
}

/// One diagnostic in `shipcheck validate --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiagnosticRecord {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub file: Option<String>,
    /// 1-based; `None` when the problem has no place in a file.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    pub help: Option<String>,
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let folded = fold(word);
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let other = fold(candidate);
            // Edit distance catches short typos (`dri`), Jaro-Winkler
            // longer ones that share a prefix (`instance` → `instances`).
            let distance = strsim::osa_distance(&folded, &other);
            let similarity = strsim::jaro_winkler(&folded, &other);
            let close = distance <= (folded.chars().count() / 3).max(1) || similarity >= 0.85;
            close.then_some((distance, -similarity, candidate))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map(|(_, _, candidate)| candidate)
}

/// Case- and separator-insensitive form: `TargetDir`, `target-dir` and
/// `target_dir` all fold to `targetdir`.
fn fold(word: &str) -> String {
    word.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_namespaced() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "duplicate diagnostic code {name}");
            let rest = name
                .strip_prefix("manifest::")
                .unwrap_or_else(|| panic!("{name} is not in the manifest:: namespace"));
            assert!(
                !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{name} is not kebab-case"
            );
        }
        assert_eq!(seen.len(), Code::ALL.len());
    }

    #[test]
    fn did_you_mean_finds_typos_and_spellings() {
        let keys = ["name", "target_dir", "mode", "owner"];
        assert_eq!(did_you_mean("TargetDir", keys), Some("target_dir"));
        assert_eq!(did_you_mean("target-dir", keys), Some("target_dir"));
        assert_eq!(did_you_mean("onwer", keys), Some("owner"));
        assert_eq!(did_you_mean("colour", keys), None);
        assert_eq!(did_you_mean("dri", ["dir", "app"]), Some("dir"));
        assert_eq!(did_you_mean("x", ["dir", "app"]), None);
    }
}
