//! Partner-user authentication: partner JWTs (HS256 secret or RS256/ES256 via JWKS), the web
//! session cookie with its CSRF header (and the cookie store, [`WebSessions`]), revocation (a
//! user signed out everywhere, [`Revocations`]), ops bearer tokens and the ops console's cookie
//! sessions ([`OpsSessions`]), and — for development — minting tokens.

pub mod extract;
pub mod jwt;
pub mod ops;
pub mod ops_session;
pub mod revocation;
pub mod token;
pub mod verified;
pub mod web_session;

pub use extract::{Caller, StreamCaller, Via};
pub use jwt::Verifier;
pub use ops::{OpsCaller, OpsStreamCaller, OpsTokens};
pub use ops_session::OpsSessions;
pub use revocation::Revocations;
pub use web_session::WebSessions;

/// Whether the request carries `X-CSRF: 1`, the header a cross-site form cannot send: required with
/// every cookie-authenticated call except the read-only event streams.
pub fn has_csrf_header(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get("x-csrf")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1")
}

/// The refusal of a cookie call without `X-CSRF: 1`.
pub fn csrf_missing() -> crate::error::ApiError {
    crate::error::ApiError::Unauthenticated(
        "Cookie-authenticated calls must carry the header X-CSRF: 1.".into(),
    )
}
