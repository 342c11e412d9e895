//! Ops HTTP handlers: parse → the [`OpsViews`](super::OpsViews) built at start-up (or, for a redrive, the webhook
//! receiver in the app state) → envelope (or SSE, on the shared stream machinery of `live`).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::openapi::{ErrorEnvelope, Success};
use crate::error::{ok, ApiError};
use crate::live::sse::{self as live_sse, resume_after};
use crate::live::Live;
use crate::store::parse_cursor;

use super::search::{self, JourneyPage, JourneyQuery, Position};
use super::sse;
use super::views::{
    DeadLetterList, FeedPage, JourneyView, OpsViews, UserJourneys, DEFAULT_LIMIT, MAX_LIMIT,
};
use crate::auth::{OpsCaller, OpsStreamCaller};

type Query = web::Query<HashMap<String, String>>;

/// Retry-After when this instance holds its maximum of ops streams.
const STREAMS_RETRY_AFTER_SECS: u64 = 5;

/// The paths of this folder, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(search_journeys, journey, user_journeys, events, stream, dead_letters))]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(super::console::routes)
        .configure(super::login::routes)
        .service(crate::http::resource("/v1/ops/journeys").get(search_journeys))
        .service(crate::http::resource("/v1/ops/journeys/{journeyID}").get(journey))
        .service(crate::http::resource("/v1/ops/users/{userID}/journeys").get(user_journeys))
        .service(crate::http::resource("/v1/ops/events").get(events))
        .service(crate::http::resource("/v1/ops/events/stream").get(stream))
        .service(crate::http::resource("/v1/ops/dead-letters").get(dead_letters));
}

/// Latest snapshot, partner user, and the timeline of every verified snapshot (stale ones marked)
#[utoipa::path(
    get, path = "/v1/ops/journeys/{journeyID}", operation_id = "getOpsJourney", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(("journeyID" = String, Path, description = "The upstream's journey id")),
    responses(
        (status = 200, description = "Journey view", body = Success<JourneyView>),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 404, description = "JOURNEY_NOT_FOUND: no verified snapshot of this journey", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
pub async fn journey(
    _: OpsCaller,
    ops: web::Data<OpsViews>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = ops.journey(&path).await?;
    Ok(ok(view.ok_or(ApiError::JourneyNotFound)?))
}

/// A user's journeys with latest status
#[utoipa::path(
    get, path = "/v1/ops/users/{userID}/journeys", operation_id = "listUserJourneys", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(("userID" = String, Path, description = "The partner's user id (the JWT sub)")),
    responses(
        (status = 200, description = "Journeys", body = Success<UserJourneys>),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
pub async fn user_journeys(
    _: OpsCaller,
    ops: web::Data<OpsViews>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(ops.user_journeys(&path).await?))
}

/// The verified event feed, oldest first
#[utoipa::path(
    get, path = "/v1/ops/events", operation_id = "listOpsEvents", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(
        ("after" = Option<String>, Query, description = "The next cursor of the previous page"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "Items per page (default 100)"),
    ),
    responses(
        (status = 200, description = "A page", body = Success<FeedPage>),
        (status = 400, description = "VALIDATION_ERROR: a bad cursor or limit", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
pub async fn events(
    _: OpsCaller,
    ops: web::Data<OpsViews>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let after = cursor(query.get("after").map(String::as_str))?;
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::Validation(format!("limit must be a whole number 1..={MAX_LIMIT}."))
            })?,
    };
    let page = ops.feed_page(after.as_deref(), limit).await?;
    Ok(ok(page))
}

/// The feed as Server-Sent Events (id = cursor, event = journey.snapshot), resuming after Last-Event-ID
///
/// Browsers open it with EventSource and the ops console cookie alone (no X-CSRF: EventSource
/// cannot send headers). Reads the store only when this instance's wake-up subscription announces
/// new events. A comment line keeps idle streams open; the stream ends after
/// `ops.stream_max_secs` (default 3600) with a `retry:` hint and the client resumes. At most
/// `ops.max_streams` (default 100) per instance.
#[utoipa::path(
    get, path = "/v1/ops/events/stream", operation_id = "streamOpsEvents", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [])),
    params(
        ("after" = Option<String>, Query, description = "A cursor this feed issued"),
        ("Last-Event-ID" = Option<String>, Header, description = "The cursor of the last event received; wins over `after`"),
    ),
    responses(
        (status = 200, description = "text/event-stream of `journey.snapshot` events (data: FeedItem)", content_type = "text/event-stream", body = String),
        (status = 400, description = "VALIDATION_ERROR: a bad cursor", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE, or TOO_MANY_STREAMS (this instance holds ops.max_streams streams; Retry-After)", body = ErrorEnvelope),
    )
)]
pub async fn stream(
    _: OpsStreamCaller,
    req: HttpRequest,
    ops: web::Data<OpsViews>,
    live: web::Data<Live>,
    drain: web::Data<crate::drain::Drain>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let after = resume_after(&req, query.get("after").map(String::as_str))?;
    let wake = live
        .hub
        .ops_stream()
        .map_err(|_| ApiError::TooManyStreams {
            retry_after_secs: STREAMS_RETRY_AFTER_SECS,
        })?;
    let body = sse::events(ops.feed(), wake, after, live.stream_lifetime);
    // At shutdown the stream ends, asking the client to reconnect (to another instance).
    Ok(live_sse::response(
        drain.end_on_stop(body, b"retry: 1000\n\n"),
    ))
}

