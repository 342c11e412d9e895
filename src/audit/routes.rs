//! `GET /v1/ops/audit` (ops token): `{entries: [{at, operator, action, target}]}`, newest first,
//! `?limit=` of them (default [`DEFAULT_LIMIT`]).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::{Audit, MAX_ENTRIES};
use crate::auth::OpsCaller;
use crate::error::{ok, ApiError};

/// Entries returned when no limit is asked for.
pub const DEFAULT_LIMIT: usize = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/ops/audit").get(list));
}

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
