//! Ownership: a path that names a journey (directly, or through an offer or AA session we have
//! seen belong to one) known to belong to another partner user is 404 `JOURNEY_NOT_FOUND` before
//! anything reaches upstream. Ownership is learned from upstream answers to this user's own
//! session token: every 2xx `data` carrying `journeyID` (journey create/resume, state, profile,
//! offers, steps, AA sessions, loan, post-disbursal), `data.journeys[]` (the journey list),
//! `data.offers[].offerID` and `data.offerID` (offer → journey), and `data.aaSessionID`
//! (AA session → journey). Sessions and webhooks link journeys through the same directory.
//!
//! Ids are compared case-insensitively: lookups and links use the lower-case id, so another
//! user's journey in upper case is refused like its usual spelling.
//!
//! Ownership never changes once written (first writer wins), so each worker keeps a small
//! in-process cache of what it has already looked up or linked; the hot path (polling a
//! journey's state) then costs no store round trip for ownership.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::path::Named;
use super::ProxyError;
use crate::directory::{Directory, Link};
use crate::store::{Store, StoreError};

/// How long offer/AA-session → journey links are kept.
const RESOURCE_RETENTION: Duration = Duration::from_secs(180 * 24 * 3600);
/// How long a cached fact is trusted.
const CACHE_TTL: Duration = Duration::from_secs(600);
/// Entries per worker before the cache starts over.
const CACHE_MAX: usize = 10_000;

/// Per-worker memo of `j:<journey>` → owner, `o:<offer>` / `a:<aa session>` → journey.
#[derive(Default)]
pub struct OwnerCache {
    map: Mutex<HashMap<String, (String, Instant)>>,
}

impl OwnerCache {
    fn get(&self, key: &str) -> Option<String> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(v, _)| v.clone())
    }

    fn put(&self, key: String, value: String) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CACHE_MAX {
            map.clear();
        }
        map.insert(key, (value, Instant::now()));
    }
}

pub struct Ownership<'a> {
    pub directory: &'a Directory,
    pub store: &'a Arc<dyn Store>,
    pub cache: &'a OwnerCache,
}

fn resource_key(kind: &str, id: &str) -> crate::store::keys::ResourceJourneyKey {
    crate::store::keys::ResourceJourneyKey::new(kind, id)
}

impl Ownership<'_> {
    /// Refuse a path naming a journey another user owns.
    pub async fn check(&self, user: &str, named: &Named) -> Result<(), ProxyError> {
        let mut journeys = Vec::new();
        if let Some(j) = &named.journey {
            journeys.push(j.to_ascii_lowercase());
        }
        if let Some(o) = &named.offer {
            if let Some(j) = self.journey_of("o", o).await? {
                journeys.push(j);
            }
        }
        if let Some(a) = &named.aa_session {
            if let Some(j) = self.journey_of("a", a).await? {
                journeys.push(j);
            }
        }
        for j in journeys {
            if let Some(owner) = self.owner_of(&j).await? {
                if owner != user {
                    tracing::info!("path names a journey of another partner user; refused");
                    return Err(ProxyError::NotOwner);
                }
            }
        }
        Ok(())
    }

    async fn owner_of(&self, journey: &str) -> Result<Option<String>, StoreError> {
        let ck = format!("j:{}", journey.to_ascii_lowercase());
        if let Some(owner) = self.cache.get(&ck) {
            return Ok(Some(owner));
        }
        let owner = self.directory.owner_of(journey).await?;
        if let Some(o) = &owner {
            self.cache.put(ck, o.clone());
        }
        Ok(owner)
    }

    async fn journey_of(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        let id = &id.to_ascii_lowercase();
        let ck = format!("{kind}:{id}");
        if let Some(j) = self.cache.get(&ck) {
            return Ok(Some(j));
        }
        let journey = self
            .store
            .get(&resource_key(kind, id))
            .await?
            .and_then(|b| String::from_utf8(b).ok());
        if let Some(j) = &journey {
            self.cache.put(ck, j.clone());
        }
        Ok(journey)
    }

    /// Learn what a 2xx upstream answer says this user owns. Best effort: failures are logged,
    /// never turned into an error for an operation that already happened.
    pub async fn learn(&self, user: &str, body: &[u8]) {
        let facts = Facts::from_body(body);
        for j in &facts.journeys {
            if let Err(e) = self.link_journey(user, j).await {
                tracing::warn!(error = %e, "could not link a journey to its partner user");
            }
        }
        for (kind, id, journey) in &facts.resources {
            if let Err(e) = self.link_resource(kind, id, journey).await {
                tracing::warn!(error = %e, "could not link a resource to its journey");
            }
        }
    }

    async fn link_journey(&self, user: &str, journey: &str) -> Result<(), StoreError> {
        let ck = format!("j:{}", journey.to_ascii_lowercase());
        if self.cache.get(&ck).is_some() {
            return Ok(());
        }
        let owner = match self.directory.link_journey(journey, user).await? {
            Link::Owned => user.to_owned(),
            Link::OwnedByOther(other) => {
                tracing::warn!(
                    "upstream answered a journey that is linked to another partner user"
                );
                other
            }
        };
        self.cache.put(ck, owner);
        Ok(())
    }

    async fn link_resource(&self, kind: &str, id: &str, journey: &str) -> Result<(), StoreError> {
        let id = &id.to_ascii_lowercase();
        let ck = format!("{kind}:{id}");
        if self.cache.get(&ck).as_deref() == Some(journey) {
            return Ok(());
        }
        self.store
            .set(
                &resource_key(kind, id),
                journey.as_bytes(),
                RESOURCE_RETENTION,
            )
            .await?;
        self.cache.put(ck, journey.to_owned());
        Ok(())
    }
}

