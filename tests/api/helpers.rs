//! `spawn_app()` and friends.

use std::path::PathBuf;
use std::sync::Arc;

use aarthik_bff::config::{self, LoadOptions, Settings};
use aarthik_bff::sandbox::{self, SandboxConfig, SandboxHandle};
use aarthik_bff::startup::Application;
use aarthik_bff::store::{MemoryStore, RedisStore, Store};
use serde_json::Value;

/// The Redis the suite runs against. `scripts/test.sh` always provides one.
pub fn redis_url() -> String {
    match std::env::var("REDIS_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => panic!(
            "REDIS_URL is not set: run the suite with scripts/test.sh (it starts a redis-server), \
             or export REDIS_URL=redis://127.0.0.1:PORT"
        ),
    }
}

/// A key prefix of its own for one test.
pub fn unique_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

pub fn redis_store(prefix: &str) -> Arc<dyn Store> {
    Arc::new(
        RedisStore::new(
            &redis_url(),
            prefix,
            std::time::Duration::from_millis(1000),
            std::time::Duration::from_millis(1000),
        )
        .expect("redis store"),
    )
}

pub fn memory_store(prefix: &str) -> Arc<dyn Store> {
    Arc::new(MemoryStore::new(prefix))
}

/// Options every test app starts from: port 0, one worker, Redis with a fresh prefix.
pub fn base_options() -> LoadOptions {
    LoadOptions {
        env: Some("test".into()),
        config_dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")),
        read_env_vars: false,
        overrides: Vec::new(),
    }
    .set("server.port", "0")
    .set("server.workers", "1")
    .set("server.shutdown_timeout_secs", "1")
    .set("store.redis_url", redis_url())
    .set("store.key_prefix", unique_prefix())
}

#[allow(dead_code)]
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub upstream_base_url: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

/// Start the real application with the given options.
pub async fn spawn_app_with(options: LoadOptions) -> TestApp {
    let settings = config::load(options).expect("test configuration");
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let port = app.port();
    let upstream_base_url = app.upstream_base_url();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        settings,
        upstream_base_url,
    }
}

/// Wait until `check` holds, polling every 20 ms, at most `secs` seconds.
#[allow(dead_code)]
pub async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

// ---- Webhook and ops helpers (signing is done here with hmac/sha2 directly, not with the
// ---- crate's own signer, so a bug there cannot hide itself).

/// The development webhook secret shared with the embedded sandbox.
#[allow(dead_code)]
pub const DEV_WEBHOOK_SECRET: &str = "whsec_dev_sandbox_secret";
/// The development ops token.
#[allow(dead_code)]
pub const DEV_OPS_TOKEN: &str = "dev-ops-token";
#[allow(dead_code)]
pub const TENANT_ID: &str = "2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9";
#[allow(dead_code)]
pub const APPLICATION_ID: &str = "71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b";

/// Lowercase hex HMAC-SHA256 over `timestamp + "." + body`.
#[allow(dead_code)]
pub fn webhook_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A fresh event id in the upstream's format.
#[allow(dead_code)]
pub fn new_event_id() -> String {
    format!("evt_{}", ulid::Ulid::new())
}

/// A `journey.snapshot` body (CONTRACT §6.6 shape) for one journey.
#[allow(dead_code)]
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

/// Unix seconds now, as the upstream sends it.
#[allow(dead_code)]
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[allow(dead_code)]
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

    /// POST a body signed now with `secret`, its event id header taken from the body.
    pub async fn post_webhook_signed(&self, body: &str, secret: &str) -> reqwest::Response {
        let ts = now_secs().to_string();
        let event_id = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["event_id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let headers = [
            ("X-AL-Event-ID", event_id),
            ("X-AL-Tenant-ID", TENANT_ID.to_owned()),
            ("X-AL-Application-ID", APPLICATION_ID.to_owned()),
            (
                "X-AL-Webhook-Signature",
                webhook_signature(secret, &ts, body.as_bytes()),
            ),
            ("X-AL-Webhook-Timestamp", ts),
        ];
        self.post_webhook_raw(body.to_owned(), &headers).await
    }

    /// POST a body signed with the development secret.
    pub async fn post_webhook(&self, body: &str) -> reqwest::Response {
        self.post_webhook_signed(body, DEV_WEBHOOK_SECRET).await
    }

    /// GET an ops path with the development ops token.
    pub async fn ops_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(DEV_OPS_TOKEN)
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .expect("ops request")
    }

    /// GET an ops path and return the envelope's `data` (asserting 200).
    pub async fn ops_data(&self, path: &str) -> serde_json::Value {
        let res = self.ops_get(path).await;
        let status = res.status().as_u16();
        let body: serde_json::Value = res.json().await.expect("ops json");
        assert_eq!(status, 200, "{path}: {body}");
        body["data"].clone()
    }

    /// Every feed item (all pages), oldest first.
    pub async fn ops_feed(&self) -> Vec<serde_json::Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                Some(c) => format!("/v1/ops/events?limit=1000&after={c}"),
                None => "/v1/ops/events?limit=1000".to_owned(),
            };
            let data = self.ops_data(&path).await;
            let events = data["events"].as_array().cloned().unwrap_or_default();
            if events.is_empty() {
                return all;
            }
            after = data["next"].as_str().map(str::to_owned);
            all.extend(events);
        }
    }
}

/// The status code and the envelope of a response.
#[allow(dead_code)]
pub async fn status_and_body(res: reqwest::Response) -> (u16, serde_json::Value) {
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

// ---- A BFF in front of a real sandbox (sessions, proxy and web-session tests).

/// A standalone sandbox on a free port (dropping the handle stops it).
pub async fn start_sandbox(cfg: SandboxConfig) -> SandboxHandle {
    sandbox::start(SandboxConfig { port: 0, ..cfg })
        .await
        .expect("sandbox starts")
}

/// Options for a BFF pointed at `sb`.
pub fn options_for(sb: &SandboxHandle) -> LoadOptions {
    base_options().set("upstream.base_url", sb.base_url())
}

pub fn jwt(app: &TestApp, sub: &str) -> String {
    aarthik_bff::auth::token::mint(&app.settings, sub, 600).expect("mint partner jwt")
}

/// The sandbox's request log entries whose path starts with `prefix`, oldest first.
pub async fn upstream_log(sb: &SandboxHandle, prefix: &str) -> Vec<Value> {
    let v: Value = reqwest::get(format!(
        "{}/__sandbox/requests?limit=10000&path_prefix={prefix}",
        sb.base_url()
    ))
    .await
    .expect("sandbox log")
    .json()
    .await
    .expect("sandbox log json");
    v["data"]["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

pub fn count(log: &[Value], method: &str, path: &str) -> usize {
    log.iter()
        .filter(|r| r["method"] == method && r["path"] == path)
        .count()
}
