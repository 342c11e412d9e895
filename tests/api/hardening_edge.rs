//! The edge under attack: made-up methods cannot grow the metrics, refused partner JWTs all read
//! the same (and `nbf` and the lifetime cap are enforced), and a full in-memory store fails closed
//! without evicting anything.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::*;

fn offline() -> LoadOptions {
    base_options().set("upstream.base_url", "http://127.0.0.1:9")
}

async fn metrics_text(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn series(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("bff_http_requests_total{"))
        .count()
}

#[tokio::test]
async fn made_up_methods_are_405_and_grow_no_metric_series() {
    let app = spawn_app_with(offline()).await;
    let probe = |m: String, path: &'static str| {
        let app = &app;
        async move {
            let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
            app.client
                .request(method, app.url(path))
                .send()
                .await
                .unwrap()
        }
    };
    // Warm up: the one OTHER series per route and status exists after the first of each.
    for path in ["/healthz", "/v1/headless/journeys", "/nope"] {
        probe("WARMUP".into(), path).await;
    }
    let before = series(&metrics_text(&app).await);
    for i in 0..60 {
        for path in ["/healthz", "/v1/headless/journeys", "/nope"] {
            let r = probe(format!("MADEUP{i}"), path).await;
            assert_eq!(r.status(), 405, "{path}");
            assert_eq!(r.headers()["x-content-type-options"], "nosniff");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED");
        }
    }
    let text = metrics_text(&app).await;
    assert!(!text.contains("MADEUP"), "a made-up method became a label");
    assert!(text.contains(r#"method="OTHER""#), "{text}");
    // /metrics itself adds its own series at most.
    assert!(
        series(&text) <= before + 1,
        "{} > {before} + 1",
        series(&text)
    );
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn hs(claims: Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(dev::HS256_SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn every_refused_token_reads_the_same_and_nbf_and_the_lifetime_cap_are_enforced() {
    let app = spawn_app_with(offline()).await;
    let refused = [
        (
            "nbf a year ahead",
            hs(json!({"sub": "u", "exp": now() + 600, "nbf": now() + 31_536_000})),
        ),
        (
            "exp 100 years ahead",
            hs(json!({"sub": "u", "exp": now() + 3_153_600_000_i64})),
        ),
        (
            "lifetime 2 days",
            hs(json!({"sub": "u", "iat": now(), "exp": now() + 172_800})),
        ),
        ("expired", hs(json!({"sub": "u", "exp": now() - 3600}))),
        ("garbage", "not.a.jwt".to_owned()),
        ("wrong key", {
            let claims = json!({"sub": "u", "exp": now() + 600});
            encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(b"another-secret-that-is-long-enough-000000"),
            )
            .unwrap()
        }),
    ];
    let mut messages = std::collections::BTreeSet::new();
    for (what, token) in &refused {
        let r = app
            .client
            .get(app.url("/v1/session"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{what}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "UNAUTHENTICATED", "{what}");
        messages.insert(v["error"]["message"].as_str().unwrap().to_owned());
    }
    assert_eq!(messages.len(), 1, "one generic message: {messages:?}");
    // A day-long token issued now, and one without iat within the cap, are accepted.
    for token in [
        hs(json!({"sub": "u", "iat": now(), "exp": now() + 86_400})),
        hs(json!({"sub": "u", "exp": now() + 3600, "nbf": now() - 10})),
    ] {
        let r = app
            .client
            .get(app.url("/v1/session"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("No borrower session"),
            "{v}"
        );
    }
}

#[tokio::test]
async fn a_full_memory_store_fails_closed_and_keeps_every_unexpired_key() {
    let app = spawn_app_with(
        offline()
            .set("store.redis_url", "")
            .set("store.memory_max_keys", "8"),
    )
    .await;
    let first = Client::cookie(&app, &new_user()).await;
    let mut refused = None;
    for _ in 0..50 {
        let r = app
            .client
            .post(app.url("/v1/web/session"))
            .bearer_auth(jwt(&app, &new_user()))
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("a full store refuses new keys");
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "STORE_UNAVAILABLE");
    // The first user's web session was not evicted to make room.
    let r = reply(first.request("GET", "/v1/session").send().await.unwrap()).await;
    assert_eq!(r.status, 401);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("No borrower session"),
        "{}",
        r.raw
    );
}
