//! The upstream simulator: a stateful, in-memory imitation of the Aarthik Labs headless API
//! runnable on its own (`aarthik-bff sandbox`) or inside the BFF and the tests. It speaks the
//! vocabulary of the `aarthik-contract` crate; `docs/sandbox.md` describes its surface and controls.
//!
//! Layout: `state` holds the whole model behind one `Mutex`; handlers in `sessions`, `journeys`,
//! `profile`, `offers`, `steps`, `aa`, `loan`, `webhooks` change it and emit `journey.snapshot`
//! events into an outbox; `flow` moves journey statuses forward; `delivery` (a background task)
//! signs and sends the events; `timers` (another task) fires lender dispatch and answers, AA URL
//! preparation and disbursal; `edge` is the middleware for correlation IDs, the API version pin,
//! the request log, faults and idempotency; `controls` and `pages` are the `/__sandbox` test
//! surface.

#![forbid(unsafe_code)]

mod aa;
mod auth;
pub mod control_paths;
mod controls;
mod delivery;
mod edge;
mod faults;
mod flow;
mod idempotency;
mod journeys;
mod lenders;
mod loan;
mod offer_view;
mod offers;
mod pages;
mod profile;
mod reply;
mod routes;
mod sessions;
mod state;
mod step_view;
mod steps;
mod timers;
mod validate;
#[cfg(test)]
mod validate_tests;
mod webhooks;

use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::{web, App, HttpServer};
use secrecy::SecretString;
use tokio::sync::Notify;

use aarthik_contract::timing;

/// The sandbox's development constants: what it accepts and signs with unless told otherwise.
/// Never valid against the real upstream.
pub mod dev {
    /// The only `sk_*` key accepted by default.
    pub const API_KEY: &str = "sk_test_sandbox_key";
    /// The webhook signing secret used by default.
    pub const WEBHOOK_SECRET: &str = "whsec_dev_sandbox_secret";
    /// Tenant UUID the sandbox answers for.
    pub const TENANT_ID: &str = "2f0c6a51-7b3e-4d19-8a44-c1e5f6a7b8c9";
    /// Application UUID the sandbox answers for.
    pub const APPLICATION_ID: &str = "71d4e8b2-0a9c-4f63-b5e1-3c2d1e0f9a8b";
}

/// Tenant UUID the sandbox answers for unless configured otherwise.
pub const DEFAULT_TENANT_ID: &str = dev::TENANT_ID;
/// Application UUID the sandbox answers for unless configured otherwise.
pub const DEFAULT_APPLICATION_ID: &str = dev::APPLICATION_ID;

/// Everything the sandbox can be told at start. Secrets are `SecretString` (redacted `Debug`).
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub host: String,
    /// 0 = pick a free port.
    pub port: u16,
    /// The only `sk_*` key accepted.
    pub api_key: SecretString,
    /// When set, the application is subscribed to this URL from the start.
    pub webhook_url: Option<String>,
    pub webhook_secret: SecretString,
    /// From a valid profile submit (`PROFILE_SUBMITTED`) to lender dispatch (`OFFERS_PENDING`).
    pub dispatch_start_delay_ms: u64,
    /// Delay before simulated lenders answer (and before disbursal happens).
    pub offer_delay_ms: u64,
    /// From an Account Aggregator session's creation (`REQUIRED`) to its URL (`REDIRECT_READY`).
    pub aa_prepare_delay_ms: u64,
    /// How long a redirect step waits for the borrower's return before it shows `RECONCILE`.
    pub reconcile_after_ms: u64,
    /// Failed attempts before a step ends `FAILURE` and the journey `REJECTED`.
    pub max_step_attempts: u32,
    /// `false`: the refresh route answers 404 as if absent (switchable at run time too).
    pub refresh_endpoint_enabled: bool,
    pub session_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub tenant_id: String,
    pub application_id: String,
    /// Attempts per webhook event before giving up.
    pub webhook_max_attempts: u32,
    /// First retry delay; doubled per attempt.
    pub webhook_first_retry_ms: u64,
    /// `true`: mutating headless calls without `Idempotency-Key` are refused.
    pub idempotency_strict: bool,
    /// Most records the request log and the delivery log each keep (oldest dropped first).
    pub log_cap: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            host: "127.0.0.1".into(),
            port: 0,
            api_key: SecretString::from(dev::API_KEY.to_owned()),
            webhook_url: None,
            webhook_secret: SecretString::from(dev::WEBHOOK_SECRET.to_owned()),
            dispatch_start_delay_ms: timing::DISPATCH_START_DELAY_MS,
            offer_delay_ms: timing::OFFER_DISPATCH_DELAY_MS,
            aa_prepare_delay_ms: timing::AA_PREPARE_DELAY_MS,
            reconcile_after_ms: timing::RECONCILE_AFTER_MS,
            max_step_attempts: timing::MAX_STEP_ATTEMPTS,
            refresh_endpoint_enabled: true,
            session_ttl_secs: timing::SESSION_TOKEN_TTL_SECS,
            refresh_ttl_secs: timing::REFRESH_TOKEN_TTL_SECS,
            tenant_id: DEFAULT_TENANT_ID.into(),
            application_id: DEFAULT_APPLICATION_ID.into(),
            webhook_max_attempts: timing::WEBHOOK_MAX_ATTEMPTS,
            webhook_first_retry_ms: timing::WEBHOOK_FIRST_RETRY_SECS * 1000,
            idempotency_strict: true,
            log_cap: state::DEFAULT_LOG_CAP,
        }
    }
}

