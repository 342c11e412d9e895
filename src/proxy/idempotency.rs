//! Idempotency for mutating proxied calls, after the IETF `Idempotency-Key` draft.
//!
//! Why it is built this way:
//! - **One record per scope** (partner user, method, canonical path + query, key), stored under a
//!   hash of the scope, so every instance sees the same record and keys of different users or
//!   endpoints never collide.
//! - **Claim = create-if-absent of an "in flight" record** (a versioned write that must find
//!   nothing). Exactly one request per scope wins, on any instance; the others read the record
//!   and answer 409 (in flight), 422 (another body) or the stored answer (finished).
//! - **The claim is a lease** (short TTL, renewed while the call runs), so a crashed instance
//!   wedges a key for seconds, not for the retention period. Every later write is a
//!   compare-and-set on the version we hold, so an instance that lost its lease can never
//!   overwrite the record of the one that took over.
//! - **The upstream key is derived from the scope**, not random: if we crash after upstream did
//!   the work, the retry sends the same key and the upstream replays instead of acting twice.
//! - **Only finished operations are stored.** Upstream 2xx and 4xx answers are replayed for the
//!   retention period. Upstream 5xx answers, 401/429 (refusals before any processing), answers
//!   saying `error.retryable: true` and our own failures (502/504, an answer over
//!   `upstream.max_response_bytes`) *release* the claim (keeping the fingerprint) so a retry can
//!   run for real — with the same derived upstream key, so it is still one operation upstream.
//! - **No store, no processing**: every store failure is 503; nothing runs unprotected.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ProxyError;
use crate::store::keys::IdempotencyRecordKey;
use crate::store::{renew_while, Store, StoreError};

/// How long an in-flight claim lives without renewal (a crashed holder frees the key after this).
pub const IN_FLIGHT_LEASE: Duration = Duration::from_secs(10);
/// How often a running holder renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(3);
/// `Retry-After` of a 409 `IDEMPOTENCY_KEY_IN_USE`.
const IN_USE_RETRY_AFTER_SECS: u64 = 1;
/// Claim attempts when records vanish or change under us.
const CLAIM_ATTEMPTS: usize = 4;

