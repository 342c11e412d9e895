//! The envelope and the correlation id on framework-level answers.

use crate::helpers::{base_options, spawn_app_with, TestApp};

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
