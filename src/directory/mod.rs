//! Who owns what: journey → partner user, partner user → journeys (and the one they last created
//! or resumed), and borrowerExternalID → partner user (so pseudonymous webhook payloads map back
//! to the partner's user). Written by sessions and the proxy, read by the proxy (ownership),
//! sessions (the active journey) and the webhook receiver (mapping). Ownership of a journey is
//! first-writer-wins and never silently reassigned. Journey ids are compared case-insensitively
//! (the owner key holds the id in lower case), so no spelling of an id escapes the ownership check.

use std::sync::Arc;
use std::time::Duration;

use crate::store::keys::{BorrowerUserKey, JourneyOwnerKey, UserActiveJourneyKey, UserJourneysKey};
use crate::store::{Store, StoreError};

/// How long mappings are kept after their last write.
const RETENTION: Duration = Duration::from_secs(180 * 24 * 3600);

#[derive(Clone)]
pub struct Directory {
    store: Arc<dyn Store>,
}

/// Outcome of linking a journey to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Now (or already) owned by this user.
    Owned,
    /// Owned by another user; nothing changed.
    OwnedByOther(String),
}

impl Directory {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Directory { store }
    }

    /// Record that `journey_id` belongs to `user_id` (first writer wins).
    pub async fn link_journey(&self, journey_id: &str, user_id: &str) -> Result<Link, StoreError> {
        let key = JourneyOwnerKey::new(journey_id.to_ascii_lowercase());
        if !self
            .store
            .set_nx(&key, user_id.as_bytes(), RETENTION)
            .await?
        {
            match self.owner_of(journey_id).await? {
                Some(owner) if owner != user_id => return Ok(Link::OwnedByOther(owner)),
                Some(_) => {}
                // Expired between the two calls: claim it.
                None => self.store.set(&key, user_id.as_bytes(), RETENTION).await?,
            }
        }
        let now = chrono::Utc::now().timestamp_millis().to_string();
        self.store
            .hash_set(
                &UserJourneysKey::new(user_id),
                journey_id,
                now.as_bytes(),
                RETENTION,
            )
            .await?;
        Ok(Link::Owned)
    }

    /// The owner of `journey_id` in any spelling of it.
    pub async fn owner_of(&self, journey_id: &str) -> Result<Option<String>, StoreError> {
        let lower = journey_id.to_ascii_lowercase();
        let mut owner = self.store.get(&JourneyOwnerKey::new(&lower)).await?;
        if owner.is_none() && lower != journey_id {
            // A link written before ids were lower-cased.
            owner = self.store.get(&JourneyOwnerKey::new(journey_id)).await?;
        }
        Ok(owner.and_then(|b| String::from_utf8(b).ok()))
    }

    /// The journeys linked to a user, oldest link first.
    pub async fn journeys_of(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let mut all = self
            .store
            .hash_get_all(&UserJourneysKey::new(user_id))
            .await?;
        all.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        Ok(all.into_iter().map(|(journey, _)| journey).collect())
    }

    /// Remember that `user_id` created or resumed `journey_id` at `at_ms` (unix ms): the upstream
    /// answers journey creation with the borrower's active journey of that type.
    pub async fn set_active_journey(
        &self,
        user_id: &str,
        journey_id: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let value = format!("{at_ms}:{journey_id}");
        self.store
            .set(
                &UserActiveJourneyKey::new(user_id),
                value.as_bytes(),
                RETENTION,
            )
            .await
    }

    /// The journey `user_id` last created or resumed, and when (unix ms).
    pub async fn active_journey(&self, user_id: &str) -> Result<Option<(String, i64)>, StoreError> {
        let Some(raw) = self.store.get(&UserActiveJourneyKey::new(user_id)).await? else {
            return Ok(None);
        };
        let text = String::from_utf8(raw).unwrap_or_default();
        Ok(text
            .split_once(':')
            .and_then(|(at, j)| Some((j.to_owned(), at.parse().ok()?)))
            .filter(|(j, _)| !j.is_empty()))
    }

    /// Remember which partner user a borrowerExternalID (possibly a pseudonym) stands for.
    pub async fn link_borrower(
        &self,
        borrower_external_id: &str,
        user_id: &str,
    ) -> Result<(), StoreError> {
        self.store
            .set(
                &BorrowerUserKey::new(borrower_external_id),
                user_id.as_bytes(),
                RETENTION,
            )
            .await
    }

    pub async fn user_for_borrower(
        &self,
        borrower_external_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .store
            .get(&BorrowerUserKey::new(borrower_external_id))
            .await?
            .and_then(|b| String::from_utf8(b).ok()))
    }
}
