//! What the webhook receiver refuses before it stores anything: a bad or missing signature (and
//! secret rotation), timestamps out of tolerance, event ids that disagree, another tenant or
//! application, and bodies over one mebibyte.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

async fn journey_status(app: &TestApp, journey_id: &str) -> u16 {
    app.ops_get(&format!("/v1/ops/journeys/{journey_id}"))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_correctly_signed_snapshot_is_acknowledged_and_stored() {
    let app = spawn_app().await;
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
    let app = spawn_app().await;
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
    let app = spawn_app().await;
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
    let app = spawn_app().await;
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
    let app = spawn_app().await;
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
    let app = spawn_app().await;
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
    let app = spawn_app().await;
    // Well-formed signature headers (the body is never read without them); the size is refused
    // before the signature could even be checked.
    let signed = format!(
        "X-AL-Webhook-Timestamp: {}\r\nX-AL-Webhook-Signature: {}\r\n",
        now_secs(),
        "0".repeat(64)
    );
    // Declared too large: refused without waiting for a single body byte.
    let head = format!(
        "POST /v1/webhooks/aarthik HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         {signed}Content-Length: {}\r\n\r\n",
        2 * 1024 * 1024
    );
    let (status, body) = raw_exchange(app.port, head, vec![]).await;
    assert!(status.contains(" 413"), "{status}");
    assert!(body.contains("PAYLOAD_TOO_LARGE"), "{body}");
    // Chunked without a length: cut off at the chunk that crosses the limit.
    let head = format!(
        "POST /v1/webhooks/aarthik HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         {signed}Transfer-Encoding: chunked\r\n\r\n"
    );
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
