//! The `/__sandbox` test controls: request log, injected failures and latency.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_request_log_records_calls_without_their_tokens() {
    let sb = spawn().await;
    let s = sb.session("log-1").await;
    sb.get(&s.token, "/api/v1/headless/journeys").await;
    sb.call(
        "GET",
        "/api/v1/headless/journeys",
        Auth::Bearer("st_nope"),
        None,
        None,
    )
    .await;
    sb.call(
        "GET",
        "/api/v1/headless/journeys?x=1",
        Auth::None,
        None,
        None,
    )
    .await;

    let r = sb.control("GET", "/__sandbox/requests", None).await;
    let list = r.data()["requests"].as_array().unwrap().clone();
    assert_eq!(list.len(), 4, "control calls are not logged: {list:?}");
    let auths: Vec<_> = list.iter().map(|e| e["auth"].as_str().unwrap()).collect();
    assert_eq!(auths, ["api_key", "session", "invalid", "none"]);
    assert_eq!(list[0]["method"], "POST");
    assert_eq!(list[0]["path"], "/api/v1/headless/sessions");
    assert_eq!(list[0]["status"], 200);
    assert!(list[0]["headers"]["idempotency-key"].is_string());
    assert_eq!(list[2]["status"], 401);
    assert_eq!(list[3]["query"], "x=1");
    let seqs: Vec<_> = list.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first");
    let raw = r.body.to_string();
    assert!(
        !raw.contains(&s.token) && !raw.contains("st_nope") && !raw.contains(API_KEY),
        "no credentials logged"
    );
    assert!(list
        .iter()
        .all(|e| e["headers"].get("authorization").is_none()));

    let r = sb
        .control(
            "GET",
            "/__sandbox/requests?limit=2&path_prefix=/api/v1/headless/journeys",
            None,
        )
        .await;
    let list = r.data()["requests"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["query"], "x=1", "the most recent ones");
    sb.control("DELETE", "/__sandbox/requests", None).await;
    assert_eq!(
        sb.control("GET", "/__sandbox/requests", None).await.data()["requests"],
        json!([])
    );
}

#[tokio::test]
async fn fail_next_answers_enveloped_errors_for_matching_requests_only() {
    let sb = spawn().await;
    let s = sb.session("fail-1").await;
    sb.control("POST", "/__sandbox/faults", Some(json!({ "failNext": { "count": 2, "status": 503, "pathPrefix": "/api/v1/headless/journeys" } }))).await;
    assert_eq!(
        sb.get(&s.token, "/api/v1/headless/profile").await.status,
        200,
        "other paths are unaffected"
    );
    for _ in 0..2 {
        let r = sb
            .post(&s.token, "/api/v1/headless/journeys", json!({}))
            .await;
        assert_eq!((r.status, r.code()), (503, "INTERNAL_ERROR"));
    }
    assert_eq!(
        sb.get(&s.token, "/api/v1/headless/journeys").await.data()["journeys"],
        json!([]),
        "failed calls did nothing"
    );
    let key = "after-fault";
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/journeys",
            Auth::Bearer(&s.token),
            Some(key),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 200);

    sb.control(
        "POST",
        "/__sandbox/faults",
        Some(json!({ "failNext": { "count": 1, "status": 429 } })),
    )
    .await;
    let r = sb.get(&s.token, "/api/v1/headless/journeys").await;
    assert_eq!((r.status, r.code()), (429, "RATE_LIMITED"));
    assert!(r.headers.contains_key("retry-after"));
    let log = sb.control("GET", "/__sandbox/requests?limit=1", None).await;
    assert_eq!(
        log.data()["requests"][0]["status"],
        429,
        "failed requests are logged"
    );
}

#[tokio::test]
async fn latency_delays_matching_requests_until_cleared() {
    let sb = spawn().await;
    let s = sb.session("latency-1").await;
    sb.control(
        "POST",
        "/__sandbox/faults",
        Some(json!({ "latencyMs": 300, "latencyPathPrefix": "/api/v1/headless/journeys" })),
    )
    .await;
    let started = Instant::now();
    sb.get(&s.token, "/api/v1/headless/journeys").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let r = sb.control("DELETE", "/__sandbox/faults", None).await;
    assert_eq!(r.data()["faults"]["latencyMs"], 0);
    let r = sb
        .call(
            "POST",
            "/__sandbox/faults",
            Auth::None,
            None,
            Some(json!({ "failNext": { "count": 1, "status": 200 } })),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"));
    assert_eq!(r.field(), "failNext.status");
    let r = sb
        .call(
            "POST",
            "/__sandbox/faults",
            Auth::None,
            None,
            Some(json!({ "typo": 1 })),
        )
        .await;
    assert_eq!(r.status, 400, "unknown fault names are refused");
}

#[tokio::test]
async fn the_step_complete_control_advances_the_current_step_and_refuses_a_later_one() {
    let sb = spawn().await;
    let (s, jid) = sb.journey_with_offers("ctl-steps-1").await;
    let offer_id = sb.offers(&s.token, &jid).await[0]["offerID"]
        .as_str()
        .unwrap()
        .to_owned();
    sb.post(
        &s.token,
        &format!("/api/v1/headless/offers/{offer_id}/proceed"),
        json!({}),
    )
    .await;
    let steps = sb
        .get(
            &s.token,
            &format!("/api/v1/headless/offers/{offer_id}/steps"),
        )
        .await
        .data()["steps"]
        .clone();
    let later = steps[3]["stepID"].as_str().unwrap();
    assert_eq!(steps[3]["status"], "PENDING");
    let r = sb
        .call(
            "POST",
            &format!("/__sandbox/steps/{later}/complete"),
            Auth::None,
            None,
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "INVALID_STATE"));
    for step in steps.as_array().unwrap() {
        let id = step["stepID"].as_str().unwrap();
        let r = sb
            .control("POST", &format!("/__sandbox/steps/{id}/complete"), None)
            .await;
        assert_eq!(r.data()["status"], "SUCCESS", "{}", r.body);
    }
    assert_eq!(sb.state(&s.token, &jid).await["status"], "DISBURSED");
}

#[tokio::test]
async fn an_injected_401_carries_the_code_of_the_route_s_credential() {
    let sb = spawn().await;
    let s = sb.session("fault-401").await;
    sb.control(
        "POST",
        "/__sandbox/faults",
        Some(json!({ "failNext": { "count": 1, "status": 401 } })),
    )
    .await;
    let r = sb.get(&s.token, "/api/v1/headless/journeys").await;
    assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_SESSION"));
    sb.control(
        "POST",
        "/__sandbox/faults",
        Some(json!({ "failNext": { "count": 1, "status": 401 } })),
    )
    .await;
    let key = uuid::Uuid::new_v4().to_string();
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::Key,
            Some(&key),
            Some(json!({ "borrowerExternalID": "fault-401" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_API_KEY"));
}
