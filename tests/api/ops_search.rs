//! Journey search (`GET /v1/ops/journeys`): by latest status, by partner user, by "no change for N
//! seconds", newest change first, paged by cursor; and the journey view's timeline of every
//! verified snapshot with stale ones marked.

use serde_json::Value;

use crate::helpers::*;

/// A snapshot of `journey` for `user` generated `ago_secs` ago.
async fn snapshot(app: &TestApp, journey: &str, seq: u64, status: &str, user: &str, ago_secs: i64) {
    let mut body: Value =
        serde_json::from_str(&snapshot_body(&new_event_id(), journey, seq, status, user)).unwrap();
    let at = chrono::Utc::now() - chrono::Duration::seconds(ago_secs);
    body["snapshot_generated_at"] = Value::String(at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    let res = app.post_webhook(&body.to_string()).await;
    assert_eq!(res.status().as_u16(), 200);
}

/// The journey ids of one search page, and its `next`.
async fn search(app: &TestApp, query: &str) -> (Vec<String>, Value) {
    let data = app.ops_data(&format!("/v1/ops/journeys?{query}")).await;
    let ids = data["journeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["journeyID"].as_str().unwrap().to_owned())
        .collect();
    (ids, data["next"].clone())
}

#[tokio::test]
async fn journeys_are_found_by_status_user_and_time_without_change_newest_first() {
    let app = spawn_app().await;
    snapshot(&app, "j-old", 1, "OFFERS_PENDING", "user-a", 3 * 3600).await;
    snapshot(&app, "j-mid", 1, "PROFILE_PENDING", "user-a", 2 * 3600).await;
    snapshot(&app, "j-new", 1, "OFFERS_PENDING", "user-b", 3600).await;

    let data = app.ops_data("/v1/ops/journeys").await;
    assert_eq!(keys_of(&data), key_set(&["journeys", "next"]));
    assert_eq!(data["next"], Value::Null);
    let row = &data["journeys"][0];
    assert_eq!(
        keys_of(row),
        key_set(&[
            "journeyID",
            "userID",
            "status",
            "nextAction",
            "sequence",
            "updatedAt"
        ])
    );
    assert_eq!(
        (
            row["journeyID"].as_str(),
            row["userID"].as_str(),
            row["sequence"].as_u64()
        ),
        (Some("j-new"), Some("user-b"), Some(1))
    );
    assert_eq!(row["nextAction"], "VIEW_OFFERS");

    let all = ["j-new", "j-mid", "j-old"];
    assert_eq!(search(&app, "").await.0, all);
    assert_eq!(
        search(&app, "status=OFFERS_PENDING").await.0,
        ["j-new", "j-old"]
    );
    assert_eq!(search(&app, "userID=user-a").await.0, ["j-mid", "j-old"]);
    assert_eq!(
        search(&app, "userID=user-a&status=OFFERS_PENDING").await.0,
        ["j-old"]
    );
    assert_eq!(
        search(&app, "stuckForSecs=5400").await.0,
        ["j-mid", "j-old"]
    );
    assert_eq!(
        search(&app, "stuckForSecs=5400&status=OFFERS_PENDING")
            .await
            .0,
        ["j-old"]
    );
    assert_eq!(search(&app, "stuckForSecs=0&userID=").await.0, all);
    assert!(search(&app, "status=DISBURSED").await.0.is_empty());
    assert!(search(&app, "userID=nobody").await.0.is_empty());

    // A newer snapshot moves the journey: new status, newest change.
    snapshot(&app, "j-old", 2, "OFFER_SELECTED", "user-a", 60).await;
    assert_eq!(search(&app, "").await.0, ["j-old", "j-new", "j-mid"]);
    assert_eq!(search(&app, "status=OFFERS_PENDING").await.0, ["j-new"]);
    assert_eq!(search(&app, "status=OFFER_SELECTED").await.0, ["j-old"]);
    assert_eq!(search(&app, "stuckForSecs=5400").await.0, ["j-mid"]);
    // An older (stale) snapshot changes nothing.
    snapshot(&app, "j-new", 0, "PROFILE_PENDING", "user-b", 30).await;
    assert_eq!(search(&app, "status=OFFERS_PENDING").await.0, ["j-new"]);
    assert!(search(&app, "status=PROFILE_PENDING&userID=user-b")
        .await
        .0
        .is_empty());
    assert_eq!(search(&app, "").await.0, ["j-old", "j-new", "j-mid"]);
}

#[tokio::test]
async fn search_pages_resume_after_the_cursor_even_among_equal_times() {
    let app = spawn_app().await;
    // The same `snapshot_generated_at` for all: ties are ordered by journey id.
    for i in 0..5 {
        let res = app
            .post_webhook(&snapshot_body(
                &new_event_id(),
                &format!("j-{i}"),
                1,
                "X",
                "u-page",
            ))
            .await;
        assert_eq!(res.status().as_u16(), 200);
    }
    let expected = ["j-4", "j-3", "j-2", "j-1", "j-0"];
    for filter in ["", "&status=X", "&userID=u-page"] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        for round in 0..4 {
            let query = match &after {
                Some(c) => format!("limit=2{filter}&after={c}"),
                None => format!("limit=2{filter}"),
            };
            let (ids, next) = search(&app, &query).await;
            seen.extend(ids);
            match next.as_str() {
                Some(c) => after = Some(c.to_owned()),
                None => break,
            }
            assert!(round < 3, "{filter}: paging ends");
        }
        assert_eq!(seen, expected, "{filter}");
    }
}

#[tokio::test]
async fn bad_search_parameters_are_400_and_the_search_needs_ops_credentials() {
    let app = spawn_app().await;
    for bad in [
        "status=%3Cb%3E",
        "limit=0",
        "limit=501",
        "limit=many",
        "stuckForSecs=-1",
        "stuckForSecs=soon",
        "after=garbage",
        "after=12:%3Cb%3E",
    ] {
        let res = app.ops_get(&format!("/v1/ops/journeys?{bad}")).await;
        assert_refused(res, 400, "VALIDATION_ERROR").await;
    }
    let res = app
        .client
        .get(app.url("/v1/ops/journeys"))
        .send()
        .await
        .unwrap();
    assert_refused(res, 401, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn the_journey_view_has_every_verified_snapshot_with_stale_ones_marked() {
    let app = spawn_app().await;
    let journey = uuid::Uuid::new_v4().to_string();
    for (seq, status) in [
        (10, "OFFERS_AVAILABLE"),
        (30, "OFFER_SELECTED"),
        (20, "PROFILE_PENDING"),
    ] {
        let res = app
            .post_webhook(&snapshot_body(
                &new_event_id(),
                &journey,
                seq,
                status,
                "u-tl",
            ))
            .await;
        assert_eq!(res.status().as_u16(), 200);
    }
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(
        view["status"], "OFFER_SELECTED",
        "the stale one changed nothing"
    );
    let timeline: Vec<(u64, &str, bool)> = view["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["sequence"].as_u64().unwrap(),
                e["status"].as_str().unwrap(),
                e["stale"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        timeline,
        [
            (10, "OFFERS_AVAILABLE", false),
            (20, "PROFILE_PENDING", true),
            (30, "OFFER_SELECTED", false)
        ]
    );
}
