//! Durable forwarding (`webhook.forward_urls`): each verified, newly stored event is re-signed with
//! the partner's own secret (`webhook.forward_secret`, same X-AL-* header scheme, a fresh timestamp
//! per attempt) and POSTed to every URL. At-least-once: a target may receive an event more than
//! once (a crash right after its 2xx, a re-send), never zero times while its maximum age lasts.
//!
//! How it survives restarts and spreads over instances:
//! - The job (raw body and headers) and one delivery state per target are written to the store
//!   ([`ForwardLog`]) and the target's delivery is put on a schedule (a sorted index scored by the
//!   due time) *before* the event's dedupe marker is set to done — so an acknowledged event always
//!   has its job. A sender's retry after a failed run writes them again (harmless).
//! - Every instance polls the schedule. Taking due deliveries moves them to a lease time in the
//!   same atomic step ([`Store::schedule_take_due`]), so one instance attempts a delivery at a
//!   time; if it dies, the lease runs out and another instance takes the delivery.
//! - The attempt number is written before the POST (a crash never makes two attempts share a
//!   number) and a log line after it. A failure schedules the next attempt after an exponential,
//!   jittered pause (from `webhook.forward_first_retry_ms`, doubling, at most [`MAX_PAUSE`]);
//!   when the next attempt would come after `webhook.forward_max_age_secs` since the event was
//!   received (or re-sent), the target is given up (`failed`). `POST
//!   /v1/ops/forwarding/{eventID}/resend` makes every target pending and due again, with a fresh
//!   maximum age.
//!
//! With the memory store all of this lives in the process and is lost with it.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::store::keys::{ForwardEventsKey, ForwardScheduleKey};
use crate::store::{Store, StoreError};

use super::forward_log::{
    member, shown_url, target_of, DeliveryState, EventDeliveries, ForwardJob, ForwardLog,
    TargetState,
};

/// Longest pause between two attempts.
pub const MAX_PAUSE: Duration = Duration::from_secs(300);
/// How long the delivery log of an event is kept after its last write, beyond the maximum age.
pub(super) const LOG_RETENTION: Duration = Duration::from_secs(7 * 86_400);
/// The ops listing covers about this many of the latest forwarded events.
const LISTED_EVENTS: usize = 10_000;
/// The attempt number of a forwarded request (1 for the first).
pub const ATTEMPT_HEADER: &str = "X-AL-Forward-Attempt";

