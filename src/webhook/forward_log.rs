//! What forwarding keeps per event, in one store hash ([`ForwardRecordKey`]): the job (the raw
//! body and its headers), each target's delivery state, and a log line per attempt. Field names:
//! `job`, `t:<target>`, `a:<target>:<attempt, zero-padded>` (so a hash read lists the attempts in
//! order). A target is the first 16 hex characters of the SHA-256 of its URL, so a URL stays one
//! target across restarts, and a URL that is no longer configured is recognised.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::keys::ForwardRecordKey;
use crate::store::{Store, StoreError};

/// The job: what every attempt sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardJob {
    #[serde(rename = "eventID")]
    pub event_id: String,
    #[serde(rename = "tenantID")]
    pub tenant_id: String,
    #[serde(rename = "applicationID")]
    pub application_id: String,
    /// The verified body, byte for byte (it parsed as JSON, so it is UTF-8).
    pub body: String,
    /// When this service first stored the event (unix ms).
    pub received_at_ms: i64,
}

/// Where one target's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// A 2xx was received.
    Delivered,
    /// Given up: `webhook.forward_max_age_secs` passed without a 2xx.
    Failed,
}

/// One target's delivery state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetState {
    /// The URL without credentials or query.
    pub url: String,
    pub state: DeliveryState,
    /// Attempts started so far (numbered from 1).
    pub attempts: u32,
    /// Retries stop at this time (unix ms): the event's receipt (or the last re-send) plus the
    /// maximum age.
    pub deadline_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_outcome: Option<String>,
}

/// One attempt, as the delivery log shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// When it started (unix ms).
    pub at_ms: i64,
    pub url: String,
    pub attempt: u32,
    /// The HTTP status, when one was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `timeout` or `connect` when no status was received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// `delivered`, `retry` (another attempt is scheduled) or `gave_up`.
    pub outcome: String,
}

/// The target id of a URL.
pub fn target_of(url: &str) -> String {
    hex::encode(&Sha256::digest(url.as_bytes())[..8])
}

/// The URL as ops may see it: no user, password, query or fragment.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

/// The schedule member of a target's delivery of an event.
pub fn member(target: &str, event_id: &str) -> String {
    format!("{target}|{event_id}")
}

/// `(target, event id)` of a schedule member.
pub fn parse_member(m: &str) -> Option<(&str, &str)> {
    m.split_once('|')
}

fn attempt_field(target: &str, attempt: u32) -> String {
    format!("a:{target}:{attempt:06}")
}

fn target_field(target: &str) -> String {
    format!("t:{target}")
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(b).map_err(|e| StoreError::Corrupt(format!("forwarding record: {e}")))
}

/// Everything kept about one event's forwarding.
#[derive(Debug, Clone, Default)]
pub struct EventDeliveries {
    pub job: Option<ForwardJob>,
    /// By target id.
    pub targets: Vec<(String, TargetState)>,
    pub attempts: Vec<Attempt>,
}

/// Reads and writes of the per-event forwarding hash.
#[derive(Clone)]
pub struct ForwardLog {
    store: Arc<dyn Store>,
    /// How long a record lives after its last write.
    retention: Duration,
}

impl ForwardLog {
    pub fn new(store: Arc<dyn Store>, retention: Duration) -> Self {
        ForwardLog { store, retention }
    }

    pub async fn job(&self, event_id: &str) -> Result<Option<ForwardJob>, StoreError> {
        match self
            .store
            .hash_get(&ForwardRecordKey::new(event_id), "job")
            .await?
        {
            Some(b) => Ok(Some(from_json(&b)?)),
            None => Ok(None),
        }
    }

    pub async fn put_job(&self, job: &ForwardJob) -> Result<(), StoreError> {
        self.store
            .hash_set(
                &ForwardRecordKey::new(&job.event_id),
                "job",
                &to_json(job)?,
                self.retention,
            )
            .await
    }

    pub async fn target(
        &self,
        event_id: &str,
        target: &str,
    ) -> Result<Option<TargetState>, StoreError> {
        match self
            .store
            .hash_get(&ForwardRecordKey::new(event_id), &target_field(target))
            .await?
        {
            Some(b) => Ok(Some(from_json(&b)?)),
            None => Ok(None),
        }
    }

    pub async fn put_target(
        &self,
        event_id: &str,
        target: &str,
        state: &TargetState,
    ) -> Result<(), StoreError> {
        self.store
            .hash_set(
                &ForwardRecordKey::new(event_id),
                &target_field(target),
                &to_json(state)?,
                self.retention,
            )
            .await
    }

    pub async fn put_attempt(
        &self,
        event_id: &str,
        target: &str,
        attempt: &Attempt,
    ) -> Result<(), StoreError> {
        self.store
            .hash_set(
                &ForwardRecordKey::new(event_id),
                &attempt_field(target, attempt.attempt),
                &to_json(attempt)?,
                self.retention,
            )
            .await
    }

    /// The whole record (empty when the event was never forwarded or has expired).
    pub async fn read(&self, event_id: &str) -> Result<EventDeliveries, StoreError> {
        let mut out = EventDeliveries::default();
        for (field, value) in self
            .store
            .hash_get_all(&ForwardRecordKey::new(event_id))
            .await?
        {
            if field == "job" {
                out.job = Some(from_json(&value)?);
            } else if let Some(target) = field.strip_prefix("t:") {
                out.targets.push((target.to_owned(), from_json(&value)?));
            } else if field.starts_with("a:") {
                out.attempts.push(from_json(&value)?);
            }
        }
        out.attempts
            .sort_by(|a, b| a.at_ms.cmp(&b.at_ms).then(a.attempt.cmp(&b.attempt)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_and_urls_lose_their_credentials() {
        let t = target_of("https://p.example/h");
        assert_eq!(t.len(), 16);
        assert_eq!(
            parse_member(&member(&t, "evt_1")),
            Some((t.as_str(), "evt_1"))
        );
        assert_eq!(
            shown_url("https://user:pw@p.example/h?token=s#x"),
            "https://p.example/h"
        );
        assert_eq!(attempt_field("ab", 7), "a:ab:000007");
    }
}
