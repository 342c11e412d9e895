//! Out-of-order webhook deliveries: an older snapshot never replaces a newer one.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn an_older_snapshot_after_a_newer_one_never_replaces_it_and_is_marked_stale() {
    let app = spawn_app().await;
    let journey = uuid::Uuid::new_v4().to_string();
    let (newer, older) = (new_event_id(), new_event_id());
    let res = app
        .post_webhook(&snapshot_body(
            &newer,
            &journey,
            200,
            "OFFER_SELECTED",
            "u-ord",
        ))
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let res = app
        .post_webhook(&snapshot_body(
            &older,
            &journey,
            100,
            "OFFERS_AVAILABLE",
            "u-ord",
        ))
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["status"], "OFFER_SELECTED");
    assert_eq!(view["sequence"], 200);
    assert_eq!(view["snapshot"]["event_id"], newer.as_str());
    let seqs: Vec<u64> = view["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [100, 200], "history is ordered by sequence");
    let feed: Vec<Value> = app
        .ops_feed()
        .await
        .into_iter()
        .filter(|e| e["journeyID"] == journey.as_str())
        .collect();
    assert_eq!(feed.len(), 2);
    assert_eq!(
        (feed[0]["eventID"].as_str(), feed[0]["stale"].as_bool()),
        (Some(newer.as_str()), Some(false))
    );
    assert_eq!(
        (feed[1]["eventID"].as_str(), feed[1]["stale"].as_bool()),
        (Some(older.as_str()), Some(true))
    );
}
