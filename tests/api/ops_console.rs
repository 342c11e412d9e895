//! The ops console: the page at `/ops/`, sign-in with an ops token for a cookie, the cookie with
//! `X-CSRF: 1` on ops calls (the event stream takes the cookie alone), sign-out, and the cookie
//! session shared by every instance.

use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::helpers::*;

/// The `Set-Cookie` line for `name`, if the answer sets one.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// `name=value` from a `Set-Cookie` line.
fn pair(line: &str) -> String {
    line.split(';').next().unwrap_or_default().to_owned()
}

/// Sign in as a browser behind a TLS-terminating proxy would (the strict `__Host-` cookie; the
/// plain-HTTP development cookie is tested on its own).
async fn login(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/ops/login"))
        .header("X-Forwarded-Proto", "https")
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap()
}

/// Sign in with the development token; the `Cookie` header value to send from then on.
async fn signed_in(app: &TestApp, cookie_name: &str) -> String {
    let res = login(app, DEV_OPS_TOKEN).await;
    assert_eq!(res.status().as_u16(), 200);
    pair(&set_cookie(res.headers(), cookie_name).expect("an ops cookie"))
}

async fn ops_with_cookie(app: &TestApp, path: &str, cookie: &str, csrf: bool) -> reqwest::Response {
    let mut req = app.client.get(app.url(path)).header("Cookie", cookie);
    if csrf {
        req = req.header("X-CSRF", "1");
    }
    req.send().await.unwrap()
}

