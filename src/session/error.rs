//! What can go wrong in the session capability. Free of HTTP: `session::routes` (and the proxy,
//! which asks for tokens) map these to responses.

use super::cipher::CipherError;
use crate::store::StoreError;
use crate::upstream::{UpstreamError, UpstreamResponse};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No upstream answer (transport failure, timeout, unreadable body).
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The upstream refused our `sk_*` key (401/403) on a session call: a fault of this
    /// deployment, never the caller's.
    #[error("upstream refused the API key on a session call ({status})")]
    KeyRefused { status: u16 },
    /// Any other non-2xx answer to a session call (a 4xx is the caller's to see).
    #[error("upstream answered a session call with {}", .0.status)]
    Answered(Box<UpstreamResponse>),
    /// The upstream refused a token that had itself replaced a refused one: no further session
    /// call is made for it.
    #[error("the upstream refused a replacement session token too")]
    ReplacementRefused,
    /// `upstream.refresh_mode = endpoint` and the upstream has no refresh endpoint (404/405/501):
    /// a fault of this deployment's configuration, never the caller's.
    #[error("the upstream has no refresh endpoint ({status}) and refresh_mode=endpoint never falls back")]
    RefreshEndpointAbsent { status: u16 },
    /// The per-user budget of upstream session calls is spent.
    #[error("per-user session rate limit reached")]
    RateLimited { retry_after_secs: u64 },
    /// Another instance held the refresh lock for longer than we wait.
    #[error("gave up waiting for another instance's session refresh")]
    WaitTimedOut,
    /// Our write-back lost to another lock holder whose record is not usable either.
    #[error("session write-back lost to a holder without a usable session")]
    LostRace,
    #[error("cannot seal the session tokens")]
    Seal(#[source] CipherError),
    #[error("the stored session token does not open")]
    Open(#[source] CipherError),
    #[error("cannot encode the {0}")]
    Encode(&'static str, #[source] serde_json::Error),
}
