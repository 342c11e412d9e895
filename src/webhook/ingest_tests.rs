//! Exactly-once under failure: a store that fails one chosen call (before or after applying it —
//! a lost reply) at every position of the run; the sender's retry must leave exactly one feed
//! item, one history entry, one user update and the right latest record.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::{self, LoadOptions};
use crate::directory::Directory;
use crate::events::{feed_trim, Events, Feed, Journeys};
use crate::events::{updates_trim, Updates};
use crate::store::{
    MemoryStore, Store, StoreError, StreamEntry, StreamTrim, Subscription, Versioned,
};

use super::ingest::{Ingestor, Outcome};
use super::payload;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// The call fails without effect.
    Before,
    /// The call takes effect, then the reply is lost.
    After,
}

struct Flaky {
    inner: MemoryStore,
    calls: AtomicUsize,
    fail_at: AtomicUsize,
    mode: Mode,
}

impl Flaky {
    fn new(fail_at: usize, mode: Mode) -> Self {
        Flaky {
            inner: MemoryStore::new("t:"),
            calls: AtomicUsize::new(0),
            fail_at: AtomicUsize::new(fail_at),
            mode,
        }
    }
    /// Ok(true) = run the call and then fail; Ok(false) = run normally; Err = fail now.
    fn gate(&self) -> Result<bool, StoreError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n != self.fail_at.load(Ordering::SeqCst) {
            return Ok(false);
        }
        match self.mode {
            Mode::Before => Err(StoreError::Unavailable("injected".into())),
            Mode::After => Ok(true),
        }
    }
    fn disarm(&self) {
        self.fail_at.store(usize::MAX, Ordering::SeqCst);
    }
}

macro_rules! gated {
    ($self:ident, $call:expr) => {{
        let fail_after = $self.gate()?;
        let r = $call.await;
        if fail_after {
            return Err(StoreError::Unavailable("injected lost reply".into()));
        }
        r
    }};
}

#[async_trait]
impl Store for Flaky {
    fn kind(&self) -> &'static str {
        "flaky"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        gated!(self, self.inner.get(key))
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        gated!(self, self.inner.set(key, value, ttl))
    }
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, StoreError> {
        gated!(self, self.inner.set_nx(key, value, ttl))
    }
    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        gated!(self, self.inner.delete(key))
    }
    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> Result<bool, StoreError> {
        gated!(self, self.inner.compare_and_delete(key, expected))
    }
    async fn compare_and_expire(
        &self,
        key: &str,
        expected: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        gated!(self, self.inner.compare_and_expire(key, expected, ttl))
    }
    async fn get_versioned(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        gated!(self, self.inner.get_versioned(key))
    }
    async fn put_versioned(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl: Duration,
    ) -> Result<Option<u64>, StoreError> {
        gated!(self, self.inner.put_versioned(key, expected, value, ttl))
    }
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, StoreError> {
        gated!(self, self.inner.incr(key, ttl))
    }
    async fn hash_set(
        &self,
        key: &str,
        field: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        gated!(self, self.inner.hash_set(key, field, value, ttl))
    }
    async fn hash_get(&self, key: &str, field: &str) -> Result<Option<Vec<u8>>, StoreError> {
        gated!(self, self.inner.hash_get(key, field))
    }
    async fn hash_get_all(&self, key: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        gated!(self, self.inner.hash_get_all(key))
    }
    async fn stream_append(
        &self,
        key: &str,
        value: &[u8],
        trim: StreamTrim,
    ) -> Result<String, StoreError> {
        gated!(self, self.inner.stream_append(key, value, trim))
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
        gated!(
            self,
            self.inner
                .stream_append_if_newer(key, guard_key, guard_field, sequence, value, trim)
        )
    }
    async fn stream_read(
        &self,
        key: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, StoreError> {
        gated!(self, self.inner.stream_read(key, after, limit))
    }
    async fn index_put(
        &self,
        key: &str,
        member: &str,
        score: i64,
        max_len: usize,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        gated!(self, self.inner.index_put(key, member, score, max_len, ttl))
    }
    async fn index_remove(&self, key: &str, member: &str) -> Result<(), StoreError> {
        gated!(self, self.inner.index_remove(key, member))
    }
    async fn index_desc(
        &self,
        key: &str,
        max_score: i64,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        gated!(self, self.inner.index_desc(key, max_score, offset, limit))
    }
    async fn index_len(&self, key: &str) -> Result<u64, StoreError> {
        gated!(self, self.inner.index_len(key))
    }
    async fn schedule_put(
        &self,
        key: &str,
        member: &str,
        due_ms: i64,
        only_if_absent: bool,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        gated!(
            self,
            self.inner
                .schedule_put(key, member, due_ms, only_if_absent, ttl)
        )
    }
    async fn schedule_take_due(
        &self,
        key: &str,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        gated!(
            self,
            self.inner
                .schedule_take_due(key, now_ms, lease_until_ms, limit)
        )
    }
    async fn publish(&self, channel: &str, message: &[u8]) -> Result<(), StoreError> {
        gated!(self, self.inner.publish(channel, message))
    }
    async fn subscribe(&self, channel: &str) -> Result<Subscription, StoreError> {
        self.inner.subscribe(channel).await
    }
}

