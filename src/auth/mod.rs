//! Partner-user authentication: partner JWTs (and, for development, minting them).

pub mod token;
