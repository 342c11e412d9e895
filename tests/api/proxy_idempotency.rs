//! Idempotency of mutating proxied calls (IETF `Idempotency-Key` semantics), against the real sandbox and Redis.

use serde_json::json;

use crate::helpers::*;

const JOURNEYS: &str = "/api/v1/headless/journeys";

fn journey_body() -> serde_json::Value {
    json!({"type": "PERSONAL_LOAN", "metadata": {"source": "idempotency-test"}})
}

fn posts(log: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    log.iter().filter(|r| r["method"] == "POST").collect()
}

#[tokio::test]
async fn a_mutating_call_without_a_key_is_400_and_reaches_nothing() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let r = c
            .call_keyed(method, "/v1/headless/profile", Some(json!({})), None)
            .await;
        assert_eq!(r.status, 400, "{method}: {}", r.raw);
        assert_eq!(r.body["error"]["code"], "IDEMPOTENCY_KEY_REQUIRED");
    }
    for bad in ["k".repeat(256), "tab\there".to_owned()] {
        let r = c
            .call_keyed(
                "POST",
                "/v1/headless/journeys",
                Some(journey_body()),
                Some(&bad),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.raw);
        assert_eq!(r.body["error"]["code"], "VALIDATION_ERROR");
    }
    assert!(upstream_log(&e.sb, "/").await.is_empty());
}

#[tokio::test]
async fn a_repeated_call_replays_the_stored_answer_and_says_so() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    let first = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("replay-1"),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(first.header("idempotency-retention"), Some("86400"));
    assert_eq!(first.header("idempotency-key"), Some("replay-1"));

    let again = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("replay-1"),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.raw, first.raw, "the stored body, byte for byte");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("idempotency-retention"), Some("86400"));
    assert_eq!(again.header("content-type"), first.header("content-type"));
    assert_eq!(posts(&upstream_log(&e.sb, JOURNEYS).await).len(), 1);

    // Same key, another path: another operation.
    let r = c
        .call_keyed(
            "PUT",
            "/v1/headless/profile",
            Some(json!({"address": {"city": "Pune"}})),
            Some("replay-1"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.header("idempotent-replayed"), None);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    let r = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("reuse-1"),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "GOLD_LOAN"})),
            Some("reuse-1"),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(posts(&upstream_log(&e.sb, JOURNEYS).await).len(), 1);

    // Keys are per partner user: another user's identical key is independent.
    let other = Client::bearer(&e.app, &new_user());
    let r = other
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "GOLD_LOAN"})),
            Some("reuse-1"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[tokio::test]
async fn an_upstream_error_answer_is_a_finished_operation_and_is_replayed() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    let bad = json!({"profile": {"pan": "not-a-pan"}});
    let first = c
        .call_keyed(
            "PUT",
            "/v1/headless/profile",
            Some(bad.clone()),
            Some("err-1"),
        )
        .await;
    assert_eq!(first.status, 400, "{}", first.raw);
    assert_eq!(first.body["error"]["code"], "VALIDATION_FAILED");
    assert_eq!(first.body["error"]["details"]["field"], "profile.pan");
    let again = c
        .call_keyed("PUT", "/v1/headless/profile", Some(bad), Some("err-1"))
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.raw, first.raw);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        upstream_log(&e.sb, "/api/v1/headless/profile").await.len(),
        1
    );
}

#[tokio::test]
async fn concurrent_calls_with_one_key_on_two_instances_make_one_upstream_call() {
    let sb = start_sandbox(fast_sandbox()).await;
    let options = options_for(&sb); // one Redis prefix for both instances
    let a = spawn_app_with(options.clone()).await;
    let b = spawn_app_with(options).await;
    let user = new_user();
    let ca = Client::bearer(&a, &user);
    let cb = Client::bearer(&b, &user);
    assert_eq!(
        ca.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    control(
        &sb,
        "/__sandbox/faults",
        json!({"latencyMs": 800, "latencyPathPrefix": JOURNEYS}),
    )
    .await;

    let send = |c: Client| async move {
        c.call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("race-1"),
        )
        .await
    };
    let (ra, rb) = tokio::join!(send(ca.clone()), send(cb.clone()));
    let mut statuses = vec![ra.status, rb.status];
    statuses.sort();
    assert!(
        statuses == vec![200, 409] || statuses == vec![200, 200],
        "{statuses:?}: {} / {}",
        ra.raw,
        rb.raw
    );
    for r in [&ra, &rb] {
        if r.status == 409 {
            assert_eq!(r.body["error"]["code"], "IDEMPOTENCY_KEY_IN_USE");
            assert!(r.header("retry-after").is_some());
        }
    }
    let winner = if ra.status == 200 { &ra } else { &rb };
    // The loser retries on the other instance and gets the winner's answer.
    let retry = cb
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("race-1"),
        )
        .await;
    assert_eq!(retry.status, 200);
    assert_eq!(retry.data()["journeyID"], winner.data()["journeyID"]);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        posts(&upstream_log(&sb, JOURNEYS).await).len(),
        1,
        "one upstream call"
    );
}

#[tokio::test]
async fn a_timed_out_call_releases_its_key_and_the_retry_is_one_operation_upstream() {
    let e = env_with(fast_sandbox(), |o| o.set("upstream.timeout_ms", "400")).await;
    let c = Client::bearer(&e.app, &new_user());
    assert_eq!(
        c.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    control(
        &e.sb,
        "/__sandbox/faults",
        json!({"latencyMs": 1000, "latencyPathPrefix": JOURNEYS}),
    )
    .await;
    let r = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("slow-1"),
        )
        .await;
    assert_eq!(r.status, 504, "{}", r.raw);
    // The upstream finished the slow call after we gave up.
    let finished = eventually(10, || async {
        posts(&upstream_log(&e.sb, JOURNEYS).await).len() == 1
    })
    .await;
    assert!(finished);
    control_delete(&e.sb, "/__sandbox/faults").await;

    let r = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("slow-1"),
        )
        .await;
    assert_eq!(r.status, 200, "the key was released: {}", r.raw);
    assert_eq!(r.header("idempotent-replayed"), None);
    let log = upstream_log(&e.sb, JOURNEYS).await;
    let posts = posts(&log);
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts[0]["headers"]["idempotency-key"], posts[1]["headers"]["idempotency-key"],
        "the same upstream key, so upstream replays instead of acting twice"
    );
}

#[tokio::test]
async fn a_missing_key_is_generated_and_published_when_configured() {
    let e = env_with(fast_sandbox(), |o| {
        o.set("proxy.idempotency_missing_key", "generate")
    })
    .await;
    let c = Client::bearer(&e.app, &new_user());
    let r = c
        .call_keyed("POST", "/v1/headless/journeys", Some(journey_body()), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let key = r.header("idempotency-key").expect("the generated key");
    assert!(uuid::Uuid::parse_str(key).is_ok());
    let log = upstream_log(&e.sb, JOURNEYS).await;
    assert!(log[0]["headers"]["idempotency-key"].is_string());
}

#[tokio::test]
async fn with_the_store_down_a_mutating_call_is_503_and_nothing_reaches_upstream() {
    let sb = start_sandbox(fast_sandbox()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn_app_with(
        base_options()
            .set("upstream.base_url", sb.base_url())
            .set("store.redis_url", format!("redis://127.0.0.1:{port}")),
    )
    .await;
    let c = Client::bearer(&app, &new_user());
    let r = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(journey_body()),
            Some("down-1"),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "STORE_UNAVAILABLE");
    assert!(upstream_log(&sb, "/").await.is_empty());
}
