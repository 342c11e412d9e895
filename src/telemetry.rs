//! Log subscriber: JSON lines in production (or when asked), readable text locally; `RUST_LOG`
//! respected. Spans' fields (correlation id, method, route, status) ride on every line.
//!
//! Trace export (`telemetry.otlp_endpoint` set): the request spans and their store and upstream
//! child spans also go to an OTLP/HTTP collector (protobuf, batched on a background thread,
//! flushed by [`TraceExport::shutdown`]). With the endpoint empty the subscriber is exactly the
//! log subscriber: no exporter, no extra layer, no child spans.
//!
//! Text lines never carry raw control characters: a value can hold caller input (a serde error
//! message echoes the offending JSON), and a newline or an ANSI escape in it would forge a log
//! line or repaint a terminal. Every field is written through [`escape_controls`]; JSON lines
//! are escaped by the JSON encoder.

use std::fmt::Write as _;
use std::time::Duration;

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

use crate::config::LogFormat;
use crate::domain::{spans, CorrelationId, TraceParent};

/// `s` with every control character (newline, carriage return, escape, …) written as a Rust-style
/// escape (`\n`, `\u{1b}`), so one event stays one line and prints as plain text.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The field formatter of text lines: `name=value` (the message bare), control characters
/// escaped.
pub fn text_fields() -> impl for<'w> fmt::FormatFields<'w> + Send + Sync + 'static {
    fmt::format::debug_fn(|w, field, value| {
        let mut raw = String::new();
        let _ = write!(raw, "{value:?}");
        let safe = escape_controls(&raw);
        if field.name() == "message" {
            write!(w, "{safe}")
        } else {
            write!(w, "{}={safe}", field.name())
        }
    })
    .delimited(" ")
}

/// Bytes of log lines waiting for the writer thread before a logging request waits for room (none
/// is dropped).
const LOG_QUEUE_BYTES: usize = 4 * 1024 * 1024;
/// How long the writer lets lines gather after a write while the service is busy: a busy service
/// then costs one write (and one wake-up of the writer) per pause instead of one per line.
const LOG_BATCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

#[derive(Default)]
struct Pending {
    /// Whole lines, in the order they were logged.
    buf: Vec<u8>,
    /// The writer is waiting for lines (the next line must wake it).
    writer_idle: bool,
    /// Flush requests made / served.
    flush_asked: u64,
    flush_done: u64,
}

#[derive(Default)]
struct Shared {
    pending: std::sync::Mutex<Pending>,
    /// Wakes the writer (lines after idleness, a flush request).
    wake_writer: std::sync::Condvar,
    /// Wakes loggers waiting for room, and flushers waiting for their flush.
    progress: std::sync::Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where log lines go: a buffer drained by one thread that writes them to standard output, so a
/// request never waits on the write to stdout (a pipe, a file, a terminal) and many lines cost one
/// write. A line is appended under a short lock; the writer is woken only when it was idle, so a
/// busy service does not pay a thread wake-up per line (profiling showed that as a top cost, see
/// docs/benchmarks.md). Bounded: when the writer falls behind by [`LOG_QUEUE_BYTES`], logging waits
/// for room instead of dropping lines.
#[derive(Clone)]
pub struct QueuedStdout {
    shared: std::sync::Arc<Shared>,
}

impl QueuedStdout {
    /// Starts the writer thread (named `log-writer`); `None` if the thread cannot start.
    fn start() -> Option<Self> {
        Self::start_with(|batch| {
            use std::io::Write as _;
            // Not locked for good: others (`println!`) write to stdout too; each batch of whole
            // lines takes the lock only while it is written.
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(batch);
            let _ = out.flush();
        })
    }

    /// The queue with its writer thread handing each batch of whole lines to `sink`.
    fn start_with(sink: impl FnMut(&[u8]) + Send + 'static) -> Option<Self> {
        let shared = std::sync::Arc::new(Shared::default());
        let writer = std::sync::Arc::clone(&shared);
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || write_loop(&writer, sink))
            .ok()?;
        Some(QueuedStdout { shared })
    }

    fn push(&self, line: &[u8]) {
        let mut p = self.shared.lock();
        while p.buf.len() >= LOG_QUEUE_BYTES {
            p = self
                .shared
                .progress
                .wait(p)
                .unwrap_or_else(|e| e.into_inner());
        }
        p.buf.extend_from_slice(line);
        if p.writer_idle {
            p.writer_idle = false;
            self.shared.wake_writer.notify_one();
        }
    }

