//! Shared state behind one small trait, with a Redis implementation (production, many instances;
//! one server, Cluster or Sentinel, with or without TLS: [`RedisMode`]) and an in-memory twin (the
//! zero-config demo, one instance). Both pass the same conformance suite (`tests/api/store.rs`). Every key carries a TTL; every key is built by a type in [`keys`] and
//! prefixed by the implementation. Pub/sub ([`pubsub`]) carries wake-ups between instances. Sorted
//! indexes (`index_*`) are Redis sorted sets with integer
//! scores. On top: lease locks ([`Lease`]) and the lease keep-alive loop
//! ([`renew_while`]).

mod instrumented;
pub mod keys;
mod lock;
pub mod memory;
pub mod pubsub;
pub mod redis;
mod redis_modes;
mod redis_sentinel;
mod renew;
mod sorted;

use std::time::Duration;

use async_trait::async_trait;

pub use instrumented::Instrumented;
pub use lock::{Lease, LockError};
pub use memory::MemoryStore;
pub use pubsub::{Delivery, Subscription};
pub use redis::RedisStore;
pub use redis_modes::{RedisMode, RedisOptions, SetupError, TlsFiles};
pub use renew::renew_while;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backing store cannot be reached or did not answer in time.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stream cursor that this store did not issue.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The store answered with something it should not hold.
    #[error("store data corrupt: {0}")]
    Corrupt(String),
}

/// A value with the version it was written at (1 for the first write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub version: u64,
    pub value: Vec<u8>,
}

/// One stream entry: the cursor to resume after it, and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    pub cursor: String,
    pub value: Vec<u8>,
}

/// How a stream is kept short: by length and by age (approximate in Redis, exact in memory).
#[derive(Debug, Clone, Copy)]
pub struct StreamTrim {
    pub max_len: usize,
    pub max_age: Duration,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `redis` or `memory`.
    fn kind(&self) -> &'static str;

    /// Reachability, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError>;

    /// Set only when absent; true when this call set it.
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError>;

    /// True when something was deleted.
    async fn delete(&self, key: &str) -> Result<bool, StoreError>;

    /// Delete only while the key holds exactly `expected` (lock release by its owner).
    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError>;

    /// Reset the TTL only while the key holds exactly `expected` (lease renewal by its owner).
    async fn compare_and_expire(
        &self,
        key: &str,
        expected: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Read a versioned record.
    async fn get_versioned(&self, key: &str) -> Result<Option<Versioned>, StoreError>;

    /// Write a versioned record if its current version is `expected` (`None` = must not exist).
    /// Returns the new version, or `None` when another writer got there first.
    async fn put_versioned(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError>;

    /// Increment a counter; the TTL is set when the counter is created (fixed windows).
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, StoreError>;

    /// Set one field of a hash and (re)set the hash's TTL.
    async fn hash_set(
        &self,
        key: &str,
        field: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError>;

    async fn hash_get(&self, key: &str, field: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// All fields, sorted by field name.
    async fn hash_get_all(&self, key: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Append to a stream, trimming it, and (re)set its TTL to `trim.max_age`. Returns the cursor.
    async fn stream_append(
        &self,
        key: &str,
        value: &[u8],
        trim: StreamTrim,
    ) -> Result<String, StoreError>;

    /// Append to a stream like [`Store::stream_append`], but only when `sequence` is greater than
    /// the one recorded under `guard_field` in the hash `guard_key`, which is then set to it — one
    /// atomic step. `None` when refused. The guard hash also lives for `trim.max_age`. (Both keys
    /// must share a cluster hash tag.)
    async fn stream_append_if_newer(
        &self,
        key: &str,
        guard_key: &str,
        guard_field: &str,
        sequence: u64,
        value: &[u8],
        trim: StreamTrim,
    ) -> Result<Option<String>, StoreError>;

    /// Up to `limit` entries strictly after `after` (from the start when `None`), oldest first.
    async fn stream_read(
        &self,
        key: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, StoreError>;

    /// Put `member` at `score` in a sorted index (moving it when present), keep only the
    /// `max_len` highest scores, and (re)set the index's TTL.
    async fn index_put(
        &self,
        key: &str,
        member: &str,
        score: i64,
        max_len: usize,
        ttl: Duration,
    ) -> Result<(), StoreError>;

    /// Take `member` out of a sorted index (nothing happens when it is not there).
    async fn index_remove(&self, key: &str, member: &str) -> Result<(), StoreError>;

    /// Up to `limit` members scored at most `max_score`, highest score first (equal scores: member
    /// descending, bytewise), after skipping `offset` of them; each with its score.
    async fn index_desc(
        &self,
        key: &str,
        max_score: i64,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, StoreError>;

    /// Number of members in a sorted index (0 when there is none).
    async fn index_len(&self, key: &str) -> Result<u64, StoreError>;

    /// Put `member` into a schedule (a sorted index scored by a due time in unix ms) at `due_ms`,
    /// and (re)set the schedule's TTL. With `only_if_absent`, a member already there keeps its
    /// time. True when the member was added or moved. (Unlike [`Store::index_put`] nothing is
    /// trimmed.) Members leave with [`Store::index_remove`].
    async fn schedule_put(
        &self,
        key: &str,
        member: &str,
        due_ms: i64,
        only_if_absent: bool,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Take up to `limit` members due at `now_ms` (score at most `now_ms`, earliest first) and, in
    /// the same atomic step, move each to `lease_until_ms`, so no other caller takes it until
    /// then: a taker that dies leaves the member to come due again when its lease runs out.
    async fn schedule_take_due(
        &self,
        key: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;

    /// Send `message` to everyone subscribed to `channel` right now, on every instance sharing
    /// this store (nobody else ever sees it).
    async fn publish(&self, channel: &str, message: &[u8]) -> Result<(), StoreError>;

    /// Subscribe to `channel`. The subscription ends when its connection is lost; subscribe again
    /// (and assume something was missed).
    async fn subscribe(&self, channel: &str) -> Result<Subscription, StoreError>;
}

/// Parse a stream cursor `ms-seq` (or `ms`) into its parts.
pub fn parse_cursor(s: &str) -> Result<(u64, u64), StoreError> {
    let mut parts = s.splitn(2, '-');
    let ms = parts
        .next()
        .filter(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse::<u64>().ok())
        .ok_or(StoreError::InvalidCursor)?;
    let seq = match parts.next() {
        None => 0,
        Some(p) if !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse::<u64>().map_err(|_| StoreError::InvalidCursor)?
        }
        Some(_) => return Err(StoreError::InvalidCursor),
    };
    Ok((ms, seq))
}

/// Build the store named by the settings: the in-memory one when no Redis mode is configured.
/// Nothing connects yet; an error is a set-up that cannot work (a bad URL, an unreadable file).
pub fn from_settings(
    s: &crate::config::StoreSettings,
) -> Result<std::sync::Arc<dyn Store>, SetupError> {
    match RedisOptions::from_settings(s) {
        None => Ok(std::sync::Arc::new(MemoryStore::with_max_keys(
            &s.key_prefix,
            s.memory_max_keys,
        ))),
        Some(options) => {
            let store = RedisStore::open(&options, &s.key_prefix)?;
            tracing::info!(mode = options.mode.label(), "store: redis");
            Ok(std::sync::Arc::new(store))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_strictly() {
        assert_eq!(parse_cursor("5-3").unwrap(), (5, 3));
        assert_eq!(parse_cursor("5").unwrap(), (5, 0));
        for bad in ["", "-", "a-1", "1-", "1-b", "1-2-3", "+", "$"] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }
}
