//! A lease lock on top of the store primitives: `SET NX` with a random owner token, renewed by
//! compare-and-expire while work runs, released by compare-and-delete, so a holder whose lease ran
//! out can never renew or release someone else's lock. The fence number (a counter bumped on every
//! acquisition) lets writers refuse a write-back from a holder that lost its lease.

use std::sync::Arc;
use std::time::Duration;

use super::keys::LockFenceKey;
use super::{renew_while, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A held lock.
#[derive(Debug, Clone)]
pub struct Lease {
    key: String,
    token: String,
    /// Strictly increasing per lock key across all holders.
    pub fence: u64,
    ttl: Duration,
}

impl Lease {
    /// Try once to take the lock. `None` when someone else holds it.
    pub async fn try_acquire(
        store: &Arc<dyn Store>,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, LockError> {
        let token = uuid::Uuid::new_v4().to_string();
        if !store.set_nx(key, token.as_bytes(), ttl).await? {
            return Ok(None);
        }
        // The fence counter lives far longer than any lease.
        let fence = store
            .incr(&LockFenceKey::new(key), Duration::from_secs(7 * 24 * 3600))
            .await?;
        Ok(Some(Lease {
            key: key.to_owned(),
            token,
            fence,
            ttl,
        }))
    }

    /// Extend the lease; false when it was lost (expired and taken by another holder).
    pub async fn renew(&self, store: &Arc<dyn Store>) -> Result<bool, LockError> {
        Ok(store
            .compare_and_expire(&self.key, self.token.as_bytes(), self.ttl)
            .await?)
    }

    /// Release if still ours.
    pub async fn release(&self, store: &Arc<dyn Store>) -> Result<bool, LockError> {
        Ok(store
            .compare_and_delete(&self.key, self.token.as_bytes())
            .await?)
    }

    /// Keep the lease alive while `work` runs (renewing at a third of the TTL); release afterwards.
    /// Returns the work's output and whether the lease was held throughout.
    pub async fn hold_while<F, T>(&self, store: &Arc<dyn Store>, work: F) -> (T, bool)
    where
        F: std::future::Future<Output = T>,
    {
        let period = (self.ttl / 3).max(Duration::from_millis(10));
        let (out, held) = renew_while("lock", period, || self.renew(store), work).await;
        if held {
            if let Err(e) = self.release(store).await {
                tracing::warn!(error = %e, "lock release failed; the lease will expire");
            }
        }
        (out, held)
    }
}
