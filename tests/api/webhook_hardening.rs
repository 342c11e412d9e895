//! The receiver under hostile senders: no body is read before the signature headers look right,
//! a stalled body is cut off with 408, concurrent body reads are bounded, and a captured delivery
//! replayed with another bad event id cannot bring a re-driven dead letter back.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Send a request head announcing `content_length` bytes, and `body_part` of the body only.
async fn send_partial(
    app: &TestApp,
    headers: &[(&str, String)],
    content_length: usize,
    body_part: &[u8],
) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let mut head = format!(
        "POST /v1/webhooks/aarthik HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {content_length}\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body_part).await.unwrap();
    stream
}

/// The status line's code of the first answer on `stream`, within `limit`.
async fn status_of(stream: &mut TcpStream, limit: Duration) -> Option<u16> {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(limit, stream.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split_whitespace().nth(1)?.parse().ok()
}

fn plausible_headers() -> Vec<(&'static str, String)> {
    vec![
        ("X-AL-Event-ID", new_event_id()),
        ("X-AL-Webhook-Timestamp", now_secs().to_string()),
        ("X-AL-Webhook-Signature", "a".repeat(64)),
    ]
}

#[tokio::test]
async fn a_delivery_without_well_formed_signature_headers_is_refused_before_its_body_is_read() {
    let app = spawn_app().await;
    for headers in [
        vec![("X-AL-Webhook-Timestamp", now_secs().to_string())],
        vec![
            ("X-AL-Webhook-Timestamp", now_secs().to_string()),
            ("X-AL-Webhook-Signature", "A".repeat(64)),
        ],
        vec![("X-AL-Webhook-Signature", "a".repeat(64))],
    ] {
        // 1 MiB announced, not one byte sent: the answer must not wait for it.
        let mut stream = send_partial(&app, &headers, 1024 * 1024, b"").await;
        let started = Instant::now();
        assert_eq!(
            status_of(&mut stream, Duration::from_secs(3)).await,
            Some(401),
            "{headers:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

#[tokio::test]
async fn a_stalled_webhook_body_is_answered_408_after_the_read_timeout() {
    let app = spawn_app_with(base_options().set("webhook.read_timeout_ms", "500")).await;
    let mut stream = send_partial(&app, &plausible_headers(), 1000, b"{\"event_id\":").await;
    let started = Instant::now();
    assert_eq!(
        status_of(&mut stream, Duration::from_secs(5)).await,
        Some(408)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "answered before the deadline"
    );
}

#[tokio::test]
async fn concurrent_webhook_body_reads_are_bounded() {
    let app = spawn_app_with(
        base_options()
            .set("webhook.max_concurrent_reads", "1")
            .set("webhook.read_timeout_ms", "4000"),
    )
    .await;
    // One stalled sender holds the only read permit…
    let _stalled = send_partial(&app, &plausible_headers(), 1000, b"{").await;
    // …so another delivery is told to come back later, not queued in memory.
    let refused = eventually(3, || async {
        let body = snapshot_body(
            &new_event_id(),
            &uuid::Uuid::new_v4().to_string(),
            1,
            "STARTED",
            "u-bound",
        );
        let res = app.post_webhook(&body).await;
        res.status().as_u16() == 429 && res.headers().contains_key("retry-after")
    })
    .await;
    assert!(
        refused,
        "a second concurrent read was not refused with 429 + Retry-After"
    );
}

#[tokio::test]
async fn a_replayed_delivery_with_another_bad_event_id_does_not_bring_back_a_redriven_dead_letter()
{
    let app = spawn_app().await;
    let event = new_event_id();
    let body = snapshot_body(
        &event,
        &uuid::Uuid::new_v4().to_string(),
        1,
        "STARTED",
        "u-replay",
    );
    let ts = now_secs().to_string();
    let mut headers = signed_headers(&body, DEV_WEBHOOK_SECRET, &ts);
    for h in headers.iter_mut() {
        if h.0 == "X-AL-Event-ID" {
            h.1 = "evt_wrong_1".into();
        }
    }
    let res = app.post_webhook_raw(body.clone(), &headers).await;
    assert_eq!(res.status().as_u16(), 400);
    let letters = app.ops_data("/v1/ops/dead-letters").await;
    let id = letters["deadLetters"][0]["id"].as_str().unwrap().to_owned();

    // Ops fixes the header and re-drives: the event is stored, the letter resolved.
    let mut letter: DeadLetter = serde_json::from_value(letters["deadLetters"][0].clone()).unwrap();
    letter.headers.insert("x-al-event-id".into(), event.clone());
    DeadLetters::new(redis_store(&app.key_prefix()))
        .put(&letter)
        .await
        .unwrap();
    let res = app
        .client
        .post(app.url(&format!("/v1/ops/dead-letters/{id}/redrive")))
        .bearer_auth(DEV_OPS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        app.ops_data("/v1/ops/dead-letters").await["deadLetters"],
        serde_json::json!([])
    );

    // The captured delivery, replayed with yet another wrong event id, is refused and kept nowhere.
    for h in headers.iter_mut() {
        if h.0 == "X-AL-Event-ID" {
            h.1 = "evt_wrong_2".into();
        }
    }
    let res = app.post_webhook_raw(body.clone(), &headers).await;
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(
        app.ops_data("/v1/ops/dead-letters").await["deadLetters"],
        serde_json::json!([]),
        "the resolved letter came back"
    );
}
