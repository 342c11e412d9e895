//! The webhook delivery task: takes due events from the outbox, signs
//! each attempt afresh (timestamp = Unix seconds; signature = lowercase hex HMAC-SHA256 over
//! `timestamp + "." + body`), POSTs them, and retries with doubling back-off. The event id never
//! changes between attempts. Events are sent one at a time, in queue order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;

use crate::state::{DeliveryRecord, OutboxItem};
use crate::Sandbox;
use aarthik_contract::envelope::now_timestamp;
use aarthik_contract::signature::sign;
use aarthik_contract::{headers, timing};

/// Idle wait when nothing is scheduled (a notification ends it early).
const IDLE: Duration = Duration::from_secs(3600);

pub async fn run(sb: Arc<Sandbox>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(timing::WEBHOOK_DELIVERY_TIMEOUT_SECS))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "sandbox webhook client could not be built; no deliveries");
            return;
        }
    };
    loop {
        let (due, next_at) = take_due(&sb);
        if !due.is_empty() {
            for item in due {
                attempt(&sb, &client, item).await;
            }
            continue;
        }
        let wait = next_at
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(IDLE);
        tokio::select! {
            _ = sb.delivery_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Remove and return the due items (queue order), and the next future due time.
fn take_due(sb: &Sandbox) -> (Vec<OutboxItem>, Option<Instant>) {
    let mut st = sb.lock();
    let now = Instant::now();
    let (due, later): (Vec<_>, Vec<_>) = st.outbox.drain(..).partition(|i| i.due <= now);
    let next_at = later.iter().map(|i| i.due).min();
    st.outbox.extend(later);
    (due, next_at)
}

/// One delivery attempt (plus its duplicate when the fault asks for one).
async fn attempt(sb: &Sandbox, client: &reqwest::Client, mut item: OutboxItem) {
    let (url, enabled, max_attempts, first_retry_ms) = {
        let st = sb.lock();
        (
            st.subscription.url.clone(),
            st.subscription.enabled,
            st.settings.webhook_max_attempts,
            st.settings.webhook_first_retry_ms,
        )
    };
    item.attempts += 1;
    let Some(url) = url.filter(|_| enabled) else {
        record(
            sb,
            &item,
            "",
            None,
            Some("webhook unsubscribed".into()),
            "failed",
        );
        return;
    };
    let (status, error) = send(sb, client, &url, &item).await;
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    if ok {
        record(sb, &item, &url, status, None, "delivered");
        if item.duplicate {
            let (status, error) = send(sb, client, &url, &item).await;
            record(sb, &item, &url, status, error, "duplicate");
        }
        return;
    }
    let error = error.or_else(|| status.map(|s| format!("receiver answered HTTP {s}")));
    record(sb, &item, &url, status, error, "failed");
    if item.attempts < max_attempts {
        let shift = (item.attempts - 1).min(20);
        let delay = first_retry_ms.saturating_mul(1u64 << shift);
        item.due = Instant::now() + Duration::from_millis(delay);
        sb.lock().outbox.push_back(item);
    } else {
        tracing::warn!(event_id = %item.event_id, attempts = item.attempts, "sandbox gave up on a webhook event");
    }
}

async fn send(
    sb: &Sandbox,
    client: &reqwest::Client,
    url: &str,
    item: &OutboxItem,
) -> (Option<u16>, Option<String>) {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = sign(
        sb.config.webhook_secret.expose_secret().as_bytes(),
        &timestamp,
        item.body.as_bytes(),
    );
    // Fixed at start-up: read from the config, not under the state lock on every attempt.
    let (tenant, app) = (&sb.config.tenant_id, &sb.config.application_id);
    let result = client
        .post(url)
        .header("Content-Type", "application/json")
        .header(headers::WEBHOOK_EVENT_ID, &item.event_id)
        .header(headers::WEBHOOK_TENANT_ID, tenant)
        .header(headers::WEBHOOK_APPLICATION_ID, app)
        .header(headers::WEBHOOK_TIMESTAMP, &timestamp)
        .header(headers::WEBHOOK_SIGNATURE, signature)
        .body(item.body.clone())
        .send()
        .await;
    match result {
        Ok(resp) => (Some(resp.status().as_u16()), None),
        Err(e) if e.is_timeout() => (None, Some("timed out".into())),
        Err(e) if e.is_connect() => (None, Some("connection failed".into())),
        Err(_) => (None, Some("request failed".into())),
    }
}

fn record(
    sb: &Sandbox,
    item: &OutboxItem,
    url: &str,
    status: Option<u16>,
    error: Option<String>,
    outcome: &'static str,
) {
    sb.lock().push_delivery(DeliveryRecord {
        event_id: item.event_id.clone(),
        journey_id: item.journey_id.clone(),
        sequence: item.sequence,
        attempt: item.attempts,
        url: url.to_owned(),
        status,
        error,
        outcome,
        at: now_timestamp(),
    });
}

/// Test hook ("deliver now"): every queued retry (and held event) is due now.
pub fn deliver_now(sb: &Sandbox) -> usize {
    let mut st = sb.lock();
    let now = Instant::now();
    for item in st.outbox.iter_mut() {
        item.due = now;
    }
    super::webhooks::release_held(&mut st);
    let pending = st.outbox.len();
    st.wake_delivery.notify_one();
    pending
}
