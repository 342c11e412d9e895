//! The ops audit log (`GET /v1/ops/audit`) beyond revocations (those are in `revoke`): a
//! dead-letter re-drive is recorded under the operator named in `ops.tokens`.

use crate::helpers::*;

const ALICE_TOKEN: &str = "alice-ops-token-0123456789abcdef01";

#[tokio::test]
async fn a_redrive_is_audited_with_its_operator() {
    let app =
        spawn_app_with(base_options().set("ops.tokens", format!("alice:{ALICE_TOKEN}"))).await;
    let event = new_event_id();
    let journey = uuid::Uuid::new_v4().to_string();
    let letter = DeadLetter {
        id: "letter-audit".into(),
        received_at: "2026-01-01T00:00:00.000Z".into(),
        reason: "older parser".into(),
        headers: [("x-al-event-id".to_owned(), event.clone())]
            .into_iter()
            .collect(),
        body: snapshot_body(&event, &journey, 1, "OFFERS_AVAILABLE", "user-audit"),
        resolved_at: None,
    };
    DeadLetters::new(redis_store(&app.key_prefix()))
        .put(&letter)
        .await
        .unwrap();
    let r = ops_post(
        &app,
        "/v1/ops/dead-letters/letter-audit/redrive",
        ALICE_TOKEN,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let r = reply(
        app.client
            .get(app.url("/v1/ops/audit"))
            .bearer_auth(ALICE_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let entry = &r.data()["entries"][0];
    assert_eq!(entry["operator"], "alice");
    assert_eq!(entry["action"], "redrive");
    assert_eq!(entry["target"], "letter-audit");
}
