//! Variables: `${var.NAME}` from `vars:` defaults and `--var NAME=VALUE`,
//! `${env:NAME}` from the environment, `$${` for a literal `${`.
//!
//! References are expanded in string values only, after schema validation
//! and before the formats (modes, paths, durations) are checked, so a
//! variable can hold any part of a value. A reference that cannot be
//! expanded is a diagnostic on the reference itself, not on the whole value.
//!
//! A manifest can come from a pull request, and the job that checks it holds
//! cloud credentials: `${env:NAME}` therefore refuses every variable of the
//! credential chain, in every spelling the client reads, and every name that
//! looks like a secret ([`env_name_refusal`]). An operator may allow more
//! names (`--allow-env`), never the credential chain's own.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::diagnostics::{Code, ManifestDiagnostic, Sink, did_you_mean};
use super::document::{SpanIndex, pointer_push};
use crate::cloud::credentials::credential_env_vars;
use crate::expect::Span;

/// Words that mark a variable as a secret (compared case-insensitively).
pub const SECRET_NAME_WORDS: &[&str] = &[
    "SECRET",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "PRIVATE",
    "CREDENTIAL",
    "ACCESS_KEY",
];

/// Why a manifest may not read the environment variable `name`, if it may
/// not: it belongs to the credential chain (never allowed), or its name
/// looks like a secret and `allowed` does not name it.
pub fn env_name_refusal(name: &str, allowed: &[String]) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    // Every spelling the credential chain reads: a manifest can never read
    // these, whatever `--allow-env` says.
    if credential_env_vars().any(|var| var == upper) {
        return Some("it belongs to the cloud credential chain");
    }
    let secret_like = SECRET_NAME_WORDS.iter().any(|word| upper.contains(word));
    if secret_like && !allowed.iter().any(|a| a == name) {
        return Some("its name looks like a secret");
    }
    None
}

/// A variable set from outside the manifest (`--var NAME=VALUE`), which
/// wins over the manifest's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarOverride {
    pub name: String,
    pub value: String,
}

impl VarOverride {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// The variables of one manifest, after `--var` overrides.
#[derive(Debug, Default)]
pub struct Vars {
    /// `None`: declared without a default and not given with `--var`.
    values: BTreeMap<String, Option<String>>,
    /// Variables whose default failed to expand (already reported).
    failed: Vec<String>,
}

impl Vars {
    /// `vars:` defaults, overridden by the `--var`s this manifest declares.
    pub fn new(defaults: &BTreeMap<String, Json>, overrides: &[VarOverride]) -> Self {
        let mut values: BTreeMap<String, Option<String>> = defaults
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Json::Null => None,
                    Json::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                };
                (name.clone(), value)
            })
            .collect();
        for var in overrides {
            if let Some(slot) = values.get_mut(&var.name) {
                *slot = Some(var.value.clone());
            }
        }
        Self {
            values,
            failed: Vec::new(),
        }
    }

    /// Like [`Vars::new`], with each default expanded by `expander` (whose
    /// own variables are not consulted: a default cannot use another
    /// variable). A default that fails to expand is reported and has no
    /// value.
    pub fn with_expanded_defaults(
        defaults: &BTreeMap<String, Json>,
        overrides: &[VarOverride],
        expander: &Expander,
        index: &SpanIndex,
        sink: &mut Sink,
    ) -> Self {
        let mut vars = Self::new(defaults, overrides);
        for (name, value) in &mut vars.values {
            let overridden = overrides.iter().any(|o| &o.name == name);
            let Some(text) = value.as_ref().filter(|_| !overridden) else {
                continue;
            };
            if !text.contains('$') {
                continue;
            }
            let span = index.value(&pointer_push("/vars", name));
            if text.contains("${var.") {
                sink.push(
                    ManifestDiagnostic::new(
                        Code::BadReference,
                        format!("the default of `{name}` uses another variable"),
                    )
                    .label(span, "a default cannot use `${var.…}`")
                    .help("write the value out, or pass it with `--var`"),
                );
                *value = None;
                continue;
            }
            let expanded = expander.expand(text, span, sink);
            // A failed default is reported above; uses of it then report
            // "no value" rather than expanding the raw text.
            *value = expanded;
            if value.is_none() {
                vars.failed.push(name.clone());
            }
        }
        vars
    }

    pub fn is_declared(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

/// Expands references in the strings of one manifest.
pub struct Expander<'a> {
    pub vars: Vars,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Secret-looking environment variables the operator allowed.
    pub allow_env: &'a [String],
    /// The manifest text, to place a reference inside its scalar.
    pub text: &'a str,
}

