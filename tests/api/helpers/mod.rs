//! Everything the black-box tests share: starting the service (`app`), running the binary
//! (`binary`), starting and steering the sandbox (`sandbox`), signing and sending webhook deliveries
//! (`webhook`), driving a borrower journey (`journey`) and reading event streams (`sse`), plus the
//! one polling helper and the test log subscriber.
//!
//! The service's internals the tests reach into (`aarthik_bff::...`) are named only in this folder
//! and re-exported below, so a module move in `src/` is fixed here in one place.
//!
//! Logs: `TEST_LOG=1 cargo test --test api some_test` prints the service's (and the sandbox's)
//! tracing output to stdout; without `TEST_LOG` it is formatted into a sink. `RUST_LOG` picks the
//! level (default `info`).

mod app;
mod binary;
mod journey;
mod redis_modes;
mod sandbox;
mod sse;
mod standin;
mod tokens;
mod webhook;

use std::collections::BTreeSet;
use std::future::Future;
use std::io::IsTerminal;
use std::sync::Once;
use std::time::Duration;

pub use self::app::*;
pub use self::binary::*;
pub use self::journey::*;
pub use self::redis_modes::*;
pub use self::sandbox::*;
pub use self::sse::*;
pub use self::standin::*;
pub use self::tokens::*;
pub use self::webhook::*;

// The service's internals used by the tests (besides those in this folder's own modules).
pub use aarthik_bff::config::{dev, LoadOptions};
pub use aarthik_bff::directory::Directory;
pub use aarthik_bff::events::{DeadLetter, DeadLetters};
pub use aarthik_bff::sandbox::{SandboxConfig, SandboxHandle};
pub use aarthik_bff::store::{Delivery, Lease, RedisStore, Store, StoreError, StreamTrim};

static TEST_LOGGING: Once = Once::new();

/// Install the binary's one `tracing` subscriber (every app and sandbox start calls this).
pub fn init_test_logging() {
    TEST_LOGGING.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "info,actix_server=warn,h2=warn,hyper=warn,reqwest=warn",
            )
        });
        let wanted = std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0");
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(wanted && std::io::stdout().is_terminal());
        // Formatting into a sink still runs every event's `Display`, so a broken one fails here too.
        let _ = if wanted {
            builder.with_writer(std::io::stdout).try_init()
        } else {
            builder.with_writer(std::io::sink).try_init()
        };
    });
}

/// Wait until `check` holds, polling every 20 ms, at most `secs` seconds; whether it held.
pub async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The status code and the envelope of a response (`Null` when the body is not JSON).
pub async fn status_and_body(res: reqwest::Response) -> (u16, serde_json::Value) {
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// Assert that a response is the error envelope with this status and code; return the envelope.
pub async fn assert_refused(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    let (got, body) = status_and_body(res).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body
}

/// The keys of a JSON object, sorted.
pub fn keys_of(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect()
}

/// A sorted set of names, to compare with `keys_of`.
pub fn key_set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}
