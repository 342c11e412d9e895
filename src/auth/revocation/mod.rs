//! Signing a partner user out everywhere: the revocation mark, and the check every caller passes.
//!
//! A revocation stores "user revoked at T" (unix ms) under the user's key and appends it to the
//! revocation log. From then on a partner JWT of that user is refused when its `iat` is earlier
//! than T (second resolution: `iat` has no finer unit, so a token issued in T's own second is
//! accepted), a JWT without `iat` is refused until `auth.max_token_lifetime_secs` after T, and a
//! web session created before T is refused. The mark is kept for the longest time any earlier
//! credential can live — the JWT lifetime cap or the web session's absolute timeout, whichever is
//! longer, plus the clock leeway — after which it has nothing left to refuse.
//!
//! Why a cache and a polled log (and not a store read per request, nor pub/sub): the check runs on
//! every authenticated request, the proxy's hot path included, while revocations are rare. Each
//! instance keeps a bounded map user → revoked-at-or-never ([`cache`]), filled from the store on
//! a user's first request, so the common case is a hash-map lookup. Other instances learn of a
//! revocation by reading the log every 250 ms ([`watch`]): one cheap range read per instance
//! whatever the traffic, the same code on Redis and on the in-memory store, no extra connection
//! kind, and — unlike pub/sub, whose messages are lost while a subscriber reconnects — a reader
//! that was cut off resumes from its last position. A cache that has not followed the log for two
//! seconds is not trusted: lookups then go to the store.

mod cache;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::store::keys::{RevocationLogKey, RevokedUserKey};
use crate::store::{Store, StoreError, StreamTrim};

pub use cache::STALE_AFTER;
pub use watch::POLL;

/// Users whose revocation state one instance remembers.
const CACHE_ENTRIES: usize = 100_000;
/// Revocations the log keeps (it is also trimmed by age).
const LOG_MAX_LEN: usize = 100_000;

/// Called with the user id whenever this instance learns of a revocation (its own or another
/// instance's): drop whatever the instance holds for that user in memory.
pub type Listener = Box<dyn Fn(&str) + Send + Sync>;

/// The revocation capability. Cheap to clone.
#[derive(Clone)]
pub struct Revocations {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    store: Arc<dyn Store>,
    cache: cache::Cache,
    max_lifetime_ms: i64,
    keep: Duration,
    listeners: Vec<Listener>,
}

impl Inner {
    fn applied(&self, user: &str, revoked_ms: i64) {
        self.cache.apply(user, revoked_ms);
        for listener in &self.listeners {
            listener(user);
        }
    }
}

impl Revocations {
    /// Build the capability and start following the revocation log (call inside a Tokio runtime).
    pub fn start(settings: &Settings, store: Arc<dyn Store>, listeners: Vec<Listener>) -> Self {
        let r = Revocations::new(settings, store, listeners);
        tokio::spawn(watch::follow(Arc::downgrade(&r.inner)));
        r
    }

    fn new(settings: &Settings, store: Arc<dyn Store>, listeners: Vec<Listener>) -> Self {
        let longest = settings
            .auth
            .max_token_lifetime_secs
            .max(settings.web.absolute_timeout_secs);
        Revocations {
            inner: Arc::new(Inner {
                store,
                cache: cache::Cache::new(CACHE_ENTRIES),
                max_lifetime_ms: (settings.auth.max_token_lifetime_secs as i64)
                    .saturating_mul(1000),
                keep: Duration::from_secs(longest.saturating_add(settings.auth.leeway_secs)),
                listeners,
            }),
        }
    }

    /// Sign `user` out everywhere from now on; returns the revocation time (unix ms). The mark is
    /// written before the log entry, so an instance that reads the entry finds the mark.
    pub async fn revoke(&self, user: &str) -> Result<i64, StoreError> {
        let inner = &self.inner;
        let key = RevokedUserKey::new(user_digest(user));
        // A second revocation never moves the mark back (instance clocks may differ a little).
        let at = match read_mark(inner.store.get(&key).await?) {
            Some(previous) => previous.max(now_ms()),
            None => now_ms(),
        };
        inner
            .store
            .set(&key, at.to_string().as_bytes(), inner.keep)
            .await?;
        let entry = serde_json::to_vec(&watch::LogEntry {
            user: user.to_owned(),
            revoked_ms: at,
        })
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        inner
            .store
            .stream_append(
                &RevocationLogKey::new(),
                &entry,
                StreamTrim {
                    max_len: LOG_MAX_LEN,
                    max_age: inner.keep,
                },
            )
            .await?;
        inner.applied(user, at);
        Ok(at)
    }

