//! Signing a partner user out everywhere (`POST /v1/ops/users/{userID}/revoke`, for ops staff and
//! the partner's backend): the revocation mark that refuses the user's earlier JWTs and web sessions
//! on every instance ([`Revocations`]), the stored upstream session and refresh token deleted and
//! the token memo forgotten ([`Sessions`]), an audit entry, and a count in `bff_revocations_total`.

mod routes;

use prometheus::IntCounter;
use serde::Serialize;

use crate::audit::Audit;
use crate::auth::Revocations;
use crate::metrics::Metrics;
use crate::session::{SessionError, Sessions};
use crate::store::StoreError;

pub use routes::{routes, Api};

/// The audit action of a revocation.
pub const ACTION: &str = "revoke";

/// What a revocation answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Revocation)]
pub struct Revoked {
    #[serde(rename = "userID")]
    pub user_id: String,
    /// When the revocation took effect (RFC 3339, UTC, milliseconds).
    #[serde(rename = "revokedAt")]
    #[schema(format = DateTime)]
    pub revoked_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("invalid user id")]
    InvalidUser,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Session(#[from] SessionError),
}

pub struct Revoker {
    revocations: Revocations,
    sessions: Sessions,
    audit: Audit,
    counter: IntCounter,
}

impl Revoker {
    pub fn new(
        revocations: Revocations,
        sessions: Sessions,
        audit: Audit,
        metrics: &Metrics,
    ) -> Result<Self, prometheus::Error> {
        let counter = IntCounter::new(
            "revocations_total",
            "Partner users signed out everywhere (POST /v1/ops/users/{userID}/revoke)",
        )?;
        metrics.register(Box::new(counter.clone()))?;
        Ok(Revoker {
            revocations,
            sessions,
            audit,
            counter,
        })
    }

    /// Revoke first (from that instant every instance refuses the user's earlier credentials),
    /// then delete what the user's credentials unlocked, then record who did it.
    pub async fn revoke(&self, operator: &str, user: &str) -> Result<Revoked, RevokeError> {
        // The same rule as a JWT `sub`: any other id cannot belong to a partner user.
        if user.is_empty() || user.len() > 256 || user.chars().any(|c| c.is_control()) {
            return Err(RevokeError::InvalidUser);
        }
        let at = self.revocations.revoke(user).await?;
        self.sessions.forget_for_revocation(user).await?;
        self.audit.record(operator, ACTION, user).await?;
        self.counter.inc();
        Ok(Revoked {
            user_id: user.to_owned(),
            revoked_at: chrono::DateTime::from_timestamp_millis(at)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
    }
}
