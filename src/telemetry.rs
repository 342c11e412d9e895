//! Log subscriber: JSON lines in production (or when asked), readable text locally; `RUST_LOG`
//! respected. Spans' fields (correlation id, method, route, status) ride on every line.

use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

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
            .compact()
            .try_init()
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}
