//! `spawn_app()` and friends.

use std::path::PathBuf;
use std::sync::Arc;

use aarthik_bff::config::{self, LoadOptions, Settings};
use aarthik_bff::startup::Application;
use aarthik_bff::store::{MemoryStore, RedisStore, Store};

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
