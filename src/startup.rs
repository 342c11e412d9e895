//! `Application::build` binds the listeners (port 0 in tests; the metrics and ops ports when
//! set), builds the store, the upstream client (starting the embedded sandbox when
//! `upstream.base_url = "embedded"`) and the routes. `run_until` serves until a signal, then
//! drains (see [`crate::drain`]).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpRequest, HttpServer};

use crate::config::{ConfigError, Settings, UpstreamTarget};
pub use crate::drain::ShutdownSignals;
use crate::drain::{Drain, Phase};
use crate::embedded::{self, EmbeddedUpstream};
use crate::error::ApiError;
use crate::listeners::Ports;
use crate::metrics::Metrics;
use crate::middleware::{PrefixRoute, RequestContextMiddleware};
use crate::{store, upstream};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen: {0}")]
    Bind(#[from] std::io::Error),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    #[error("store: {0}")]
    StoreSetup(#[from] store::SetupError),
    #[error("upstream client: {0}")]
    Upstream(#[from] upstream::UpstreamError),
    #[error("embedded sandbox: {0}")]
    Sandbox(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

pub struct Application {
    port: u16,
    ports: Ports,
    server: Server,
    upstream: upstream::UpstreamClient,
    drain: Drain,
    shutdown_delay: Duration,
    _embedded: Option<EmbeddedUpstream>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let extra = |key: &str, port: u16| -> Result<Option<TcpListener>, StartupError> {
            if port == 0 {
                return Ok(None);
            }
            TcpListener::bind((settings.server.host.as_str(), port))
                .map(Some)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{key} {port}: {e}")).into())
        };
        let metrics_listener = extra("server.metrics_port", settings.server.metrics_port)?;
        let ops_listener = extra("server.ops_port", settings.server.ops_port)?;
        let ports = Ports {
            metrics: (settings.server.metrics_port != 0).then_some(settings.server.metrics_port),
            ops: (settings.server.ops_port != 0).then_some(settings.server.ops_port),
        };
        let metrics = Metrics::new()?;
        let export = settings.telemetry.exports_traces();
        // Every operation timed and counted (and a child span of its request when exporting).
        let store: Arc<dyn store::Store> = Arc::new(store::Instrumented::new(
            store::from_settings(&settings.store)?,
            metrics.clone(),
            export,
        ));
        for what in settings.dev_defaults_in_use() {
            tracing::warn!("DEVELOPMENT DEFAULT IN USE: {what}");
        }
        for warning in settings.warnings() {
            tracing::warn!("{warning}");
        }
        let store_kind = store.kind();
        if store_kind == "memory" {
            tracing::warn!(
                "in-memory store: state lives in this process only; run ONE instance, or set BFF__STORE__REDIS_URL"
            );
        }
        let (base_url, sandbox_handle) = match &settings.upstream.base_url {
            UpstreamTarget::Embedded => {
                let handle = embedded::start(&settings, port)
                    .await
                    .map_err(StartupError::Sandbox)?;
                tracing::warn!(url = %handle.base_url(), "embedded sandbox upstream started (not the real Aarthik Labs API)");
                (handle.base_url(), Some(handle))
            }
            UpstreamTarget::Url(url) => (url.clone(), None),
        };
        let upstream = upstream::UpstreamClient::new(
            &base_url,
            settings.upstream.api_key.clone(),
            Some(settings.upstream.secondary_api_key.clone()),
            settings.api_version(),
            Duration::from_millis(settings.upstream.connect_timeout_ms),
            Duration::from_millis(settings.upstream.timeout_ms),
            metrics.clone(),
        )?
        .with_max_response_bytes(settings.upstream.max_response_bytes)
        .with_trace_spans(export);
        let settings = Arc::new(settings);
        let drain = Drain::default();
        let deps = Deps::build(&settings, store, upstream.clone(), metrics, drain.clone())?;
        let listeners = [Some(listener), metrics_listener, ops_listener];
        let server = run(listeners.into_iter().flatten(), deps, ports, &settings)?;
        tracing::info!(
            port,
            address = %format!("http://{}:{}", settings.server.host, port),
            metrics_port = ports.metrics,
            ops_port = ports.ops,
            store = store_kind,
            "aarthik-bff listening"
        );
        Ok(Application {
            port,
            ports,
            server,
            upstream,
            drain,
            shutdown_delay: Duration::from_secs(settings.server.shutdown_delay_secs),
            _embedded: sandbox_handle,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics and ops ports, when they are separate.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// The upstream origin in use (the embedded sandbox's URL in the demo).
    pub fn upstream_base_url(&self) -> String {
        self.upstream.base_url().to_owned()
    }

    /// Serve until the process is stopped (tests use this: no signal handling of its own).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serve until `shutdown` resolves; then keep serving with `/readyz` answering 503 for
    /// `server.shutdown_delay_secs`, then stop accepting, end event streams, and give in-flight
    /// requests `server.shutdown_timeout_secs` to finish.
    pub async fn run_until<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let handle = self.server.handle();
        let (drain, delay) = (self.drain.clone(), self.shutdown_delay);
        tokio::spawn(async move {
            shutdown.await;
            drain.enter(Phase::Draining);
            if !delay.is_zero() {
                tracing::info!(
                    delay_secs = delay.as_secs(),
                    "shutdown signal received; still serving, /readyz answers 503"
                );
                tokio::time::sleep(delay).await;
            }
            tracing::info!("shutting down: no new connections; draining in-flight requests");
            drain.enter(Phase::Stopping);
            handle.stop(true).await;
        });
        self.server.await
    }
}

/// Every capability's long-lived parts, built once and handed to each worker as app data: each
/// handler and extractor asks for exactly the part it uses.
#[derive(Clone)]
struct Deps {
    /// Request spans are exported (`telemetry.otlp_endpoint`).
    export: bool,
    store: web::Data<dyn store::Store>,
    metrics: web::Data<Metrics>,
    sessions: web::Data<crate::session::Sessions>,
    verifier: web::Data<crate::auth::Verifier>,
    web_sessions: web::Data<crate::auth::WebSessions>,
    revocations: web::Data<crate::auth::Revocations>,
    ops_tokens: web::Data<crate::auth::OpsTokens>,
    audit: web::Data<crate::audit::Audit>,
    revoker: web::Data<crate::revoke::Revoker>,
    ops_sessions: web::Data<crate::auth::OpsSessions>,
    proxy: web::Data<crate::proxy::forward::ProxyDeps>,
    receiver: web::Data<crate::webhook::Receiver>,
    forwarder: web::Data<crate::webhook::Forwarder>,
    ops: web::Data<crate::ops::OpsViews>,
    live: web::Data<crate::live::Live>,
    origins: web::Data<crate::middleware::cors::AllowedOrigins>,
    drain: web::Data<Drain>,
}

impl Deps {
    fn build(
        settings: &Settings,
        store: Arc<dyn store::Store>,
        upstream: upstream::UpstreamClient,
        metrics: Metrics,
        drain: Drain,
    ) -> Result<Self, StartupError> {
        let directory = crate::directory::Directory::new(Arc::clone(&store));
        let events = crate::events::Events::new(Arc::clone(&store), settings);
        let sessions = crate::session::Sessions::new(
            settings,
            Arc::clone(&store),
            upstream.clone(),
            directory.clone(),
            events.journeys.clone(),
            metrics.clone(),
        )
        // The session capability builds its cipher here (configuration only checked the keys'
        // shape), so a key the cipher refuses still stops start-up as a configuration error.
        .map_err(|e| {
            let problem = match e {
                crate::session::cipher::CipherError::Config(problem) => problem,
                other => other.to_string(),
            };
            ConfigError::new("session.encryption_keys", problem)
        })?;
        let events = crate::events::Events::new(Arc::clone(&store), settings);
        // This instance's one wake-up subscription, shared by every event stream it serves.
        let hub = crate::live::Hub::start(Arc::clone(&store), crate::live::Live::limits(settings));
        let live = crate::live::Live::new(hub, events.updates.clone(), settings);
        let forwarder = crate::webhook::Forwarder::new(settings, Arc::clone(&store), &metrics)?;
        forwarder.start();
        let receiver = crate::webhook::Receiver::new(
            settings,
            Arc::clone(&store),
            events.clone(),
            directory.clone(),
            forwarder.clone(),
        );
        // A revocation read from any instance drops this instance's token memo for that user.
        let forget_memo: crate::auth::revocation::Listener = {
            let sessions = sessions.clone();
            Box::new(move |user: &str| sessions.forget_remembered(user))
        };
        let revocations =
            crate::auth::Revocations::start(settings, Arc::clone(&store), vec![forget_memo]);
        let audit = crate::audit::Audit::new(Arc::clone(&store));
        let revoker = crate::revoke::Revoker::new(
            revocations.clone(),
            sessions.clone(),
            audit.clone(),
            &metrics,
        )?;
        Ok(Deps {
            export: settings.telemetry.exports_traces(),
            metrics: web::Data::new(metrics.clone()),
            verifier: web::Data::new(crate::auth::Verifier::from_settings(settings)),
            web_sessions: web::Data::new(crate::auth::WebSessions::new(
                settings,
                Arc::clone(&store),
                revocations.clone(),
            )),
            revocations: web::Data::new(revocations),
            ops_tokens: web::Data::new(crate::auth::OpsTokens::from_settings(settings)),
            audit: web::Data::new(audit),
            revoker: web::Data::new(revoker),
            ops_sessions: web::Data::new(crate::auth::OpsSessions::new(
                settings,
                Arc::clone(&store),
            )),
            proxy: web::Data::new(crate::proxy::forward::ProxyDeps {
                settings: settings.proxy.clone(),
                store: Arc::clone(&store),
                sessions: sessions.clone(),
                upstream,
                directory: directory.clone(),
                journeys: events.journeys.clone(),
                metrics: metrics.clone(),
            }),
            sessions: web::Data::new(sessions),
            receiver: web::Data::new(receiver),
            forwarder: web::Data::new(forwarder),
            ops: web::Data::new(crate::ops::OpsViews::new(events, directory)),
            live: web::Data::new(live),
            origins: web::Data::new(crate::middleware::cors::AllowedOrigins::from_settings(
                settings,
            )),
            store: web::Data::from(store),
            drain: web::Data::new(drain),
        })
    }
}

/// The whole application for one worker: app data, middleware, every route.
fn create_app(
    deps: Deps,
    ports: Ports,
    max_json: usize,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The proxy scope is labelled by its prefix (no resource-map walk on the hottest path).
    let proxy_route = PrefixRoute {
        prefix: crate::proxy::routes::SCOPE,
        label: crate::proxy::routes::ROUTE_LABEL,
    };
    App::new()
        .app_data(deps.store)
        .app_data(deps.metrics.clone())
        .app_data(deps.sessions)
        .app_data(deps.verifier)
        .app_data(deps.web_sessions)
        .app_data(deps.revocations)
        .app_data(deps.ops_tokens)
        .app_data(deps.audit)
        .app_data(deps.revoker)
        .app_data(deps.ops_sessions)
        .app_data(deps.proxy)
        .app_data(deps.receiver)
        .app_data(deps.forwarder)
        .app_data(deps.ops)
        .app_data(deps.live)
        .app_data(deps.origins)
        .app_data(deps.drain)
        .app_data(json_config(max_json))
        .app_data(web::PayloadConfig::new(max_json))
        .wrap(actix_web::middleware::from_fn(move |req, next| {
            crate::listeners::gate(ports, req, next)
        }))
        .wrap(actix_web::middleware::from_fn(
            crate::middleware::cors::cors,
        ))
        .wrap(
            RequestContextMiddleware::new(deps.metrics.get_ref().clone(), Some(proxy_route))
                .with_trace_export(deps.export),
        )
        .configure(crate::routes::configure)
        .default_service(web::to(not_found))
}

/// Time allowed for a request's head to arrive.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for a client to acknowledge the close of its connection.
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Open connections per worker (beyond, new connections wait in the listen backlog).
const MAX_CONNECTIONS_PER_WORKER: usize = 10_000;

/// Bind the app to the listeners and start serving (signals are handled by [`Application`]).
fn run(
    listeners: impl IntoIterator<Item = TcpListener>,
    deps: Deps,
    ports: Ports,
    settings: &Settings,
) -> Result<Server, StartupError> {
    let max_json = settings.server.max_json_bytes;
    let mut server = HttpServer::new(move || create_app(deps.clone(), ports, max_json));
    for listener in listeners {
        server = server.listen(listener)?;
    }
    let mut server = server
        // Set deliberately rather than left to defaults: a request head must arrive within 5 s
        // (else 408), a closing client gets 1 s, and each worker holds a bounded number of
        // connections (request bodies have their own limits and deadlines where they are read).
        .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
        .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
        .max_connections(MAX_CONNECTIONS_PER_WORKER)
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        // A client that closes its side is gone: drop its request at once. Otherwise an idle event
        // stream (or a waiting long poll) would hold its slot until a heartbeat write failed.
        .h1_allow_half_closed(false)
        // Signals are ours (see `run_until`): actix would only listen once its future is first
        // polled, leaving a window after start-up in which SIGTERM kills the process outright.
        .disable_signals();
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            use actix_web::error::JsonPayloadError as J;
            let api = match &err {
                J::Overflow { .. } | J::OverflowKnownLength { .. } => {
                    ApiError::PayloadTooLarge("The request body is too large.".into())
                }
                J::ContentType => ApiError::Validation("Send the body as application/json.".into()),
                J::Deserialize(e) => ApiError::Validation(format!("Invalid JSON body: {e}")),
                _ => ApiError::Validation("Unreadable request body.".into()),
            };
            api.into()
        })
}

async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    // The reflected path is cut short: an error body is no place to echo megabytes back.
    let path: String = req.path().chars().take(200).collect();
    Err(ApiError::NotFound(format!(
        "No route for {} {}.",
        req.method(),
        path
    )))
}

#[cfg(test)]
mod tests {
    use crate::middleware::cors::ALLOW_HEADERS;
    use crate::proxy::headers::FORWARDED_REQUEST;

    #[test]
    fn a_browser_may_send_every_header_the_proxy_forwards() {
        let allowed: Vec<String> = ALLOW_HEADERS
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        // Accept and Accept-Language are CORS-safelisted: browsers send them without asking.
        for h in FORWARDED_REQUEST
            .iter()
            .filter(|h| !matches!(**h, "accept" | "accept-language"))
        {
            assert!(
                allowed.iter().any(|a| a == h),
                "{h} is not in ALLOW_HEADERS"
            );
        }
    }
}
