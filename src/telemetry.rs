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

/// Install the global subscriber once.
pub fn init(format: LogFormat, production: bool) {
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
            .try_init()
    } else {
        fmt()
            .with_env_filter(filter)
            .with_target(false)
            .fmt_fields(text_fields())
            .compact()
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
