//! Request-level middleware: correlation/trace context, logging and metrics, the error safety net,
//! and CORS for partner web apps.

pub mod context;
pub mod cors;

pub use context::{PrefixRoute, RequestContextMiddleware};
