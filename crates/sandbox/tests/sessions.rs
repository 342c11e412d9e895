//! Credentials: key vs session token, expiry, refresh rotation and theft detection.

use serde_json::json;

use crate::helpers::*;

async fn refresh(sb: &Sb, token: &str) -> Resp {
    let key = uuid::Uuid::new_v4().to_string();
    sb.call(
        "POST",
        "/api/v1/headless/sessions/refresh",
        Auth::Key,
        Some(&key),
        Some(json!({ "refreshToken": token })),
    )
    .await
}

#[tokio::test]
async fn session_create_answers_the_documented_fields() {
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
    let d = r.data();
    assert_eq!(d["borrowerExternalID"], "partner-user-7781");
    assert!(d["sessionToken"].as_str().unwrap().starts_with("hst_"));
    assert!(d["refreshToken"].as_str().unwrap().starts_with("hrt_"));
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
async fn session_endpoints_need_the_api_key_and_borrower_endpoints_need_a_session_token() {
    let sb = spawn().await;
    let s = sb.session("auth-1").await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = Some(json!({ "borrowerExternalID": "auth-1" }));
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::Bearer(&s.token),
            Some(&key),
            body.clone(),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "UNAUTHORIZED"));
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::None,
            Some(&key),
            body.clone(),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "UNAUTHORIZED"));
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/sessions",
            Auth::Bearer("sk_wrong"),
            Some(&key),
            body,
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "UNAUTHORIZED"));
    let r = sb
        .call("GET", "/api/v1/headless/journeys", Auth::Key, None, None)
        .await;
    assert_eq!((r.status, r.code()), (401, "UNAUTHORIZED"));
    let r = sb
        .call(
            "GET",
            "/api/v1/headless/journeys",
            Auth::Bearer("hst_made_up"),
            None,
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "UNAUTHORIZED"));
    assert_eq!(
        sb.get(&s.token, "/api/v1/headless/journeys").await.status,
        200
    );
}

#[tokio::test]
async fn an_expired_session_token_is_answered_session_expired_and_changes_nothing() {
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
    assert_eq!((r.status, r.code()), (401, "SESSION_EXPIRED"));
    let fresh = sb.session("expiry-1").await;
    let profile = sb.get(&fresh.token, "/api/v1/headless/profile").await;
    assert_eq!(
        profile.data()["profile"],
        json!({}),
        "the expired call stored nothing"
    );
    assert_eq!(
        sb.state(&fresh.token, &jid).await["status"],
        "PROFILE_PENDING"
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
        (r.status == 401).then(|| assert_eq!(r.code(), "SESSION_EXPIRED"))
    })
    .await;
    let r = refresh(&sb, &s.refresh).await;
    assert_eq!(
        r.status, 200,
        "the refresh token outlives the session token"
    );
}

#[tokio::test]
async fn refresh_rotates_both_tokens_and_the_new_session_token_works() {
    let sb = spawn().await;
    let s = sb.session("rotate-1").await;
    let r = refresh(&sb, &s.refresh).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let next = Session::from(r.data());
    assert_eq!(next.borrower_id, s.borrower_id);
    assert_ne!(next.token, s.token);
    assert_ne!(next.refresh, s.refresh);
    assert_eq!(
        sb.get(&next.token, "/api/v1/headless/journeys")
            .await
            .status,
        200
    );
    let again = refresh(&sb, &next.refresh).await;
    assert_eq!(
        again.status, 200,
        "the rotated-in token refreshes once more"
    );
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_token_family() {
    let sb = spawn().await;
    let s = sb.session("theft-1").await;
    let other_login = sb.session("theft-1").await;
    let first = Session::from(refresh(&sb, &s.refresh).await.data());
    let second = Session::from(refresh(&sb, &first.refresh).await.data());

    let stolen = refresh(&sb, &s.refresh).await;
    assert_eq!(
        (stolen.status, stolen.code()),
        (401, "REFRESH_TOKEN_INVALID")
    );
    for token in [&s.token, &first.token, &second.token] {
        let r = sb.get(token, "/api/v1/headless/journeys").await;
        assert_eq!(
            (r.status, r.code()),
            (401, "UNAUTHORIZED"),
            "family session token revoked"
        );
    }
    let r = refresh(&sb, &second.refresh).await;
    assert_eq!(
        (r.status, r.code()),
        (401, "REFRESH_TOKEN_INVALID"),
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
async fn unknown_and_expired_refresh_tokens_are_refused() {
    let sb = spawn().await;
    let s = sb.session("refresh-bad-1").await;
    let r = refresh(&sb, "hrt_unknown").await;
    assert_eq!((r.status, r.code()), (401, "REFRESH_TOKEN_INVALID"));
    let key = uuid::Uuid::new_v4().to_string();
    let r = sb
        .call(
            "POST",
            "/api/v1/headless/sessions/refresh",
            Auth::Key,
            Some(&key),
            Some(json!({})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "VALIDATION_ERROR"));
    sb.control(
        "POST",
        "/__sandbox/tokens/expire",
        Some(json!({ "refresh": true })),
    )
    .await;
    let r = refresh(&sb, &s.refresh).await;
    assert_eq!((r.status, r.code()), (401, "REFRESH_TOKEN_INVALID"));
}