impl Expander<'_> {
    /// Expands every reference in `value`, whose scalar is at `span`.
    /// Returns `None` (after reporting why) if any reference fails.
    pub fn expand(&self, value: &str, span: Span, sink: &mut Sink) -> Option<String> {
        if !value.contains('$') {
            return Some(value.to_owned());
        }
        let mut out = String::with_capacity(value.len());
        let mut ok = true;
        let mut rest = value;
        // Where to search the raw YAML for the next reference.
        let mut cursor = span.start;
        while let Some(dollar) = rest.find('$') {
            out.push_str(&rest[..dollar]);
            rest = &rest[dollar..];
            if let Some(after) = rest.strip_prefix("$${") {
                out.push_str("${");
                rest = after;
                continue;
            }
            if !rest.starts_with("${") {
                out.push('$');
                rest = &rest[1..];
                continue;
            }
            let Some(close) = rest.find('}') else {
                let reference_span = self.locate(rest, span, &mut cursor);
                sink.push(
                    ManifestDiagnostic::new(Code::BadReference, "`${` is never closed")
                        .label(reference_span, "unterminated reference")
                        .help("close it with `}`, or write `$${` for a literal `${`"),
                );
                return None;
            };
            let reference = &rest[..=close];
            rest = &rest[close + 1..];
            let reference_span = self.locate(reference, span, &mut cursor);
            match self.lookup(&reference[2..close], reference, reference_span) {
                Ok(text) => out.push_str(&text),
                Err(diagnostic) => {
                    sink.push(*diagnostic);
                    ok = false;
                }
            }
        }
        out.push_str(rest);
        ok.then_some(out)
    }

    fn lookup(
        &self,
        inner: &str,
        reference: &str,
        span: Span,
    ) -> Result<String, Box<ManifestDiagnostic>> {
        let bad_name = |name: &str| {
            name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if let Some(name) = inner.strip_prefix("var.").filter(|n| !bad_name(n)) {
            return match self.vars.values.get(name) {
                Some(Some(value)) => Ok(value.clone()),
                Some(None) if self.vars.failed.iter().any(|f| f == name) => Err(Box::new(
                    ManifestDiagnostic::new(
                        Code::UndefinedVariable,
                        format!("variable `{name}` has no value: its default was refused"),
                    )
                    .label(span, "its default failed")
                    .help(format!("fix the default of `{name}` under `vars:`")),
                )),
                Some(None) => Err(Box::new(
                    ManifestDiagnostic::new(
                        Code::UndefinedVariable,
                        format!("variable `{name}` has no value"),
                    )
                    .label(span, "no default and no --var")
                    .help(format!(
                        "pass `--var {name}=VALUE`, or give it a default under `vars:`"
                    )),
                )),
                None => {
                    let help = match did_you_mean(name, self.vars.values.keys().map(String::as_str))
                    {
                        Some(suggestion) => format!("did you mean `${{var.{suggestion}}}`?"),
                        None => format!("declare it under `vars:` (for example `{name}: default`)"),
                    };
                    Err(Box::new(
                        ManifestDiagnostic::new(
                            Code::UndefinedVariable,
                            format!("`{reference}` names a variable that is not declared"),
                        )
                        .label(span, "undefined variable")
                        .help(help),
                    ))
                }
            };
        }
        if let Some(name) = inner.strip_prefix("env:").filter(|n| !bad_name(n)) {
            if let Some(why) = env_name_refusal(name, self.allow_env) {
                // The value is never read, so it cannot be quoted.
                let help = if why.contains("credential") {
                    "a manifest may not read cloud credentials; nothing can allow it".to_owned()
                } else {
                    format!(
                        "names containing {} are refused; if `{name}` is not a secret, \
                         pass `--allow-env {name}` (or list it in SHIPCHECK_ALLOW_ENV)",
                        SECRET_NAME_WORDS.join(", ")
                    )
                };
                return Err(Box::new(
                    ManifestDiagnostic::new(
                        Code::SecretEnvVar,
                        format!("a manifest may not read `{name}`: {why}"),
                    )
                    .label(span, "refused")
                    .help(help),
                ));
            }
            return (self.env)(name).ok_or_else(|| {
                Box::new(
                    ManifestDiagnostic::new(
                        Code::UnsetEnvVar,
                        format!("environment variable `{name}` is not set"),
                    )
                    .label(span, "not in the environment")
                    .help(format!(
                        "export {name} before running shipcheck, or use a variable with a default"
                    )),
                )
            });
        }
        let help = if self.vars.is_declared(inner) {
            format!("did you mean `${{var.{inner}}}`?")
        } else {
            "write `${var.NAME}` or `${env:NAME}`, or `$${` for a literal `${`".to_owned()
        };
        Err(Box::new(
            ManifestDiagnostic::new(
                Code::BadReference,
                format!("`{reference}` is not a reference shipcheck understands"),
            )
            .label(span, "not ${var.NAME} or ${env:NAME}")
            .help(help),
        ))
    }

    /// The span of `needle` inside the scalar at `span`, searching from
    /// `cursor`; the whole scalar when the raw text differs (escapes,
    /// folded lines).
    fn locate(&self, needle: &str, span: Span, cursor: &mut usize) -> Span {
        let raw = self.text.get(*cursor..span.end).unwrap_or_default();
        match raw.find(needle) {
            Some(i) => {
                let start = *cursor + i;
                *cursor = start + needle.len();
                Span::new(start, start + needle.len())
            }
            None => span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expander<'a>(text: &'a str, env: &'a dyn Fn(&str) -> Option<String>) -> Expander<'a> {
        let defaults: BTreeMap<String, Json> = serde_json::from_str(
            r#"{"app": "shop", "port": 8080, "env": null, "region": "cn-hangzhou"}"#,
        )
        .unwrap();
        let overrides = vec![VarOverride::new("region", "cn-shanghai")];
        Expander {
            vars: Vars::new(&defaults, &overrides),
            env,
            allow_env: &[],
            text,
        }
    }

    #[test]
    fn expands_vars_env_and_escapes() {
        let env = |name: &str| (name == "HOME").then(|| "/root".to_owned());
        let text = "x: ${env:HOME}/${var.app}:${var.port} $${var.app} in ${var.region} $5";
        let e = expander(text, &env);
        let mut sink = Sink::for_source(0);
        let value = &text[3..];
        let out = e.expand(value, Span::new(3, text.len()), &mut sink);
        assert!(sink.is_empty(), "{:?}", sink.diagnostics);
        assert_eq!(
            out.as_deref(),
            Some("/root/shop:8080 ${var.app} in cn-shanghai $5")
        );
    }

    #[test]
    fn failures_point_at_the_reference() {
        let env = |_: &str| None;
        let text = "x: a-${var.ap}-${var.env}-${env:NOPE}-${foo}";
        let e = expander(text, &env);
        let mut sink = Sink::for_source(0);
        let out = e.expand(&text[3..], Span::new(3, text.len()), &mut sink);
        assert_eq!(out, None);
        let codes: Vec<_> = sink.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                Code::UndefinedVariable,
                Code::UndefinedVariable,
                Code::UnsetEnvVar,
                Code::BadReference
            ]
        );
        let first = sink.diagnostics[0].labels[0].span;
        assert_eq!(&text[first.start..first.end], "${var.ap}");
        assert_eq!(
            sink.diagnostics[0].help.as_deref(),
            Some("did you mean `${var.app}`?")
        );
        let last = sink.diagnostics[3].labels[0].span;
        assert_eq!(&text[last.start..last.end], "${foo}");
    }

    #[test]
    fn credential_and_secret_looking_names_are_refused_unread() {
        let env = |name: &str| panic!("{name} must not be read");
        let e = expander("", &env);
        let mut sink = Sink::for_source(0);
        for name in [
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "alicloud_secret_key",
            "GH_TOKEN",
            "db_password",
        ] {
            let value = format!("${{env:{name}}}");
            assert_eq!(e.expand(&value, Span::new(0, 0), &mut sink), None);
        }
        assert!(
            sink.diagnostics
                .iter()
                .all(|d| d.code == Code::SecretEnvVar)
        );
        assert_eq!(env_name_refusal("APP_DIR", &[]), None);
        let allowed = vec!["GH_TOKEN".to_owned(), "ALICLOUD_ACCESS_KEY".to_owned()];
        assert_eq!(env_name_refusal("GH_TOKEN", &allowed), None);
        assert!(env_name_refusal("ALICLOUD_ACCESS_KEY", &allowed).is_some());
    }

    #[test]
    fn unterminated_reference_is_reported() {
        let env = |_: &str| None;
        let text = "x: ${var.app";
        let mut sink = Sink::for_source(0);
        assert_eq!(
            expander(text, &env).expand(&text[3..], Span::new(3, text.len()), &mut sink),
            None
        );
        assert_eq!(sink.diagnostics[0].code, Code::BadReference);
    }
}
