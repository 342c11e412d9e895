//! `POST /v1/webhooks/aarthik`: the signature matrix, size limit, tenant scope, de-duplication
//! (also racing across two instances), ordering, user mapping, store outage, forwarding, and the
//! whole path from the embedded sandbox to the ops API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aarthik_bff::directory::Directory;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

fn signed_headers(body: &str, secret: &str, ts: &str) -> Vec<(&'static str, String)> {
    let event_id = serde_json::from_str::<Value>(body).unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    vec![
        ("X-AL-Event-ID", event_id),
        ("X-AL-Tenant-ID", TENANT_ID.to_owned()),
        ("X-AL-Application-ID", APPLICATION_ID.to_owned()),
        ("X-AL-Webhook-Timestamp", ts.to_owned()),
        (
            "X-AL-Webhook-Signature",
            webhook_signature(secret, ts, body.as_bytes()),
        ),
    ]
}

fn without(headers: &[(&'static str, String)], name: &str) -> Vec<(&'static str, String)> {
    headers
        .iter()
        .filter(|(k, _)| *k != name)
        .cloned()
        .collect()
}

async fn assert_refused(res: reqwest::Response, status: u16, code: &str) -> Value {
    let (got, body) = status_and_body(res).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body
}

async fn journey_status(app: &TestApp, journey_id: &str) -> u16 {
    app.ops_get(&format!("/v1/ops/journeys/{journey_id}"))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_correctly_signed_snapshot_is_acknowledged_and_stored() {
    let app = spawn_app_with(base_options()).await;
    let (event, journey) = (new_event_id(), uuid::Uuid::new_v4().to_string());
    let body = snapshot_body(
        &event,
        &journey,
        1_775_121_370_123,
        "OFFERS_AVAILABLE",
        "u-1",
    );
    let (status, env) = status_and_body(app.post_webhook(&body).await).await;
    assert_eq!(status, 200, "{env}");
    assert_eq!(env["data"]["eventID"], event.as_str());
    assert_eq!(env["data"]["outcome"], "stored");
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["status"], "OFFERS_AVAILABLE");
    assert_eq!(view["sequence"], 1_775_121_370_123u64);
}

#[tokio::test]
async fn a_tampered_body_is_refused_and_nothing_is_stored() {
    let app = spawn_app_with(base_options()).await;
    let journey = uuid::Uuid::new_v4().to_string();
    let body = snapshot_body(&new_event_id(), &journey, 5, "OFFERS_AVAILABLE", "u-1");
    let ts = now_secs().to_string();
    let headers = signed_headers(&body, DEV_WEBHOOK_SECRET, &ts);
    let tampered = body.replace("OFFERS_AVAILABLE", "DISBURSED");
    let res = app.post_webhook_raw(tampered, &headers).await;
    assert_refused(res, 401, "WEBHOOK_SIGNATURE_INVALID").await;
    assert_eq!(journey_status(&app, &journey).await, 404);
}

#[tokio::test]
async fn a_signature_made_with_another_secret_is_refused() {
    let app = spawn_app_with(base_options()).await;
    let body = snapshot_body(&new_event_id(), "j-other", 5, "X", "u-1");
    let res = app.post_webhook_signed(&body, "whsec_someone_else").await;
    let env = assert_refused(res, 401, "WEBHOOK_SIGNATURE_INVALID").await;
    assert!(!env.to_string().contains(DEV_WEBHOOK_SECRET));
}

#[tokio::test]
async fn during_a_rotation_both_the_new_and_the_old_secret_are_accepted() {
    let app =
        spawn_app_with(base_options().set("webhook.secrets", "whsec_new_current, whsec_old_prev"))
            .await;
    for secret in ["whsec_new_current", "whsec_old_prev"] {
        let body = snapshot_body(&new_event_id(), "j-rot", 5, "X", "u-1");
        let res = app.post_webhook_signed(&body, secret).await;
        assert_eq!(res.status().as_u16(), 200, "{secret}");
    }
    let body = snapshot_body(&new_event_id(), "j-rot", 6, "X", "u-1");
    let res = app.post_webhook_signed(&body, DEV_WEBHOOK_SECRET).await;
    assert_refused(res, 401, "WEBHOOK_SIGNATURE_INVALID").await;
}

#[tokio::test]
async fn a_delivery_without_signature_or_timestamp_is_refused() {
    let app = spawn_app_with(base_options()).await;
    let body = snapshot_body(&new_event_id(), "j-miss", 5, "X", "u-1");
    let headers = signed_headers(&body, DEV_WEBHOOK_SECRET, &now_secs().to_string());
    for missing in ["X-AL-Webhook-Signature", "X-AL-Webhook-Timestamp"] {
        let res = app
            .post_webhook_raw(body.clone(), &without(&headers, missing))
            .await;
        assert_refused(res, 401, "WEBHOOK_SIGNATURE_INVALID").await;
    }
    assert_eq!(journey_status(&app, "j-miss").await, 404);
}

#[tokio::test]
async fn stale_and_future_timestamps_are_refused_even_when_correctly_signed() {
    let app = spawn_app_with(base_options().set("webhook.tolerance_secs", "300")).await;
    let body = snapshot_body(&new_event_id(), "j-time", 5, "X", "u-1");
    for ts in [
        (now_secs() - 310).to_string(),
        (now_secs() + 310).to_string(),
        ((now_secs() - 310) * 1000).to_string(),
        "2001-01-01T00:00:00Z".to_owned(),
        "not-a-time".to_owned(),
    ] {
        let res = app
            .post_webhook_raw(
                body.clone(),
                &signed_headers(&body, DEV_WEBHOOK_SECRET, &ts),
            )
            .await;
        assert_refused(res, 401, "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE").await;
    }
    assert_eq!(journey_status(&app, "j-time").await, 404);
}

#[tokio::test]
async fn timestamps_in_milliseconds_or_rfc3339_are_accepted_when_fresh() {
    let app = spawn_app_with(base_options()).await;
    let now = chrono::Utc::now();
    for ts in [
        now.timestamp_millis().to_string(),
        now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        (now.timestamp() - 200).to_string(),
    ] {
        let body = snapshot_body(&new_event_id(), "j-fmt", 5, "X", "u-1");
        let res = app
            .post_webhook_raw(
                body.clone(),
                &signed_headers(&body, DEV_WEBHOOK_SECRET, &ts),
            )
            .await;
        assert_eq!(res.status().as_u16(), 200, "{ts}");
    }
}

#[tokio::test]
async fn an_event_id_header_that_is_missing_or_differs_from_the_body_is_a_validation_error() {
    let app = spawn_app_with(base_options()).await;
    let body = snapshot_body(&new_event_id(), "j-eid", 5, "X", "u-1");
    let headers = signed_headers(&body, DEV_WEBHOOK_SECRET, &now_secs().to_string());
    let res = app
        .post_webhook_raw(body.clone(), &without(&headers, "X-AL-Event-ID"))
        .await;
    assert_refused(res, 400, "VALIDATION_ERROR").await;
    let mut other = without(&headers, "X-AL-Event-ID");
    other.push(("X-AL-Event-ID", new_event_id()));
    let res = app.post_webhook_raw(body.clone(), &other).await;
    assert_refused(res, 400, "VALIDATION_ERROR").await;
    assert_eq!(journey_status(&app, "j-eid").await, 404);
}

#[tokio::test]
async fn a_delivery_for_another_tenant_or_application_is_forbidden() {
    let app = spawn_app_with(
        base_options()
            .set("webhook.tenant_id", TENANT_ID)
            .set("webhook.application_id", APPLICATION_ID),
    )
    .await;
    let body = snapshot_body(&new_event_id(), "j-scope", 5, "X", "u-1");
    let headers = signed_headers(&body, DEV_WEBHOOK_SECRET, &now_secs().to_string());
    for name in ["X-AL-Tenant-ID", "X-AL-Application-ID"] {
        let mut h = without(&headers, name);
        h.push((name, uuid::Uuid::new_v4().to_string()));
        let res = app.post_webhook_raw(body.clone(), &h).await;
        assert_refused(res, 403, "FORBIDDEN").await;
    }
    // The signed body names another tenant even though the (unsigned) headers are right.
    let foreign = body.replace(TENANT_ID, "00000000-0000-4000-8000-000000000000");
    let res = app.post_webhook(&foreign).await;
    assert_refused(res, 403, "FORBIDDEN").await;
    assert_eq!(journey_status(&app, "j-scope").await, 404);
    let res = app.post_webhook_raw(body.clone(), &headers).await;
    assert_eq!(res.status().as_u16(), 200);
}

/// Send raw HTTP/1.1 and return the answer's status line and body (bounded in time).
async fn raw_exchange(port: u16, head: String, chunks: Vec<Vec<u8>>) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    for c in chunks {
        if s.write_all(&c).await.is_err() {
            break;
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 4096];
    // Until the JSON envelope is complete (it ends with `}`), EOF, or the deadline.
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            if body.trim_end().ends_with('}') {
                return (
                    head.lines().next().unwrap_or_default().to_owned(),
                    body.to_owned(),
                );
            }
        }
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => {
                return (
                    text.lines().next().unwrap_or_default().to_owned(),
                    String::new(),
                )
            }
        }
    }
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_before_it_is_buffered() {
    let app = spawn_app_with(base_options()).await;
    // Declared too large: refused without waiting for a single body byte.
    let head = format!(
        "POST /v1/webhooks/aarthik HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        2 * 1024 * 1024
    );
    let (status, body) = raw_exchange(app.port, head, vec![]).await;
    assert!(status.contains(" 413"), "{status}");
    assert!(body.contains("PAYLOAD_TOO_LARGE"), "{body}");
    // Chunked without a length: cut off at the chunk that crosses the limit.
    let head = "POST /v1/webhooks/aarthik HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n"
        .to_owned();
    let piece = vec![b'a'; 64 * 1024];
    let chunk = [
        format!("{:x}\r\n", piece.len()).into_bytes(),
        piece,
        b"\r\n".to_vec(),
    ]
    .concat();
    let (status, body) = raw_exchange(app.port, head, vec![chunk; 17]).await;
    assert!(status.contains(" 413"), "{status}");
    assert!(body.contains("PAYLOAD_TOO_LARGE"), "{body}");
    // Exactly at the limit is not refused for its size (it is refused for its signature).
    let res = app.post_webhook_raw(vec![b' '; 1024 * 1024], &[]).await;
    assert_refused(res, 401, "WEBHOOK_SIGNATURE_INVALID").await;
}