    /// Write out everything queued so far (waits at most `timeout`).
    pub fn flush(&self, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        let mut p = self.shared.lock();
        p.flush_asked += 1;
        let ticket = p.flush_asked;
        p.writer_idle = false;
        self.shared.wake_writer.notify_one();
        while p.flush_done < ticket {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            p = self
                .shared
                .progress
                .wait_timeout(p, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// The writer thread: take what is pending, write it, pause briefly while busy, repeat.
fn write_loop(shared: &Shared, mut sink: impl FnMut(&[u8])) {
    let mut batch = Vec::with_capacity(64 * 1024);
    loop {
        let flushes = {
            let mut p = shared.lock();
            while p.buf.is_empty() && p.flush_done == p.flush_asked {
                p.writer_idle = true;
                p = shared
                    .wake_writer
                    .wait(p)
                    .unwrap_or_else(|e| e.into_inner());
            }
            p.writer_idle = false;
            std::mem::swap(&mut batch, &mut p.buf);
            p.flush_asked
        };
        shared.progress.notify_all();
        let wrote = !batch.is_empty();
        if wrote {
            sink(&batch);
            batch.clear();
            if batch.capacity() > LOG_QUEUE_BYTES {
                batch.shrink_to(64 * 1024);
            }
        }
        {
            let mut p = shared.lock();
            p.flush_done = p.flush_done.max(flushes);
        }
        shared.progress.notify_all();
        if wrote {
            std::thread::sleep(LOG_BATCH_PAUSE);
        }
    }
}

thread_local! {
    /// Each thread's buffer for the line being formatted (reused: no allocation per line).
    static LINE: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(512));
}

/// One log line being written (the formatter writes a whole line, then drops the writer).
pub struct QueuedLine<'a> {
    buf: Vec<u8>,
    queue: &'a QueuedStdout,
}

impl std::io::Write for QueuedLine<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for QueuedLine<'_> {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.queue.push(&self.buf);
        }
        let mut buf = std::mem::take(&mut self.buf);
        if buf.capacity() <= 64 * 1024 {
            buf.clear();
            let _ = LINE.try_with(|cell| {
                if let Ok(mut slot) = cell.try_borrow_mut() {
                    if slot.capacity() < buf.capacity() {
                        *slot = buf;
                    }
                }
            });
        }
    }
}

impl<'a> fmt::MakeWriter<'a> for QueuedStdout {
    type Writer = QueuedLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        let buf = LINE
            .try_with(|cell| {
                cell.try_borrow_mut()
                    .map(|mut slot| std::mem::take(&mut *slot))
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        QueuedLine { buf, queue: self }
    }
}

/// The queue of the installed subscriber, for [`flush`].
static QUEUE: std::sync::OnceLock<QueuedStdout> = std::sync::OnceLock::new();

/// Write out the log lines still queued (call before the process exits).
pub fn flush() {
    if let Some(q) = QUEUE.get() {
        q.flush(std::time::Duration::from_secs(2));
    }
}

/// The writer of log lines: the queue (started on first use), or standard output directly should
/// its thread fail to start.
fn log_writer() -> fmt::writer::BoxMakeWriter {
    match QUEUE.get().cloned().or_else(QueuedStdout::start) {
        Some(queue) => {
            let _ = QUEUE.set(queue.clone());
            fmt::writer::BoxMakeWriter::new(queue)
        }
        None => fmt::writer::BoxMakeWriter::new(std::io::stdout),
    }
}

/// The default log filter (when `RUST_LOG` is unset).
const DEFAULT_FILTER: &str = "info,actix_server=warn,h2=warn,hyper=warn,reqwest=warn";

fn log_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
}

/// The trace exporter, when one was installed: shut it down last, so queued spans are sent.
#[must_use = "shut the exporter down when the service stops, or queued spans are lost"]
pub struct TraceExport {
    provider: Option<SdkTracerProvider>,
}

impl TraceExport {
    /// Whether spans are exported.
    pub fn is_on(&self) -> bool {
        self.provider.is_some()
    }

    /// Send every span still queued (waiting at most a few seconds for the collector).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(e) = provider.shutdown_with_timeout(EXPORT_TIMEOUT) {
                tracing::warn!(error = %e, "trace export: queued spans could not all be sent");
            }
        }
    }
}

