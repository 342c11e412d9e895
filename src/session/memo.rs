//! A short in-process memo of the last session token handed out per user, in front of the store:
//! polling apps (through the proxy) ask several times a second, and reading and opening the sealed
//! record from the store on every call would double the cost of the hop.
//!
//! Why this is safe: an entry is used for at most [`MEMO_TTL`] and only while the token has more
//! than `session.min_remaining_secs` to live (refreshes happen ahead of that margin anyway). It
//! lives inside the session capability so that every change of token on this instance updates it:
//! a mint or refresh replaces the entry, a token the upstream rejected is dropped before its
//! replacement is fetched, and logout removes it. Another instance's memo may still hand out a
//! logged-out token for up to [`MEMO_TTL`]; signing a user out everywhere clears the entry on every
//! instance (start-up registers the memo as a revocation listener).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use super::record::now_ms;
use super::Issued;

/// How long a worker reuses a token without looking at the store.
pub const MEMO_TTL: Duration = Duration::from_secs(5);
/// Users remembered before the memo starts over.
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

impl TokenMemo {
    pub(crate) fn get(&self, user: &str, min_remaining_ms: i64) -> Option<SecretString> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(user)
            .filter(|e| e.at.elapsed() < MEMO_TTL && e.expires_ms - now_ms() > min_remaining_ms)
            .map(|e| e.token.clone())
    }

    pub(crate) fn put(&self, user: &str, issued: &Issued) {
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

    pub(crate) fn forget(&self, user: &str, token: &SecretString) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map
            .get(user)
            .is_some_and(|e| e.token.expose_secret() == token.expose_secret())
        {
            map.remove(user);
        }
    }

    /// Logout: whatever token is remembered for `user` is gone.
    pub(crate) fn remove(&self, user: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(user);
    }
}
