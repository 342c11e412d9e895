//! The forwarding capability, free of actix: ownership check → per-user mutation budget and
//! idempotency claim (mutating calls) → session token → upstream (retries, at most one token
//! replacement on 401) → remember what the answer says the user owns and, for journey calls, what the journey looks
//! like now → the answer to pass through.
//!
//! What is never passed through or stored for replay: a 5xx answer that is not the upstream's
//! envelope (502 `UPSTREAM_BAD_RESPONSE`; the body goes to the log, truncated), and a 401 to a
//! token that had just replaced a rejected one (502 `UPSTREAM_AUTH_FAILED`: the app's own
//! credentials are fine, so this is not its 401). Only finished operations are stored: 2xx and
//! 4xx answers, except 401/429 and answers that say `error.retryable: true`.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

use super::headers::response_headers;
use super::idempotency::{fingerprint, Claim, Idempotency, IdempotencyKey, Scope, Stored};
use super::ownership::{OwnerCache, Ownership};
use super::path::HeadlessPath;
use super::retry::{self, Outbound};
use super::ProxyError;
use crate::config::{MissingKeyPolicy, ProxySettings};
use crate::directory::Directory;
use crate::domain::RequestContext;
use crate::error::Chain;
use crate::events::Journeys;
use crate::metrics::{IdempotencyOutcome, Metrics};
use crate::session::Sessions;
use crate::store::Store;
use crate::upstream::{UpstreamClient, UpstreamResponse};

/// What the caller sent, already parsed and filtered.
pub struct Inbound {
    pub method: Method,
    pub path: HeadlessPath,
    /// The headers allowed upstream.
    pub headers: HeaderMap,
    /// The caller's `Idempotency-Key`, already validated.
    pub idempotency_key: Option<IdempotencyKey>,
    pub body: Bytes,
}

/// Idempotency facts published on a mutating call's answer.
pub struct KeyInfo {
    pub key: String,
    pub retention_secs: u64,
    pub replayed: bool,
}

/// What goes back to the caller: an upstream answer (fresh or replayed), untouched.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub idempotency: Option<KeyInfo>,
}

/// The proxy's long-lived dependencies, built once at start-up (app data of its routes).
pub struct ProxyDeps {
    pub settings: ProxySettings,
    pub store: Arc<dyn Store>,
    pub sessions: Sessions,
    pub upstream: UpstreamClient,
    pub directory: Directory,
    pub journeys: Journeys,
    pub metrics: Metrics,
}

impl ProxyDeps {
    /// The forwarder for one request, with this worker's memos.
    pub fn with<'a>(&'a self, caches: &'a WorkerCaches) -> Proxy<'a> {
        Proxy {
            settings: &self.settings,
            store: &self.store,
            sessions: &self.sessions,
            upstream: &self.upstream,
            directory: &self.directory,
            journeys: &self.journeys,
            metrics: &self.metrics,
            caches,
        }
    }
}

/// Everything forwarding needs, borrowed for one request.
pub struct Proxy<'a> {
    pub settings: &'a ProxySettings,
    pub store: &'a Arc<dyn Store>,
    pub sessions: &'a Sessions,
    pub upstream: &'a UpstreamClient,
    pub directory: &'a Directory,
    pub journeys: &'a Journeys,
    pub metrics: &'a Metrics,
    pub caches: &'a WorkerCaches,
}

/// Per-worker memos (each worker has its own; nothing in them needs sharing).
#[derive(Default)]
pub struct WorkerCaches {
    pub owners: OwnerCache,
    pub observed: super::freshness::ObservedMemo,
}

/// What a call is to the journey bookkeeping.
#[derive(Clone, Copy)]
struct JourneyCall {
    /// Its answer describes journeys as they are now.
    bears: bool,
    /// It creates or resumes a journey: the answer is the user's active journey.
    creates: bool,
}

