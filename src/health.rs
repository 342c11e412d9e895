//! Infrastructure endpoints: liveness, readiness (store reachable) and Prometheus metrics.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::{ok, ApiError};
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

async fn readyz(store: web::Data<dyn Store>) -> Result<HttpResponse, ApiError> {
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