/// Shared by every handler and both background tasks.
pub(crate) struct Sandbox {
    pub config: SandboxConfig,
    state: Mutex<state::State>,
    /// Wakes the timer task (a new offer dispatch or disbursal was scheduled).
    pub timer_wake: Arc<Notify>,
    /// Wakes the delivery task (a new event is in the outbox, or "deliver now").
    pub delivery_wake: Arc<Notify>,
}

impl Sandbox {
    fn new(config: SandboxConfig) -> Self {
        let timer_wake = Arc::new(Notify::new());
        let delivery_wake = Arc::new(Notify::new());
        let state = state::State::new(&config, delivery_wake.clone(), timer_wake.clone());
        Sandbox {
            config,
            state: Mutex::new(state),
            timer_wake,
            delivery_wake,
        }
    }

    /// The model. Never hold the guard across an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, state::State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running sandbox. Dropping it stops the HTTP server and both background tasks.
pub struct SandboxHandle {
    port: u16,
    host: String,
    server: actix_web::dev::ServerHandle,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SandboxHandle {
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn base_url(&self) -> String {
        let host = if self.host == "0.0.0.0" || self.host.is_empty() {
            "127.0.0.1"
        } else {
            self.host.as_str()
        };
        format!("http://{host}:{}", self.port)
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion.
        drop(self.server.stop(false));
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Bind `host:port` and serve in the current tokio runtime.
pub async fn start(config: SandboxConfig) -> std::io::Result<SandboxHandle> {
    let listener = TcpListener::bind((config.host.as_str(), config.port))?;
    let port = listener.local_addr()?.port();
    let host = config.host.clone();
    let sandbox = Arc::new(Sandbox::new(config));
    let data = web::Data::from(sandbox.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(edge::edge))
            .configure(routes::configure)
            .default_service(web::to(reply::unknown_route))
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let server_handle = server.handle();
    let tasks = vec![
        tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "sandbox server stopped with an error");
            }
        }),
        tokio::spawn(delivery::run(sandbox.clone())),
        tokio::spawn(timers::run(sandbox)),
    ];
    Ok(SandboxHandle {
        port,
        host,
        server: server_handle,
        tasks,
    })
}

/// Run until Ctrl-C / SIGTERM, logging the URL.
pub async fn run_standalone(config: SandboxConfig) -> std::io::Result<()> {
    let webhook = config.webhook_url.clone();
    // Listen for signals before announcing the server, so none sent after start-up is missed.
    let shutdown = shutdown_signal()?;
    let handle = start(config).await?;
    let url = handle.base_url();
    tracing::info!(%url, webhook_url = ?webhook, "sandbox upstream listening (not the real Aarthik Labs API)");
    println!("aarthik sandbox listening on {url}");
    shutdown.await;
    tracing::info!("sandbox stopping");
    drop(handle);
    Ok(())
}

/// SIGTERM or SIGINT, registered now; the returned future resolves on the first of them.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