/// The repository's development configuration (no `BFF_ENV`), as a test app.
fn development_options() -> LoadOptions {
    repo_options(None)
        .set("server.port", "0")
        .set("server.workers", "1")
        .set("store.redis_url", redis_url())
        .set("store.key_prefix", unique_prefix())
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_a_strict_content_policy() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/ops")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 308);
    assert_eq!(res.headers()["location"], "/ops/");
    for (path, content_type, marker) in [
        ("/ops/", "text/html", "console.js"),
        ("/ops/console.css", "text/css", "{"),
        ("/ops/console.js", "text/javascript", "EventSource"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let h = res.headers().clone();
        assert!(
            h["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert_eq!(h["x-content-type-options"], "nosniff");
        let body = res.text().await.unwrap();
        assert!(body.contains(marker), "{path}");
        // No external assets: everything the page loads is relative to itself.
        assert!(
            !body.contains("https://") && !body.contains("http://"),
            "{path}"
        );
    }
    let res = app
        .client
        .get(app.url("/ops/other.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn a_wrong_token_is_401_without_a_cookie_and_the_right_one_gets_a_strict_cookie() {
    let app = spawn_app().await;
    for body in [
        json!({ "token": "not-the-token" }),
        json!({ "token": "" }),
        json!({ "token": format!("{DEV_OPS_TOKEN}x") }),
    ] {
        let res = app
            .client
            .post(app.url("/v1/ops/login"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.headers().get("set-cookie").is_none(), "{body}");
        assert_refused(res, 401, "UNAUTHENTICATED").await;
    }
    let res = login(&app, DEV_OPS_TOKEN).await;
    let headers = res.headers().clone();
    let r = reply(res).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.data()["operator"], "ops");
    let expires = chrono::DateTime::parse_from_rfc3339(r.data()["expiresAt"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let in_8h = chrono::Utc::now().timestamp() + 8 * 3600;
    assert!((expires - in_8h).abs() < 60, "expiresAt is 8 h away");
    // Outside development the cookie is always the host-only, Secure one.
    let line = set_cookie(&headers, "__Host-bff_ops").expect("the __Host- cookie");
    for attr in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=28800",
    ] {
        assert!(line.contains(attr), "{attr} missing in {line}");
    }
    assert!(!line.to_ascii_lowercase().contains("domain="), "{line}");
    let value = pair(&line).split_once('=').unwrap().1.to_owned();
    assert!(
        !r.raw.contains(&value),
        "the cookie value is not in the body"
    );
    assert!(!r.raw.contains(DEV_OPS_TOKEN), "the token is not echoed");
    // (Outside development only this strict name is read: a unit test of auth::ops_session.)
}

#[tokio::test]
async fn development_over_plain_http_gets_a_cookie_a_browser_keeps_on_http() {
    let app = spawn_app_with(development_options()).await;
    let res = app
        .client
        .post(app.url("/v1/ops/login"))
        .json(&json!({ "token": DEV_OPS_TOKEN }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let line = set_cookie(res.headers(), "bff_ops").expect("the development cookie");
    assert!(!line.contains("Secure"), "{line}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(line.contains(attr), "{attr} missing in {line}");
    }
    let res = ops_with_cookie(&app, "/v1/ops/events?limit=1", &pair(&line), true).await;
    assert_eq!(res.status().as_u16(), 200);
    // Behind TLS (as a proxy reports it) development uses the strict cookie too.
    let res = app
        .client
        .post(app.url("/v1/ops/login"))
        .header("X-Forwarded-Proto", "https")
        .json(&json!({ "token": DEV_OPS_TOKEN }))
        .send()
        .await
        .unwrap();
    let line = set_cookie(res.headers(), "__Host-bff_ops").expect("the __Host- cookie");
    assert!(line.contains("Secure"), "{line}");
}

#[tokio::test]
async fn a_cookie_call_needs_x_csrf_except_the_event_stream() {
    let app = spawn_app().await;
    let cookie = signed_in(&app, "__Host-bff_ops").await;
    for path in [
        "/v1/ops/events?limit=1",
        "/v1/ops/dead-letters",
        "/v1/ops/journeys",
    ] {
        let res = ops_with_cookie(&app, path, &cookie, false).await;
        let body = assert_refused(res, 401, "UNAUTHENTICATED").await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("X-CSRF"),
            "{body}"
        );
        let res = ops_with_cookie(&app, path, &cookie, true).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
    }
    for path in [
        "/v1/ops/dead-letters/abc/redrive",
        "/v1/ops/forwarding/evt_1/resend",
    ] {
        let res = app
            .client
            .post(app.url(path))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_refused(res, 401, "UNAUTHENTICATED").await;
    }
    // With X-CSRF the cookie gets through (forwarding is off here: 400 in the envelope).
    let res = app
        .client
        .post(app.url("/v1/ops/forwarding/evt_1/resend"))
        .header("Cookie", &cookie)
        .header("X-CSRF", "1")
        .send()
        .await
        .unwrap();
    assert_refused(res, 400, "VALIDATION_ERROR").await;
    // EventSource cannot send headers: the stream takes the cookie alone.
    let mut res = ops_with_cookie(&app, "/v1/ops/events/stream", &cookie, false).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), res.chunk())
        .await
        .expect("the stream answers")
        .unwrap()
        .unwrap_or_default();
    assert!(String::from_utf8_lossy(&first).contains("retry:"));
    drop(res);
    // Not without a live cookie, though.
    for bad in [
        String::new(),
        "__Host-bff_ops=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        "__Host-bff_ops=short".to_owned(),
    ] {
        let res = ops_with_cookie(&app, "/v1/ops/events/stream", &bad, false).await;
        assert_refused(res, 401, "UNAUTHENTICATED").await;
    }
    // A bearer token still works for scripts, with or without a cookie beside it.
    let res = app
        .client
        .get(app.url("/v1/ops/events?limit=1"))
        .bearer_auth(DEV_OPS_TOKEN)
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn sign_out_ends_the_session_on_every_instance() {
    let a = spawn_app().await;
    let b = spawn_app_with(base_options().set("store.key_prefix", a.key_prefix())).await;
    let cookie = signed_in(&a, "__Host-bff_ops").await;
    // Another instance accepts the cookie: the session lives in the store.
    let res = ops_with_cookie(&b, "/v1/ops/events?limit=1", &cookie, true).await;
    assert_eq!(res.status().as_u16(), 200);
    // Sign-out is a cookie call: X-CSRF is required.
    let res = b
        .client
        .post(b.url("/v1/ops/logout"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_refused(res, 401, "UNAUTHENTICATED").await;
    let res = b
        .client
        .post(b.url("/v1/ops/logout"))
        .header("Cookie", &cookie)
        .header("X-CSRF", "1")
        .send()
        .await
        .unwrap();
    let headers = res.headers().clone();
    let r = reply(res).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.data()["ended"], true);
    let cleared = set_cookie(&headers, "__Host-bff_ops").expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    for app in [&a, &b] {
        let res = ops_with_cookie(app, "/v1/ops/events?limit=1", &cookie, true).await;
        let body = assert_refused(res, 401, "UNAUTHENTICATED").await;
        assert!(!body.to_string().contains(&cookie), "{body}");
    }
    // Signing out again (or without a cookie) is harmless.
    let res = a
        .client
        .post(a.url("/v1/ops/logout"))
        .header("Cookie", &cookie)
        .header("X-CSRF", "1")
        .send()
        .await
        .unwrap();
    let r = reply(res).await;
    assert_eq!(
        (r.status, r.data()["ended"].clone()),
        (200, Value::Bool(false))
    );
}

#[tokio::test]
async fn signing_in_again_replaces_the_browsers_earlier_session() {
    let app = spawn_app().await;
    let first = signed_in(&app, "__Host-bff_ops").await;
    let res = app
        .client
        .post(app.url("/v1/ops/login"))
        .header("Cookie", &first)
        .header("X-Forwarded-Proto", "https")
        .json(&json!({ "token": DEV_OPS_TOKEN }))
        .send()
        .await
        .unwrap();
    let second = pair(&set_cookie(res.headers(), "__Host-bff_ops").unwrap());
    assert_ne!(first, second);
    let res = ops_with_cookie(&app, "/v1/ops/events?limit=1", &first, true).await;
    assert_eq!(res.status().as_u16(), 401, "the earlier session ended");
    let res = ops_with_cookie(&app, "/v1/ops/events?limit=1", &second, true).await;
    assert_eq!(res.status().as_u16(), 200);
}
