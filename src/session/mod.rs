//! Borrower sessions: mint or resume upstream with the `sk_*` key, keep the tokens (sealed) in the
//! store, and hand apps a fresh session token — never the refresh token.
//!
//! Refresh is single-flight across instances (see [`flight`]): many concurrent callers for one
//! user, on any number of instances, cause one upstream call; the rest receive its result.

pub mod cipher;
mod error;
mod flight;
mod journey;
mod limit;
mod memo;
pub mod record;
pub mod routes;
mod signout;
mod upstream_calls;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::config::{RefreshMode, Settings};
use crate::directory::Directory;
use crate::domain::RequestContext;
use crate::events::Journeys;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::upstream::UpstreamClient;
use cipher::TokenCipher;
pub use error::SessionError;
use record::{now_ms, user_hash, Record};

/// What a caller wants from [`Sessions::obtain`](flight).
#[derive(Debug, Clone)]
pub(crate) enum Want {
    /// Create-or-resume upstream (POST /v1/session with a body, or no usable session).
    Mint {
        journey_type: Option<String>,
        profile: Option<serde_json::Value>,
    },
    /// A fresh token (POST /v1/session/refresh, or a stale token before proxying).
    Refresh,
    /// Upstream rejected this token (by fingerprint): anything but it.
    ReplaceRejected([u8; 32]),
}

/// A session handed out: the record and its opened session token.
pub struct Issued {
    pub record: Record,
    pub token: SecretString,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("borrower_id", &self.record.borrower_id)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Config {
    min_remaining_ms: i64,
    reuse_window_ms: i64,
    lease: Duration,
    wait_timeout: Duration,
    calls_per_minute: u32,
    refresh_path: String,
    refresh_mode: RefreshMode,
    pepper: SecretString,
}

/// The session capability. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    store: Arc<dyn Store>,
    memo: memo::TokenMemo,
    upstream: UpstreamClient,
    cipher: TokenCipher,
    directory: Directory,
    /// Where journey snapshots and answers are kept (for a fresh `activeJourney`).
    journeys: Journeys,
    cfg: Config,
    /// `auto` found no refresh endpoint upstream: renew by create-or-resume from now on.
    refresh_absent: AtomicBool,
    /// Mints, refreshes and coalesced waits are counted.
    metrics: Metrics,
}

impl Sessions {
    pub fn new(
        settings: &Settings,
        store: Arc<dyn Store>,
        upstream: UpstreamClient,
        directory: Directory,
        journeys: Journeys,
        metrics: Metrics,
    ) -> Result<Self, cipher::CipherError> {
        let s = &settings.session;
        Ok(Sessions {
            inner: Arc::new(Inner {
                store,
                memo: memo::TokenMemo::default(),
                upstream,
                cipher: TokenCipher::from_config(&s.encryption_keys)?,
                directory,
                journeys,
                cfg: Config {
                    min_remaining_ms: (s.min_remaining_secs * 1000) as i64,
                    reuse_window_ms: (s.reuse_window_secs * 1000) as i64,
                    lease: Duration::from_millis(s.lock_lease_ms),
                    wait_timeout: Duration::from_millis(s.wait_timeout_ms),
                    calls_per_minute: s.upstream_calls_per_minute,
                    refresh_path: settings.upstream.refresh_path.clone(),
                    refresh_mode: settings.upstream.refresh_mode,
                    pepper: settings.auth.pseudonym_pepper.clone(),
                },
                refresh_absent: AtomicBool::new(false),
                metrics,
            }),
        })
    }

    /// `POST /v1/session`: a still-fresh stored session is returned without an upstream call,
    /// unless the caller asks for a journey type or profile (those must reach upstream).
    pub async fn start(
        &self,
        user: &str,
        journey_type: Option<String>,
        profile: Option<serde_json::Value>,
        ctx: &RequestContext,
    ) -> Result<Issued, SessionError> {
        if journey_type.is_none() && profile.is_none() {
            if let Some((_, rec)) = self.inner.load(user).await? {
                if rec.is_fresh(now_ms(), self.inner.cfg.min_remaining_ms) {
                    return self.inner.issue(user, rec);
                }
            }
        }
        self.inner
            .obtain(
                user,
                Want::Mint {
                    journey_type,
                    profile,
                },
                ctx,
            )
            .await
    }

