//! Storing one verified snapshot: map each journey to its partner user, update the journey's
//! latest record (ordered by `sequence`), append to the ops feed, to the user's live updates (when
//! it became the latest) and to the journey's history, then announce the change to every
//! instance — all before the delivery is acknowledged, and exactly once even when a run fails
//! part-way and the sender retries.
//!
//! Why it is built this way: the store offers no multi-key transaction, so every step is made
//! safe to repeat, and a repeat is what a retry does:
//! - the latest record is a compare-and-set that recognises its own event id (a re-run is a no-op);
//!   its index entry is written together with the feed append and the user's update;
//! - the history is a hash field keyed by (sequence, event id) (a re-run rewrites the same field);
//! - the feed append is the one step that is not naturally repeatable. Before it, the run asks the
//!   feed for the items earlier runs of this event appended (the feed keeps a note per event for
//!   that), and appends only the journeys that are missing;
//! - the user's update is appended only if the journey's last pushed sequence is lower (checked
//!   in the same atomic step), so a re-run pushes nothing twice;
//! - the announcement only wakes readers, which read the store: repeating it is harmless, and a
//!   failed one fails the run, so the sender's retry announces again.
//!
//! - the forwarding job (when forwarding is on) is recorded and scheduled last: an acknowledged
//!   event always has its job, and a re-run finds it there (see `forward`).
//!
//! Only after all of that is the dedupe marker set to `done` (see `dedupe`) and 2xx sent.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::directory::{Directory, Link};
use crate::events::{Announcement, Applied, Events, FeedItem, JourneyRecord, JourneyUpdate};
use crate::store::{Store, StoreError};
use aarthik_contract::envelope::now_timestamp;

use futures_util::future::{try_join, try_join_all};

use super::dedupe::{Claim, Dedupe};
use super::forward::Forwarder;
use super::payload::Snapshot;

/// A `processing` claim outlives any run (runs are cut off at [`RUN_BUDGET`]).
const CLAIM_LEASE: Duration = Duration::from_secs(10);
/// A single run gives up (and releases its claim) after this long.
const RUN_BUDGET: Duration = Duration::from_secs(5);
/// How long a duplicate waits for an in-flight original before answering 409.
const DUPLICATE_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug)]
pub enum Outcome {
    /// Newly stored: one feed item per journey.
    Stored(Vec<FeedItem>),
    /// Seen before; nothing changed.
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("another delivery of this event is being processed")]
    InFlight,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Ingestor {
    directory: Directory,
    events: Events,
    dedupe: Dedupe,
    forwarder: Forwarder,
    retention: Duration,
    /// `borrowerExternalID` is the partner's user id (no pseudonyms configured).
    borrower_is_user: bool,
    /// Journey owners looked up or linked already (ownership never changes once written).
    owners: Arc<OwnerMemo>,
}

impl Ingestor {
    /// `store` holds the dedupe markers; everything else is written through `events`.
    pub fn new(
        store: Arc<dyn Store>,
        events: Events,
        directory: Directory,
        settings: &Settings,
        forwarder: Forwarder,
    ) -> Self {
        use secrecy::ExposeSecret;
        let retention = Duration::from_secs(settings.webhook.dedupe_ttl_secs);
        Ingestor {
            dedupe: Dedupe::new(store, retention, CLAIM_LEASE, DUPLICATE_WAIT),
            events,
            directory,
            forwarder,
            retention,
            borrower_is_user: settings
                .auth
                .pseudonym_pepper
                .expose_secret()
                .trim()
                .is_empty(),
            owners: Arc::default(),
        }
    }

    /// Store a snapshot once (and queue its forwarding: `raw` is the verified body); a duplicate
    /// changes nothing.
    pub async fn ingest(&self, snap: &Snapshot, raw: &[u8]) -> Result<Outcome, IngestError> {
        let token = match self.dedupe.claim(&snap.event_id).await? {
            Claim::Done => return Ok(Outcome::Duplicate),
            Claim::InFlight => return Err(IngestError::InFlight),
            Claim::Owned(token) => token,
        };
        let run = tokio::time::timeout(RUN_BUDGET, async {
            let items = self.apply(snap).await?;
            self.forwarder
                .enqueue(&snap.event_id, &snap.tenant_id, &snap.application_id, raw)
                .await?;
            Ok(items)
        })
        .await
        .unwrap_or_else(|_| Err(StoreError::Unavailable("webhook run timed out".into())));
        match run {
            Ok(items) => match self.dedupe.finish(&token).await {
                Ok(()) => Ok(Outcome::Stored(items)),
                // Stored but maybe not marked: the retry re-runs (harmlessly) and marks it.
                Err(e) => {
                    self.dedupe.release(token).await;
                    Err(e.into())
                }
            },
            Err(e) => {
                self.dedupe.release(token).await;
                Err(e.into())
            }
        }
    }

