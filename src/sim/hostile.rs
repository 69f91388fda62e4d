//! Hostile answers: an ECS listing API that breaks its own contract, so the
//! client's defences are tested through the real binary (issue 9).
//!
//! One kind at a time, switched on by a state file's `faults.hostile` or
//! `shipcheck sim --hostile KIND`. They apply to the two listings shipcheck
//! reads (`DescribeSendFileResults`, `DescribeInvocationResults`) after
//! authentication, on top of the ordinary answer:
//!
//! * `empty-wrapper`: later pages answer 200 with `{}`;
//! * `envelope-without-message`: later pages answer 200 with an error
//!   envelope that has a `Code` but no `Message`;
//! * `missing-fields`: records lack `Content` (files) and `Output` (runs);
//! * `lying-total-count`: every page claims `TotalCount` 499,999 (or
//!   `total_count`);
//! * `endless-tokens`: in token mode every answer is the first page again
//!   with a fresh `NextToken`, for ever;
//! * `empty-pages`: in token mode every page is followed by `empty_pages`
//!   (default 5) empty pages that still carry a token; in page mode later
//!   pages are empty;
//! * `shifting-listing`: `NextToken` is an offset (`hostile-offset-N`), and
//!   each request of a listing sees one more record removed from its head,
//!   for the first `shifts` requests (default: every request), so records
//!   slide onto pages already read. Page mode shifts the same way.
//!
//! A "later page" is one asked for with a `NextToken` or a `PageNumber`
//! above 1. Everything here is for tests: it is never on unless asked for.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::protocol::Provider;

/// Which contract the API breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostileKind {
    EmptyWrapper,
    EnvelopeWithoutMessage,
    MissingFields,
    LyingTotalCount,
    EndlessTokens,
    EmptyPages,
    ShiftingListing,
}

impl HostileKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::EmptyWrapper => "empty-wrapper",
            Self::EnvelopeWithoutMessage => "envelope-without-message",
            Self::MissingFields => "missing-fields",
            Self::LyingTotalCount => "lying-total-count",
            Self::EndlessTokens => "endless-tokens",
            Self::EmptyPages => "empty-pages",
            Self::ShiftingListing => "shifting-listing",
        }
    }
}

/// `faults.hostile` in a state file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostileSpec {
    pub kind: HostileKind,
    /// `shifting-listing`: how many requests of each listing move it
    /// (default: every one).
    #[serde(default)]
    pub shifts: Option<u64>,
    /// `empty-pages`: empty pages after each page (default 5).
    #[serde(default)]
    pub empty_pages: Option<u64>,
    /// `lying-total-count`: the count claimed (default 499,999).
    #[serde(default)]
    pub total_count: Option<u64>,
}

impl HostileSpec {
    pub fn new(kind: HostileKind) -> Self {
        Self {
            kind,
            shifts: None,
            empty_pages: None,
            total_count: None,
        }
    }
}

pub const DEFAULT_EMPTY_PAGES: u64 = 5;
pub const DEFAULT_LYING_TOTAL: u64 = 499_999;
/// The parameter a `hostile-offset-N` token becomes on its way to the action.
pub const OFFSET_PARAM: &str = "HostileOffset";
const OFFSET_TOKEN: &str = "hostile-offset-";
const ENDLESS_TOKEN: &str = "hostile-endless-";
const EMPTY_TOKEN: &str = "hostile-empty-";

/// What the hostile kinds remember between requests.
#[derive(Debug, Default)]
pub struct HostileState {
    /// Requests served per listing (its filters), for `shifting-listing`.
    shifted: Mutex<HashMap<String, u64>>,
    /// Fresh tokens handed out.
    tokens: AtomicU64,
}

impl HostileState {
    /// How many records a `shifting-listing` request hides from the head
    /// of the listing `fingerprint`: one more per request, up to `shifts`.
    pub fn next_shift(&self, fingerprint: &str, shifts: Option<u64>) -> u64 {
        let mut shifted = self.shifted.lock().expect("hostile lock");
        let count = shifted.entry(fingerprint.to_owned()).or_insert(0);
        let hidden = shifts.map_or(*count, |most| (*count).min(most));
        *count += 1;
        hidden
    }

    fn fresh(&self) -> u64 {
        self.tokens.fetch_add(1, Ordering::Relaxed)
    }
}

