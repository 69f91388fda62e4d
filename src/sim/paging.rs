//! The two pagination styles of the ECS list APIs, with their limits.
//!
//! PageNumber/PageSize (deprecated but still served) pages by offset;
//! NextToken/MaxResults pages by a keyset cursor, so records created between
//! two calls neither repeat nor shift later pages. If MaxResults or NextToken
//! is given, PageNumber/PageSize do not take effect (PROTOCOL.md §5.4).
//! Tokens are opaque, issued by the server, and valid only for the query
//! that produced them: anything else is `InvalidParameter.NextToken`.

use std::collections::{HashMap, VecDeque};

use axum::http::StatusCode;

use super::errors::ApiError;
use super::listing::{Keys, SortKey};
use super::params::Params;

pub const MAX_PAGE_SIZE: u64 = 50;
pub const DEFAULT_PAGE_SIZE: u64 = 10;
/// Issued tokens kept before the oldest are forgotten.
const TOKEN_CAPACITY: usize = 200_000;

/// What the request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    Pages {
        number: u64,
        size: u64,
    },
    Tokens {
        max: u64,
        after: Option<SortKey>,
        echo_number: u64,
        echo_size: u64,
    },
}

/// One page and the fields that describe it.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page_number: u64,
    pub page_size: u64,
    pub next_token: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each item turned into what the answer lists.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page_number: self.page_number,
            page_size: self.page_size,
            next_token: self.next_token,
        }
    }
}

/// Issued tokens: token → (query fingerprint, last key returned).
#[derive(Debug, Default)]
pub struct TokenTable {
    issued: HashMap<String, (String, SortKey)>,
    order: VecDeque<String>,
    pinned: VecDeque<String>,
    counter: u64,
}

impl TokenTable {
    /// `pinned` tokens are handed out first, in order (a state file uses this
    /// to reproduce a documented sample's `NextToken`).
    pub fn new(pinned: Vec<String>) -> Self {
        Self {
            pinned: pinned.into(),
            ..Self::default()
        }
    }

    fn issue(&mut self, fingerprint: &str, last: SortKey) -> String {
        let token = self.pinned.pop_front().unwrap_or_else(|| {
            self.counter += 1;
            generated_token(self.counter)
        });
        if self.order.len() >= TOKEN_CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.issued.remove(&old);
        }
        self.issued
            .insert(token.clone(), (fingerprint.to_owned(), last));
        self.order.push_back(token.clone());
        token
    }

    fn resolve(&self, token: &str, fingerprint: &str) -> Option<SortKey> {
        self.issued
            .get(token)
            .filter(|(f, _)| f == fingerprint)
            .map(|(_, key)| *key)
    }
}

/// Opaque, URL-safe and the same on every run.
fn generated_token(counter: u64) -> String {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(counter.to_be_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..18])
}

/// Reads the paging parameters. `page_error_status` is the status the
/// action's document gives InvalidParam.PageNumber/PageSize (400 or 403).
pub fn parse(
    params: &Params,
    tokens: &TokenTable,
    fingerprint: &str,
    page_error_status: StatusCode,
) -> Result<PageRequest, ApiError> {
    parse_up_to(
        params,
        tokens,
        fingerprint,
        page_error_status,
        MAX_PAGE_SIZE,
    )
}

/// [`parse`] for an action whose pages hold up to `max_page_size` records
/// (DescribeInstances: 100).
pub fn parse_up_to(
    params: &Params,
    tokens: &TokenTable,
    fingerprint: &str,
    page_error_status: StatusCode,
    max_page_size: u64,
) -> Result<PageRequest, ApiError> {
    let max_results = params.get_nonempty("MaxResults");
    let next_token = params.get_nonempty("NextToken");
    if max_results.is_some() || next_token.is_some() {
        let max = match max_results {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max_page_size).contains(n))
                .ok_or_else(ApiError::invalid_max_results)?,
        };
        let after = match next_token {
            None => None,
            Some(token) => Some(
                tokens
                    .resolve(token, fingerprint)
                    .ok_or_else(ApiError::invalid_next_token)?,
            ),
        };
        // PageNumber/PageSize "do not take effect": echoed, not checked.
        let echo = |name: &str, default: u64| {
            params
                .get_nonempty(name)
                .and_then(|t| t.parse().ok())
                .unwrap_or(default)
        };
        return Ok(PageRequest::Tokens {
            max,
            after,
            echo_number: echo("PageNumber", 1),
            echo_size: echo("PageSize", DEFAULT_PAGE_SIZE),
        });
    }
    let number = match params.get_nonempty("PageNumber") {
        None => 1,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ApiError::invalid_page_number(page_error_status))?,
    };
    let size = match params.get_nonempty("PageSize") {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max_page_size).contains(n))
            .ok_or_else(|| ApiError::invalid_page_size(page_error_status))?,
    };
    Ok(PageRequest::Pages { number, size })
}

