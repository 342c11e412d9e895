//! Ops HTTP handlers: parse → the [`OpsViews`](super::OpsViews) built at start-up (or, for a redrive, the webhook
//! receiver in the app state) → envelope (or SSE, on the shared stream machinery of `live`).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ok, ApiError};
use crate::live::sse::{self as live_sse, resume_after};
use crate::live::Live;
use crate::store::parse_cursor;

use super::search::{self, JourneyQuery, Position};
use super::sse;
use super::views::{OpsViews, DEFAULT_LIMIT, MAX_LIMIT};
use crate::auth::{OpsCaller, OpsStreamCaller};

type Query = web::Query<HashMap<String, String>>;

/// Retry-After when this instance holds its maximum of ops streams.
const STREAMS_RETRY_AFTER_SECS: u64 = 5;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(super::console::routes)
        .configure(super::login::routes)
        .service(web::resource("/v1/ops/journeys").get(search_journeys))
        .service(web::resource("/v1/ops/journeys/{journeyID}").get(journey))
        .service(web::resource("/v1/ops/users/{userID}/journeys").get(user_journeys))
        .service(web::resource("/v1/ops/events").get(events))
        .service(web::resource("/v1/ops/events/stream").get(stream))
        .service(web::resource("/v1/ops/dead-letters").get(dead_letters));
}

pub async fn journey(
    _: OpsCaller,
    ops: web::Data<OpsViews>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = ops.journey(&path).await?;
    Ok(ok(view.ok_or(ApiError::JourneyNotFound)?))
}

pub async fn user_journeys(
    _: OpsCaller,
    ops: web::Data<OpsViews>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(ops.user_journeys(&path).await?))
}

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
