//! The actions shipcheck reads, from filter to normalised records.
//!
//! * ECS `DescribeSendFileResults`: every documented filter, paged by token
//!   (default) or by page number in parallel;
//! * ECS `DescribeInvocationResults`: its paging fields nested under
//!   `Invocation`, `ContentEncoding`, `IncludeHistory`;
//! * ECS `DescribeInstances`: the instances behind a tag or resource-group
//!   instance set;
//! * eflo-controller `DescribeSendFileResults`: a form body, no `RegionId`,
//!   no paging, `InvokeId` required.

use crate::cloud::CloudClient;
use crate::cloud::error::CloudError;
use crate::cloud::normalize::{self, ContentEncoding};
use crate::cloud::paging::{self, FetchSummary, PageOf, Paging};
use crate::cloud::retry::{Stats, Stats as S};
use crate::cloud::rpc::ApiCall;
use crate::cloud::wire;
use crate::observe::{CommandResult, FileInvocation};
use crate::protocol::Provider;
use crate::protocol::endpoint::redacted_url;

/// The most `Tag.N` filters the API takes.
const MAX_TAGS: usize = 20;

/// Filters of ECS `DescribeSendFileResults` (all optional; `RegionId` is the
/// call's region).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendFileFilter {
    pub invoke_id: Option<String>,
    pub instance_id: Option<String>,
    pub name: Option<String>,
    /// The overall status: Pending, Running, Success, Failed, PartialFailed.
    pub invocation_status: Option<String>,
    pub resource_group_id: Option<String>,
    /// `Tag.N.Key` / `Tag.N.Value`, at most 20.
    pub tags: Vec<(String, String)>,
    /// Overrides the client's paging style for this call.
    pub paging: Option<Paging>,
}

/// Filters of ECS `DescribeInvocationResults`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvocationFilter {
    pub invoke_id: Option<String>,
    pub instance_id: Option<String>,
    pub command_id: Option<String>,
    /// `InvokeRecordStatus` (Running, Finished, Failed, Stopped, …).
    pub invoke_record_status: Option<String>,
    /// Every run of a periodic task, not only the latest (needs `invoke_id`).
    pub include_history: bool,
    pub content_encoding: ContentEncoding,
    pub resource_group_id: Option<String>,
    pub tags: Vec<(String, String)>,
    pub paging: Option<Paging>,
}

/// Filters of ECS `DescribeInstances`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceFilter {
    /// `Tag.N.Key` / `Tag.N.Value`: instances carrying every pair.
    pub tags: Vec<(String, String)>,
    pub resource_group_id: Option<String>,
    /// `Running`, `Stopped`, …; every status when `None`.
    pub status: Option<String>,
}

fn push_opt(params: &mut Vec<(String, String)>, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        params.push((name.to_owned(), v.clone()));
    }
}

fn push_tags(
    params: &mut Vec<(String, String)>,
    tags: &[(String, String)],
) -> Result<(), CloudError> {
    if tags.len() > MAX_TAGS {
        return Err(CloudError::Config {
            detail: format!(
                "{} tag filters given; the API takes at most {MAX_TAGS}",
                tags.len()
            ),
            help: "Filter by fewer tags.".into(),
        });
    }
    for (i, (key, value)) in tags.iter().enumerate() {
        if key.is_empty() {
            return Err(CloudError::Config {
                detail: format!("tag filter {} has an empty key", i + 1),
                help: "Every tag filter needs a key.".into(),
            });
        }
        params.push((format!("Tag.{}.Key", i + 1), key.clone()));
        params.push((format!("Tag.{}.Value", i + 1), value.clone()));
    }
    Ok(())
}

/// A query's filters for messages: `RegionId=cn-hangzhou, Name=app.conf`.
fn describe_query(region: &str, params: &[(String, String)]) -> String {
    let mut parts = vec![format!("RegionId={region}")];
    parts.extend(
        params
            .iter()
            .filter(|(name, _)| name != "RegionId" && name != "ContentEncoding")
            .map(|(name, value)| format!("{name}={value}")),
    );
    parts.join(", ")
}

