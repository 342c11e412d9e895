//! Child spans for trace export. The request span is opened by the request middleware; the store
//! and the upstream client open a child span per call, only when trace export is on
//! (`telemetry.otlp_endpoint`) and only inside a request — background loops (the wake-up hub,
//! the revocation poller) would otherwise start a trace per poll. Child spans carry [`TARGET`],
//! which the log output leaves out, so log lines keep the request span's fields.

/// The `tracing` target of the child spans.
pub const TARGET: &str = "bff_trace";

/// Whether the caller runs inside a span (a request's): only then is a child span worth opening.
pub fn in_request() -> bool {
    !tracing::Span::current().is_none()
}
