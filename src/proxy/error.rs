//! What can go wrong while forwarding. Free of HTTP: `proxy::routes` maps these to responses.

use crate::session::SessionError;
use crate::store::StoreError;
use crate::upstream::UpstreamError;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The request path is not below the proxy's scope.
    #[error("not a headless path")]
    NotHeadless,
    /// A segment that is not 1-128 characters of `[A-Za-z0-9._~-]` after decoding, or is a dot
    /// segment.
    #[error("the path has a segment outside the allowed spelling")]
    BadPath,
    /// `sessions*`: the key-authenticated session endpoints are not proxied.
    #[error("session endpoints are not proxied")]
    SessionPath,
    #[error("the Idempotency-Key is not 1-255 printable ASCII characters")]
    BadIdempotencyKey,
    #[error("a mutating call without an Idempotency-Key")]
    KeyRequired,
    #[error("the Idempotency-Key was used with another body")]
    KeyReused,
    #[error("a call with this Idempotency-Key is still in flight")]
    KeyInUse { retry_after_secs: u64 },
    /// The path names a journey another partner user owns.
    #[error("the path names a journey of another partner user")]
    NotOwner,
    /// The per-user budget of mutating proxied calls is spent.
    #[error("per-user mutation rate limit reached")]
    RateLimited { retry_after_secs: u64 },
    /// A 5xx upstream answer that is not the upstream's envelope.
    #[error("upstream answered {status} without its envelope")]
    BadUpstreamAnswer { status: u16 },
    /// The upstream refused a session token that replaced a rejected one: the fault is ours.
    #[error("upstream refused a freshly replaced session token")]
    FreshTokenRefused,
    #[error("idempotency record cannot be {0}")]
    Record(&'static str, #[source] serde_json::Error),
    #[error("stored idempotent answer does not decode")]
    StoredBody(#[source] base64::DecodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No upstream answer (transport failure, timeout, unreadable body).
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// No session token for the user.
    #[error(transparent)]
    Session(#[from] SessionError),
}