fn finish(mut summary: FetchSummary, stats: &Stats) -> FetchSummary {
    summary.requests = S::get(&stats.requests);
    summary.retries = S::get(&stats.retries);
    summary.throttled = S::get(&stats.throttled);
    summary.backoff = std::time::Duration::from_micros(S::get(&stats.slept_micros));
    summary
}

fn malformed(
    action: &str,
    endpoint: &url::Url,
    request_id: Option<String>,
    detail: String,
) -> CloudError {
    CloudError::Malformed {
        action: action.to_owned(),
        url: redacted_url(endpoint),
        request_id,
        detail,
    }
}

/// One ECS listing: its action and filters, and how a page becomes records.
struct EcsListing<'a, T, P> {
    action: &'static str,
    region: &'a str,
    /// The filters, sent with every page.
    params: Vec<(String, String)>,
    /// Overrides the client's paging style.
    paging: Option<Paging>,
    /// Names a record, so that each is passed on once.
    key: fn(&T) -> String,
    /// Turns a page of the action's response into records; an `Err` is a
    /// record the API should not have sent.
    page_of: P,
    /// Page 1, when it was read already (page style only).
    first: Option<PageOf<T>>,
}

/// A page of ECS `DescribeSendFileResults` as records.
fn send_file_page(
    region: &str,
    page: wire::SendFileResultsResponse,
) -> Result<PageOf<FileInvocation>, String> {
    Ok(PageOf {
        items: page
            .invocations
            .into_vec()
            .into_iter()
            .map(|raw| normalize::file_invocation(Provider::Ecs, region, raw))
            .collect::<Result<_, _>>()?,
        total: page.total_count,
        next_token: page.next_token,
    })
}

impl CloudClient {
    /// Streams every ECS SendFile task matching `filter` in `region` to
    /// `on_page`, a page at a time, each task once.
    ///
    /// `Ok` means the listing was read completely; on `Err`, discard what
    /// `on_page` received.
    pub async fn describe_send_file_results<F>(
        &self,
        region: &str,
        filter: &SendFileFilter,
        on_page: F,
    ) -> Result<FetchSummary, CloudError>
    where
        F: FnMut(Vec<FileInvocation>) + Send,
    {
        self.describe_send_file_results_after(region, filter, None, on_page)
            .await
    }

    /// [`Self::describe_send_file_results`] by page number, when its page 1
    /// was read already ([`Self::first_send_file_page`]): the listing goes
    /// on from page 2 (and reads page 1 again only if it moved).
    pub async fn describe_send_file_results_after<F>(
        &self,
        region: &str,
        filter: &SendFileFilter,
        first: Option<PageOf<FileInvocation>>,
        mut on_page: F,
    ) -> Result<FetchSummary, CloudError>
    where
        F: FnMut(Vec<FileInvocation>) + Send,
    {
        let mut params = vec![("RegionId".to_owned(), region.to_owned())];
        push_opt(&mut params, "InvokeId", &filter.invoke_id);
        push_opt(&mut params, "InstanceId", &filter.instance_id);
        push_opt(&mut params, "Name", &filter.name);
        push_opt(&mut params, "InvocationStatus", &filter.invocation_status);
        push_opt(&mut params, "ResourceGroupId", &filter.resource_group_id);
        push_tags(&mut params, &filter.tags)?;
        let listing = EcsListing {
            action: "DescribeSendFileResults",
            region,
            params,
            paging: filter.paging,
            key: |f: &FileInvocation| f.invoke_id.clone(),
            page_of: |page: wire::SendFileResultsResponse| send_file_page(region, page),
            first,
        };
        self.read_ecs_listing(listing, &mut on_page).await
    }

