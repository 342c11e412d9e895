//! The ops API: read-only, ops-token access to the verified webhook data — a journey's latest
//! snapshot, a user's journeys, the ordered event feed (pages and SSE) and dead letters. Re-driving
//! a dead letter re-runs the webhook pipeline, so that route belongs to the webhook capability.

mod routes;
pub mod sse;
pub mod views;

pub use routes::routes;
pub use views::OpsViews;
