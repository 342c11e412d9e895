//! `GET /v1/events?after=&waitSecs=`: the live update feed as a long poll — an answer at once
//! when something is newer than `after`, an early answer when news arrives while waiting, an empty
//! list at the end of the wait — plus the ops stream's per-instance cap.

use std::time::Duration;

use crate::helpers::*;

async fn deliver(app: &TestApp, user: &str, journey: &str, sequence: u64) {
    let body = snapshot_body(&new_event_id(), journey, sequence, "OFFERS_AVAILABLE", user);
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_long_poll_answers_at_once_when_something_is_newer_than_after() {
    let app = spawn_app().await;
    let user = new_user();
    let client = Client::bearer(&app, &user);
    deliver(&app, &user, "j-poll-1", 1).await;
    deliver(&app, &user, "j-poll-2", 1).await;
    let started = tokio::time::Instant::now();
    let r = client.call("GET", "/v1/events?waitSecs=10", None).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(r.status, 200, "{}", r.raw);
    let events = r.data()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert_eq!(r.data()["next"], events[1]["cursor"]);
    assert_eq!(
        keys_of(&events[0]),
        key_set(&[
            "cursor",
            "journeyID",
            "status",
            "nextAction",
            "sequence",
            "updatedAt"
        ])
    );
    let next = r.data()["next"].as_str().unwrap().to_owned();
    let r = client
        .call(
            "GET",
            &format!("/v1/events?after={}", events[0]["cursor"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.data()["events"][0]["journeyID"], "j-poll-2");
    assert_eq!(r.data()["next"], next.as_str());
}

#[tokio::test]
async fn a_long_poll_returns_early_on_news_and_empty_on_timeout() {
    let app = spawn_app().await;
    let user = new_user();
    let client = Client::bearer(&app, &user);
    // Nothing new: an empty list after the wait, and `next` keeps the caller's place.
    deliver(&app, &user, "j-wait", 1).await;
    let first = client.call("GET", "/v1/events", None).await;
    let after = first.data()["next"].as_str().unwrap().to_owned();
    let started = tokio::time::Instant::now();
    let r = client
        .call("GET", &format!("/v1/events?after={after}&waitSecs=1"), None)
        .await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(r.data()["events"], serde_json::json!([]));
    assert_eq!(r.data()["next"], after.as_str());
    // News while waiting: answered as soon as it is stored.
    let waiting = {
        let client = client.clone();
        let path = format!("/v1/events?after={after}&waitSecs=20");
        tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            (client.call("GET", &path, None).await, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    deliver(&app, &user, "j-wait", 2).await;
    let (r, took) = waiting.await.unwrap();
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(r.data()["events"][0]["sequence"], 2);
}

#[tokio::test]
async fn long_poll_parameters_are_checked() {
    let app = spawn_app().await;
    let client = Client::bearer(&app, &new_user());
    for bad in ["waitSecs=31", "waitSecs=-1", "waitSecs=soon", "after=abc"] {
        let r = client.call("GET", &format!("/v1/events?{bad}"), None).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.raw);
        assert_eq!(r.body["error"]["code"], "VALIDATION_ERROR");
    }
    // An empty feed and no cursor: nothing, and nowhere to continue from yet.
    let r = client.call("GET", "/v1/events", None).await;
    assert_eq!(r.data()["events"], serde_json::json!([]));
    assert_eq!(r.data()["next"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_cookie_long_poll_needs_x_csrf_like_other_cookie_calls() {
    let app = spawn_app().await;
    let user = new_user();
    let web = Client::cookie(&app, &user).await;
    deliver(&app, &user, "j-cookie", 1).await;
    // `event_source` sends the cookie alone.
    let res = web.event_source("/v1/events").send().await.unwrap();
    assert_refused(res, 401, "UNAUTHENTICATED").await;
    let r = web.call("GET", "/v1/events", None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.data()["events"][0]["journeyID"], "j-cookie");
}

#[tokio::test]
async fn the_ops_stream_is_capped_per_instance() {
    let app = spawn_app_with(base_options().set("ops.max_streams", "1")).await;
    let open = || {
        app.client
            .get(app.url("/v1/ops/events/stream"))
            .bearer_auth(DEV_OPS_TOKEN)
            .send()
    };
    let held = open().await.unwrap();
    assert_eq!(held.status().as_u16(), 200);
    let res = open().await.unwrap();
    assert_eq!(res.headers()["retry-after"], "5");
    let body = assert_refused(res, 503, "TOO_MANY_STREAMS").await;
    assert_eq!(body["error"]["retryable"], true);
    drop(held);
    let freed = eventually(5, || async {
        open().await.unwrap().status().as_u16() == 200
    })
    .await;
    assert!(freed, "a closed ops stream gives its place back");
}