/// Search journeys by latest status, partner user, or time without change; newest change first
///
/// Covers journeys with a verified snapshot. A user's journeys come from the directory; otherwise
/// a journey index written by the webhook receiver is paged (the 200000 most recently changed
/// journeys, overall and per status). One request reads a bounded number of index entries, so a
/// sparse filter may answer a short page with a next cursor.
#[utoipa::path(
    get, path = "/v1/ops/journeys", operation_id = "searchJourneys", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(
        ("status" = Option<String>, Query, pattern = "^[A-Za-z0-9._-]{1,128}$", description = "Latest status equals this"),
        ("userID" = Option<String>, Query, max_length = 256, description = "Journeys of this partner user"),
        ("stuckForSecs" = Option<u64>, Query, minimum = 0, maximum = 315360000, description = "No change for at least this many seconds"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "Rows per page (default 50)"),
        ("after" = Option<String>, Query, description = "The next cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "A page", body = Success<JourneyPage>),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
pub async fn search_journeys(
    _: OpsCaller,
    ops: web::Data<OpsViews>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(ops.search(&journey_query(&query)?).await?))
}

/// The search's parameters; empty ones count as absent.
fn journey_query(query: &HashMap<String, String>) -> Result<JourneyQuery, ApiError> {
    let get = |k: &str| query.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let bad = |m: &str| ApiError::Validation(m.to_owned());
    let status = get("status")
        .map(|s| {
            crate::events::is_safe_id(s)
                .then(|| s.to_owned())
                .ok_or_else(|| bad("status must be 1-128 characters of A-Z a-z 0-9 . _ -."))
        })
        .transpose()?;
    let user_id = get("userID")
        .map(|u| {
            (u.chars().count() <= 256 && !u.chars().any(char::is_control))
                .then(|| u.to_owned())
                .ok_or_else(|| {
                    bad("userID must be at most 256 characters, none of them control characters.")
                })
        })
        .transpose()?;
    let stuck_for_secs = get("stuckForSecs")
        .map(|s| {
            s.parse::<u64>()
                .ok()
                .filter(|n| *n <= 10 * 365 * 86_400)
                .ok_or_else(|| {
                    bad("stuckForSecs must be a whole number of seconds (at most ten years).")
                })
        })
        .transpose()?;
    let limit = get("limit")
        .map(|l| {
            l.parse::<usize>()
                .ok()
                .filter(|n| (1..=search::MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad(&format!(
                        "limit must be a whole number 1..={}.",
                        search::MAX_LIMIT
                    ))
                })
        })
        .transpose()?
        .unwrap_or(search::DEFAULT_LIMIT);
    let after = get("after")
        .map(|a| Position::parse(a).ok_or_else(|| bad("after is not a cursor this search issued.")))
        .transpose()?;
    Ok(JourneyQuery {
        status,
        user_id,
        stuck_for_secs,
        limit,
        after,
    })
}

/// Verified but unprocessable deliveries
#[utoipa::path(
    get, path = "/v1/ops/dead-letters", operation_id = "listDeadLetters", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    responses(
        (status = 200, description = "Dead letters", body = Success<DeadLetterList>),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
pub async fn dead_letters(
    _: OpsCaller,
    ops: web::Data<OpsViews>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(ops.dead_letters().await?))
}

/// A feed cursor from the caller, checked before it reaches the store.
fn cursor(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(c) => parse_cursor(c)
            .map(|_| Some(c.to_owned()))
            .map_err(|_| ApiError::Validation("after is not a cursor this feed issued.".into())),
    }
}
