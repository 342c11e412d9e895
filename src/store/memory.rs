//! The in-memory twin of the Redis store, for the zero-config demo and single-instance use.
//! State lives in this process only: several instances do NOT share it.
//!
//! It holds at most `max_keys` keys (`store.memory_max_keys`). When full, expired keys are
//! purged; if it is still full, a write that would add a key fails as `Unavailable` (503 at the
//! edge) — fail closed, because evicting an unexpired key could drop a lock, an idempotency
//! record or a session that another request relies on. Writes to existing keys still succeed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::pubsub::LocalBus;
use super::sorted::SortedIndex;
use super::{parse_cursor, Store, StoreError, StreamEntry, StreamTrim, Subscription, Versioned};

enum Value {
    Bytes(Vec<u8>),
    Versioned(u64, Vec<u8>),
    Counter(u64),
    Hash(BTreeMap<String, Vec<u8>>),
    Stream(VecDeque<((u64, u64), Vec<u8>)>),
    Index(SortedIndex),
}

struct Entry {
    value: Value,
    expires_at: Instant,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, Entry>,
    last_stream_id: (u64, u64),
    ops: u64,
}

pub struct MemoryStore {
    prefix: String,
    max_keys: usize,
    inner: Mutex<Inner>,
    bus: LocalBus,
}

/// The default of `store.memory_max_keys`.
pub const DEFAULT_MAX_KEYS: usize = 200_000;

impl MemoryStore {
    pub fn new(prefix: &str) -> Self {
        Self::with_max_keys(prefix, DEFAULT_MAX_KEYS)
    }

    /// A store that holds at most `max_keys` keys.
    pub fn with_max_keys(prefix: &str, max_keys: usize) -> Self {
        MemoryStore {
            prefix: prefix.to_owned(),
            max_keys: max_keys.max(1),
            inner: Mutex::new(Inner::default()),
            bus: LocalBus::default(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner, Instant) -> T) -> Result<T, StoreError> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store poisoned".into()))?;
        let now = Instant::now();
        inner.ops += 1;
        if inner.ops % 1024 == 0 {
            inner.map.retain(|_, e| e.expires_at > now);
        }
        Ok(f(&mut inner, now))
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    /// `f` on the live sorted index at `key`; `absent` when there is none.
    fn on_index<T>(
        &self,
        key: &str,
        absent: T,
        f: impl FnOnce(&mut SortedIndex) -> T,
    ) -> Result<T, StoreError> {
        let key = self.key(key);
        self.with(|inner, now| match live(inner, &key, now) {
            None => Ok(absent),
            Some(Entry {
                value: Value::Index(ix),
                ..
            }) => Ok(f(ix)),
            Some(_) => Err(wrong_type()),
        })?
    }
}

fn live<'a>(inner: &'a mut Inner, key: &str, now: Instant) -> Option<&'a mut Entry> {
    let expired = matches!(inner.map.get(key), Some(e) if e.expires_at <= now);
    if expired {
        inner.map.remove(key);
    }
    inner.map.get_mut(key)
}

/// Room for `key`: it exists already, or there is (or, after purging expired keys, will be)
/// space for one more.
fn admit(inner: &mut Inner, key: &str, now: Instant, max_keys: usize) -> Result<(), StoreError> {
    if inner.map.contains_key(key) || inner.map.len() < max_keys {
        return Ok(());
    }
    inner.map.retain(|_, e| e.expires_at > now);
    if inner.map.len() < max_keys {
        return Ok(());
    }
    tracing::error!(
        max_keys,
        "the in-memory store is full (store.memory_max_keys); refusing new keys"
    );
    Err(StoreError::Unavailable(
        "the in-memory store is full".into(),
    ))
}

