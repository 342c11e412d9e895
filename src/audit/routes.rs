//! `GET /v1/ops/audit` (ops token): `{entries: [{at, operator, action, target}]}`, newest first,
//! `?limit=` of them (default [`DEFAULT_LIMIT`]).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{Audit, MAX_ENTRIES};
use crate::auth::OpsCaller;
use crate::error::openapi::{ErrorEnvelope, Success};
use crate::error::{ok, ApiError};

/// Entries returned when no limit is asked for.
pub const DEFAULT_LIMIT: usize = 100;

/// The path of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list))]
pub struct Api;

/// `GET /v1/ops/audit`: the latest entries, newest first.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AuditPage {
    entries: Vec<super::AuditEntry>,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::http::resource("/v1/ops/audit").get(list));
}

/// The ops audit log, newest first
///
/// Who did what to whom: console sign-ins and sign-outs, revocations and dead-letter re-drives
/// (with the operator named in ops.tokens as name:token; a bare token is named ops). Never a
/// token. Bounded to the latest 1000 entries and 90 days.
#[utoipa::path(
    get, path = "/v1/ops/audit", operation_id = "listAuditEntries", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(("limit" = Option<usize>, Query, minimum = 1, maximum = 1000, description = "How many entries (default 100)")),
    responses(
        (status = 200, description = "Entries", body = Success<AuditPage>),
        (status = 400, description = "VALIDATION_ERROR: limit out of range", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED: no valid ops token", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn list(
    _: OpsCaller,
    audit: web::Data<Audit>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_ENTRIES).contains(n))
            .ok_or_else(|| {
                ApiError::Validation(format!("limit must be a whole number 1..={MAX_ENTRIES}."))
            })?,
    };
    Ok(ok(json!({ "entries": audit.latest(limit).await? })))
}
