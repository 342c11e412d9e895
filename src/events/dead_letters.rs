//! Dead letters: deliveries whose signature verified but whose body (or event id header) could not
//! be used. Kept for ops (`GET /v1/ops/dead-letters`) and re-processable on demand. The id is a
//! digest of the body, so the sender's retries of one bad body make one letter, not five.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::store::keys::DeadLettersKey;
use crate::store::{Store, StoreError};
use aarthik_contract::envelope::now_timestamp;

use super::records::{from_json, to_json, DeadLetter, DEAD_LETTER_RETENTION};

/// What [`DeadLetters::keep`] did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// A new letter with this id.
    New(String),
    /// This body was a letter already (waiting or resolved); nothing changed.
    Already(String),
}

#[derive(Clone)]
pub struct DeadLetters {
    store: Arc<dyn Store>,
}

/// The id of the letter for `body`.
pub fn letter_id(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..16])
}

impl DeadLetters {
    pub fn new(store: Arc<dyn Store>) -> Self {
        DeadLetters { store }
    }

    /// Keep a delivery. A body that is already a letter — waiting, or re-driven and resolved — is
    /// left as it is: a captured delivery replayed with another bad header must not bring a
    /// resolved letter back (the event it carries was stored when it was re-driven).
    pub async fn keep(
        &self,
        reason: &str,
        headers: BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<Kept, StoreError> {
        let id = letter_id(body);
        if self.get(&id).await?.is_some() {
            return Ok(Kept::Already(id));
        }
        let letter = DeadLetter {
            id,
            received_at: now_timestamp(),
            reason: reason.to_owned(),
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
            resolved_at: None,
        };
        self.put(&letter).await?;
        Ok(Kept::New(letter.id))
    }

    /// Write a letter as given (also how tests seed one).
    pub async fn put(&self, letter: &DeadLetter) -> Result<(), StoreError> {
        self.store
            .hash_set(
                &DeadLettersKey::new(),
                &letter.id,
                &to_json(letter)?,
                DEAD_LETTER_RETENTION,
            )
            .await
    }

    pub async fn get(&self, id: &str) -> Result<Option<DeadLetter>, StoreError> {
        match self.store.hash_get(&DeadLettersKey::new(), id).await? {
            Some(b) => Ok(Some(from_json(&b)?)),
            None => Ok(None),
        }
    }

    /// Unresolved letters, oldest first.
    pub async fn list(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let mut letters = self
            .store
            .hash_get_all(&DeadLettersKey::new())
            .await?
            .into_iter()
            .map(|(_, v)| from_json::<DeadLetter>(&v))
            .collect::<Result<Vec<_>, _>>()?;
        letters.retain(|l| l.resolved_at.is_none());
        letters.sort_by(|a, b| a.received_at.cmp(&b.received_at).then(a.id.cmp(&b.id)));
        Ok(letters)
    }

    /// Mark a letter as handled (the store has no hash-field delete; listings skip it).
    pub async fn resolve(&self, mut letter: DeadLetter) -> Result<(), StoreError> {
        letter.resolved_at = Some(now_timestamp());
        self.put(&letter).await
    }
}