/// Where a listing keeps its records, count and token.
pub struct Shape {
    items: &'static str,
    total: &'static str,
    token: &'static str,
    /// The field records must not lack.
    field: &'static str,
}

/// The shape of `action`'s answer, when it is a listing the hostile kinds
/// apply to.
pub fn shape(product: Provider, action: &str) -> Option<Shape> {
    match (product, action) {
        (Provider::Ecs, "DescribeSendFileResults") => Some(Shape {
            items: "/Invocations/Invocation",
            total: "/TotalCount",
            token: "/NextToken",
            field: "Content",
        }),
        (Provider::Ecs, "DescribeInvocationResults") => Some(Shape {
            items: "/Invocation/InvocationResults/InvocationResult",
            total: "/Invocation/TotalCount",
            token: "/Invocation/NextToken",
            field: "Output",
        }),
        _ => None,
    }
}

/// What to do with a request before the action runs.
pub enum Before {
    /// Run the action on these parameters.
    Run(Vec<(String, String)>),
    /// Answer this body without running it.
    Answer(Vec<u8>),
}

fn param<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn set_param(pairs: &mut Vec<(String, String)>, name: &str, value: Option<String>) {
    pairs.retain(|(k, _)| k != name);
    if let Some(value) = value {
        pairs.push((name.to_owned(), value));
    }
}

fn token_mode(pairs: &[(String, String)]) -> bool {
    param(pairs, "MaxResults").is_some() || param(pairs, "NextToken").is_some()
}

fn later_page(pairs: &[(String, String)]) -> bool {
    param(pairs, "NextToken").is_some()
        || param(pairs, "PageNumber")
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n > 1)
}

/// Rewrites the hostile tokens back into what the action understands, or
/// answers at once.
pub fn before(
    spec: &HostileSpec,
    shape: &Shape,
    mut pairs: Vec<(String, String)>,
    request_id: &str,
) -> Before {
    let token = param(&pairs, "NextToken").map(str::to_owned);
    match (spec.kind, token) {
        (HostileKind::ShiftingListing, Some(token)) => {
            // An unknown token goes on to the action, which refuses it.
            if let Some(offset) = token.strip_prefix(OFFSET_TOKEN) {
                set_param(&mut pairs, "NextToken", None);
                set_param(&mut pairs, OFFSET_PARAM, Some(offset.to_owned()));
            }
            Before::Run(pairs)
        }
        (HostileKind::EndlessTokens, Some(token)) if token.starts_with(ENDLESS_TOKEN) => {
            set_param(&mut pairs, "NextToken", None);
            Before::Run(pairs)
        }
        (HostileKind::EmptyPages, Some(token)) => {
            let Some((shown, real)) = token
                .strip_prefix(EMPTY_TOKEN)
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(k, real)| Some((k.parse::<u64>().ok()?, real.to_owned())))
            else {
                return Before::Run(pairs);
            };
            let empties = spec.empty_pages.unwrap_or(DEFAULT_EMPTY_PAGES);
            if shown + 1 < empties {
                let next = format!("{EMPTY_TOKEN}{}-{real}", shown + 1);
                return Before::Answer(empty_page(shape, Some(next), request_id));
            }
            if real.is_empty() {
                return Before::Answer(empty_page(shape, None, request_id));
            }
            set_param(&mut pairs, "NextToken", Some(real));
            Before::Run(pairs)
        }
        _ => Before::Run(pairs),
    }
}

/// An empty page in the action's shape.
fn empty_page(shape: &Shape, token: Option<String>, request_id: &str) -> Vec<u8> {
    let mut page = json!({ "RequestId": request_id });
    put(&mut page, shape.items, json!([]));
    if let Some(token) = token {
        put(&mut page, shape.token, Value::String(token));
    }
    serde_json::to_vec(&page).expect("answers serialise")
}

/// Sets the value at `pointer`, creating the objects on the way.
fn put(value: &mut Value, pointer: &str, new: Value) {
    let mut at = value;
    let mut parts = pointer.trim_start_matches('/').split('/').peekable();
    while let Some(part) = parts.next() {
        if !at.is_object() {
            *at = json!({});
        }
        let map = at.as_object_mut().expect("an object");
        if parts.peek().is_none() {
            map.insert(part.to_owned(), new);
            return;
        }
        at = map.entry(part.to_owned()).or_insert_with(|| json!({}));
    }
}

