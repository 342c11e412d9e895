//! Borrower sessions when something is short or broken: the per-user budget of upstream calls, a
//! rotated-out API key, Redis down, and the upstream down or too slow.

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn the_per_user_budget_of_upstream_calls_answers_429_with_retry_after() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(
        options_for(&sb)
            .set("session.reuse_window_secs", "0")
            .set("session.upstream_calls_per_minute", "2"),
    )
    .await;
    let t = jwt(&app, "user-limited");
    assert_eq!(post_as(&app, "/v1/session", &t).await.0, 200);
    assert_eq!(post_as(&app, "/v1/session/refresh", &t).await.0, 200);
    let r = app
        .client
        .post(app.url("/v1/session/refresh"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "RATE_LIMITED");
    // A fresh-cache hit does not count and still works.
    assert_eq!(post_as(&app, "/v1/session", &t).await.0, 200);
    // Another user has a budget of their own.
    assert_eq!(
        post_as(&app, "/v1/session", &jwt(&app, "someone-else"))
            .await
            .0,
        200
    );
    assert_eq!(
        count(
            &upstream_log(&sb, UPSTREAM_SESSIONS).await,
            "POST",
            UPSTREAM_REFRESH
        ),
        1
    );
}

#[tokio::test]
async fn a_secondary_key_is_used_when_upstream_rejects_the_primary() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(
        options_for(&sb)
            .set("upstream.api_key", "sk_old_rotated_out")
            .set("upstream.secondary_api_key", dev::API_KEY),
    )
    .await;
    let (s, b) = post_as(&app, "/v1/session", &jwt(&app, "user-rotation")).await;
    assert_eq!(s, 200, "{b}");
    let reqs = upstream_log(&sb, UPSTREAM_SESSIONS).await;
    let statuses: Vec<_> = reqs.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, vec![401, 200]);
}

#[tokio::test]
async fn redis_down_is_503_store_unavailable_and_nothing_reaches_upstream() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(
        options_for(&sb)
            .set("store.redis_url", "redis://127.0.0.1:1")
            .set("store.connect_timeout_ms", "200"),
    )
    .await;
    let (s, b) = post_as(&app, "/v1/session", &jwt(&app, "user-no-redis")).await;
    assert_eq!(s, 503, "{b}");
    assert_eq!(b["error"]["code"], "STORE_UNAVAILABLE");
    assert!(upstream_log(&sb, UPSTREAM_SESSIONS).await.is_empty());
}

#[tokio::test]
async fn upstream_down_is_502_and_upstream_too_slow_is_504() {
    let down = spawn_app_with(base_options().set("upstream.base_url", "http://127.0.0.1:9")).await;
    let (s, b) = post_as(&down, "/v1/session", &jwt(&down, "user-down")).await;
    assert_eq!(s, 502, "{b}");
    assert_eq!(b["error"]["code"], "UPSTREAM_UNAVAILABLE");
    assert!(!b.to_string().contains("127.0.0.1"), "{b}");

    let sb = start_sandbox(SandboxConfig::default()).await;
    control(&sb, "/__sandbox/faults", json!({"latencyMs": 1500})).await;
    let slow = spawn_app_with(options_for(&sb).set("upstream.timeout_ms", "300")).await;
    let (s, b) = post_as(&slow, "/v1/session", &jwt(&slow, "user-slow")).await;
    assert_eq!(s, 504, "{b}");
    assert_eq!(b["error"]["code"], "UPSTREAM_TIMEOUT");
    let r = slow
        .client
        .get(slow.url("/v1/session"))
        .bearer_auth(jwt(&slow, "user-slow"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no half-written record");
}