#[tokio::test]
async fn a_duplicate_delivery_is_acknowledged_and_stored_once() {
    let app = spawn_app_with(base_options()).await;
    let event = new_event_id();
    let journey = uuid::Uuid::new_v4().to_string();
    let body = snapshot_body(&event, &journey, 7, "OFFERS_AVAILABLE", "u-dup");
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let (status, env) = status_and_body(app.post_webhook(&body).await).await;
        assert_eq!(status, 200, "{env}");
        outcomes.push(env["data"]["outcome"].as_str().unwrap().to_owned());
    }
    assert_eq!(outcomes, ["stored", "duplicate", "duplicate"]);
    let feed = app.ops_feed().await;
    assert_eq!(
        feed.iter()
            .filter(|e| e["eventID"] == event.as_str())
            .count(),
        1
    );
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["events"].as_array().unwrap().len(), 1);
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
        metrics.contains(r#"bff_webhook_events_total{outcome="stored"} 1"#)
            && metrics.contains(r#"bff_webhook_events_total{outcome="duplicate"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn concurrent_duplicates_on_two_instances_sharing_redis_are_stored_once() {
    let options = base_options();
    let a = spawn_app_with(options.clone()).await;
    let b = spawn_app_with(options).await;
    for _round in 0..3 {
        let event = new_event_id();
        let body = snapshot_body(&event, &uuid::Uuid::new_v4().to_string(), 9, "X", "u-race");
        let sends = (0..10).map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            let body = body.clone();
            async move { status_and_body(app.post_webhook(&body).await).await }
        });
        let results = futures_util::future::join_all(sends).await;
        let mut stored = 0;
        for (status, env) in &results {
            assert_eq!(*status, 200, "{env}");
            if env["data"]["outcome"] == "stored" {
                stored += 1;
            }
        }
        assert_eq!(stored, 1, "{results:?}");
        for app in [&a, &b] {
            let feed = app.ops_feed().await;
            assert_eq!(
                feed.iter()
                    .filter(|e| e["eventID"] == event.as_str())
                    .count(),
                1
            );
        }
    }
}

