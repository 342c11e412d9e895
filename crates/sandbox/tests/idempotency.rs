//! Idempotency-Key semantics and the offer lock.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_mutating_call_without_an_idempotency_key_is_refused_and_changes_nothing() {
    let sb = spawn().await;
    let s = sb.session("idem-1").await;
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/journeys",
            Auth::Bearer(&s.token),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "IDEMPOTENCY_KEY_REQUIRED"));
    assert_eq!(r.body["error"]["retryable"], false);
    let list = sb.get(&s.token, "/api/v1/headless/journeys").await;
    assert_eq!(list.data()["journeys"], json!([]));
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_stored_answer_without_running_twice() {
    let sb = spawn().await;
    let key = "replay-key-1";
    let body = Some(json!({ "borrowerExternalID": "idem-2" }));
    let a = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::Key,
            Some(key),
            body.clone(),
        )
        .await;
    let b = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::Key,
            Some(key),
            body,
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(b.status, 200);
    assert_eq!(a.body, b.body, "byte-for-byte the same answer, same tokens");
    assert_eq!(b.headers["idempotent-replayed"], "true");
    // The request log tells the run from the replay.
    let log = sb
        .control(
            "GET",
            "/__sandbox/requests?limit=2&path_prefix=/api/v1/headless/sessions",
            None,
        )
        .await;
    let replayed: Vec<_> = log.data()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["replayed"].clone())
        .collect();
    assert_eq!(replayed, vec![json!(false), json!(true)]);

    // A replayed error stays an error.
    let s = Session::from(a.data());
    let bad = json!({ "profile": { "pan": "bad" } });
    let e1 = sb
        .call(
            "PUT",
            "/api/v1/headless/profile",
            Auth::Bearer(&s.token),
            Some("k-err"),
            Some(bad.clone()),
        )
        .await;
    let e2 = sb
        .call(
            "PUT",
            "/api/v1/headless/profile",
            Auth::Bearer(&s.token),
            Some("k-err"),
            Some(bad),
        )
        .await;
    assert_eq!((e1.status, e2.status), (400, 400));
    assert_eq!(e1.body, e2.body);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_conflict() {
    let sb = spawn().await;
    let a = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::Key,
            Some("k1"),
            Some(json!({ "borrowerExternalID": "idem-3" })),
        )
        .await;
    assert_eq!(a.status, 200);
    let b = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::Key,
            Some("k1"),
            Some(json!({ "borrowerExternalID": "idem-4" })),
        )
        .await;
    assert_eq!((b.status, b.code()), (409, "IDEMPOTENCY_KEY_CONFLICT"));
    // idem-4 was never created: its first session has no history to resume.
    let s = sb.session("idem-4").await;
    assert!(s.active_journey.is_null());
}

#[tokio::test]
async fn idempotency_keys_are_scoped_per_credential() {
    let sb = spawn().await;
    let a = sb.session("scope-a").await;
    let b = sb.session("scope-b").await;
    let r1 = sb
        .call(
            "POST",
            "/api/v1/headless/journeys",
            Auth::Bearer(&a.token),
            Some("shared"),
            Some(json!({})),
        )
        .await;
    let r2 = sb
        .call(
            "POST",
            "/api/v1/headless/journeys",
            Auth::Bearer(&b.token),
            Some("shared"),
            Some(json!({})),
        )
        .await;
    assert_eq!((r1.status, r2.status), (200, 200));
    assert_ne!(
        r1.data()["journeyID"],
        r2.data()["journeyID"],
        "each borrower got their own journey"
    );
}

#[tokio::test]
async fn lenient_mode_accepts_mutating_calls_without_a_key() {
    let sb = spawn_with(aarthik_sandbox::SandboxConfig {
        idempotency_strict: false,
        ..config()
    })
    .await;
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::Key,
            None,
            Some(json!({ "borrowerExternalID": "lenient" })),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn after_proceeding_one_offer_the_others_are_locked() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("lock-1").await;
    let offers = sb.offers(&s.token, &jid).await;
    let (first, second) = (
        offers[0]["offerID"].as_str().unwrap(),
        offers[1]["offerID"].as_str().unwrap(),
    );
    assert_eq!(
        sb.post(
            &s.token,
            &format!("/api/v1/headless/offers/{first}/proceed"),
            json!({})
        )
        .await
        .status,
        200
    );

    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/offers/{second}/proceed"),
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "OFFER_LOCK_CONFLICT"));
    assert_eq!(r.body["error"]["retryable"], false);
    assert_eq!(
        r.body["error"]["details"],
        json!({ "offerID": second, "selectedOfferID": first })
    );
    let r = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/offers/{second}/reject"),
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "OFFER_LOCK_CONFLICT"));
    let detail = sb
        .get(&s.token, &format!("/api/v1/headless/offers/{second}"))
        .await;
    assert_eq!(
        detail.data()["locked"],
        true,
        "the reloaded detail shows the lock"
    );
    assert_eq!(
        detail.data()["status"],
        "OFFER_RECEIVED",
        "a locked card keeps its status"
    );
    let state = sb.state(&s.token, &jid).await;
    assert_eq!(state["selectedOfferID"], first, "the lock changed nothing");
    let again = sb
        .post(
            &s.token,
            &format!("/api/v1/headless/offers/{first}/proceed"),
            json!({}),
        )
        .await;
    assert_eq!(
        again.status, 200,
        "proceeding the chosen offer again is harmless"
    );
    let steps = sb
        .get(&s.token, &format!("/api/v1/headless/offers/{second}/steps"))
        .await;
    assert_eq!(steps.data()["steps"], json!([]));
}
