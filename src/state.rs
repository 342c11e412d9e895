//! `AppState`: what handlers share. Built once in `startup`. The extractors' own parts (JWT
//! verifier, web sessions, ops tokens) are separate app data.

use std::sync::Arc;

use crate::config::Settings;
use crate::directory::Directory;
use crate::metrics::Metrics;
use crate::session::Sessions;
use crate::store::Store;
use crate::upstream::UpstreamClient;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub upstream: UpstreamClient,
    pub metrics: Metrics,
    pub directory: Directory,
    pub sessions: Sessions,
    /// The webhook receiver (verifier, ingestion, dead letters, forwarding), built once.
    pub webhooks: crate::webhook::Receiver,
    /// The ops read model over the stored events, built once.
    pub ops: crate::ops::OpsViews,
}
