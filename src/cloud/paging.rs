//! Reading a listing page by page, completely or not at all.
//!
//! Two styles exist (PROTOCOL.md §5.4). `NextToken`/`MaxResults` is the
//! documented default: sequential, and its `TotalCount` is documented as
//! meaningless. `PageNumber`/`PageSize` reports a `TotalCount`, so once the
//! first page is in, every other page can be fetched at once (bounded by the
//! client's concurrency cap), and the count can be checked.
//!
//! Pages go to the caller as they arrive (in order), and are not kept.
//! Records can shift between pages while a listing is read (a new delivery
//! pushes everything down by one), so each record is passed on once, by its
//! key (`InvokeId`). In page mode a pass is complete only when the distinct
//! records it saw equal a `TotalCount` that stayed the same on every page;
//! otherwise the listing is read again (duplicates still suppressed), and if
//! no pass adds up the caller gets [`CloudError::Incomplete`], never a short
//! list.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt as _;

use crate::cloud::error::CloudError;

/// How a listing is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paging {
    /// `NextToken`/`MaxResults`, one page after another (the API's
    /// recommended style).
    #[default]
    Token,
    /// `PageNumber`/`PageSize`: the first page gives `TotalCount`, the rest
    /// are fetched in parallel and the count is verified.
    Pages,
}

/// The largest page both styles allow.
const PAGE_SIZE: u64 = 50;
/// A listing that needs more pages than this is looping, not long: the
/// API keeps at most 100,000 records (2,000 pages).
const MAX_PAGES: u64 = 10_000;
/// How many times a shifting page-mode listing is re-read.
const MAX_PASSES: u32 = 3;

/// One page as the listing code needs it.
#[derive(Debug)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub total: Option<u64>,
    pub next_token: Option<String>,
}

/// What a fetch did, for logs, benchmarks and callers that report it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchSummary {
    /// Distinct records passed to the caller.
    pub records: u64,
    /// Pages read (all passes).
    pub pages: u64,
    /// Records dropped because an earlier page already had them.
    pub duplicates: u64,
    /// Page-mode passes over the listing (1 unless it shifted).
    pub passes: u32,
    /// The `TotalCount` the complete pass reported (page mode only).
    pub total_count: Option<u64>,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Attempts that were retried.
    pub retries: u64,
    /// Throttled answers among them.
    pub throttled: u64,
    /// Time spent waiting between attempts.
    pub backoff: Duration,
}

/// Reads a whole listing in `paging` style and passes each record on once.
///
/// `fetch` gets a page's paging parameters (`MaxResults`/`NextToken`, or
/// `PageNumber`/`PageSize`) and returns that page; `key` names a record
/// (its `InvokeId`, say) so that one seen on an earlier page is dropped.
pub(crate) async fn read_listing<T, F, Fut>(
    action: &str,
    paging: Paging,
    concurrency: usize,
    key: fn(&T) -> String,
    on_page: &mut (dyn FnMut(Vec<T>) + Send),
    fetch: F,
) -> Result<FetchSummary, CloudError>
where
    F: Fn(Vec<(String, String)>) -> Fut,
    Fut: Future<Output = Result<PageOf<T>, CloudError>>,
{
    let mut out = Deduper::new(key, on_page);
    match paging {
        Paging::Token => by_token(action, &mut out, |token| fetch(token_params(token))).await?,
        Paging::Pages => {
            by_number(action, concurrency, &mut out, |number| {
                fetch(page_number_params(number))
            })
            .await?
        }
    }
    Ok(out.summary)
}

/// The first page (no token) or the one after `token`, as large as allowed.
fn token_params(token: Option<String>) -> Vec<(String, String)> {
    let mut params = vec![("MaxResults".to_owned(), PAGE_SIZE.to_string())];
    if let Some(token) = token {
        params.push(("NextToken".to_owned(), token));
    }
    params
}

/// Page `number` (from 1), as large as allowed.
fn page_number_params(number: u64) -> Vec<(String, String)> {
    vec![
        ("PageNumber".to_owned(), number.to_string()),
        ("PageSize".to_owned(), PAGE_SIZE.to_string()),
    ]
}

