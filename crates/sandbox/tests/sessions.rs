//! Credentials: the API key on bootstrap only, `st_*` on runtime routes, expiry, and the refresh
//! route (`Bearer rt_*`, no body): rotation, replay, theft detection, and switching it off.

use serde_json::json;

use crate::helpers::*;

/// `POST …/sessions/refresh` with `Bearer <token>` and no body.
async fn refresh_with(sb: &Sb, token: &str, key: &str) -> Resp {
    sb.call(
        "POST",
        "/api/v1/headless/sessions/refresh",
        Auth::Bearer(token),
        Some(key),
        None,
    )
    .await
}

async fn refresh(sb: &Sb, token: &str) -> Resp {
    refresh_with(sb, token, &uuid::Uuid::new_v4().to_string()).await
}

fn assert_token(token: &str, prefix: &str) {
    let body = token
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{token}"));
    assert_eq!(body.len(), 32, "{token}");
    assert!(body.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
}

#[tokio::test]
async fn session_create_answers_the_documented_fields_with_st_and_rt_tokens() {
    let sb = spawn().await;
    let key = uuid::Uuid::new_v4().to_string();
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::Key,
            Some(&key),
            Some(json!({ "borrowerExternalID": "partner-user-7781" })),
        )
        .await;
    assert_eq!(r.status, 200);
    for field in ["requestID", "correlationID", "timestamp", "data", "error"] {
        assert!(r.body.get(field).is_some(), "envelope has {field}");
    }
    assert!(r.body["error"].is_null());
    let request_id = r.body["requestID"].as_str().unwrap();
    assert!(request_id.starts_with("req_"), "{request_id}");
    assert!(
        request_id[4..].parse::<ulid::Ulid>().is_ok(),
        "{request_id}"
    );
    assert!(
        uuid::Uuid::parse_str(request_id).is_err(),
        "no longer a UUID"
    );
    let d = r.data();
    assert_eq!(d["borrowerExternalID"], "partner-user-7781");
    let (token, refresh) = (
        d["sessionToken"].as_str().unwrap(),
        d["refreshToken"].as_str().unwrap(),
    );
    assert_token(token, "st_");
    assert_token(refresh, "rt_");
    assert!(!token.starts_with("hst_") && !refresh.starts_with("hrt_"));
    for field in ["sessionExpiresAt", "refreshExpiresAt"] {
        let t = d[field].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'),
            "{field} = {t}"
        );
    }
    assert!(d["activeJourney"].is_null());
    uuid::Uuid::parse_str(d["borrowerID"].as_str().unwrap()).unwrap();
}

#[tokio::test]
async fn bootstrap_takes_only_the_api_key_and_runtime_routes_only_session_tokens() {
    let sb = spawn().await;
    let s = sb.session("auth-1").await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = Some(json!({ "borrowerExternalID": "auth-1" }));
    for auth in [
        Auth::Bearer(&s.token),
        Auth::Bearer(&s.refresh),
        Auth::None,
        Auth::Bearer("sk_live_from_another_environment"),
    ] {
        let r = sb
            .call(
                "POST",
                "/api/v1/headless/sessions",
                auth,
                Some(&key),
                body.clone(),
            )
            .await;
        assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_API_KEY"));
        assert_eq!(r.body["error"]["retryable"], false);
        assert_eq!(r.body["error"]["details"], json!({}));
    }
    for auth in [
        Auth::Key,
        Auth::Bearer("sk_live_from_another_environment"),
        Auth::Bearer(&s.refresh),
        Auth::Bearer("st_made_up"),
        Auth::None,
    ] {
        let r = sb
            .call("GET", "/api/v1/headless/journeys", auth, None, None)
            .await;
        assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_SESSION"));
    }
    assert_eq!(
        sb.get(&s.token, "/api/v1/headless/journeys").await.status,
        200
    );
}

#[tokio::test]
async fn an_expired_session_token_is_auth_invalid_session_and_changes_nothing() {
    let sb = spawn().await;
    let s = sb.session("expiry-1").await;
    let jid = sb
        .post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await
        .data()["journeyID"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = sb.control("POST", "/__sandbox/tokens/expire", None).await;
    assert!(r.data()["expiredSessionTokens"].as_u64().unwrap() >= 1);

    let r = sb
        .put(&s.token, "/api/v1/headless/profile", good_profile())
        .await;
    assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_SESSION"));
    let fresh = sb.session("expiry-1").await;
    assert_eq!(sb.state(&fresh.token, &jid).await["status"], "STARTED");
    let profile = sb.get(&fresh.token, "/api/v1/headless/profile").await;
    assert_eq!(
        profile.data()["profile"],
        json!({}),
        "the expired call stored nothing"
    );
    assert_eq!(
        sb.state(&fresh.token, &jid).await["status"],
        "PROFILE_REQUIRED",
        "opening the profile opened the profile step"
    );
}

#[tokio::test]
async fn session_tokens_expire_on_their_own_after_the_configured_lifetime() {
    let sb = spawn_with(aarthik_sandbox::SandboxConfig {
        session_ttl_secs: 1,
        ..config()
    })
    .await;
    let s = sb.session("ttl-1").await;
    assert_eq!(
        sb.get(&s.token, "/api/v1/headless/journeys").await.status,
        200
    );
    wait_for("the token to expire", || async {
        let r = sb.get(&s.token, "/api/v1/headless/journeys").await;
        (r.status == 401).then(|| assert_eq!(r.code(), "AUTH_INVALID_SESSION"))
    })
    .await;
    let r = refresh(&sb, &s.refresh).await;
    assert_eq!(
        r.status, 200,
        "the refresh token outlives the session token"
    );
}

#[tokio::test]
async fn refresh_with_bearer_rt_rotates_both_tokens_and_the_new_session_token_works() {
    let sb = spawn().await;
    let s = sb.session("rotate-1").await;
    let r = refresh(&sb, &s.refresh).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let next = Session::from(r.data());
    assert_eq!(next.borrower_id, s.borrower_id);
    assert_token(&next.token, "st_");
    assert_token(&next.refresh, "rt_");
    assert_ne!(next.token, s.token);
    assert_ne!(next.refresh, s.refresh);
    assert_eq!(
        sb.get(&next.token, "/api/v1/headless/journeys")
            .await
            .status,
        200
    );
    assert_eq!(
        sb.get(&s.token, "/api/v1/headless/journeys").await.status,
        200,
        "the old session token stays valid until it expires"
    );
    let again = refresh(&sb, &next.refresh).await;
    assert_eq!(
        again.status, 200,
        "the rotated-in token refreshes once more"
    );
}

#[tokio::test]
async fn a_retried_refresh_with_the_same_idempotency_key_returns_the_same_pair() {
    let sb = spawn().await;
    let s = sb.session("refresh-replay-1").await;
    let a = refresh_with(&sb, &s.refresh, "refresh-key-1").await;
    let b = refresh_with(&sb, &s.refresh, "refresh-key-1").await;
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!(a.data(), b.data(), "same new tokens");
    assert_eq!(b.headers["idempotent-replayed"], "true");
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/sessions/refresh",
            Auth::Bearer(&s.refresh),
            None,
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "IDEMPOTENCY_KEY_REQUIRED"));
}