    /// `POST /v1/session/refresh`: a fresh token, single-flight across instances.
    pub async fn refresh(&self, user: &str, ctx: &RequestContext) -> Result<Issued, SessionError> {
        self.inner.obtain(user, Want::Refresh, ctx).await
    }

    /// A token to call upstream with: the one handed out moments ago (memo), else the stored one
    /// while fresh, else a refreshed one.
    pub async fn token_for(
        &self,
        user: &str,
        ctx: &RequestContext,
    ) -> Result<SecretString, SessionError> {
        if let Some(token) = self.inner.memo.get(user, self.inner.cfg.min_remaining_ms) {
            return Ok(token);
        }
        if let Some((_, rec)) = self.inner.load(user).await? {
            if rec.is_fresh(now_ms(), self.inner.cfg.min_remaining_ms) {
                return Ok(self.inner.issue(user, rec)?.token);
            }
        }
        Ok(self.inner.obtain(user, Want::Refresh, ctx).await?.token)
    }

    /// Upstream answered 401 to `rejected`: mark it dead and get another — unless `rejected` is a
    /// replacement the upstream already refused ([`SessionError::ReplacementRefused`]).
    pub async fn replace_rejected(
        &self,
        user: &str,
        rejected: &SecretString,
        ctx: &RequestContext,
    ) -> Result<Issued, SessionError> {
        self.inner.memo.forget(user, rejected);
        let fp = record::token_fingerprint(rejected);
        self.inner
            .obtain(user, Want::ReplaceRejected(fp), ctx)
            .await
    }

    /// The upstream refused `token`, which had just replaced a rejected one: remember it, so a
    /// later 401 to it makes no further session call (see [`Sessions::replace_rejected`]).
    pub async fn refuse_replacement(
        &self,
        user: &str,
        token: &SecretString,
    ) -> Result<(), SessionError> {
        let fp = record::token_fingerprint(token);
        let Some((version, mut rec)) = self.inner.load(user).await? else {
            return Ok(());
        };
        let same = self
            .inner
            .cipher
            .open(&rec.session_token, user)
            .is_ok_and(|t| record::token_fingerprint(&t) == fp);
        if same && !rec.replacement_refused {
            rec.replacement_refused = true;
            // A lost race means the record moved on to another token: nothing to remember.
            self.inner
                .put(&record_key(user), Some(version), &rec)
                .await?;
        }
        Ok(())
    }

    /// The stored session, for `GET /v1/session` (its `active_journey` as cached at mint time;
    /// [`Sessions::active_journey`] gives it as it is now).
    pub async fn facts(&self, user: &str) -> Result<Option<Record>, SessionError> {
        Ok(self.inner.load(user).await?.map(|(_, r)| r))
    }

    /// Forget the stored tokens (logout). True when there was a session.
    pub async fn forget(&self, user: &str) -> Result<bool, SessionError> {
        self.inner.memo.remove(user);
        Ok(self.inner.store.delete(&record_key(user)).await?)
    }
}

pub(crate) fn record_key(user: &str) -> crate::store::keys::SessionRecordKey {
    crate::store::keys::SessionRecordKey::new(user_hash(user))
}

pub(crate) fn lock_key(user: &str) -> crate::store::keys::SessionLockKey {
    crate::store::keys::SessionLockKey::new(user_hash(user))
}

impl Inner {
    pub(crate) async fn load(&self, user: &str) -> Result<Option<(u64, Record)>, SessionError> {
        let Some(v) = self.store.get_versioned(&record_key(user)).await? else {
            return Ok(None);
        };
        match serde_json::from_slice::<Record>(&v.value) {
            Ok(rec) => Ok(Some((v.version, rec))),
            Err(e) => {
                // An unreadable record is treated as absent (it will be replaced), not as an outage.
                tracing::warn!(error = %e, "unreadable session record; minting anew");
                Ok(None)
            }
        }
    }

    pub(crate) fn issue(&self, user: &str, record: Record) -> Result<Issued, SessionError> {
        let token = self
            .cipher
            .open(&record.session_token, user)
            .map_err(SessionError::Open)?;
        let issued = Issued { record, token };
        // Every token handed out on this instance is the one the memo remembers.
        self.memo.put(user, &issued);
        Ok(issued)
    }
}
