//! The stored session: what upstream gave us, tokens sealed, plus the bookkeeping the refresh
//! single-flight needs (when it was obtained, by which lock holder, whether upstream rejected it).

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cipher::{CipherError, TokenCipher};
use crate::upstream::types::{ActiveJourney, SessionData};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub borrower_id: String,
    pub borrower_external_id: String,
    /// Sealed (see `cipher`).
    pub session_token: String,
    pub refresh_token: Option<String>,
    pub session_expires_at: String,
    pub session_expires_ms: i64,
    pub refresh_expires_at: Option<String>,
    pub refresh_expires_ms: Option<i64>,
    pub active_journey: Option<ActiveJourney>,
    /// When this token pair arrived from upstream (unix ms).
    pub obtained_ms: i64,
    /// The fence of the lock holder that wrote it.
    pub fence: u64,
    /// Upstream answered 401 to this session token: never hand it out again.
    #[serde(default)]
    pub rejected: bool,
    /// This token replaced one the upstream rejected with 401, and the upstream rejected it too
    /// at once. The fault is then not the token's (a path that always answers 401, a key
    /// problem): it is not replaced again, so one bad path cannot burn the user's session budget.
    #[serde(default)]
    pub replacement_refused: bool,
}

/// Parse an upstream timestamp (RFC 3339) to unix ms.
pub fn parse_ms(ts: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(|d| d.timestamp_millis())
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Record {
    pub fn from_upstream(
        data: SessionData,
        cipher: &TokenCipher,
        owner: &str,
        fence: u64,
        previous_refresh: Option<String>,
    ) -> Result<Record, CipherError> {
        let now = now_ms();
        let session_expires_ms = parse_ms(&data.session_expires_at).unwrap_or(now + 60_000);
        let refresh_token = match &data.refresh_token {
            Some(t) => Some(cipher.seal(t.expose_secret(), owner)?),
            None => previous_refresh,
        };
        let refresh_expires_ms = data.refresh_expires_at.as_deref().and_then(parse_ms);
        Ok(Record {
            borrower_id: data.borrower_id,
            borrower_external_id: data.borrower_external_id,
            session_token: cipher.seal(data.session_token.expose_secret(), owner)?,
            refresh_token,
            session_expires_at: data.session_expires_at,
            session_expires_ms,
            refresh_expires_at: data.refresh_expires_at,
            refresh_expires_ms,
            active_journey: data.active_journey,
            obtained_ms: now,
            fence,
            rejected: false,
            replacement_refused: false,
        })
    }

    /// Usable without an upstream call: not rejected and at least `min_remaining_ms` to live.
    pub fn is_fresh(&self, now: i64, min_remaining_ms: i64) -> bool {
        !self.rejected && self.session_expires_ms - now > min_remaining_ms
    }

    /// A refresh token that upstream may still accept.
    pub fn refresh_usable(&self, now: i64) -> bool {
        self.refresh_token.is_some() && self.refresh_expires_ms.is_none_or(|e| e > now + 1000)
    }

    /// How long the record is worth keeping: until the later of the two expiries.
    pub fn ttl_ms(&self, now: i64) -> i64 {
        let end = self
            .refresh_expires_ms
            .unwrap_or(self.session_expires_ms)
            .max(self.session_expires_ms);
        (end - now).max(1000)
    }
}

/// Store key material for a user id (hashed: user ids may hold anything).
pub fn user_hash(user_id: &str) -> String {
    hex::encode(&Sha256::digest(user_id.as_bytes())[..16])
}

/// A stable fingerprint of a secret token, for comparing without keeping it around.
pub fn token_fingerprint(token: &SecretString) -> [u8; 32] {
    Sha256::digest(token.expose_secret().as_bytes()).into()
}
