//! The three actions shipcheck reads, from filter to normalised records.
//!
//! * ECS `DescribeSendFileResults`: every documented filter, paged by token
//!   (default) or by page number in parallel;
//! * ECS `DescribeInvocationResults`: its paging fields nested under
//!   `Invocation`, `ContentEncoding`, `IncludeHistory`;
//! * eflo-controller `DescribeSendFileResults`: a form body, no `RegionId`,
//!   no paging, `InvokeId` required.

use crate::cloud::CloudClient;
use crate::cloud::endpoint::Api;
use crate::cloud::error::CloudError;
use crate::cloud::http::RpcRequest;
use crate::cloud::normalize::{self, ContentEncoding};
use crate::cloud::paging::{self, Deduper, FetchSummary, PAGE_SIZE, PageOf, Paging};
use crate::cloud::retry::{Stats, Stats as S};
use crate::cloud::wire;
use crate::observe::{CommandResult, FileInvocation, Provider};

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

fn page_params(paging: Paging, token: Option<String>, number: u64) -> Vec<(String, String)> {
    match paging {
        Paging::Token => {
            let mut p = vec![("MaxResults".to_owned(), PAGE_SIZE.to_string())];
            if let Some(t) = token {
                p.push(("NextToken".to_owned(), t));
            }
            p
        }
        Paging::Pages => vec![
            ("PageNumber".to_owned(), number.to_string()),
            ("PageSize".to_owned(), PAGE_SIZE.to_string()),
        ],
    }
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
        url: crate::cloud::error::redacted_url(endpoint),
        request_id,
        detail,
    }
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
        mut on_page: F,
    ) -> Result<FetchSummary, CloudError>
    where
        F: FnMut(Vec<FileInvocation>) + Send,
    {
        const ACTION: &str = "DescribeSendFileResults";
        let endpoint = self.inner.endpoints.url(Api::Ecs, region)?;
        let mut base = vec![("RegionId".to_owned(), region.to_owned())];
        push_opt(&mut base, "InvokeId", &filter.invoke_id);
        push_opt(&mut base, "InstanceId", &filter.instance_id);
        push_opt(&mut base, "Name", &filter.name);
        push_opt(&mut base, "InvocationStatus", &filter.invocation_status);
        push_opt(&mut base, "ResourceGroupId", &filter.resource_group_id);
        push_tags(&mut base, &filter.tags)?;
        let paging = filter.paging.unwrap_or(self.inner.paging);
        let stats = Stats::default();

        let fetch = |token: Option<String>, number: u64| {
            let mut query = base.clone();
            query.extend(page_params(paging, token, number));
            let req = RpcRequest {
                api: Api::Ecs,
                action: ACTION,
                region: region.to_owned(),
                query,
                form: Vec::new(),
            };
            let (endpoint, stats) = (&endpoint, &stats);
            async move {
                let reply = self
                    .inner
                    .transport
                    .call::<wire::SendFileResultsResponse>(&req, endpoint, stats)
                    .await?;
                let page = reply.value;
                let items = page
                    .invocations
                    .into_vec()
                    .into_iter()
                    .map(|raw| normalize::file_invocation(Provider::Ecs, region, raw))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| malformed(ACTION, endpoint, reply.request_id.clone(), e))?;
                Ok(PageOf {
                    items,
                    total: page.total_count,
                    next_token: page.next_token,
                })
            }
        };

        let mut out = Deduper::new(|f: &FileInvocation| f.invoke_id.clone(), &mut on_page);
        match paging {
            Paging::Token => paging::by_token(ACTION, &mut out, |t| fetch(t, 0)).await?,
            Paging::Pages => {
                paging::by_number(ACTION, self.inner.concurrency, &mut out, |n| fetch(None, n))
                    .await?
            }
        }
        Ok(finish(out.summary, &stats))
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
        let endpoint = self.inner.endpoints.url(Api::Ecs, region)?;
        let mut base = vec![
            ("RegionId".to_owned(), region.to_owned()),
            (
                "ContentEncoding".to_owned(),
                filter.content_encoding.as_str().to_owned(),
            ),
        ];
        push_opt(&mut base, "InvokeId", &filter.invoke_id);
        push_opt(&mut base, "InstanceId", &filter.instance_id);
        push_opt(&mut base, "CommandId", &filter.command_id);
        push_opt(
            &mut base,
            "InvokeRecordStatus",
            &filter.invoke_record_status,
        );
        push_opt(&mut base, "ResourceGroupId", &filter.resource_group_id);
        if filter.include_history {
            base.push(("IncludeHistory".to_owned(), "true".to_owned()));
        }
        push_tags(&mut base, &filter.tags)?;
        let paging = filter.paging.unwrap_or(self.inner.paging);
        let encoding = filter.content_encoding;
        let stats = Stats::default();

        let fetch = |token: Option<String>, number: u64| {
            let mut query = base.clone();
            query.extend(page_params(paging, token, number));
            let req = RpcRequest {
                api: Api::Ecs,
                action: ACTION,
                region: region.to_owned(),
                query,
                form: Vec::new(),
            };
            let (endpoint, stats) = (&endpoint, &stats);
            async move {
                let reply = self
                    .inner
                    .transport
                    .call::<wire::InvocationResultsResponse>(&req, endpoint, stats)
                    .await?;
                let page = reply.value.invocation.unwrap_or_default();
                let items = page
                    .results
                    .into_vec()
                    .into_iter()
                    .map(|raw| normalize::command_result(region, encoding, raw))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| malformed(ACTION, endpoint, reply.request_id.clone(), e))?;
                Ok(PageOf {
                    items,
                    total: page.total_count,
                    next_token: page.next_token,
                })
            }
        };

        let mut out = Deduper::new(normalize::command_result_key, &mut on_page);
        match paging {
            Paging::Token => paging::by_token(ACTION, &mut out, |t| fetch(t, 0)).await?,
            Paging::Pages => {
                paging::by_number(ACTION, self.inner.concurrency, &mut out, |n| fetch(None, n))
                    .await?
            }
        }
        Ok(finish(out.summary, &stats))
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
        let endpoint = self.inner.endpoints.url(Api::Eflo, region)?;
        let mut form = vec![("InvokeId".to_owned(), invoke_id.to_owned())];
        if let Some(node) = node_id {
            form.push(("NodeId".to_owned(), node.to_owned()));
        }
        let req = RpcRequest {
            api: Api::Eflo,
            action: ACTION,
            region: region.to_owned(),
            query: Vec::new(),
            form,
        };
        let stats = Stats::default();
        let reply = self
            .inner
            .transport
            .call::<wire::SendFileResultsResponse>(&req, &endpoint, &stats)
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
}
