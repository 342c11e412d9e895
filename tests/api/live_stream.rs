//! `GET /v1/events/stream`: a partner user's own journey updates as Server-Sent Events — delivery
//! after the webhook's acknowledgement, isolation between users, resume, stale snapshots held
//! back, cookie mode without `X-CSRF`, the per-user cap, the lifetime, and two instances on one
//! Redis.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

const SOON: Duration = Duration::from_secs(2);

/// Deliver one signed snapshot of `journey` for `user` (the borrowerExternalID) and check the 200.
async fn deliver(app: &TestApp, user: &str, journey: &str, sequence: u64, status: &str) {
    let body = snapshot_body(&new_event_id(), journey, sequence, status, user);
    let res = app.post_webhook(&body).await;
    assert_eq!(res.status().as_u16(), 200, "webhook stored");
}

/// The user's updates so far, through the long poll (no wait).
async fn cursors(c: &Client) -> Vec<String> {
    let r = c.call("GET", "/v1/events", None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    r.data()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_update_reaches_the_users_stream_within_two_seconds_of_the_acknowledgement() {
    let app = spawn_app().await;
    let user = new_user();
    let mut stream = Client::bearer(&app, &user)
        .open_stream("/v1/events/stream")
        .await;
    deliver(&app, &user, "j-live-1", 3, "OFFERS_AVAILABLE").await;
    let acknowledged = tokio::time::Instant::now();
    let frame = stream
        .next_frame(SOON)
        .await
        .expect("the update within 2 s");
    assert!(acknowledged.elapsed() < SOON);
    assert_eq!(frame.event, "journey.update");
    assert_eq!(frame.data["cursor"], frame.id.as_str());
    assert_eq!(frame.data["journeyID"], "j-live-1");
    assert_eq!(frame.data["status"], "OFFERS_AVAILABLE");
    assert_eq!(frame.data["nextAction"], "VIEW_OFFERS");
    assert_eq!(frame.data["sequence"], 3);
    assert!(frame.data["updatedAt"].is_string());
    assert_eq!(
        keys_of(&frame.data),
        key_set(&[
            "cursor",
            "journeyID",
            "status",
            "nextAction",
            "sequence",
            "updatedAt"
        ]),
        "never the raw snapshot"
    );
}

#[tokio::test]
async fn a_user_sees_only_their_own_journeys() {
    let app = spawn_app().await;
    let (alice, bob) = (new_user(), new_user());
    let mut alice_stream = Client::bearer(&app, &alice)
        .open_stream("/v1/events/stream")
        .await;
    let mut bob_stream = Client::bearer(&app, &bob)
        .open_stream("/v1/events/stream")
        .await;
    deliver(&app, &alice, "j-alice", 1, "PROFILE_PENDING").await;
    let frame = alice_stream.next_frame(SOON).await.expect("alice's update");
    assert_eq!(frame.data["journeyID"], "j-alice");
    deliver(&app, &bob, "j-bob", 1, "PROFILE_PENDING").await;
    let frame = bob_stream.next_frame(SOON).await.expect("bob's update");
    assert_eq!(frame.data["journeyID"], "j-bob", "bob never sees alice's");
    assert!(
        alice_stream
            .next_frame(Duration::from_millis(500))
            .await
            .is_none(),
        "alice never sees bob's"
    );
    let r = Client::bearer(&app, &bob)
        .call("GET", "/v1/events", None)
        .await;
    let journeys: Vec<&Value> = r.data()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["journeyID"])
        .collect();
    assert_eq!(journeys, [&Value::from("j-bob")]);
}

#[tokio::test]
async fn a_stream_resumes_after_last_event_id_then_follows_live() {
    let app = spawn_app().await;
    let user = new_user();
    let client = Client::bearer(&app, &user);
    for seq in 1..=3 {
        deliver(&app, &user, "j-resume", seq, &format!("S{seq}")).await;
    }
    let cursors = cursors(&client).await;
    assert_eq!(cursors.len(), 3);
    // Last-Event-ID (an EventSource reconnect) wins over the URL's `after`.
    let rb = client
        .event_source(&format!("/v1/events/stream?after={}", cursors[2]))
        .header("Last-Event-ID", &cursors[0]);
    let mut stream = Sse::open(rb).await;
    let frames = stream.frames(2, SOON).await;
    assert_eq!(frames[0].id, cursors[1]);
    assert_eq!(frames[0].data["sequence"], 2);
    assert_eq!(frames[1].id, cursors[2]);
    deliver(&app, &user, "j-resume", 4, "S4").await;
    let live = stream.next_frame(SOON).await.expect("live update");
    assert_eq!(live.data["sequence"], 4);
    // `?after=` alone resumes too; a cursor this feed never issued is refused before streaming.
    let mut stream = client
        .open_stream(&format!("/v1/events/stream?after={}", cursors[2]))
        .await;
    assert_eq!(stream.frames(1, SOON).await[0].data["sequence"], 4);
    let res = client
        .event_source("/v1/events/stream")
        .header("Last-Event-ID", "nonsense")
        .send()
        .await
        .unwrap();
    assert_refused(res, 400, "VALIDATION_ERROR").await;
}

#[tokio::test]
async fn stale_and_repeated_snapshots_are_not_pushed() {
    let app = spawn_app().await;
    let user = new_user();
    let mut stream = Client::bearer(&app, &user)
        .open_stream("/v1/events/stream")
        .await;
    deliver(&app, &user, "j-stale", 5, "OFFERS_AVAILABLE").await;
    // Older than what was pushed: stored for ops, never sent to the app.
    deliver(&app, &user, "j-stale", 3, "PROFILE_PENDING").await;
    // The same event delivered twice: one update.
    let again = snapshot_body(&new_event_id(), "j-stale", 6, "OFFER_SELECTED", &user);
    for _ in 0..2 {
        assert_eq!(app.post_webhook(&again).await.status().as_u16(), 200);
    }
    let frames = stream.frames(2, SOON).await;
    let seen: Vec<u64> = frames
        .iter()
        .map(|f| f.data["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(seen, [5, 6]);
    assert!(stream
        .next_frame(Duration::from_millis(500))
        .await
        .is_none());
    let feed = app.ops_feed_of("j-stale").await;
    assert_eq!(feed.len(), 3, "ops still sees the stale one");
}

#[tokio::test]
async fn a_web_app_streams_with_the_cookie_alone() {
    let app = spawn_app().await;
    let user = new_user();
    let web = Client::cookie(&app, &user).await;
    // No X-CSRF: EventSource cannot send it.
    let mut stream = web.open_stream("/v1/events/stream").await;
    deliver(&app, &user, "j-web", 1, "PROFILE_PENDING").await;
    let frame = stream.next_frame(SOON).await.expect("update over cookie");
    assert_eq!(frame.data["journeyID"], "j-web");
    // Without any credentials: 401.
    let res = app
        .client
        .get(app.url("/v1/events/stream"))
        .send()
        .await
        .unwrap();
    assert_refused(res, 401, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn each_user_may_hold_a_limited_number_of_streams() {
    let app = spawn_app_with(base_options().set("events.max_streams_per_user", "2")).await;
    let user = new_user();
    let client = Client::bearer(&app, &user);
    let first = client.open_stream("/v1/events/stream").await;
    let _second = client.open_stream("/v1/events/stream").await;
    let res = client
        .event_source("/v1/events/stream")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("retry-after").is_some());
    assert_refused(res, 429, "RATE_LIMITED").await;
    // Other users are not affected; the long poll is not a stream.
    Client::bearer(&app, &new_user())
        .open_stream("/v1/events/stream")
        .await;
    assert_eq!(client.call("GET", "/v1/events", None).await.status, 200);
    // A closed stream gives its place back.
    drop(first);
    let reopened = eventually(5, || async {
        let res = client
            .event_source("/v1/events/stream")
            .send()
            .await
            .unwrap();
        res.status().as_u16() == 200
    })
    .await;
    assert!(reopened, "a place frees up once a stream is closed");
}

#[tokio::test]
async fn a_stream_ends_after_its_lifetime_with_a_retry_hint() {
    let app = spawn_app_with(base_options().set("ops.stream_max_secs", "1")).await;
    let mut stream = Client::bearer(&app, &new_user())
        .open_stream("/v1/events/stream")
        .await;
    stream.until_closed(Duration::from_secs(5)).await;
    assert!(stream.raw.starts_with("retry: "), "{}", stream.raw);
    assert!(
        stream
            .raw
            .trim_end()
            .lines()
            .any(|l| l.starts_with("retry: ")),
        "{}",
        stream.raw
    );
    assert!(stream.raw.contains("reconnect"), "{}", stream.raw);
}

#[tokio::test]
async fn a_webhook_on_one_instance_reaches_a_stream_held_on_another() {
    let options = base_options();
    let (a, b) = (
        spawn_app_with(options.clone()).await,
        spawn_app_with(options).await,
    );
    let user = new_user();
    let mut stream = Client::bearer(&b, &user)
        .open_stream("/v1/events/stream")
        .await;
    deliver(&a, &user, "j-two", 7, "OFFERS_AVAILABLE").await;
    let acknowledged = tokio::time::Instant::now();
    let frame = stream
        .next_frame(SOON)
        .await
        .expect("the update crosses instances");
    assert!(acknowledged.elapsed() < SOON);
    assert_eq!(frame.data["journeyID"], "j-two");
    assert_eq!(frame.data["sequence"], 7);
}

#[tokio::test]
async fn the_in_memory_store_delivers_in_process() {
    let app = spawn_app_with(base_options().set("store.redis_url", "")).await;
    let user = new_user();
    let mut stream = Client::bearer(&app, &user)
        .open_stream("/v1/events/stream")
        .await;
    deliver(&app, &user, "j-mem", 1, "PROFILE_PENDING").await;
    let frame = stream.next_frame(SOON).await.expect("in-process delivery");
    assert_eq!(frame.data["journeyID"], "j-mem");
}

#[tokio::test]
async fn a_listed_origin_may_open_the_stream_with_credentials() {
    let origin = "http://localhost:3000";
    let app = spawn_app_with(base_options().set("web.allowed_origins", origin)).await;
    let web = Client::cookie(&app, &new_user()).await;
    let res = web
        .event_source("/v1/events/stream")
        .header("Origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], origin);
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    // A reconnect carries Last-Event-ID; a preflight for it is allowed.
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/events/stream"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "last-event-id")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("last-event-id"), "{allowed}");
}
