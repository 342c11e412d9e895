//! Prometheus metrics: requests by route and status, latency histograms, upstream calls by route
//! template, store operations, sessions, idempotency, webhooks and forwarding, and the process.
//! `docs/metrics.md` describes every family.
//!
//! Every label comes from a fixed set, so no request can create a new time series: methods are
//! named by [`method_label`], routes by their templates (never raw paths), statuses are numbers,
//! and every other label is one of the enums below. Counters whose labels are all fixed are
//! resolved once at start-up, so counting is one atomic add.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
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

/// A fixed set of label values, one per variant.
trait Labelled: Copy + 'static {
    const ALL: &'static [Self];
    fn label(self) -> &'static str;
    fn index(self) -> usize;
}

/// Declare an enum whose variants are the only values of one label.
macro_rules! label_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl Labelled for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            fn index(self) -> usize {
                self as usize
            }
        }

        impl $name {
            /// The label value.
            pub fn as_str(self) -> &'static str {
                Labelled::label(self)
            }
        }
    };
}

label_enum!(
    /// A session the lock holder obtained from the upstream.
    SessionCall {
        /// Create-or-resume (`POST /v1/session`, or no usable session).
        Mint => "mint",
        /// A rotation of the refresh token (or its create-or-resume fallback).
        Refresh => "refresh",
    }
);

label_enum!(
    /// How a caller that found another holder's refresh in progress ended.
    CoalescedWait {
        /// It received the token the holder obtained (no upstream call of its own).
        Served => "served",
        /// It gave up after `session.wait_timeout_ms`.
        TimedOut => "timed_out",
    }
);

label_enum!(
    /// What an idempotency claim of a mutating proxied call came to.
    IdempotencyOutcome {
        /// First use of the key: the call ran.
        Run => "run",
        /// The stored answer was replayed.
        Replayed => "replayed",
        /// The key was used with another body (422).
        Conflict => "conflict",
        /// A call with the key is still in flight (409).
        InUse => "in_use",
    }
);

label_enum!(
    /// Why a webhook delivery was refused.
    WebhookRejection {
        /// Missing or wrong `X-AL-Signature` (401).
        Signature => "signature",
        /// `X-AL-Timestamp` outside the tolerance (401).
        Timestamp => "timestamp",
        /// Another tenant or application (403).
        Forbidden => "forbidden",
        /// Not a usable delivery: bad headers or body (400).
        Invalid => "invalid",
        /// The same event is being processed (409).
        InFlight => "in_flight",
        /// Body over the limit (413).
        TooLarge => "too_large",
        /// Body not received in time (408).
        Timeout => "timeout",
        /// Too many deliveries being read at once (429).
        Busy => "busy",
        /// The store failed (503).
        Store => "store",
    }
);

label_enum!(
    /// One forwarding attempt to a partner URL.
    ForwardAttempt {
        /// The URL answered 2xx.
        Delivered => "delivered",
        /// The URL answered something else.
        HttpError => "http_error",
        /// No answer within `webhook.forward_timeout_ms`.
        Timeout => "timeout",
        /// No connection.
        ConnectionFailed => "connection_failed",
    }
);

label_enum!(
    /// What became of one event for one forwarding URL.
    ForwardEvent {
        /// An attempt succeeded.
        Delivered => "delivered",
        /// Every attempt failed.
        GaveUp => "gave_up",
        /// Never attempted: the queue was full or closed.
        Dropped => "dropped",
    }
);

label_enum!(
    /// A store operation (the methods of the store trait).
    StoreOp {
        Ping => "ping",
        Get => "get",
        Set => "set",
        SetNx => "set_nx",
        Delete => "delete",
        CompareAndDelete => "compare_and_delete",
        CompareAndExpire => "compare_and_expire",
        GetVersioned => "get_versioned",
        PutVersioned => "put_versioned",
        Incr => "incr",
        HashSet => "hash_set",
        HashGet => "hash_get",
        HashGetAll => "hash_get_all",
        StreamAppend => "stream_append",
        StreamAppendIfNewer => "stream_append_if_newer",
        StreamRead => "stream_read",
        IndexPut => "index_put",
        IndexRemove => "index_remove",
        IndexDesc => "index_desc",
        IndexLen => "index_len",
        SchedulePut => "schedule_put",
        ScheduleTakeDue => "schedule_take_due",
        Publish => "publish",
        Subscribe => "subscribe",
    }
);

label_enum!(
    /// The kind of a store failure.
    StoreFailure {
        /// Unreachable or too slow.
        Unavailable => "unavailable",
        /// A cursor the store did not issue.
        InvalidCursor => "invalid_cursor",
        /// Data the store should not hold.
        Corrupt => "corrupt",
    }
);

/// One counter per value of `L`, resolved once.
struct Counters<L: Labelled> {
    by: Vec<IntCounter>,
    _l: std::marker::PhantomData<L>,
}

