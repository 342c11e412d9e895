//! The journey index: every journey with a verified snapshot, ordered by its last change, overall
//! and per latest status — what the ops journey search pages through, newest change first.
//! [`Journeys`](super::Journeys) writes it whenever a snapshot becomes a journey's latest. Each
//! index keeps the [`MAX_JOURNEYS`] most recent changes and lives as long as the journey records.
//!
//! The index is a hint, not the truth: it is written after the latest record, without a
//! transaction, so a crash between the two or two racing writers can leave a journey under a status
//! it has left, or at an older position. Readers therefore check every hit against the latest
//! record. Journeys whose records expired sink to the bottom (their change is the oldest) and are
//! the first trimmed.

use std::sync::Arc;

use chrono::DateTime;

use crate::store::keys::{JourneysByChangeKey, JourneysByStatusKey};
use crate::store::{Store, StoreError};

use super::is_safe_id;
use super::records::{JourneyRecord, JOURNEY_RETENTION};

/// Journeys kept per index (the overall one and each status's).
pub const MAX_JOURNEYS: usize = 200_000;

/// When a journey last changed, in Unix milliseconds: the snapshot's `updatedAt`, but never later
/// than its arrival (an upstream clock running ahead must not pin a journey to the top).
pub fn changed_at_ms(rec: &JourneyRecord) -> i64 {
    changed_at(&rec.updated_at, &rec.received_at)
}

/// [`changed_at_ms`] from a record's `updatedAt` and `receivedAt`.
fn changed_at(updated_at: &str, received_at: &str) -> i64 {
    let parse = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.timestamp_millis())
    };
    let received = parse(received_at);
    let updated = parse(updated_at);
    let at = match (updated, received) {
        (Some(u), Some(r)) => u.min(r),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => chrono::Utc::now().timestamp_millis(),
    };
    at.max(0)
}

/// What the index needs of a journey's latest record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    journey_id: String,
    status: Option<String>,
    /// [`changed_at_ms`] of the record.
    at: i64,
    /// The status the record replaced, if known.
    left: Option<String>,
}

impl IndexEntry {
    /// The entry of a latest record with these fields; `left`: the status it replaced.
    pub fn new(
        journey_id: String,
        status: Option<String>,
        updated_at: &str,
        received_at: &str,
        left: Option<String>,
    ) -> Self {
        IndexEntry {
            at: changed_at(updated_at, received_at),
            journey_id,
            status,
            left,
        }
    }

    pub fn of(rec: &JourneyRecord, left: Option<String>) -> Self {
        Self::new(
            rec.journey_id.clone(),
            rec.status.clone(),
            &rec.updated_at,
            &rec.received_at,
            left,
        )
    }
}

#[derive(Clone)]
pub struct JourneyIndex {
    store: Arc<dyn Store>,
}

impl JourneyIndex {
    pub fn new(store: Arc<dyn Store>) -> Self {
        JourneyIndex { store }
    }

    /// Index an entry (see [`IndexEntry::of`]). Safe to repeat. Statuses outside the key alphabet
    /// are indexed overall only.
    pub async fn record(&self, entry: &IndexEntry) -> Result<(), StoreError> {
        let id = entry.journey_id.as_str();
        if !is_safe_id(id) {
            return Ok(());
        }
        let at = entry.at;
        let status = entry.status.as_deref().filter(|s| is_safe_id(s));
        let left = entry
            .left
            .as_deref()
            .filter(|l| is_safe_id(l) && Some(*l) != status);
        // Three separate keys, each write safe to repeat: sent together.
        let overall_key = JourneysByChangeKey::new();
        let overall = self
            .store
            .index_put(&overall_key, id, at, MAX_JOURNEYS, JOURNEY_RETENTION);
        let by_status = async {
            match status {
                Some(status) => {
                    self.store
                        .index_put(
                            &JourneysByStatusKey::new(status),
                            id,
                            at,
                            MAX_JOURNEYS,
                            JOURNEY_RETENTION,
                        )
                        .await
                }
                None => Ok(()),
            }
        };
        let out_of_left = async {
            match left {
                Some(left) => {
                    self.store
                        .index_remove(&JourneysByStatusKey::new(left), id)
                        .await
                }
                None => Ok(()),
            }
        };
        futures_util::future::try_join3(overall, by_status, out_of_left).await?;
        Ok(())
    }

    /// Journeys changed at or before `max_ms` (all of them, or those indexed under `status`),
    /// newest change first (equal times: journey id descending), after skipping `offset`.
    pub async fn page(
        &self,
        status: Option<&str>,
        max_ms: i64,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        match status {
            Some(s) => {
                self.store
                    .index_desc(&JourneysByStatusKey::new(s), max_ms, offset, limit)
                    .await
            }
            None => {
                self.store
                    .index_desc(&JourneysByChangeKey::new(), max_ms, offset, limit)
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(updated_at: &str, received_at: &str) -> JourneyRecord {
        JourneyRecord {
            journey_id: "j-1".into(),
            user_id: None,
            borrower_external_id: None,
            status: None,
            next_action: None,
            sequence: 1,
            updated_at: updated_at.into(),
            event_id: "evt_1".into(),
            received_at: received_at.into(),
            snapshot: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_change_is_the_snapshot_time_but_never_after_its_arrival() {
        let arrived = "2026-04-02T09:16:10.000Z";
        assert_eq!(
            changed_at_ms(&rec("2026-04-02T09:16:00.000Z", arrived)),
            1_775_121_360_000
        );
        assert_eq!(
            changed_at_ms(&rec("2030-01-01T00:00:00.000Z", arrived)),
            1_775_121_370_000,
            "a clock running ahead"
        );
        assert_eq!(
            changed_at_ms(&rec("not a time", arrived)),
            1_775_121_370_000
        );
    }
}
