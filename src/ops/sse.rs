//! `GET /v1/ops/events/stream`: the feed as Server-Sent Events. Each item is sent as
//! `id: <cursor>` / `event: journey.snapshot` / `data: <item JSON>`, resuming strictly after
//! `Last-Event-ID` (or `?after=`). Live updates come from polling the store stream every
//! [`POLL`] — simple, works the same on Redis and in memory and across instances (an event stored
//! by another instance shows up too). A comment line every [`KEEP_ALIVE`] keeps proxies from
//! closing an idle stream and lets the server notice a client that has gone: the write fails, actix
//! drops the body stream, and with it this loop.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, Stream};
use tokio::time::Instant;

use crate::events::{Feed, FeedItem};
use aarthik_contract::webhook::EVENT_TYPE_SNAPSHOT;

pub const POLL: Duration = Duration::from_millis(250);
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Items read from the store per poll.
const BATCH: usize = 200;
/// Sent first: the client's reconnect delay, and it gets the response head at once.
const PREAMBLE: &[u8] = b"retry: 2000\n: connected\n\n";

struct Cursor {
    feed: Feed,
    after: Option<String>,
    pending: VecDeque<Bytes>,
    last_write: Instant,
    started: bool,
}

impl Drop for Cursor {
    fn drop(&mut self) {
        tracing::debug!(after = ?self.after, "ops event stream closed");
    }
}

/// One SSE frame for a feed item.
pub fn frame(item: &FeedItem) -> Bytes {
    let data = serde_json::to_string(item).unwrap_or_else(|_| "{}".into());
    let id = item.cursor.as_deref().unwrap_or_default();
    Bytes::from(format!(
        "id: {id}\nevent: {EVENT_TYPE_SNAPSHOT}\ndata: {data}\n\n"
    ))
}

/// The endless event stream (it ends when the response is dropped).
pub fn events(
    feed: Feed,
    after: Option<String>,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    let start = Cursor {
        feed,
        after,
        pending: VecDeque::new(),
        last_write: Instant::now(),
        started: false,
    };
    tracing::debug!("ops event stream opened");
    stream::unfold(start, |mut c| async move {
        let chunk = next_chunk(&mut c).await;
        c.last_write = Instant::now();
        Some((Ok(chunk), c))
    })
}

async fn next_chunk(c: &mut Cursor) -> Bytes {
    if !c.started {
        c.started = true;
        return Bytes::from_static(PREAMBLE);
    }
    loop {
        if let Some(b) = c.pending.pop_front() {
            return b;
        }
        match c.feed.page(c.after.as_deref(), BATCH).await {
            Ok(items) if !items.is_empty() => {
                for item in &items {
                    c.pending.push_back(frame(item));
                }
                c.after = items
                    .last()
                    .and_then(|i| i.cursor.clone())
                    .or(c.after.take());
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "ops event stream could not read the feed; retrying")
            }
        }
        if c.last_write.elapsed() >= KEEP_ALIVE {
            return Bytes::from_static(b": keep-alive\n\n");
        }
        tokio::time::sleep(POLL).await;
    }
}
