//! Request-level middleware: correlation/trace context, logging and metrics, the error safety net.

pub mod context;

pub use context::{current_correlation_id, PassThrough, RequestContext, RequestContextMiddleware};
