//! The client of every upstream call (a connection pool per calling thread, see `PerThreadHttp`).
//! It attaches the right credential (the `sk_*` key only on key-authenticated calls), the correlation id, a child `traceparent`, the
//! idempotency key and the configured `X-AL-API-Version` pin; maps transport failures to typed errors; and hands back upstream answers
//! (2xx or not) untouched so they can be passed through. No URL, key or token is ever logged.
//! Metrics and spans name a call by its route template (`aarthik_contract::paths::template_of`),
//! never by its path. With trace export on, a call made while serving a request is a client span
//! whose id is the `traceparent` parent the upstream sees.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use opentelemetry::trace::TraceContextExt;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use thread_local::ThreadLocal;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::UpstreamError;
use crate::domain::{spans, RequestContext, TraceParent};
use crate::metrics::Metrics;
use aarthik_contract::headers;
use aarthik_contract::Envelope;

/// Which credential a call carries.
#[derive(Clone, Copy)]
pub enum Credential<'a> {
    /// The platform `sk_*` key (sessions, webhook subscription).
    ApiKey,
    /// A borrower session token (`st_*`).
    Session(&'a SecretString),
    /// A borrower refresh token (`rt_*`), on the refresh endpoint only.
    Refresh(&'a SecretString),
    /// Nothing.
    None,
}

/// One upstream call.
pub struct UpstreamRequest<'a> {
    pub method: Method,
    /// Path and query, e.g. `/api/v1/headless/journeys?x=1`.
    pub path_and_query: String,
    pub credential: Credential<'a>,
    pub body: Option<Bytes>,
    /// Forwarded headers (already filtered by the caller).
    pub headers: HeaderMap,
    pub idempotency_key: Option<String>,
    pub ctx: &'a RequestContext,
}

/// An upstream answer of any status.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl UpstreamResponse {
    /// Parse the envelope's `data` of a 2xx answer.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, UpstreamError> {
        let env: Envelope<T> = serde_json::from_slice(&self.body)
            .map_err(|e| UpstreamError::Protocol(format!("envelope: {e}")))?;
        env.data
            .ok_or_else(|| UpstreamError::Protocol("envelope without data".into()))
    }

    /// `error.code` of a non-2xx envelope, when there is one.
    pub fn error_code(&self) -> Option<String> {
        serde_json::from_slice::<Envelope<serde_json::Value>>(&self.body)
            .ok()
            .and_then(|e| e.error)
            .map(|e| e.code)
    }
}

/// One `reqwest` client (and so one connection pool) per thread that calls the upstream.
///
/// Why: a pooled connection is driven by a task on the runtime of the thread that opened it. With
/// one client shared by every actix worker, a call from worker A often rides a connection opened
/// by worker B, and every read and write then wakes the other thread. Profiling showed those
/// wake-ups (context switches) as the largest single cost of a proxied call
/// (docs/benchmarks.md); with a client per thread each worker drives its own sockets.
struct PerThreadHttp {
    connect_timeout: Duration,
    total_timeout: Duration,
    clients: ThreadLocal<reqwest::Client>,
}

