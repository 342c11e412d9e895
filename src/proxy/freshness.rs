//! What proxied answers say a journey looks like now, recorded for `/v1/session`'s
//! `activeJourney` (see `events::current`); a journey created (or resumed) through the proxy also
//! becomes the user's active journey (the forwarder notes it in the directory).
//!
//! Kept cheap because it sits on the polling path: only the documented journey-bearing calls
//! are looked at (create and list journeys, read a journey, read its state; see
//! `HeadlessPath::bears_journey`), their bodies are parsed into the three fields needed and
//! nothing else, and a worker does not write again what it wrote for the same journey moments
//! ago. Values are open: whatever status and next action the upstream sends are recorded as sent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::events::{Journeys, Observation};

/// An unchanged answer is not written again within this time. An answer that did not change
/// only refreshes its arrival time, which matters only against a snapshot applied in between.
const UNCHANGED_REWRITE_AFTER: Duration = Duration::from_secs(5);
/// Entries per worker before the memo starts over.
const MEMO_MAX: usize = 10_000;

type Seen = (Option<String>, Option<String>, Instant);

/// Per-worker memo of the last answer written per journey.
#[derive(Default)]
pub struct ObservedMemo {
    map: Mutex<HashMap<String, Seen>>,
}

impl ObservedMemo {
    /// True when `obs` should be written (and remembers it as written).
    fn should_write(&self, obs: &Observation) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((status, next, at)) = map.get(&obs.journey_id) {
            if *status == obs.status
                && *next == obs.next_action
                && at.elapsed() < UNCHANGED_REWRITE_AFTER
            {
                return false;
            }
        }
        if map.len() >= MEMO_MAX {
            map.clear();
        }
        map.insert(
            obs.journey_id.clone(),
            (obs.status.clone(), obs.next_action.clone(), Instant::now()),
        );
        true
    }

    fn forget(&self, journey_id: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(journey_id);
    }
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    data: Option<Data>,
}

/// `data`: one journey (its fields at the top), or a list of them under `journeys`.
#[derive(Deserialize)]
struct Data {
    #[serde(rename = "journeyID", default)]
    journey_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(rename = "nextAction", default)]
    next_action: Option<String>,
    #[serde(default)]
    journeys: Option<Vec<Journey>>,
}

#[derive(Deserialize)]
struct Journey {
    #[serde(rename = "journeyID", default)]
    journey_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(rename = "nextAction", default)]
    next_action: Option<String>,
}

/// The journeys a 2xx journey-bearing answer describes: `data` itself (create, read, state) and
/// `data.journeys[]` (the list). An entry without a `journeyID` and a `status` tells nothing.
pub fn observations(body: &[u8], received_ms: i64) -> Vec<Observation> {
    let Ok(Body { data: Some(data) }) = serde_json::from_slice::<Body>(body) else {
        return Vec::new();
    };
    let top = Journey {
        journey_id: data.journey_id,
        status: data.status,
        next_action: data.next_action,
    };
    std::iter::once(top)
        .chain(data.journeys.into_iter().flatten())
        .filter_map(|j| {
            let journey_id = j.journey_id.filter(|id| crate::events::is_safe_id(id))?;
            Some(Observation {
                journey_id,
                status: Some(j.status?),
                next_action: j.next_action,
                received_ms,
            })
        })
        .collect()
}

/// Record what a journey-bearing answer says; returns what it read. Best effort: a failure is
/// logged, never turned into an error for a call that already happened.
pub async fn learn(journeys: &Journeys, memo: &ObservedMemo, body: &[u8]) -> Vec<Observation> {
    let now = chrono::Utc::now().timestamp_millis();
    let seen = observations(body, now);
    for obs in &seen {
        if !memo.should_write(obs) {
            continue;
        }
        if let Err(e) = journeys.observe(obs).await {
            memo.forget(&obs.journey_id);
            tracing::warn!(error = %e, "could not record what a journey looks like now");
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_read_state_and_list_answers_are_read_with_open_values() {
        let one = observations(
            br#"{"data":{"journeyID":"j1","status":"FUTURE_STATUS_X","nextAction":null,"pendingOperations":[{"type":"NEW"}]}}"#,
            7,
        );
        assert_eq!(
            one,
            vec![Observation {
                journey_id: "j1".into(),
                status: Some("FUTURE_STATUS_X".into()),
                next_action: None,
                received_ms: 7,
            }]
        );
        let list = observations(
            br#"{"data":{"journeys":[{"journeyID":"j2","status":"STARTED","nextAction":"COMPLETE_PROFILE"},{"journeyID":"j3"}]}}"#,
            7,
        );
        assert_eq!(list.len(), 1, "an entry without a status tells nothing");
        assert_eq!(list[0].next_action.as_deref(), Some("COMPLETE_PROFILE"));
    }

    #[test]
    fn other_bodies_tell_nothing() {
        for body in [
            &b"not json"[..],
            b"{\"data\":null}",
            b"{\"data\":[1]}",
            b"{\"data\":{\"journeyID\":\"a/b\",\"status\":\"X\"}}",
            b"{\"data\":{\"journeyID\":\"j\",\"status\":3}}",
        ] {
            assert!(observations(body, 1).is_empty());
        }
    }

    #[test]
    fn an_unchanged_answer_is_not_rewritten_at_once_but_a_change_is() {
        let memo = ObservedMemo::default();
        let obs = |status: &str| Observation {
            journey_id: "j".into(),
            status: Some(status.into()),
            next_action: None,
            received_ms: 1,
        };
        assert!(memo.should_write(&obs("A")));
        assert!(!memo.should_write(&obs("A")));
        assert!(memo.should_write(&obs("B")));
        memo.forget("j");
        assert!(memo.should_write(&obs("B")));
    }
}
