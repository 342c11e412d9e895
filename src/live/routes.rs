//! The live update routes: the user's stream and the long poll over the same feed.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use tokio::time::Instant;

use crate::auth::{Caller, StreamCaller};
use crate::error::openapi::{ErrorEnvelope, Success};
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
    cfg.service(crate::http::resource("/v1/events/stream").get(stream))
        .service(crate::http::resource("/v1/events").get(poll));
}

/// The paths of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(stream, poll))]
pub struct Api;

/// The caller's journey updates as Server-Sent Events
///
/// Each update of the caller's own journeys is sent as `id: <cursor>`, `event: journey.update`,
/// `data: <JourneyUpdate JSON>`, as soon as its webhook is verified and stored (on any instance).
/// Resumes strictly after `Last-Event-ID` (sent by a reconnecting EventSource; wins over `after`)
/// or `?after=`; without either it starts with every update still kept for the user. A comment
/// line every 15 s keeps the connection open; the stream ends after `ops.stream_max_secs`
/// (default 3600) with a `retry:` hint and the client resumes. The web session cookie alone
/// authenticates this GET (EventSource cannot send X-CSRF). At most `events.max_streams_per_user`
/// (default 5) open streams per user per instance.
#[utoipa::path(
    get, path = "/v1/events/stream", operation_id = "streamJourneyUpdates", tag = "live",
    security(("partnerJwt" = []), ("webCookie" = [])),
    params(
        ("after" = Option<String>, Query, description = "A cursor this feed issued; only later updates are returned."),
        ("Last-Event-ID" = Option<String>, Header, description = "The cursor of the last update received; wins over `after`."),
    ),
    responses(
        (status = 200, description = "text/event-stream of `journey.update` events (data: JourneyUpdate)",
            content_type = "text/event-stream", body = String),
        (status = 400, description = "VALIDATION_ERROR: `after` or `Last-Event-ID` is not a cursor this feed issued", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 429, description = "RATE_LIMITED (the user already holds events.max_streams_per_user streams on this instance; Retry-After)", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
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

/// A page of the caller's journey updates, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = JourneyUpdatePage)]
struct Page {
    events: Vec<JourneyUpdate>,
    /// Where to continue: the last event's cursor, else the `after` given (`null` without one).
    next: Option<String>,
}

/// The caller's journey updates as a long poll
///
/// The same feed as /v1/events/stream, for clients without EventSource. Answered at once when
/// the user has updates newer than `after`; otherwise held until one arrives or `waitSecs` have
/// passed (then with an empty list). At most 100 updates per answer, oldest first. Cookie callers
/// send X-CSRF: 1.
#[utoipa::path(
    get, path = "/v1/events", operation_id = "pollJourneyUpdates", tag = "live",
    security(("partnerJwt" = []), ("webCookie" = [], "csrf" = [])),
    params(
        ("after" = Option<String>, Query, description = "A cursor this feed issued; only later updates are returned."),
        ("waitSecs" = Option<u64>, Query, minimum = 0, maximum = 30, description = "How long to wait for news when there is none yet (default 0)."),
    ),
    responses(
        (status = 200, description = "A page of updates", body = Success<Page>),
        (status = 400, description = "VALIDATION_ERROR: a bad cursor or waitSecs", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
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
