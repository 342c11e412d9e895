//! The live update routes: the user's stream and the long poll over the same feed.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use tokio::time::Instant;

use crate::auth::{Caller, StreamCaller};
use crate::error::{ok, ApiError};
use crate::events::JourneyUpdate;

use super::sse::{self, Frame, Timing};
use super::{Live, HEARTBEAT};

/// The SSE event name of one update.
pub const EVENT: &str = "journey.update";
/// The longest a long poll may wait.
pub const MAX_WAIT_SECS: u64 = 30;
/// Updates per long-poll answer (more: call again with `next`, answered at once).
const PAGE: usize = 100;
/// Retry-After when a user already holds the maximum of streams.
const STREAMS_RETRY_AFTER_SECS: u64 = 5;

type Query = web::Query<HashMap<String, String>>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/events/stream").get(stream))
        .service(web::resource("/v1/events").get(poll));
}

/// `GET /v1/events/stream`: the caller's journey updates as Server-Sent Events.
pub async fn stream(
    StreamCaller(caller): StreamCaller,
    req: HttpRequest,
    live: web::Data<Live>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let after = sse::resume_after(&req, query.get("after").map(String::as_str))?;
    let listener = live
        .hub
        .user_stream(&caller.user_id)
        .map_err(|_| ApiError::RateLimited {
            retry_after_secs: STREAMS_RETRY_AFTER_SECS,
        })?;
    let updates = live.updates.clone();
    let user = caller.user_id;
    let read = move |after: Option<String>| {
        let (updates, user) = (updates.clone(), user.clone());
        async move {
            let page = updates.page(&user, after.as_deref(), sse::BATCH).await?;
            Ok(page.iter().map(frame).collect())
        }
    };
    let timing = Timing {
        heartbeat: HEARTBEAT,
        lifetime: live.stream_lifetime,
    };
    Ok(sse::response(sse::body(read, listener, after, timing)))
}

fn frame(update: &JourneyUpdate) -> Frame {
    Frame::new(update.cursor.as_deref().unwrap_or_default(), EVENT, update)
}

#[derive(Debug, Serialize)]
struct Page {
    events: Vec<JourneyUpdate>,
    /// Where to continue: the last event's cursor, else the `after` given (`null` without one).
    next: Option<String>,
}

/// `GET /v1/events?after=&waitSecs=`: the same feed as a long poll.
pub async fn poll(
    caller: Caller,
    live: web::Data<Live>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let after = sse::cursor(query.get("after").map(String::as_str))?;
    let wait = match query.get("waitSecs").map(|w| w.trim()) {
        None | Some("") => 0,
        Some(w) => w
            .parse::<u64>()
            .ok()
            .filter(|w| *w <= MAX_WAIT_SECS)
            .ok_or_else(|| {
                ApiError::Validation(format!(
                    "waitSecs must be a whole number 0..={MAX_WAIT_SECS}."
                ))
            })?,
    };
    let deadline = Instant::now() + Duration::from_secs(wait);
    let mut listener = live.hub.user_poll(&caller.user_id);
    loop {
        listener.mark_seen();
        let events = live
            .updates
            .page(&caller.user_id, after.as_deref(), PAGE)
            .await?;
        if !events.is_empty() || Instant::now() >= deadline {
            let next = events
                .last()
                .and_then(|e| e.cursor.clone())
                .or(after.clone());
            return Ok(ok(Page { events, next }));
        }
        tokio::select! {
            _ = listener.changed() => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}
