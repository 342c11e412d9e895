//! The ops API: bearer-token access to the verified webhook data — a journey's latest snapshot,
//! a user's journeys, the ordered event feed (pages and SSE) and dead letters.

pub mod auth;
mod handlers;
pub mod sse;
pub mod views;

pub use views::OpsViews;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/ops/journeys/{journeyID}").get(handlers::journey))
        .service(web::resource("/v1/ops/users/{userID}/journeys").get(handlers::user_journeys))
        .service(web::resource("/v1/ops/events").get(handlers::events))
        .service(web::resource("/v1/ops/events/stream").get(handlers::stream))
        .service(web::resource("/v1/ops/dead-letters").get(handlers::dead_letters))
        .service(web::resource("/v1/ops/dead-letters/{id}/redrive").post(handlers::redrive));
}
