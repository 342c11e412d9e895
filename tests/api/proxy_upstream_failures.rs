//! `/v1/headless/*` when the upstream misbehaves: its error answers pass through, a slow upstream
//! is 504, a missing one 502, an expired session is refreshed once, and transient failures are
//! retried within the bound.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn upstream_error_answers_pass_through_with_their_status_body_and_headers() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    let r = c
        .call(
            "PUT",
            "/v1/headless/profile",
            Some(json!({"profile": {"pan": "ABCDE1234"}})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "VALIDATION_FAILED");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("PAN"));
    // The vendor's whole error object reaches the app: `retryable` and `details` too.
    assert_eq!(r.body["error"]["retryable"], false);
    assert_eq!(r.body["error"]["details"]["field"], "profile.pan");
    assert!(r.body["data"].is_null() && r.body["requestID"].as_str().unwrap().starts_with("req_"));
    let r = c
        .call(
            "GET",
            "/v1/headless/journeys/00000000-0000-4000-8000-000000000000/state",
            None,
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.raw);
    assert_eq!(
        r.body["error"]["code"], "NOT_FOUND",
        "the upstream's own code"
    );
    assert!(r.header("x-correlation-id").is_some());
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test]
async fn upstream_slower_than_the_timeout_is_504() {
    let e = env_with(fast_sandbox(), |o| o.set("upstream.timeout_ms", "400")).await;
    let c = Client::bearer(&e.app, &new_user());
    // A session first, so only the proxied call meets the delay.
    let r = c.call("GET", "/v1/headless/journeys", None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    control(
        &e.sb,
        "/__sandbox/faults",
        json!({"latencyMs": 1500, "latencyPathPrefix": "/api/v1/headless/journeys"}),
    )
    .await;
    let started = std::time::Instant::now();
    let r = c.call("GET", "/v1/headless/journeys", None).await;
    assert_eq!(r.status, 504, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "UPSTREAM_TIMEOUT");
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1400),
        "not retried"
    );
}

#[tokio::test]
async fn upstream_down_is_502() {
    // Nothing listens on the upstream port at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app =
        spawn_app_with(base_options().set("upstream.base_url", format!("http://127.0.0.1:{port}")))
            .await;
    let c = Client::bearer(&app, &new_user());
    let r = c.call("GET", "/v1/headless/journeys", None).await;
    assert_eq!(r.status, 502, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "UPSTREAM_UNAVAILABLE");

    // The upstream goes away after the session was made: the proxied call itself is 502.
    let Env { app, sb } = env().await;
    let c = Client::bearer(&app, &new_user());
    assert_eq!(
        c.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    drop(sb);
    let gone = eventually(10, || async {
        c.call("GET", "/v1/headless/journeys", None).await.status == 502
    })
    .await;
    assert!(gone, "GET answers 502 once the upstream is down");
    let r = c
        .call_keyed(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "PERSONAL_LOAN"})),
            Some("down-1"),
        )
        .await;
    assert_eq!(r.status, 502, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "UPSTREAM_UNAVAILABLE");
}

#[tokio::test]
async fn an_upstream_401_refreshes_the_session_once_and_the_retry_succeeds() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    let r = c
        .call(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "PERSONAL_LOAN"})),
        )
        .await;
    let jid = r.data()["journeyID"].as_str().unwrap().to_owned();
    let expired = control(&e.sb, "/__sandbox/tokens/expire", json!({})).await;
    assert!(expired["data"]["expiredSessionTokens"].as_u64().unwrap() >= 1);
    let seen_before = upstream_log(&e.sb, "/api/v1/headless/sessions").await.len();

    let state = format!("/v1/headless/journeys/{jid}/state");
    let r = c.call("GET", &state, None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.data()["journeyID"], jid.as_str());

    let sessions = upstream_log(&e.sb, "/api/v1/headless/sessions").await;
    let new: Vec<_> = sessions[seen_before..].iter().collect();
    assert_eq!(new.len(), 1, "exactly one session call: {new:?}");
    assert_eq!(new[0]["path"], "/api/v1/headless/sessions/refresh");
    assert_eq!(new[0]["auth"], "refresh", "Bearer rt_*, never the key");
    assert_eq!(new[0]["status"], 200);
    assert!(new[0]["headers"]["idempotency-key"].is_string());
    let upstream_state = format!("{HEADLESS}/journeys/{jid}/state");
    let tries: Vec<u64> = upstream_log(&e.sb, &upstream_state)
        .await
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(tries, vec![401, 200]);

    // A mutating call meets the same: one refresh, and one operation upstream.
    control(&e.sb, "/__sandbox/tokens/expire", json!({})).await;
    let r = c
        .call(
            "PUT",
            "/v1/headless/profile",
            Some(json!({"address": {"city": "Pune"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let puts = upstream_log(&e.sb, "/api/v1/headless/profile").await;
    let statuses: Vec<u64> = puts.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, vec![401, 200]);
    assert_eq!(
        puts[0]["headers"]["idempotency-key"], puts[1]["headers"]["idempotency-key"],
        "the retry carries the same upstream key"
    );
}

#[tokio::test]
async fn transient_upstream_failures_are_retried_within_the_bound() {
    let e = env_with(fast_sandbox(), |o| o.set("proxy.max_retries", "2")).await;
    let c = Client::bearer(&e.app, &new_user());
    c.call("GET", "/v1/headless/journeys", None).await;
    let path = "/api/v1/headless/journeys";

    control(
        &e.sb,
        "/__sandbox/faults",
        json!({"failNext": {"count": 2, "status": 503, "pathPrefix": path}}),
    )
    .await;
    let r = c
        .call(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "PERSONAL_LOAN"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let posts: Vec<_> = upstream_log(&e.sb, path)
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST")
        .collect();
    let statuses: Vec<u64> = posts
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![503, 503, 200]);
    let keys: std::collections::HashSet<_> = posts
        .iter()
        .map(|r| r["headers"]["idempotency-key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 1, "every attempt carries the same key");

    // Past the bound, the last upstream answer is passed through.
    control(
        &e.sb,
        "/__sandbox/faults",
        json!({"failNext": {"count": 3, "status": 503, "pathPrefix": path}}),
    )
    .await;
    let before = upstream_log(&e.sb, path).await.len();
    let r = c.call("GET", "/v1/headless/journeys", None).await;
    assert_eq!(r.status, 503, "{}", r.raw);
    assert_eq!(upstream_log(&e.sb, path).await.len() - before, 3);
}
