//! `upstream.refresh_mode` against a sandbox whose refresh endpoint is switched off (the vendor
//! does not document one): `auto` and `resume` keep proxied calls and `/v1/session/refresh`
//! working across token expiry by create-or-resume; `endpoint` fails (502) without falling back;
//! `auto` says so once in its log and never logs a refresh token.

use serde_json::{json, Value};

use crate::helpers::*;

/// A BFF in `mode` in front of a fast sandbox whose refresh endpoint answers 404.
async fn env_without_refresh(mode: &str) -> Env {
    let e = env_with(fast_sandbox(), |o| {
        o.set("upstream.refresh_mode", mode)
            .set("session.reuse_window_secs", "0")
    })
    .await;
    refresh_endpoint(&e.sb, false).await;
    e
}

async fn refresh_endpoint(sb: &SandboxHandle, enabled: bool) {
    let r = control(
        sb,
        "/__sandbox/refresh-endpoint",
        json!({ "enabled": enabled }),
    )
    .await;
    assert_eq!(r["data"]["enabled"], enabled, "{r}");
}

/// Every session token the sandbox issued is expired now (refresh tokens stay valid).
async fn expire_session_tokens(sb: &SandboxHandle) {
    let r = control(sb, "/__sandbox/tokens/expire", json!({})).await;
    assert!(
        r["data"]["expiredSessionTokens"].as_u64().unwrap() >= 1,
        "{r}"
    );
}