impl<L: Labelled> Counters<L> {
    fn new(registry: &Registry, name: &str, help: &str, label: &str) -> prometheus::Result<Self> {
        let vec = IntCounterVec::new(Opts::new(name, help), &[label])?;
        registry.register(Box::new(vec.clone()))?;
        // Every series exists from the start (at 0), so rates and alerts see it before it moves.
        let by = L::ALL
            .iter()
            .map(|l| vec.get_metric_with_label_values(&[l.label()]))
            .collect::<prometheus::Result<_>>()?;
        Ok(Counters {
            by,
            _l: std::marker::PhantomData,
        })
    }

    fn inc(&self, l: L) {
        self.by[l.index()].inc();
    }
}

#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    /// The process collector, whose families keep their standard unprefixed names.
    process: Registry,
    http_requests: IntCounterVec,
    http_latency: HistogramVec,
    upstream_requests: IntCounterVec,
    upstream_latency: HistogramVec,
    webhook_events: IntCounterVec,
    webhook_rejections: Counters<WebhookRejection>,
    session_calls_ok: Counters<SessionCall>,
    session_calls_failed: Counters<SessionCall>,
    coalesced: Counters<CoalescedWait>,
    idempotency: Counters<IdempotencyOutcome>,
    forward_attempts: Counters<ForwardAttempt>,
    forward_events: Counters<ForwardEvent>,
    forward_backlog: IntGauge,
    store_latency: Vec<Histogram>,
    /// By operation, then by failure kind.
    store_errors: Vec<Vec<IntCounter>>,
}

