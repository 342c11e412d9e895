//! Refresh single-flight across instances.
//!
//! Why it is built this way: a refresh token rotates on use, so two concurrent refreshes with the
//! same token would make upstream see a "reuse" and revoke the whole family. So:
//! 1. Read the record. If it already satisfies the caller (e.g. refreshed within the reuse
//!    window, so a retry after a lost response is harmless), return it.
//! 2. Take a lease lock (SET NX + owner token). Losers poll the record until its version moves
//!    past the one they first saw, then return the winner's token — they never call upstream.
//! 3. The winner re-reads the record after winning (someone may have finished between its read
//!    and its win), calls upstream while renewing the lease, and writes back with a
//!    compare-and-set on the version it read — the fencing check: if its lease was lost and another
//!    holder wrote first, the CAS fails and it returns that holder's record, so a stale holder can
//!    never overwrite a newer token (the lease's fence number is stored in the record for audit).
//! 4. The upstream refresh call carries an Idempotency-Key derived from (user, record version),
//!    so two holders that both reach upstream for the same version get one rotation.
//! 5. How the winner renews (the refresh endpoint, or create-or-resume when that endpoint is
//!    absent, refused or not wanted) is `upstream_calls::renew`; it runs under the same lease, so
//!    a fallback is single-flight too.

use std::time::Duration;

use rand::Rng;

use super::record::{now_ms, Record};
use super::{lock_key, record_key, Inner, Issued, SessionError, Want};
use crate::domain::RequestContext;
use crate::metrics::{CoalescedWait, SessionCall};
use crate::store::Lease;

impl Inner {
    /// Does `rec` answer `want` without an upstream call? `fresh_read` is true for the caller's own
    /// first read, false for a record written after it started waiting.
    fn satisfies(&self, user: &str, rec: &Record, want: &Want, fresh_read: bool) -> bool {
        let now = now_ms();
        if rec.rejected || rec.session_expires_ms <= now {
            return false;
        }
        match want {
            Want::Mint {
                journey_type,
                profile,
            } => journey_type.is_none() && profile.is_none() && rec.is_fresh(now, 0),
            Want::Refresh => !fresh_read || now - rec.obtained_ms < self.cfg.reuse_window_ms,
            Want::ReplaceRejected(fp) => match self.cipher.open(&rec.session_token, user) {
                Ok(t) => &super::record::token_fingerprint(&t) != fp,
                Err(_) => false,
            },
        }
    }

    /// `rec` holds the very token `want` asks to replace, and that token is a replacement the
    /// upstream refused at once: it is not replaced again (at most one replacement per token).
    fn replacement_refused(&self, user: &str, rec: &Record, want: &Want) -> bool {
        let Want::ReplaceRejected(fp) = want else {
            return false;
        };
        rec.replacement_refused
            && self
                .cipher
                .open(&rec.session_token, user)
                .is_ok_and(|t| &super::record::token_fingerprint(&t) == fp)
    }

