//! Per-user budget of upstream mint/refresh calls (fixed one-minute windows in the store), so one
//! misbehaving client cannot burn the partner's upstream quota. Coalesced waiters and fresh-cache
//! hits never get here, so they do not count.

use std::time::Duration;

use super::record::user_hash;
use super::Inner;
use super::SessionError;

impl Inner {
    pub(crate) async fn limit(&self, user: &str) -> Result<(), SessionError> {
        let now = chrono::Utc::now().timestamp();
        let window = now / 60;
        let key = crate::store::keys::SessionRateLimitKey::new(user_hash(user), window);
        let n = self.store.incr(&key, Duration::from_secs(61)).await?;
        if n > u64::from(self.cfg.calls_per_minute) {
            let retry_after_secs = (60 - now % 60).max(1) as u64;
            tracing::warn!("per-user session rate limit reached");
            return Err(SessionError::RateLimited { retry_after_secs });
        }
        Ok(())
    }
}
