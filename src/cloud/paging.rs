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
//! key (`InvokeId`). A pass is complete only when the listing held still
//! while it was read, and a listing that did not is read again (duplicates
//! still suppressed); if no pass holds still the caller gets
//! [`CloudError::ListingChanged`], never a short list:
//!
//! * in page mode, the distinct records a pass saw must equal a
//!   `TotalCount` that stayed the same on every page;
//! * in token mode, a listing of more than one page ends by reading its
//!   first page again: the same records in the same order (and the same
//!   `TotalCount`, when there is one) mean nothing was inserted or removed
//!   ahead of the pages already read, the way an offset-style token would
//!   skip or repeat records. The check sees changes at the head, where new
//!   deliveries appear; it costs one request per multi-page listing.
//!
//! A listing must also make progress, whatever the API says: a `NextToken`
//! that comes back again, [`MAX_IDLE_PAGES`] pages in a row that carry a
//! token but no record new to the pass, more than [`MAX_PAGES`] pages, or a
//! `TotalCount` above [`MAX_RECORDS`] (the API keeps at most 100,000 records
//! per region) end the listing with an error at once, rather than after
//! thousands of requests.

use foldhash::{HashSet, HashSetExt};
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
pub(crate) const PAGE_SIZE: u64 = 50;
/// The most records the API keeps per region: a `TotalCount` above it is
/// impossible.
pub const MAX_RECORDS: u64 = 100_000;
/// A listing that needs more pages than this is looping, not long.
pub const MAX_PAGES: u64 = MAX_RECORDS / PAGE_SIZE;
/// Pages in a row with a token but no record new to the pass.
pub const MAX_IDLE_PAGES: u32 = 3;
/// How many times a listing that moved is read.
pub const MAX_PASSES: u32 = 3;

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
    /// Passes over the listing (1 unless it moved).
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
/// `query` describes the filters for error messages. In page style, `first`
/// is page 1 when it was read already (to size the listing), and stands in
/// for it on the first pass.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn read_listing<T, F, Fut>(
    action: &str,
    query: &str,
    paging: Paging,
    concurrency: usize,
    key: fn(&T) -> String,
    on_page: &mut (dyn FnMut(Vec<T>) + Send),
    first: Option<PageOf<T>>,
    fetch: F,
) -> Result<FetchSummary, CloudError>
where
    F: Fn(Vec<(String, String)>) -> Fut,
    Fut: Future<Output = Result<PageOf<T>, CloudError>>,
{
    let mut out = Deduper::new(key, on_page);
    let listing = Listing { action, query };
    match paging {
        Paging::Token => by_token(&listing, &mut out, |token| fetch(token_params(token))).await?,
        Paging::Pages => {
            by_number(&listing, concurrency, &mut out, first, |number| {
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

/// The listing being read, for its errors.
struct Listing<'a> {
    action: &'a str,
    query: &'a str,
}

impl Listing<'_> {
    fn changed(&self, detail: String) -> CloudError {
        CloudError::ListingChanged {
            action: self.action.to_owned(),
            query: self.query.to_owned(),
            detail,
        }
    }

    fn stalled(&self, detail: String) -> CloudError {
        CloudError::ListingStalled {
            action: self.action.to_owned(),
            query: self.query.to_owned(),
            detail,
        }
    }

    fn too_long(&self, detail: String) -> CloudError {
        CloudError::ListingTooLong {
            action: self.action.to_owned(),
            query: self.query.to_owned(),
            detail,
        }
    }

    /// Refuses a `TotalCount` the API cannot hold, at once.
    fn check_total(&self, total: Option<u64>) -> Result<(), CloudError> {
        match total {
            Some(total) if total > MAX_RECORDS => Err(self.too_long(format!(
                "TotalCount {total} is more than the {MAX_RECORDS} records the API keeps"
            ))),
            _ => Ok(()),
        }
    }
}

/// The first page of a token-mode pass, to compare with a second reading.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    keys: Vec<String>,
    total: Option<u64>,
}

/// Follows `NextToken` until it is empty or missing; a listing of more than
/// one page is then checked by reading its first page again, and read again
/// when that page moved.
async fn by_token<T, F, Fut>(
    listing: &Listing<'_>,
    out: &mut Deduper<'_, T>,
    mut fetch: F,
) -> Result<(), CloudError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<PageOf<T>, CloudError>>,
{
    let mut last_problem = String::new();
    for pass in 1..=MAX_PASSES {
        out.summary.passes = pass;
        let (head, pages) = token_pass(listing, out, &mut fetch).await?;
        if pages == 1 {
            // One answer is one snapshot: nothing can have moved.
            return Ok(());
        }
        let again = fetch(None).await?;
        listing.check_total(again.total)?;
        let total = again.total;
        // Records new at the head are passed on; the rest of the page was
        // expected again and is not counted as duplicates.
        let duplicates = out.summary.duplicates;
        let keys = out.deliver(again.items);
        out.summary.duplicates = duplicates;
        let now = Head { keys, total };
        if now == head {
            return Ok(());
        }
        last_problem = if now.total != head.total {
            format!(
                "TotalCount went from {} to {} while {pages} pages were read",
                show(head.total),
                show(now.total)
            )
        } else {
            format!("the first page changed while {pages} pages were read")
        };
        tracing::warn!(
            action = listing.action,
            pass,
            "{last_problem}; reading the listing again"
        );
    }
    Err(listing.changed(format!("{last_problem}, on each of {MAX_PASSES} passes")))
}

fn show(total: Option<u64>) -> String {
    total.map_or_else(|| "none".to_owned(), |t| t.to_string())
}

/// One pass of token paging: the first page's head and the pages read.
async fn token_pass<T, F, Fut>(
    listing: &Listing<'_>,
    out: &mut Deduper<'_, T>,
    fetch: &mut F,
) -> Result<(Head, u64), CloudError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<PageOf<T>, CloudError>>,
{
    let mut token: Option<String> = None;
    let mut tokens_seen = HashSet::new();
    let mut pass_keys = HashSet::new();
    let mut head = None;
    let (mut pages, mut idle) = (0u64, 0u32);
    loop {
        let page = fetch(token.take()).await?;
        pages += 1;
        listing.check_total(page.total)?;
        let total = page.total;
        let keys = out.deliver(page.items);
        let before = pass_keys.len();
        pass_keys.extend(keys.iter().cloned());
        let progressed = pass_keys.len() > before;
        if head.is_none() {
            head = Some(Head { keys, total });
        }
        let Some(next) = page.next_token.filter(|t| !t.trim().is_empty()) else {
            return Ok((head.expect("the first page was read"), pages));
        };
        idle = if progressed { 0 } else { idle + 1 };
        if idle >= MAX_IDLE_PAGES {
            return Err(listing.stalled(format!(
                "{idle} pages in a row carried a NextToken but no new record (after {pages} pages)"
            )));
        }
        if !tokens_seen.insert(next.clone()) {
            return Err(listing.stalled(format!(
                "NextToken repeated after {pages} pages: the listing loops"
            )));
        }
        if pages >= MAX_PAGES {
            return Err(listing.too_long(format!(
                "still more pages after {MAX_PAGES} (the API keeps at most {MAX_RECORDS} records)"
            )));
        }
        token = Some(next);
    }
}

/// Reads page 1 for `TotalCount`, then the other pages `concurrency` at a
/// time, delivering them in order; re-reads a listing that moved.
async fn by_number<T, F, Fut>(
    listing: &Listing<'_>,
    concurrency: usize,
    out: &mut Deduper<'_, T>,
    mut first: Option<PageOf<T>>,
    fetch: F,
) -> Result<(), CloudError>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<PageOf<T>, CloudError>>,
{
    let action = listing.action;
    let mut last_problem = String::new();
    for pass in 1..=MAX_PASSES {
        out.summary.passes = pass;
        let first = match first.take() {
            Some(page) => page,
            None => fetch(1).await?,
        };
        let Some(total) = first.total else {
            return Err(CloudError::Malformed {
                action: action.to_owned(),
                url: String::new(),
                request_id: None,
                detail: "a PageNumber/PageSize answer without TotalCount".into(),
            });
        };
        listing.check_total(Some(total))?;
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        if pages > MAX_PAGES {
            return Err(listing.too_long(format!(
                "TotalCount {total} would need more than {MAX_PAGES} pages"
            )));
        }
        let mut pass_keys: HashSet<String> = out.deliver(first.items).into_iter().collect();
        let mut stable = true;
        let mut short_page = None;
        let mut rest = futures_util::stream::iter(2..=pages)
            .map(|number| {
                let page = fetch(number);
                async move { (number, page.await) }
            })
            .buffered(concurrency.max(1));
        while let Some((number, page)) = rest.next().await {
            let page = page?;
            listing.check_total(page.total)?;
            let short = number < pages && (page.items.len() as u64) < PAGE_SIZE;
            if page.total != Some(total) {
                stable = false;
            }
            pass_keys.extend(out.deliver(page.items));
            if short {
                // A short page before the last: the count cannot add up, and
                // reading on (up to 2,000 pages) would only cost requests.
                short_page = Some(number);
                break;
            }
        }
        let seen = pass_keys.len() as u64;
        if stable && short_page.is_none() && seen == total {
            out.summary.total_count = Some(total);
            return Ok(());
        }
        last_problem = if let Some(number) = short_page {
            format!("TotalCount is {total} ({pages} pages) but page {number} was short")
        } else if stable {
            format!("TotalCount is {total} but {seen} distinct records arrived over {pages} pages")
        } else {
            format!("TotalCount changed while {pages} pages were read ({total} at first)")
        };
        tracing::warn!(action, pass, "{last_problem}; reading the listing again");
    }
    Err(listing.changed(format!("{last_problem}, on each of {MAX_PASSES} passes")))
}