/// A client `Idempotency-Key`: 1–255 printable ASCII characters.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &[u8]) -> Result<Self, ProxyError> {
        if raw.is_empty() || raw.len() > 255 || !raw.iter().all(|b| (0x20..=0x7e).contains(b)) {
            return Err(ProxyError::BadIdempotencyKey);
        }
        Ok(IdempotencyKey(String::from_utf8_lossy(raw).into_owned()))
    }

    /// A fresh key (`proxy.idempotency_missing_key = "generate"`).
    pub fn generate() -> Self {
        IdempotencyKey(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

/// Who/what a key is scoped to.
pub struct Scope {
    digest: [u8; 32],
}

impl Scope {
    pub fn new(user: &str, method: &str, canonical_path: &str, key: &IdempotencyKey) -> Self {
        let mut h = Sha256::new();
        for part in [user, method, canonical_path, key.as_str()] {
            // Length-prefixed, so no two different scopes hash the same input.
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        Scope {
            digest: h.finalize().into(),
        }
    }

    /// The key sent upstream: UUID-shaped, deterministic per scope.
    pub fn upstream_key(&self) -> String {
        let d = Sha256::new()
            .chain_update(b"aarthik-bff upstream idempotency key v1")
            .chain_update(self.digest)
            .finalize();
        crate::domain::uuid_from_digest(&d)
    }
}

/// SHA-256 of the request body, hex.
pub fn fingerprint(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// A finished answer, as stored and replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Record {
    InFlight {
        fingerprint: String,
        started_ms: i64,
    },
    Done {
        fingerprint: String,
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
        finished_ms: i64,
    },
    /// The holder failed without an upstream answer: anyone with the same body may claim again.
    Released { fingerprint: String },
}

impl Record {
    fn fingerprint(&self) -> &str {
        match self {
            Record::InFlight { fingerprint, .. }
            | Record::Done { fingerprint, .. }
            | Record::Released { fingerprint } => fingerprint,
        }
    }
}

/// A won claim: the record version this holder owns.
#[derive(Debug)]
pub struct Ticket {
    key: IdempotencyRecordKey,
    version: u64,
    fingerprint: String,
    in_flight: Vec<u8>,
}

/// What a request gets from [`Idempotency::claim`].
#[derive(Debug)]
pub enum Claim {
    /// Run the call, then [`Idempotency::finish`] or [`Idempotency::release`].
    Run(Ticket),
    /// Already done: answer with this.
    Replay(Stored),
}

#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn Store>,
    retention: Duration,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn encode(rec: &Record) -> Result<Vec<u8>, ProxyError> {
    serde_json::to_vec(rec).map_err(|e| ProxyError::Record("encoded", e))
}

impl Idempotency {
    pub fn new(store: Arc<dyn Store>, retention: Duration) -> Self {
        Idempotency { store, retention }
    }

    pub fn retention_secs(&self) -> u64 {
        self.retention.as_secs()
    }

    /// Claim the scope for a request whose body has `fingerprint`.
    pub async fn claim(&self, scope: &Scope, fingerprint: String) -> Result<Claim, ProxyError> {
        let key = IdempotencyRecordKey::new(hex::encode(scope.digest));
        let in_flight = encode(&Record::InFlight {
            fingerprint: fingerprint.clone(),
            started_ms: now_ms(),
        })?;
        let ticket = |version| Ticket {
            key: key.clone(),
            version,
            fingerprint: fingerprint.clone(),
            in_flight: in_flight.clone(),
        };
        for _ in 0..CLAIM_ATTEMPTS {
            if let Some(v) = self
                .store
                .put_versioned(&key, None, &in_flight, IN_FLIGHT_LEASE)
                .await?
            {
                return Ok(Claim::Run(ticket(v)));
            }
            let Some(current) = self.store.get_versioned(&key).await? else {
                continue; // expired between the two calls
            };
            let rec: Record = serde_json::from_slice(&current.value)
                .map_err(|e| ProxyError::Record("read", e))?;
            if rec.fingerprint() != fingerprint {
                return Err(ProxyError::KeyReused);
            }
            match rec {
                Record::InFlight { .. } => {
                    return Err(ProxyError::KeyInUse {
                        retry_after_secs: IN_USE_RETRY_AFTER_SECS,
                    })
                }
                Record::Done {
                    status,
                    headers,
                    body,
                    ..
                } => {
                    let body = B64.decode(body).map_err(ProxyError::StoredBody)?;
                    return Ok(Claim::Replay(Stored {
                        status,
                        headers,
                        body,
                    }));
                }
                Record::Released { .. } => {
                    if let Some(v) = self
                        .store
                        .put_versioned(&key, Some(current.version), &in_flight, IN_FLIGHT_LEASE)
                        .await?
                    {
                        return Ok(Claim::Run(ticket(v)));
                    }
                }
            }
        }
        // The record kept changing under us: someone else is working on it.
        Err(ProxyError::KeyInUse {
            retry_after_secs: IN_USE_RETRY_AFTER_SECS,
        })
    }

    /// Run `work` while keeping the claim's lease alive. Each renewal rewrites the in-flight
    /// record, so the ticket follows the version it now holds.
    pub async fn hold<T>(&self, ticket: &mut Ticket, work: impl Future<Output = T>) -> T {
        let version = AtomicU64::new(ticket.version);
        let (store, key, record) = (&self.store, &ticket.key, &ticket.in_flight);
        let renew = || async {
            let written = store
                .put_versioned(key, Some(version.load(Relaxed)), record, IN_FLIGHT_LEASE)
                .await?;
            if let Some(v) = written {
                version.store(v, Relaxed);
            }
            Ok::<_, StoreError>(written.is_some())
        };
        let (out, _held) = renew_while("idempotency", RENEW_EVERY, renew, work).await;
        ticket.version = version.into_inner();
        out
    }

    /// Store the finished answer for the retention period.
    pub async fn finish(&self, ticket: Ticket, answer: &Stored) -> Result<(), ProxyError> {
        let rec = Record::Done {
            fingerprint: ticket.fingerprint,
            status: answer.status,
            headers: answer.headers.clone(),
            body: B64.encode(&answer.body),
            finished_ms: now_ms(),
        };
        let written = self
            .store
            .put_versioned(
                &ticket.key,
                Some(ticket.version),
                &encode(&rec)?,
                self.retention,
            )
            .await?;
        if written.is_none() {
            tracing::warn!(
                "idempotency record changed while the call ran; the answer was not stored"
            );
        }
        Ok(())
    }

    /// Give the claim back without an answer (the call did not finish).
    pub async fn release(&self, ticket: Ticket) -> Result<(), ProxyError> {
        let rec = Record::Released {
            fingerprint: ticket.fingerprint,
        };
        self.store
            .put_versioned(
                &ticket.key,
                Some(ticket.version),
                &encode(&rec)?,
                self.retention,
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::store::MemoryStore;

    fn key(s: &str) -> IdempotencyKey {
        IdempotencyKey::parse(s.as_bytes()).unwrap()
    }

    fn idem() -> Idempotency {
        Idempotency::new(Arc::new(MemoryStore::new("t:")), Duration::from_secs(60))
    }

    #[test]
    fn keys_are_1_to_255_printable_ascii() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        assert!(IdempotencyKey::parse(b"").is_err());
        assert!(IdempotencyKey::parse(&[b'k'; 256]).is_err());
        assert!(IdempotencyKey::parse(b"tab\there").is_err());
        assert!(IdempotencyKey::parse("caf\u{e9}".as_bytes()).is_err());
    }

    #[test]
    fn upstream_keys_are_deterministic_per_scope() {
        let a = Scope::new("u1", "POST", "/v1/headless/journeys", &key("k")).upstream_key();
        let b = Scope::new("u1", "POST", "/v1/headless/journeys", &key("k")).upstream_key();
        let c = Scope::new("u2", "POST", "/v1/headless/journeys", &key("k")).upstream_key();
        let d = Scope::new("u1", "PUT", "/v1/headless/journeys", &key("k")).upstream_key();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }

    #[tokio::test]
    async fn a_claim_is_exclusive_then_replayed_then_bound_to_its_body() {
        let idem = idem();
        let scope = Scope::new("u", "POST", "/p", &key("k"));
        let Claim::Run(ticket) = idem.claim(&scope, fingerprint(b"{}")).await.unwrap() else {
            panic!("first claim runs");
        };
        let second = ApiError::from(idem.claim(&scope, fingerprint(b"{}")).await.unwrap_err());
        assert_eq!(second.code(), "IDEMPOTENCY_KEY_IN_USE");
        let answer = Stored {
            status: 409,
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{\"x\":1}".to_vec(),
        };
        idem.finish(ticket, &answer).await.unwrap();
        match idem.claim(&scope, fingerprint(b"{}")).await.unwrap() {
            Claim::Replay(s) => assert_eq!(s, answer),
            Claim::Run(_) => panic!("finished operations replay"),
        }
        let other = ApiError::from(
            idem.claim(&scope, fingerprint(b"{\"a\":1}"))
                .await
                .unwrap_err(),
        );
        assert_eq!(other.code(), "IDEMPOTENCY_KEY_REUSED");
    }

    #[tokio::test]
    async fn a_released_claim_can_be_taken_again_with_the_same_body_only() {
        let idem = idem();
        let scope = Scope::new("u", "POST", "/p", &key("k"));
        let Claim::Run(ticket) = idem.claim(&scope, fingerprint(b"1")).await.unwrap() else {
            panic!("first claim runs");
        };
        idem.release(ticket).await.unwrap();
        assert_eq!(
            ApiError::from(idem.claim(&scope, fingerprint(b"2")).await.unwrap_err()).code(),
            "IDEMPOTENCY_KEY_REUSED"
        );
        assert!(matches!(
            idem.claim(&scope, fingerprint(b"1")).await.unwrap(),
            Claim::Run(_)
        ));
    }
}