#[tokio::test]
async fn an_older_snapshot_after_a_newer_one_never_replaces_it_and_is_marked_stale() {
    let app = spawn_app_with(base_options()).await;
    let journey = uuid::Uuid::new_v4().to_string();
    let (newer, older) = (new_event_id(), new_event_id());
    let res = app
        .post_webhook(&snapshot_body(
            &newer,
            &journey,
            200,
            "OFFER_SELECTED",
            "u-ord",
        ))
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let res = app
        .post_webhook(&snapshot_body(
            &older,
            &journey,
            100,
            "OFFERS_AVAILABLE",
            "u-ord",
        ))
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["status"], "OFFER_SELECTED");
    assert_eq!(view["sequence"], 200);
    assert_eq!(view["snapshot"]["event_id"], newer.as_str());
    let seqs: Vec<u64> = view["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [100, 200], "history is ordered by sequence");
    let feed: Vec<Value> = app
        .ops_feed()
        .await
        .into_iter()
        .filter(|e| e["journeyID"] == journey.as_str())
        .collect();
    assert_eq!(feed.len(), 2);
    assert_eq!(
        (feed[0]["eventID"].as_str(), feed[0]["stale"].as_bool()),
        (Some(newer.as_str()), Some(false))
    );
    assert_eq!(
        (feed[1]["eventID"].as_str(), feed[1]["stale"].as_bool()),
        (Some(older.as_str()), Some(true))
    );
}