impl PerThreadHttp {
    fn client(&self) -> Result<&reqwest::Client, UpstreamError> {
        self.clients.get_or_try(|| {
            reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .timeout(self.total_timeout)
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(64)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("aarthik-bff/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| UpstreamError::Unavailable(format!("client: {}", e.without_url())))
        })
    }
}

#[derive(Clone)]
pub struct UpstreamClient {
    http: Arc<PerThreadHttp>,
    base_url: String,
    /// `base_url` parsed, and its path without the trailing slash ("" for the root).
    base: url::Url,
    base_path: String,
    primary_key: SecretString,
    secondary_key: Option<SecretString>,
    /// `X-AL-API-Version` on every call, when configured.
    api_version: Option<HeaderValue>,
    metrics: Metrics,
    max_response_bytes: usize,
    /// Trace export is on: a client span per call made inside a request.
    spans: bool,
}

/// The default of `upstream.max_response_bytes`.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

impl UpstreamClient {
    pub fn new(
        base_url: &str,
        primary_key: SecretString,
        secondary_key: Option<SecretString>,
        api_version: Option<&str>,
        connect_timeout: Duration,
        total_timeout: Duration,
        metrics: Metrics,
    ) -> Result<Self, UpstreamError> {
        let api_version = api_version
            .map(HeaderValue::from_str)
            .transpose()
            .map_err(|_| UpstreamError::Protocol("the API version is not a valid header".into()))?;
        let http = PerThreadHttp {
            connect_timeout,
            total_timeout,
            clients: ThreadLocal::new(),
        };
        // Built once here so a bad setting fails start-up, not the first call.
        http.client()?;
        let base_url = base_url.trim_end_matches('/').to_owned();
        let base = url::Url::parse(&base_url)
            .map_err(|e| UpstreamError::Protocol(format!("upstream base URL: {e}")))?;
        let base_path = base.path().trim_end_matches('/').to_owned();
        Ok(UpstreamClient {
            http: Arc::new(http),
            base,
            base_path,
            base_url,
            primary_key,
            secondary_key: secondary_key.filter(|k| !k.expose_secret().is_empty()),
            api_version,
            metrics,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            spans: false,
        })
    }

    /// Open a client span per call made inside a request (trace export on).
    pub fn with_trace_spans(mut self, on: bool) -> Self {
        self.spans = on;
        self
    }

    /// Refuse upstream answers larger than `limit` bytes (`upstream.max_response_bytes`).
    pub fn with_max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL of `path_and_query` under the base URL: the parsed base with its path and query
    /// replaced, so a call does not re-parse (and re-check the host of) the whole URL.
    fn url_of(&self, path_and_query: &str) -> url::Url {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let mut url = self.base.clone();
        if self.base_path.is_empty() {
            url.set_path(path);
        } else {
            url.set_path(&format!("{}{path}", self.base_path));
        }
        url.set_query(query);
        url
    }

    /// Send one call. With the API key, an upstream 401 is retried once with the secondary key
    /// (key rotation), with a warning.
    pub async fn send(&self, req: UpstreamRequest<'_>) -> Result<UpstreamResponse, UpstreamError> {
        let first = self.send_once(&req, &self.primary_key).await?;
        if first.status == StatusCode::UNAUTHORIZED && matches!(req.credential, Credential::ApiKey)
        {
            if let Some(secondary) = &self.secondary_key {
                tracing::warn!(
                    "upstream rejected the primary API key; retrying with the secondary key (rotate the primary)"
                );
                return self.send_once(&req, secondary).await;
            }
        }
        Ok(first)
    }

    async fn send_once(
        &self,
        req: &UpstreamRequest<'_>,
        key: &SecretString,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let url = self.url_of(&req.path_and_query);
        let mut builder = self
            .http
            .client()?
            .request(req.method.clone(), url)
            .headers(req.headers.clone());
        let bearer = match req.credential {
            Credential::ApiKey => Some(key.expose_secret().to_owned()),
            Credential::Session(t) | Credential::Refresh(t) => Some(t.expose_secret().to_owned()),
            Credential::None => None,
        };
        let route = aarthik_contract::paths::template_of(&req.path_and_query);
        if let Some(token) = bearer {
            let mut v = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| UpstreamError::Protocol("credential is not a valid header".into()))?;
            v.set_sensitive(true);
            builder = builder.header(headers::AUTHORIZATION, v);
        }
        builder = builder.header(headers::CORRELATION_ID, req.ctx.correlation_id.as_str());
        if let Some(k) = &req.idempotency_key {
            builder = builder.header(headers::IDEMPOTENCY_KEY, k.as_str());
        }
        if let Some(v) = &self.api_version {
            builder = builder.header(headers::API_VERSION, v.clone());
        }
        if let Some(body) = &req.body {
            if !req.headers.contains_key(CONTENT_TYPE) {
                builder = builder.header(CONTENT_TYPE, "application/json");
            }
            builder = builder.body(body.clone());
        }
        if self.spans && spans::in_request() {
            let span = tracing::info_span!(
                target: spans::TARGET,
                "upstream",
                otel.name = %format_args!("{} {route}", req.method),
                otel.kind = "client",
                otel.status_code = tracing::field::Empty,
                http.request.method = %req.method,
                http.route = route,
                http.response.status_code = tracing::field::Empty,
            );
            // The upstream's spans hang under this one.
            let parent = req
                .ctx
                .traceparent
                .with_span(span.context().span().span_context())
                .unwrap_or_else(|| req.ctx.traceparent.child());
            let out = self
                .exchange(with_traceparent(builder, &parent), req, route)
                .instrument(span.clone())
                .await;
            match &out {
                Ok(res) => {
                    span.record("http.response.status_code", res.status.as_u16());
                    if res.status.is_server_error() {
                        span.record("otel.status_code", "error");
                    }
                }
                Err(_) => {
                    span.record("otel.status_code", "error");
                }
            }
            return out;
        }
        let builder = with_traceparent(builder, &req.ctx.traceparent.child());
        self.exchange(builder, req, route).await
    }

