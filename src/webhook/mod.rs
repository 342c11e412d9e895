//! The verified `journey.snapshot` receiver: signature and freshness checks on the raw body,
//! de-duplication by event id across instances, journey → partner-user mapping, storing through
//! [`crate::events`] (per-journey ordering by `sequence`, the ops feed, dead letters) and optional
//! forwarding.

pub mod dedupe;
pub mod forward;
mod handler;
pub mod ingest;
#[cfg(test)]
mod ingest_tests;
pub mod payload;
pub mod receive;
pub mod verify;

use actix_web::web;

pub use forward::Forwarder;
pub use receive::{Receipt, Receiver, WebhookError};

/// The public path of the receiver.
pub const PATH: &str = "/v1/webhooks/aarthik";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATH).post(handler::receive));
}