#[tokio::test]
async fn a_journey_maps_to_the_partner_user_behind_a_pseudonymous_borrower_id() {
    let options = base_options().set("auth.pseudonym_pepper", "a-pepper-for-this-test");
    let app = spawn_app_with(options).await;
    let prefix = app.settings.store.key_prefix.clone();
    let directory = Directory::new(redis_store(&prefix));
    directory
        .link_borrower("pseudo-abc", "partner-user-42")
        .await
        .unwrap();
    let (known, unknown) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    app.post_webhook(&snapshot_body(
        &new_event_id(),
        &known,
        1,
        "X",
        "pseudo-abc",
    ))
    .await;
    app.post_webhook(&snapshot_body(
        &new_event_id(),
        &unknown,
        1,
        "X",
        "pseudo-unknown",
    ))
    .await;
    let view = app.ops_data(&format!("/v1/ops/journeys/{known}")).await;
    assert_eq!(view["userID"], "partner-user-42");
    assert_eq!(view["borrowerExternalID"], "pseudo-abc");
    let view = app.ops_data(&format!("/v1/ops/journeys/{unknown}")).await;
    assert_eq!(
        view["userID"],
        Value::Null,
        "a pseudonym nobody registered maps to no user"
    );
    let mine = app.ops_data("/v1/ops/users/partner-user-42/journeys").await;
    assert_eq!(mine["journeys"][0]["journeyID"], known.as_str());
    assert_eq!(
        directory.owner_of(&known).await.unwrap().as_deref(),
        Some("partner-user-42")
    );
}

