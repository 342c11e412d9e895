//! Ops HTTP handlers: parse → the [`OpsViews`](super::OpsViews) built at start-up (or, for a redrive, the webhook
//! receiver in the app state) → envelope (or SSE, on the shared stream machinery of `live`).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ok, ApiError};
use crate::live::sse::{self as live_sse, resume_after};
use crate::live::Live;
use crate::store::parse_cursor;

use super::sse;
use super::views::{OpsViews, DEFAULT_LIMIT, MAX_LIMIT};
use crate::auth::OpsCaller;

type Query = web::Query<HashMap<String, String>>;

/// Retry-After when this instance holds its maximum of ops streams.
const STREAMS_RETRY_AFTER_SECS: u64 = 5;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/ops/journeys/{journeyID}").get(journey))
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
    _: OpsCaller,
    req: HttpRequest,
    ops: web::Data<OpsViews>,
    live: web::Data<Live>,
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
    Ok(live_sse::response(body))
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