/// Passes each new record on once, by key.
struct Deduper<'a, T> {
    seen: HashSet<String>,
    key: fn(&T) -> String,
    on_page: &'a mut (dyn FnMut(Vec<T>) + Send),
    summary: FetchSummary,
}

impl<'a, T> Deduper<'a, T> {
    fn new(key: fn(&T) -> String, on_page: &'a mut (dyn FnMut(Vec<T>) + Send)) -> Self {
        Self {
            seen: HashSet::new(),
            key,
            on_page,
            summary: FetchSummary::default(),
        }
    }

    /// Delivers the page's new records; returns the keys of all its records.
    fn deliver(&mut self, items: Vec<T>) -> Vec<String> {
        self.summary.pages += 1;
        let mut keys = Vec::with_capacity(items.len());
        let mut fresh = Vec::with_capacity(items.len());
        for item in items {
            let key = (self.key)(&item);
            if self.seen.insert(key.clone()) {
                fresh.push(item);
            } else {
                self.summary.duplicates += 1;
            }
            keys.push(key);
        }
        self.summary.records += fresh.len() as u64;
        if !fresh.is_empty() {
            (self.on_page)(fresh);
        }
        keys
    }
}

/// Follows `NextToken` until it is empty or missing.
async fn by_token<T, F, Fut>(
    action: &str,
    out: &mut Deduper<'_, T>,
    mut fetch: F,
) -> Result<(), CloudError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<PageOf<T>, CloudError>>,
{
    let mut token: Option<String> = None;
    let mut tokens_seen = HashSet::new();
    loop {
        let page = fetch(token.take()).await?;
        out.deliver(page.items);
        match page.next_token.filter(|t| !t.trim().is_empty()) {
            None => return Ok(()),
            Some(next) => {
                if !tokens_seen.insert(next.clone()) {
                    return Err(CloudError::Incomplete {
                        action: action.to_owned(),
                        detail: format!(
                            "NextToken repeated after {} pages: the listing loops",
                            out.summary.pages
                        ),
                    });
                }
                if out.summary.pages >= MAX_PAGES {
                    return Err(CloudError::Incomplete {
                        action: action.to_owned(),
                        detail: format!("still more pages after {MAX_PAGES}"),
                    });
                }
                token = Some(next);
            }
        }
    }
}

/// Reads page 1 for `TotalCount`, then the other pages `concurrency` at a
/// time, delivering them in order; re-reads a listing that moved.
async fn by_number<T, F, Fut>(
    action: &str,
    concurrency: usize,
    out: &mut Deduper<'_, T>,
    fetch: F,
) -> Result<(), CloudError>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<PageOf<T>, CloudError>>,
{
    let mut last_problem = String::new();
    for pass in 1..=MAX_PASSES {
        out.summary.passes = pass;
        let first = fetch(1).await?;
        let Some(total) = first.total else {
            return Err(CloudError::Malformed {
                action: action.to_owned(),
                url: String::new(),
                request_id: None,
                detail: "a PageNumber/PageSize answer without TotalCount".into(),
            });
        };
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        if pages > MAX_PAGES {
            return Err(CloudError::Incomplete {
                action: action.to_owned(),
                detail: format!("TotalCount {total} would need more than {MAX_PAGES} pages"),
            });
        }
        let mut pass_keys: HashSet<String> = out.deliver(first.items).into_iter().collect();
        let mut stable = true;
        let mut rest = futures_util::stream::iter(2..=pages)
            .map(&fetch)
            .buffered(concurrency.max(1));
        while let Some(page) = rest.next().await {
            let page = page?;
            if page.total != Some(total) {
                stable = false;
            }
            pass_keys.extend(out.deliver(page.items));
        }
        let seen = pass_keys.len() as u64;
        if stable && seen == total {
            out.summary.total_count = Some(total);
            return Ok(());
        }
        last_problem = if stable {
            format!("TotalCount is {total} but {seen} distinct records arrived over {pages} pages")
        } else {
            format!("TotalCount changed while {pages} pages were read ({total} at first)")
        };
        tracing::warn!(action, pass, "{last_problem}; reading the listing again");
    }
    Err(CloudError::Incomplete {
        action: action.to_owned(),
        detail: format!("{last_problem}, on each of {MAX_PASSES} passes"),
    })
}