fn wrong_type() -> StoreError {
    StoreError::Corrupt("key holds a value of another type".into())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[async_trait]
impl Store for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|_, _| ())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.key(key);
        self.with(|inner, now| match live(inner, &key, now) {
            None => Ok(None),
            Some(Entry {
                value: Value::Bytes(b),
                ..
            }) => Ok(Some(b.clone())),
            Some(Entry {
                value: Value::Counter(n),
                ..
            }) => Ok(Some(n.to_string().into_bytes())),
            Some(_) => Err(wrong_type()),
        })?
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        let key = self.key(key);
        let max = self.max_keys;
        self.with(|inner, now| {
            admit(inner, &key, now, max)?;
            inner.map.insert(
                key,
                Entry {
                    value: Value::Bytes(value.to_vec()),
                    expires_at: now + ttl,
                },
            );
            Ok(())
        })?
    }

    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let key = self.key(key);
        let max = self.max_keys;
        self.with(|inner, now| {
            if live(inner, &key, now).is_some() {
                return Ok(false);
            }
            admit(inner, &key, now, max)?;
            inner.map.insert(
                key,
                Entry {
                    value: Value::Bytes(value.to_vec()),
                    expires_at: now + ttl,
                },
            );
            Ok(true)
        })?
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.with(|inner, now| live(inner, &key, now).is_some() && inner.map.remove(&key).is_some())
    }

    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.with(|inner, now| {
            let matches = matches!(live(inner, &key, now), Some(Entry { value: Value::Bytes(b), .. }) if b == expected);
            if matches {
                inner.map.remove(&key);
            }
            matches
        })
    }

    async fn compare_and_expire(
        &self,
        key: &str,
        expected: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.with(|inner, now| match live(inner, &key, now) {
            Some(e) if matches!(&e.value, Value::Bytes(b) if b == expected) => {
                e.expires_at = now + ttl;
                true
            }
            _ => false,
        })
    }

    async fn get_versioned(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let key = self.key(key);
        self.with(|inner, now| match live(inner, &key, now) {
            None => Ok(None),
            Some(Entry {
                value: Value::Versioned(v, d),
                ..
            }) => Ok(Some(Versioned {
                version: *v,
                value: d.clone(),
            })),
            Some(_) => Err(wrong_type()),
        })?
    }

    async fn put_versioned(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let key = self.key(key);
        let max = self.max_keys;
        self.with(|inner, now| {
            let current = match live(inner, &key, now) {
                None => None,
                Some(Entry {
                    value: Value::Versioned(v, _),
                    ..
                }) => Some(*v),
                Some(_) => return Err(wrong_type()),
            };
            if current != expected {
                return Ok(None);
            }
            let next = current.unwrap_or(0) + 1;
            admit(inner, &key, now, max)?;
            inner.map.insert(
                key,
                Entry {
                    value: Value::Versioned(next, value.to_vec()),
                    expires_at: now + ttl,
                },
            );
            Ok(Some(next))
        })?
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, StoreError> {
        let key = self.key(key);
        let max = self.max_keys;
        self.with(|inner, now| match live(inner, &key, now) {
            Some(Entry {
                value: Value::Counter(n),
                ..
            }) => {
                *n += 1;
                Ok(*n)
            }
            Some(_) => Err(wrong_type()),
            None => {
                admit(inner, &key, now, max)?;
                inner.map.insert(
                    key,
                    Entry {
                        value: Value::Counter(1),
                        expires_at: now + ttl,
                    },
                );
                Ok(1)
            }
        })?
    }

    async fn hash_set(
        &self,
        key: &str,
        field: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = self.key(key);
        let max = self.max_keys;
        self.with(|inner, now| {
            match live(inner, &key, now) {
                Some(Entry {
                    value: Value::Hash(h),
                    expires_at,
                }) => {
                    h.insert(field.to_owned(), value.to_vec());
                    *expires_at = now + ttl;
                }
                Some(_) => return Err(wrong_type()),
                None => {
                    admit(inner, &key, now, max)?;
                    let mut h = BTreeMap::new();
                    h.insert(field.to_owned(), value.to_vec());
                    inner.map.insert(
                        key,
                        Entry {
                            value: Value::Hash(h),
                            expires_at: now + ttl,
                        },
                    );
                }
            }
            Ok(())
        })?
    }

    async fn hash_get(&self, key: &str, field: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.key(key);
        self.with(|inner, now| match live(inner, &key, now) {
            None => Ok(None),
            Some(Entry {
                value: Value::Hash(h),
                ..
            }) => Ok(h.get(field).cloned()),
            Some(_) => Err(wrong_type()),
        })?
    }

    async fn hash_get_all(&self, key: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let key = self.key(key);
        self.with(|inner, now| match live(inner, &key, now) {
            None => Ok(Vec::new()),
            Some(Entry {
                value: Value::Hash(h),
                ..
            }) => Ok(h.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            Some(_) => Err(wrong_type()),
        })?
    }

    async fn stream_append(
        &self,
        key: &str,
        value: &[u8],
        trim: StreamTrim,
    ) -> Result<String, StoreError> {
        let key = self.key(key);
        let max = self.max_keys;
        self.with(|inner, now| append(inner, &key, value, trim, now, max))?
    }

    async fn stream_append_if_newer(
        &self,
        key: &str,
        guard_key: &str,
        guard_field: &str,
        sequence: u64,
        value: &[u8],
        trim: StreamTrim,
    ) -> Result<Option<String>, StoreError> {
        let (key, guard_key) = (self.key(key), self.key(guard_key));
        let max = self.max_keys;
        self.with(|inner, now| {
            live(inner, &guard_key, now); // drops it when expired
            admit(inner, &guard_key, now, max)?;
            let guard = inner.map.entry(guard_key).or_insert_with(|| Entry {
                value: Value::Hash(BTreeMap::new()),
                expires_at: now,
            });
            let Value::Hash(h) = &mut guard.value else {
                return Err(wrong_type());
            };
            let last = h
                .get(guard_field)
                .and_then(|b| std::str::from_utf8(b).ok()?.parse::<u64>().ok());
            if last.is_some_and(|l| l >= sequence) {
                return Ok(None);
            }
            h.insert(guard_field.to_owned(), sequence.to_string().into_bytes());
            guard.expires_at = now + trim.max_age;
            append(inner, &key, value, trim, now, max).map(Some)
        })?
    }

    async fn stream_read(
        &self,
        key: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, StoreError> {
        let after = after.map(parse_cursor).transpose()?;
        let key = self.key(key);
        self.with(|inner, now| match live(inner, &key, now) {
            None => Ok(Vec::new()),
            Some(Entry {
                value: Value::Stream(items),
                ..
            }) => Ok(items
                .iter()
                .filter(|(id, _)| after.map(|a| *id > a).unwrap_or(true))
                .take(limit)
                .map(|(id, v)| StreamEntry {
                    cursor: format!("{}-{}", id.0, id.1),
                    value: v.clone(),
                })
                .collect()),
            Some(_) => Err(wrong_type()),
        })?
    }
    async fn index_put(
        &self,
        key: &str,
        member: &str,
        score: i64,
        max_len: usize,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = self.key(key);
        self.with(|inner, now| {
            let entry = inner.map.entry(key).or_insert_with(|| Entry {
                value: Value::Index(SortedIndex::default()),
                expires_at: now,
            });
            // An expired entry is reset, whatever it held.
            if entry.expires_at <= now {
                entry.value = Value::Index(SortedIndex::default());
            }
            let Value::Index(ix) = &mut entry.value else {
                return Err(wrong_type());
            };
            ix.put(member, score, max_len);
            entry.expires_at = now + ttl;
            Ok(())
        })?
    }

    async fn index_remove(&self, key: &str, member: &str) -> Result<(), StoreError> {
        self.on_index(key, (), |ix| ix.remove(member))
    }

    async fn index_desc(
        &self,
        key: &str,
        max_score: i64,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.on_index(key, Vec::new(), |ix| ix.desc(max_score, offset, limit))
    }

    async fn index_len(&self, key: &str) -> Result<u64, StoreError> {
        self.on_index(key, 0, |ix| ix.len() as u64)
    }

    async fn schedule_put(
        &self,
        key: &str,
        member: &str,
        due_ms: i64,
        only_if_absent: bool,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let key = self.key(key);
        let max = self.max_keys;
        self.with(|inner, now| {
            if live(inner, &key, now).is_none() {
                admit(inner, &key, now, max)?;
            }
            let entry = inner.map.entry(key).or_insert_with(|| Entry {
                value: Value::Index(SortedIndex::default()),
                expires_at: now,
            });
            let Value::Index(ix) = &mut entry.value else {
                return Err(wrong_type());
            };
            entry.expires_at = now + ttl;
            if only_if_absent && ix.score(member).is_some() {
                return Ok(false);
            }
            let moved = ix.score(member) != Some(due_ms);
            ix.put(member, due_ms, usize::MAX);
            Ok(moved)
        })?
    }

    async fn schedule_take_due(
        &self,
        key: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.on_index(key, Vec::new(), |ix| {
            let due = ix.asc_upto(now_ms, limit);
            for m in &due {
                ix.put(m, lease_until_ms, usize::MAX);
            }
            due
        })
    }

    async fn publish(&self, channel: &str, message: &[u8]) -> Result<(), StoreError> {
        self.bus.publish(&self.key(channel), message)
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription, StoreError> {
        self.bus.subscribe(&self.key(channel))
    }
}

/// Append one entry to the stream at `key` (creating it), trim it and renew its TTL.
fn append(
    inner: &mut Inner,
    key: &str,
    value: &[u8],
    trim: StreamTrim,
    now: Instant,
    max_keys: usize,
) -> Result<String, StoreError> {
    let ms = now_ms();
    let id = if ms > inner.last_stream_id.0 {
        (ms, 0)
    } else {
        (inner.last_stream_id.0, inner.last_stream_id.1 + 1)
    };
    live(inner, key, now); // drops it when expired
    admit(inner, key, now, max_keys)?;
    inner.last_stream_id = id;
    let entry = inner.map.entry(key.to_owned()).or_insert_with(|| Entry {
        value: Value::Stream(VecDeque::new()),
        expires_at: now,
    });
    entry.expires_at = now + trim.max_age;
    let Value::Stream(items) = &mut entry.value else {
        return Err(wrong_type());
    };
    items.push_back((id, value.to_vec()));
    let min_ms = ms.saturating_sub(trim.max_age.as_millis() as u64);
    while items.len() > trim.max_len.max(1)
        || items.front().map(|(i, _)| i.0 < min_ms).unwrap_or(false)
    {
        items.pop_front();
    }
    Ok(format!("{}-{}", id.0, id.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_store_refuses_new_keys_and_keeps_every_unexpired_one() {
        let s = MemoryStore::with_max_keys("t:", 3);
        let long = Duration::from_secs(60);
        for k in ["a", "b", "c"] {
            s.set(k, b"1", long).await.unwrap();
        }
        assert!(matches!(
            s.set("d", b"1", long).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(s.set_nx("d", b"1", long).await.is_err());
        assert!(s.incr("d", long).await.is_err());
        assert!(s.put_versioned("d", None, b"1", long).await.is_err());
        assert!(s.hash_set("d", "f", b"1", long).await.is_err());
        s.set("a", b"2", long).await.unwrap();
        assert_eq!(s.get("a").await.unwrap(), Some(b"2".to_vec()));
        assert_eq!(s.get("c").await.unwrap(), Some(b"1".to_vec()));
    }

    #[tokio::test]
    async fn expired_keys_make_room() {
        let s = MemoryStore::with_max_keys("t:", 2);
        s.set("a", b"1", Duration::from_millis(1)).await.unwrap();
        s.set("b", b"1", Duration::from_secs(60)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        s.set("c", b"1", Duration::from_secs(60)).await.unwrap();
        assert_eq!(s.get("b").await.unwrap(), Some(b"1".to_vec()));
    }
}
