//! The ops feed: a store stream of [`FeedItem`]s, trimmed by length and age, read oldest first
//! after a cursor.
//!
//! Appending is the one write of an event that a retry cannot simply repeat (a second append is a
//! second item). So before appending, a run notes (`SET NX`) a time floor under the event id
//! ([`Feed::items_of_earlier_runs`]): a first run finds no note and appends; a re-run finds the
//! note — an earlier run may have appended — and scans the feed from that floor for the event's
//! items, so only the journeys still missing get appended.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::store::keys::{FeedIntentKey, FeedKey};
use crate::store::{Store, StoreError, StreamTrim};

use super::records::{from_json, to_json, FeedItem};

/// Page size when scanning the feed for an event (retry path only).
const SCAN_PAGE: usize = 1000;
/// The feed floor is set this far in the past: stream ids come from the store's clock, which
/// may run behind ours.
const FLOOR_SLACK_MS: u64 = 120_000;

#[derive(Clone)]
pub struct Feed {
    store: Arc<dyn Store>,
    trim: StreamTrim,
}

impl Feed {
    pub fn new(store: Arc<dyn Store>, trim: StreamTrim) -> Self {
        Feed { store, trim }
    }

    /// Append one item; returns its cursor.
    pub async fn append(&self, item: &FeedItem) -> Result<String, StoreError> {
        let mut stored = item.clone();
        stored.cursor = None;
        self.store
            .stream_append(&FeedKey::new(), &to_json(&stored)?, self.trim)
            .await
    }

    /// Up to `limit` items strictly after `after`, oldest first, each with its cursor.
    pub async fn page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FeedItem>, StoreError> {
        let entries = self
            .store
            .stream_read(&FeedKey::new(), after, limit)
            .await?;
        entries
            .into_iter()
            .map(|e| {
                let mut item: FeedItem = from_json(&e.value)?;
                item.cursor = Some(e.cursor);
                Ok(item)
            })
            .collect()
    }

    /// Call before appending the items of `event_id`. Empty on a first run (which leaves a note,
    /// kept for `note_ttl`); on a re-run, the items an earlier run appended (journey id → item).
    pub async fn items_of_earlier_runs(
        &self,
        event_id: &str,
        note_ttl: Duration,
    ) -> Result<HashMap<String, FeedItem>, StoreError> {
        let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
        let floor = now_ms.saturating_sub(FLOOR_SLACK_MS);
        let key = FeedIntentKey::new(event_id);
        if self
            .store
            .set_nx(&key, floor.to_string().as_bytes(), note_ttl)
            .await?
        {
            return Ok(HashMap::new());
        }
        let floor = self
            .store
            .get(&key)
            .await?
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        self.find_event(event_id, floor).await
    }

    /// The items of `event_id` appended after `floor_ms` (journey id → item with its cursor).
    async fn find_event(
        &self,
        event_id: &str,
        floor_ms: u64,
    ) -> Result<HashMap<String, FeedItem>, StoreError> {
        let mut found = HashMap::new();
        let mut after = format!("{floor_ms}-0");
        loop {
            let page = self.page(Some(&after), SCAN_PAGE).await?;
            let full = page.len() == SCAN_PAGE;
            for item in page {
                after = item.cursor.clone().unwrap_or_default();
                if item.event_id == event_id {
                    found.insert(item.journey_id.clone(), item);
                }
            }
            if !full {
                return Ok(found);
            }
        }
    }
}
