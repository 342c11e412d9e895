//! Each partner user's live journey updates: a short store stream per user, written by the
//! webhook pipeline when a snapshot becomes its journey's latest, read (after a cursor) by that
//! user's streams and long polls.
//!
//! Why the guard: the latest-record update and the append are separate store steps, so two
//! instances applying sequences 5 and 7 could append 7 before 5, and a retried run could append
//! its update twice. The append is therefore conditional, in the same atomic step, on the
//! journey's last pushed sequence being lower — an update is pushed at most once, and never after
//! a newer one.

use std::sync::Arc;

use crate::store::keys::{UserUpdatesGuardKey, UserUpdatesKey};
use crate::store::{Store, StoreError, StreamTrim};

use super::records::{from_json, to_json, JourneyUpdate};

#[derive(Clone)]
pub struct Updates {
    store: Arc<dyn Store>,
    trim: StreamTrim,
}

impl Updates {
    pub fn new(store: Arc<dyn Store>, trim: StreamTrim) -> Self {
        Updates { store, trim }
    }

    /// Push one update to `user`; its cursor, or `None` when this sequence (or a newer one) of the
    /// journey was pushed already.
    pub async fn push(
        &self,
        user: &str,
        update: &JourneyUpdate,
    ) -> Result<Option<String>, StoreError> {
        let mut stored = update.clone();
        stored.cursor = None;
        self.store
            .stream_append_if_newer(
                &UserUpdatesKey::new(user),
                &UserUpdatesGuardKey::new(user),
                &update.journey_id,
                update.sequence,
                &to_json(&stored)?,
                self.trim,
            )
            .await
    }

    /// Up to `limit` of `user`'s updates strictly after `after`, oldest first, with cursors.
    pub async fn page(
        &self,
        user: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<JourneyUpdate>, StoreError> {
        let entries = self
            .store
            .stream_read(&UserUpdatesKey::new(user), after, limit)
            .await?;
        entries
            .into_iter()
            .map(|e| {
                let mut update: JourneyUpdate = from_json(&e.value)?;
                update.cursor = Some(e.cursor);
                Ok(update)
            })
            .collect()
    }
}
