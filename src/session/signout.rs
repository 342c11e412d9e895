//! Signing a user out everywhere, as far as sessions go: the stored upstream session (and its
//! refresh token) is deleted and the token memo forgotten. The memo of every other instance is
//! forgotten by [`Sessions::forget_remembered`], which start-up registers as a revocation listener.

use std::time::Duration;

use super::{lock_key, record_key, SessionError, Sessions};
use crate::store::Lease;

impl Sessions {
    /// Delete the user's stored session. Taken under the user's session lock, so that a mint or
    /// refresh already under way (on any instance) finishes first and its result is deleted too,
    /// rather than written back after the delete. Should the lock not come free within
    /// `session.wait_timeout_ms`, the record is deleted anyway. True when there was a session.
    pub async fn forget_for_revocation(&self, user: &str) -> Result<bool, SessionError> {
        let inner = &self.inner;
        inner.memo.remove(user);
        let deadline = tokio::time::Instant::now() + inner.cfg.wait_timeout;
        let lease = loop {
            let lease = Lease::try_acquire(&inner.store, &lock_key(user), inner.cfg.lease)
                .await
                .map_err(|crate::store::LockError::Store(e)| SessionError::Store(e))?;
            if lease.is_some() || tokio::time::Instant::now() >= deadline {
                break lease;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        if lease.is_none() {
            tracing::warn!("session lock still held at revocation; deleting the session anyway");
        }
        let deleted = inner.store.delete(&record_key(user)).await;
        if let Some(lease) = lease {
            if let Err(e) = lease.release(&inner.store).await {
                tracing::warn!(error = %e, "lock release failed; the lease will expire");
            }
        }
        inner.memo.remove(user);
        Ok(deleted?)
    }

    /// Drop whatever this instance remembers in memory for `user` (the token memo).
    pub fn forget_remembered(&self, user: &str) {
        self.inner.memo.remove(user);
    }
}