/// Handle to forwarding: enqueue (from the ingest path), resend and read (ops). Cheap to clone.
#[derive(Clone)]
pub struct Forwarder {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) store: Arc<dyn Store>,
    pub(super) log: ForwardLog,
    /// `(target id, URL)`; empty when forwarding is off.
    pub(super) targets: Vec<(String, String)>,
    pub(super) client: Option<reqwest::Client>,
    pub(super) secret: SecretString,
    pub(super) first_retry: Duration,
    pub(super) max_age: Duration,
    /// How long a taken delivery is reserved for the instance that took it.
    pub(super) lease: Duration,
    pub(super) wake: Notify,
    pub(super) metrics: Metrics,
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(super) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn timestamp(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl Forwarder {
    /// Build forwarding (its metrics registered); call [`Forwarder::start`] to deliver.
    pub fn new(
        settings: &Settings,
        store: Arc<dyn Store>,
        metrics: &Metrics,
    ) -> Result<Self, prometheus::Error> {
        let w = &settings.webhook;
        let urls = settings.webhook_forward_urls();
        let client = if urls.is_empty() {
            None
        } else {
            match reqwest::Client::builder()
                .timeout(Duration::from_millis(w.forward_timeout_ms))
                .redirect(reqwest::redirect::Policy::none())
                .build()
            {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::error!(error = %e, "webhook forwarding is OFF: its HTTP client could not be built");
                    None
                }
            }
        };
        let targets = match client {
            Some(_) => urls.into_iter().map(|u| (target_of(&u), u)).collect(),
            None => Vec::new(),
        };
        let max_age = Duration::from_secs(w.forward_max_age_secs);
        let timeout = Duration::from_millis(w.forward_timeout_ms);
        Ok(Forwarder {
            inner: Arc::new(Inner {
                log: ForwardLog::new(Arc::clone(&store), max_age + LOG_RETENTION),
                store,
                targets,
                client,
                secret: w.forward_secret.clone(),
                first_retry: Duration::from_millis(w.forward_first_retry_ms),
                max_age,
                lease: timeout * 2 + Duration::from_secs(5),
                wake: Notify::new(),
                metrics: metrics.clone(),
            }),
        })
    }

    /// Forwarding that never forwards (tests and benchmarks of the ingest path); its metrics are
    /// registered nowhere.
    pub fn off(store: Arc<dyn Store>) -> Result<Self, prometheus::Error> {
        let metrics = Metrics::new()?;
        Ok(Forwarder {
            inner: Arc::new(Inner {
                log: ForwardLog::new(Arc::clone(&store), LOG_RETENTION),
                store,
                targets: Vec::new(),
                client: None,
                secret: SecretString::from(String::new()),
                first_retry: Duration::from_millis(500),
                max_age: Duration::from_secs(86_400),
                lease: Duration::from_secs(15),
                wake: Notify::new(),
                metrics,
            }),
        })
    }

    /// True when `webhook.forward_urls` names at least one URL.
    pub fn is_on(&self) -> bool {
        !self.inner.targets.is_empty()
    }

    /// Start this instance's delivery loop (when forwarding is on). Call inside a Tokio runtime.
    pub fn start(&self) {
        if !self.is_on() {
            return;
        }
        tokio::spawn(super::forward_worker::run(Arc::clone(&self.inner)));
        tracing::info!(
            targets = self.inner.targets.len(),
            "webhook forwarding on (durable, at-least-once)"
        );
    }

    /// Record the forwarding of a newly stored event: the job, a pending state per target, and
    /// each target on the schedule. Safe to repeat (a re-run leaves what is there).
    pub async fn enqueue(
        &self,
        event_id: &str,
        tenant_id: &str,
        application_id: &str,
        body: &[u8],
    ) -> Result<(), StoreError> {
        let inner = &self.inner;
        if inner.targets.is_empty() {
            return Ok(());
        }
        let job = match inner.log.job(event_id).await? {
            Some(job) => job,
            None => {
                let job = ForwardJob {
                    event_id: event_id.to_owned(),
                    tenant_id: tenant_id.to_owned(),
                    application_id: application_id.to_owned(),
                    body: String::from_utf8_lossy(body).into_owned(),
                    received_at_ms: now_ms(),
                };
                inner.log.put_job(&job).await?;
                job
            }
        };
        inner
            .store
            .index_put(
                &ForwardEventsKey::new(),
                event_id,
                job.received_at_ms,
                LISTED_EVENTS,
                inner.max_age + LOG_RETENTION,
            )
            .await?;
        for (target, url) in &inner.targets {
            if inner.log.target(event_id, target).await?.is_none() {
                let state = inner.new_state(url, job.received_at_ms + ms(inner.max_age));
                inner.log.put_target(event_id, target, &state).await?;
            }
            inner
                .store
                .schedule_put(
                    &ForwardScheduleKey::new(),
                    &member(target, event_id),
                    job.received_at_ms,
                    true,
                    inner.max_age + LOG_RETENTION,
                )
                .await?;
        }
        inner.wake.notify_one();
        Ok(())
    }

    /// Make every configured target of a known event pending and due now, with a fresh maximum
    /// age (also those already delivered). `None` when the event has no forwarding record.
    pub async fn resend(&self, event_id: &str) -> Result<Option<Value>, StoreError> {
        let inner = &self.inner;
        if inner.log.job(event_id).await?.is_none() {
            return Ok(None);
        }
        let now = now_ms();
        for (target, url) in &inner.targets {
            let mut state = inner
                .log
                .target(event_id, target)
                .await?
                .unwrap_or_else(|| inner.new_state(url, now));
            state.state = DeliveryState::Pending;
            state.deadline_ms = now + ms(inner.max_age);
            state.next_attempt_ms = Some(now);
            inner.log.put_target(event_id, target, &state).await?;
            inner
                .store
                .schedule_put(
                    &ForwardScheduleKey::new(),
                    &member(target, event_id),
                    now,
                    false,
                    inner.max_age + LOG_RETENTION,
                )
                .await?;
        }
        inner.wake.notify_one();
        self.deliveries(event_id).await
    }

    /// The delivery log of an event (`None` when it has no forwarding record).
    pub async fn deliveries(&self, event_id: &str) -> Result<Option<Value>, StoreError> {
        let record = self.inner.log.read(event_id).await?;
        Ok(record.job.is_some().then(|| view(event_id, &record)))
    }
}

