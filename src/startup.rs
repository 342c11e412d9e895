//! `Application::build` binds the listener (port 0 in tests), builds the store, the upstream
//! client (starting the embedded sandbox when `upstream.base_url = "embedded"`) and the routes.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpRequest, HttpServer};

use crate::config::{ConfigError, Settings, UpstreamTarget};
use crate::embedded::{self, EmbeddedUpstream};
use crate::error::ApiError;
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
    #[error("upstream client: {0}")]
    Upstream(#[from] upstream::UpstreamError),
    #[error("embedded sandbox: {0}")]
    Sandbox(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

pub struct Application {
    port: u16,
    server: Server,
    upstream: upstream::UpstreamClient,
    _embedded: Option<EmbeddedUpstream>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let metrics = Metrics::new()?;
        let store = store::from_settings(&settings.store)?;
        for what in settings.dev_defaults_in_use() {
            tracing::warn!("DEVELOPMENT DEFAULT IN USE: {what}");
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
        )?;
        let settings = Arc::new(settings);
        let deps = Deps::build(&settings, store, upstream.clone(), metrics)?;
        let server = run(listener, deps, &settings)?;
        tracing::info!(
            port,
            address = %format!("http://{}:{}", settings.server.host, port),
            store = store_kind,
            "aarthik-bff listening"
        );
        Ok(Application {
            port,
            server,
            upstream,
            _embedded: sandbox_handle,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The upstream origin in use (the embedded sandbox's URL in the demo).
    pub fn upstream_base_url(&self) -> String {
        self.upstream.base_url().to_owned()
    }

    /// Serve until the process is stopped (tests use this: no signal handling of its own).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serve until `shutdown` resolves, then stop accepting and give in-flight requests
    /// `server.shutdown_timeout_secs` to finish.
    pub async fn run_until<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let handle = self.server.handle();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutdown signal received; draining in-flight requests");
            handle.stop(true).await;
        });
        self.server.await
    }
}

/// Every capability's long-lived parts, built once and handed to each worker as app data: each
/// handler and extractor asks for exactly the part it uses.
#[derive(Clone)]
struct Deps {
    store: web::Data<dyn store::Store>,
    metrics: web::Data<Metrics>,
    sessions: web::Data<crate::session::Sessions>,
    verifier: web::Data<crate::auth::Verifier>,
    web_sessions: web::Data<crate::auth::WebSessions>,
    ops_tokens: web::Data<crate::auth::OpsTokens>,
    proxy: web::Data<crate::proxy::forward::ProxyDeps>,
    receiver: web::Data<crate::webhook::Receiver>,
    ops: web::Data<crate::ops::OpsViews>,
    origins: web::Data<crate::middleware::cors::AllowedOrigins>,
}

impl Deps {
    fn build(
        settings: &Settings,
        store: Arc<dyn store::Store>,
        upstream: upstream::UpstreamClient,
        metrics: Metrics,
    ) -> Result<Self, StartupError> {
        let directory = crate::directory::Directory::new(Arc::clone(&store));
        let events = crate::events::Events::new(Arc::clone(&store), settings);
        let sessions = crate::session::Sessions::new(
            settings,
            Arc::clone(&store),
            upstream.clone(),
            directory.clone(),
            events.journeys.clone(),
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
        let receiver = crate::webhook::Receiver::new(
            settings,
            Arc::clone(&store),
            events.clone(),
            directory.clone(),
            crate::webhook::Forwarder::start(&settings.webhook, settings.webhook_forward_urls()),
        );
        Ok(Deps {
            metrics: web::Data::new(metrics),
            verifier: web::Data::new(crate::auth::Verifier::from_settings(settings)),
            web_sessions: web::Data::new(crate::auth::WebSessions::new(
                settings,
                Arc::clone(&store),
            )),
            ops_tokens: web::Data::new(crate::auth::OpsTokens::from_settings(settings)),
            proxy: web::Data::new(crate::proxy::forward::ProxyDeps {
                settings: settings.proxy.clone(),
                store: Arc::clone(&store),
                sessions: sessions.clone(),
                upstream,
                directory: directory.clone(),
                journeys: events.journeys.clone(),
            }),
            sessions: web::Data::new(sessions),
            receiver: web::Data::new(receiver),
            ops: web::Data::new(crate::ops::OpsViews::new(events, directory)),
            origins: web::Data::new(crate::middleware::cors::AllowedOrigins::from_settings(
                settings,
            )),
            store: web::Data::from(store),
        })
    }
}

/// The whole application for one worker: app data, middleware, every route.
fn create_app(
    deps: Deps,
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
        .app_data(deps.ops_tokens)
        .app_data(deps.proxy)
        .app_data(deps.receiver)
        .app_data(deps.ops)
        .app_data(deps.origins)
        .app_data(json_config(max_json))
        .app_data(web::PayloadConfig::new(max_json))
        .wrap(actix_web::middleware::from_fn(
            crate::middleware::cors::cors,
        ))
        .wrap(RequestContextMiddleware::new(
            deps.metrics.get_ref().clone(),
            Some(proxy_route),
        ))
        .configure(crate::routes::configure)
        .default_service(web::to(not_found))
}

/// Bind the app to the listener and start serving (signals are handled by [`Application`]).
fn run(listener: TcpListener, deps: Deps, settings: &Settings) -> Result<Server, StartupError> {
    let max_json = settings.server.max_json_bytes;
    let mut server = HttpServer::new(move || create_app(deps.clone(), max_json))
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        // Signals are ours (see `run_until`): actix would only listen once its future is first
        // polled, leaving a window after start-up in which SIGTERM kills the process outright.
        .disable_signals();
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    Ok(server.run())
}

/// SIGTERM / SIGINT, listened for from the moment this is created (before the server is built, so
/// no signal after start-up is missed).
pub struct ShutdownSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    pub fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(ShutdownSignals {})
        }
    }

    /// Resolves on the first SIGTERM or SIGINT.
    pub async fn recv(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = self.int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
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
