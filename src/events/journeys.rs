//! The latest snapshot per journey (ordered by `sequence`) and the journey's event history.
//!
//! Ordering: deliveries arrive in any order, so "latest" is decided by `sequence`, not by arrival.
//! The record is replaced with a versioned compare-and-set: read (version v), decide, write only
//! if the version is still v, else re-read and decide again. Two instances racing with sequences
//! 5 and 7 therefore always end with 7, and an older snapshot never overwrites a newer one.
//! Every record that becomes the latest is then put in the [`JourneyIndex`] by the caller, with
//! the entry `apply` hands back (a run that re-finds its own record gets the entry again, repairing
//! a run that stopped in between).

use std::sync::Arc;

use crate::store::keys::{JourneyHistoryKey, JourneyLatestKey};
use crate::store::{Store, StoreError};

use super::index::{IndexEntry, JourneyIndex};
use super::records::{from_json, to_json, FeedItem, JourneyRecord, JOURNEY_RETENTION};

/// Bound on compare-and-set rounds under contention (each lost round means another writer won).
const MAX_CAS_ROUNDS: usize = 32;

/// Hash field of one event in a journey's history: zero-padded, so fields sort by sequence.
fn history_field(sequence: u64, event_id: &str) -> String {
    format!("{sequence:020}:{event_id}")
}

/// What the compare-and-set reads of the stored [`JourneyRecord`]: everything it decides on or
/// indexes (the snapshot and the rest are skipped unparsed).
#[derive(serde::Deserialize)]
struct RecordHead {
    #[serde(rename = "journeyID")]
    journey_id: String,
    #[serde(rename = "userID")]
    user_id: Option<String>,
    status: Option<String>,
    sequence: u64,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    #[serde(rename = "eventID")]
    event_id: String,
    #[serde(rename = "receivedAt")]
    received_at: String,
}

/// What happened to the latest record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// This snapshot is now the latest (or already was: a retry of the same event).
    Latest,
    /// A newer sequence is already the latest; this one only enters the history.
    Stale,
    /// Another event with the same sequence is the latest; the first one stays.
    Tie,
}

#[derive(Clone)]
pub struct Journeys {
    store: Arc<dyn Store>,
    index: JourneyIndex,
}

impl Journeys {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Journeys {
            index: JourneyIndex::new(Arc::clone(&store)),
            store,
        }
    }

    pub(super) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub async fn latest(&self, journey_id: &str) -> Result<Option<JourneyRecord>, StoreError> {
        match self
            .store
            .get_versioned(&JourneyLatestKey::new(journey_id))
            .await?
        {
            Some(v) => Ok(Some(from_json(&v.value)?)),
            None => Ok(None),
        }
    }

    /// Make `candidate` the latest unless a newer sequence is there already. When it is (or
    /// already was) the latest, the index entry it owes comes back: write it with
    /// [`Journeys::index`] before acknowledging the delivery (it is independent of the other
    /// steps, so it can go out together with them).
    pub async fn apply(
        &self,
        candidate: &JourneyRecord,
    ) -> Result<(Applied, Option<IndexEntry>), StoreError> {
        let key = JourneyLatestKey::new(&candidate.journey_id);
        for _ in 0..MAX_CAS_ROUNDS {
            let mut inherited_user = None;
            let mut left = None;
            let expected = match self.store.get_versioned(&key).await? {
                None => None,
                Some(v) => {
                    // Not the whole record: this runs for every webhook.
                    let current = from_json::<RecordHead>(&v.value)?;
                    if current.event_id == candidate.event_id {
                        // A re-run: index again, repairing a run that stopped in between.
                        let entry = IndexEntry::new(
                            current.journey_id,
                            current.status,
                            &current.updated_at,
                            &current.received_at,
                            None,
                        );
                        return Ok((Applied::Latest, Some(entry)));
                    }
                    if current.sequence > candidate.sequence {
                        return Ok((Applied::Stale, None));
                    }
                    if current.sequence == candidate.sequence {
                        return Ok((Applied::Tie, None));
                    }
                    // Keep a user mapping learnt earlier.
                    if candidate.user_id.is_none() {
                        inherited_user = current.user_id;
                    }
                    left = current.status;
                    Some(v.version)
                }
            };
            // The candidate as it is (no copy of its snapshot) unless it inherits a user.
            let with_user;
            let next = match inherited_user {
                Some(user) => {
                    with_user = JourneyRecord {
                        user_id: Some(user),
                        ..candidate.clone()
                    };
                    &with_user
                }
                None => candidate,
            };
            let written = self
                .store
                .put_versioned(&key, expected, &to_json(next)?, JOURNEY_RETENTION)
                .await?;
            if written.is_some() {
                return Ok((Applied::Latest, Some(IndexEntry::of(next, left))));
            }
        }
        Err(StoreError::Unavailable(
            "journey record under too much contention".into(),
        ))
    }

    /// Write an index entry [`Journeys::apply`] handed back (safe to repeat).
    pub async fn index(&self, entry: &IndexEntry) -> Result<(), StoreError> {
        self.index.record(entry).await
    }

    /// Add (or overwrite: retries are harmless) one event to the journey's history.
    pub async fn record_history(&self, item: &FeedItem) -> Result<(), StoreError> {
        self.store
            .hash_set(
                &JourneyHistoryKey::new(&item.journey_id),
                &history_field(item.sequence, &item.event_id),
                &to_json(item)?,
                JOURNEY_RETENTION,
            )
            .await
    }

    /// The most recent `limit` events of a journey, by sequence, oldest first.
    pub async fn history(
        &self,
        journey_id: &str,
        limit: usize,
    ) -> Result<Vec<FeedItem>, StoreError> {
        let all = self
            .store
            .hash_get_all(&JourneyHistoryKey::new(journey_id))
            .await?;
        let skip = all.len().saturating_sub(limit);
        all.into_iter()
            .skip(skip)
            .map(|(_, v)| from_json(&v))
            .collect()
    }
}
