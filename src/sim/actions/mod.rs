//! The API actions, routed by (Action, Version), and what they share:
//! paging, target limits, tag filters, region checks and the response quirks.
//!
//! Small answers are built as JSON values. Listings are serialised straight
//! from the records through typed views (`Wrapped`, `Tag`, each action's
//! item struct): a page of 2,500 per-instance results would otherwise be a
//! tree of 20,000 maps built, written and dropped for every request. Their
//! fields are declared in alphabetical order, the order serde_json's map
//! writes, so the bytes are the same either way.

mod describe_instances;
mod describe_invocation_results;
mod describe_invocations;
mod describe_send_file_results;
mod eflo;
mod run_command;
mod send_file;

use axum::http::StatusCode;
use jiff::Timestamp;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::context::Sim;
use super::errors::ApiError;
use super::hostile;
use super::listing::{Listing, SortKey};
use super::paging::{self, Page, PageRequest};
use super::params::{Params, TagFilter};
use super::state::{FileModeStyle, OverwriteStyle};
use super::tables::Candidates;
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
    DescribeInstances,
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
            (Provider::Ecs, "DescribeInstances") => Self::DescribeInstances,
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
            Self::DescribeInstances => describe_instances::run(sim, params, request_id),
            Self::EfloDescribeSendFileResults => {
                eflo::describe_send_file_results(sim, params, request_id)
            }
            Self::EfloSendFile => send_file::eflo(sim, params, request_id),
        }
    }
}

/// A listing request's paging: the query its NextTokens are bound to, and
/// the page it asks for.
#[derive(Debug)]
pub struct Paging {
    fingerprint: String,
    request: PageRequest,
    /// A `shifting-listing` token's offset (see `hostile`).
    offset: Option<u64>,
}

impl Paging {
    /// Reads the paging parameters of `action` (`ecs/DescribeInvocations`);
    /// `page_error_status` is the status its document gives bad
    /// PageNumber/PageSize values.
    pub fn read(
        sim: &Sim,
        params: &Params,
        action: &str,
        page_error_status: StatusCode,
    ) -> Result<Self, ApiError> {
        let fingerprint = params.fingerprint(action);
        let request = paging::parse(params, &sim.tokens(), &fingerprint, page_error_status)?;
        let offset = match params.get_nonempty(hostile::OFFSET_PARAM) {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| ApiError::invalid_next_token())?),
        };
        Ok(Self {
            fingerprint,
            request,
            offset,
        })
    }

    /// Cuts the page out of the candidates still visible at `cutoff`. They
    /// are taken as they are when the index answered the whole query
    /// (`exact`, and `indexed_only`: no filter the index cannot answer), and
    /// tested by `matches` otherwise; `item` fetches what a key names.
    pub fn page<T>(
        &self,
        sim: &Sim,
        candidates: &Candidates<'_>,
        indexed_only: bool,
        cutoff: Timestamp,
        matches: impl Fn(SortKey) -> bool,
        item: impl Fn(SortKey) -> T,
    ) -> Page<T> {
        let visible = candidates.listing.since(cutoff.as_nanosecond());
        let tested: Listing;
        let keys = if candidates.exact && indexed_only {
            visible
        } else {
            tested = visible.filter(matches);
            tested.keys()
        };
        if let Some(spec) = sim
            .faults
            .hostile()
            .filter(|h| h.kind == hostile::HostileKind::ShiftingListing)
        {
            let hidden = sim.hostile.next_shift(&self.fingerprint, spec.shifts);
            return self.shifted_page(keys, hidden).map(item);
        }
        paging::page(keys, &self.request, &mut sim.tokens(), &self.fingerprint).map(item)
    }

    /// A page of the listing without its `hidden` newest records, paged by
    /// offset: what an API whose tokens are offsets serves while records
    /// come and go at the head.
    fn shifted_page(&self, keys: super::listing::Keys<'_>, hidden: u64) -> Page<SortKey> {
        let hidden = usize::try_from(hidden).unwrap_or(usize::MAX);
        let total = keys.len().saturating_sub(hidden);
        let (start, count, page_number, page_size) = match self.request {
            PageRequest::Pages { number, size } => {
                ((number - 1).saturating_mul(size), size, number, size)
            }
            PageRequest::Tokens {
                max,
                echo_number,
                echo_size,
                ..
            } => (self.offset.unwrap_or(0), max, echo_number, echo_size),
        };
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let items = keys.window(hidden.saturating_add(start), count as usize);
        let end = start + items.len();
        let next_token = match self.request {
            PageRequest::Tokens { .. } if end < total => Some(hostile::offset_token(end as u64)),
            _ => None,
        };
        Page {
            items,
            total: total as u64,
            page_number,
            page_size,
            next_token,
        }
    }
}

/// Whether a record's tags satisfy every filter.
pub fn tags_match(tags: &[(String, String)], filters: &[TagFilter]) -> bool {
    filters.iter().all(|f| {
        tags.iter()
            .any(|(k, v)| *k == f.key && f.value.as_ref().is_none_or(|want| want == v))
    })
}

/// The tags a new record carries: each `Tag.N`, an absent value empty.
pub fn record_tags(params: &Params) -> Result<Vec<(String, String)>, ApiError> {
    Ok(params
        .tags()?
        .into_iter()
        .map(|t| (t.key, t.value.unwrap_or_default()))
        .collect())
}

/// The machines a new task goes to: at least one (else MissingParameter
/// `missing`), at most `max` (else InvalidParameter `param`).
pub fn targets(
    ids: Vec<String>,
    missing: &str,
    param: &str,
    max: usize,
) -> Result<Vec<String>, ApiError> {
    if ids.is_empty() {
        return Err(ApiError::missing_parameter(missing));
    }
    if ids.len() > max {
        return Err(ApiError::invalid_parameter(param));
    }
    Ok(ids)
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

/// The answer of DescribeSendFileResults and DescribeInvocations: a page of
/// `Invocations.Invocation[]` with its paging fields beside it (fields in
/// alphabetical order: see the module docs).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationsPage<'a, T> {
    invocations: Wrapped<Vec<T>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    page_number: u64,
    page_size: u64,
    request_id: &'a str,
    total_count: u64,
}

impl<'a, T> InvocationsPage<'a, T> {
    /// `items`, rendered from the records of `page`.
    pub fn new<R>(page: &Page<R>, items: Vec<T>, request_id: &'a str) -> Self {
        Self {
            invocations: Wrapped {
                name: "Invocation",
                items,
            },
            next_token: page.next_token.clone(),
            page_number: page.page_number,
            page_size: page.page_size,
            request_id,
            total_count: page.total,
        }
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

    #[test]
    fn tag_rules() {
        let code = |pairs: &[(&str, &str)]| Params::of(pairs).tags().unwrap_err().code;
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
        let tags = Params::of(&[("Tag.1.Key", "env"), ("Tag.1.Value", "prod")])
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
