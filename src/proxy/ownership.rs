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

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

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
    /// Read from the body in one pass that keeps only the fields named here (everything else is
    /// skipped without building values: this runs on every 2xx answer, state polls included).
    /// Lenient like a look-up in a JSON value: a field of another type, or a list entry that is
    /// not an object, teaches nothing and spoils nothing else.
    fn from_body(body: &[u8]) -> Facts {
        let mut f = Facts::default();
        let Ok(Answer { data: Some(d) }) = serde_json::from_slice::<Answer>(body) else {
            return f;
        };
        let Lenient(Some(d)) = d else {
            return f;
        };
        if let Some(j) = d.journey_id.get() {
            if let Some(o) = d.offer_id.get() {
                f.resources.push(("o", o, j.clone()));
            }
            if let Some(a) = d.aa_session_id.get() {
                f.resources.push(("a", a, j.clone()));
            }
            f.journeys.push(j);
        }
        for item in d.journeys.items() {
            if let Some(j) = item.journey_id.get() {
                f.journeys.push(j);
            }
        }
        for item in d.offers.items() {
            if let (Some(o), Some(j)) = (item.offer_id.get(), item.journey_id.get()) {
                f.resources.push(("o", o, j));
            }
        }
        f
    }
}

/// The envelope, as far as ownership reads it.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    data: Option<Lenient<Data>>,
}

/// `data`, and each entry of its `journeys` / `offers` lists: the id fields only.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Data {
    #[serde(rename = "journeyID")]
    journey_id: Text,
    #[serde(rename = "offerID")]
    offer_id: Text,
    #[serde(rename = "aaSessionID")]
    aa_session_id: Text,
    journeys: Lenient<Vec<Lenient<Data>>>,
    offers: Lenient<Vec<Lenient<Data>>>,
}

impl Lenient<Vec<Lenient<Data>>> {
    fn items(&self) -> impl Iterator<Item = &Data> {
        self.0.iter().flatten().filter_map(|e| e.0.as_ref())
    }
}

/// Visitor methods that answer `$none` for numbers, booleans and null.
macro_rules! skip_scalars {
    ($none:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($none)
        }
    };
}
/// A string field kept when it is a plausible id (non-empty, at most 128 bytes); any other value
/// (another type, too long) is skipped.
#[derive(Default)]
struct Text(Option<String>);

impl Text {
    fn get(&self) -> Option<String> {
        self.0.clone()
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(
                    (!v.is_empty() && v.len() <= 128).then(|| v.to_owned()),
                ))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                drain_seq(seq).map(|()| Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                drain_map(map).map(|()| Text(None))
            }
            skip_scalars!(Text(None));
        }
        d.deserialize_any(V)
    }
}

/// Whether a [`Lenient`] value is read from a JSON object or from an array.
trait Shape {
    const OBJECT: bool;
}

impl Shape for Data {
    const OBJECT: bool = true;
}

impl<T> Shape for Vec<T> {
    const OBJECT: bool = false;
}

/// A `T` when the value has `T`'s shape (an object, or an array), else nothing: the value is
/// skipped, never an error.
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: Deserialize<'de> + Shape> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Shape> Visitor<'de> for V<T> {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Lenient<T>, A::Error> {
                if T::OBJECT {
                    T::deserialize(de::value::MapAccessDeserializer::new(map))
                        .map(|v| Lenient(Some(v)))
                } else {
                    drain_map(map).map(|()| Lenient(None))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Lenient<T>, A::Error> {
                if T::OBJECT {
                    drain_seq(seq).map(|()| Lenient(None))
                } else {
                    T::deserialize(de::value::SeqAccessDeserializer::new(seq))
                        .map(|v| Lenient(Some(v)))
                }
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Lenient<T>, E> {
                Ok(Lenient(None))
            }
            skip_scalars!(Lenient(None));
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
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
    fn a_field_of_another_shape_teaches_nothing_and_spoils_nothing_else() {
        let f = Facts::from_body(
            br#"{"data":{"journeyID":"j1","offerID":7,"aaSessionID":{"x":1},"status":"READY",
                "pendingOperations":[{"type":"NEW","journeyID":"zz"}],
                "journeys":[1,"j9",{"journeyID":"j5"},{"journeyID":""},null],
                "offers":{"offerID":"o9","journeyID":"j9"}}}"#,
        );
        assert_eq!(f.journeys, vec!["j1", "j5"]);
        assert!(f.resources.is_empty(), "{:?}", f.resources);
        let long = "x".repeat(129);
        let f = Facts::from_body(format!(r#"{{"data":{{"journeyID":"{long}"}}}}"#).as_bytes());
        assert_eq!(f, Facts::default(), "an id over 128 bytes is not an id");
        let f = Facts::from_body(br#"{"data":{"journeys":{"journeyID":"j1"},"offers":[{"offerID":"o1","journeyID":"j2"}]}}"#);
        assert!(f.journeys.is_empty(), "journeys must be a list");
        assert_eq!(f.resources, vec![("o", "o1".to_owned(), "j2".to_owned())]);
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
