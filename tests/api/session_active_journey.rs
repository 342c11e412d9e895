//! `/v1/session`'s `activeJourney` is the journey as it is now — the newer of its latest verified
//! snapshot and the latest proxied journey answer — never the value cached when the session was
//! minted, and learning it costs no upstream session call.

use serde_json::{json, Value};

use crate::helpers::*;

/// `activeJourney` of `GET /v1/session`.
async fn active_journey(app: &TestApp, token: &str) -> Value {
    let r = app
        .client
        .get(app.url("/v1/session"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["activeJourney"].clone()
}

/// Mint a session that starts a journey; its id.
async fn session_with_journey(app: &TestApp, token: &str) -> String {
    let r = app
        .client
        .post(app.url("/v1/session"))
        .bearer_auth(token)
        .json(&json!({"journeyType": "PERSONAL_LOAN"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_body(r).await;
    assert_eq!(status, 200, "{body}");
    let active = &body["data"]["activeJourney"];
    assert_eq!(
        (&active["status"], &active["nextAction"]),
        (&json!("STARTED"), &json!("COMPLETE_PROFILE"))
    );
    active["journeyID"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn active_journey_follows_a_webhook_reported_status_change_without_any_refresh() {
    let app = spawn_app_with_embedded_sandbox().await;
    let user = format!("partner-user-{}", uuid::Uuid::new_v4().simple());
    let token = jwt(&app, &user);
    let journey = session_with_journey(&app, &token).await;

    // The borrower goes on elsewhere (straight against the upstream): only webhooks tell us.
    let borrower = Borrower::start(&app, &user).await;
    let sessions_path = format!("{HEADLESS}/sessions");
    let sessions_before = sandbox_get(
        &app.upstream_base_url,
        &format!("/__sandbox/requests?limit=10000&path_prefix={sessions_path}"),
    )
    .await["data"]["requests"]
        .as_array()
        .unwrap()
        .len();
    borrower.complete_profile().await;
    borrower.submit().await;

    let moved = eventually(15, || async {
        active_journey(&app, &token).await["status"] == "OFFERS_PENDING"
    })
    .await;
    assert!(moved, "activeJourney never followed the webhooks");
    let active = active_journey(&app, &token).await;
    assert_eq!(active["journeyID"], journey.as_str());
    assert!(active["nextAction"].is_null(), "{active}");

    // POST /v1/session serves the stored session, with the journey as it is now.
    let (s, b) = post_as(&app, "/v1/session", &token).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["activeJourney"]["status"], "OFFERS_PENDING");

    let sessions_after = sandbox_get(
        &app.upstream_base_url,
        &format!("/__sandbox/requests?limit=10000&path_prefix={sessions_path}"),
    )
    .await["data"]["requests"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        sessions_after, sessions_before,
        "no session call (mint, refresh or resume) was needed"
    );
}

#[tokio::test]
async fn active_journey_follows_proxied_journey_answers() {
    // This sandbox sends no webhooks: proxied answers are the only news.
    let e = env().await;
    let user = new_user();
    let token = jwt(&e.app, &user);
    let journey = session_with_journey(&e.app, &token).await;
    let c = Client::bearer(&e.app, &user);
    let r = c
        .call("PUT", "/v1/headless/profile", Some(full_profile()))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let r = c
        .call("POST", "/v1/headless/profile/submit", Some(json!({})))
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    await_journey_status(&c, &journey, "OFFERS_AVAILABLE").await;

    let active = active_journey(&e.app, &token).await;
    assert_eq!(active["journeyID"], journey.as_str());
    assert_eq!(
        (&active["status"], &active["nextAction"]),
        (&json!("OFFERS_AVAILABLE"), &json!("VIEW_OFFERS"))
    );
    let log = upstream_log(&e.sb, UPSTREAM_SESSIONS).await;
    assert_eq!(count(&log, "POST", UPSTREAM_SESSIONS), 1, "only the mint");
    assert_eq!(count(&log, "POST", UPSTREAM_REFRESH), 0);
}

#[tokio::test]
async fn the_newer_of_snapshot_and_answer_wins_and_unknown_statuses_pass_through() {
    let e = env().await;
    let user = new_user();
    let token = jwt(&e.app, &user);
    let journey = session_with_journey(&e.app, &token).await;
    let c = Client::bearer(&e.app, &user);
    let state = format!("/v1/headless/journeys/{journey}/state");
    let snapshot =
        |seq: u64, status: &str| snapshot_body(&new_event_id(), &journey, seq, status, &user);

    // A verified snapshot after the mint: its (unknown) status is the journey now.
    let r = e
        .app
        .post_webhook(&snapshot(1_000, "FUTURE_STATUS_X"))
        .await;
    assert_eq!(r.status(), 200);
    let active = active_journey(&e.app, &token).await;
    assert_eq!(
        (&active["status"], &active["nextAction"]),
        (&json!("FUTURE_STATUS_X"), &json!("VIEW_OFFERS"))
    );

    // A proxied state answer arriving later wins over it.
    assert_eq!(c.call("GET", &state, None).await.status, 200);
    assert_eq!(active_journey(&e.app, &token).await["status"], "STARTED");

    // A stale snapshot (older sequence) changes nothing; a newer one wins again.
    let r = e.app.post_webhook(&snapshot(500, "STALE_STATUS")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(active_journey(&e.app, &token).await["status"], "STARTED");
    let r = e
        .app
        .post_webhook(&snapshot(2_000, "FUTURE_STATUS_Y"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        active_journey(&e.app, &token).await["status"],
        "FUTURE_STATUS_Y"
    );
}

#[tokio::test]
async fn a_journey_created_through_the_proxy_after_the_mint_becomes_the_active_journey() {
    let e = env().await;
    let user = new_user();
    let token = jwt(&e.app, &user);
    let (s, b) = post_as(&e.app, "/v1/session", &token).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["data"]["activeJourney"].is_null(), "{b}");

    let c = Client::bearer(&e.app, &user);
    let r = c
        .call(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "PERSONAL_LOAN"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let journey = r.data()["journeyID"].as_str().unwrap().to_owned();
    assert_eq!(
        active_journey(&e.app, &token).await,
        json!({"journeyID": journey, "status": "STARTED", "nextAction": "COMPLETE_PROFILE"})
    );

    // Reading the profile opens the profile step; the next state answer says so.
    assert_eq!(
        c.call("GET", "/v1/headless/profile", None).await.status,
        200
    );
    await_journey_status(&c, &journey, "PROFILE_REQUIRED").await;
    let (_, b) = post_as(&e.app, "/v1/session", &token).await;
    assert_eq!(
        b["data"]["activeJourney"],
        json!({"journeyID": journey, "status": "PROFILE_REQUIRED", "nextAction": "COMPLETE_PROFILE"})
    );
    let log = upstream_log(&e.sb, UPSTREAM_SESSIONS).await;
    assert_eq!(count(&log, "POST", UPSTREAM_SESSIONS), 1, "only the mint");
}