#[tokio::test]
async fn a_journey_already_linked_by_a_session_keeps_that_user() {
    let options = base_options();
    let app = spawn_app_with(options).await;
    let prefix = app.settings.store.key_prefix.clone();
    let journey = uuid::Uuid::new_v4().to_string();
    Directory::new(redis_store(&prefix))
        .link_journey(&journey, "user-from-session")
        .await
        .unwrap();
    app.post_webhook(&snapshot_body(
        &new_event_id(),
        &journey,
        1,
        "X",
        "someone-else",
    ))
    .await;
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["userID"], "user-from-session");
}

// ---- Store outage -------------------------------------------------------------------------

struct RedisChild {
    child: std::process::Child,
}

impl Drop for RedisChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_redis(port: u16) -> RedisChild {
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("redis-server starts");
    RedisChild { child }
}

async fn redis_answers(port: u16) -> bool {
    eventually(10, || async move {
        let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
            return false;
        };
        if s.write_all(b"PING\r\n").await.is_err() {
            return false;
        }
        let mut buf = [0u8; 16];
        matches!(s.read(&mut buf).await, Ok(n) if buf[..n].starts_with(b"+PONG"))
    })
    .await
}

#[tokio::test]
async fn while_redis_is_down_deliveries_get_503_and_the_retry_is_stored_exactly_once() {
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: redis-server is not on PATH; this test needs its own Redis to kill");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = start_redis(port);
    assert!(
        redis_answers(port).await,
        "private redis-server did not start"
    );
    let app =
        spawn_app_with(base_options().set("store.redis_url", format!("redis://127.0.0.1:{port}")))
            .await;
    let journey = uuid::Uuid::new_v4().to_string();
    let first = snapshot_body(&new_event_id(), &journey, 1, "PROFILE_PENDING", "u-out");
    assert_eq!(app.post_webhook(&first).await.status().as_u16(), 200);

    drop(redis);
    let event = new_event_id();
    let body = snapshot_body(&event, &journey, 2, "OFFERS_PENDING", "u-out");
    let res = app.post_webhook(&body).await;
    assert!(res.headers().contains_key("retry-after"));
    let env = assert_refused(res, 503, "STORE_UNAVAILABLE").await;
    assert!(
        !env.to_string().contains(&port.to_string()),
        "no internals in the body: {env}"
    );

    let _redis = start_redis(port);
    assert!(redis_answers(port).await, "redis-server did not restart");
    // The sender retries until it gets a 2xx.
    let stored = eventually(30, || {
        let (app, body) = (&app, &body);
        async move { app.post_webhook(body).await.status().as_u16() == 200 }
    })
    .await;
    assert!(stored, "the retried delivery was never accepted");
    let (status, env) = status_and_body(app.post_webhook(&body).await).await;
    assert_eq!(
        (status, env["data"]["outcome"].as_str()),
        (200, Some("duplicate"))
    );
    let feed = app.ops_feed().await;
    assert_eq!(
        feed.iter()
            .filter(|e| e["eventID"] == event.as_str())
            .count(),
        1
    );
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["status"], "OFFERS_PENDING");
}

// ---- Forwarding ---------------------------------------------------------------------------

/// What the tiny receiver got: headers and body of each request.
type Request = (actix_web::http::header::HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Request>>>);

