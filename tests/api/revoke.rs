//! Signing a user out everywhere (`POST /v1/ops/users/{userID}/revoke`): earlier JWTs and web
//! sessions are refused at once, on every instance; stored upstream tokens are gone, so a JWT issued
//! afterwards mints afresh; other users are untouched; ops auth is required; it is audited and
//! counted.

use std::time::Instant;

use serde_json::Value;

use crate::helpers::*;

const ALICE_TOKEN: &str = "alice-ops-token-0123456789abcdef01";

fn revoke_path(user: &str) -> String {
    format!("/v1/ops/users/{user}/revoke")
}

/// Upstream create-or-resume calls so far.
async fn mints(sb: &SandboxHandle) -> usize {
    count(
        &upstream_log(sb, UPSTREAM_SESSIONS).await,
        "POST",
        UPSTREAM_SESSIONS,
    )
}

#[tokio::test]
async fn a_revoked_users_jwt_and_cookie_are_refused_at_once_and_a_later_jwt_mints_afresh() {
    let e = env_with(fast_sandbox(), |o| {
        o.set("ops.tokens", format!("alice:{ALICE_TOKEN}"))
    })
    .await;
    let user = new_user();
    let old = earlier_bearer(&e.app, &user);
    let first = old.call("POST", "/v1/session", None).await;
    assert_eq!(first.status, 200, "{}", first.raw);
    let first_token = first.data()["sessionToken"].as_str().unwrap().to_owned();
    let cookie = Client::cookie(&e.app, &user).await;
    assert_eq!(cookie.call("GET", "/v1/session", None).await.status, 200);
    assert_eq!(
        old.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    assert_eq!(mints(&e.sb).await, 1);

    let revoked = revoke_user(&e.app, &user, ALICE_TOKEN).await;
    assert_eq!(keys_of(&revoked), key_set(&["userID", "revokedAt"]));
    assert_eq!(revoked["userID"], user.as_str());
    let at = chrono::DateTime::parse_from_rfc3339(revoked["revokedAt"].as_str().unwrap())
        .expect("revokedAt is RFC 3339");
    assert!((chrono::Utc::now().timestamp() - at.timestamp()).abs() < 5);

    for (who, c) in [("jwt", &old), ("cookie", &cookie)] {
        for (method, path) in [
            ("GET", "/v1/session"),
            ("GET", "/v1/headless/journeys"),
            ("POST", "/v1/session/refresh"),
        ] {
            let r = c.call(method, path, None).await;
            assert_eq!(r.status, 401, "{who} {method} {path}: {}", r.raw);
            assert_eq!(r.body["error"]["code"], "UNAUTHENTICATED");
        }
    }
    // A web login with the old JWT is refused too.
    let r = old.call("POST", "/v1/web/session", None).await;
    assert_eq!(r.status, 401, "{}", r.raw);

    // A JWT issued after the revocation works, and finds nothing stored: a fresh upstream session.
    let later = bearer_with(&e.app, jwt_issued_at(&e.app, &user, Some(now_secs())));
    let r = later.call("GET", "/v1/session", None).await;
    assert_eq!(r.status, 401, "the stored session is gone: {}", r.raw);
    let r = later.call("POST", "/v1/session", None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_ne!(r.data()["sessionToken"], first_token.as_str());
    assert_eq!(mints(&e.sb).await, 2, "one fresh create-or-resume upstream");
    assert_eq!(
        later
            .call("GET", "/v1/headless/journeys", None)
            .await
            .status,
        200
    );
    let fresh_cookie = Client::cookie(&e.app, &user).await;
    assert_eq!(
        fresh_cookie.call("GET", "/v1/session", None).await.status,
        200
    );
    // The old cookie stays ended.
    assert_eq!(cookie.call("GET", "/v1/session", None).await.status, 401);
}

#[tokio::test]
async fn a_jwt_without_iat_is_refused_after_a_revocation() {
    let e = env().await;
    let user = new_user();
    let no_iat = bearer_with(&e.app, jwt_issued_at(&e.app, &user, None));
    assert_eq!(
        no_iat
            .call("GET", "/v1/headless/journeys", None)
            .await
            .status,
        200
    );
    revoke_user(&e.app, &user, DEV_OPS_TOKEN).await;
    let r = no_iat.call("GET", "/v1/headless/journeys", None).await;
    assert_eq!(r.status, 401, "{}", r.raw);
}

#[tokio::test]
async fn a_revocation_on_one_instance_holds_on_another_within_a_second() {
    let sb = start_sandbox(fast_sandbox()).await;
    let a = spawn_app_with(options_for(&sb)).await;
    let b = spawn_app_with(options_for(&sb).set("store.key_prefix", a.key_prefix())).await;
    let user = new_user();
    let old = earlier_bearer(&b, &user);
    // Instance b knows the user (not revoked), holds their token in its memo, and a web session.
    assert_eq!(old.call("POST", "/v1/session", None).await.status, 200);
    assert_eq!(
        old.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    let cookie = Client::cookie(&b, &user).await;
    assert_eq!(cookie.call("GET", "/v1/session", None).await.status, 200);
    assert_eq!(mints(&sb).await, 1);

    revoke_user(&a, &user, DEV_OPS_TOKEN).await;
    let started = Instant::now();
    let refused = eventually(1, || {
        let old = old.clone();
        async move { old.call("GET", "/v1/headless/journeys", None).await.status == 401 }
    })
    .await;
    assert!(
        refused,
        "b still admits the old JWT after {:?}",
        started.elapsed()
    );
    assert_eq!(cookie.call("GET", "/v1/session", None).await.status, 401);

    // b's memo was forgotten too: a later JWT's first proxied call mints a fresh session.
    let later = bearer_with(&b, jwt_issued_at(&b, &user, Some(now_secs())));
    assert_eq!(
        later
            .call("GET", "/v1/headless/journeys", None)
            .await
            .status,
        200
    );
    assert_eq!(
        mints(&sb).await,
        2,
        "b minted afresh instead of reusing its memo"
    );
}

#[tokio::test]
async fn other_users_keep_their_sessions_and_cookies() {
    let e = env().await;
    let (victim, other) = (new_user(), new_user());
    let victim_c = earlier_bearer(&e.app, &victim);
    let other_c = earlier_bearer(&e.app, &other);
    assert_eq!(victim_c.call("POST", "/v1/session", None).await.status, 200);
    let before = other_c.call("POST", "/v1/session", None).await;
    assert_eq!(before.status, 200);
    let other_cookie = Client::cookie(&e.app, &other).await;
    let mints_before = mints(&e.sb).await;

    revoke_user(&e.app, &victim, DEV_OPS_TOKEN).await;

    assert_eq!(victim_c.call("GET", "/v1/session", None).await.status, 401);
    let after = other_c.call("POST", "/v1/session", None).await;
    assert_eq!(after.status, 200, "{}", after.raw);
    assert_eq!(
        after.data()["sessionToken"],
        before.data()["sessionToken"],
        "the other user's stored session is untouched"
    );
    assert_eq!(
        other_c
            .call("GET", "/v1/headless/journeys", None)
            .await
            .status,
        200
    );
    assert_eq!(
        other_cookie.call("GET", "/v1/session", None).await.status,
        200
    );
    assert_eq!(
        mints(&e.sb).await,
        mints_before,
        "no new upstream session for anyone"
    );
}

#[tokio::test]
async fn revoking_needs_an_ops_token_and_a_plausible_user_id() {
    let app = spawn_app_with(base_options().set("upstream.base_url", "embedded")).await;
    let user = new_user();
    let c = earlier_bearer(&app, &user);
    // No token, a wrong one, the right one in the wrong scheme, and the user's own partner JWT.
    for auth in [
        None,
        Some("Bearer wrong-token".to_owned()),
        Some("Basic dev-ops-token".to_owned()),
        Some(format!("Bearer {}", jwt(&app, &user))),
    ] {
        let mut req = app.client.post(app.url(&revoke_path(&user)));
        if let Some(a) = &auth {
            req = req.header("Authorization", a);
        }
        let (status, body) = status_and_body(req.send().await.unwrap()).await;
        assert_eq!(status, 401, "{auth:?}: {body}");
        assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
    }
    assert_eq!(
        c.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    let r = ops_post(&app, &revoke_path("bad%07user"), DEV_OPS_TOKEN).await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "VALIDATION_ERROR");
    let r = ops_post(&app, "/v1/ops/users//revoke", DEV_OPS_TOKEN).await;
    assert_eq!(r.status, 404, "{}", r.raw);
}

#[tokio::test]
async fn the_audit_log_names_the_operator_and_the_metric_counts_revocations() {
    let app = spawn_app_with(
        base_options()
            .set("upstream.base_url", "embedded")
            .set("ops.tokens", format!("alice:{ALICE_TOKEN},dev-ops-token")),
    )
    .await;
    let (first, second) = (new_user(), new_user());
    revoke_user(&app, &first, ALICE_TOKEN).await;
    revoke_user(&app, &second, DEV_OPS_TOKEN).await;

    let res = app.ops_get("/v1/ops/audit").await;
    let r = reply(res).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(!r.raw.contains(ALICE_TOKEN) && !r.raw.contains(DEV_OPS_TOKEN));
    let entries = r.data()["entries"].as_array().unwrap().clone();
    let view = |e: &Value| {
        assert_eq!(keys_of(e), key_set(&["at", "operator", "action", "target"]));
        assert!(chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).is_ok());
        (
            e["operator"].as_str().unwrap().to_owned(),
            e["action"].as_str().unwrap().to_owned(),
            e["target"].as_str().unwrap().to_owned(),
        )
    };
    let seen: Vec<_> = entries.iter().map(view).collect();
    assert_eq!(
        seen,
        [
            ("ops".to_owned(), "revoke".to_owned(), second.clone()),
            ("alice".to_owned(), "revoke".to_owned(), first.clone()),
        ],
        "newest first"
    );
    let one = app.ops_data("/v1/ops/audit?limit=1").await;
    assert_eq!(one["entries"].as_array().unwrap().len(), 1);
    assert_eq!(one["entries"][0]["target"], second.as_str());
    assert_eq!(app.ops_get("/v1/ops/audit?limit=0").await.status(), 400);
    let r = app
        .client
        .get(app.url("/v1/ops/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.lines().any(|l| l == "bff_revocations_total 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn revocation_works_with_the_in_memory_store() {
    let app = spawn_app_with(
        base_options()
            .set("upstream.base_url", "embedded")
            .set("store.redis_url", ""),
    )
    .await;
    let user = new_user();
    let old = earlier_bearer(&app, &user);
    assert_eq!(old.call("POST", "/v1/session", None).await.status, 200);
    revoke_user(&app, &user, DEV_OPS_TOKEN).await;
    assert_eq!(old.call("GET", "/v1/session", None).await.status, 401);
    let later = bearer_with(&app, jwt_issued_at(&app, &user, Some(now_secs())));
    assert_eq!(later.call("POST", "/v1/session", None).await.status, 200);
}

#[tokio::test]
async fn a_revocation_mark_expires_with_the_longest_credential_lifetime() {
    let app = spawn_app_with(
        base_options()
            .set("upstream.base_url", "embedded")
            .set("auth.max_token_lifetime_secs", "3600")
            .set("web.absolute_timeout_secs", "7200"),
    )
    .await;
    let user = new_user();
    revoke_user(&app, &user, DEV_OPS_TOKEN).await;
    let mut conn = redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}revoked:user:*", app.key_prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let ttl: i64 = redis::cmd("TTL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    let leeway = app.settings.auth.leeway_secs as i64;
    assert!(
        (7200 + leeway - 5..=7200 + leeway).contains(&ttl),
        "the web session's 7200 s outlive the JWT cap: {ttl}"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_revocation_and_the_audit_log() {
    let app = spawn_app_with(base_options().set("upstream.base_url", "embedded")).await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let revoke = &doc["paths"]["/v1/ops/users/{userID}/revoke"]["post"];
    for status in ["200", "400", "401", "404", "503"] {
        assert!(revoke["responses"][status].is_object(), "{status}");
    }
    assert!(doc["paths"]["/v1/ops/audit"]["get"]["responses"]["200"].is_object());
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Revocation"]["required"],
        serde_json::json!(["userID", "revokedAt"])
    );
    assert_eq!(
        schemas["AuditEntry"]["required"],
        serde_json::json!(["at", "operator", "action", "target"])
    );
}
