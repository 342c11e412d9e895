//! The upstream's `journey.snapshot` body: top level snake_case, the `borrower` subtree camelCase
//! with `ID` suffixes. Beyond the headless example the upstream documents few fields, so unknown
//! fields are ignored and only `event_id`, `event_type`, `tenant_id` and `application_id` are
//! required, plus at least one journey (the `borrower.journeys[]` array of the headless example,
//! or the singular `borrower.journey` the upstream also shows; a non-empty array wins).

use serde::Deserialize;
use serde_json::Value;

use crate::events::is_safe_id;
use aarthik_contract::webhook::{EVENT_TYPE_DOCTOR_PING, EVENT_TYPE_SNAPSHOT};

/// One journey named by a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneyState {
    pub journey_id: String,
    pub status: Option<String>,
    pub next_action: Option<String>,
}

/// A parsed, checked snapshot. `body` is the whole JSON as received (for the ops view).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub event_id: String,
    pub sequence: u64,
    pub tenant_id: String,
    pub application_id: String,
    pub borrower_external_id: Option<String>,
    /// `snapshot_generated_at`, else `event_at`, as sent.
    pub generated_at: Option<String>,
    pub journeys: Vec<JourneyState>,
    pub body: Value,
}

#[derive(Deserialize)]
struct Raw {
    event_id: String,
    event_type: String,
    tenant_id: String,
    application_id: String,
    #[serde(default)]
    sequence: Option<Value>,
    #[serde(default)]
    event_at: Option<String>,
    #[serde(default)]
    snapshot_generated_at: Option<String>,
    #[serde(default)]
    borrower: Option<RawBorrower>,
}

#[derive(Deserialize)]
struct RawBorrower {
    #[serde(rename = "borrowerExternalID", default)]
    borrower_external_id: Option<String>,
    #[serde(default)]
    journeys: Option<Vec<RawJourney>>,
    #[serde(default)]
    journey: Option<RawJourney>,
}

#[derive(Deserialize)]
struct RawJourney {
    #[serde(rename = "journeyID", default)]
    journey_id: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(rename = "nextAction", default)]
    next_action: Option<String>,
}

/// Parse a verified body. The error says why it cannot be used (it becomes the dead-letter reason).
pub fn parse(body: &[u8]) -> Result<Snapshot, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let raw: Raw = serde_json::from_value(value.clone())
        .map_err(|e| format!("body is not a journey.snapshot: {e}"))?;
    if raw.event_type != EVENT_TYPE_SNAPSHOT {
        return Err(format!(
            "event_type {:?} is not {EVENT_TYPE_SNAPSHOT}",
            truncate(&raw.event_type)
        ));
    }
    if !is_safe_id(&raw.event_id) {
        return Err("event_id is empty, too long or has unexpected characters".into());
    }
    let generated_at = raw.snapshot_generated_at.or(raw.event_at);
    let sequence = sequence_of(raw.sequence.as_ref(), generated_at.as_deref())?;
    let borrower = raw.borrower;
    let borrower_external_id = borrower
        .as_ref()
        .and_then(|b| b.borrower_external_id.clone())
        .filter(|b| !b.is_empty());
    let raw_journeys = match borrower {
        Some(RawBorrower {
            journeys: Some(list),
            ..
        }) if !list.is_empty() => list,
        Some(RawBorrower {
            journey: Some(one), ..
        }) => vec![one],
        _ => return Err("the snapshot names no journey (borrower.journeys is empty)".into()),
    };
    let mut journeys = Vec::with_capacity(raw_journeys.len());
    for j in raw_journeys {
        let journey_id = j
            .journey_id
            .filter(|id| is_safe_id(id))
            .ok_or("a journey has no usable journeyID")?;
        if journeys
            .iter()
            .any(|k: &JourneyState| k.journey_id == journey_id)
        {
            continue;
        }
        journeys.push(JourneyState {
            journey_id,
            status: j.status,
            next_action: j.next_action,
        });
    }
    Ok(Snapshot {
        event_id: raw.event_id,
        sequence,
        tenant_id: raw.tenant_id,
        application_id: raw.application_id,
        borrower_external_id,
        generated_at,
        journeys,
        body: value,
    })
}

