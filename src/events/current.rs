//! What a journey looks like now: the newer of its latest verified snapshot (ordered by
//! `sequence`, see [`super::journeys`]) and the latest upstream answer about it that this service
//! saw (a proxied journey read or state, a session answer's `activeJourney`). `/v1/session`
//! reports this instead of the value it cached when the session was minted.
//!
//! Why two records rather than one: snapshots are ordered by the upstream's `sequence`, answers
//! only by when they arrived, and the two orders cannot be compared directly. So each is kept as
//! it is and the choice is made when reading: an answer wins when it arrived after the latest
//! applied snapshot did. Recording an answer is one unconditional write (no read first), because
//! it sits on the proxy's polling path; two answers racing for one journey arrive within
//! milliseconds of each other, so either is current enough.

use serde::{Deserialize, Serialize};

use super::journeys::Journeys;
use super::records::{from_json, to_json, JOURNEY_RETENTION};
use crate::store::keys::JourneyObservedKey;
use crate::store::StoreError;

/// An upstream answer's view of one journey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    #[serde(rename = "journeyID")]
    pub journey_id: String,
    /// As the upstream wrote them (open values: never checked against a list).
    pub status: Option<String>,
    #[serde(rename = "nextAction")]
    pub next_action: Option<String>,
    /// When the answer arrived (unix ms).
    #[serde(rename = "receivedMs")]
    pub received_ms: i64,
}

/// Where [`JourneyNow`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Snapshot,
    Answer,
}

/// A journey's status and next action as currently known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneyNow {
    pub status: Option<String>,
    pub next_action: Option<String>,
    pub source: Source,
}

impl Journeys {
    /// Remember an upstream answer about a journey.
    pub async fn observe(&self, obs: &Observation) -> Result<(), StoreError> {
        self.store()
            .set(
                &JourneyObservedKey::new(&obs.journey_id),
                &to_json(obs)?,
                JOURNEY_RETENTION,
            )
            .await
    }

    /// The journey as currently known, or `None` when neither a snapshot nor an answer is kept.
    pub async fn now(&self, journey_id: &str) -> Result<Option<JourneyNow>, StoreError> {
        let snapshot = self.latest(journey_id).await?;
        let answer = match self
            .store()
            .get(&JourneyObservedKey::new(journey_id))
            .await?
        {
            Some(b) => Some(from_json::<Observation>(&b)?),
            None => None,
        };
        let snapshot = snapshot.map(|s| {
            let at = received_ms(&s.received_at);
            (
                JourneyNow {
                    status: s.status,
                    next_action: s.next_action,
                    source: Source::Snapshot,
                },
                at,
            )
        });
        Ok(newer(snapshot, answer))
    }
}

/// The answer wins only when it arrived after the snapshot did.
fn newer(snapshot: Option<(JourneyNow, i64)>, answer: Option<Observation>) -> Option<JourneyNow> {
    let from_answer = |a: Observation| JourneyNow {
        status: a.status,
        next_action: a.next_action,
        source: Source::Answer,
    };
    match (snapshot, answer) {
        (Some((s, at)), Some(a)) if a.received_ms <= at => Some(s),
        (_, Some(a)) => Some(from_answer(a)),
        (Some((s, _)), None) => Some(s),
        (None, None) => None,
    }
}

/// A stored `receivedAt` in unix ms (an unreadable one counts as very old).
fn received_ms(at: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|d| d.timestamp_millis())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(status: &str, at: i64) -> Option<(JourneyNow, i64)> {
        Some((
            JourneyNow {
                status: Some(status.into()),
                next_action: None,
                source: Source::Snapshot,
            },
            at,
        ))
    }

    fn answer(status: &str, at: i64) -> Option<Observation> {
        Some(Observation {
            journey_id: "j".into(),
            status: Some(status.into()),
            next_action: Some("FUTURE_ACTION".into()),
            received_ms: at,
        })
    }

    #[test]
    fn an_answer_applies_only_when_it_arrived_after_the_latest_snapshot() {
        let now = newer(snap("OFFERS_PENDING", 100), answer("OFFERS_AVAILABLE", 101)).unwrap();
        assert_eq!(now.status.as_deref(), Some("OFFERS_AVAILABLE"));
        assert_eq!(now.source, Source::Answer);
        let now = newer(snap("OFFERS_AVAILABLE", 200), answer("OFFERS_PENDING", 150)).unwrap();
        assert_eq!(now.status.as_deref(), Some("OFFERS_AVAILABLE"));
        assert_eq!(now.source, Source::Snapshot);
        assert_eq!(
            newer(snap("X", 5), answer("Y", 5)).unwrap().source,
            Source::Snapshot,
            "a tie goes to the verified snapshot"
        );
    }

    #[test]
    fn either_alone_is_the_journey_now_and_unknown_values_pass_untouched() {
        let now = newer(None, answer("FUTURE_STATUS_X", 1)).unwrap();
        assert_eq!(now.status.as_deref(), Some("FUTURE_STATUS_X"));
        assert_eq!(now.next_action.as_deref(), Some("FUTURE_ACTION"));
        assert_eq!(newer(snap("S", 1), None).unwrap().source, Source::Snapshot);
        assert_eq!(newer(None, None), None);
    }

    #[test]
    fn stored_receipt_times_read_as_unix_ms() {
        assert_eq!(received_ms("2026-04-02T09:16:10.123Z"), 1_775_121_370_123);
        assert_eq!(received_ms("garbage"), 0);
    }
}
