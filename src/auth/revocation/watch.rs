//! Following the revocation log: one background task per instance reads the entries appended
//! since its last read, every [`POLL`], and applies each to this instance (its cache and its
//! listeners, such as the session token memo). The task holds only a weak reference, so it ends
//! when the application that started it is gone.

use std::sync::Weak;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Inner;
use crate::store::keys::RevocationLogKey;

/// How often each instance reads the log: the bound on how long another instance's revocation
/// takes to reach this one's cache.
pub const POLL: Duration = Duration::from_millis(250);
/// Entries read per store call.
const BATCH: usize = 500;

/// One revocation as the log carries it.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct LogEntry {
    pub user: String,
    #[serde(rename = "revokedMs")]
    pub revoked_ms: i64,
}

pub(super) async fn follow(inner: Weak<Inner>) {
    let key = RevocationLogKey::new();
    // From the start of the (short, trimmed) log: entries older than this instance change nothing
    // in its empty cache, and reading them needs no clock agreement with the store.
    let mut after: Option<String> = None;
    let mut failing = false;
    loop {
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let mut more = false;
        match inner.store.stream_read(&key, after.as_deref(), BATCH).await {
            Ok(entries) => {
                if failing {
                    // Revocations may have been trimmed from the log while it was out of reach:
                    // start over from the store.
                    tracing::info!("revocation log readable again; revocation cache cleared");
                    inner.cache.clear();
                    failing = false;
                }
                inner.cache.mark_followed();
                more = entries.len() == BATCH;
                for entry in entries {
                    match serde_json::from_slice::<LogEntry>(&entry.value) {
                        Ok(e) => inner.applied(&e.user, e.revoked_ms),
                        Err(e) => tracing::warn!(error = %e, "unreadable revocation log entry"),
                    }
                    after = Some(entry.cursor);
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot read the revocation log; lookups go to the store until it is back");
                }
                failing = true;
            }
        }
        drop(inner);
        if !more {
            tokio::time::sleep(POLL).await;
        }
    }
}
