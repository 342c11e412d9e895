//! Partner-user authentication: partner JWTs (HS256 secret or RS256/ES256 via JWKS), the web
//! session cookie with its CSRF header (and the cookie store, [`WebSessions`]), ops bearer tokens,
//! and — for development — minting tokens.

pub mod extract;
pub mod jwt;
pub mod ops;
pub mod token;
pub mod web_session;

pub use extract::{Caller, StreamCaller, Via};
pub use jwt::Verifier;
pub use ops::{OpsCaller, OpsTokens};
pub use web_session::WebSessions;