/// What the answer becomes, and its HTTP status is still 200.
pub fn after(
    spec: &HostileSpec,
    shape: &Shape,
    pairs: &[(String, String)],
    body: Vec<u8>,
    state: &HostileState,
    request_id: &str,
) -> Vec<u8> {
    let later = later_page(pairs);
    match spec.kind {
        HostileKind::EmptyWrapper if later => return b"{}".to_vec(),
        HostileKind::EnvelopeWithoutMessage if later => {
            let envelope = json!({"Code": "InternalError", "RequestId": request_id});
            return serde_json::to_vec(&envelope).expect("answers serialise");
        }
        HostileKind::EmptyWrapper
        | HostileKind::EnvelopeWithoutMessage
        | HostileKind::ShiftingListing => return body,
        _ => {}
    }
    let Ok(mut page) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    match spec.kind {
        HostileKind::MissingFields => {
            if let Some(Value::Array(items)) = page.pointer_mut(shape.items) {
                for item in items {
                    if let Some(map) = item.as_object_mut() {
                        map.remove(shape.field);
                    }
                }
            }
        }
        HostileKind::LyingTotalCount => {
            let claimed = spec.total_count.unwrap_or(DEFAULT_LYING_TOTAL);
            put(&mut page, shape.total, Value::from(claimed));
        }
        HostileKind::EndlessTokens if token_mode(pairs) => {
            let token = format!("{ENDLESS_TOKEN}{}", state.fresh());
            put(&mut page, shape.token, Value::String(token));
        }
        HostileKind::EmptyPages if token_mode(pairs) => {
            let real = page
                .pointer(shape.token)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            put(
                &mut page,
                shape.token,
                Value::String(format!("{EMPTY_TOKEN}0-{real}")),
            );
        }
        HostileKind::EmptyPages if later => {
            put(&mut page, shape.items, json!([]));
        }
        _ => return body,
    }
    serde_json::to_vec(&page).expect("answers serialise")
}

/// The `NextToken` of a shifting listing's page that ends at `offset`.
pub fn offset_token(offset: u64) -> String {
    format!("{OFFSET_TOKEN}{offset}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn shifts_grow_per_listing_up_to_the_bound() {
        let state = HostileState::default();
        let hidden: Vec<u64> = (0..4).map(|_| state.next_shift("a", Some(2))).collect();
        assert_eq!(hidden, [0, 1, 2, 2]);
        assert_eq!(state.next_shift("b", None), 0, "each listing counts alone");
    }

    #[test]
    fn empty_pages_come_before_the_real_next_page() {
        let spec = HostileSpec {
            empty_pages: Some(2),
            ..HostileSpec::new(HostileKind::EmptyPages)
        };
        let action = &shape(Provider::Ecs, "DescribeSendFileResults").unwrap();
        let Before::Answer(body) = before(
            &spec,
            action,
            pairs(&[("NextToken", "hostile-empty-0-REAL")]),
            "r",
        ) else {
            panic!("the first empty page is answered at once")
        };
        let page: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(page["NextToken"], "hostile-empty-1-REAL");
        assert_eq!(page["Invocations"]["Invocation"], json!([]));
        let Before::Run(run) = before(
            &spec,
            action,
            pairs(&[("NextToken", "hostile-empty-1-REAL")]),
            "r",
        ) else {
            panic!("then the real page")
        };
        assert_eq!(param(&run, "NextToken"), Some("REAL"));
    }

    #[test]
    fn missing_fields_and_lying_counts_rewrite_the_page() {
        let state = HostileState::default();
        let body = serde_json::to_vec(&json!({
            "Invocation": {"InvocationResults": {"InvocationResult": [{"Output": "x", "InvokeId": "t"}]},
                           "TotalCount": 1}
        }))
        .unwrap();
        let action = &shape(Provider::Ecs, "DescribeInvocationResults").unwrap();
        let out = after(
            &HostileSpec::new(HostileKind::MissingFields),
            action,
            &[],
            body.clone(),
            &state,
            "r",
        );
        let page: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            page["Invocation"]["InvocationResults"]["InvocationResult"][0],
            json!({"InvokeId": "t"})
        );
        let out = after(
            &HostileSpec::new(HostileKind::LyingTotalCount),
            action,
            &[],
            body,
            &state,
            "r",
        );
        let page: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(page["Invocation"]["TotalCount"], 499_999);
    }
}