fn is_mutating(m: &Method) -> bool {
    matches!(
        *m,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// A finished operation, stored for replay: 2xx and 4xx answers except the refusals before any
/// processing (401, 429) and those that invite a retry (`error.retryable: true`). 5xx answers
/// release the claim so the retry runs (with the same upstream key).
fn is_finished(res: &UpstreamResponse) -> bool {
    let s = res.status;
    if s.is_server_error() || s == StatusCode::UNAUTHORIZED || s == StatusCode::TOO_MANY_REQUESTS {
        return false;
    }
    if s.is_client_error() {
        return envelope_error(&res.body).is_none_or(|e| !e.retryable);
    }
    true
}

/// The `error` of an upstream envelope, when the body is one.
fn envelope_error(body: &[u8]) -> Option<aarthik_contract::envelope::ErrorBody> {
    serde_json::from_slice::<aarthik_contract::Envelope<serde_json::Value>>(body)
        .ok()
        .and_then(|e| e.error)
}

/// How much of a refused upstream body the log keeps.
const LOGGED_BODY_CHARS: usize = 512;

/// A 5xx answer must be the upstream's envelope to reach the caller; anything else (a proxy's
/// HTML page, a traceback, an internal address) is replaced by 502 and only logged.
fn refuse_bare_server_error(res: UpstreamResponse) -> Result<UpstreamResponse, ProxyError> {
    if !res.status.is_server_error() || envelope_error(&res.body).is_some() {
        return Ok(res);
    }
    let text = String::from_utf8_lossy(&res.body);
    let excerpt: String = text.chars().take(LOGGED_BODY_CHARS).collect();
    tracing::warn!(
        upstream_status = res.status.as_u16(),
        body = %excerpt,
        "upstream 5xx answer without its envelope; replaced by 502"
    );
    Err(ProxyError::BadUpstreamAnswer {
        status: res.status.as_u16(),
    })
}

impl Proxy<'_> {
    fn ownership(&self) -> Ownership<'_> {
        Ownership {
            directory: self.directory,
            store: self.store,
            cache: &self.caches.owners,
        }
    }

    pub async fn forward(
        &self,
        user: &str,
        inbound: Inbound,
        ctx: &RequestContext,
    ) -> Result<Answer, ProxyError> {
        self.ownership().check(user, &inbound.path.named()).await?;
        let journey = JourneyCall {
            bears: inbound.path.bears_journey(&inbound.method),
            creates: inbound.path.creates_journey(&inbound.method),
        };
        if is_mutating(&inbound.method) {
            self.forward_idempotent(user, inbound, journey, ctx).await
        } else {
            let out = outbound(&inbound, None);
            let res = self.call(user, &out, ctx).await?;
            Ok(self.answer(user, res, journey, None).await)
        }
    }

    async fn forward_idempotent(
        &self,
        user: &str,
        inbound: Inbound,
        journey: JourneyCall,
        ctx: &RequestContext,
    ) -> Result<Answer, ProxyError> {
        let key = match &inbound.idempotency_key {
            Some(k) => k.clone(),
            None if self.settings.idempotency_missing_key == MissingKeyPolicy::Generate => {
                IdempotencyKey::generate()
            }
            None => return Err(ProxyError::KeyRequired),
        };
        self.mutation_budget(user).await?;
        let idem = Idempotency::new(
            Arc::clone(self.store),
            std::time::Duration::from_secs(self.settings.idempotency_retention_secs),
        );
        let scope = Scope::new(
            user,
            inbound.method.as_str(),
            inbound.path.canonical(),
            &key,
        );
        let info = |replayed| KeyInfo {
            key: key.as_str().to_owned(),
            retention_secs: idem.retention_secs(),
            replayed,
        };
        let claim = idem.claim(&scope, fingerprint(&inbound.body)).await;
        match &claim {
            Ok(Claim::Run(_)) => self.metrics.idempotency(IdempotencyOutcome::Run),
            Ok(Claim::Replay(_)) => self.metrics.idempotency(IdempotencyOutcome::Replayed),
            Err(ProxyError::KeyReused) => self.metrics.idempotency(IdempotencyOutcome::Conflict),
            Err(ProxyError::KeyInUse { .. }) => self.metrics.idempotency(IdempotencyOutcome::InUse),
            Err(_) => {}
        }
        let mut ticket = match claim? {
            Claim::Replay(stored) => {
                return Ok(Answer {
                    status: stored.status,
                    headers: stored.headers,
                    body: Bytes::from(stored.body),
                    idempotency: Some(info(true)),
                })
            }
            Claim::Run(ticket) => ticket,
        };
        let out = outbound(&inbound, Some(scope.upstream_key()));
        let result = idem.hold(&mut ticket, self.call(user, &out, ctx)).await;
        match result {
            Ok(res) if is_finished(&res) => {
                let answer = self.answer(user, res, journey, Some(info(false))).await;
                let stored = Stored {
                    status: answer.status,
                    headers: answer.headers.clone(),
                    body: answer.body.to_vec(),
                };
                if let Err(e) = idem.finish(ticket, &stored).await {
                    // The operation happened; the caller gets its answer. A retry finds the
                    // claim expired and re-sends the same upstream key, which upstream replays.
                    tracing::error!(error = %Chain(&e), "could not store the idempotent answer");
                }
                Ok(answer)
            }
            other => {
                if let Err(e) = idem.release(ticket).await {
                    tracing::warn!(error = %Chain(&e), "could not release the idempotency claim; it will expire");
                }
                match other {
                    Ok(res) => Ok(self.answer(user, res, journey, Some(info(false))).await),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Per-user budget of mutating calls (fixed one-minute windows in the store), so one user
    /// cannot fill the store with idempotency records or burn the partner's upstream quota.
    async fn mutation_budget(&self, user: &str) -> Result<(), ProxyError> {
        let now = chrono::Utc::now().timestamp();
        let window = now / 60;
        let key = crate::store::keys::ProxyRateLimitKey::new(
            crate::session::record::user_hash(user),
            window,
        );
        let n = self
            .store
            .incr(&key, std::time::Duration::from_secs(61))
            .await?;
        if n > u64::from(self.settings.mutations_per_minute) {
            tracing::warn!("per-user mutation rate limit reached");
            return Err(ProxyError::RateLimited {
                retry_after_secs: (60 - now % 60).max(1) as u64,
            });
        }
        Ok(())
    }

    /// The upstream call with the user's session token; on 401 the token is reported dead and
    /// the call sent once more with its replacement. At most one replacement per token: a 401
    /// to the replacement is 502 `UPSTREAM_AUTH_FAILED`, and the replacement is remembered as
    /// refused, so later 401s to it make no further session call either.
    async fn call(
        &self,
        user: &str,
        out: &Outbound,
        ctx: &RequestContext,
    ) -> Result<UpstreamResponse, ProxyError> {
        let retries = self.settings.max_retries;
        let token = self.sessions.token_for(user, ctx).await?;
        let res = retry::send(self.upstream, out, &token, ctx, retries).await?;
        if res.status != StatusCode::UNAUTHORIZED {
            return refuse_bare_server_error(res);
        }
        tracing::info!("upstream rejected the session token; replacing it");
        let fresh = match self.sessions.replace_rejected(user, &token, ctx).await {
            Ok(issued) => issued.token,
            Err(crate::session::SessionError::ReplacementRefused) => {
                return Err(ProxyError::FreshTokenRefused)
            }
            Err(e) => return Err(e.into()),
        };
        if !out.repeatable() {
            return Ok(res);
        }
        let res = retry::send(self.upstream, out, &fresh, ctx, retries).await?;
        if res.status == StatusCode::UNAUTHORIZED {
            tracing::warn!("upstream rejected a freshly replaced session token; not replacing it");
            if let Err(e) = self.sessions.refuse_replacement(user, &fresh).await {
                tracing::warn!(error = %Chain(&e), "could not remember the refused replacement");
            }
            return Err(ProxyError::FreshTokenRefused);
        }
        refuse_bare_server_error(res)
    }

    async fn answer(
        &self,
        user: &str,
        res: UpstreamResponse,
        journey: JourneyCall,
        key: Option<KeyInfo>,
    ) -> Answer {
        if res.status.is_success() {
            self.ownership().learn(user, &res.body).await;
            if journey.bears {
                let seen =
                    super::freshness::learn(self.journeys, &self.caches.observed, &res.body).await;
                if let (true, Some(obs)) = (journey.creates, seen.first()) {
                    if let Err(e) = self
                        .directory
                        .set_active_journey(user, &obs.journey_id, obs.received_ms)
                        .await
                    {
                        tracing::warn!(error = %e, "could not note the user's active journey");
                    }
                }
            }
        }
        Answer {
            status: res.status.as_u16(),
            headers: response_headers(&res.headers, self.upstream.base_url()),
            body: res.body,
            idempotency: key,
        }
    }
}

fn outbound(inbound: &Inbound, idempotency_key: Option<String>) -> Outbound {
    Outbound {
        method: inbound.method.clone(),
        path_and_query: inbound.path.upstream_path_and_query().to_owned(),
        headers: inbound.headers.clone(),
        body: (is_mutating(&inbound.method) || !inbound.body.is_empty())
            .then(|| inbound.body.clone()),
        idempotency_key,
    }
}