impl Forwarder {
    /// The deliveries of the latest `limit` forwarded events (or of `event_id` alone), newest
    /// event first, optionally only those in `state`.
    pub async fn list(
        &self,
        state: Option<DeliveryState>,
        event_id: Option<&str>,
        limit: usize,
    ) -> Result<Value, StoreError> {
        let events: Vec<String> = match event_id {
            Some(id) => vec![id.to_owned()],
            None => self
                .inner
                .store
                .index_desc(&ForwardEventsKey::new(), i64::MAX, 0, limit)
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
        };
        let mut rows = Vec::new();
        for id in events {
            let record = self.inner.log.read(&id).await?;
            for (target, t) in &record.targets {
                if state.is_some_and(|s| s != t.state) {
                    continue;
                }
                let mut row = delivery_view(target, t);
                row["eventID"] = json!(id);
                row["lastAttemptAt"] = json!(record
                    .attempts
                    .iter()
                    .filter(|a| a.url == t.url)
                    .map(|a| a.at_ms)
                    .max()
                    .and_then(timestamp));
                rows.push(row);
            }
        }
        Ok(json!({ "deliveries": rows }))
    }
}

fn delivery_view(target: &str, t: &TargetState) -> Value {
    json!({
        "target": target,
        "url": t.url,
        "state": t.state,
        "attempts": t.attempts,
        "giveUpAt": timestamp(t.deadline_ms),
        "nextAttemptAt": t.next_attempt_ms.and_then(timestamp),
        "deliveredAt": t.delivered_at_ms.and_then(timestamp),
        "lastOutcome": t.last_outcome,
    })
}

/// The ops view of one event's forwarding.
fn view(event_id: &str, r: &EventDeliveries) -> Value {
    let deliveries: Vec<Value> = r
        .targets
        .iter()
        .map(|(target, t)| delivery_view(target, t))
        .collect();
    let attempts: Vec<Value> = r
        .attempts
        .iter()
        .map(|a| {
            json!({
                "at": timestamp(a.at_ms),
                "url": a.url,
                "attempt": a.attempt,
                "status": a.status,
                "error": a.error,
                "durationMs": a.duration_ms,
                "outcome": a.outcome,
            })
        })
        .collect();
    json!({
        "eventID": event_id,
        "receivedAt": r.job.as_ref().and_then(|j| timestamp(j.received_at_ms)),
        "deliveries": deliveries,
        "attempts": attempts,
    })
}

impl Inner {
    pub(super) fn new_state(&self, url: &str, deadline_ms: i64) -> TargetState {
        TargetState {
            url: shown_url(url),
            state: DeliveryState::Pending,
            attempts: 0,
            deadline_ms,
            next_attempt_ms: None,
            delivered_at_ms: None,
            last_outcome: None,
        }
    }
}
