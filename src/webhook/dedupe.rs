//! At-most-once processing of an event id, across instances, with nothing acknowledged early.
//!
//! Why it is built this way: the upstream delivers at least once, and duplicates can arrive on two
//! instances at the same moment. The first to `SET NX` the marker `processing:<owner>` (a short
//! lease) processes the event and then overwrites the marker with `done` (kept for
//! `webhook.dedupe_ttl_secs`). A duplicate that finds `done` is answered 200 at once. A duplicate
//! that finds `processing` must NOT be answered 200 yet: the original may still fail (store down),
//! and a sender that saw any 2xx stops retrying, so an early 200 could lose the event. It waits a
//! little for the marker to become `done` (200) or disappear (the original failed and released it:
//! this delivery claims it and processes it itself); if the original is still running after the
//! wait, it answers 409 with `Retry-After` so the sender tries again later. An owner that dies
//! mid-way leaves a lease that simply expires. Processing itself is idempotent (see `ingest`), so a
//! lease that expires under a slow owner costs repeated work, never a second stored event.

use std::sync::Arc;
use std::time::Duration;

use crate::store::keys::EventMarkerKey;
use crate::store::{Store, StoreError};

const DONE: &[u8] = b"done";
const PROCESSING: &str = "processing:";
/// How often a waiting duplicate looks at the marker again.
const POLL: Duration = Duration::from_millis(25);

/// The result of trying to claim an event.
#[derive(Debug)]
pub enum Claim {
    /// This caller processes the event; it must call [`Dedupe::finish`] or [`Dedupe::release`].
    Owned(Token),
    /// Already processed and stored.
    Done,
    /// Another delivery of the same event is still being processed.
    InFlight,
}

/// Proof of ownership of one event's marker.
#[derive(Debug)]
pub struct Token {
    key: EventMarkerKey,
    value: Vec<u8>,
}

#[derive(Clone)]
pub struct Dedupe {
    store: Arc<dyn Store>,
    /// How long a `done` marker is kept (≥ 72 h).
    retention: Duration,
    /// How long a `processing` marker lives if its owner disappears.
    lease: Duration,
    /// How long a duplicate waits for an in-flight original.
    wait: Duration,
}

impl Dedupe {
    pub fn new(
        store: Arc<dyn Store>,
        retention: Duration,
        lease: Duration,
        wait: Duration,
    ) -> Self {
        Dedupe {
            store,
            retention,
            lease,
            wait,
        }
    }

    pub async fn claim(&self, event_id: &str) -> Result<Claim, StoreError> {
        let key = EventMarkerKey::new(event_id);
        let value = format!("{PROCESSING}{}", uuid::Uuid::new_v4().simple()).into_bytes();
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            match self.store.set_nx(&key, &value, self.lease).await {
                Ok(true) => return Ok(Claim::Owned(Token { key, value })),
                Ok(false) => {}
                Err(e) => {
                    // The claim may have been written with its reply lost: take it back, so the
                    // sender's retry is not kept waiting for the lease.
                    self.release(Token { key, value }).await;
                    return Err(e);
                }
            }
            match self.store.get(&key).await? {
                Some(v) if v == DONE => return Ok(Claim::Done),
                // Released or expired in between: try to claim again at once.
                None => continue,
                Some(_) if tokio::time::Instant::now() >= deadline => return Ok(Claim::InFlight),
                Some(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Everything is stored: later deliveries of this event are duplicates.
    pub async fn finish(&self, token: &Token) -> Result<(), StoreError> {
        self.store.set(&token.key, DONE, self.retention).await
    }

    /// Processing failed: let the next delivery (the sender's retry) claim it at once. Best effort;
    /// if the store is down the lease simply runs out.
    pub async fn release(&self, token: Token) {
        if let Err(e) = self
            .store
            .compare_and_delete(&token.key, &token.value)
            .await
        {
            tracing::warn!(error = %e, "could not release a webhook event claim; its lease will expire");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn dedupe(wait: Duration) -> Dedupe {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new("t:"));
        Dedupe::new(
            store,
            Duration::from_secs(3600),
            Duration::from_secs(10),
            wait,
        )
    }

    #[tokio::test]
    async fn a_racing_duplicate_is_not_answered_until_the_original_has_stored() {
        let d = dedupe(Duration::from_secs(5));
        let Claim::Owned(token) = d.claim("evt_1").await.unwrap() else {
            panic!("first claim owns the event")
        };
        let other = d.clone();
        let mut dup = tokio::spawn(async move { other.claim("evt_1").await.unwrap() });
        assert!(
            tokio::time::timeout(Duration::from_millis(150), &mut dup)
                .await
                .is_err(),
            "the duplicate must wait while the original is processing"
        );
        d.finish(&token).await.unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(2), dup)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(outcome, Claim::Done), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_racing_duplicate_takes_over_when_the_original_fails() {
        let d = dedupe(Duration::from_secs(5));
        let Claim::Owned(token) = d.claim("evt_2").await.unwrap() else {
            panic!("first claim owns the event")
        };
        let other = d.clone();
        let dup = tokio::spawn(async move { other.claim("evt_2").await.unwrap() });
        d.release(token).await;
        let outcome = tokio::time::timeout(Duration::from_secs(2), dup)
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(outcome, Claim::Owned(_)), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_duplicate_of_a_slow_original_is_told_to_retry_later() {
        let d = dedupe(Duration::from_millis(100));
        assert!(matches!(d.claim("evt_3").await.unwrap(), Claim::Owned(_)));
        assert!(matches!(d.claim("evt_3").await.unwrap(), Claim::InFlight));
    }
}
