//! `GET /openapi.json`: the OpenAPI 3.1 description of the public surface (docs/openapi.json).

use actix_web::{web, HttpResponse};

const DOCUMENT: &str = include_str!("../docs/openapi.json");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").get(document));
}

async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(DOCUMENT)
}
