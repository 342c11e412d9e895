//! `/v1/headless/*` against the real sandbox over HTTP and a real Redis: the whole journey,
//! header hygiene, refused paths, ownership, limits, the query string, and logout (upstream failures
//! are in `proxy_upstream_failures`).

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_whole_borrower_journey_runs_through_the_proxy_with_a_partner_jwt() {
    let e = env().await;
    let user = new_user();
    let c = Client::bearer(&e.app, &user);
    let jid = walk_journey(&c).await;

    // Every call reached upstream with a session token, never with anything else.
    let log = upstream_log(&e.sb, HEADLESS).await;
    let proxied: Vec<_> = log
        .iter()
        .filter(|r| {
            !r["path"]
                .as_str()
                .unwrap_or("")
                .starts_with("/api/v1/headless/sessions")
        })
        .collect();
    assert!(proxied.len() > 15, "{}", proxied.len());
    assert!(proxied.iter().all(|r| r["auth"] == "session"));
    // The journey is the user's now (the ops view and ownership rely on it).
    let other = Client::bearer(&e.app, &new_user());
    let r = other
        .call("GET", &format!("/v1/headless/journeys/{jid}/state"), None)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn headers_sent_upstream_are_clean_and_carry_correlation_trace_and_key() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    let trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let r = c
        .request("POST", "/v1/headless/journeys?source=test")
        .header("Idempotency-Key", "hygiene-1")
        .header("X-Correlation-ID", "corr-hygiene-1")
        .header("traceparent", trace)
        .header("Cookie", "__Host-bff_session=abc; other=1")
        .header("X-Forwarded-For", "203.0.113.9")
        .header("Forwarded", "for=203.0.113.9")
        .header("X-CSRF", "1")
        .header("Origin", "https://evil.example")
        .header("Referer", "https://evil.example/page")
        .header("Accept-Language", "hi-IN")
        .header("Connection", "keep-alive, X-Secret-Hop")
        .header("X-Secret-Hop", "drop-me")
        .header("Proxy-Authorization", "Basic Zm9vOmJhcg==")
        .json(&json!({"type": "PERSONAL_LOAN"}))
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.header("x-correlation-id"), Some("corr-hygiene-1"));

    let log = upstream_log(&e.sb, "/api/v1/headless/journeys").await;
    assert_eq!(log.len(), 1);
    let req = &log[0];
    assert_eq!(req["auth"], "session");
    assert_eq!(req["query"], "source=test");
    let h = &req["headers"];
    for absent in [
        "cookie",
        "x-forwarded-for",
        "forwarded",
        "x-csrf",
        "origin",
        "referer",
        "x-secret-hop",
        "proxy-authorization",
    ] {
        assert!(h.get(absent).is_none(), "{absent} was forwarded: {h}");
    }
    assert_eq!(h["x-correlation-id"], "corr-hygiene-1");
    assert_eq!(h["accept-language"], "hi-IN");
    let tp = h["traceparent"].as_str().expect("traceparent");
    assert!(
        tp.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
        "{tp}"
    );
    assert_ne!(tp, trace, "a child span id is sent, not the caller's");
    let key = h["idempotency-key"]
        .as_str()
        .expect("idempotency key upstream");
    assert!(uuid::Uuid::parse_str(key).is_ok(), "{key}");
    assert_ne!(
        key, "hygiene-1",
        "the upstream key is derived, not the caller's"
    );
}

#[tokio::test]
async fn session_paths_are_forbidden_without_any_upstream_call() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    for path in [
        "/v1/headless/sessions",
        "/v1/headless/sessions/refresh",
        "/v1/headless/SESSIONS",
        "/v1/headless/%73essions/refresh",
    ] {
        let r = c.call("POST", path, Some(json!({}))).await;
        assert_eq!(r.status, 403, "{path}: {}", r.raw);
        assert_eq!(r.body["error"]["code"], "FORBIDDEN");
    }
    for path in [
        "/v1/headless/journeys/..%2Fsessions",
        "/v1/headless/journeys/%2e%2e/sessions",
        "/v1/headless//sessions",
    ] {
        let r = c.call("GET", path, None).await;
        assert!(r.status == 400 || r.status == 403, "{path}: {}", r.raw);
    }
    assert!(upstream_log(&e.sb, "/").await.is_empty());
}

