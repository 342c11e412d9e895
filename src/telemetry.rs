//! Log subscriber: JSON lines in production (or when asked), readable text locally; `RUST_LOG`
//! respected. Spans' fields (correlation id, method, route, status) ride on every line.
//!
//! Text lines never carry raw control characters: a value can hold caller input (a serde error
//! message echoes the offending JSON), and a newline or an ANSI escape in it would forge a log
//! line or repaint a terminal. Every field is written through [`escape_controls`]; JSON lines
//! are escaped by the JSON encoder.

use std::fmt::Write as _;

use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

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

/// Log lines waiting for the writer thread before a logging request waits for room (none is
/// dropped).
const LOG_QUEUE_LINES: usize = 16_384;

enum LogMsg {
    Line(Vec<u8>),
    Flush(std::sync::mpsc::SyncSender<()>),
}

/// Where log lines go: a queue drained by one thread that writes them to standard output in
/// batches, so a request never waits on the write to stdout (a pipe, a file, a terminal) and
/// many lines cost one write. Bounded: when the writer falls behind by [`LOG_QUEUE_LINES`]
/// lines, logging waits for room instead of dropping lines.
#[derive(Clone)]
pub struct QueuedStdout {
    tx: std::sync::mpsc::SyncSender<LogMsg>,
}

impl QueuedStdout {
    /// Starts the writer thread (named `log-writer`); `None` if the thread cannot start.
    fn start() -> Option<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<LogMsg>(LOG_QUEUE_LINES);
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || {
                use std::io::Write as _;
                // Not locked for good: others (`println!`) write to stdout too; each batch of
                // whole lines takes the lock only while it is written.
                let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
                while let Ok(first) = rx.recv() {
                    let mut next = Some(first);
                    while let Some(msg) = next {
                        match msg {
                            LogMsg::Line(line) => {
                                let _ = out.write_all(&line);
                            }
                            LogMsg::Flush(ack) => {
                                let _ = out.flush();
                                let _ = ack.send(());
                            }
                        }
                        next = rx.try_recv().ok();
                    }
                    // Nothing queued: write what we have.
                    let _ = out.flush();
                }
                let _ = out.flush();
            })
            .ok()?;
        Some(QueuedStdout { tx })
    }

    /// Write out everything queued so far (waits at most `timeout`).
    pub fn flush(&self, timeout: std::time::Duration) {
        let (ack, done) = std::sync::mpsc::sync_channel(1);
        if self.tx.send(LogMsg::Flush(ack)).is_ok() {
            let _ = done.recv_timeout(timeout);
        }
    }
}

/// One log line being written (the formatter writes a whole line, then drops the writer).
pub struct QueuedLine {
    buf: Vec<u8>,
    tx: std::sync::mpsc::SyncSender<LogMsg>,
}

impl std::io::Write for QueuedLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for QueuedLine {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.tx.send(LogMsg::Line(std::mem::take(&mut self.buf)));
        }
    }
}

impl<'a> fmt::MakeWriter<'a> for QueuedStdout {
    type Writer = QueuedLine;

    fn make_writer(&'a self) -> Self::Writer {
        QueuedLine {
            buf: Vec::with_capacity(256),
            tx: self.tx.clone(),
        }
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

/// Install the global subscriber once. Lines go to standard output through [`QueuedStdout`]
/// (directly, should its thread fail to start).
pub fn init(format: LogFormat, production: bool) {
    match QUEUE.get().cloned().or_else(QueuedStdout::start) {
        Some(queue) => {
            let _ = QUEUE.set(queue.clone());
            install(format, production, queue)
        }
        None => install(format, production, std::io::stdout),
    }
}

fn install<W>(format: LogFormat, production: bool, writer: W)
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,actix_server=warn,h2=warn,hyper=warn,reqwest=warn")
    });
    let json = format.is_json(production);
    let result = if json {
        fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(false)
            .with_span_events(FmtSpan::NONE)
            .flatten_event(true)
            .with_writer(writer)
            .try_init()
    } else {
        fmt()
            .with_env_filter(filter)
            .with_target(false)
            .fmt_fields(text_fields())
            .compact()
            .with_writer(writer)
            .try_init()
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}

#[cfg(test)]
mod tests {
    use super::*;

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