    pub(crate) async fn obtain(
        &self,
        user: &str,
        want: Want,
        ctx: &RequestContext,
    ) -> Result<Issued, SessionError> {
        let first = self.load(user).await?;
        let seen = first.as_ref().map(|(v, _)| *v);
        if let Some((_, rec)) = first {
            if self.replacement_refused(user, &rec, &want) {
                tracing::warn!(
                    "the upstream refused a replacement session token; not replacing it again"
                );
                return Err(SessionError::ReplacementRefused);
            }
            if self.satisfies(user, &rec, &want, true) {
                return self.issue(user, rec);
            }
        }
        let deadline = tokio::time::Instant::now() + self.cfg.wait_timeout;
        loop {
            let lease = Lease::try_acquire(&self.store, &lock_key(user), self.cfg.lease)
                .await
                .map_err(|crate::store::LockError::Store(e)| SessionError::Store(e))?;
            if let Some(lease) = lease {
                let (out, _held) = lease
                    .hold_while(
                        &self.store,
                        self.obtain_locked(user, &want, seen, &lease, ctx),
                    )
                    .await;
                return out;
            }
            let pause = rand::thread_rng().gen_range(15..40);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            if let Some((v, rec)) = self.load(user).await? {
                if Some(v) != seen && self.satisfies(user, &rec, &want, false) {
                    self.metrics.session_coalesced(CoalescedWait::Served);
                    return self.issue(user, rec);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                self.metrics.session_coalesced(CoalescedWait::TimedOut);
                tracing::warn!("gave up waiting for another instance's session refresh");
                return Err(SessionError::WaitTimedOut);
            }
        }
    }

    async fn obtain_locked(
        &self,
        user: &str,
        want: &Want,
        seen: Option<u64>,
        lease: &Lease,
        ctx: &RequestContext,
    ) -> Result<Issued, SessionError> {
        let key = record_key(user);
        let mut current = self.load(user).await?;
        if let Some((v, rec)) = &current {
            if self.replacement_refused(user, rec, want) {
                return Err(SessionError::ReplacementRefused);
            }
            if Some(*v) != seen && self.satisfies(user, rec, want, false) {
                // Another holder finished between our read and our win: its session serves us.
                self.metrics.session_coalesced(CoalescedWait::Served);
                return self.issue(user, rec.clone());
            }
        }
        // A rejected token is marked first, so that it is never handed out again even if the
        // upstream call below fails.
        if let (Want::ReplaceRejected(_), Some((v, rec))) = (want, &current) {
            if !rec.rejected && !self.satisfies(user, rec, want, true) {
                let mut marked = rec.clone();
                marked.rejected = true;
                match self.put(&key, Some(*v), &marked).await? {
                    Some(nv) => current = Some((nv, marked)),
                    None => return self.after_lost_race(user).await,
                }
            }
        }
        self.limit(user).await?;
        let (kind, data) = match want {
            Want::Mint {
                journey_type,
                profile,
            } => (
                SessionCall::Mint,
                self.call_create(user, journey_type.clone(), profile.clone(), ctx)
                    .await,
            ),
            Want::Refresh | Want::ReplaceRejected(_) => (
                SessionCall::Refresh,
                self.renew(user, current.as_ref(), ctx).await,
            ),
        };
        self.metrics.session_call(kind, data.is_ok());
        let data = data?;
        let keep_refresh = current.as_ref().and_then(|(_, r)| r.refresh_token.clone());
        let record = Record::from_upstream(data, &self.cipher, user, lease.fence, keep_refresh)
            .map_err(SessionError::Seal)?;
        // The fencing check: the write succeeds only if the record is still the version read
        // under our lease; if the lease lapsed and a later holder wrote, theirs stands.
        let expected = current.as_ref().map(|(v, _)| *v);
        if self.put(&key, expected, &record).await?.is_none() {
            return self.after_lost_race(user).await;
        }
        self.remember_links(user, &record).await;
        self.observe_active_journey(&record).await;
        self.issue(user, record)
    }

    /// Compare-and-set the record (TTL from its expiries); `None` when `expected` is stale.
    pub(crate) async fn put(
        &self,
        key: &str,
        expected: Option<u64>,
        record: &Record,
    ) -> Result<Option<u64>, SessionError> {
        let body =
            serde_json::to_vec(record).map_err(|e| SessionError::Encode("session record", e))?;
        let ttl = Duration::from_millis(record.ttl_ms(now_ms()) as u64);
        Ok(self.store.put_versioned(key, expected, &body, ttl).await?)
    }

    /// Our write-back lost to another holder: hand out what it wrote.
    async fn after_lost_race(&self, user: &str) -> Result<Issued, SessionError> {
        tracing::warn!("session write-back lost to another lock holder; using its record");
        if let Some((_, rec)) = self.load(user).await? {
            if !rec.rejected && rec.session_expires_ms > now_ms() {
                return self.issue(user, rec);
            }
        }
        Err(SessionError::LostRace)
    }

    /// Journey → user and borrowerExternalID → user, for the proxy, webhooks and ops.
    async fn remember_links(&self, user: &str, record: &Record) {
        if let Err(e) = self
            .directory
            .link_borrower(&record.borrower_external_id, user)
            .await
        {
            tracing::warn!(error = %e, "could not record the borrower mapping");
        }
        if let Some(j) = &record.active_journey {
            match self.directory.link_journey(&j.journey_id, user).await {
                Ok(crate::directory::Link::OwnedByOther(_)) => {
                    tracing::warn!(journey_id = %j.journey_id, "active journey is linked to another user")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not link the active journey"),
            }
        }
    }
}
