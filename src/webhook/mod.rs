//! The verified `journey.snapshot` receiver: signature and freshness checks on the raw body,
//! de-duplication by event id across instances, journey → partner-user mapping, storing through
//! [`crate::events`] (per-journey ordering by `sequence`, the ops feed, dead letters) and optional
//! forwarding.

pub mod dedupe;
pub mod forward;
pub mod forward_log;
mod forward_worker;
pub mod ingest;
#[cfg(test)]
mod ingest_tests;
pub mod payload;
pub mod receive;
mod routes;
pub mod verify;

pub use forward::Forwarder;
pub use receive::{Receipt, Receiver, WebhookError};
pub use routes::{routes, Api, PATH};
