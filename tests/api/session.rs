//! Borrower sessions against the real sandbox (over HTTP) and a real Redis.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::*;

/// Is this upstream session token accepted by the sandbox?
async fn sandbox_accepts(sb: &SandboxHandle, token: &str) -> bool {
    reqwest::Client::new()
        .get(format!("{}/api/v1/headless/journeys", sb.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .is_success()
}

#[tokio::test]
async fn post_session_mints_upstream_once_then_serves_the_stored_session() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(options_for(&sb)).await;
    let t = jwt(&app, "user-mint-1");
    let (s1, b1) = post_as(&app, "/v1/session", &t).await;
    assert_eq!(s1, 200, "{b1}");
    let d = &b1["data"];
    assert_eq!(d["borrowerExternalID"], "user-mint-1");
    assert!(d["sessionToken"].as_str().unwrap().starts_with("st_"));
    assert!(d["borrowerID"].is_string() && d["sessionExpiresAt"].is_string());
    assert!(
        !b1.to_string().contains("rt_") && d.get("refreshToken").is_none(),
        "never the refresh token: {b1}"
    );
    let (s2, b2) = post_as(&app, "/v1/session", &t).await;
    assert_eq!(s2, 200);
    assert_eq!(b2["data"]["sessionToken"], d["sessionToken"]);
    let reqs = upstream_log(&sb, UPSTREAM_SESSIONS).await;
    assert_eq!(count(&reqs, "POST", UPSTREAM_SESSIONS), 1, "{reqs:?}");
    let r = &reqs[0];
    assert_eq!(r["auth"], "api_key");
    assert!(r["headers"]["idempotency-key"].is_string());
    assert!(r["headers"]["x-correlation-id"].is_string());
    assert!(r["headers"]["traceparent"].is_string());
    assert!(sandbox_accepts(&sb, d["sessionToken"].as_str().unwrap()).await);
}

#[tokio::test]
async fn refresh_hands_out_a_new_valid_token_and_rotates_upstream() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(options_for(&sb).set("session.reuse_window_secs", "0")).await;
    let t = jwt(&app, "user-refresh-1");
    let (_, b1) = post_as(&app, "/v1/session", &t).await;
    let (s, b2) = post_as(&app, "/v1/session/refresh", &t).await;
    assert_eq!(s, 200, "{b2}");
    let old = b1["data"]["sessionToken"].as_str().unwrap();
    let new = b2["data"]["sessionToken"].as_str().unwrap();
    assert_ne!(old, new);
    assert!(!b2.to_string().contains("rt_"));
    assert!(sandbox_accepts(&sb, new).await);
    assert_eq!(
        count(
            &upstream_log(&sb, UPSTREAM_REFRESH).await,
            "POST",
            UPSTREAM_REFRESH
        ),
        1
    );
}

#[tokio::test]
async fn refresh_without_a_stored_session_mints_one() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(options_for(&sb)).await;
    let (s, b) = post_as(&app, "/v1/session/refresh", &jwt(&app, "user-fresh")).await;
    assert_eq!(s, 200, "{b}");
    let reqs = upstream_log(&sb, UPSTREAM_SESSIONS).await;
    assert_eq!(count(&reqs, "POST", UPSTREAM_SESSIONS), 1);
    assert_eq!(count(&reqs, "POST", UPSTREAM_REFRESH), 0);
}

#[tokio::test]
async fn a_dead_refresh_token_falls_back_to_create_or_resume() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(options_for(&sb).set("session.reuse_window_secs", "0")).await;
    let t = jwt(&app, "user-dead-refresh");
    let (_, b1) = post_as(&app, "/v1/session", &t).await;
    control(&sb, "/__sandbox/tokens/expire", json!({"refresh": true})).await;
    let (s, b2) = post_as(&app, "/v1/session/refresh", &t).await;
    assert_eq!(s, 200, "{b2}");
    let new = b2["data"]["sessionToken"].as_str().unwrap();
    assert_ne!(new, b1["data"]["sessionToken"].as_str().unwrap());
    assert!(sandbox_accepts(&sb, new).await);
    let reqs = upstream_log(&sb, UPSTREAM_SESSIONS).await;
    let refreshes: Vec<_> = reqs
        .iter()
        .filter(|r| r["path"] == UPSTREAM_REFRESH)
        .collect();
    assert_eq!(refreshes.len(), 1);
    assert_eq!(refreshes[0]["status"], 401);
    assert_eq!(
        count(&reqs, "POST", UPSTREAM_SESSIONS),
        2,
        "minted again after the dead refresh"
    );
}

