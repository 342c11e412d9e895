//! Infrastructure endpoints: liveness, readiness (store reachable, not shutting down) and
//! Prometheus metrics.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::drain::{Drain, Phase};
use crate::error::{ok, ok_with, ApiError};
use crate::metrics::Metrics;
use crate::store::Store;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `resource` (not `route`) so a wrong method is 405, not a fall-through 404.
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz))
        .service(web::resource("/metrics").get(metrics));
}

async fn healthz() -> HttpResponse {
    ok(json!({ "status": "ok" }))
}

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

async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    let mut res = HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render());
    res.extensions_mut().insert(crate::error::Enveloped);
    res
}