/// The event id of a `bff.doctor.ping` body (a test delivery of `aarthik-bff doctor --webhook`),
/// or `None` for any other body. Only the two fields it needs are read.
pub fn doctor_ping(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Ping {
        event_type: String,
        #[serde(default)]
        event_id: String,
    }
    let p: Ping = serde_json::from_slice(body).ok()?;
    (p.event_type == EVENT_TYPE_DOCTOR_PING).then_some(p.event_id)
}

/// `sequence` as an integer (or a digit string); without it, the snapshot time in ms; else 0.
fn sequence_of(raw: Option<&Value>, generated_at: Option<&str>) -> Result<u64, String> {
    match raw {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| "sequence must be a non-negative integer".to_owned()),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map_err(|_| "sequence is out of range".to_owned())
        }
        Some(Value::Null) | None => Ok(generated_at
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .and_then(|d| u64::try_from(d.timestamp_millis()).ok())
            .unwrap_or(0)),
        Some(_) => Err("sequence must be a non-negative integer".into()),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "schema_version": "1.0.0", "event_type": "journey.snapshot", "event_id": "evt_01JQ7K2M9X",
      "event_at": "2026-04-02T09:16:10.000Z", "snapshot_generated_at": "2026-04-02T09:16:10.000Z",
      "sequence": 1775121370123,
      "issuer": { "source": "credit-api", "trigger": "journey.offer.updated" },
      "tenant_id": "2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9",
      "application_id": "71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b",
      "borrower": { "borrowerExternalID": "partner-user-7781",
        "journeys": [ { "journeyID": "9a1e7c3b-2d4f-4e8a-b6c0-1f2e3d4c5b6a", "status": "OFFERS_AVAILABLE", "nextAction": "VIEW_OFFERS" } ] },
      "something_new": {"x": 1}
    }"#;

    #[test]
    fn the_documented_example_parses() {
        let s = parse(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(s.event_id, "evt_01JQ7K2M9X");
        assert_eq!(s.sequence, 1_775_121_370_123);
        assert_eq!(s.borrower_external_id.as_deref(), Some("partner-user-7781"));
        assert_eq!(s.journeys.len(), 1);
        assert_eq!(s.journeys[0].status.as_deref(), Some("OFFERS_AVAILABLE"));
        assert_eq!(s.body["something_new"]["x"], 1);
    }

    #[test]
    fn the_singular_journey_form_is_accepted() {
        let body = EXAMPLE.replace(
            r#""journeys": [ { "journeyID": "9a1e7c3b-2d4f-4e8a-b6c0-1f2e3d4c5b6a", "status": "OFFERS_AVAILABLE", "nextAction": "VIEW_OFFERS" } ]"#,
            r#""journey": { "journeyID": "j-1", "type": "PERSONAL_LOAN", "status": "X", "nextAction": null }"#,
        );
        let s = parse(body.as_bytes()).unwrap();
        assert_eq!(s.journeys[0].journey_id, "j-1");
        assert_eq!(s.journeys[0].next_action, None);
    }

    #[test]
    fn a_doctor_ping_is_recognised_and_a_snapshot_is_not() {
        let ping = r#"{"event_type":"bff.doctor.ping","event_id":"evt_doctor_1","tenant_id":""}"#;
        assert_eq!(
            doctor_ping(ping.as_bytes()).as_deref(),
            Some("evt_doctor_1")
        );
        assert_eq!(doctor_ping(EXAMPLE.as_bytes()), None);
        assert_eq!(doctor_ping(b"not json"), None);
    }

    #[test]
    fn unusable_bodies_say_why() {
        for (body, why) in [
            ("not json", "not JSON"),
            ("[]", "not a journey.snapshot"),
            (r#"{"event_id":"e"}"#, "not a journey.snapshot"),
            (
                &EXAMPLE.replace("journey.snapshot", "journey.other"),
                "is not journey.snapshot",
            ),
            (&EXAMPLE.replace("evt_01JQ7K2M9X", "evt:1"), "event_id"),
            (&EXAMPLE.replace("1775121370123", "-3"), "sequence"),
            (
                &EXAMPLE.replace("9a1e7c3b-2d4f-4e8a-b6c0-1f2e3d4c5b6a", "a/b"),
                "journeyID",
            ),
        ] {
            let e = parse(body.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{e} should mention {why}");
        }
    }
}