#[tokio::test]
async fn get_session_shows_facts_without_tokens_and_delete_forgets_them() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(options_for(&sb)).await;
    let t = jwt(&app, "user-facts");
    let get = || {
        app.client
            .get(app.url("/v1/session"))
            .bearer_auth(&t)
            .send()
    };
    let r = get().await.unwrap();
    assert_eq!(r.status(), 401, "no session yet");
    let (_, minted) = post_as(&app, "/v1/session", &t).await;
    let r = get().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["borrowerID"], minted["data"]["borrowerID"]);
    assert!(body["data"]["refreshExpiresAt"].is_string());
    let text = body.to_string();
    assert!(!text.contains("st_") && !text.contains("rt_"), "{text}");
    let r = app
        .client
        .delete(app.url("/v1/session"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(get().await.unwrap().status(), 401);
    post_as(&app, "/v1/session", &t).await;
    assert_eq!(
        count(
            &upstream_log(&sb, UPSTREAM_SESSIONS).await,
            "POST",
            UPSTREAM_SESSIONS
        ),
        2,
        "the next call minted anew"
    );
}

#[tokio::test]
async fn a_journey_type_in_the_body_reaches_upstream_and_its_journey_is_linked() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(options_for(&sb)).await;
    let t = jwt(&app, "user-journey");
    let r = app
        .client
        .post(app.url("/v1/session"))
        .bearer_auth(&t)
        .json(&json!({"journeyType": "PERSONAL_LOAN"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let journey = body["data"]["activeJourney"]["journeyID"]
        .as_str()
        .expect("an active journey")
        .to_owned();
    let store = redis_store(&app.key_prefix());
    let dir = Directory::new(store);
    assert_eq!(
        dir.owner_of(&journey).await.unwrap().as_deref(),
        Some("user-journey")
    );
}

#[tokio::test]
async fn a_malformed_body_is_400_and_calls_nothing_upstream() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(options_for(&sb)).await;
    for body in [r#"{"journeyType":"no spaces"}"#, "{", r#"{"profile":[1]}"#] {
        let r = app
            .client
            .post(app.url("/v1/session"))
            .bearer_auth(jwt(&app, "user-bad-body"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "VALIDATION_ERROR", "our own code");
    }
    assert!(upstream_log(&sb, UPSTREAM_SESSIONS).await.is_empty());
}

#[tokio::test]
async fn tokens_are_encrypted_at_rest() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app = spawn_app_with(options_for(&sb)).await;
    post_as(&app, "/v1/session", &jwt(&app, "user-at-rest")).await;
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", app.key_prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    let mut seen_session = false;
    for k in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&k)
            .query_async(&mut conn)
            .await
            .unwrap();
        let dump: Vec<u8> = match kind.as_str() {
            "string" => redis::cmd("GET")
                .arg(&k)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "hash" => {
                let v: Vec<Vec<u8>> = redis::cmd("HGETALL")
                    .arg(&k)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                v.concat()
            }
            _ => Vec::new(),
        };
        let text = String::from_utf8_lossy(&dump);
        seen_session |= text.contains("session_token");
        assert!(
            !text.contains("st_") && !text.contains("rt_"),
            "plaintext token under {k}"
        );
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&k)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0, "every key has a TTL: {k}");
    }
    assert!(seen_session);
}

#[tokio::test]
async fn fifty_concurrent_refreshes_over_three_instances_make_one_upstream_refresh() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let opts = options_for(&sb)
        .set("session.reuse_window_secs", "1")
        .set("session.upstream_calls_per_minute", "1000");
    let a = spawn_app_with(opts.clone()).await;
    let prefix = a.key_prefix();
    let b = spawn_app_with(opts.clone().set("store.key_prefix", prefix.clone())).await;
    let c = spawn_app_with(opts.set("store.key_prefix", prefix)).await;
    let t = jwt(&a, "user-storm");
    let (_, minted) = post_as(&a, "/v1/session", &t).await;
    let old = minted["data"]["sessionToken"].as_str().unwrap().to_owned();
    // Let the just-minted token age past the reuse window, so the storm must refresh.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    control_delete(&sb, "/__sandbox/requests").await;
    let apps = [&a, &b, &c];
    let started = Instant::now();
    let calls = (0..50).map(|i| {
        let app = apps[i % 3];
        let t = t.clone();
        async move { post_as(app, "/v1/session/refresh", &t).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let elapsed = started.elapsed();
    let tokens: std::collections::HashSet<String> = results
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, 200, "{b}");
            b["data"]["sessionToken"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(tokens.len(), 1, "all 50 receive the same token");
    let token = tokens.into_iter().next().unwrap();
    assert_ne!(token, old);
    assert!(sandbox_accepts(&sb, &token).await);
    let reqs = upstream_log(&sb, UPSTREAM_SESSIONS).await;
    assert_eq!(
        count(&reqs, "POST", UPSTREAM_REFRESH),
        1,
        "exactly one upstream refresh"
    );
    assert_eq!(count(&reqs, "POST", UPSTREAM_SESSIONS), 0);
    println!("50-way refresh storm over 3 instances: {elapsed:?}");
}

#[tokio::test]
async fn pseudonyms_hide_the_partner_user_id_from_upstream() {
    let sb = start_sandbox(SandboxConfig::default()).await;
    let app =
        spawn_app_with(options_for(&sb).set("auth.pseudonym_pepper", "a-pepper-for-tests-only"))
            .await;
    let (s, b) = post_as(&app, "/v1/session", &jwt(&app, "internal-user-42")).await;
    assert_eq!(s, 200);
    let ext = b["data"]["borrowerExternalID"].as_str().unwrap().to_owned();
    assert_ne!(ext, "internal-user-42");
    assert_eq!(ext.len(), 64);
    let log = upstream_log(&sb, UPSTREAM_SESSIONS).await.to_vec();
    assert!(!serde_json::to_string(&log)
        .unwrap()
        .contains("internal-user-42"));
    let store = redis_store(&app.key_prefix());
    let dir = Directory::new(store);
    assert_eq!(
        dir.user_for_borrower(&ext).await.unwrap().as_deref(),
        Some("internal-user-42"),
        "the reverse mapping is kept for ops"
    );
}
