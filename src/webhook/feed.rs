//! The ops feed: a store stream of [`FeedItem`]s, trimmed by length and age, read oldest first
//! after a cursor.

use std::collections::HashMap;
use std::sync::Arc;

use crate::store::{Store, StoreError, StreamTrim};

use super::records::{from_json, keys, to_json, FeedItem};

/// Page size when scanning the feed for an event (retry path only).
const SCAN_PAGE: usize = 1000;

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
            .stream_append(keys::FEED, &to_json(&stored)?, self.trim)
            .await
    }

    /// Up to `limit` items strictly after `after`, oldest first, each with its cursor.
    pub async fn page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<FeedItem>, StoreError> {
        let entries = self.store.stream_read(keys::FEED, after, limit).await?;
        entries
            .into_iter()
            .map(|e| {
                let mut item: FeedItem = from_json(&e.value)?;
                item.cursor = Some(e.cursor);
                Ok(item)
            })
            .collect()
    }

    /// The items of `event_id` appended after `floor_ms` (journey id → item with its cursor).
    pub async fn find_event(
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
