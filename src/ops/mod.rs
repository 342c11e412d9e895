//! The ops API: read-only access, by ops token or the console's cookie, to the verified webhook
//! data — a journey's latest snapshot and timeline, journey search, a user's journeys, the ordered
//! event feed (pages and SSE) and dead letters — plus the console itself (`/ops/`) and its
//! sign-in. Re-driving a dead letter re-runs the webhook pipeline, so that route belongs to the
//! webhook capability.

pub mod console;
mod login;
mod routes;
pub mod search;
pub mod sse;
pub mod views;

pub use console::Api as ConsoleApi;
pub use login::Api as LoginApi;
pub use routes::{routes, Api};
pub use views::OpsViews;
