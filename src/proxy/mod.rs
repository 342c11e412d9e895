//! `/v1/headless/*`: journey calls of partner web and mobile apps forwarded to the upstream
//! `/api/v1/headless/*` with the user's borrower session token — so no app ever holds an
//! upstream token — plus path and header hygiene ([`path`], [`headers`]), ownership of journeys
//! ([`ownership`]), IETF-style idempotency shared by every instance ([`idempotency`]) and
//! bounded upstream retries ([`retry`]); the session token comes from the session capability
//! (which memoises it in process). Journey answers are remembered for `/v1/session`'s
//! `activeJourney` ([`freshness`]). [`forward`] ties them together; [`routes`] is the edge.
//!
//! Response headers this module adds to mutating calls (also exposed to browsers by CORS):
//! `Idempotency-Key` (the key in use — the caller's, or the generated one),
//! `Idempotency-Retention` (seconds a finished answer is kept for replay) and
//! `Idempotent-Replayed: true` on a replayed answer.

mod error;
pub mod forward;
pub mod freshness;
pub mod headers;
pub mod idempotency;
pub mod ownership;
pub mod path;
pub mod retry;
pub mod routes;

pub use error::ProxyError;

/// `Idempotent-Replayed: true` marks an answer replayed from the idempotency store.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
/// `Idempotency-Retention: <seconds>`: how long the answer to this key is kept for replay.
pub const IDEMPOTENCY_RETENTION: &str = "idempotency-retention";