    async fn apply(&self, snap: &Snapshot) -> Result<Vec<FeedItem>, StoreError> {
        // Steps that do not depend on each other go out together: on one multiplexed store
        // connection they share a round trip (the order between dependent steps is unchanged).
        let bext = snap.borrower_external_id.as_deref();
        let (already, users) = try_join(
            self.events
                .feed
                .items_of_earlier_runs(&snap.event_id, self.retention),
            try_join_all(
                snap.journeys
                    .iter()
                    .map(|j| self.resolve_user(&j.journey_id, bext)),
            ),
        )
        .await?;
        let received_at = now_timestamp();
        let mut items = Vec::with_capacity(snap.journeys.len());
        for (j, user_id) in snap.journeys.iter().zip(users) {
            let record = JourneyRecord {
                journey_id: j.journey_id.clone(),
                user_id: user_id.clone(),
                borrower_external_id: snap.borrower_external_id.clone(),
                status: j.status.clone(),
                next_action: j.next_action.clone(),
                sequence: snap.sequence,
                updated_at: snap
                    .generated_at
                    .clone()
                    .unwrap_or_else(|| received_at.clone()),
                event_id: snap.event_id.clone(),
                received_at: received_at.clone(),
                snapshot: snap.body.clone(),
            };
            let (applied, index) = self.events.journeys.apply(&record).await?;
            // The index entry, the user's update and the feed append do not depend on each other:
            // they go out together.
            let push = async {
                let index = async {
                    match &index {
                        Some(entry) => self.events.journeys.index(entry).await,
                        None => Ok(()),
                    }
                };
                let update = async {
                    if applied == Applied::Latest {
                        self.push_update(&record).await?;
                    }
                    Ok::<(), StoreError>(())
                };
                try_join(index, update).await.map(|_| ())
            };
            let item = match already.get(&j.journey_id) {
                Some(item) => {
                    push.await?;
                    item.clone()
                }
                None => {
                    let mut item = FeedItem {
                        cursor: None,
                        event_id: snap.event_id.clone(),
                        journey_id: j.journey_id.clone(),
                        user_id,
                        sequence: snap.sequence,
                        status: j.status.clone(),
                        next_action: j.next_action.clone(),
                        received_at: received_at.clone(),
                        stale: applied == Applied::Stale,
                    };
                    let (cursor, ()) = try_join(self.events.feed.append(&item), push).await?;
                    item.cursor = Some(cursor);
                    item
                }
            };
            items.push(item);
        }
        // The history entries and the wake-up: independent of each other, all before the 2xx.
        try_join(
            try_join_all(
                items
                    .iter()
                    .map(|item| self.events.journeys.record_history(item)),
            ),
            self.events.announcer.announce(&announcement(&items)),
        )
        .await?;
        Ok(items)
    }

    /// Hand a journey's new latest state to its partner user's apps.
    async fn push_update(&self, record: &JourneyRecord) -> Result<(), StoreError> {
        let Some(user) = record.user_id.as_deref() else {
            return Ok(());
        };
        let update = JourneyUpdate {
            cursor: None,
            journey_id: record.journey_id.clone(),
            status: record.status.clone(),
            next_action: record.next_action.clone(),
            sequence: record.sequence,
            updated_at: record.updated_at.clone(),
        };
        self.events.updates.push(user, &update).await?;
        Ok(())
    }

    /// The partner user of a journey: the directory's owner (sessions/proxy), else the user the
    /// borrowerExternalID stands for (pseudonyms), else the borrowerExternalID itself when it is
    /// the user id (no pseudonyms). A user found this way is linked to the journey.
    async fn resolve_user(
        &self,
        journey_id: &str,
        borrower_external_id: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        if let Some(owner) = self.owners.get(journey_id) {
            return Ok(Some(owner));
        }
        if let Some(owner) = self.directory.owner_of(journey_id).await? {
            self.owners.put(journey_id, &owner);
            return Ok(Some(owner));
        }
        let Some(bext) = borrower_external_id else {
            return Ok(None);
        };
        let user = match self.directory.user_for_borrower(bext).await? {
            Some(u) => u,
            None if self.borrower_is_user => bext.to_owned(),
            None => return Ok(None),
        };
        let owner = match self.directory.link_journey(journey_id, &user).await? {
            Link::Owned => user,
            Link::OwnedByOther(owner) => owner,
        };
        self.owners.put(journey_id, &owner);
        Ok(Some(owner))
    }
}

/// How long a remembered owner is trusted, and how many are kept before the memo starts over.
const OWNER_MEMO_TTL: Duration = Duration::from_secs(600);
const OWNER_MEMO_MAX: usize = 10_000;

/// Journey (lower case) → owner: first writer wins and an owner is never reassigned, so a hit
/// spares the store lookup on every later event of the journey.
#[derive(Default)]
struct OwnerMemo {
    map: std::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>,
}

impl OwnerMemo {
    fn get(&self, journey_id: &str) -> Option<String> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&journey_id.to_ascii_lowercase())
            .filter(|(_, at)| at.elapsed() < OWNER_MEMO_TTL)
            .map(|(owner, _)| owner.clone())
    }

    fn put(&self, journey_id: &str, owner: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= OWNER_MEMO_MAX {
            map.clear();
        }
        map.insert(
            journey_id.to_ascii_lowercase(),
            (owner.to_owned(), std::time::Instant::now()),
        );
    }
}

/// Who to wake for these items: ops (the feed grew) and the users of the non-stale ones.
fn announcement(items: &[FeedItem]) -> Announcement {
    let mut users: Vec<String> = items
        .iter()
        .filter(|i| !i.stale)
        .filter_map(|i| i.user_id.clone())
        .collect();
    users.sort();
    users.dedup();
    Announcement {
        feed: !items.is_empty(),
        users,
    }
}
