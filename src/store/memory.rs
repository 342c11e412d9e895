//! The in-memory twin of the Redis store, for the zero-config demo and single-instance use.
//! State lives in this process only: several instances do NOT share it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::pubsub::LocalBus;
use super::{parse_cursor, Store, StoreError, StreamEntry, StreamTrim, Subscription, Versioned};

enum Value {
    Bytes(Vec<u8>),
    Versioned(u64, Vec<u8>),
    Counter(u64),
    Hash(BTreeMap<String, Vec<u8>>),
    Stream(VecDeque<((u64, u64), Vec<u8>)>),
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
    inner: Mutex<Inner>,
    bus: LocalBus,
}

impl MemoryStore {
    pub fn new(prefix: &str) -> Self {
        MemoryStore {
            prefix: prefix.to_owned(),
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
}

fn live<'a>(inner: &'a mut Inner, key: &str, now: Instant) -> Option<&'a mut Entry> {
    let expired = matches!(inner.map.get(key), Some(e) if e.expires_at <= now);
    if expired {
        inner.map.remove(key);
    }
    inner.map.get_mut(key)
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
        self.with(|inner, now| {
            inner.map.insert(
                key,
                Entry {
                    value: Value::Bytes(value.to_vec()),
                    expires_at: now + ttl,
                },
            );
        })
    }

    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.with(|inner, now| {
            if live(inner, &key, now).is_some() {
                return false;
            }
            inner.map.insert(
                key,
                Entry {
                    value: Value::Bytes(value.to_vec()),
                    expires_at: now + ttl,
                },
            );
            true
        })
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
        self.with(|inner, now| append(inner, &key, value, trim, now))?
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
        self.with(|inner, now| {
            live(inner, &guard_key, now); // drops it when expired
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
            append(inner, &key, value, trim, now).map(Some)
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
) -> Result<String, StoreError> {
    let ms = now_ms();
    let id = if ms > inner.last_stream_id.0 {
        (ms, 0)
    } else {
        (inner.last_stream_id.0, inner.last_stream_id.1 + 1)
    };
    inner.last_stream_id = id;
    live(inner, key, now); // drops it when expired
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
