//! The ops read model: journey view, a user's journeys, feed pages and dead letters, read from
//! the stored events and the directory (journey search: `search`). Built once at start-up; no
//! actix here.

use serde::Serialize;
use serde_json::Value;

use crate::directory::Directory;
use crate::events::{is_safe_id, DeadLetter, Events, Feed, FeedItem};
use crate::store::StoreError;

/// How many recent events the journey view carries.
const JOURNEY_EVENTS: usize = 50;
/// Feed page size when none is asked for, and the largest allowed.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// One journey for ops: latest snapshot, partner user, and the timeline of every verified
/// snapshot (the most recent 50, by sequence; stale = older than the latest when it arrived).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JourneyView {
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
    /// The latest verified body as received.
    #[schema(value_type = Object)]
    pub snapshot: Value,
    pub events: Vec<FeedItem>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JourneySummary {
    #[serde(rename = "journeyID")]
    pub journey_id: String,
    pub status: Option<String>,
    #[serde(rename = "nextAction")]
    pub next_action: Option<String>,
    pub sequence: Option<u64>,
    #[serde(rename = "updatedAt")]
    pub updated_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserJourneys {
    #[serde(rename = "userID")]
    pub user_id: String,
    pub journeys: Vec<JourneySummary>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    pub events: Vec<FeedItem>,
    /// The cursor of the last event of this page; `null` when the page is empty.
    pub next: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadLetterList {
    #[serde(rename = "deadLetters")]
    pub dead_letters: Vec<DeadLetter>,
}

pub struct OpsViews {
    pub(super) events: Events,
    pub(super) directory: Directory,
}

impl OpsViews {
    pub fn new(events: Events, directory: Directory) -> Self {
        OpsViews { events, directory }
    }

    pub fn feed(&self) -> Feed {
        self.events.feed.clone()
    }

    /// `None` for a journey no snapshot was received for.
    pub async fn journey(&self, journey_id: &str) -> Result<Option<JourneyView>, StoreError> {
        if !is_safe_id(journey_id) {
            return Ok(None);
        }
        let Some(rec) = self.events.journeys.latest(journey_id).await? else {
            return Ok(None);
        };
        let user_id = match rec.user_id {
            Some(u) => Some(u),
            None => self.directory.owner_of(journey_id).await?,
        };
        let events = self
            .events
            .journeys
            .history(journey_id, JOURNEY_EVENTS)
            .await?;
        Ok(Some(JourneyView {
            journey_id: rec.journey_id,
            user_id,
            borrower_external_id: rec.borrower_external_id,
            status: rec.status,
            next_action: rec.next_action,
            sequence: rec.sequence,
            updated_at: rec.updated_at,
            snapshot: rec.snapshot,
            events,
        }))
    }

    /// The user's journeys (linked by sessions, the proxy or webhooks), oldest link first; a
    /// journey without a snapshot yet has null status fields.
    pub async fn user_journeys(&self, user_id: &str) -> Result<UserJourneys, StoreError> {
        let mut journeys = Vec::new();
        for journey_id in self.directory.journeys_of(user_id).await? {
            let rec = if is_safe_id(&journey_id) {
                self.events.journeys.latest(&journey_id).await?
            } else {
                None
            };
            journeys.push(match rec {
                Some(r) => JourneySummary {
                    journey_id,
                    status: r.status,
                    next_action: r.next_action,
                    sequence: Some(r.sequence),
                    updated_at: Some(r.updated_at),
                },
                None => JourneySummary {
                    journey_id,
                    status: None,
                    next_action: None,
                    sequence: None,
                    updated_at: None,
                },
            });
        }
        Ok(UserJourneys {
            user_id: user_id.to_owned(),
            journeys,
        })
    }

    /// Oldest first, strictly after `after`. A cursor this store did not issue is an error.
    pub async fn feed_page(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FeedPage, StoreError> {
        let events = self.events.feed.page(after, limit).await?;
        let next = events.last().and_then(|e| e.cursor.clone());
        Ok(FeedPage { events, next })
    }

    pub async fn dead_letters(&self) -> Result<DeadLetterList, StoreError> {
        Ok(DeadLetterList {
            dead_letters: self.events.dead_letters.list().await?,
        })
    }
}
