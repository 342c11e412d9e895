//! One delivery from headers and raw body to a receipt: authenticate (signature on the raw bytes,
//! then freshness), check tenant/application, parse, keep unusable bodies as dead letters, store
//! once, and queue the forward. Knows nothing of actix; the handler maps its errors.
//!
//! A verified `bff.doctor.ping` (the test delivery of `aarthik-bff doctor --webhook`) is
//! acknowledged and goes no further: it is not de-duplicated, stored, forwarded or pushed.
//!
//! Order matters: the signature is checked first, so an unauthenticated caller learns nothing about
//! our clock or tolerance, and the 403 for a foreign tenant/application is only given to a sender
//! that proved it holds our secret (the tenant headers themselves are not signed, so the signed
//! body's `tenant_id`/`application_id` are checked too).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Settings;
use crate::directory::Directory;
use crate::events::{DeadLetters, Events, Kept};
use crate::store::{Store, StoreError};

use super::forward::Forwarder;
use super::ingest::{IngestError, Ingestor, Outcome};
use super::payload::{self, Snapshot};
use super::verify::{is_fresh, parse_timestamp, Verifier};

/// The delivery headers we use, by lower-case name.
pub mod names {
    pub const EVENT_ID: &str = "x-al-event-id";
    pub const TENANT_ID: &str = "x-al-tenant-id";
    pub const APPLICATION_ID: &str = "x-al-application-id";
    pub const TIMESTAMP: &str = "x-al-webhook-timestamp";
    pub const SIGNATURE: &str = "x-al-webhook-signature";
    pub const CONTENT_TYPE: &str = "content-type";
    /// What a dead letter keeps (the signature is not needed to redrive).
    pub const KEPT: &[&str] = &[EVENT_ID, TENANT_ID, APPLICATION_ID, TIMESTAMP, CONTENT_TYPE];
}

/// Delivery headers, lower-case name → value.
pub type DeliveryHeaders = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("signature: {0}")]
    SignatureInvalid(&'static str),
    #[error("timestamp outside the tolerance")]
    TimestampOutOfTolerance,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("unusable delivery: {0}")]
    Invalid(String),
    #[error("a delivery of this event is still being processed")]
    InFlight,
    #[error("no such dead letter")]
    DeadLetterNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<IngestError> for WebhookError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::InFlight => WebhookError::InFlight,
            IngestError::Store(s) => WebhookError::Store(s),
        }
    }
}

/// What the sender (or ops, for a redrive) is told.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// `stored`, `duplicate` or `ping` (a doctor test delivery, not kept).
    #[schema(value_type = String, examples("stored", "duplicate", "ping"))]
    pub outcome: &'static str,
}

pub struct Receiver {
    verifier: Verifier,
    tolerance_secs: u64,
    tenant_id: Option<String>,
    application_id: Option<String>,
    ingestor: Ingestor,
    dead_letters: DeadLetters,
    /// Bodies being read right now (a slow or stalled sender holds one permit, never more memory).
    reads: Arc<Semaphore>,
    read_timeout: Duration,
}

