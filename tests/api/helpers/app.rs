//! Starting the real service: `spawn_app` and its variants on port 0 against a real Redis (each
//! test its own key prefix), the `TestApp` they return, the stores, partner JWTs, the ops API, and
//! `Client`, a partner caller in bearer or cookie mode.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aarthik_bff::config::{LoadOptions, Settings};
use aarthik_bff::startup::Application;
use aarthik_bff::store::{MemoryStore, RedisStore, Store};
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::init_test_logging;

/// The development ops token.
pub const DEV_OPS_TOKEN: &str = "dev-ops-token";

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
            Duration::from_millis(1000),
            Duration::from_millis(1000),
        )
        .expect("redis store"),
    )
}

pub fn memory_store(prefix: &str) -> Arc<dyn Store> {
    Arc::new(MemoryStore::new(prefix))
}

/// The repository's configuration as the binary reads it without environment: the development
/// defaults (`env` is `None`) or one environment's file on top of them.
pub fn repo_options(env: Option<&str>) -> LoadOptions {
    LoadOptions {
        env: env.map(str::to_owned),
        config_dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")),
        read_env_vars: false,
        overrides: Vec::new(),
    }
}

/// Options every test app starts from: development rules, port 0, one worker, Redis with a
/// fresh prefix.
pub fn base_options() -> LoadOptions {
    repo_options(None)
        .set("server.port", "0")
        .set("server.workers", "1")
        .set("server.shutdown_timeout_secs", "1")
        .set("store.redis_url", redis_url())
        .set("store.key_prefix", unique_prefix())
}

pub fn load_settings(options: LoadOptions) -> Settings {
    aarthik_bff::config::load(options).expect("test configuration")
}

/// A partner JWT (HS256) for `sub`, as the given settings mint it.
pub fn mint_jwt(settings: &Settings, sub: &str, ttl_secs: u64) -> String {
    aarthik_bff::auth::token::mint(settings, sub, ttl_secs).expect("mint partner jwt")
}

/// A ten-minute partner JWT for `sub` that `app` accepts.
pub fn jwt(app: &TestApp, sub: &str) -> String {
    mint_jwt(&app.settings, sub, 600)
}

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

    /// The key prefix this app's store uses.
    pub fn key_prefix(&self) -> String {
        self.settings.store.key_prefix.clone()
    }
}

/// Start the real application with the test defaults (`base_options`).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(base_options()).await
}

/// Start the real application with the given options.
pub async fn spawn_app_with(options: LoadOptions) -> TestApp {
    init_test_logging();
    let settings = load_settings(options);
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

/// Start the application with the embedded sandbox as its upstream.
pub async fn spawn_app_with_embedded_sandbox() -> TestApp {
    spawn_app_with(base_options().set("upstream.base_url", "embedded")).await
}

/// POST `path` (no body) on `app` with a bearer `token`: the status and the envelope.
pub async fn post_as(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

// ---- The ops API ----------------------------------------------------------------------------

impl TestApp {
    /// GET an ops path with the development ops token.
    pub async fn ops_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(DEV_OPS_TOKEN)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("ops request")
    }

    /// GET an ops path and return the envelope's `data` (asserting 200).
    pub async fn ops_data(&self, path: &str) -> Value {
        let res = self.ops_get(path).await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.expect("ops json");
        assert_eq!(status, 200, "{path}: {body}");
        body["data"].clone()
    }

    /// Every feed item (all pages), oldest first.
    pub async fn ops_feed(&self) -> Vec<Value> {
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

    /// The feed items of one journey, oldest first.
    pub async fn ops_feed_of(&self, journey: &str) -> Vec<Value> {
        self.ops_feed()
            .await
            .into_iter()
            .filter(|e| e["journeyID"] == journey)
            .collect()
    }
}

// ---- A partner caller -----------------------------------------------------------------------

/// A fresh partner user id.
pub fn new_user() -> String {
    format!("user-{}", uuid::Uuid::new_v4().simple())
}

/// How a test caller authenticates.
#[derive(Clone)]
pub enum Auth {
    Bearer(String),
    /// The web session cookie header (`name=value`), sent with `X-CSRF: 1`.
    Cookie(String),
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

pub async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let raw = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        raw,
    }
}

/// A test caller of one BFF.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub auth: Auth,
}

impl Client {
    pub fn bearer(app: &TestApp, user: &str) -> Client {
        Client {
            base: app.address.clone(),
            http: app.client.clone(),
            auth: Auth::Bearer(jwt(app, user)),
        }
    }

    /// Log `user` in with `POST /v1/web/session` and use the cookie from then on.
    pub async fn cookie(app: &TestApp, user: &str) -> Client {
        let res = app
            .client
            .post(app.url("/v1/web/session"))
            .bearer_auth(jwt(app, user))
            .send()
            .await
            .expect("web login");
        assert_eq!(res.status().as_u16(), 200, "web login");
        let cookie = session_cookie(res.headers()).expect("a session cookie is set");
        Client {
            base: app.address.clone(),
            http: app.client.clone(),
            auth: Auth::Cookie(cookie),
        }
    }

    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let rb = self
            .http
            .request(m, format!("{}{}", self.base, path))
            .timeout(Duration::from_secs(30));
        match &self.auth {
            Auth::Bearer(t) => rb.bearer_auth(t),
            Auth::Cookie(c) => rb.header("Cookie", c).header("X-CSRF", "1"),
        }
    }

    /// A proxied call with a fresh idempotency key on mutating methods.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let key = (method != "GET" && method != "HEAD").then(|| uuid::Uuid::new_v4().to_string());
        self.call_keyed(method, path, body, key.as_deref()).await
    }

    pub async fn call_keyed(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Reply {
        let mut rb = self.request(method, path);
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        reply(rb.send().await.expect("request")).await
    }
}

/// `name=value` of the web session cookie in a `Set-Cookie` header, when it sets one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-bff_session=") && !v.starts_with("__Host-bff_session=;"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}
