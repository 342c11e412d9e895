//! The envelope and the correlation id on framework-level answers.

use crate::helpers::{base_options, mint_jwt, spawn_app_with, TestApp};

async fn app() -> TestApp {
    spawn_app_with(base_options().set("upstream.base_url", "http://127.0.0.1:9")).await
}

#[tokio::test]
async fn unknown_route_is_404_in_the_envelope_with_the_callers_correlation_id() {
    let app = app().await;
    let r = app
        .client
        .get(app.url("/no/such/path"))
        .header("X-Correlation-ID", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-correlation-id"], "abc");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    assert_eq!(body["correlationID"], "abc");
    assert!(body["data"].is_null());
    assert!(body["requestID"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(body["timestamp"].as_str().is_some_and(|s| s.ends_with('Z')));
}

#[tokio::test]
async fn wrong_method_is_405_in_the_envelope() {
    let app = app().await;
    let r = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let header = r.headers()["x-correlation-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED");
    assert_eq!(body["correlationID"], header.as_str());
}

#[tokio::test]
async fn an_invalid_correlation_id_is_replaced_by_a_uuid_v7() {
    let app = app().await;
    for bad in ["has space", &"x".repeat(129), "semi;colon"] {
        let r = app
            .client
            .get(app.url("/healthz"))
            .header("X-Correlation-ID", bad)
            .send()
            .await
            .unwrap();
        let echoed = r.headers()["x-correlation-id"].to_str().unwrap().to_owned();
        assert_ne!(echoed, bad);
        let u = uuid::Uuid::parse_str(&echoed).expect("a uuid");
        assert_eq!(u.get_version_num(), 7);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["correlationID"], echoed.as_str());
    }
}

#[tokio::test]
async fn a_valid_correlation_id_is_echoed_on_success() {
    let app = app().await;
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("X-Correlation-ID", "order-42:retry.1_a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-correlation-id"], "order-42:retry.1_a");
}

#[tokio::test]
async fn openapi_json_describes_every_public_path() {
    let app = app().await;
    let r = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: serde_json::Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/session",
        "/v1/session/refresh",
        "/v1/web/session",
        "/v1/headless/{path}",
        "/v1/webhooks/aarthik",
        "/v1/events/stream",
        "/v1/events",
        "/v1/ops/journeys/{journeyID}",
        "/v1/ops/users/{userID}/journeys",
        "/v1/ops/events",
        "/v1/ops/events/stream",
        "/v1/ops/dead-letters",
        "/v1/ops/journeys",
        "/v1/ops/login",
        "/v1/ops/logout",
        "/ops/",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is described");
    }
    // Every described path without parameters is actually routed (not the unknown-route 404).
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if path.contains('{') {
            continue;
        }
        let method = ops
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap()
            .to_uppercase();
        let r = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !message.starts_with("No route for"),
            "{method} {path} is routed"
        );
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_in_the_envelope_and_malformed_json_is_400() {
    let app = spawn_app_with(
        base_options()
            .set("upstream.base_url", "http://127.0.0.1:9")
            .set("server.max_json_bytes", "1024"),
    )
    .await;
    let jwt = mint_jwt(&app.settings, "u-big", 60);
    let r = app
        .client
        .post(app.url("/v1/session"))
        .bearer_auth(&jwt)
        .header("content-type", "application/json")
        .header("x-correlation-id", "big-1")
        .body(format!(
            "{{\"profile\":{{\"x\":\"{}\"}}}}",
            "a".repeat(4096)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["x-correlation-id"], "big-1");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(body["correlationID"], "big-1");
    let r = app
        .client
        .post(app.url("/v1/session"))
        .bearer_auth(&jwt)
        .header("content-type", "application/json")
        .body("{\"journeyType\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
}
