//! How values are spelled on the command line: durations, `NAME=VALUE`
//! variables, and the names (with their help) of the library's enums.
//!
//! The library's enums stay free of clap; their `ValueEnum` spellings live
//! here, next to the rest of the command line. Each `match` is exhaustive,
//! so a new variant cannot be forgotten.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::cloud::Paging;
use crate::manifest::VarOverride;
use crate::protocol::sign::SignatureVersion;
use crate::report::ReportFormat;
use crate::schemas::SchemaKind;

/// Parses `90s`, `5m`, `1h30m`, `7d`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); try 30s, 5m or 2h"))
}

/// `--region`: a region id's shape (cn-hangzhou, ap-southeast-1), not a
/// list of known regions, so a new region works without an update.
pub fn parse_region(s: &str) -> Result<String, String> {
    crate::protocol::endpoint::check_region(s)
        .map(|()| s.to_owned())
        .map_err(|err| format!("{err}; region ids look like cn-hangzhou or ap-southeast-1"))
}

/// `--endpoint`: a URL (or bare host) that requests can go to, https or
/// loopback http, checked before anything else runs.
pub fn parse_endpoint(s: &str) -> Result<String, String> {
    crate::protocol::endpoint::parse_endpoint(s)
        .map(|_| s.trim().to_owned())
        .map_err(|err| format!("{err}\n\n  {}", err.help))
}

/// `--only GLOB`: checked when parsed, so a bad glob is a usage error.
pub fn parse_glob(text: &str) -> Result<String, String> {
    crate::narrow::compile(text)
        .map(|_| text.to_owned())
        .map_err(|err| err.to_string())
}

/// Parses `--var NAME=VALUE`, the way Terraform takes `-var`.
pub fn parse_var(s: &str) -> Result<VarOverride, String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(format!(
            "`{name}` is not a variable name (letters, digits, `_` and `-`)"
        ));
    }
    Ok(VarOverride::new(name, value))
}

/// Implements `ValueEnum` for a library enum: each variant, its name on the
/// command line and its help.
macro_rules! value_enum {
    ($ty:ty { $($variant:ident => $name:literal, $help:literal;)+ }) => {
        impl ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                &[$(<$ty>::$variant),+]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $(<$ty>::$variant => PossibleValue::new($name).help($help),)+
                })
            }
        }
    };
}

value_enum!(ReportFormat {
    Human => "human", "Diagnostics for people, labelled on the manifest";
    Json => "json", "Machine-readable, `schemas/report.v1.schema.json`";
    Junit => "junit", "JUnit XML, one test case per file and instance";
    Sarif => "sarif", "SARIF 2.1.0 for code-scanning dashboards";
    Markdown => "markdown", "A Markdown table per file, for PR comments and step summaries";
    Github => "github", "GitHub Actions workflow-command annotations";
});

value_enum!(SchemaKind {
    Manifest => "manifest", "The manifest (shipcheck.yaml)";
    Report => "report", "The JSON report (`--format json`)";
    SimState => "sim-state", "The simulator's state file";
    Snapshot => "snapshot", "A snapshot of a check's evidence (`check --save-snapshot`)";
});

value_enum!(SignatureVersion {
    V1 => "v1", "HMAC-SHA1 over the canonical query string (the docs call it \"V2 RPC\")";
    V3 => "v3", "ACS3-HMAC-SHA256 over a canonical request";
});

value_enum!(Paging {
    Token => "token", "`NextToken`/`MaxResults`, one page after another (the API's recommended style)";
    Pages => "pages", "`PageNumber`/`PageSize`: the first page gives `TotalCount`, the rest are fetched in parallel and the count is verified";
});

#[cfg(feature = "sim")]
value_enum!(crate::sim::Fault {
    None => "none", "Served normally";
    Throttle => "throttle", "HTTP 400 `Throttling.User` with `x-acs-retry-after`";
    InternalError => "internal-error", "HTTP 500 `InternalError.Dispatch`";
    Unavailable => "unavailable", "HTTP 503 `ServiceUnavailable`";
    Drop => "drop", "The connection is closed without a response";
    Truncate => "truncate", "The action runs, then the response body is cut short";
});

#[cfg(feature = "sim")]
value_enum!(crate::sim::HostileKind {
    EmptyWrapper => "empty-wrapper", "Later pages answer 200 with `{}`";
    EnvelopeWithoutMessage => "envelope-without-message", "Later pages answer 200 with a `Code` but no `Message`";
    MissingFields => "missing-fields", "Records lack `Content` (files) and `Output` (command runs)";
    LyingTotalCount => "lying-total-count", "Every page claims `TotalCount` 499,999";
    EndlessTokens => "endless-tokens", "Token mode: the first page again with a fresh `NextToken`, for ever";
    EmptyPages => "empty-pages", "Token mode: 5 empty pages with tokens after each page; page mode: later pages empty";
    ShiftingListing => "shifting-listing", "Offset tokens over a listing that loses a record at its head on every request";
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_parse() {
        let var = parse_var("env=prod=blue").unwrap();
        assert_eq!(
            (var.name.as_str(), var.value.as_str()),
            ("env", "prod=blue")
        );
        assert!(parse_var("novalue").is_err());
        assert!(parse_var("bad name=1").is_err());
    }

    #[test]
    fn regions_and_endpoints_are_checked_for_shape() {
        assert_eq!(parse_region("cn-wuhan-lr").unwrap(), "cn-wuhan-lr");
        for bad in [
            "CN-HANGZHOU",
            "cn_hangzhou",
            "cn-hangzhou.evil.com",
            "-x",
            "",
        ] {
            assert!(parse_region(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_endpoint(" http://127.0.0.1:8080 ").unwrap(),
            "http://127.0.0.1:8080"
        );
        let err = parse_endpoint("http://10.0.0.1:8080").unwrap_err();
        assert!(err.contains("plain http"), "{err}");
        assert!(parse_endpoint("not a url").is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!(
            parse_duration("1h30m").unwrap(),
            std::time::Duration::from_secs(5400)
        );
        assert!(parse_duration("soon").unwrap_err().contains("try 30s"));
    }
}
