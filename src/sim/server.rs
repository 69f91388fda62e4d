//! The HTTP side: one endpoint that answers ECS (2014-05-26) and
//! eflo-controller (2022-12-15) RPC calls at `/`, plus `/_sim/*` for
//! observing and steering the simulator.
//!
//! Connections are accepted here rather than by `axum::serve` so that a
//! "dropped connection" fault can close a socket without answering, the way
//! a failing load balancer does.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Extension, Json};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use jiff::SignedDuration;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use super::actions::Action;
use super::auth::{self, SignedRequest};
use super::context::Sim;
use super::errors::{ApiError, Envelope};
use super::faults::Fault;
use super::hostile;
use super::params::Params;
use super::stats::Stats;
use super::xml;
use crate::protocol::Provider;
use crate::protocol::request::v1_params;

/// Lets a handler close its own connection without answering.
#[derive(Debug, Clone)]
struct ConnectionControl(Arc<Notify>);

pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/", any(api))
        .route("/_sim/stats", get(stats))
        .route("/_sim/clock", get(clock).post(advance_clock))
        .fallback(not_found)
        .with_state(sim)
}

/// Accepts connections until `shutdown` flips, serving each with HTTP/1.1.
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let control = ConnectionControl(kill.clone());
            let service = tower::ServiceExt::map_request(
                router,
                move |mut request: axum::http::Request<Incoming>| {
                    request.extensions_mut().insert(control.clone());
                    request
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::select! {
                _ = connection => {}
                // Dropping the connection future closes the socket unanswered.
                _ = kill.notified() => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

fn pairs(text: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text).into_owned().collect()
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

async fn api(
    State(sim): State<Arc<Sim>>,
    Extension(control): Extension<ConnectionControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = sim.request_id();
    let host_id = header_str(&headers, "host")
        .unwrap_or("ecs.aliyuncs.com")
        .to_owned();
    let query = pairs(uri.query().unwrap_or_default().as_bytes());
    let is_form = header_str(&headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form { pairs(&body) } else { Vec::new() };
    // A name in both the query and the body counts once, the body's value
    // winning, as the old Python SDK signs it.
    let merged: Vec<(String, String)> = v1_params(&query, &form)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let as_xml = xml::wants_xml(&merged);
    let v3 = auth::is_v3(&headers);
    let lookup = |name: &str, header_name: &str| -> Option<String> {
        if v3 {
            header_str(&headers, header_name).map(str::to_owned)
        } else {
            merged
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        }
    };
    let action_name = lookup("Action", "x-acs-action");
    let version = lookup("Version", "x-acs-version");
    let product = version.as_deref().and_then(Provider::from_version);
    let label = format!(
        "{}/{}",
        product.map_or("unknown", Provider::host_prefix),
        action_name.as_deref().unwrap_or("-")
    );
    sim.counters.request(&label);
    let reply = |error: ApiError| {
        error_response(
            &sim,
            &error,
            &request_id,
            &host_id,
            product.unwrap_or(Provider::Ecs),
            &label,
            as_xml,
        )
    };

    let xml_root = as_xml.then(|| format!("{}Response", action_name.as_deref().unwrap_or("")));
    let mut truncate = false;
    if sim
        .faults
        .applies_to(action_name.as_deref().unwrap_or_default())
    {
        if let Some(latency) = sim.faults.latency() {
            tokio::time::sleep(latency).await;
        }
        let fault = sim
            .faults
            .fault_for(sim.fault_sequence.fetch_add(1, Ordering::Relaxed));
        if fault != Fault::None {
            sim.counters.fault(fault.name());
            tracing::info!(action = %label, fault = fault.name(), "injecting a fault");
        }
        match fault {
            Fault::None => {}
            Fault::Throttle => return reply(ApiError::throttled(sim.faults.retry_after_ms())),
            Fault::InternalError => return reply(ApiError::internal_dispatch()),
            Fault::Unavailable => return reply(ApiError::service_unavailable()),
            Fault::Drop => {
                control.0.notify_one();
                return std::future::pending::<Response>().await;
            }
            Fault::Truncate => truncate = true,
        }
    }

    let Some(action_name) = action_name else {
        return reply(ApiError::missing_parameter(if v3 {
            "x-acs-action"
        } else {
            "Action"
        }));
    };
    let Some(version) = version else {
        return reply(ApiError::missing_parameter(if v3 {
            "x-acs-version"
        } else {
            "Version"
        }));
    };
    let Some(product) = product else {
        return reply(ApiError::invalid_version(&version));
    };
    let signed = SignedRequest {
        method: method.as_str(),
        query: &query,
        form: &form,
        headers: &headers,
        body: &body,
    };
    if let Err(error) = auth::verify(&signed, &sim.keyring, &sim.nonces, sim.tolerance) {
        return reply(error);
    }
    let Some(action) = Action::find(product, &action_name) else {
        return reply(ApiError::action_not_found(&action_name, &version));
    };
    let mut pairs = merged;
    let hostile = sim
        .faults
        .hostile()
        .zip(hostile::shape(product, &action_name));
    if let Some((spec, shape)) = &hostile {
        match hostile::before(spec, shape, pairs, &request_id) {
            hostile::Before::Run(rewritten) => pairs = rewritten,
            hostile::Before::Answer(body) => {
                sim.counters.fault(spec.kind.name());
                return success_response(body, &request_id, truncate, xml_root.as_deref());
            }
        }
    }
    let params = Params::new(pairs.clone());
    let mut answer = match action.run(&sim, &params, &request_id) {
        Ok(answer) => answer,
        Err(error) => return reply(error),
    };
    if let Some((spec, shape)) = &hostile {
        answer = hostile::after(spec, shape, &pairs, answer, &sim.hostile, &request_id);
    }
    tracing::info!(action = %label, status = 200, "served");
    success_response(answer, &request_id, truncate, xml_root.as_deref())
}

/// The answer, as XML under `xml_root` when the request asked for it.
fn success_response(
    answer: Vec<u8>,
    request_id: &str,
    truncate: bool,
    xml_root: Option<&str>,
) -> Response {
    let xml = xml_root.and_then(|root| xml::from_json(root, &answer));
    let is_xml = xml.is_some();
    let body = Bytes::from(xml.unwrap_or(answer));
    let mut response = if truncate {
        // The full length is announced, half is sent, then the connection
        // fails: what a client sees when a proxy dies mid-response.
        let half = body.slice(..body.len() / 2);
        let chunks = futures_util::stream::unfold((0u8, half), |(step, half)| async move {
            match step {
                0 => Some((Ok(half.clone()), (1, half))),
                1 => {
                    // Pausing lets the server flush the head and the first
                    // half before the failure closes the connection.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let error = std::io::Error::other("body truncated by the simulator");
                    Some((Err(error), (2, half)))
                }
                _ => None,
            }
        });
        let mut response = Response::new(Body::from_stream(chunks));
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        response
    } else {
        Response::new(Body::from(body))
    };
    set_common_headers(response.headers_mut(), request_id, is_xml);
    response
}

fn error_response(
    sim: &Sim,
    error: &ApiError,
    request_id: &str,
    host_id: &str,
    product: Provider,
    label: &str,
    as_xml: bool,
) -> Response {
    sim.counters.error(error.code);
    // The code only: messages can carry a string-to-sign.
    tracing::info!(action = %label, status = error.status.as_u16(), code = error.code, "refused");
    let envelope = Envelope::new(error, request_id, host_id, product);
    let xml = as_xml
        .then(|| serde_json::to_vec(&envelope).ok())
        .flatten()
        .and_then(|json| xml::from_json("Error", &json));
    let is_xml = xml.is_some();
    let mut response = match xml {
        Some(xml) => (error.status, xml).into_response(),
        None => (error.status, Json(envelope)).into_response(),
    };
    set_common_headers(response.headers_mut(), request_id, is_xml);
    if let Some(ms) = error.retry_after_ms {
        response
            .headers_mut()
            .insert("x-acs-retry-after", HeaderValue::from(ms));
    }
    response
}

fn set_common_headers(headers: &mut HeaderMap, request_id: &str, is_xml: bool) {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if is_xml {
            "application/xml;charset=utf-8"
        } else {
            "application/json;charset=utf-8"
        }),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-acs-request-id", value);
    }
}

async fn stats(State(sim): State<Arc<Sim>>) -> Json<Stats> {
    Json(sim.stats())
}

async fn clock(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(serde_json::json!({ "now": sim.now().to_string() }))
}

#[derive(Debug, serde::Deserialize)]
struct AdvanceQuery {
    by: String,
}

/// `POST /_sim/clock?by=90s`: moves simulated time forward.
async fn advance_clock(State(sim): State<Arc<Sim>>, Query(query): Query<AdvanceQuery>) -> Response {
    match humantime::parse_duration(&query.by) {
        Ok(by) => {
            sim.clock
                .advance(SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX));
            Json(serde_json::json!({ "now": sim.now().to_string() })).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("`{}` is not a duration ({e}); try 30s or 5m\n", query.by),
        )
            .into_response(),
    }
}

async fn not_found(State(sim): State<Arc<Sim>>, uri: Uri, headers: HeaderMap) -> Response {
    let host_id = header_str(&headers, "host")
        .unwrap_or("ecs.aliyuncs.com")
        .to_owned();
    error_response(
        &sim,
        &ApiError::not_found_path(uri.path()),
        &sim.request_id(),
        &host_id,
        Provider::Ecs,
        "unknown/-",
        false,
    )
}