/// Is this session token accepted by the sandbox?
async fn sandbox_accepts(sb: &SandboxHandle, token: &str) -> bool {
    reqwest::Client::new()
        .get(format!("{}{HEADLESS}/journeys", sb.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .is_success()
}

/// The statuses the upstream answered to `method path`, in order.
fn statuses(log: &[Value], method: &str, path: &str) -> Vec<u64> {
    log.iter()
        .filter(|r| r["method"] == method && r["path"] == path)
        .map(|r| r["status"].as_u64().unwrap())
        .collect()
}

/// Create a journey through the proxy (this mints the session); its state path.
async fn journey_state_path(c: &Client) -> String {
    let r = c
        .call(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "PERSONAL_LOAN"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    format!(
        "/v1/headless/journeys/{}/state",
        r.data()["journeyID"].as_str().unwrap()
    )
}

/// Expire the session tokens, then show that a proxied call and `/v1/session/refresh` still work.
async fn survive_two_expiries(e: &Env, user: &str) {
    let c = Client::bearer(&e.app, user);
    let state = journey_state_path(&c).await;

    expire_session_tokens(&e.sb).await;
    let r = c.call("GET", &state, None).await;
    assert_eq!(r.status, 200, "a proxied call after expiry: {}", r.raw);
    assert_eq!(r.data()["status"], "STARTED");

    expire_session_tokens(&e.sb).await;
    let (s, b) = post_as(&e.app, "/v1/session/refresh", &jwt(&e.app, user)).await;
    assert_eq!(s, 200, "/v1/session/refresh after expiry: {b}");
    let token = b["data"]["sessionToken"].as_str().unwrap();
    assert!(token.starts_with("st_"));
    assert!(sandbox_accepts(&e.sb, token).await);
    assert!(b["data"].get("refreshToken").is_none());
    let r = c.call("GET", &state, None).await;
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[tokio::test]
async fn auto_mode_renews_by_create_or_resume_when_the_refresh_endpoint_is_absent_and_remembers_it()
{
    let e = env_without_refresh("auto").await;
    survive_two_expiries(&e, &new_user()).await;

    let log = upstream_log(&e.sb, UPSTREAM_SESSIONS).await;
    assert_eq!(
        statuses(&log, "POST", UPSTREAM_REFRESH),
        vec![404],
        "the absent endpoint was tried once, then remembered: {log:?}"
    );
    let refresh = log.iter().find(|r| r["path"] == UPSTREAM_REFRESH).unwrap();
    assert_eq!(refresh["auth"], "refresh", "Bearer rt_*, never the key");
    assert!(refresh["headers"]["idempotency-key"].is_string());
    assert!(refresh["headers"].get("content-type").is_none(), "no body");
    assert_eq!(
        statuses(&log, "POST", UPSTREAM_SESSIONS),
        vec![200, 200, 200],
        "minted, then create-or-resume for each expiry"
    );
    assert!(log
        .iter()
        .filter(|r| r["path"] == UPSTREAM_SESSIONS)
        .all(|r| r["auth"] == "api_key"));

    // Remembered for the process: another user never meets the missing endpoint.
    survive_two_expiries(&e, &new_user()).await;
    let log = upstream_log(&e.sb, UPSTREAM_REFRESH).await;
    assert_eq!(count(&log, "POST", UPSTREAM_REFRESH), 1);
}

#[tokio::test]
async fn auto_mode_uses_the_refresh_endpoint_while_it_exists() {
    let e = env_with(fast_sandbox(), |o| o.set("session.reuse_window_secs", "0")).await;
    let user = new_user();
    let c = Client::bearer(&e.app, &user);
    let state = journey_state_path(&c).await;
    expire_session_tokens(&e.sb).await;
    assert_eq!(c.call("GET", &state, None).await.status, 200);
    let log = upstream_log(&e.sb, UPSTREAM_SESSIONS).await;
    assert_eq!(statuses(&log, "POST", UPSTREAM_REFRESH), vec![200]);
    assert_eq!(statuses(&log, "POST", UPSTREAM_SESSIONS), vec![200]);
}

#[tokio::test]
async fn resume_mode_never_calls_a_refresh_endpoint() {
    let e = env_without_refresh("resume").await;
    survive_two_expiries(&e, &new_user()).await;
    let log = upstream_log(&e.sb, UPSTREAM_SESSIONS).await;
    assert_eq!(count(&log, "POST", UPSTREAM_REFRESH), 0, "{log:?}");
    assert_eq!(
        statuses(&log, "POST", UPSTREAM_SESSIONS),
        vec![200, 200, 200]
    );

    // Even with the endpoint back, resume does not use it.
    refresh_endpoint(&e.sb, true).await;
    survive_two_expiries(&e, &new_user()).await;
    let log = upstream_log(&e.sb, UPSTREAM_SESSIONS).await;
    assert_eq!(count(&log, "POST", UPSTREAM_REFRESH), 0);
}

#[tokio::test]
async fn endpoint_mode_fails_with_502_when_the_refresh_endpoint_is_absent() {
    let e = env_without_refresh("endpoint").await;
    let user = new_user();
    let c = Client::bearer(&e.app, &user);
    let state = journey_state_path(&c).await;
    expire_session_tokens(&e.sb).await;

    let (s, b) = post_as(&e.app, "/v1/session/refresh", &jwt(&e.app, &user)).await;
    assert_eq!(s, 502, "{b}");
    assert_eq!(b["error"]["code"], "UPSTREAM_UNAVAILABLE");
    assert!(
        !b.to_string().contains("NOT_FOUND"),
        "the upstream's 404 is not handed to the app: {b}"
    );
    let r = c.call("GET", &state, None).await;
    assert_eq!(r.status, 502, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "UPSTREAM_UNAVAILABLE");

    let log = upstream_log(&e.sb, UPSTREAM_SESSIONS).await;
    assert!(statuses(&log, "POST", UPSTREAM_REFRESH)
        .iter()
        .all(|s| *s == 404));
    assert_eq!(
        statuses(&log, "POST", UPSTREAM_SESSIONS),
        vec![200],
        "endpoint mode never falls back on an absent endpoint"
    );
}

#[tokio::test]
async fn endpoint_mode_still_falls_back_when_the_refresh_token_is_refused() {
    let e = env_with(fast_sandbox(), |o| {
        o.set("upstream.refresh_mode", "endpoint")
            .set("session.reuse_window_secs", "0")
    })
    .await;
    let user = new_user();
    let (_, first) = post_as(&e.app, "/v1/session", &jwt(&e.app, &user)).await;
    control(&e.sb, "/__sandbox/tokens/expire", json!({"refresh": true})).await;
    let (s, b) = post_as(&e.app, "/v1/session/refresh", &jwt(&e.app, &user)).await;
    assert_eq!(s, 200, "{b}");
    assert_ne!(b["data"]["sessionToken"], first["data"]["sessionToken"]);
    assert!(sandbox_accepts(&e.sb, b["data"]["sessionToken"].as_str().unwrap()).await);
    let log = upstream_log(&e.sb, UPSTREAM_SESSIONS).await;
    assert_eq!(statuses(&log, "POST", UPSTREAM_REFRESH), vec![401]);
    assert_eq!(statuses(&log, "POST", UPSTREAM_SESSIONS), vec![200, 200]);
}

#[tokio::test]
async fn auto_mode_logs_the_missing_refresh_endpoint_once_and_never_a_refresh_token() {
    let sb = start_sandbox(fast_sandbox()).await;
    refresh_endpoint(&sb, false).await;
    let mut cmd = bff_command();
    cmd.env("BFF__SERVER__PORT", "0")
        .env("BFF__TELEMETRY__FORMAT", "json")
        .env("BFF__UPSTREAM__BASE_URL", sb.base_url())
        .env("BFF__SESSION__REUSE_WINDOW_SECS", "0")
        .env("RUST_LOG", "debug");
    let bff = Running::spawn(cmd);
    let base = format!("http://127.0.0.1:{}", bff.bff_port().await);
    let settings = load_settings(repo_options(None));
    let http = reqwest::Client::new();
    for user in ["log-refresh-a", "log-refresh-b"] {
        let jwt = mint_jwt(&settings, user, 120);
        let r = http
            .post(format!("{base}/v1/session"))
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        for _ in 0..2 {
            expire_session_tokens(&sb).await;
            let r = http
                .post(format!("{base}/v1/session/refresh"))
                .bearer_auth(&jwt)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let r = http
                .get(format!("{base}/v1/headless/journeys"))
                .bearer_auth(&jwt)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    }
    let logs = bff.output();
    drop(bff);
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("the upstream has no refresh endpoint"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w: Value = serde_json::from_str(warnings[0]).unwrap();
    assert_eq!(w["level"], "WARN", "{w}");
    assert_eq!(w["status"], 404, "{w}");
    let tokens = borrower_tokens_in(&logs);
    assert!(tokens.is_empty(), "{} token(s) in the logs", tokens.len());
    let log = upstream_log(&sb, UPSTREAM_SESSIONS).await;
    assert_eq!(count(&log, "POST", UPSTREAM_REFRESH), 1);
}
