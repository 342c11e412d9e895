//! Infrastructure endpoints: liveness, readiness (store reachable, not shutting down) and
//! Prometheus metrics.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::drain::{Drain, Phase};
use crate::error::openapi::Success;
use crate::error::{ok, ok_with, ApiError};
use crate::metrics::Metrics;
use crate::store::Store;

/// The paths of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz, readyz, metrics))]
pub struct Api;

/// `GET /healthz`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Liveness {
    #[schema(examples("ok"))]
    status: String,
}

/// `GET /readyz`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Readiness {
    /// `ready`, or `draining` (503) while shutting down.
    #[schema(examples("ready", "draining"))]
    status: String,
    /// The store kind (`redis`, `memory`, …) when ready.
    store: Option<String>,
}

/// 503 from `/readyz`: draining (a success envelope), or the store is down (an error envelope).
struct ReadyzUnavailable;

impl utoipa::PartialSchema for ReadyzUnavailable {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{OneOfBuilder, Schema};
        use utoipa::openapi::{Ref, RefOr};
        RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(<Success<Readiness> as utoipa::PartialSchema>::schema())
                .item(Ref::from_schema_name("ErrorEnvelope"))
                .build(),
        ))
    }
}

impl utoipa::ToSchema for ReadyzUnavailable {}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `resource` (not `route`) so a wrong method is 405, not a fall-through 404.
    cfg.service(crate::http::resource("/healthz").get(healthz))
        .service(crate::http::resource("/readyz").get(readyz))
        .service(crate::http::resource("/metrics").get(metrics));
}

/// Liveness
#[utoipa::path(
    get, path = "/healthz", operation_id = "healthz", tag = "health", security(()),
    responses((status = 200, description = "ok", body = Success<Liveness>))
)]
async fn healthz() -> HttpResponse {
    ok(json!({ "status": "ok" }))
}

/// Readiness: the store answers and the instance is not shutting down
#[utoipa::path(
    get, path = "/readyz", operation_id = "readyz", tag = "health", security(()),
    responses(
        (status = 200, description = "ready", body = Success<Readiness>),
        (status = 503, description = "STORE_UNAVAILABLE (an error envelope), or draining (a success envelope with status draining)",
            body = inline(ReadyzUnavailable)),
    )
)]
async fn readyz(
    store: web::Data<dyn Store>,
    drain: web::Data<Drain>,
) -> Result<HttpResponse, ApiError> {
    // Shutting down: still serving, but load balancers should send new requests elsewhere.
    if drain.phase() != Phase::Serving {
        return Ok(ok_with(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "draining" }),
        ));
    }
    store.ping().await?;
    Ok(ok(json!({ "status": "ready", "store": store.kind() })))
}

/// Prometheus metrics
#[utoipa::path(
    get, path = "/metrics", operation_id = "metrics", tag = "health", security(()),
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String))
)]
async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    let mut res = HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render());
    res.extensions_mut().insert(crate::error::Enveloped);
    res
}
