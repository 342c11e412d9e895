//! `/v1/headless/*` under attack, against the real sandbox: methods other than the six are 405
//! without an upstream call, a path the upstream always answers 401 cannot loop the session,
//! another user's journey in any spelling is never forwarded, and mutating calls have a per-user
//! budget.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn only_the_six_methods_are_proxied_and_nothing_else_reaches_upstream() {
    let e = env_with(fast_sandbox(), |o| {
        o.set("web.allowed_origins", "https://app.example")
    })
    .await;
    let c = Client::bearer(&e.app, &new_user());
    assert_eq!(
        c.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    let before = upstream_log(&e.sb, "/api/v1/headless/journeys").await.len();
    for method in ["PROPFIND", "TRACE", "OPTIONS", "FOO", "LINK"] {
        let r = reply(
            c.request(method, "/v1/headless/journeys")
                .header("Idempotency-Key", "m-1")
                .body("{}")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 405, "{method}: {}", r.raw);
        assert_eq!(r.body["error"]["code"], "METHOD_NOT_ALLOWED", "{method}");
    }
    let after = upstream_log(&e.sb, "/api/v1/headless/journeys").await.len();
    assert_eq!(after, before, "no refused method reached upstream");
    // A CORS preflight from a listed origin is still answered.
    let r = e
        .app
        .client
        .request(reqwest::Method::OPTIONS, e.app.url("/v1/headless/journeys"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn a_path_the_upstream_always_refuses_replaces_the_session_once_and_never_locks_out() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    assert_eq!(
        c.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    control(
        &e.sb,
        "/__sandbox/faults",
        json!({"failNext": {"count": 1000, "status": 401,
                            "pathPrefix": "/api/v1/headless/journeys/always-401"}}),
    )
    .await;
    let sessions_before = upstream_log(&e.sb, UPSTREAM_SESSIONS).await.len();
    for i in 0..35 {
        let r = c
            .call("GET", "/v1/headless/journeys/always-401/state", None)
            .await;
        assert_eq!(r.status, 502, "call {i}: {}", r.raw);
        assert_eq!(r.body["error"]["code"], "UPSTREAM_AUTH_FAILED", "call {i}");
    }
    let session_calls = upstream_log(&e.sb, UPSTREAM_SESSIONS).await.len() - sessions_before;
    assert_eq!(
        session_calls, 1,
        "one replacement for the first token, none after"
    );
    let r = c.call("GET", "/v1/headless/journeys", None).await;
    assert_eq!(r.status, 200, "the user is not locked out: {}", r.raw);
}

#[tokio::test]
async fn another_users_journey_in_any_spelling_is_never_forwarded() {
    let e = env().await;
    let owner = Client::bearer(&e.app, &new_user());
    let r = owner
        .call(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "PERSONAL_LOAN"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let jid = r.data()["journeyID"].as_str().unwrap().to_owned();
    let other = Client::bearer(&e.app, &new_user());
    let upper = jid.to_ascii_uppercase();
    let r = other
        .call("GET", &format!("/v1/headless/journeys/{upper}/state"), None)
        .await;
    assert_eq!(r.status, 404, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "JOURNEY_NOT_FOUND");
    for bad in [
        format!("/v1/headless/journeys/{jid}%20/state"),
        format!("/v1/headless/journeys/{upper}%20/state"),
        format!("/v1/headless/journeys/{jid}%00/state"),
        format!("/v1/headless/journeys/{}/state", "a".repeat(129)),
    ] {
        let r = other.call("GET", &bad, None).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.raw);
        assert_eq!(r.body["error"]["code"], "VALIDATION_ERROR");
    }
    let forwarded: Vec<_> = upstream_log(&e.sb, "/api/v1/headless/journeys/")
        .await
        .into_iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .unwrap_or("")
                .to_ascii_lowercase()
                .contains(&jid)
        })
        .collect();
    assert!(forwarded.is_empty(), "forwarded: {forwarded:?}");
}

#[tokio::test]
async fn mutating_calls_beyond_the_per_user_budget_are_429_with_retry_after() {
    let e = env_with(fast_sandbox(), |o| o.set("proxy.mutations_per_minute", "2")).await;
    let c = Client::bearer(&e.app, &new_user());
    // Five calls span at most two one-minute windows, so at least one is over the budget of 2.
    let mut limited = None;
    for _ in 0..5 {
        let r = c
            .call(
                "PUT",
                "/v1/headless/profile",
                Some(json!({"address": {"city": "Pune"}})),
            )
            .await;
        if r.status == 429 {
            limited = Some(r);
        }
    }
    let r = limited.expect("a call over the budget is refused");
    assert_eq!(r.body["error"]["code"], "RATE_LIMITED");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let puts = upstream_log(&e.sb, "/api/v1/headless/profile").await.len();
    assert!(puts <= 4, "refused calls never reached upstream: {puts}");
    let other = Client::bearer(&e.app, &new_user());
    let r = other
        .call(
            "PUT",
            "/v1/headless/profile",
            Some(json!({"address": {"city": "Pune"}})),
        )
        .await;
    assert_ne!(
        r.status, 429,
        "other users keep their own budget: {}",
        r.raw
    );
}
