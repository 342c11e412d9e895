//! Signed `journey.snapshot` delivery, retries and faults, and the subscription API.

use aarthik_sandbox::SandboxConfig;
use serde_json::{json, Value};

use crate::helpers::*;

fn with_receiver(r: &Receiver) -> SandboxConfig {
    SandboxConfig {
        webhook_url: Some(r.url.clone()),
        webhook_first_retry_ms: 50,
        ..config()
    }
}

fn assert_signed(got: &Received) {
    let ts = got
        .header("x-al-webhook-timestamp")
        .expect("timestamp header");
    let secs: i64 = ts.parse().expect("Unix seconds");
    assert!(
        (chrono::Utc::now().timestamp() - secs).abs() < 60,
        "fresh timestamp {ts}"
    );
    let sig = got
        .header("x-al-webhook-signature")
        .expect("signature header");
    assert_eq!(
        sig,
        expected_signature(WEBHOOK_SECRET, ts, &got.body),
        "signature verifies"
    );
    assert_eq!(sig.len(), 64);
    assert!(sig
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
}

#[tokio::test]
async fn every_journey_change_is_delivered_as_a_signed_snapshot_with_increasing_sequence() {
    let rx = Receiver::start(vec![]).await;
    let sb = spawn_with(with_receiver(&rx)).await;
    let (s, jid) = sb.journey_with_offers("hook-1").await;
    // created, profile updated, submitted, dispatch started, four lender answers.
    let got = rx.wait_count(8).await;
    let mut last_sequence = 0;
    for g in &got {
        assert_signed(g);
        assert_eq!(g.header("content-type"), Some("application/json"));
        let body = g.json();
        assert_eq!(g.header("x-al-event-id"), body["event_id"].as_str());
        assert!(body["event_id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(
            body["event_id"].as_str().unwrap().len(),
            30,
            "evt_ + 26-char ULID"
        );
        assert_eq!(g.header("x-al-tenant-id"), body["tenant_id"].as_str());
        assert_eq!(
            g.header("x-al-application-id"),
            body["application_id"].as_str()
        );
        assert_eq!(body["schema_version"], "1.0.0");
        assert_eq!(body["event_type"], "journey.snapshot");
        assert_eq!(body["issuer"]["source"], "credit-api");
        assert_eq!(body["borrower"]["borrowerExternalID"], "hook-1");
        assert_eq!(body["borrower"]["journeys"][0]["journeyID"], jid.as_str());
        let seq = body["sequence"].as_u64().unwrap();
        assert!(seq > last_sequence, "sequence increases");
        last_sequence = seq;
    }
    let mut statuses: Vec<String> = Vec::new();
    for g in &got {
        let status = g.json()["borrower"]["journeys"][0]["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if statuses.last() != Some(&status) {
            statuses.push(status);
        }
    }
    assert_eq!(
        statuses,
        [
            "STARTED",
            "PROFILE_REQUIRED",
            "PROFILE_SUBMITTED",
            "OFFERS_PENDING",
            "OFFERS_AVAILABLE"
        ]
    );
    let last = got.last().unwrap().json();
    assert_eq!(last["issuer"]["trigger"], "journey.offer.updated");
    assert_eq!(
        last["borrower"]["journeys"][0]["status"],
        "OFFERS_AVAILABLE"
    );
    assert_eq!(last["borrower"]["journeys"][0]["nextAction"], "VIEW_OFFERS");
    assert_eq!(sb.state(&s.token, &jid).await["status"], "OFFERS_AVAILABLE");

    // Attempts are logged after the receiver answers: wait for the eighth entry.
    let list = wait_for("eight logged deliveries", || async {
        let d = sb.control("GET", "/__sandbox/deliveries", None).await;
        let list = d.data()["deliveries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (list.len() >= 8).then_some(list)
    })
    .await;
    assert!(list
        .iter()
        .all(|d| d["outcome"] == "delivered" && d["status"] == 200 && d["attempt"] == 1));
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_same_event_id_and_a_fresh_signature() {
    let rx = Receiver::start(vec![500, 503]).await;
    let sb = spawn_with(SandboxConfig {
        webhook_first_retry_ms: 1000,
        ..with_receiver(&rx)
    })
    .await;
    let s = sb.session("retry-1").await;
    sb.post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await;
    rx.wait_count(1).await;
    // Do not wait out the back-off: the control makes pending retries due now.
    let got = wait_for("three attempts", || async {
        sb.control("POST", "/__sandbox/webhooks/deliver-now", None)
            .await;
        let got = rx.received();
        (got.len() >= 3).then_some(got)
    })
    .await;
    let ids: Vec<_> = got
        .iter()
        .map(|g| g.header("x-al-event-id").unwrap().to_owned())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "same event id on every attempt: {ids:?}"
    );
    for g in &got {
        assert_signed(g);
    }
    assert_eq!(got[0].body, got[2].body, "same body on every attempt");
    // The receiver records a request before it answers; the sandbox logs the attempt after the
    // answer arrives, so wait for the third entry rather than reading the log at once.
    let deliveries = wait_for("three logged attempts", || async {
        let d = sb
            .control("GET", "/__sandbox/deliveries", None)
            .await
            .data()["deliveries"]
            .clone();
        (d.as_array().map_or(0, Vec::len) >= 3).then_some(d)
    })
    .await;
    let outcomes: Vec<_> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["attempt"].as_u64().unwrap(),
                d["outcome"].as_str().unwrap().to_owned(),
                d["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (1, "failed".into(), json!(500)),
            (2, "failed".into(), json!(503)),
            (3, "delivered".into(), json!(200))
        ]
    );
}

#[tokio::test]
async fn delivery_gives_up_after_the_configured_number_of_attempts_with_backoff() {
    let rx = Receiver::start(vec![500; 10]).await;
    let sb = spawn_with(SandboxConfig {
        webhook_max_attempts: 3,
        webhook_first_retry_ms: 100,
        ..with_receiver(&rx)
    })
    .await;
    let s = sb.session("giveup-1").await;
    sb.post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await;
    wait_for("three failed attempts", || async {
        let d = sb.control("GET", "/__sandbox/deliveries", None).await;
        let list = d.data()["deliveries"].as_array().unwrap().clone();
        (list.len() == 3 && d.data()["pending"] == 0).then_some(())
    })
    .await;
    let at: Vec<chrono::DateTime<chrono::Utc>> = sb
        .control("GET", "/__sandbox/deliveries", None)
        .await
        .data()["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["at"].as_str().unwrap().parse().unwrap())
        .collect();
    let gap1 = (at[1] - at[0]).num_milliseconds();
    let gap2 = (at[2] - at[1]).num_milliseconds();
    assert!(
        gap1 >= 90 && gap2 >= 190,
        "delays double: {gap1} ms then {gap2} ms"
    );
    sb.control("POST", "/__sandbox/webhooks/deliver-now", None)
        .await;
    assert_eq!(rx.received().len(), 3, "no fourth attempt");
}

#[tokio::test]
async fn webhook_faults_drop_duplicate_and_reorder_deliveries() {
    let rx = Receiver::start(vec![]).await;
    let sb = spawn_with(with_receiver(&rx)).await;
    let s = sb.session("faults-1").await;
    sb.control(
        "POST",
        "/__sandbox/faults",
        Some(json!({ "webhookDropNext": 1 })),
    )
    .await;
    let jid = sb
        .post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await
        .data()["journeyID"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = wait_for("the first delivery logged", || async {
        let d = sb.control("GET", "/__sandbox/deliveries", None).await;
        let first = d.data()["deliveries"][0].clone();
        (!first.is_null()).then_some(first)
    })
    .await;
    assert_eq!(first["outcome"], "dropped");

    sb.control(
        "POST",
        "/__sandbox/faults",
        Some(json!({ "webhookDuplicateNext": 1 })),
    )
    .await;
    sb.put(&s.token, "/api/v1/headless/profile", good_profile())
        .await;
    let got = rx.wait_count(2).await;
    assert_eq!(
        got[0].header("x-al-event-id"),
        got[1].header("x-al-event-id"),
        "duplicate keeps the event id"
    );

    sb.control(
        "POST",
        "/__sandbox/faults",
        Some(json!({ "webhookReorderNext": 1 })),
    )
    .await;
    sb.post(&s.token, "/api/v1/headless/profile/submit", json!({}))
        .await; // held
    sb.control(
        "POST",
        "/__sandbox/timers/skip",
        Some(json!({ "journeyID": jid })),
    )
    .await; // sent first
    let got = rx.wait_count(4).await;
    let (a, b) = (got[2].json(), got[3].json());
    assert_eq!(a["borrower"]["journeys"][0]["status"], "OFFERS_PENDING");
    assert_eq!(b["borrower"]["journeys"][0]["status"], "PROFILE_SUBMITTED");
    assert!(
        a["sequence"].as_u64() > b["sequence"].as_u64(),
        "the newer snapshot arrived first"
    );
}

#[tokio::test]
async fn the_subscription_api_answers_flat_bodies_and_unsubscribe_stops_delivery() {
    let rx = Receiver::start(vec![]).await;
    let sb = spawn().await;
    let tenant = aarthik_sandbox::DEFAULT_TENANT_ID;
    let app = aarthik_sandbox::DEFAULT_APPLICATION_ID;
    let base = format!("/api/tenants/{tenant}/applications/{app}/webhooks");

    let r = sb
        .call(
            "GET",
            &format!("{base}/configuration"),
            Auth::Key,
            None,
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({ "tenant_id": tenant, "application_id": app, "webhook_enabled": false, "webhook_url": Value::Null })
    );
    let r = sb
        .call(
            "POST",
            &format!("{base}/subscribe"),
            Auth::Key,
            None,
            Some(json!({ "url": rx.url })),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({ "tenant_id": tenant, "application_id": app, "webhook_enabled": true, "webhook_url": rx.url })
    );
    let r = sb
        .call(
            "POST",
            &format!("{base}/subscribe"),
            Auth::Key,
            None,
            Some(json!({ "url": "not a url" })),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "VALIDATION_FAILED"));
    assert_eq!(r.field(), "url");
    let r = sb
        .call(
            "POST",
            &format!("{base}/subscribe"),
            Auth::None,
            None,
            Some(json!({ "url": rx.url })),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "AUTH_INVALID_API_KEY"));
    let other = format!(
        "/api/tenants/{tenant}/applications/{}/webhooks/configuration",
        uuid::Uuid::new_v4()
    );
    let r = sb.call("GET", &other, Auth::Key, None, None).await;
    assert_eq!((r.status, r.code()), (403, "FORBIDDEN"));

    let secret = sb
        .control(
            "GET",
            &format!("/__sandbox/applications/{app}/webhook-secret"),
            None,
        )
        .await;
    assert_eq!(secret.data()["secret"], WEBHOOK_SECRET);
    assert_eq!(secret.data()["enabled"], true);

    let s = sb.session("sub-1").await;
    sb.post(&s.token, "/api/v1/headless/journeys", json!({}))
        .await;
    assert_signed(&rx.wait_count(1).await[0]);

    let r = sb
        .call(
            "POST",
            &format!("{base}/unsubscribe"),
            Auth::Key,
            None,
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({ "tenant_id": tenant, "application_id": app, "webhook_enabled": false, "webhook_url": Value::Null })
    );
    sb.put(&s.token, "/api/v1/headless/profile", good_profile())
        .await;
    sb.control("POST", "/__sandbox/webhooks/deliver-now", None)
        .await;
    let d = sb.control("GET", "/__sandbox/deliveries", None).await;
    assert_eq!(
        d.data()["deliveries"].as_array().unwrap().len(),
        1,
        "nothing sent after unsubscribe"
    );
    assert_eq!(d.data()["pending"], 0);
    assert_eq!(rx.received().len(), 1);
}
