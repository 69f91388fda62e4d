//! The API actions, routed by (Action, Version), and what they share:
//! parameter reading, tag filters, region checks and the response quirks.
//!
//! Small answers are built as JSON values. Listings are serialised straight
//! from the records through typed views (`Wrapped`, `Tag`, each action's
//! item struct): a page of 2,500 per-instance results would otherwise be a
//! tree of 20,000 maps built, written and dropped for every request. Their
//! fields are declared in alphabetical order, the order serde_json's map
//! writes, so the bytes are the same either way.

mod describe_invocation_results;
mod describe_invocations;
mod describe_send_file_results;
mod eflo;
mod run_command;
mod send_file;

use std::collections::BTreeSet;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::errors::ApiError;
use super::server::Sim;
use super::state::{FileModeStyle, OverwriteStyle};
use crate::protocol::Provider;

/// An action's answer: the JSON body to send, `RequestId` included.
pub type Answer = Result<Vec<u8>, ApiError>;

/// The actions the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SendFile,
    RunCommand,
    DescribeSendFileResults,
    DescribeInvocationResults,
    DescribeInvocations,
    EfloDescribeSendFileResults,
    EfloSendFile,
}

impl Action {
    /// Looks an action up by name within a product.
    pub fn find(product: Provider, name: &str) -> Option<Self> {
        Some(match (product, name) {
            (Provider::Ecs, "SendFile") => Self::SendFile,
            (Provider::Ecs, "RunCommand") => Self::RunCommand,
            (Provider::Ecs, "DescribeSendFileResults") => Self::DescribeSendFileResults,
            (Provider::Ecs, "DescribeInvocationResults") => Self::DescribeInvocationResults,
            (Provider::Ecs, "DescribeInvocations") => Self::DescribeInvocations,
            (Provider::Eflo, "DescribeSendFileResults") => Self::EfloDescribeSendFileResults,
            (Provider::Eflo, "SendFile") => Self::EfloSendFile,
            _ => return None,
        })
    }

    /// Runs the action; `request_id` goes into the answer.
    pub fn run(self, sim: &Sim, params: &Params, request_id: &str) -> Answer {
        match self {
            Self::SendFile => send_file::ecs(sim, params, request_id),
            Self::RunCommand => run_command::run(sim, params, request_id),
            Self::DescribeSendFileResults => {
                describe_send_file_results::run(sim, params, request_id)
            }
            Self::DescribeInvocationResults => {
                describe_invocation_results::run(sim, params, request_id)
            }
            Self::DescribeInvocations => describe_invocations::run(sim, params, request_id),
            Self::EfloDescribeSendFileResults => {
                eflo::describe_send_file_results(sim, params, request_id)
            }
            Self::EfloSendFile => send_file::eflo(sim, params, request_id),
        }
    }
}

/// Names that belong to the protocol, not to an action's filters.
const COMMON: &[&str] = &[
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureType",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// The request's parameters (query and form body, percent-decoded).
#[derive(Debug, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that is present and not empty.
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get_nonempty(name)
            .ok_or_else(|| ApiError::missing_parameter(name))
    }

    /// `Name.1`, `Name.2`, … in index order.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.");
        let mut items: Vec<(u64, String)> = self
            .pairs
            .iter()
            .filter_map(|(k, v)| {
                let index = k.strip_prefix(&prefix)?.parse::<u64>().ok()?;
                Some((index, v.clone()))
            })
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// A boolean as SDKs send it: `true`/`false` in any case (TEA's Python
    /// sends `True`).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get_nonempty(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid_parameter(name)),
        }
    }

    /// The filters of a list request, canonical: what a NextToken is bound to.
    pub fn fingerprint(&self, action: &str) -> String {
        let mut pairs: Vec<&(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| {
                !COMMON.contains(&k.as_str())
                    && !matches!(
                        k.as_str(),
                        "NextToken" | "MaxResults" | "PageNumber" | "PageSize"
                    )
            })
            .collect();
        pairs.sort();
        let mut out = action.to_owned();
        for (k, v) in pairs {
            out.push('\n');
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out
    }

    /// `Tag.N.Key` / `Tag.N.Value` with the documented checks.
    pub fn tags(&self) -> Result<Vec<TagFilter>, ApiError> {
        let mut indices = BTreeSet::new();
        for (k, _) in &self.pairs {
            if let Some(rest) = k.strip_prefix("Tag.")
                && let Some((n, _)) = rest.split_once('.')
                && let Ok(n) = n.parse::<u64>()
            {
                indices.insert(n);
            }
        }
        if indices.iter().any(|n| *n == 0 || *n > 20) || indices.len() > 20 {
            return Err(ApiError::number_exceed_tags());
        }
        let mut tags: Vec<TagFilter> = Vec::new();
        for n in indices {
            let key = self.get(&format!("Tag.{n}.Key"));
            let value = self.get(&format!("Tag.{n}.Value"));
            let key = match key {
                Some(k) if !k.is_empty() => k,
                _ => return Err(ApiError::missing_tag_key()),
            };
            let bad_key = key.chars().count() > 64
                || key.starts_with("aliyun")
                || key.starts_with("acs:")
                || key.contains("http://")
                || key.contains("https://");
            if bad_key {
                return Err(ApiError::invalid_tag_key());
            }
            if let Some(v) = value
                && (v.chars().count() > 128 || v.contains("http://") || v.contains("https://"))
            {
                return Err(ApiError::invalid_tag_value());
            }
            if tags.iter().any(|t| t.key == key) {
                return Err(ApiError::duplicate_tag_key());
            }
            tags.push(TagFilter {
                key: key.to_owned(),
                value: value.map(str::to_owned),
            });
        }
        Ok(tags)
    }
}

