//! The stored webhook records: journey snapshots, feed items, users' journey updates and dead
//! letters. Their JSON is also
//! the shape the ops API answers with, so a field renamed here changes that API.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long journey records and their history are kept after their last write.
pub const JOURNEY_RETENTION: Duration = Duration::from_secs(180 * 24 * 3600);

/// How long dead letters are kept after the last one arrived.
pub const DEAD_LETTER_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// The latest verified snapshot of one journey.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JourneyRecord {
    #[serde(rename = "journeyID")]
    pub journey_id: String,
    #[serde(rename = "userID")]
    pub user_id: Option<String>,
    #[serde(rename = "borrowerExternalID")]
    pub borrower_external_id: Option<String>,
    pub status: Option<String>,
    #[serde(rename = "nextAction")]
    pub next_action: Option<String>,
    pub sequence: u64,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
    #[serde(rename = "receivedAt")]
    pub received_at: String,
    pub snapshot: Value,
}

/// One feed entry: one journey of one verified event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FeedItem {
    /// Set when read back (the stream position); absent inside the stored payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(rename = "eventID")]
    pub event_id: String,
    #[serde(rename = "journeyID")]
    pub journey_id: String,
    #[serde(rename = "userID")]
    pub user_id: Option<String>,
    pub sequence: u64,
    pub status: Option<String>,
    #[serde(rename = "nextAction")]
    pub next_action: Option<String>,
    #[serde(rename = "receivedAt")]
    pub received_at: String,
    /// An older `sequence` than the journey's latest when it arrived.
    pub stale: bool,
}

/// One change of a journey as its partner user's apps see it: never the raw snapshot, never older
/// than an update already sent for that journey.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct JourneyUpdate {
    /// Set when read back (the stream position); absent inside the stored payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(rename = "journeyID")]
    pub journey_id: String,
    pub status: Option<String>,
    #[serde(rename = "nextAction")]
    pub next_action: Option<String>,
    pub sequence: u64,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
}

/// A verified delivery that could not be used, kept for ops.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DeadLetter {
    pub id: String,
    #[serde(rename = "receivedAt")]
    pub received_at: String,
    pub reason: String,
    /// Lower-case header name → value (the X-AL-* headers and the content type).
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: String,
    /// Set once a redrive stored it; resolved letters are no longer listed.
    #[serde(
        rename = "resolvedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resolved_at: Option<String>,
}

pub fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, crate::store::StoreError> {
    serde_json::to_vec(v).map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))
}

pub fn from_json<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, crate::store::StoreError> {
    serde_json::from_slice(b).map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))
}