/// How long one export (one batch) may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Install the global subscriber once: logs, and trace export when `otlp_endpoint` (a collector's
/// OTLP/HTTP base URL, already checked by configuration) is not empty.
pub fn init(
    format: LogFormat,
    production: bool,
    otlp_endpoint: &str,
) -> Result<TraceExport, String> {
    if otlp_endpoint.trim().is_empty() {
        init_logs(format, production);
        return Ok(TraceExport { provider: None });
    }
    let provider = tracer_provider(&traces_url(otlp_endpoint))?;
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("aarthik-bff"))
        .with_threads(false)
        .with_location(false)
        // Spans only (the request span and its children): log events stay in the logs.
        .with_filter(tracing_subscriber::filter::filter_fn(|m| {
            m.is_span() && (m.target() == spans::TARGET || m.target().starts_with("aarthik_bff"))
        }));
    // The child spans stay out of the logs, so a line's current span is still the request's.
    let filter = log_filter().add_directive(
        format!("{}=off", spans::TARGET)
            .parse()
            .map_err(|e| format!("log filter: {e}"))?,
    );
    let logs: Box<dyn Layer<Registry> + Send + Sync> = if format.is_json(production) {
        fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_span_events(FmtSpan::NONE)
            .flatten_event(true)
            .with_writer(log_writer())
            .with_filter(filter)
            .boxed()
    } else {
        fmt::layer()
            .with_target(false)
            .fmt_fields(text_fields())
            .compact()
            .with_writer(log_writer())
            .with_filter(filter)
            .boxed()
    };
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(otel)
        .try_init();
    tracing::info!(endpoint = %traces_url(otlp_endpoint), "trace export on (OTLP/HTTP)");
    Ok(TraceExport {
        provider: Some(provider),
    })
}

/// Where spans are sent: the base URL with `/v1/traces` (kept when already there).
pub fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim().trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

fn tracer_provider(url: &str) -> Result<SdkTracerProvider, String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| format!("telemetry.otlp_endpoint: {e}"))?;
    // `OTEL_SERVICE_NAME` (and `OTEL_RESOURCE_ATTRIBUTES`) are honoured; the default name is ours.
    let mut resource = Resource::builder().with_attribute(opentelemetry::KeyValue::new(
        "service.version",
        env!("CARGO_PKG_VERSION"),
    ));
    if std::env::var("OTEL_SERVICE_NAME").map_or(true, |v| v.trim().is_empty()) {
        resource = resource.with_service_name("aarthik-bff");
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// The request span of an exported request: a server span whose parent is the incoming
/// `traceparent` (when valid), and the trace context this request runs in — the incoming trace,
/// or the new trace the span started.
pub fn server_span(
    method: &'static str,
    route: &str,
    correlation_id: &CorrelationId,
    received: Option<TraceParent>,
) -> (tracing::Span, TraceParent) {
    let span = tracing::info_span!(
        "request",
        correlation_id = %correlation_id,
        trace_id = tracing::field::Empty,
        method = %method,
        route = %route,
        status = tracing::field::Empty,
        otel.kind = "server",
        otel.name = %format_args!("{method} {route}"),
        otel.status_code = tracing::field::Empty,
    );
    if let Some(parent) = &received {
        let _ = span.set_parent(parent.remote_context());
    }
    let started = TraceParent::of_span(span.context().span().span_context());
    let traceparent = match (received, started) {
        (Some(parent), _) => parent,
        (None, Some(ours)) => ours,
        // No exporting subscriber after all (a test's): an ordinary fresh trace.
        (None, None) => TraceParent::generate(),
    };
    span.record("trace_id", tracing::field::display(traceparent.trace_id()));
    (span, traceparent)
}

/// Install the log-only subscriber.
fn init_logs(format: LogFormat, production: bool) {
    let filter = log_filter();
    let json = format.is_json(production);
    let result = if json {
        fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(false)
            .with_span_events(FmtSpan::NONE)
            .flatten_event(true)
            .with_writer(log_writer())
            .try_init()
    } else {
        fmt()
            .with_env_filter(filter)
            .with_target(false)
            .fmt_fields(text_fields())
            .compact()
            .with_writer(log_writer())
            .try_init()
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_lines_all_arrive_whole_and_in_each_threads_order_by_a_flush() {
        use std::io::Write as _;
        use std::sync::{Arc, Mutex};
        let got = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = Arc::clone(&got);
        let queue = QueuedStdout::start_with(move |b| sink.lock().unwrap().extend_from_slice(b))
            .expect("writer thread");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let q = queue.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        let mut line = fmt::MakeWriter::make_writer(&q);
                        write!(line, "t{t} ").unwrap();
                        writeln!(line, "line {i}").unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        queue.flush(std::time::Duration::from_secs(10));
        let text = String::from_utf8(got.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20_000, "every line, none dropped");
        for t in 0..4 {
            let mine: Vec<usize> = lines
                .iter()
                .filter_map(|l| l.strip_prefix(&format!("t{t} line ")))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(
                mine,
                (0..5_000).collect::<Vec<_>>(),
                "thread {t}: whole, in order"
            );
        }
    }

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_kept() {
        assert_eq!(escape_controls("plain text é"), "plain text é");
        assert_eq!(
            escape_controls("a\n2026-01-01 INFO forged\r\u{1b}[31mred"),
            "a\\n2026-01-01 INFO forged\\r\\u{1b}[31mred"
        );
        assert!(!escape_controls("\u{7f}\u{85}\t")
            .chars()
            .any(char::is_control));
    }
}
