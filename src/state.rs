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
    /// The webhook receiver (verifier, ingestion, dead letters, forwarding), built once.
    pub webhooks: crate::webhook::Receiver,
    /// The ops read model over the stored events, built once.
    pub ops: crate::ops::OpsViews,
    /// Digests of the ops bearer tokens, computed once.
    pub ops_tokens: crate::ops::auth::OpsTokens,
}
