//! The service on every Redis deployment it supports: TLS (with a CA and a client certificate),
//! Cluster (every key an operation touches together in one slot) and Sentinel — the whole
//! borrower journey through the proxy, its webhooks, and the ops API on each. Plus what a wrong
//! TLS or mode set-up does.

use std::time::Duration;

use crate::helpers::*;

/// A journey walked through the proxy (sessions, idempotency, ownership), a browser login, and
/// the sandbox's webhooks in the ops feed: every capability's keys in use.
async fn the_whole_service_runs_on(mode: Mode) {
    let Some(options) = mode_app_options(mode) else {
        return;
    };
    let app = spawn_app_with(options.set("upstream.base_url", "embedded")).await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{mode:?}: {}", r.text().await.unwrap());
    let user = new_user();
    let c = Client::bearer(&app, &user);
    let journey = walk_journey(&c).await;
    let cookie = Client::cookie(&app, &user).await;
    let r = cookie
        .call(
            "GET",
            &format!("/v1/headless/journeys/{journey}/state"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{mode:?}: {}", r.raw);
    let arrived = eventually(15, || {
        let (app, journey) = (&app, &journey);
        async move { !app.ops_feed_of(journey).await.is_empty() }
    })
    .await;
    assert!(
        arrived,
        "{mode:?}: the journey's webhooks reached the ops feed"
    );
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["userID"], user.as_str(), "{mode:?}");
}

#[tokio::test]
async fn the_whole_service_runs_on_redis_with_tls() {
    the_whole_service_runs_on(Mode::Tls).await;
}

#[tokio::test]
async fn the_whole_service_runs_on_a_redis_cluster() {
    the_whole_service_runs_on(Mode::Cluster).await;
}

#[tokio::test]
async fn the_whole_service_runs_on_redis_sentinel() {
    the_whole_service_runs_on(Mode::Sentinel).await;
}

#[tokio::test]
async fn tls_needs_the_servers_ca_and_a_client_certificate() {
    let Some(settings) = mode_settings(Mode::Tls) else {
        return;
    };
    let without = |dropped: &[&str]| {
        let mut o = repo_options(None)
            .set("store.key_prefix", unique_prefix())
            .set("store.connect_timeout_ms", "500")
            .set("store.response_timeout_ms", "500");
        for (k, v) in &settings {
            if !dropped.contains(k) {
                o = o.set(k, v.clone());
            }
        }
        aarthik_bff::store::from_settings(&load_settings(o).store).expect("set-up")
    };
    let trusted = without(&[]);
    trusted
        .ping()
        .await
        .expect("with the CA and the client certificate");
    // The test CA is not among the system's roots.
    let untrusted = without(&["store.tls_ca_file"]);
    let e = untrusted.ping().await.unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    // The server asks for a client certificate.
    let anonymous = without(&["store.tls_client_cert_file", "store.tls_client_key_file"]);
    let e = tokio::time::timeout(Duration::from_secs(10), anonymous.ping())
        .await
        .expect("bounded")
        .unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
}

#[test]
fn a_set_up_that_cannot_work_names_the_mode_and_the_cause() {
    let o = repo_options(None)
        .set("store.redis_cluster_urls", "rediss://127.0.0.1:1")
        .set("store.tls_ca_file", "/nonexistent/ca.pem");
    let e = match aarthik_bff::store::from_settings(&load_settings(o).store) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an unreadable CA file is refused"),
    };
    assert!(
        e.starts_with("redis cluster: store.tls_ca_file: cannot read /nonexistent/ca.pem"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1);
    let o = repo_options(None)
        .set("store.sentinel_urls", "redis://127.0.0.1:1")
        .set("store.sentinel_master", "m")
        .set("store.key_prefix", unique_prefix());
    assert!(
        aarthik_bff::store::from_settings(&load_settings(o).store).is_ok(),
        "nothing connects at start-up"
    );
}