#[tokio::test]
async fn a_rotated_away_refresh_token_is_auth_invalid_session_and_revokes_its_family() {
    let sb = spawn().await;
    let s = sb.session("theft-1").await;
    let other_login = sb.session("theft-1").await;
    let first = Session::from(refresh(&sb, &s.refresh).await.data());
    let second = Session::from(refresh(&sb, &first.refresh).await.data());

    let stolen = refresh(&sb, &s.refresh).await;
    assert_eq!(
        (stolen.status, stolen.code()),
        (401, "AUTH_INVALID_SESSION")
    );
    assert_eq!(stolen.body["error"]["retryable"], false);
    for token in [&s.token, &first.token, &second.token] {
        let r = sb.get(token, "/api/v1/headless/journeys").await;
        assert_eq!(
            (r.status, r.code()),
            (401, "AUTH_INVALID_SESSION"),
            "family session token revoked"
        );
    }
    let r = refresh(&sb, &second.refresh).await;
    assert_eq!(
        (r.status, r.code()),
        (401, "AUTH_INVALID_SESSION"),
        "latest refresh token revoked too"
    );
    assert_eq!(
        sb.get(&other_login.token, "/api/v1/headless/journeys")
            .await
            .status,
        200,
        "another login is untouched"
    );
}

#[tokio::test]
async fn refresh_refuses_unknown_and_expired_rt_and_any_other_credential() {
    let sb = spawn().await;
    let s = sb.session("refresh-bad-1").await;
    let r = refresh(&sb, "rt_unknown").await;
    assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_SESSION"));
    for auth in [Auth::Key, Auth::Bearer(&s.token), Auth::None] {
        let key = uuid::Uuid::new_v4().to_string();
        // The old mode (API key + refreshToken in the body) is gone.
        let r = sb
            .call(
                "POST",
                "/api/v1/headless/sessions/refresh",
                auth,
                Some(&key),
                Some(json!({ "refreshToken": s.refresh })),
            )
            .await;
        assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_SESSION"));
    }
    assert_eq!(refresh(&sb, &s.refresh).await.status, 200, "rt untouched");
    let s = sb.session("refresh-bad-1").await;
    sb.control(
        "POST",
        "/__sandbox/tokens/expire",
        Some(json!({ "refresh": true })),
    )
    .await;
    let r = refresh(&sb, &s.refresh).await;
    assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_SESSION"));
}

#[tokio::test]
async fn the_refresh_endpoint_can_be_switched_off_and_then_answers_404_like_an_unknown_route() {
    let sb = spawn().await;
    let s = sb.session("refresh-off-1").await;
    let r = sb
        .control(
            "POST",
            "/__sandbox/refresh-endpoint",
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(r.data()["enabled"], false);
    assert_eq!(
        sb.control("GET", "/__sandbox/refresh-endpoint", None)
            .await
            .data()["enabled"],
        false
    );
    let off = refresh(&sb, &s.refresh).await;
    assert_eq!((off.status, off.code()), (404, "NOT_FOUND"));
    let unknown = sb.get(&s.token, "/api/v1/headless/nowhere").await;
    assert_eq!(unknown.status, 404);
    let get = sb
        .call(
            "GET",
            "/api/v1/headless/sessions/refresh",
            Auth::None,
            None,
            None,
        )
        .await;
    assert_eq!(get.status, 404, "absent for every method");
    let r = sb
        .call(
            "POST",
            "/__sandbox/refresh-endpoint",
            Auth::None,
            None,
            Some(json!({ "enabled": "no" })),
        )
        .await;
    assert_eq!((r.status, r.field()), (400, "enabled"));

    sb.control(
        "POST",
        "/__sandbox/refresh-endpoint",
        Some(json!({ "enabled": true })),
    )
    .await;
    let on = refresh(&sb, &s.refresh).await;
    assert_eq!(
        on.status, 200,
        "the refresh token was not used up: {}",
        on.body
    );
}

#[tokio::test]
async fn the_refresh_endpoint_can_start_switched_off() {
    let sb = spawn_with(aarthik_sandbox::SandboxConfig {
        refresh_endpoint_enabled: false,
        ..config()
    })
    .await;
    let s = sb.session("refresh-off-2").await;
    assert_eq!(refresh(&sb, &s.refresh).await.status, 404);
}
