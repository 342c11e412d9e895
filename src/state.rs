//! `AppState`: the one struct handlers receive. Built once in `startup`.

use std::sync::Arc;

use crate::config::Settings;
use crate::directory::Directory;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::upstream::UpstreamClient;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub upstream: UpstreamClient,
    pub metrics: Metrics,
    pub directory: Directory,
}
