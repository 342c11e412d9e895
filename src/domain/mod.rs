//! Newtypes that can only be built by parsing, and the per-request context built from them.

pub mod context;
pub mod correlation;
pub mod spans;
pub mod traceparent;

pub use context::{current_correlation_id, PassThrough, RequestContext};
pub use correlation::CorrelationId;
pub use traceparent::TraceParent;

/// A UUID-shaped string from the first 16 bytes of a digest (at least 16 bytes long): how the
/// service derives upstream Idempotency-Keys deterministically, so a retry reuses the key.
pub fn uuid_from_digest(digest: &[u8]) -> String {
    let mut b = [0u8; 16];
    let n = digest.len().min(16);
    b[..n].copy_from_slice(&digest[..n]);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}
