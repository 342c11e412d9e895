//! Web-app sessions: a partner JWT exchanged for an opaque 256-bit session id in an `HttpOnly;
//! Secure; SameSite=Strict; Path=/` cookie (`__Host-bff_session` by default). The store keeps only
//! a hash of the id (a store dump yields no usable cookies), the partner user, and the idle and
//! absolute expiries. A new id is issued at every login (the previous one is ended); `DELETE`
//! ends it, and so does signing the user out everywhere (a session created before the user's
//! revocation is refused and deleted on its next use). Cookie-authenticated calls must also carry
//! `X-CSRF: 1` (see `auth::extract`).

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Revocations;
use crate::config::Settings;
use crate::store::{Store, StoreError};

#[derive(Serialize, Deserialize)]
struct WebRecord {
    user: String,
    created_ms: i64,
    last_ms: i64,
}

#[derive(Clone)]
pub struct WebSessions {
    store: Arc<dyn Store>,
    revocations: Revocations,
    idle_ms: i64,
    absolute_ms: i64,
    pub cookie_name: String,
}

fn key(id: &str) -> crate::store::keys::WebSessionKey {
    crate::store::keys::WebSessionKey::new(hex::encode(Sha256::digest(id.as_bytes())))
}

impl WebSessions {
    pub fn new(settings: &Settings, store: Arc<dyn Store>, revocations: Revocations) -> Self {
        WebSessions {
            store,
            revocations,
            idle_ms: (settings.web.idle_timeout_secs * 1000) as i64,
            absolute_ms: (settings.web.absolute_timeout_secs * 1000) as i64,
            cookie_name: settings.web.cookie_name.clone(),
        }
    }

    pub fn idle_secs(&self) -> i64 {
        self.idle_ms / 1000
    }

    /// The cookie's own lifetime: the absolute limit. The idle limit is enforced here, server
    /// side, on every use; a cookie that expired with the idle window would log active users out.
    pub fn absolute_secs(&self) -> i64 {
        self.absolute_ms / 1000
    }

    /// A new session for `user`; returns the id to put in the cookie.
    pub async fn create(&self, user: &str) -> Result<String, StoreError> {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let id = URL_SAFE_NO_PAD.encode(raw);
        let now = chrono::Utc::now().timestamp_millis();
        let rec = WebRecord {
            user: user.to_owned(),
            created_ms: now,
            last_ms: now,
        };
        self.put(&id, &rec, now).await?;
        Ok(id)
    }

    /// The user behind a cookie value, sliding the idle expiry. `None` when unknown, expired, or
    /// created before the user was signed out everywhere.
    pub async fn resolve(&self, id: &str) -> Result<Option<String>, StoreError> {
        if id.len() != 43
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Ok(None);
        }
        let Some(bytes) = self.store.get(&key(id)).await? else {
            return Ok(None);
        };
        let Ok(mut rec) = serde_json::from_slice::<WebRecord>(&bytes) else {
            return Ok(None);
        };
        let now = chrono::Utc::now().timestamp_millis();
        if now - rec.created_ms >= self.absolute_ms
            || now - rec.last_ms >= self.idle_ms
            || !self
                .revocations
                .admits_session(&rec.user, rec.created_ms)
                .await?
        {
            self.store.delete(&key(id)).await?;
            return Ok(None);
        }
        // Slide the idle window at most every few seconds, not on every request.
        if now - rec.last_ms > 5_000 {
            rec.last_ms = now;
            self.put(id, &rec, now).await?;
        }
        Ok(Some(rec.user))
    }

    pub async fn end(&self, id: &str) -> Result<bool, StoreError> {
        self.store.delete(&key(id)).await
    }

    async fn put(&self, id: &str, rec: &WebRecord, now: i64) -> Result<(), StoreError> {
        let left = (rec.created_ms + self.absolute_ms - now)
            .min(self.idle_ms)
            .max(1000);
        let body = serde_json::to_vec(rec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store
            .set(&key(id), &body, Duration::from_millis(left as u64))
            .await
    }
}
