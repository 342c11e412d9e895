//! The Server-Sent Events writer shared by the user and ops streams.
//!
//! A stream sends a preamble (`retry:` and a comment, so the client gets the response head at
//! once), then every frame after its cursor, then waits on its [`Listener`]: a wake-up means "read
//! the store after the cursor again". No timer reads the store: while nothing is announced, the
//! only work is a comment heartbeat, which keeps proxies from closing an idle stream and lets the
//! server notice a client that has gone (the write fails, actix drops the body, and with it the
//! listener). A stream ends after its lifetime with a `retry:` hint; `EventSource` then reconnects
//! with `Last-Event-ID` and resumes where it stopped.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::stream::{self, Stream};
use rand::Rng;
use tokio::time::Instant;

use crate::domain::PassThrough;
use crate::error::ApiError;
use crate::store::{parse_cursor, StoreError};

use super::hub::Listener;

/// The client's reconnect delay, in milliseconds, sent first and at the end.
pub const RECONNECT_MS: u64 = 2000;
/// How long to wait before reading again after a failed store read.
const READ_RETRY: Duration = Duration::from_secs(1);
/// Frames read from the store at once.
pub const BATCH: usize = 200;

const PREAMBLE: &str = ": connected\n\n";
const HEARTBEAT: &[u8] = b": keep-alive\n\n";

/// One event, ready to send, and the cursor to resume after it.
pub struct Frame {
    pub cursor: String,
    pub bytes: Bytes,
}

impl Frame {
    /// `id: <cursor>` / `event: <event>` / `data: <json>`.
    pub fn new(cursor: &str, event: &str, data: &impl serde::Serialize) -> Frame {
        let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
        Frame {
            cursor: cursor.to_owned(),
            bytes: Bytes::from(format!("id: {cursor}\nevent: {event}\ndata: {data}\n\n")),
        }
    }
}

/// The heartbeat interval and the longest life of a stream.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub heartbeat: Duration,
    pub lifetime: Duration,
}

struct State<F> {
    read: F,
    wake: Listener,
    after: Option<String>,
    pending: VecDeque<Bytes>,
    /// The store may hold frames after `after` that were not read yet.
    dirty: bool,
    started: bool,
    ended: bool,
    heartbeat: Duration,
    last_write: Instant,
    deadline: Instant,
}

/// The stream body: `read(after)` returns up to [`BATCH`] frames strictly after `after`.
pub fn body<F, Fut>(
    read: F,
    wake: Listener,
    after: Option<String>,
    timing: Timing,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>>
where
    F: Fn(Option<String>) -> Fut + 'static,
    Fut: Future<Output = Result<Vec<Frame>, StoreError>> + 'static,
{
    let now = Instant::now();
    // Up to a tenth earlier than the maximum, so streams opened together (after a deploy) do
    // not all reconnect in the same second.
    let jitter = timing
        .lifetime
        .mul_f64(rand::thread_rng().gen_range(0.0..0.1));
    let state = State {
        read,
        wake,
        after,
        pending: VecDeque::new(),
        dirty: true,
        started: false,
        ended: false,
        heartbeat: timing.heartbeat,
        last_write: now,
        deadline: now + timing.lifetime - jitter,
    };
    stream::unfold(state, |mut s| async move {
        let chunk = next_chunk(&mut s).await?;
        s.last_write = Instant::now();
        Some((Ok(chunk), s))
    })
}

async fn next_chunk<F, Fut>(s: &mut State<F>) -> Option<Bytes>
where
    F: Fn(Option<String>) -> Fut,
    Fut: Future<Output = Result<Vec<Frame>, StoreError>>,
{
    if s.ended {
        return None;
    }
    if !s.started {
        s.started = true;
        return Some(Bytes::from(format!("retry: {RECONNECT_MS}\n{PREAMBLE}")));
    }
    let mut retry_at = None;
    loop {
        if let Some(b) = s.pending.pop_front() {
            return Some(b);
        }
        if Instant::now() >= s.deadline {
            s.ended = true;
            return Some(Bytes::from(format!(
                "retry: {RECONNECT_MS}\n: stream lifetime reached; reconnect with Last-Event-ID\n\n"
            )));
        }
        if s.dirty && retry_at.is_none_or(|at| Instant::now() >= at) {
            retry_at = None;
            // Announcements from here on wake the wait below, even those made during the read.
            s.wake.mark_seen();
            match (s.read)(s.after.clone()).await {
                Ok(frames) => {
                    s.dirty = frames.len() >= BATCH;
                    if let Some(last) = frames.last() {
                        s.after = Some(last.cursor.clone());
                    }
                    s.pending.extend(frames.into_iter().map(|f| f.bytes));
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "event stream could not read the store; retrying");
                    retry_at = Some(Instant::now() + READ_RETRY);
                }
            }
        }
        let heartbeat_at = s.last_write + s.heartbeat;
        let mut until = heartbeat_at.min(s.deadline);
        if let Some(at) = retry_at {
            until = until.min(at);
        }
        tokio::select! {
            _ = s.wake.changed() => s.dirty = true,
            _ = tokio::time::sleep_until(until) => {
                if Instant::now() >= heartbeat_at {
                    return Some(Bytes::from_static(HEARTBEAT));
                }
            }
        }
    }
}

/// The streaming response around a body.
pub fn response<S>(body: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
{
    let mut res = HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body);
    res.extensions_mut().insert(PassThrough);
    res
}

/// Where a stream resumes: `Last-Event-ID` (sent by a reconnecting `EventSource`, which keeps its
/// URL) wins over the URL's `after`. Checked before it reaches the store.
pub fn resume_after(req: &HttpRequest, after: Option<&str>) -> Result<Option<String>, ApiError> {
    let last_event_id = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty());
    cursor(last_event_id.or(after))
}

/// A cursor from the caller, checked before it reaches the store.
pub fn cursor(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(c) => parse_cursor(c)
            .map(|_| Some(c.to_owned()))
            .map_err(|_| ApiError::Validation("after is not a cursor this feed issued.".into())),
    }
}
