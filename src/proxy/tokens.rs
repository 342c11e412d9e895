//! The session token a proxied call carries, with a short per-worker memo in front of
//! [`Sessions::token_for`]: polling apps call several times a second, and reading (and opening)
//! the sealed record from the store on every call would double the cost of the hop.
//!
//! Why this is safe: an entry is used for at most [`MEMO_TTL`] and only while the token has more
//! than `session.min_remaining_secs` to live (the session capability refreshes ahead of that
//! margin anyway). A token the upstream rejects is dropped at once and replaced through
//! [`Sessions::replace_rejected`] (single-flight, so a token another instance already replaced
//! costs no upstream call). Consequence: after `DELETE /v1/session`, a worker may use the old
//! token for up to [`MEMO_TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use crate::error::ApiError;
use crate::middleware::RequestContext;
use crate::session::{Issued, Sessions};

/// How long a worker reuses a token without looking at the store.
pub const MEMO_TTL: Duration = Duration::from_secs(5);
/// Users remembered per worker before the memo starts over.
const MEMO_MAX: usize = 10_000;

struct Entry {
    token: SecretString,
    expires_ms: i64,
    at: Instant,
}

#[derive(Default)]
pub struct TokenMemo {
    map: Mutex<HashMap<String, Entry>>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl TokenMemo {
    fn get(&self, user: &str, min_remaining_ms: i64) -> Option<SecretString> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(user)
            .filter(|e| e.at.elapsed() < MEMO_TTL && e.expires_ms - now_ms() > min_remaining_ms)
            .map(|e| e.token.clone())
    }

    fn put(&self, user: &str, issued: &Issued) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MEMO_MAX {
            map.clear();
        }
        map.insert(
            user.to_owned(),
            Entry {
                token: issued.token.clone(),
                expires_ms: issued.record.session_expires_ms,
                at: Instant::now(),
            },
        );
    }

    fn forget(&self, user: &str, token: &SecretString) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map
            .get(user)
            .is_some_and(|e| e.token.expose_secret() == token.expose_secret())
        {
            map.remove(user);
        }
    }
}

/// Tokens for proxied calls.
pub struct Tokens<'a> {
    pub sessions: &'a Sessions,
    pub memo: &'a TokenMemo,
    pub min_remaining_ms: i64,
}

impl Tokens<'_> {
    /// A usable session token for `user` (memo, else stored, else refreshed or minted).
    pub async fn current(
        &self,
        user: &str,
        ctx: &RequestContext,
    ) -> Result<SecretString, ApiError> {
        if let Some(t) = self.memo.get(user, self.min_remaining_ms) {
            return Ok(t);
        }
        let issued = self.sessions.token_for(user, ctx).await?;
        self.memo.put(user, &issued);
        Ok(issued.token)
    }

    /// Upstream answered 401 to `rejected`: forget it and get its replacement.
    pub async fn replace(
        &self,
        user: &str,
        rejected: &SecretString,
        ctx: &RequestContext,
    ) -> Result<SecretString, ApiError> {
        self.memo.forget(user, rejected);
        let issued = self.sessions.replace_rejected(user, rejected, ctx).await?;
        self.memo.put(user, &issued);
        Ok(issued.token)
    }
}
