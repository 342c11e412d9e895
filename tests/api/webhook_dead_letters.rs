//! Dead letters: a verified delivery whose body cannot be used is kept once (without its
//! signature) for the ops API to list and redrive; a redriven letter is stored once and leaves the
//! list.

use crate::helpers::*;

#[tokio::test]
async fn a_verified_but_unusable_body_becomes_one_dead_letter_and_stays_after_a_failed_redrive() {
    let app = spawn_app().await;
    let bad = r#"{"event_id":"evt_bad_1","event_type":"journey.snapshot","hello":"world"}"#;
    for _ in 0..2 {
        let (status, body) = status_and_body(app.post_webhook(bad).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    }
    // Unsigned junk is refused and never kept.
    let res = app.post_webhook_raw("garbage", &[]).await;
    assert_eq!(res.status().as_u16(), 401);

    let data = app.ops_data("/v1/ops/dead-letters").await;
    let letters = data["deadLetters"].as_array().unwrap();
    assert_eq!(
        letters.len(),
        1,
        "retries of one body make one letter: {data}"
    );
    let letter = &letters[0];
    assert_eq!(
        keys_of(letter),
        key_set(&["id", "receivedAt", "reason", "headers", "body"])
    );
    assert_eq!(letter["body"], bad);
    assert_eq!(letter["headers"]["x-al-event-id"], "evt_bad_1");
    assert!(letter["headers"].get("x-al-webhook-signature").is_none());
    assert!(
        letter["reason"].as_str().unwrap().contains("tenant_id"),
        "{letter}"
    );

    let id = letter["id"].as_str().unwrap();
    let res = app
        .client
        .post(app.url(&format!("/v1/ops/dead-letters/{id}/redrive")))
        .bearer_auth(DEV_OPS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let data = app.ops_data("/v1/ops/dead-letters").await;
    assert_eq!(data["deadLetters"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_redriven_dead_letter_is_stored_once_and_leaves_the_list() {
    let app = spawn_app().await;
    let prefix = app.key_prefix();
    // A letter kept by an older release whose parser refused this (now valid) body.
    let event = new_event_id();
    let journey = uuid::Uuid::new_v4().to_string();
    let body = snapshot_body(&event, &journey, 3, "OFFERS_AVAILABLE", "user-dl");
    let letter = DeadLetter {
        id: "letter-1".into(),
        received_at: "2026-01-01T00:00:00.000Z".into(),
        reason: "older parser".into(),
        headers: [("x-al-event-id".to_owned(), event.clone())]
            .into_iter()
            .collect(),
        body: body.clone(),
        resolved_at: None,
    };
    DeadLetters::new(redis_store(&prefix))
        .put(&letter)
        .await
        .unwrap();
    let listed = app.ops_data("/v1/ops/dead-letters").await;
    assert_eq!(listed["deadLetters"][0]["id"], "letter-1");

    let redrive = |app: &TestApp| {
        app.client
            .post(app.url("/v1/ops/dead-letters/letter-1/redrive"))
            .bearer_auth(DEV_OPS_TOKEN)
            .send()
    };
    let (status, env) = status_and_body(redrive(&app).await.unwrap()).await;
    assert_eq!(status, 200, "{env}");
    assert_eq!(env["data"]["outcome"], "stored");
    assert_eq!(env["data"]["eventID"], event.as_str());
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["status"], "OFFERS_AVAILABLE");
    let listed = app.ops_data("/v1/ops/dead-letters").await;
    assert_eq!(listed["deadLetters"], serde_json::json!([]));
    let (status, env) = status_and_body(redrive(&app).await.unwrap()).await;
    assert_eq!(
        (status, env["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    // The upstream's own (late) delivery of the same event is now a duplicate.
    let (_, env) = status_and_body(app.post_webhook(&body).await).await;
    assert_eq!(env["data"]["outcome"], "duplicate");
    let feed = app.ops_feed().await;
    assert_eq!(
        feed.iter()
            .filter(|e| e["eventID"] == event.as_str())
            .count(),
        1
    );
}