    /// May a partner JWT of `user` issued at `issued_at` (unix s, when it has `iat`) be used?
    pub async fn admits_token(
        &self,
        user: &str,
        issued_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        // The common case (never revoked) reads no clock.
        let Some(revoked) = self.revoked_at(user).await? else {
            return Ok(true);
        };
        Ok(token_admitted(
            Some(revoked),
            issued_at,
            now_ms(),
            self.inner.max_lifetime_ms,
        ))
    }

    /// May a web session of `user` created at `created_ms` be used?
    pub async fn admits_session(&self, user: &str, created_ms: i64) -> Result<bool, StoreError> {
        Ok(self
            .revoked_at(user)
            .await?
            .is_none_or(|revoked| created_ms >= revoked))
    }

    /// When `user` was last revoked: from this instance's cache, else from the store.
    async fn revoked_at(&self, user: &str) -> Result<Option<i64>, StoreError> {
        let inner = &self.inner;
        if let Some(known) = inner.cache.get(user) {
            return Ok(known);
        }
        let epoch = inner.cache.epoch();
        let key = RevokedUserKey::new(user_digest(user));
        let revoked = read_mark(inner.store.get(&key).await?);
        inner.cache.fill(user, revoked, epoch);
        Ok(revoked)
    }
}

/// The revocation rule for partner JWTs (times in unix ms, `issued_at` in unix s).
fn token_admitted(
    revoked_ms: Option<i64>,
    issued_at: Option<i64>,
    now_ms: i64,
    max_lifetime_ms: i64,
) -> bool {
    let Some(revoked_ms) = revoked_ms else {
        return true;
    };
    match issued_at {
        Some(iat) => iat >= revoked_ms.div_euclid(1000),
        // Without `iat` the token may be older than the revocation: refused until every token the
        // cap allows, issued before the revocation, has expired.
        None => now_ms >= revoked_ms.saturating_add(max_lifetime_ms),
    }
}

fn read_mark(raw: Option<Vec<u8>>) -> Option<i64> {
    raw.and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse::<i64>().ok())
}

/// Store key material for a user id (user ids may hold anything).
fn user_digest(user: &str) -> String {
    hex::encode(&Sha256::digest(user.as_bytes())[..16])
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    #[test]
    fn tokens_issued_before_the_revocation_second_are_refused() {
        let revoked = Some(1_000_500);
        assert!(token_admitted(None, Some(0), 0, DAY_MS));
        assert!(!token_admitted(revoked, Some(999), 2_000_000, DAY_MS));
        assert!(token_admitted(revoked, Some(1_000), 2_000_000, DAY_MS));
        assert!(token_admitted(revoked, Some(1_001), 2_000_000, DAY_MS));
    }

    #[test]
    fn tokens_without_iat_are_refused_for_the_max_lifetime() {
        let revoked = Some(1_000_000);
        assert!(!token_admitted(revoked, None, 1_000_000, DAY_MS));
        assert!(!token_admitted(
            revoked,
            None,
            1_000_000 + DAY_MS - 1,
            DAY_MS
        ));
        assert!(token_admitted(revoked, None, 1_000_000 + DAY_MS, DAY_MS));
    }

    #[tokio::test]
    async fn a_revocation_refuses_earlier_credentials_of_that_user_only() {
        let settings = crate::config::load(crate::config::LoadOptions {
            config_dir: Some(std::path::PathBuf::from("/nonexistent")),
            read_env_vars: false,
            ..Default::default()
        })
        .unwrap();
        let store: Arc<dyn Store> = Arc::new(crate::store::MemoryStore::new("t:"));
        let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let listener: Listener = {
            let seen = Arc::clone(&seen);
            Box::new(move |u: &str| seen.lock().unwrap().push(u.to_owned()))
        };
        let r = Revocations::new(&settings, store, vec![listener]);
        let before = now_ms() / 1000 - 5;
        assert!(r.admits_token("u1", Some(before)).await.unwrap());
        let at = r.revoke("u1").await.unwrap();
        assert!(!r.admits_token("u1", Some(before)).await.unwrap());
        assert!(!r.admits_token("u1", None).await.unwrap());
        assert!(r.admits_token("u1", Some(at / 1000)).await.unwrap());
        assert!(!r.admits_session("u1", at - 1).await.unwrap());
        assert!(r.admits_session("u1", at).await.unwrap());
        assert!(r.admits_token("u2", Some(before)).await.unwrap());
        assert!(r.admits_session("u2", at - 1).await.unwrap());
        assert_eq!(*seen.lock().unwrap(), ["u1"]);
        let again = r.revoke("u1").await.unwrap();
        assert!(again >= at);
    }
}
