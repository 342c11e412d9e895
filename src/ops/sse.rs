//! `GET /v1/ops/events/stream`: the feed as Server-Sent Events. Each item is sent as
//! `id: <cursor>` / `event: journey.snapshot` / `data: <item JSON>`, resuming strictly after
//! `Last-Event-ID` (or `?after=`). It runs on the shared stream machinery of [`crate::live`]: the
//! feed is read again only when this instance's one wake-up subscription announces that it grew
//! (on any instance), with a comment every [`KEEP_ALIVE`] while idle and an end after
//! `ops.stream_max_secs`, after which the client resumes.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::Stream;

use crate::events::{Feed, FeedItem};
use crate::live::sse::{self, Frame, Timing};
use crate::live::Listener;
use aarthik_contract::webhook::EVENT_TYPE_SNAPSHOT;

pub const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// One SSE frame for a feed item.
pub fn frame(item: &FeedItem) -> Frame {
    Frame::new(
        item.cursor.as_deref().unwrap_or_default(),
        EVENT_TYPE_SNAPSHOT,
        item,
    )
}

/// The event stream, until the client goes or the lifetime ends.
pub fn events(
    feed: Feed,
    wake: Listener,
    after: Option<String>,
    lifetime: Duration,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    let read = move |after: Option<String>| {
        let feed = feed.clone();
        async move {
            let items = feed.page(after.as_deref(), sse::BATCH).await?;
            Ok(items.iter().map(frame).collect())
        }
    };
    let timing = Timing {
        heartbeat: KEEP_ALIVE,
        lifetime,
    };
    sse::body(read, wake, after, timing)
}