    /// Page 1 of every SendFile task in `region`, by page number: its
    /// `TotalCount` tells how many pages the whole region takes (token
    /// style's count is meaningless), so the planner can price one listing
    /// of the region against many filtered ones; if the region is listed
    /// whole, this page is its first
    /// ([`Self::describe_send_file_results_after`]).
    pub async fn first_send_file_page(
        &self,
        region: &str,
    ) -> Result<PageOf<FileInvocation>, CloudError> {
        let action = "DescribeSendFileResults";
        let endpoint = self.inner.endpoints.url(Provider::Ecs, region)?;
        let params = vec![
            ("RegionId".to_owned(), region.to_owned()),
            ("PageNumber".to_owned(), "1".to_owned()),
            ("PageSize".to_owned(), paging::PAGE_SIZE.to_string()),
        ];
        let query = describe_query(region, &params);
        let call = ApiCall::new(Provider::Ecs, action, region, params);
        let stats = Stats::default();
        let read = async {
            let reply = self
                .inner
                .rpc
                .call::<wire::SendFileResultsResponse>(&call, &endpoint, &stats)
                .await?;
            let request_id = reply.request_id;
            let page = send_file_page(region, reply.value)
                .map_err(|e| malformed(action, &endpoint, request_id.clone(), e))?;
            match page.total {
                Some(total) if total <= paging::MAX_RECORDS => Ok(page),
                Some(total) => Err(malformed(
                    action,
                    &endpoint,
                    request_id,
                    format!(
                        "TotalCount {total} is above the API's {} records",
                        paging::MAX_RECORDS
                    ),
                )),
                None => Err(malformed(
                    action,
                    &endpoint,
                    request_id,
                    "a PageNumber/PageSize answer without TotalCount".into(),
                )),
            }
        };
        self.before_deadline(action, &query, read).await
    }

    /// Streams every ECS command result matching `filter` in `region` to
    /// `on_page`, each (invocation, instance, run) once.
    pub async fn describe_invocation_results<F>(
        &self,
        region: &str,
        filter: &InvocationFilter,
        mut on_page: F,
    ) -> Result<FetchSummary, CloudError>
    where
        F: FnMut(Vec<CommandResult>) + Send,
    {
        const ACTION: &str = "DescribeInvocationResults";
        if filter.include_history && filter.invoke_id.is_none() {
            return Err(CloudError::Config {
                detail: "IncludeHistory needs an InvokeId".into(),
                help:
                    "Name the invocation (a periodic or every-reboot task) whose history to read."
                        .into(),
            });
        }
        let mut params = vec![
            ("RegionId".to_owned(), region.to_owned()),
            (
                "ContentEncoding".to_owned(),
                filter.content_encoding.as_str().to_owned(),
            ),
        ];
        push_opt(&mut params, "InvokeId", &filter.invoke_id);
        push_opt(&mut params, "InstanceId", &filter.instance_id);
        push_opt(&mut params, "CommandId", &filter.command_id);
        push_opt(
            &mut params,
            "InvokeRecordStatus",
            &filter.invoke_record_status,
        );
        push_opt(&mut params, "ResourceGroupId", &filter.resource_group_id);
        if filter.include_history {
            params.push(("IncludeHistory".to_owned(), "true".to_owned()));
        }
        push_tags(&mut params, &filter.tags)?;
        let encoding = filter.content_encoding;
        let listing = EcsListing {
            action: ACTION,
            region,
            params,
            paging: filter.paging,
            key: normalize::command_result_key,
            page_of: |reply: wire::InvocationResultsResponse| {
                let page = reply.invocation.unwrap_or_default();
                Ok(PageOf {
                    items: page
                        .results
                        .into_vec()
                        .into_iter()
                        .map(|raw| normalize::command_result(region, encoding, raw))
                        .collect::<Result<_, _>>()?,
                    total: page.total_count,
                    next_token: page.next_token,
                })
            },
            first: None,
        };
        self.read_ecs_listing(listing, &mut on_page).await
    }

    /// Every ECS instance in `region` matching `filter`, each once.
    ///
    /// A listing that cannot be read completely is an `Err`, never a short
    /// list: an instance set resolved from it would silently shrink.
    pub async fn describe_instances(
        &self,
        region: &str,
        filter: &InstanceFilter,
    ) -> Result<Vec<normalize::Instance>, CloudError> {
        let mut params = vec![("RegionId".to_owned(), region.to_owned())];
        push_opt(&mut params, "ResourceGroupId", &filter.resource_group_id);
        push_opt(&mut params, "Status", &filter.status);
        push_tags(&mut params, &filter.tags)?;
        let listing = EcsListing {
            action: "DescribeInstances",
            region,
            params,
            paging: None,
            key: |i: &normalize::Instance| i.id.clone(),
            page_of: |page: wire::InstancesResponse| {
                Ok(PageOf {
                    items: page
                        .instances
                        .into_vec()
                        .into_iter()
                        .map(normalize::instance)
                        .collect::<Result<_, _>>()?,
                    total: page.total_count,
                    next_token: page.next_token,
                })
            },
            first: None,
        };
        let mut instances = Vec::new();
        self.read_ecs_listing(listing, &mut |page| instances.extend(page))
            .await?;
        Ok(instances)
    }

