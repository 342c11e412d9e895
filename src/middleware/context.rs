//! Per-request context. For every request this middleware:
//! - accepts or generates the correlation id and `traceparent` and hands them to handlers
//!   ([`RequestContext`]), and to error rendering through a task-local;
//! - opens the `request` span (correlation id, method, route; status once known), so every log
//!   line emitted while serving carries them; with trace export on it is the exported server
//!   span, child of the incoming `traceparent` (see `telemetry::server_span`);
//! - turns any framework-level failure that is not already in the envelope (unknown route, wrong
//!   method, body too large, malformed JSON) into the envelope;
//! - echoes `X-Correlation-ID` and `X-Content-Type-Options: nosniff` on every response, errors
//!   included, and records metrics (labels from fixed sets only);
//! - refuses a method this service never serves (anything but GET, HEAD, POST, PUT, PATCH, DELETE
//!   and OPTIONS) with 405 before routing, so made-up methods cost nothing downstream.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use tracing::Instrument;

use crate::domain::context::with_correlation_id;
use crate::domain::{CorrelationId, PassThrough, RequestContext, TraceParent};
use crate::error::{envelope_for_status, error_envelope, Enveloped, ErrorCode};
use crate::metrics::{method_label, Metrics, KNOWN_METHODS};
use aarthik_contract::headers;

/// Handlers receive the request's [`RequestContext`] as an extractor; the middleware below put it
/// in the request extensions (a request that bypassed it gets a background context).
impl FromRequest for RequestContext {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req
            .extensions()
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_else(RequestContext::background);
        ready(Ok(ctx))
    }
}

/// A path prefix whose requests all carry one route label, recognised without walking the
/// resource map (see [`route_label`]).
#[derive(Debug, Clone, Copy)]
pub struct PrefixRoute {
    /// Matches the prefix itself and anything below it (`{prefix}/…`).
    pub prefix: &'static str,
    pub label: &'static str,
}

impl PrefixRoute {
    fn matches(&self, path: &str) -> bool {
        path.strip_prefix(self.prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

pub struct RequestContextMiddleware {
    metrics: Metrics,
    hot: Option<PrefixRoute>,
    export: bool,
}

impl RequestContextMiddleware {
    /// `hot`: the busiest scope (the proxy), labelled by its prefix alone.
    pub fn new(metrics: Metrics, hot: Option<PrefixRoute>) -> Self {
        RequestContextMiddleware {
            metrics,
            hot,
            export: false,
        }
    }

    /// Open the request span as an exported server span (`telemetry.otlp_endpoint` set).
    pub fn with_trace_export(mut self, on: bool) -> Self {
        self.export = on;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequestContextMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = ContextService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ContextService {
            service: Rc::new(service),
            metrics: self.metrics.clone(),
            hot: self.hot,
            export: self.export,
        }))
    }
}

pub struct ContextService<S> {
    service: Rc<S>,
    metrics: Metrics,
    hot: Option<PrefixRoute>,
    export: bool,
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for ContextService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let correlation_id = CorrelationId::from_header(header(headers::CORRELATION_ID).as_deref());
        let route = route_label(&req, self.hot);
        let method = method_label(req.method().as_str());
        let (span, traceparent) = if self.export {
            let received = header(headers::TRACEPARENT).and_then(|v| TraceParent::parse(&v));
            crate::telemetry::server_span(method, &route, &correlation_id, received)
        } else {
            let traceparent = TraceParent::from_header(header(headers::TRACEPARENT).as_deref());
            let span = tracing::info_span!(
                "request",
                correlation_id = %correlation_id,
                trace_id = %traceparent.trace_id(),
                method = %method,
                route = %route,
            );
            (span, traceparent)
        };
        req.extensions_mut().insert(RequestContext {
            correlation_id: correlation_id.clone(),
            traceparent,
        });
        let service = Rc::clone(&self.service);
        let metrics = self.metrics.clone();
        let cid = correlation_id.to_string();
        let known = method != "OTHER";
        let export = self.export;
        let fut = async move {
            // Handlers and extractors turn their errors into responses already; an `Err` here comes
            // from an inner middleware and is rendered by actix itself. (Cloning the request up
            // front to render it here would break routing, which needs the request unshared.)
            let mut res = if known {
                envelope_safety_net(service.call(req).await?.map_into_boxed_body())
            } else {
                req.into_response(method_not_allowed())
            };
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&cid) {
                h.insert(HeaderName::from_static("x-correlation-id"), v);
            }
            h.insert(
                actix_web::http::header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            let status = res.status().as_u16();
            let elapsed = started.elapsed();
            metrics.observe_http(method, &route, status, elapsed);
            if export {
                let span = tracing::Span::current();
                span.record("status", status);
                if status >= 500 {
                    span.record("otel.status_code", "error");
                }
                tracing::info!(
                    latency_ms = elapsed.as_secs_f64() * 1000.0,
                    "request completed"
                );
            } else {
                // The status goes on the access-log line itself: recording it on the span would
                // make the log formatter re-format every span field (a few % of a proxied call).
                tracing::info!(
                    status,
                    latency_ms = elapsed.as_secs_f64() * 1000.0,
                    "request completed"
                );
            }
            Ok(res)
        };
        let scoped = with_correlation_id(correlation_id.to_string(), fut);
        Box::pin(scoped.instrument(span))
    }
}

/// 405 for a method no route of this service serves, naming the ones it does.
fn method_not_allowed() -> actix_web::HttpResponse {
    let mut res = error_envelope(
        ErrorCode::MethodNotAllowed,
        ErrorCode::MethodNotAllowed.default_message(),
    );
    if let Ok(v) = HeaderValue::from_str(&KNOWN_METHODS.join(", ")) {
        res.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    res
}

/// The route pattern for logs and metrics. `match_pattern` walks the resource map (a regex per
/// dynamic route), which profiling showed at ~6 % of the proxy's CPU; the proxy scope — the
/// hottest path — is recognised by its prefix instead.
fn route_label(req: &ServiceRequest, hot: Option<PrefixRoute>) -> String {
    if let Some(hot) = hot.filter(|h| h.matches(req.path())) {
        return hot.label.to_owned();
    }
    req.match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned())
}

/// Any 4xx/5xx answer that is neither our envelope nor a proxied upstream body gets the envelope.
fn envelope_safety_net(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let already = {
        let ext = res.response().extensions();
        ext.get::<Enveloped>().is_some() || ext.get::<PassThrough>().is_some()
    };
    if already {
        return res;
    }
    let (req, original) = res.into_parts();
    if status.is_server_error() {
        tracing::error!(
            status = status.as_u16(),
            "unhandled server error replaced by envelope"
        );
    }
    let mut replacement = envelope_for_status(status);
    // Keep headers such as Allow / Retry-After / WWW-Authenticate set by the framework or handler.
    for (name, value) in original.headers() {
        if name != actix_web::http::header::CONTENT_TYPE
            && name != actix_web::http::header::CONTENT_LENGTH
        {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, replacement)
}

#[cfg(test)]
mod tests {
    use super::PrefixRoute;

    #[test]
    fn a_prefix_route_matches_its_prefix_and_below_only() {
        let hot = PrefixRoute {
            prefix: "/v1/headless",
            label: "/v1/headless/{path}",
        };
        assert!(hot.matches("/v1/headless"));
        assert!(hot.matches("/v1/headless/journeys/j-1"));
        assert!(!hot.matches("/v1/headlessx"));
        assert!(!hot.matches("/v1/session"));
    }
}