async fn start_receiver(received: Received) -> u16 {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let received = received.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let received = received.clone();
            async move {
                let mut all = received.0.lock().unwrap();
                all.push((req.headers().clone(), body.to_vec()));
                // The first attempt fails, so the retry path is exercised.
                if all.len() == 1 {
                    HttpResponse::InternalServerError().finish()
                } else {
                    HttpResponse::Ok().finish()
                }
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    port
}

#[tokio::test]
async fn stored_events_are_forwarded_re_signed_with_the_partner_secret_and_retried() {
    let received = Received::default();
    let port = start_receiver(received.clone()).await;
    let app = spawn_app_with(
        base_options()
            .set(
                "webhook.forward_urls",
                format!("http://127.0.0.1:{port}/hooks"),
            )
            .set("webhook.forward_secret", "whsec_partner_own")
            .set("webhook.forward_first_retry_ms", "50"),
    )
    .await;
    let (first, second) = (new_event_id(), new_event_id());
    let body = snapshot_body(&first, "j-fwd", 1, "X", "u-fwd");
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    // A duplicate is not forwarded again.
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    let body2 = snapshot_body(&second, "j-fwd", 2, "Y", "u-fwd");
    assert_eq!(app.post_webhook(&body2).await.status().as_u16(), 200);

    let count = |id: &str| {
        received
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, _)| h.get("x-al-event-id").and_then(|v| v.to_str().ok()) == Some(id))
            .count()
    };
    assert!(
        eventually(10, || async { count(&first) >= 2 && count(&second) >= 1 }).await,
        "forwards did not arrive"
    );
    assert_eq!(
        count(&first),
        2,
        "one failed attempt, one retry, no duplicate forward"
    );
    for (headers, got) in received.0.lock().unwrap().iter() {
        let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
        let ts = h("x-al-webhook-timestamp");
        assert_eq!(
            h("x-al-webhook-signature"),
            webhook_signature("whsec_partner_own", &ts, got)
        );
        assert_ne!(
            h("x-al-webhook-signature"),
            webhook_signature(DEV_WEBHOOK_SECRET, &ts, got)
        );
        assert_eq!(h("x-al-tenant-id"), TENANT_ID);
        let id = h("x-al-event-id");
        let expected = if id == first { &body } else { &body2 };
        assert_eq!(
            got,
            expected.as_bytes(),
            "the body is forwarded byte for byte"
        );
    }
}

// ---- End to end with the embedded sandbox -------------------------------------------------

