//! The ops audit log: who did what to whom, and when — `{at, operator, action, target}` entries,
//! newest first, in a store stream bounded by length ([`MAX_ENTRIES`]) and age ([`MAX_AGE`]).
//! An entry names the operator (from `ops.tokens`), never a token. Each entry also goes to the
//! service log, for retention beyond the bound.

mod routes;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::keys::AuditLogKey;
use crate::store::{Store, StoreError, StreamTrim};

pub use routes::{routes, Api};

/// Entries kept; older ones are trimmed.
pub const MAX_ENTRIES: usize = 1000;
/// How long an entry is kept.
pub const MAX_AGE: Duration = Duration::from_secs(90 * 24 * 3600);
/// Entries read from the store per call.
const PAGE: usize = 500;

/// One audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    pub operator: String,
    /// What was done: `revoke`, `redrive`, …
    pub action: String,
    /// What it was done to: a user id, a dead letter id, …
    pub target: String,
}

/// The audit log. Cheap to clone.
#[derive(Clone)]
pub struct Audit {
    store: Arc<dyn Store>,
}

impl Audit {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Audit { store }
    }

    /// Record that `operator` did `action` to `target`.
    pub async fn record(
        &self,
        operator: &str,
        action: &str,
        target: &str,
    ) -> Result<AuditEntry, StoreError> {
        let entry = AuditEntry {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            operator: operator.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
        };
        let body = serde_json::to_vec(&entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store
            .stream_append(
                &AuditLogKey::new(),
                &body,
                StreamTrim {
                    max_len: MAX_ENTRIES,
                    max_age: MAX_AGE,
                },
            )
            .await?;
        tracing::info!(operator, action, target, "audit");
        Ok(entry)
    }

    /// The newest `limit` entries, newest first.
    pub async fn latest(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        // The stream reads oldest first, so the whole (bounded) log is read and the tail kept.
        let key = AuditLogKey::new();
        let mut tail = std::collections::VecDeque::with_capacity(limit + 1);
        let mut after: Option<String> = None;
        loop {
            let page = self.store.stream_read(&key, after.as_deref(), PAGE).await?;
            let full = page.len() == PAGE;
            for item in page {
                after = Some(item.cursor);
                match serde_json::from_slice::<AuditEntry>(&item.value) {
                    Ok(entry) => {
                        tail.push_back(entry);
                        if tail.len() > limit {
                            tail.pop_front();
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "unreadable audit entry skipped"),
                }
            }
            if !full {
                break;
            }
        }
        Ok(tail.into_iter().rev().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_come_back_newest_first_and_limited() {
        let audit = Audit::new(Arc::new(crate::store::MemoryStore::new("t:")));
        for i in 0..(PAGE + 3) {
            audit
                .record("alice", "revoke", &format!("u{i}"))
                .await
                .unwrap();
        }
        let two = audit.latest(2).await.unwrap();
        let targets: Vec<&str> = two.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(
            targets,
            [format!("u{}", PAGE + 2), format!("u{}", PAGE + 1)]
        );
        assert_eq!(two[0].operator, "alice");
        assert_eq!(two[0].action, "revoke");
        assert_eq!(audit.latest(5000).await.unwrap().len(), PAGE + 3);
    }
}