    /// Every eflo (Lingjun) SendFile task for `invoke_id`, optionally one node's.
    ///
    /// eflo answers in one page; a `TotalCount` that disagrees with the
    /// records is an error.
    pub async fn eflo_describe_send_file_results(
        &self,
        region: &str,
        invoke_id: &str,
        node_id: Option<&str>,
    ) -> Result<Vec<FileInvocation>, CloudError> {
        const ACTION: &str = "DescribeSendFileResults";
        if invoke_id.trim().is_empty() {
            return Err(CloudError::Config {
                detail: "eflo DescribeSendFileResults needs an InvokeId".into(),
                help: "Give the invocation id returned by eflo SendFile (t-…).".into(),
            });
        }
        let endpoint = self.inner.endpoints.url(Provider::Eflo, region)?;
        let mut params = vec![("InvokeId".to_owned(), invoke_id.to_owned())];
        if let Some(node) = node_id {
            params.push(("NodeId".to_owned(), node.to_owned()));
        }
        let query = describe_query(region, &params);
        let call = ApiCall::new(Provider::Eflo, ACTION, region, params);
        let reply = self
            .before_deadline(
                ACTION,
                &query,
                self.inner.rpc.call::<wire::SendFileResultsResponse>(
                    &call,
                    &endpoint,
                    &Stats::default(),
                ),
            )
            .await?;
        let total = reply.value.total_count;
        let items = reply
            .value
            .invocations
            .into_vec()
            .into_iter()
            .map(|mut raw| {
                // The documented eflo sample omits InvokeId: it is the one asked for.
                raw.invoke_id.get_or_insert_with(|| invoke_id.to_owned());
                normalize::file_invocation(Provider::Eflo, region, raw)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| malformed(ACTION, &endpoint, reply.request_id.clone(), e))?;
        if let Some(total) = total
            && total != items.len() as u64
        {
            return Err(CloudError::Incomplete {
                action: format!("eflo {ACTION}"),
                detail: format!("TotalCount is {total} but {} records arrived", items.len()),
            });
        }
        Ok(items)
    }

    /// Reads one ECS listing completely, a page at a time.
    async fn read_ecs_listing<W, T, P>(
        &self,
        listing: EcsListing<'_, T, P>,
        on_page: &mut (dyn FnMut(Vec<T>) + Send),
    ) -> Result<FetchSummary, CloudError>
    where
        W: wire::Contract,
        P: Fn(W) -> Result<PageOf<T>, String>,
    {
        let EcsListing {
            action,
            region,
            params,
            paging,
            key,
            page_of,
            first,
        } = listing;
        let endpoint = self.inner.endpoints.url(Provider::Ecs, region)?;
        let paging = paging.unwrap_or(self.inner.paging);
        let stats = Stats::default();
        let fetch = |page: Vec<(String, String)>| {
            let mut params = params.clone();
            params.extend(page);
            let call = ApiCall::new(Provider::Ecs, action, region, params);
            let (endpoint, stats, page_of) = (&endpoint, &stats, &page_of);
            async move {
                let reply = self.inner.rpc.call::<W>(&call, endpoint, stats).await?;
                page_of(reply.value).map_err(|e| malformed(action, endpoint, reply.request_id, e))
            }
        };
        let query = describe_query(region, &params);
        let read = paging::read_listing(
            action,
            &query,
            paging,
            self.inner.concurrency,
            key,
            on_page,
            first,
            fetch,
        );
        let summary = self.before_deadline(action, &query, read).await?;
        Ok(finish(summary, &stats))
    }
}
