//! The forwarding capability, free of actix: ownership check → idempotency claim (mutating
//! calls) → session token → upstream (retries, one token replacement on 401) → remember what the
//! answer says the user owns and, for journey calls, what the journey looks like now → the
//! answer to pass through.

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

/// Upstream answers that are refusals before any processing: never stored for replay.
fn is_refusal(status: StatusCode) -> bool {
    status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS
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
        let mut ticket = match idem.claim(&scope, fingerprint(&inbound.body)).await? {
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
            Ok(res) if !is_refusal(res.status) => {
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

    /// The upstream call with the user's session token; on 401 the token is reported dead and,
    /// when the call is safe to repeat, sent once more with its replacement.
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
            return Ok(res);
        }
        tracing::info!("upstream rejected the session token; replacing it");
        let fresh = self
            .sessions
            .replace_rejected(user, &token, ctx)
            .await?
            .token;
        if !out.repeatable() {
            return Ok(res);
        }
        Ok(retry::send(self.upstream, out, &fresh, ctx, retries).await?)
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
            headers: response_headers(&res.headers),
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
