//! Optional forwarding (`webhook.forward_urls`): each verified, newly stored event is re-signed
//! with the partner's own secret (`webhook.forward_secret`, same X-AL-* header scheme, fresh
//! timestamp per attempt) and POSTed to every URL by a background task, with bounded retries and
//! doubling back-off. The webhook answer never waits for it. Best effort: the queue is in memory,
//! so events queued when the process stops are not forwarded (the ops feed has them all).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{mpsc, Semaphore};

use crate::config::WebhookSettings;
use crate::http::retry::{retry, Backoff};
use crate::metrics::{ForwardAttempt, ForwardEvent, Metrics};
use aarthik_contract::headers;

use super::verify::sign;

/// Events waiting to be forwarded; beyond this new ones are dropped (and logged).
const QUEUE: usize = 10_000;
/// Deliveries in flight at once.
const CONCURRENCY: usize = 32;
/// Longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One event to forward.
#[derive(Debug, Clone)]
pub struct ForwardJob {
    pub event_id: String,
    pub tenant_id: String,
    pub application_id: String,
    pub body: Bytes,
}

/// Handle to the forwarding task (a no-op when forwarding is off).
#[derive(Clone, Default)]
pub struct Forwarder {
    tx: Option<mpsc::Sender<ForwardJob>>,
    metrics: Option<Metrics>,
}

struct Target {
    metrics: Metrics,
    client: reqwest::Client,
    urls: Vec<String>,
    secret: SecretString,
    max_attempts: u32,
    backoff: Backoff,
}

impl Forwarder {
    /// Start the background task when URLs are configured. Call inside a Tokio runtime.
    pub fn start(settings: &WebhookSettings, urls: Vec<String>, metrics: Metrics) -> Self {
        if urls.is_empty() {
            return Forwarder::default();
        }
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.forward_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhook forwarding is OFF: its HTTP client could not be built");
                return Forwarder::default();
            }
        };
        let target = Arc::new(Target {
            metrics: metrics.clone(),
            client,
            urls,
            secret: settings.forward_secret.clone(),
            max_attempts: settings.forward_max_attempts.max(1),
            backoff: Backoff::doubling(
                Duration::from_millis(settings.forward_first_retry_ms),
                MAX_BACKOFF,
            ),
        });
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(rx, target));
        tracing::info!("webhook forwarding on");
        Forwarder {
            tx: Some(tx),
            metrics: Some(metrics),
        }
    }

    /// Queue an event; never waits.
    pub fn enqueue(&self, job: ForwardJob) {
        let (Some(tx), Some(metrics)) = (&self.tx, &self.metrics) else {
            return;
        };
        match tx.try_send(job) {
            Ok(()) => metrics.forward_backlog(backlog(tx)),
            Err(e) => {
                metrics.forward_event(ForwardEvent::Dropped);
                tracing::warn!(error = %e, "webhook forwarding queue full or closed; event not forwarded");
            }
        }
    }
}

/// Events in the queue.
fn backlog(tx: &mpsc::Sender<ForwardJob>) -> usize {
    tx.max_capacity() - tx.capacity()
}

async fn run(mut rx: mpsc::Receiver<ForwardJob>, target: Arc<Target>) {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    while let Some(job) = rx.recv().await {
        target.metrics.forward_backlog(rx.len());
        for url in &target.urls {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                return;
            };
            let (target, job, url) = (Arc::clone(&target), job.clone(), url.clone());
            tokio::spawn(async move {
                deliver(&target, &job, &url).await;
                drop(permit);
            });
        }
    }
}

async fn deliver(target: &Target, job: &ForwardJob, url: &str) {
    let outcome = retry(
        target.max_attempts,
        |attempt| post(target, job, url, attempt + 1),
        |outcome, attempt| outcome.is_err().then(|| target.backoff.pause(attempt)),
    )
    .await;
    if outcome.is_err() {
        target.metrics.forward_event(ForwardEvent::GaveUp);
        tracing::error!(event_id = %job.event_id, "webhook forwarding gave up on an event");
    } else {
        target.metrics.forward_event(ForwardEvent::Delivered);
    }
}

/// One attempt (numbered from 1), freshly signed; `Err` when it failed (already logged).
async fn post(target: &Target, job: &ForwardJob, url: &str, attempt: u32) -> Result<(), ()> {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = sign(
        target.secret.expose_secret().as_bytes(),
        &timestamp,
        &job.body,
    );
    let result = target
        .client
        .post(url)
        .header("Content-Type", "application/json")
        .header(headers::WEBHOOK_EVENT_ID, &job.event_id)
        .header(headers::WEBHOOK_TENANT_ID, &job.tenant_id)
        .header(headers::WEBHOOK_APPLICATION_ID, &job.application_id)
        .header(headers::WEBHOOK_TIMESTAMP, &timestamp)
        .header(headers::WEBHOOK_SIGNATURE, signature)
        .body(job.body.clone())
        .send()
        .await;
    let (kind, failure) = match result {
        Ok(r) if r.status().is_success() => {
            target.metrics.forward_attempt(ForwardAttempt::Delivered);
            return Ok(());
        }
        Ok(r) => (
            ForwardAttempt::HttpError,
            format!("HTTP {}", r.status().as_u16()),
        ),
        Err(e) if e.is_timeout() => (ForwardAttempt::Timeout, "timed out".to_owned()),
        Err(_) => (
            ForwardAttempt::ConnectionFailed,
            "connection failed".to_owned(),
        ),
    };
    target.metrics.forward_attempt(kind);
    tracing::warn!(event_id = %job.event_id, attempt, failure = %failure, "webhook forward attempt failed");
    Err(())
}