fn configured(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Receiver {
    /// Built once at start-up: secrets parsed and HMAC keys set up a single time. `store` holds
    /// the dedupe markers; the events are written through `events`.
    pub fn new(
        s: &Settings,
        store: Arc<dyn Store>,
        events: Events,
        directory: Directory,
        forwarder: Forwarder,
    ) -> Self {
        Receiver {
            verifier: Verifier::new(&s.webhook_secrets()),
            tolerance_secs: s.webhook.tolerance_secs,
            tenant_id: configured(&s.webhook.tenant_id),
            application_id: configured(&s.webhook.application_id),
            dead_letters: events.dead_letters.clone(),
            ingestor: Ingestor::new(store, events, directory, s, forwarder),
            reads: Arc::new(Semaphore::new(s.webhook.max_concurrent_reads.max(1))),
            read_timeout: Duration::from_millis(s.webhook.read_timeout_ms),
        }
    }

    /// Before any byte of the body is read: the signature must be 64 lowercase hex characters and
    /// the timestamp present and short, else 401 — an unauthenticated sender cannot make us buffer.
    pub fn precheck(&self, h: &DeliveryHeaders) -> Result<(), WebhookError> {
        let signature = h.get(names::SIGNATURE).map(String::as_str).unwrap_or("");
        if signature.len() != 64
            || !signature
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(WebhookError::SignatureInvalid(
                "X-AL-Webhook-Signature must be 64 lowercase hex characters.",
            ));
        }
        let timestamp = h.get(names::TIMESTAMP).map(String::as_str).unwrap_or("");
        if timestamp.is_empty() || timestamp.len() > 40 {
            return Err(WebhookError::SignatureInvalid(
                "X-AL-Webhook-Timestamp is missing or malformed.",
            ));
        }
        Ok(())
    }

    /// A permit to read one body, or `None` when `webhook.max_concurrent_reads` bodies are being
    /// read already (the caller answers 429 and the sender retries).
    pub fn read_permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.reads).try_acquire_owned().ok()
    }

    /// How long a body may take to arrive.
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// A delivery from the upstream.
    pub async fn receive(
        &self,
        headers: DeliveryHeaders,
        body: Bytes,
    ) -> Result<Receipt, WebhookError> {
        self.authenticate(&headers, &body)?;
        self.check_scope_headers(&headers)?;
        if let Some(event_id) = payload::doctor_ping(&body) {
            tracing::info!("doctor ping verified and acknowledged; nothing stored");
            return Ok(Receipt {
                event_id,
                outcome: "ping",
            });
        }
        let snap = match self.usable(&headers, &body) {
            Ok(snap) => snap,
            Err(reason) => {
                let kept: DeliveryHeaders = headers
                    .into_iter()
                    .filter(|(k, _)| names::KEPT.contains(&k.as_str()))
                    .collect();
                // A body we promised to keep must be kept: if that fails, 503 so it comes back.
                match self.dead_letters.keep(&reason, kept, &body).await? {
                    Kept::New(id) => {
                        tracing::warn!(dead_letter = %id, reason = %reason, "verified webhook kept as a dead letter")
                    }
                    Kept::Already(id) => {
                        tracing::info!(dead_letter = %id, reason = %reason, "this body is already a dead letter (or was re-driven); not kept again")
                    }
                }
                return Err(WebhookError::Invalid(reason));
            }
        };
        self.store(&snap, body).await
    }

    /// Re-process a dead letter (its signature was verified when it arrived).
    pub async fn redrive(&self, id: &str) -> Result<Receipt, WebhookError> {
        let letter = self
            .dead_letters
            .get(id)
            .await?
            .filter(|l| l.resolved_at.is_none())
            .ok_or(WebhookError::DeadLetterNotFound)?;
        self.check_scope_headers(&letter.headers)?;
        let body = Bytes::from(letter.body.clone().into_bytes());
        let snap = self
            .usable(&letter.headers, &body)
            .map_err(WebhookError::Invalid)?;
        let receipt = self.store(&snap, body).await?;
        self.dead_letters.resolve(letter).await?;
        Ok(receipt)
    }

    fn authenticate(&self, h: &DeliveryHeaders, body: &[u8]) -> Result<(), WebhookError> {
        let timestamp = h
            .get(names::TIMESTAMP)
            .ok_or(WebhookError::SignatureInvalid(
                "X-AL-Webhook-Timestamp is missing.",
            ))?;
        let signature = h
            .get(names::SIGNATURE)
            .ok_or(WebhookError::SignatureInvalid(
                "X-AL-Webhook-Signature is missing.",
            ))?;
        if !self.verifier.verify(timestamp, body, signature) {
            return Err(WebhookError::SignatureInvalid(
                "X-AL-Webhook-Signature does not match the body.",
            ));
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
        match parse_timestamp(timestamp) {
            Some(ts) if is_fresh(ts, now_ms, self.tolerance_secs) => Ok(()),
            _ => Err(WebhookError::TimestampOutOfTolerance),
        }
    }

    /// When `webhook.tenant_id` / `application_id` are configured, the headers must name them.
    fn check_scope_headers(&self, h: &DeliveryHeaders) -> Result<(), WebhookError> {
        self.check_scope(
            h.get(names::TENANT_ID).map(String::as_str),
            h.get(names::APPLICATION_ID).map(String::as_str),
        )
    }

    fn check_scope(&self, tenant: Option<&str>, app: Option<&str>) -> Result<(), WebhookError> {
        if self.tenant_id.is_some() && self.tenant_id.as_deref() != tenant {
            return Err(WebhookError::Forbidden(
                "This delivery is for another tenant.",
            ));
        }
        if self.application_id.is_some() && self.application_id.as_deref() != app {
            return Err(WebhookError::Forbidden(
                "This delivery is for another application.",
            ));
        }
        Ok(())
    }

    /// Parse, and match the event id header. The error is the dead-letter reason.
    fn usable(&self, h: &DeliveryHeaders, body: &[u8]) -> Result<Snapshot, String> {
        let snap = payload::parse(body)?;
        match h.get(names::EVENT_ID) {
            None => Err("X-AL-Event-ID is missing".into()),
            Some(id) if *id != snap.event_id => {
                Err("X-AL-Event-ID does not match the body's event_id".into())
            }
            Some(_) => Ok(snap),
        }
    }

    async fn store(&self, snap: &Snapshot, body: Bytes) -> Result<Receipt, WebhookError> {
        // The signed body's own tenant/application must be ours too.
        self.check_scope(Some(&snap.tenant_id), Some(&snap.application_id))?;
        let outcome = self.ingestor.ingest(snap, &body).await?;
        let outcome = match outcome {
            Outcome::Stored(items) => {
                tracing::info!(event_id = %snap.event_id, journeys = items.len(), "webhook stored");
                "stored"
            }
            Outcome::Duplicate => {
                tracing::info!(event_id = %snap.event_id, "duplicate webhook acknowledged");
                "duplicate"
            }
        };
        Ok(Receipt {
            event_id: snap.event_id.clone(),
            outcome,
        })
    }
}
