//! Liveness, readiness and metrics.

use crate::helpers::{base_options, spawn_app_with, LoadOptions};

fn offline_upstream() -> LoadOptions {
    base_options().set("upstream.base_url", "http://127.0.0.1:9")
}

#[tokio::test]
async fn healthz_and_readyz_answer_200_with_redis_up() {
    let app = spawn_app_with(offline_upstream()).await;
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["data"]["status"], "ok");
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["data"]["store"], "redis");
}

#[tokio::test]
async fn readyz_is_503_store_unavailable_when_redis_is_down_but_healthz_stays_200() {
    let app = spawn_app_with(
        offline_upstream()
            .set("store.redis_url", "redis://127.0.0.1:1")
            .set("store.connect_timeout_ms", "200"),
    )
    .await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "STORE_UNAVAILABLE");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "5xx body reveals nothing internal: {body}"
    );
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn readyz_works_with_the_in_memory_store() {
    let app = spawn_app_with(offline_upstream().set("store.redis_url", "")).await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["data"]["store"], "memory");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_with_latency_histograms() {
    let app = spawn_app_with(offline_upstream()).await;
    for _ in 0..3 {
        app.client.get(app.url("/healthz")).send().await.unwrap();
    }
    app.client.get(app.url("/nope/123")).send().await.unwrap();
    app.client
        .get(app.url("/v1/headless/journeys/j-1/state"))
        .send()
        .await
        .unwrap();
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"bff_http_requests_total{method="GET",route="/healthz",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="unmatched",status="404""#),
        "unknown paths share one label"
    );
    assert!(
        text.contains(r#"route="/v1/headless/{path}",status="401""#),
        "every proxied path shares the proxy's label: {text}"
    );
    assert!(text.contains("bff_http_request_duration_seconds_bucket"));
}