struct Borrower {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Borrower {
    async fn start(app: &TestApp, external_id: &str) -> Borrower {
        let base = app.upstream_base_url.clone();
        let res: Value = app
            .client
            .post(format!("{base}/api/v1/headless/sessions"))
            .bearer_auth("sk_test_sandbox_key")
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&json!({
                "borrowerExternalID": external_id,
                "profile": {"contactNumber": "9123456780", "pan": "PQRSX6789K",
                            "panName": "Asha Verma", "personalemail": "asha@example.org"}
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = res["data"]["sessionToken"]
            .as_str()
            .expect("session token")
            .to_owned();
        Borrower {
            base,
            token,
            client: app.client.clone(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let res: Value = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(res["error"], Value::Null, "{path}: {res}");
        res["data"].clone()
    }

    async fn create_journey(&self) -> String {
        let d = self
            .call(
                reqwest::Method::POST,
                "/api/v1/headless/journeys",
                json!({"type": "PERSONAL_LOAN"}),
            )
            .await;
        d["journeyID"].as_str().unwrap().to_owned()
    }

    async fn complete_profile(&self) {
        self.call(
            reqwest::Method::PUT,
            "/api/v1/headless/profile",
            json!({"workProfile": {"employmentType": "salaried", "income": 50000, "incomeType": "monthly"},
                   "address": {"city": "Pune", "pincode": "411001"},
                   "journey": {"bureauConsent": true}}),
        )
        .await;
    }

    async fn submit(&self) {
        self.call(
            reqwest::Method::POST,
            "/api/v1/headless/profile/submit",
            json!({}),
        )
        .await;
    }
}

async fn feed_of(app: &TestApp, journey: &str) -> Vec<Value> {
    app.ops_feed()
        .await
        .into_iter()
        .filter(|e| e["journeyID"] == journey)
        .collect()
}

#[tokio::test]
async fn sandbox_journey_events_reach_the_ops_api_verified_in_order_and_mapped_to_the_user() {
    let app = spawn_app_with(base_options().set("upstream.base_url", "embedded")).await;
    let user = format!("partner-user-{}", uuid::Uuid::new_v4().simple());
    let borrower = Borrower::start(&app, &user).await;
    let journey = borrower.create_journey().await;
    borrower.complete_profile().await;
    borrower.submit().await;

    let arrived = eventually(15, || {
        let (app, journey) = (&app, &journey);
        async move {
            feed_of(app, journey)
                .await
                .last()
                .is_some_and(|e| e["status"] == "OFFERS_PENDING")
        }
    })
    .await;
    assert!(arrived, "sandbox events did not reach the ops feed");
    let feed = feed_of(&app, &journey).await;
    let statuses: Vec<&str> = feed.iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["PROFILE_PENDING", "PROFILE_PENDING", "OFFERS_PENDING"]
    );
    let seqs: Vec<u64> = feed
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(feed
        .iter()
        .all(|e| e["userID"] == user.as_str() && e["stale"] == false));

    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["userID"], user.as_str());
    assert_eq!(view["borrowerExternalID"], user.as_str());
    assert_eq!(view["status"], "OFFERS_PENDING");
    assert_eq!(
        view["snapshot"]["issuer"]["trigger"],
        "journey.profile.submitted"
    );
    let mine = app
        .ops_data(&format!("/v1/ops/users/{user}/journeys"))
        .await;
    assert_eq!(mine["journeys"][0]["journeyID"], journey.as_str());
    assert_eq!(mine["journeys"][0]["status"], "OFFERS_PENDING");
}

#[tokio::test]
async fn sandbox_duplicates_and_reordering_leave_one_copy_each_and_the_newest_snapshot_latest() {
    let app = spawn_app_with(base_options().set("upstream.base_url", "embedded")).await;
    let faults = format!("{}/__sandbox/faults", app.upstream_base_url);
    let user = format!("partner-user-{}", uuid::Uuid::new_v4().simple());
    let borrower = Borrower::start(&app, &user).await;
    // journey.created is delivered twice.
    app.client
        .post(&faults)
        .json(&json!({"webhookDuplicateNext": 1}))
        .send()
        .await
        .unwrap();
    let journey = borrower.create_journey().await;
    // profile.updated is held back and delivered after profile.submitted.
    app.client
        .post(&faults)
        .json(&json!({"webhookReorderNext": 1}))
        .send()
        .await
        .unwrap();
    borrower.complete_profile().await;
    borrower.submit().await;

    let deliveries = format!("{}/__sandbox/deliveries", app.upstream_base_url);
    let settled = eventually(15, || {
        let (app, deliveries) = (&app, &deliveries);
        async move {
            let d: Value = app
                .client
                .get(deliveries)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let list = d["data"]["deliveries"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            d["data"]["pending"] == 0 && list.iter().filter(|x| x["status"] == 200).count() == 4
        }
    })
    .await;
    assert!(settled, "sandbox did not deliver everything");
    let d: Value = app
        .client
        .get(&deliveries)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        d["data"]["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["outcome"] == "duplicate" && x["status"] == 200),
        "the duplicate was acknowledged: {d}"
    );
    let feed = feed_of(&app, &journey).await;
    let got: Vec<(&str, bool)> = feed
        .iter()
        .map(|e| (e["status"].as_str().unwrap(), e["stale"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("PROFILE_PENDING", false),
            ("OFFERS_PENDING", false),
            ("PROFILE_PENDING", true)
        ]
    );
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["status"], "OFFERS_PENDING");
    assert_eq!(view["events"].as_array().unwrap().len(), 3);
}
