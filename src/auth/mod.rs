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
pub mod web_session;

pub use extract::{Caller, StreamCaller, Via};
pub use jwt::Verifier;
pub use ops::{OpsCaller, OpsStreamCaller, OpsTokens};
pub use ops_session::OpsSessions;
pub use revocation::Revocations;
pub use web_session::WebSessions;
