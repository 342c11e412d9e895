//! The whole webhook path: a journey driven in the embedded sandbox, its signed deliveries (also
//! duplicated and reordered by the sandbox's faults), and what the ops API shows afterwards.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn sandbox_journey_events_reach_the_ops_api_verified_in_order_and_mapped_to_the_user() {
    let app = spawn_app_with_embedded_sandbox().await;
    let user = format!("partner-user-{}", uuid::Uuid::new_v4().simple());
    let borrower = Borrower::start(&app, &user).await;
    let journey = borrower.create_journey().await;
    borrower.complete_profile().await;
    borrower.submit().await;

    let arrived = eventually(15, || {
        let (app, journey) = (&app, &journey);
        async move {
            app.ops_feed_of(journey)
                .await
                .last()
                .is_some_and(|e| e["status"] == "OFFERS_PENDING")
        }
    })
    .await;
    assert!(arrived, "sandbox events did not reach the ops feed");
    let feed = app.ops_feed_of(&journey).await;
    let statuses: Vec<&str> = feed.iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        [
            "STARTED",
            "PROFILE_REQUIRED",
            "PROFILE_SUBMITTED",
            "OFFERS_PENDING"
        ]
    );
    let seqs: Vec<u64> = feed
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(feed
        .iter()
        .all(|e| e["userID"] == user.as_str() && e["stale"] == false));

    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["userID"], user.as_str());
    assert_eq!(view["borrowerExternalID"], user.as_str());
    assert_eq!(view["status"], "OFFERS_PENDING");
    assert_eq!(
        view["snapshot"]["issuer"]["trigger"],
        "journey.offer.updated"
    );
    let mine = app
        .ops_data(&format!("/v1/ops/users/{user}/journeys"))
        .await;
    assert_eq!(mine["journeys"][0]["journeyID"], journey.as_str());
    assert_eq!(mine["journeys"][0]["status"], "OFFERS_PENDING");
}

#[tokio::test]
async fn sandbox_duplicates_and_reordering_leave_one_copy_each_and_the_newest_snapshot_latest() {
    let app = spawn_app_with_embedded_sandbox().await;
    let sandbox = &app.upstream_base_url;
    let user = format!("partner-user-{}", uuid::Uuid::new_v4().simple());
    let borrower = Borrower::start(&app, &user).await;
    // journey.created is delivered twice.
    control_at(
        sandbox,
        "/__sandbox/faults",
        json!({"webhookDuplicateNext": 1}),
    )
    .await;
    let journey = borrower.create_journey().await;
    // profile.updated is held back and delivered after profile.submitted; lender dispatch
    // (OFFERS_PENDING) follows a second later.
    control_at(
        sandbox,
        "/__sandbox/faults",
        json!({"webhookReorderNext": 1}),
    )
    .await;
    borrower.complete_profile().await;
    borrower.submit().await;

    let settled = eventually(15, || async {
        let d = sandbox_get(sandbox, "/__sandbox/deliveries").await;
        let list = d["data"]["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        d["data"]["pending"] == 0 && list.iter().filter(|x| x["status"] == 200).count() == 5
    })
    .await;
    assert!(settled, "sandbox did not deliver everything");
    let d = sandbox_get(sandbox, "/__sandbox/deliveries").await;
    assert!(
        d["data"]["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["outcome"] == "duplicate" && x["status"] == 200),
        "the duplicate was acknowledged: {d}"
    );
    let feed = app.ops_feed_of(&journey).await;
    let got: Vec<(&str, bool)> = feed
        .iter()
        .map(|e| (e["status"].as_str().unwrap(), e["stale"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("STARTED", false),
            ("PROFILE_SUBMITTED", false),
            ("PROFILE_REQUIRED", true),
            ("OFFERS_PENDING", false)
        ]
    );
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["status"], "OFFERS_PENDING");
    assert_eq!(view["events"].as_array().unwrap().len(), 4);
}