fn body(event_id: &str, sequence: u64, status: &str) -> Vec<u8> {
    format!(
        r#"{{"event_type":"journey.snapshot","event_id":"{event_id}","sequence":{sequence},
        "tenant_id":"t","application_id":"a",
        "borrower":{{"borrowerExternalID":"user-1","journeys":[{{"journeyID":"j-1","status":"{status}","nextAction":null}}]}}}}"#
    )
    .into_bytes()
}

#[tokio::test]
async fn a_retry_after_a_failure_at_any_step_stores_the_event_exactly_once() {
    let settings = config::load(LoadOptions {
        config_dir: Some("/nonexistent".into()),
        ..Default::default()
    })
    .unwrap();
    let snap = payload::parse(&body("evt_2", 20, "OFFERS_AVAILABLE")).unwrap();
    let earlier = payload::parse(&body("evt_1", 10, "PROFILE_REQUIRED")).unwrap();
    let mut exercised = 0;
    for mode in [Mode::Before, Mode::After] {
        for fail_at in 0..48 {
            let flaky = Arc::new(Flaky::new(usize::MAX, mode));
            let store: Arc<dyn Store> = flaky.clone();
            let ingestor = Ingestor::new(
                Arc::clone(&store),
                Events::new(Arc::clone(&store), &settings),
                Directory::new(Arc::clone(&store)),
                &settings,
                crate::webhook::Forwarder::off(Arc::clone(&store)).unwrap(),
            );
            assert!(matches!(
                ingestor.ingest(&earlier, b"{}").await.unwrap(),
                Outcome::Stored(_)
            ));
            let before = flaky.calls.load(Ordering::SeqCst);
            flaky.fail_at.store(before + fail_at, Ordering::SeqCst);
            let first = ingestor.ingest(&snap, b"{}").await;
            let failed = first.is_err();
            flaky.disarm();
            if failed {
                exercised += 1;
                let retry = ingestor.ingest(&snap, b"{}").await.unwrap();
                assert!(matches!(retry, Outcome::Stored(_) | Outcome::Duplicate));
            }
            // And one more duplicate delivery changes nothing.
            assert!(matches!(
                ingestor.ingest(&snap, b"{}").await.unwrap(),
                Outcome::Duplicate
            ));
            let feed = Feed::new(Arc::clone(&store), feed_trim(&settings));
            let items = feed.page(None, 100).await.unwrap();
            let ids: Vec<&str> = items.iter().map(|i| i.event_id.as_str()).collect();
            assert_eq!(
                ids,
                ["evt_1", "evt_2"],
                "mode {:?} fail_at {fail_at}",
                mode == Mode::After
            );
            let journeys = Journeys::new(Arc::clone(&store));
            let latest = journeys.latest("j-1").await.unwrap().unwrap();
            assert_eq!(latest.event_id, "evt_2");
            assert_eq!(latest.user_id.as_deref(), Some("user-1"));
            let history = journeys.history("j-1", 10).await.unwrap();
            assert_eq!(history.len(), 2);
            assert_eq!(history[1].cursor, items[1].cursor);
            let updates = Updates::new(Arc::clone(&store), updates_trim(&settings));
            let pushed: Vec<u64> = updates
                .page("user-1", None, 100)
                .await
                .unwrap()
                .iter()
                .map(|u| u.sequence)
                .collect();
            assert_eq!(pushed, [10, 20], "one update per applied snapshot");
        }
    }
    assert!(exercised >= 16, "only {exercised} failure points exercised");
}
