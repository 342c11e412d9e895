//! `AppState`: the one struct handlers receive. Built once in `startup`.

use std::sync::Arc;

use crate::auth::Verifier;
use crate::config::Settings;
use crate::directory::Directory;
use crate::metrics::Metrics;
use crate::session::Sessions;
use crate::store::Store;
use crate::upstream::UpstreamClient;
use crate::web::WebSessions;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub upstream: UpstreamClient,
    pub metrics: Metrics,
    pub directory: Directory,
    pub verifier: Verifier,
    pub sessions: Sessions,
    pub web_sessions: WebSessions,
    /// Re-signs and forwards stored webhook events (a no-op unless `webhook.forward_urls`).
    pub forwarder: crate::webhook::Forwarder,
}