#[tokio::test]
async fn a_journey_of_another_user_is_404_without_any_upstream_call() {
    let e = env().await;
    let owner = Client::bearer(&e.app, &new_user());
    let r = owner
        .call(
            "POST",
            "/v1/headless/journeys",
            Some(json!({"type": "PERSONAL_LOAN"})),
        )
        .await;
    let jid = r.data()["journeyID"].as_str().unwrap().to_owned();
    owner
        .call("PUT", "/v1/headless/profile", Some(full_profile()))
        .await;
    owner
        .call("POST", "/v1/headless/profile/submit", Some(json!({})))
        .await;
    await_journey_status(&owner, &jid, "OFFERS_AVAILABLE").await;
    let r = owner
        .call("GET", &format!("/v1/headless/journeys/{jid}/offers"), None)
        .await;
    let oid = r.data()["offers"][0]["offerID"]
        .as_str()
        .unwrap()
        .to_owned();

    let intruder = Client::bearer(&e.app, &new_user());
    let before = upstream_log(&e.sb, "/").await.len();
    for (method, path) in [
        ("GET", format!("/v1/headless/journeys/{jid}/state")),
        ("GET", format!("/v1/headless/journeys/{jid}/offers")),
        ("POST", format!("/v1/headless/journeys/{jid}/aa/sessions")),
        ("POST", format!("/v1/headless/offers/{oid}/proceed")),
        ("GET", format!("/v1/headless/offers/{oid}/steps")),
    ] {
        let r = intruder.call(method, &path, Some(json!({}))).await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.raw);
        assert_eq!(r.body["error"]["code"], "JOURNEY_NOT_FOUND");
    }
    assert_eq!(
        upstream_log(&e.sb, "/").await.len(),
        before,
        "nothing reached upstream"
    );
}

#[tokio::test]
async fn an_oversized_body_is_413_before_anything_reaches_upstream() {
    let e = env_with(fast_sandbox(), |o| o.set("proxy.max_body_bytes", "1024")).await;
    let c = Client::bearer(&e.app, &new_user());
    let big = "x".repeat(4096);
    let r = c
        .call("PUT", "/v1/headless/profile", Some(json!({ "pad": big })))
        .await;
    assert_eq!(r.status, 413, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "PAYLOAD_TOO_LARGE");
    // Streamed in chunks without a declared length: refused while reading.
    let status = chunked_put(&e.app, &c, "/v1/headless/profile", 8, 512).await;
    assert_eq!(status, 413);
    assert!(upstream_log(&e.sb, "/").await.is_empty());
}

#[tokio::test]
async fn the_query_string_is_passed_through_unchanged() {
    let e = env().await;
    let c = Client::bearer(&e.app, &new_user());
    let r = c
        .call("GET", "/v1/headless/journeys?status=ANY&x=%20y", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let log = upstream_log(&e.sb, "/api/v1/headless/journeys").await;
    assert_eq!(log.last().unwrap()["query"], "status=ANY&x=%20y");
}

/// PUT `chunks` chunks of `size` bytes with `Transfer-Encoding: chunked` over a raw socket (no
/// Content-Length), and return the response status.
async fn chunked_put(app: &TestApp, c: &Client, path: &str, chunks: usize, size: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Auth::Bearer(token) = &c.auth else {
        panic!("bearer client expected")
    };
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Idempotency-Key: chunked-1\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..chunks {
        let chunk = format!("{size:x}\r\n{}\r\n", "a".repeat(size));
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break; // the server may answer and close before we are done
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn after_logout_the_next_proxied_call_on_the_instance_does_not_reuse_the_old_token() {
    let e = env().await;
    let user = new_user();
    let c = Client::bearer(&e.app, &user);
    assert_eq!(
        c.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    let r = e
        .app
        .client
        .delete(e.app.url("/v1/session"))
        .bearer_auth(jwt(&e.app, &user))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        c.call("GET", "/v1/headless/journeys", None).await.status,
        200
    );
    let log = upstream_log(&e.sb, "/api/v1/headless/sessions").await;
    assert_eq!(
        count(&log, "POST", "/api/v1/headless/sessions"),
        2,
        "the call after logout minted a new session instead of using the remembered token"
    );
}