/// What an answer tells us: journeys (to link to the user) and (kind, id, journey) links.
#[derive(Debug, Default, PartialEq, Eq)]
struct Facts {
    journeys: Vec<String>,
    resources: Vec<(&'static str, String, String)>,
}

impl Facts {
    fn from_body(body: &[u8]) -> Facts {
        let mut f = Facts::default();
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return f;
        };
        let Some(d) = v.get("data").filter(|d| d.is_object()) else {
            return f;
        };
        if let Some(j) = id(d, "journeyID") {
            if let Some(o) = id(d, "offerID") {
                f.resources.push(("o", o, j.clone()));
            }
            if let Some(a) = id(d, "aaSessionID") {
                f.resources.push(("a", a, j.clone()));
            }
            f.journeys.push(j);
        }
        for item in list(d, "journeys") {
            if let Some(j) = id(item, "journeyID") {
                f.journeys.push(j);
            }
        }
        for item in list(d, "offers") {
            if let (Some(o), Some(j)) = (id(item, "offerID"), id(item, "journeyID")) {
                f.resources.push(("o", o, j));
            }
        }
        f
    }
}

/// A plausible id field (a short string).
fn id(v: &Value, field: &str) -> Option<String> {
    v.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 128)
        .map(str::to_owned)
}

fn list<'a>(v: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    v.get(field).and_then(Value::as_array).into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_teach_journeys_offers_and_aa_sessions() {
        let f = Facts::from_body(
            br#"{"data":{"journeyID":"j1","offers":[{"offerID":"o1","journeyID":"j1"},{"offerID":"o2"}]}}"#,
        );
        assert_eq!(f.journeys, vec!["j1"]);
        assert_eq!(f.resources, vec![("o", "o1".to_owned(), "j1".to_owned())]);
        let f =
            Facts::from_body(br#"{"data":{"aaSessionID":"a1","journeyID":"j2","status":"READY"}}"#);
        assert_eq!(f.resources, vec![("a", "a1".to_owned(), "j2".to_owned())]);
        let f =
            Facts::from_body(br#"{"data":{"journeys":[{"journeyID":"j3"},{"journeyID":"j4"}]}}"#);
        assert_eq!(f.journeys, vec!["j3", "j4"]);
    }

    #[test]
    fn other_bodies_teach_nothing() {
        for body in [
            &b"not json"[..],
            b"{\"data\":null}",
            b"{\"data\":[1,2]}",
            b"{}",
        ] {
            assert_eq!(Facts::from_body(body), Facts::default());
        }
    }
}