/// One `Tag.N` of a request: a key, and a value when one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub value: Option<String>,
}

/// Whether a record's tags satisfy every filter.
pub fn tags_match(tags: &[(String, String)], filters: &[TagFilter]) -> bool {
    filters.iter().all(|f| {
        tags.iter()
            .any(|(k, v)| *k == f.key && f.value.as_ref().is_none_or(|want| want == v))
    })
}

/// `{"Name": [...]}`: how the API wraps every list.
#[derive(Debug)]
pub struct Wrapped<T> {
    pub name: &'static str,
    pub items: T,
}

impl<T: Serialize> Serialize for Wrapped<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.name, &self.items)?;
        map.end()
    }
}

/// One `Tags.Tag[]` entry.
#[derive(Debug, serde::Serialize)]
pub struct Tag<'a> {
    #[serde(rename = "TagKey")]
    pub key: &'a str,
    #[serde(rename = "TagValue")]
    pub value: &'a str,
}

/// `Tags: {Tag: [{TagKey, TagValue}]}`, absent when there are none.
pub fn tags_view(tags: &[(String, String)]) -> Option<Wrapped<Vec<Tag<'_>>>> {
    (!tags.is_empty()).then(|| Wrapped {
        name: "Tag",
        items: tags.iter().map(|(key, value)| Tag { key, value }).collect(),
    })
}

/// A small answer built as JSON values, with `RequestId` added.
pub fn reply(value: Value, request_id: &str) -> Vec<u8> {
    let mut answer = object(value);
    answer.insert("RequestId".to_owned(), Value::String(request_id.to_owned()));
    write(&answer)
}

/// The bytes of an answer.
pub fn write(answer: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(answer).expect("answers serialise")
}

/// The ECS `RegionId`: required, and one the cloud knows.
pub fn region<'p>(sim: &Sim, params: &'p Params) -> Result<&'p str, ApiError> {
    let region = params.required("RegionId")?;
    if sim.knows_region(region) {
        Ok(region)
    } else {
        Err(ApiError::region_not_found(region))
    }
}

/// `FileMode` as the state's presentation asks.
pub fn file_mode_json(mode: &str, style: FileModeStyle) -> Value {
    match style {
        FileModeStyle::String => Value::String(mode.to_owned()),
        FileModeStyle::Number => mode
            .parse::<u64>()
            .map_or_else(|_| Value::String(mode.to_owned()), Value::from),
    }
}

/// ECS `Overwrite` as the state's presentation asks.
pub fn overwrite_json(overwrite: bool, style: OverwriteStyle) -> Value {
    match style {
        OverwriteStyle::Boolean => Value::Bool(overwrite),
        OverwriteStyle::String => Value::String(overwrite.to_string()),
    }
}

/// `ContentEncoding`: Base64 (the default) or PlainText.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    PlainText,
}

impl Encoding {
    pub fn from_params(params: &Params, default: Self) -> Result<Self, ApiError> {
        match params.get_nonempty("ContentEncoding") {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("Base64") => Ok(Self::Base64),
            Some(v) if v.eq_ignore_ascii_case("PlainText") => Ok(Self::PlainText),
            Some(_) => Err(ApiError::invalid_parameter("ContentEncoding")),
        }
    }

    pub fn encode(self, text: &str) -> String {
        use base64::Engine as _;
        match self {
            Self::PlainText => text.to_owned(),
            Self::Base64 => base64::engine::general_purpose::STANDARD.encode(text),
        }
    }
}

/// Turns a `json!({...})` object into an answer.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("answers are JSON objects"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn lists_follow_their_index() {
        let p = params(&[
            ("InstanceId.2", "b"),
            ("InstanceId.1", "a"),
            ("InstanceId.10", "c"),
        ]);
        assert_eq!(p.list("InstanceId"), ["a", "b", "c"]);
    }

    #[test]
    fn tag_rules() {
        let code = |pairs: &[(&str, &str)]| params(pairs).tags().unwrap_err().code;
        assert_eq!(code(&[("Tag.1.Value", "x")]), "MissingParameter.TagKey");
        assert_eq!(code(&[("Tag.21.Key", "x")]), "NumberExceed.Tags");
        assert_eq!(code(&[("Tag.1.Key", "acs:x")]), "InvalidTagKey.Malformed");
        assert_eq!(
            code(&[("Tag.1.Key", "k"), ("Tag.1.Value", "https://x")]),
            "InvalidTagValue.Malformed"
        );
        assert_eq!(
            code(&[("Tag.1.Key", "k"), ("Tag.2.Key", "k")]),
            "Duplicate.TagKey"
        );
        let tags = params(&[("Tag.1.Key", "env"), ("Tag.1.Value", "prod")])
            .tags()
            .unwrap();
        assert!(tags_match(&[("env".into(), "prod".into())], &tags));
        assert!(!tags_match(&[("env".into(), "dev".into())], &tags));
    }

    #[test]
    fn quirky_spellings() {
        assert_eq!(file_mode_json("0644", FileModeStyle::Number), json!(644));
        assert_eq!(file_mode_json("777", FileModeStyle::String), json!("777"));
        assert_eq!(
            overwrite_json(false, OverwriteStyle::String),
            json!("false")
        );
    }
}
