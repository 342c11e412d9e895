//! Web mode: the session cookie (attributes, rotation, expiry, logout), the CSRF header, CORS,
//! and a whole journey driven by a browser-style caller.

use serde_json::json;

use crate::helpers::*;

const PARTNER_ORIGIN: &str = "https://app.partner.example";

async fn web_env() -> Env {
    env_with(fast_sandbox(), |o| {
        o.set("web.allowed_origins", PARTNER_ORIGIN)
    })
    .await
}

fn set_cookie_line(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-bff_session="))
        .expect("a Set-Cookie for the session")
        .to_owned()
}

#[tokio::test]
async fn web_login_sets_a_host_only_secure_http_only_strict_cookie_and_no_token() {
    let e = web_env().await;
    let user = new_user();
    let res = e
        .app
        .client
        .post(e.app.url("/v1/web/session"))
        .bearer_auth(jwt(&e.app, &user))
        .send()
        .await
        .unwrap();
    let headers = res.headers().clone();
    let r = reply(res).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let line = set_cookie_line(&headers);
    for attr in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(line.contains(attr), "{attr} missing in {line}");
    }
    assert!(!line.to_ascii_lowercase().contains("domain="), "{line}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let value = session_cookie(&headers).unwrap();
    let value = value.split('=').nth(1).unwrap();
    assert!(
        !r.raw.contains(value),
        "the cookie value is not in the body"
    );
    assert_eq!(r.data()["userID"], user.as_str());
    assert!(r.raw.find("sessionToken").is_none());
}

#[tokio::test]
async fn a_cookie_call_without_x_csrf_is_401_and_reaches_nothing() {
    let e = web_env().await;
    let c = Client::cookie(&e.app, &new_user()).await;
    let Auth::Cookie(cookie) = &c.auth else {
        unreachable!()
    };
    let r = reply(
        e.app
            .client
            .get(e.app.url("/v1/headless/journeys"))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "UNAUTHENTICATED");
    let r = reply(
        e.app
            .client
            .get(e.app.url("/v1/headless/journeys"))
            .header("Cookie", cookie)
            .header("X-CSRF", "yes")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401, "only X-CSRF: 1 counts");
    assert!(upstream_log(&e.sb, "/").await.is_empty());
    // With the header it works.
    assert_eq!(
        c.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
}

#[tokio::test]
async fn logging_in_again_rotates_the_cookie_and_ends_the_old_one() {
    let e = web_env().await;
    let user = new_user();
    let first = Client::cookie(&e.app, &user).await;
    let Auth::Cookie(old) = &first.auth else {
        unreachable!()
    };
    let res = e
        .app
        .client
        .post(e.app.url("/v1/web/session"))
        .bearer_auth(jwt(&e.app, &user))
        .header("Cookie", old)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let new = session_cookie(res.headers()).unwrap();
    assert_ne!(&new, old);
    assert_eq!(
        first
            .call("GET", "/v1/headless/journeys", None)
            .await
            .status,
        401
    );
    let second = Client {
        auth: Auth::Cookie(new),
        ..first.clone()
    };
    assert_eq!(
        second
            .call("GET", "/v1/headless/journeys", None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn delete_ends_the_web_session_and_clears_the_cookie() {
    let e = web_env().await;
    let c = Client::cookie(&e.app, &new_user()).await;
    let res = c.request("DELETE", "/v1/web/session").send().await.unwrap();
    let headers = res.headers().clone();
    let r = reply(res).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.data()["ended"], true);
    assert!(set_cookie_line(&headers).contains("Max-Age=0"));
    let r = c.call("GET", "/v1/headless/journeys", None).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn an_idle_web_session_expires_and_so_does_an_old_one() {
    for (idle, absolute) in [("1", "3600"), ("3600", "1")] {
        let e = env_with(fast_sandbox(), |o| {
            o.set("web.idle_timeout_secs", idle)
                .set("web.absolute_timeout_secs", absolute)
        })
        .await;
        let c = Client::cookie(&e.app, &new_user()).await;
        assert_eq!(
            c.call("GET", "/v1/headless/journeys", None).await.status,
            200
        );
        let ended = eventually(5, || async {
            c.call("GET", "/v1/headless/journeys", None).await.status == 401
        })
        .await;
        assert!(
            ended,
            "idle {idle} / absolute {absolute}: the session never ended"
        );
    }
}

#[tokio::test]
async fn a_whole_borrower_journey_runs_through_the_proxy_in_cookie_mode() {
    let e = web_env().await;
    let c = Client::cookie(&e.app, &new_user()).await;
    walk_journey(&c).await;
    let log = upstream_log(&e.sb, HEADLESS).await;
    assert!(log.iter().all(|r| r["headers"].get("cookie").is_none()));
    assert!(log.iter().all(|r| r["headers"].get("x-csrf").is_none()));
}

#[tokio::test]
async fn cors_answers_listed_origins_and_ignores_others() {
    let e = web_env().await;
    let preflight = |origin: &'static str| {
        e.app
            .client
            .request(reqwest::Method::OPTIONS, e.app.url("/v1/headless/journeys"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type, idempotency-key, x-csrf",
            )
            .send()
    };
    let r = reply(preflight(PARTNER_ORIGIN).await.unwrap()).await;
    assert_eq!(r.status, 204, "{}", r.raw);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(PARTNER_ORIGIN)
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let methods = r.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("DELETE"),
        "{methods}"
    );
    let allowed = r
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in [
        "content-type",
        "idempotency-key",
        "x-csrf",
        "x-correlation-id",
        "traceparent",
        "authorization",
    ] {
        assert!(allowed.contains(h), "{h} not in {allowed}");
    }
    assert!(r.header("access-control-max-age").is_some());
    assert!(r
        .headers
        .get_all("vary")
        .iter()
        .any(|v| v.to_str().unwrap().contains("Origin")));
    assert!(
        upstream_log(&e.sb, "/").await.is_empty(),
        "preflights stay here"
    );

    let r = reply(preflight("https://evil.example").await.unwrap()).await;
    assert_ne!(r.status, 204);
    assert!(r.header("access-control-allow-origin").is_none());
    assert!(r.header("access-control-allow-credentials").is_none());

    // Actual requests: a listed origin may read the answer and the exposed headers.
    let c = Client::cookie(&e.app, &new_user()).await;
    let r = reply(
        c.request("POST", "/v1/headless/journeys")
            .header("Origin", PARTNER_ORIGIN)
            .header("Idempotency-Key", "cors-1")
            .json(&json!({"type": "PERSONAL_LOAN"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some(PARTNER_ORIGIN)
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let exposed = r.header("access-control-expose-headers").unwrap();
    for h in [
        "X-Correlation-ID",
        "Idempotent-Replayed",
        "Idempotency-Retention",
        "Retry-After",
    ] {
        assert!(exposed.contains(h), "{h} not in {exposed}");
    }
    let r = reply(
        c.request("GET", "/v1/headless/journeys")
            .header("Origin", "https://evil.example")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(r.header("access-control-allow-origin").is_none());
    assert!(r.header("access-control-expose-headers").is_none());
}
