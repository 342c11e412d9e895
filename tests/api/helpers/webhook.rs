//! Webhook deliveries as the upstream sends them: `journey.snapshot` bodies, the signed headers,
//! and posting them to the receiver. Signatures come from `aarthik_contract::signature::sign`, the
//! scheme the upstream publishes.

use serde_json::Value;

use super::TestApp;

pub use aarthik_contract::signature::sign;

/// The development webhook secret shared with the embedded sandbox.
pub const DEV_WEBHOOK_SECRET: &str = "whsec_dev_sandbox_secret";
pub const TENANT_ID: &str = "2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9";
pub const APPLICATION_ID: &str = "71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b";

/// A fresh event id in the upstream's format.
pub fn new_event_id() -> String {
    format!("evt_{}", ulid::Ulid::new())
}

/// Unix seconds now, as the upstream sends it.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A `journey.snapshot` body in the upstream's shape for one journey.
pub fn snapshot_body(
    event_id: &str,
    journey_id: &str,
    sequence: u64,
    status: &str,
    borrower_external_id: &str,
) -> String {
    serde_json::json!({
        "schema_version": "1.0.0",
        "event_type": "journey.snapshot",
        "event_id": event_id,
        "event_at": "2026-04-02T09:16:10.000Z",
        "snapshot_generated_at": "2026-04-02T09:16:10.000Z",
        "sequence": sequence,
        "issuer": { "source": "credit-api", "trigger": "journey.offer.updated" },
        "tenant_id": TENANT_ID,
        "application_id": APPLICATION_ID,
        "borrower": {
            "borrowerExternalID": borrower_external_id,
            "journeys": [{ "journeyID": journey_id, "status": status, "nextAction": "VIEW_OFFERS" }]
        }
    })
    .to_string()
}

/// The headers of a delivery of `body` signed with `secret` at `ts`: the event id (taken from the
/// body; empty when it has none), the development tenant and application, timestamp, signature.
pub fn signed_headers(body: &str, secret: &str, ts: &str) -> Vec<(&'static str, String)> {
    let event_id = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["event_id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    vec![
        ("X-AL-Event-ID", event_id),
        ("X-AL-Tenant-ID", TENANT_ID.to_owned()),
        ("X-AL-Application-ID", APPLICATION_ID.to_owned()),
        ("X-AL-Webhook-Timestamp", ts.to_owned()),
        (
            "X-AL-Webhook-Signature",
            sign(secret.as_bytes(), ts, body.as_bytes()),
        ),
    ]
}

/// `headers` without the one called `name`.
pub fn without(headers: &[(&'static str, String)], name: &str) -> Vec<(&'static str, String)> {
    headers
        .iter()
        .filter(|(k, _)| *k != name)
        .cloned()
        .collect()
}

impl TestApp {
    /// POST a body to the webhook receiver with exactly the given headers.
    pub async fn post_webhook_raw(
        &self,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, String)],
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/v1/webhooks/aarthik"))
            .header("Content-Type", "application/json")
            .timeout(std::time::Duration::from_secs(30));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req.body(body).send().await.expect("webhook request")
    }

    /// POST a body signed now with `secret`.
    pub async fn post_webhook_signed(&self, body: &str, secret: &str) -> reqwest::Response {
        let headers = signed_headers(body, secret, &now_secs().to_string());
        self.post_webhook_raw(body.to_owned(), &headers).await
    }

    /// POST a body signed now with the development secret.
    pub async fn post_webhook(&self, body: &str) -> reqwest::Response {
        self.post_webhook_signed(body, DEV_WEBHOOK_SECRET).await
    }
}