    /// Send the request and read the answer (capped), counting it under `route`.
    async fn exchange(
        &self,
        builder: reqwest::RequestBuilder,
        req: &UpstreamRequest<'_>,
        route: &'static str,
    ) -> Result<UpstreamResponse, UpstreamError> {
        let started = Instant::now();
        let method = req.method.as_str();
        let result = builder.send().await;
        let resp = match result {
            Ok(r) => r,
            Err(e) => return Err(self.transport_error(method, route, e, started)),
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match read_capped(resp, self.max_response_bytes).await {
            Ok(b) => b,
            Err(Capped::Transport(e)) => {
                return Err(self.transport_error(method, route, e, started))
            }
            Err(Capped::TooLarge) => {
                self.metrics
                    .observe_upstream(method, route, "too_large", started.elapsed());
                tracing::warn!(
                    upstream_status = status.as_u16(),
                    limit = self.max_response_bytes,
                    "upstream answer larger than upstream.max_response_bytes; refused"
                );
                return Err(UpstreamError::TooLarge {
                    limit: self.max_response_bytes,
                });
            }
        };
        self.metrics
            .observe_upstream(method, route, status.as_str(), started.elapsed());
        tracing::debug!(
            upstream_status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "upstream answered"
        );
        Ok(UpstreamResponse {
            status,
            headers,
            body,
        })
    }

    fn transport_error(
        &self,
        method: &str,
        route: &'static str,
        e: reqwest::Error,
        started: Instant,
    ) -> UpstreamError {
        let e = e.without_url();
        let elapsed = started.elapsed();
        if e.is_timeout() {
            self.metrics
                .observe_upstream(method, route, "timeout", elapsed);
            tracing::warn!(
                elapsed_ms = elapsed.as_millis() as u64,
                "upstream timed out"
            );
            UpstreamError::Timeout
        } else {
            self.metrics
                .observe_upstream(method, route, "unavailable", elapsed);
            tracing::warn!(error = %e, "upstream unreachable");
            UpstreamError::Unavailable(e.to_string())
        }
    }
}

fn with_traceparent(
    builder: reqwest::RequestBuilder,
    parent: &TraceParent,
) -> reqwest::RequestBuilder {
    builder.header(headers::TRACEPARENT, parent.header_value())
}

enum Capped {
    Transport(reqwest::Error),
    TooLarge,
}

/// The body, read chunk by chunk and given up as soon as it is known to exceed `limit` (the
/// declared length first): a hostile upstream cannot make us buffer more than `limit` bytes.
async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Result<Bytes, Capped> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(Capped::TooLarge);
    }
    // Most answers arrive in one chunk: that one is kept as it is, without a copy.
    let Some(first) = resp.chunk().await.map_err(Capped::Transport)? else {
        return Ok(Bytes::new());
    };
    if first.len() > limit {
        return Err(Capped::TooLarge);
    }
    let Some(second) = resp.chunk().await.map_err(Capped::Transport)? else {
        return Ok(first);
    };
    let mut buf = bytes::BytesMut::with_capacity(first.len() + second.len());
    buf.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        if buf.len() + chunk.len() > limit {
            return Err(Capped::TooLarge);
        }
        buf.extend_from_slice(&chunk);
        next = resp.chunk().await.map_err(Capped::Transport)?;
    }
    Ok(buf.freeze())
}
