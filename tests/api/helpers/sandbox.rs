//! Starting and steering the sandbox: a standalone simulator on a free port, a BFF in front of it
//! (`Env`), its test controls, and its request log.

use aarthik_bff::config::LoadOptions;
use aarthik_bff::sandbox::{self, SandboxConfig, SandboxHandle};
use serde_json::Value;

use super::{base_options, init_test_logging, spawn_app_with, TestApp};

/// The upstream's path prefix for the headless API.
pub const HEADLESS: &str = "/api/v1/headless";
/// The upstream's session create (and resume) path.
pub const UPSTREAM_SESSIONS: &str = "/api/v1/headless/sessions";
/// The upstream's session refresh path.
pub const UPSTREAM_REFRESH: &str = "/api/v1/headless/sessions/refresh";

/// A standalone sandbox on a free port (dropping the handle stops it).
pub async fn start_sandbox(cfg: SandboxConfig) -> SandboxHandle {
    init_test_logging();
    sandbox::start(SandboxConfig { port: 0, ..cfg })
        .await
        .expect("sandbox starts")
}

/// A sandbox whose lenders (and disbursal) answer after 150 ms.
pub fn fast_sandbox() -> SandboxConfig {
    SandboxConfig {
        port: 0,
        offer_delay_ms: 150,
        ..Default::default()
    }
}

/// Options for a BFF pointed at `sb`.
pub fn options_for(sb: &SandboxHandle) -> LoadOptions {
    base_options().set("upstream.base_url", sb.base_url())
}

/// A BFF and the sandbox it talks to (dropping it stops the sandbox).
pub struct Env {
    pub app: TestApp,
    pub sb: SandboxHandle,
}

/// A BFF in front of a fast sandbox.
pub async fn env() -> Env {
    env_with(fast_sandbox(), |o| o).await
}

/// A BFF in front of a sandbox started with `cfg`, its options changed by `tweak`.
pub async fn env_with(cfg: SandboxConfig, tweak: impl FnOnce(LoadOptions) -> LoadOptions) -> Env {
    let sb = start_sandbox(cfg).await;
    let app = spawn_app_with(tweak(options_for(&sb))).await;
    Env { app, sb }
}

/// POST a test control (`/__sandbox/...`) to the sandbox and return its envelope.
pub async fn control(sb: &SandboxHandle, path: &str, body: Value) -> Value {
    control_at(&sb.base_url(), path, body).await
}

/// POST a test control to the sandbox at `base` (e.g. the embedded one, `app.upstream_base_url`).
pub async fn control_at(base: &str, path: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("sandbox control")
        .json()
        .await
        .expect("sandbox control json")
}

/// DELETE a sandbox resource (`/__sandbox/faults` clears the faults, `/__sandbox/requests` the log).
pub async fn control_delete(sb: &SandboxHandle, path: &str) {
    let res = reqwest::Client::new()
        .delete(format!("{}{path}", sb.base_url()))
        .send()
        .await
        .expect("sandbox control");
    assert!(res.status().is_success(), "{path}: {}", res.status());
}

/// GET a sandbox read-out at `base` (e.g. `/__sandbox/deliveries`) and return its envelope.
pub async fn sandbox_get(base: &str, path: &str) -> Value {
    reqwest::get(format!("{base}{path}"))
        .await
        .expect("sandbox read-out")
        .json()
        .await
        .expect("sandbox read-out json")
}

/// The sandbox's request log entries whose path starts with `prefix`, oldest first.
pub async fn upstream_log(sb: &SandboxHandle, prefix: &str) -> Vec<Value> {
    let v = sandbox_get(
        &sb.base_url(),
        &format!("/__sandbox/requests?limit=10000&path_prefix={prefix}"),
    )
    .await;
    v["data"]["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// How many logged requests have this method and exact path.
pub fn count(log: &[Value], method: &str, path: &str) -> usize {
    log.iter()
        .filter(|r| r["method"] == method && r["path"] == path)
        .count()
}
