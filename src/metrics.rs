//! Prometheus metrics: requests by route and status, latency histograms, upstream calls.
//!
//! Every label comes from a fixed set, so no request can create a new time series: methods are
//! named by [`method_label`], routes by their templates (never raw paths), statuses are numbers.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The methods this service serves; anything else is labelled `OTHER` (and refused with 405).
pub const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The metrics label of an HTTP method: itself when known, else `OTHER`.
pub fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("OTHER")
}

#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    http_requests: IntCounterVec,
    http_latency: HistogramVec,
    upstream_requests: IntCounterVec,
    upstream_latency: HistogramVec,
    webhook_events: IntCounterVec,
}

const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("bff".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests served, by route and status",
            ),
            &["method", "route", "status"],
        )?;
        let http_latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency")
                .buckets(BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let upstream_requests = IntCounterVec::new(
            Opts::new(
                "upstream_requests_total",
                "Calls to the upstream, by outcome",
            ),
            &["method", "outcome"],
        )?;
        let upstream_latency = HistogramVec::new(
            HistogramOpts::new("upstream_request_duration_seconds", "Upstream call latency")
                .buckets(BUCKETS.to_vec()),
            &["method"],
        )?;
        let webhook_events = IntCounterVec::new(
            Opts::new(
                "webhook_events_total",
                "Verified webhook deliveries, by outcome (stored / duplicate)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(webhook_events.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_latency.clone()))?;
        registry.register(Box::new(upstream_requests.clone()))?;
        registry.register(Box::new(upstream_latency.clone()))?;
        Ok(Metrics {
            inner: Arc::new(Inner {
                registry,
                http_requests,
                http_latency,
                upstream_requests,
                upstream_latency,
                webhook_events,
            }),
        })
    }

    pub fn observe_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        self.inner
            .http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.inner
            .http_latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// `outcome` is the status code, or `timeout` / `unavailable`.
    pub fn observe_upstream(&self, method: &str, outcome: &str, elapsed: Duration) {
        let method = method_label(method);
        self.inner
            .upstream_requests
            .with_label_values(&[method, outcome])
            .inc();
        self.inner
            .upstream_latency
            .with_label_values(&[method])
            .observe(elapsed.as_secs_f64());
    }

    /// A verified webhook delivery was `stored` or recognised as a `duplicate`.
    pub fn observe_webhook(&self, outcome: &str) {
        self.inner
            .webhook_events
            .with_label_values(&[outcome])
            .inc();
    }

    /// Register a capability's own collector.
    pub fn register(
        &self,
        c: Box<dyn prometheus::core::Collector>,
    ) -> Result<(), prometheus::Error> {
        self.inner.registry.register(c)
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let encoder = TextEncoder::new();
        if encoder
            .encode(&self.inner.registry.gather(), &mut buf)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PATCH"), "PATCH");
        for m in ["FOO", "get", "PROPFIND", "TRACE", "CONNECT"] {
            assert_eq!(method_label(m), "OTHER", "{m}");
        }
    }
}
