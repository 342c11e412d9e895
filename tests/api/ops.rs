//! The ops API: bearer-token access, the journey and user views, feed pages, and the SSE stream
//! with resumption (dead letters are in `webhook_dead_letters`).

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/v1/ops/journeys/j-1"),
    ("GET", "/v1/ops/users/u-1/journeys"),
    ("GET", "/v1/ops/events"),
    ("GET", "/v1/ops/events/stream"),
    ("GET", "/v1/ops/dead-letters"),
    ("POST", "/v1/ops/dead-letters/abc/redrive"),
    ("GET", "/v1/ops/forwarding/evt_1"),
    ("POST", "/v1/ops/forwarding/evt_1/resend"),
];

#[tokio::test]
async fn every_ops_endpoint_refuses_a_missing_or_wrong_token() {
    let app = spawn_app_with(base_options().set("ops.tokens", "ops-token-a,ops-token-b")).await;
    for (method, path) in ENDPOINTS {
        let method: reqwest::Method = method.parse().unwrap();
        for auth in [
            None,
            Some("Bearer wrong-token-xyz"),
            Some("Bearer ops-token-a2"),
            Some("Basic ops-token-a"),
            Some("Bearer "),
        ] {
            let mut req = app.client.request(method.clone(), app.url(path));
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let res = req.send().await.unwrap();
            let (status, body) = status_and_body(res).await;
            assert_eq!(status, 401, "{path} {auth:?}: {body}");
            assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
            assert!(
                !body.to_string().contains("ops-token"),
                "no token in the body"
            );
        }
    }
    for token in ["ops-token-a", "ops-token-b"] {
        let res = app
            .client
            .get(app.url("/v1/ops/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{token}");
    }
}

#[tokio::test]
async fn the_journey_view_has_the_documented_shape_and_unknown_journeys_are_404() {
    let app = spawn_app().await;
    let journey = uuid::Uuid::new_v4().to_string();
    let event = new_event_id();
    app.post_webhook(&snapshot_body(
        &event,
        &journey,
        42,
        "OFFERS_AVAILABLE",
        "user-9",
    ))
    .await;
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(
        keys_of(&view),
        key_set(&[
            "journeyID",
            "userID",
            "borrowerExternalID",
            "status",
            "nextAction",
            "sequence",
            "updatedAt",
            "snapshot",
            "events"
        ])
    );
    assert_eq!(view["journeyID"], journey.as_str());
    assert_eq!(
        view["userID"], "user-9",
        "borrowerExternalID is the user id without pseudonyms"
    );
    assert_eq!(view["nextAction"], "VIEW_OFFERS");
    assert_eq!(view["updatedAt"], "2026-04-02T09:16:10.000Z");
    assert_eq!(view["snapshot"]["event_id"], event.as_str());
    let item = &view["events"][0];
    assert_eq!(
        keys_of(item),
        key_set(&[
            "cursor",
            "eventID",
            "journeyID",
            "userID",
            "sequence",
            "status",
            "nextAction",
            "receivedAt",
            "stale"
        ])
    );
    for unknown in ["no-such-journey", "bad:id"] {
        let (status, body) =
            status_and_body(app.ops_get(&format!("/v1/ops/journeys/{unknown}")).await).await;
        assert_eq!(status, 404);
        assert_eq!(body["error"]["code"], "JOURNEY_NOT_FOUND");
    }
}

#[tokio::test]
async fn a_users_journeys_carry_their_latest_status() {
    let app = spawn_app().await;
    let (j1, j2) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    app.post_webhook(&snapshot_body(
        &new_event_id(),
        &j1,
        1,
        "PROFILE_REQUIRED",
        "user-7",
    ))
    .await;
    app.post_webhook(&snapshot_body(
        &new_event_id(),
        &j2,
        1,
        "PROFILE_REQUIRED",
        "user-7",
    ))
    .await;
    app.post_webhook(&snapshot_body(
        &new_event_id(),
        &j1,
        2,
        "OFFERS_PENDING",
        "user-7",
    ))
    .await;
    let data = app.ops_data("/v1/ops/users/user-7/journeys").await;
    assert_eq!(data["userID"], "user-7");
    let journeys = data["journeys"].as_array().unwrap();
    assert_eq!(journeys.len(), 2);
    let first = journeys
        .iter()
        .find(|j| j["journeyID"] == j1.as_str())
        .unwrap();
    assert_eq!(
        keys_of(first),
        key_set(&["journeyID", "status", "nextAction", "sequence", "updatedAt"])
    );
    assert_eq!(
        (first["status"].as_str(), first["sequence"].as_u64()),
        (Some("OFFERS_PENDING"), Some(2))
    );
    let empty = app.ops_data("/v1/ops/users/nobody/journeys").await;
    assert_eq!(empty["journeys"], serde_json::json!([]));
}

#[tokio::test]
async fn the_feed_pages_oldest_first_and_resumes_strictly_after_a_cursor() {
    let app = spawn_app().await;
    let mut events = Vec::new();
    for i in 0..5u64 {
        let e = new_event_id();
        app.post_webhook(&snapshot_body(&e, &format!("j-page-{i}"), i + 1, "X", "u"))
            .await;
        events.push(e);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for expected_len in [2, 2, 1, 0] {
        let path = match &after {
            Some(c) => format!("/v1/ops/events?limit=2&after={c}"),
            None => "/v1/ops/events?limit=2".to_owned(),
        };
        let page = app.ops_data(&path).await;
        let items = page["events"].as_array().unwrap();
        assert_eq!(items.len(), expected_len, "{page}");
        if expected_len == 0 {
            assert_eq!(page["next"], Value::Null);
        } else {
            assert_eq!(page["next"], items.last().unwrap()["cursor"]);
            after = page["next"].as_str().map(str::to_owned);
        }
        seen.extend(
            items
                .iter()
                .map(|i| i["eventID"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen, events);
    for bad in [
        "after=abc",
        "after=1-2-3",
        "limit=0",
        "limit=lots",
        "limit=100000",
    ] {
        let (status, body) =
            status_and_body(app.ops_get(&format!("/v1/ops/events?{bad}")).await).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    }
}

/// Read SSE frames until `want` data frames arrived (bounded).
async fn read_frames(
    res: &mut reqwest::Response,
    buf: &mut String,
    want: usize,
) -> Vec<(String, String, Value)> {
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while frames.len() < want {
        while let Some(end) = buf.find("\n\n") {
            let raw: String = buf.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (String::new(), String::new(), None);
            for line in raw.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.to_owned();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(v).unwrap());
                }
            }
            if let Some(d) = data {
                frames.push((id, event, d));
            }
        }
        if frames.len() >= want {
            break;
        }
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .expect("SSE frames in time")
            .unwrap()
            .expect("stream still open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
    frames
}

#[tokio::test]
async fn the_event_stream_resumes_after_last_event_id_and_then_follows_live() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..3u64 {
        let e = new_event_id();
        app.post_webhook(&snapshot_body(&e, "j-sse", i + 1, "X", "u"))
            .await;
        ids.push(e);
    }
    let feed = app.ops_feed().await;
    let cursors: Vec<String> = feed
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_owned())
        .collect();
    // Last-Event-ID wins over the URL's `after` (an EventSource reconnect keeps its URL).
    let mut res = app
        .client
        .get(app.url(&format!("/v1/ops/events/stream?after={}", cursors[2])))
        .bearer_auth(DEV_OPS_TOKEN)
        .header("Last-Event-ID", &cursors[0])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut buf = String::new();
    let frames = read_frames(&mut res, &mut buf, 2).await;
    assert_eq!(frames[0].0, cursors[1]);
    assert_eq!(frames[0].1, "journey.snapshot");
    assert_eq!(frames[0].2["eventID"], ids[1].as_str());
    assert_eq!(frames[0].2["cursor"], cursors[1].as_str());
    assert_eq!(frames[1].2["eventID"], ids[2].as_str());
    // Live: an event stored now shows up on the open stream.
    let live = new_event_id();
    app.post_webhook(&snapshot_body(&live, "j-sse", 9, "Y", "u"))
        .await;
    let frames = read_frames(&mut res, &mut buf, 1).await;
    assert_eq!(frames[0].2["eventID"], live.as_str());
    assert_eq!(frames[0].2["stale"], false);

    // `?after=` alone also resumes; a bad cursor is refused before streaming.
    let mut res = app
        .client
        .get(app.url(&format!("/v1/ops/events/stream?after={}", cursors[2])))
        .bearer_auth(DEV_OPS_TOKEN)
        .send()
        .await
        .unwrap();
    let frames = read_frames(&mut res, &mut String::new(), 1).await;
    assert_eq!(frames[0].2["eventID"], live.as_str());
    let res = app
        .client
        .get(app.url("/v1/ops/events/stream"))
        .bearer_auth(DEV_OPS_TOKEN)
        .header("Last-Event-ID", "nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
}
