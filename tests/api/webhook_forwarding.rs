//! Forwarding stored events to the partner's own endpoints: re-signed with the partner secret on
//! every attempt, retried with backoff from a queue in Redis, logged per event for ops, re-sent on
//! demand, given up after the maximum age, and surviving a kill -9 of the instance mid-retry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

const PARTNER_SECRET: &str = "whsec_partner_own";
const ALICE_TOKEN: &str = "alice-ops-token-0123456789abcdef01";

/// One request the receiver got: headers, body and the status it answered.
type Request = (actix_web::http::header::HeaderMap, Vec<u8>, u16);

/// A partner endpoint that answers 500 to its first `fail_first` requests, then 200.
#[derive(Clone, Default)]
struct Received {
    all: Arc<Mutex<Vec<Request>>>,
    fail_first: Arc<AtomicUsize>,
}

impl Received {
    fn failing(n: usize) -> Self {
        let r = Received::default();
        r.fail_first.store(n, Ordering::SeqCst);
        r
    }

    fn of(&self, event_id: &str) -> Vec<Request> {
        self.all
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, _, _)| {
                h.get("x-al-event-id").and_then(|v| v.to_str().ok()) == Some(event_id)
            })
            .cloned()
            .collect()
    }
}

async fn start_receiver(received: Received) -> u16 {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let received = received.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let received = received.clone();
            async move {
                let mut all = received.all.lock().unwrap();
                let status = if all.len() < received.fail_first.load(Ordering::SeqCst) {
                    500
                } else {
                    200
                };
                all.push((req.headers().clone(), body.to_vec(), status));
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
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

/// Every request carries the partner's signature over the exact body, with its own timestamp,
/// and the attempt numbers are 1, 2, 3, … with none repeated.
fn assert_re_signed_once_per_attempt(requests: &[Request], body: &str) {
    let mut attempts = Vec::new();
    for (headers, got, _) in requests {
        let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
        let ts = h("x-al-webhook-timestamp");
        assert_eq!(
            h("x-al-webhook-signature"),
            sign(PARTNER_SECRET.as_bytes(), &ts, got)
        );
        assert_ne!(
            h("x-al-webhook-signature"),
            sign(DEV_WEBHOOK_SECRET.as_bytes(), &ts, got)
        );
        assert_eq!(h("x-al-tenant-id"), TENANT_ID);
        assert_eq!(got, body.as_bytes(), "the body is forwarded byte for byte");
        attempts.push(h("x-al-forward-attempt").parse::<u32>().unwrap());
    }
    let expected: Vec<u32> = (1..=requests.len() as u32).collect();
    assert_eq!(
        attempts, expected,
        "one request per attempt, numbered in order"
    );
}

fn forwarding_options(port: u16) -> aarthik_bff::config::LoadOptions {
    base_options()
        .set(
            "webhook.forward_urls",
            format!("http://user:pw@127.0.0.1:{port}/hooks?k=secret-query"),
        )
        .set("webhook.forward_secret", PARTNER_SECRET)
        .set("webhook.forward_first_retry_ms", "50")
        .set("ops.tokens", format!("alice:{ALICE_TOKEN}"))
}

async fn deliveries(app: &TestApp, event: &str) -> Reply {
    reply(
        app.client
            .get(app.url(&format!("/v1/ops/forwarding/{event}")))
            .bearer_auth(ALICE_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn stored_events_are_forwarded_re_signed_with_the_partner_secret_and_retried() {
    let received = Received::failing(1);
    let port = start_receiver(received.clone()).await;
    let app = spawn_app_with(forwarding_options(port)).await;
    let (first, second) = (new_event_id(), new_event_id());
    let body = snapshot_body(&first, "j-fwd", 1, "X", "u-fwd");
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    // A duplicate is not forwarded again.
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    let body2 = snapshot_body(&second, "j-fwd", 2, "Y", "u-fwd");
    assert_eq!(app.post_webhook(&body2).await.status().as_u16(), 200);

    assert!(
        eventually(10, || async {
            received.of(&first).len() >= 2 && !received.of(&second).is_empty()
        })
        .await,
        "forwards did not arrive"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        received.of(&first).len(),
        2,
        "one failed attempt, one retry, no duplicate forward"
    );
    assert_eq!(received.of(&second).len(), 1);
    assert_re_signed_once_per_attempt(&received.of(&first), &body);
    assert_re_signed_once_per_attempt(&received.of(&second), &body2);
    // The failed attempt and the deliveries are counted.
    let metrics = || async {
        app.client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(
        eventually(5, || async {
            let m = metrics().await;
            m.contains(r#"bff_webhook_forward_attempts_total{outcome="http_error"} 1"#)
                && m.contains(r#"bff_webhook_forward_attempts_total{outcome="delivered"} 2"#)
                && m.contains(r#"bff_webhook_forward_events_total{outcome="delivered"} 2"#)
                && m.contains(r#"bff_webhook_forward_events_total{outcome="gave_up"} 0"#)
        })
        .await,
        "{}",
        metrics().await
    );
}

#[tokio::test]
async fn a_receiver_failing_n_times_gets_the_event_and_the_log_shows_every_attempt() {
    const FAILURES: usize = 3;
    let received = Received::failing(FAILURES);
    let port = start_receiver(received.clone()).await;
    let app = spawn_app_with(forwarding_options(port)).await;
    let event = new_event_id();
    let body = snapshot_body(&event, "j-fwd-log", 1, "X", "u-fwd-log");
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    // 50 ms, ~100 ms, ~200 ms of pauses, plus the poll.
    assert!(
        eventually(15, || async { received.of(&event).len() > FAILURES }).await,
        "the delivery did not arrive"
    );
    let got = received.of(&event);
    assert_eq!(got.iter().filter(|r| r.2 == 200).count(), 1);
    assert_re_signed_once_per_attempt(&got, &body);

    let log = eventually(5, || async {
        deliveries(&app, &event).await.data()["deliveries"][0]["state"] == "delivered"
    })
    .await;
    assert!(log, "the delivery state did not become delivered");
    let r = deliveries(&app, &event).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let d = r.data();
    assert_eq!(d["eventID"], event);
    let target = &d["deliveries"][0];
    assert_eq!(target["attempts"], FAILURES as u64 + 1);
    assert_eq!(
        target["url"],
        format!("http://127.0.0.1:{port}/hooks"),
        "credentials and query are not shown"
    );
    assert!(!r.raw.contains("secret-query") && !r.raw.contains("pw@"));
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), FAILURES + 1, "{}", r.raw);
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a["attempt"], i as u64 + 1);
        assert!(a["at"].is_string() && a["durationMs"].is_u64());
        if i < FAILURES {
            assert_eq!(
                (a["status"].as_u64(), a["outcome"].as_str()),
                (Some(500), Some("retry"))
            );
        } else {
            assert_eq!(
                (a["status"].as_u64(), a["outcome"].as_str()),
                (Some(200), Some("delivered"))
            );
        }
    }
    // The listing has it, filtered by event and by state.
    let list = |q: &'static str| {
        let app = &app;
        async move {
            reply(
                app.client
                    .get(app.url(&format!("/v1/ops/forwarding{q}")))
                    .bearer_auth(ALICE_TOKEN)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let r = reply(
        app.client
            .get(app.url(&format!("/v1/ops/forwarding?eventID={event}")))
            .bearer_auth(ALICE_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let rows = r.data()["deliveries"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1, "{}", r.raw);
    assert_eq!(rows[0]["eventID"], event);
    assert_eq!(rows[0]["state"], "delivered");
    assert!(rows[0]["lastAttemptAt"].is_string());
    let r = list("?state=delivered&limit=100").await;
    assert!(r.raw.contains(&event), "{}", r.raw);
    let r = list("?state=failed").await;
    assert!(!r.raw.contains(&event), "{}", r.raw);
    for bad in ["?state=lost", "?limit=0", "?limit=101", "?eventID=a%20b"] {
        let r = list(bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.raw);
        assert_eq!(r.body["error"]["code"], "VALIDATION_ERROR");
    }
    // Unknown events are 404 in the envelope.
    let r = deliveries(&app, &new_event_id()).await;
    assert_eq!(r.status, 404, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn the_memory_store_forwards_too_within_its_process() {
    let received = Received::failing(1);
    let port = start_receiver(received.clone()).await;
    let app = spawn_app_with(forwarding_options(port).set("store.redis_url", "")).await;
    let event = new_event_id();
    let body = snapshot_body(&event, "j-fwd-mem", 1, "X", "u-fwd-mem");
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    assert!(
        eventually(10, || async {
            received.of(&event).iter().any(|r| r.2 == 200)
        })
        .await,
        "the delivery did not arrive"
    );
    assert_eq!(received.of(&event).len(), 2);
    assert_re_signed_once_per_attempt(&received.of(&event), &body);
    assert!(
        eventually(5, || async {
            let r = deliveries(&app, &event).await;
            r.data()["attempts"].as_array().map(Vec::len) == Some(2)
                && r.data()["deliveries"][0]["state"] == "delivered"
        })
        .await
    );
}

#[tokio::test]
async fn a_resend_delivers_again_is_audited_and_an_unknown_event_is_404() {
    let received = Received::default();
    let port = start_receiver(received.clone()).await;
    let app = spawn_app_with(forwarding_options(port)).await;
    let event = new_event_id();
    let body = snapshot_body(&event, "j-fwd-resend", 1, "X", "u-fwd-resend");
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    assert!(eventually(10, || async { received.of(&event).len() == 1 }).await);

    let r = ops_post(
        &app,
        &format!("/v1/ops/forwarding/{event}/resend"),
        ALICE_TOKEN,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.data()["eventID"], event);
    assert!(
        eventually(10, || async { received.of(&event).len() == 2 }).await,
        "the re-send did not arrive"
    );
    assert_re_signed_once_per_attempt(&received.of(&event), &body);
    assert!(
        eventually(5, || async {
            let r = deliveries(&app, &event).await;
            r.data()["deliveries"][0]["state"] == "delivered"
                && r.data()["attempts"].as_array().map(Vec::len) == Some(2)
        })
        .await
    );

    let audit = reply(
        app.client
            .get(app.url("/v1/ops/audit"))
            .bearer_auth(ALICE_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entry = &audit.data()["entries"][0];
    assert_eq!(entry["operator"], "alice");
    assert_eq!(entry["action"], "resend");
    assert_eq!(entry["target"], event);

    let r = ops_post(&app, "/v1/ops/forwarding/evt_unknown/resend", ALICE_TOKEN).await;
    assert_eq!(r.status, 404, "{}", r.raw);
    assert_eq!(r.body["error"]["code"], "NOT_FOUND");
    let r = ops_post(
        &app,
        "/v1/ops/forwarding/evt_unknown/resend",
        "wrong-token-xyz",
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.raw);
}

#[tokio::test]
async fn forwarding_gives_up_after_the_maximum_age_and_says_so() {
    let received = Received::failing(usize::MAX);
    let port = start_receiver(received.clone()).await;
    let app = spawn_app_with(
        forwarding_options(port)
            .set("webhook.forward_max_age_secs", "2")
            .set("webhook.forward_first_retry_ms", "200"),
    )
    .await;
    let event = new_event_id();
    let body = snapshot_body(&event, "j-fwd-age", 1, "X", "u-fwd-age");
    assert_eq!(app.post_webhook(&body).await.status().as_u16(), 200);
    assert!(
        eventually(10, || async {
            deliveries(&app, &event).await.data()["deliveries"][0]["state"] == "failed"
        })
        .await,
        "forwarding did not give up"
    );
    let r = deliveries(&app, &event).await;
    let attempts = r.data()["attempts"].as_array().unwrap().clone();
    assert!(attempts.len() >= 2, "{}", r.raw);
    assert_eq!(attempts.last().unwrap()["outcome"], "gave_up", "{}", r.raw);
    let tried = received.of(&event).len();
    assert_eq!(tried, attempts.len(), "every attempt is logged");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        received.of(&event).len(),
        tried,
        "no attempt after giving up"
    );
    assert_re_signed_once_per_attempt(&received.of(&event), &body);
}

/// POST a signed delivery of `body` to a BFF on `port`.
async fn post_signed(client: &reqwest::Client, port: u16, body: &str) -> u16 {
    let ts = now_secs().to_string();
    let mut req = client.post(format!("http://127.0.0.1:{port}/v1/webhooks/aarthik"));
    for (name, value) in signed_headers(body, DEV_WEBHOOK_SECRET, &ts) {
        req = req.header(name, value);
    }
    req.body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn forwarding_binary(prefix: &str, receiver_port: u16) -> std::process::Command {
    let mut c = bff_command();
    c.env("BFF__SERVER__PORT", "0")
        .env("BFF__UPSTREAM__BASE_URL", "http://127.0.0.1:9")
        .env("BFF__TELEMETRY__FORMAT", "json")
        .env("BFF__STORE__REDIS_URL", redis_url())
        .env("BFF__STORE__KEY_PREFIX", prefix)
        .env(
            "BFF__WEBHOOK__FORWARD_URLS",
            format!("http://127.0.0.1:{receiver_port}/hooks"),
        )
        .env("BFF__WEBHOOK__FORWARD_SECRET", PARTNER_SECRET)
        .env("BFF__WEBHOOK__FORWARD_FIRST_RETRY_MS", "400")
        .env("BFF__WEBHOOK__FORWARD_TIMEOUT_MS", "1000");
    c
}

#[tokio::test]
async fn a_delivery_survives_a_kill_9_mid_retry_and_arrives_once_per_attempt() {
    // The receiver fails the first 3 attempts; the instance is killed after the second.
    let received = Received::failing(3);
    let receiver_port = start_receiver(received.clone()).await;
    let prefix = unique_prefix();
    let client = reqwest::Client::new();
    let event = new_event_id();
    let body = snapshot_body(&event, "j-fwd-kill", 1, "X", "u-fwd-kill");

    let first = Running::spawn(forwarding_binary(&prefix, receiver_port));
    let port = first.bff_port().await;
    assert_eq!(post_signed(&client, port, &body).await, 200);
    assert!(
        eventually(15, || async { received.of(&event).len() >= 2 }).await,
        "the first two attempts did not happen: {}",
        first.output()
    );
    drop(first); // SIGKILL: no drain, no goodbye
    let at_kill = received.of(&event).len();
    assert!(
        at_kill < 4,
        "the delivery must still be pending when killed"
    );

    let second = Running::spawn(forwarding_binary(&prefix, receiver_port));
    let port = second.bff_port().await;
    assert!(
        eventually(30, || async {
            received.of(&event).iter().any(|r| r.2 == 200)
        })
        .await,
        "the delivery did not arrive after the restart: {}",
        second.output()
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = received.of(&event);
    assert_eq!(
        got.len(),
        4,
        "three failures, one success, nothing repeated"
    );
    assert_eq!(got.iter().filter(|r| r.2 == 200).count(), 1);
    assert_re_signed_once_per_attempt(&got, &body);
    let timestamps: Vec<String> = got
        .iter()
        .map(|(h, _, _)| {
            h.get("x-al-webhook-timestamp")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        timestamps.first() != timestamps.last(),
        "every attempt is signed afresh: {timestamps:?}"
    );

    let log: Value = client
        .get(format!("http://127.0.0.1:{port}/v1/ops/forwarding/{event}"))
        .bearer_auth(DEV_OPS_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log["data"]["deliveries"][0]["state"], "delivered", "{log}");
    assert_eq!(log["data"]["deliveries"][0]["attempts"], 4, "{log}");
}
