//! Newtypes that can only be built by parsing.

pub mod correlation;
pub mod traceparent;

pub use correlation::CorrelationId;
pub use traceparent::TraceParent;