const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Store operations are mostly sub-millisecond: finer at the bottom.
const STORE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
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
                "Calls to the upstream, by route template and outcome",
            ),
            &["method", "route", "outcome"],
        )?;
        let upstream_latency = HistogramVec::new(
            HistogramOpts::new(
                "upstream_request_duration_seconds",
                "Upstream call latency, by route template",
            )
            .buckets(BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let webhook_events = IntCounterVec::new(
            Opts::new(
                "webhook_events_total",
                "Verified webhook deliveries, by outcome (stored / duplicate / ping)",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(webhook_events.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_latency.clone()))?;
        registry.register(Box::new(upstream_requests.clone()))?;
        registry.register(Box::new(upstream_latency.clone()))?;
        let webhook_rejections = Counters::new(
            &registry,
            "webhook_rejections_total",
            "Webhook deliveries refused, by reason",
            "reason",
        )?;
        let session_calls_ok = Counters::new(
            &registry,
            "session_upstream_calls_total",
            "Sessions obtained from the upstream by the refresh lock holder, by kind",
            "kind",
        )?;
        let session_calls_failed = Counters::new(
            &registry,
            "session_upstream_failures_total",
            "Session mints and refreshes that failed (upstream refusal or no answer), by kind",
            "kind",
        )?;
        let coalesced = Counters::new(
            &registry,
            "session_coalesced_waits_total",
            "Callers that waited for another caller's session refresh instead of calling the upstream, by outcome",
            "outcome",
        )?;
        let idempotency = Counters::new(
            &registry,
            "idempotency_requests_total",
            "Mutating proxied calls by idempotency outcome",
            "outcome",
        )?;
        let forward_attempts = Counters::new(
            &registry,
            "webhook_forward_attempts_total",
            "Webhook forwarding attempts to partner URLs, by outcome",
            "outcome",
        )?;
        let forward_events = Counters::new(
            &registry,
            "webhook_forward_events_total",
            "Events forwarded per URL, by final outcome",
            "outcome",
        )?;
        let forward_backlog =
            IntGauge::new("webhook_forward_backlog", "Events waiting to be forwarded")?;
        registry.register(Box::new(forward_backlog.clone()))?;
        let store_latency_vec = HistogramVec::new(
            HistogramOpts::new(
                "store_operation_duration_seconds",
                "Store operation latency, by operation",
            )
            .buckets(STORE_BUCKETS.to_vec()),
            &["op"],
        )?;
        registry.register(Box::new(store_latency_vec.clone()))?;
        let store_latency = StoreOp::ALL
            .iter()
            .map(|op| store_latency_vec.get_metric_with_label_values(&[op.label()]))
            .collect::<prometheus::Result<_>>()?;
        let store_errors = IntCounterVec::new(
            Opts::new(
                "store_errors_total",
                "Failed store operations, by operation and kind",
            ),
            &["op", "kind"],
        )?;
        registry.register(Box::new(store_errors.clone()))?;
        let store_errors = StoreOp::ALL
            .iter()
            .map(|op| {
                StoreFailure::ALL
                    .iter()
                    .map(|kind| {
                        store_errors.get_metric_with_label_values(&[op.label(), kind.label()])
                    })
                    .collect::<prometheus::Result<Vec<_>>>()
            })
            .collect::<prometheus::Result<_>>()?;
        let process = Registry::new();
        #[cfg(target_os = "linux")]
        process.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(Metrics {
            inner: Arc::new(Inner {
                registry,
                process,
                http_requests,
                http_latency,
                upstream_requests,
                upstream_latency,
                webhook_events,
                webhook_rejections,
                session_calls_ok,
                session_calls_failed,
                coalesced,
                idempotency,
                forward_attempts,
                forward_events,
                forward_backlog,
                store_latency,
                store_errors,
            }),
        })
    }

    pub fn observe_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        // The status text from the http crate's static table: no allocation per request.
        let code = actix_web::http::StatusCode::from_u16(status).ok();
        let owned;
        let status_label = match &code {
            Some(c) => c.as_str(),
            None => {
                owned = status.to_string();
                &owned
            }
        };
        self.inner
            .http_requests
            .with_label_values(&[method, route, status_label])
            .inc();
        self.inner
            .http_latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// `route` is the upstream route template (`other` when unknown); `outcome` is the status
    /// code, or `timeout` / `unavailable` / `too_large`.
    pub fn observe_upstream(
        &self,
        method: &str,
        route: &'static str,
        outcome: &str,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        self.inner
            .upstream_requests
            .with_label_values(&[method, route, outcome])
            .inc();
        self.inner
            .upstream_latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// A verified webhook delivery was `stored`, recognised as a `duplicate`, or a `ping`.
    pub fn observe_webhook(&self, outcome: &'static str) {
        self.inner
            .webhook_events
            .with_label_values(&[outcome])
            .inc();
    }

    /// A webhook delivery was refused.
    pub fn webhook_rejected(&self, reason: WebhookRejection) {
        self.inner.webhook_rejections.inc(reason);
    }

    /// The refresh lock holder called the upstream for a session: `ok` when it got one.
    pub fn session_call(&self, kind: SessionCall, ok: bool) {
        if ok {
            self.inner.session_calls_ok.inc(kind);
        } else {
            self.inner.session_calls_failed.inc(kind);
        }
    }

    /// A caller waited for another caller's refresh.
    pub fn session_coalesced(&self, outcome: CoalescedWait) {
        self.inner.coalesced.inc(outcome);
    }

    /// The idempotency claim of a mutating proxied call.
    pub fn idempotency(&self, outcome: IdempotencyOutcome) {
        self.inner.idempotency.inc(outcome);
    }

    /// One attempt to deliver a forwarded webhook to a partner URL.
    pub fn forward_attempt(&self, outcome: ForwardAttempt) {
        self.inner.forward_attempts.inc(outcome);
    }

    /// The final outcome of forwarding one event to one URL.
    pub fn forward_event(&self, outcome: ForwardEvent) {
        self.inner.forward_events.inc(outcome);
    }

    /// Events waiting to be forwarded right now.
    pub fn forward_backlog(&self, waiting: usize) {
        self.inner
            .forward_backlog
            .set(i64::try_from(waiting).unwrap_or(i64::MAX));
    }

    /// One store operation: its latency, and its failure when it failed.
    pub fn observe_store(&self, op: StoreOp, elapsed: Duration, failure: Option<StoreFailure>) {
        self.inner.store_latency[op.index()].observe(elapsed.as_secs_f64());
        if let Some(kind) = failure {
            self.inner.store_errors[op.index()][kind.index()].inc();
        }
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
        let mut families = self.inner.registry.gather();
        families.extend(self.inner.process.gather());
        let mut buf = Vec::new();
        if TextEncoder::new().encode(&families, &mut buf).is_err() {
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

    #[test]
    fn fixed_label_counters_start_at_zero_and_count_their_own_series() {
        let m = Metrics::new().unwrap();
        let text = m.render();
        for outcome in ["run", "replayed", "conflict", "in_use"] {
            assert!(
                text.contains(&format!(
                    "bff_idempotency_requests_total{{outcome=\"{outcome}\"}} 0"
                )),
                "{text}"
            );
        }
        m.idempotency(IdempotencyOutcome::InUse);
        m.idempotency(IdempotencyOutcome::InUse);
        m.observe_store(
            StoreOp::PutVersioned,
            Duration::from_millis(1),
            Some(StoreFailure::Unavailable),
        );
        let text = m.render();
        assert!(text.contains("bff_idempotency_requests_total{outcome=\"in_use\"} 2"));
        assert!(text.contains("bff_idempotency_requests_total{outcome=\"run\"} 0"));
        assert!(
            text.contains("bff_store_errors_total{kind=\"unavailable\",op=\"put_versioned\"} 1")
        );
        assert!(text.contains("bff_store_operation_duration_seconds_count{op=\"put_versioned\"} 1"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_metrics_keep_their_standard_names() {
        let text = Metrics::new().unwrap().render();
        assert!(text.contains("\nprocess_resident_memory_bytes "), "{text}");
        assert!(!text.contains("bff_process_"));
    }
}