/// Cuts one page out of `keys`: index arithmetic for PageNumber, a binary
/// search for a NextToken, so the cost is the page's, not the listing's.
pub fn page(
    keys: Keys<'_>,
    request: &PageRequest,
    tokens: &mut TokenTable,
    fingerprint: &str,
) -> Page<SortKey> {
    let total = keys.len() as u64;
    match *request {
        PageRequest::Pages { number, size } => {
            let skip = usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX);
            Page {
                items: keys.window(skip, size as usize),
                total,
                page_number: number,
                page_size: size,
                next_token: None,
            }
        }
        PageRequest::Tokens {
            max,
            after,
            echo_number,
            echo_size,
        } => {
            let start = after.map_or(0, |key| keys.position_after(key));
            let items = keys.window(start, max as usize);
            let more = start + items.len() < keys.len();
            let next_token = match (more, items.last()) {
                (true, Some(last)) => Some(tokens.issue(fingerprint, *last)),
                _ => None,
            };
            Page {
                items,
                total,
                page_number: echo_number,
                page_size: echo_size,
                next_token,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::listing::Listing;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::of(pairs)
    }

    #[test]
    fn page_limits_follow_the_documents() {
        let tokens = TokenTable::default();
        let parse = |p: &[(&str, &str)]| parse(&params(p), &tokens, "q", StatusCode::BAD_REQUEST);
        assert_eq!(
            parse(&[("PageSize", "51")]).unwrap_err().code,
            "InvalidParam.PageSize"
        );
        assert_eq!(
            parse(&[("PageSize", "0")]).unwrap_err().code,
            "InvalidParam.PageSize"
        );
        assert_eq!(
            parse(&[("PageNumber", "0")]).unwrap_err().code,
            "InvalidParam.PageNumber"
        );
        assert_eq!(
            parse(&[("MaxResults", "51")]).unwrap_err().code,
            "InvalidParameter.MaxResults"
        );
        assert_eq!(
            parse(&[("NextToken", "made-up")]).unwrap_err().code,
            "InvalidParameter.NextToken"
        );
        assert_eq!(
            parse(&[("PageSize", "50")]).unwrap(),
            PageRequest::Pages {
                number: 1,
                size: 50
            }
        );
        // Token mode ignores a page size it would otherwise refuse.
        assert!(matches!(
            parse(&[("MaxResults", "50"), ("PageSize", "51")]).unwrap(),
            PageRequest::Tokens { max: 50, .. }
        ));
    }

    #[test]
    fn tokens_walk_every_item_once_and_are_bound_to_their_query() {
        let mut tokens = TokenTable::new(vec!["PINNED".to_owned()]);
        let items = Listing::from_keys((0..25u64).map(|i| SortKey::record(i as i128, i)).collect());
        let mut seen = Vec::new();
        let mut request = parse(
            &params(&[("MaxResults", "10")]),
            &tokens,
            "q",
            StatusCode::BAD_REQUEST,
        )
        .unwrap();
        let mut first = true;
        loop {
            let page = page(items.keys(), &request, &mut tokens, "q");
            seen.extend(page.items.iter().map(|k| k.seq));
            let Some(token) = page.next_token else { break };
            if first {
                assert_eq!(token, "PINNED");
                first = false;
            }
            assert_eq!(
                super::parse(
                    &params(&[("NextToken", &token)]),
                    &tokens,
                    "other query",
                    StatusCode::BAD_REQUEST
                )
                .unwrap_err()
                .code,
                "InvalidParameter.NextToken"
            );
            request = parse(
                &params(&[("NextToken", &token), ("MaxResults", "10")]),
                &tokens,
                "q",
                StatusCode::BAD_REQUEST,
            )
            .unwrap();
        }
        assert_eq!(seen, (0..25u64).rev().collect::<Vec<_>>());
    }
}
