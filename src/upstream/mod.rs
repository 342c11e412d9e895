//! The Aarthik Labs upstream client: typed session payloads and the HTTP client. The vocabulary
//! (paths, headers, envelope, enums) is the `aarthik-contract` crate's.

pub mod client;
pub mod types;

pub use client::{Credential, UpstreamClient, UpstreamRequest, UpstreamResponse};

/// A call that produced no upstream answer. Upstream 4xx/5xx answers are not errors here: they
/// come back as [`UpstreamResponse`]s so their bodies can be passed through.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream timed out")]
    Timeout,
    #[error("upstream unreachable: {0}")]
    Unavailable(String),
    #[error("upstream answer not understood: {0}")]
    Protocol(String),
    /// The answer is larger than `upstream.max_response_bytes` (nothing past the cap was read).
    #[error("upstream answer larger than {limit} bytes")]
    TooLarge { limit: usize },
}
