//! Partner-user authentication: partner JWTs (HS256 secret or RS256/ES256 via JWKS), the web
//! session cookie with its CSRF header, and — for development — minting tokens.

pub mod extract;
pub mod jwt;
pub mod token;

pub use extract::{Caller, Via};
pub use jwt::Verifier;
