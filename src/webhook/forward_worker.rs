//! This instance's forwarding loop (see `forward` for the design): take due deliveries from the
//! shared schedule under a lease, make one attempt each, log it, then mark the delivery delivered,
//! schedule its next attempt after a backoff, or give it up at its maximum age.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use tokio::sync::Semaphore;

use crate::http::retry::Backoff;
use crate::metrics::{ForwardAttempt, ForwardEvent};
use crate::store::keys::ForwardScheduleKey;
use crate::store::StoreError;
use aarthik_contract::headers;

use super::forward::{ms, now_ms, Inner, ATTEMPT_HEADER, LOG_RETENTION, MAX_PAUSE};
use super::forward_log::{parse_member, Attempt, DeliveryState, ForwardJob};
use super::verify::sign;

/// Deliveries in flight at once, per instance.
const CONCURRENCY: usize = 32;
/// How often an idle instance looks for due deliveries.
const POLL: Duration = Duration::from_millis(250);
/// Pause after the store failed to answer.
const STORE_PAUSE: Duration = Duration::from_secs(1);
/// How often the queue-depth gauge is refreshed.
const DEPTH_EVERY: Duration = Duration::from_secs(5);

pub(super) async fn run(inner: Arc<Inner>) {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut depth_at: Option<Instant> = None;
    let key = ForwardScheduleKey::new();
    loop {
        if depth_at.is_none_or(|t| t.elapsed() >= DEPTH_EVERY) {
            if let Ok(n) = inner.store.index_len(&key).await {
                inner
                    .metrics
                    .forward_backlog(usize::try_from(n).unwrap_or(usize::MAX));
            }
            depth_at = Some(Instant::now());
        }
        let free = permits.available_permits();
        if free == 0 {
            // Wait for a delivery to finish.
            if let Ok(p) = Arc::clone(&permits).acquire_owned().await {
                drop(p);
            }
            continue;
        }
        let now = now_ms();
        let taken = match inner
            .store
            .schedule_take_due(&key, now, now + ms(inner.lease), free)
            .await
        {
            Ok(taken) => taken,
            Err(e) => {
                tracing::warn!(error = %e, "webhook forwarding cannot read its queue; retrying");
                tokio::time::sleep(STORE_PAUSE).await;
                continue;
            }
        };
        let full = taken.len() >= free;
        for m in taken {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                return;
            };
            let inner = Arc::clone(&inner);
            tokio::spawn(async move {
                if let Err(e) = inner.deliver(&m).await {
                    // The lease runs out and the delivery is taken again.
                    tracing::warn!(error = %e, "webhook forwarding: store error during a delivery; it will be retried");
                }
                drop(permit);
            });
        }
        if !full {
            tokio::select! {
                _ = inner.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// What one attempt got.
enum Answer {
    Delivered(u16),
    Refused(u16),
    Unanswered(&'static str),
}

impl Inner {
    async fn unschedule(&self, m: &str) -> Result<(), StoreError> {
        self.store.index_remove(&ForwardScheduleKey::new(), m).await
    }

    /// One attempt at a taken delivery, and what follows from it.
    async fn deliver(&self, m: &str) -> Result<(), StoreError> {
        let Some((target, event_id)) = parse_member(m) else {
            return self.unschedule(m).await;
        };
        let Some((_, url)) = self.targets.iter().find(|(t, _)| t == target) else {
            tracing::warn!(
                event_id,
                "webhook forwarding: a queued delivery's URL is no longer configured; dropped"
            );
            return self.unschedule(m).await;
        };
        let Some(job) = self.log.job(event_id).await? else {
            return self.unschedule(m).await;
        };
        let mut state = match self.log.target(event_id, target).await? {
            Some(s) => s,
            None => self.new_state(url, job.received_at_ms + ms(self.max_age)),
        };
        if state.state != DeliveryState::Pending {
            return self.unschedule(m).await;
        }
        let started_ms = now_ms();
        if started_ms >= state.deadline_ms {
            state.state = DeliveryState::Failed;
            state.next_attempt_ms = None;
            state.last_outcome = Some("gave up: maximum age reached".into());
            self.log.put_target(event_id, target, &state).await?;
            self.metrics.forward_event(ForwardEvent::GaveUp);
            tracing::error!(
                event_id,
                "webhook forwarding gave up on an event (maximum age)"
            );
            return self.unschedule(m).await;
        }
        // The number is spent before the call: a crash during it never reuses it.
        state.attempts += 1;
        state.next_attempt_ms = None;
        let attempt = state.attempts;
        self.log.put_target(event_id, target, &state).await?;
        let started = Instant::now();
        let answer = self.post(&job, url, attempt).await;
        let mut line = Attempt {
            at_ms: started_ms,
            url: state.url.clone(),
            attempt,
            status: None,
            error: None,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            outcome: String::new(),
        };
        match answer {
            Answer::Delivered(status) => {
                line.status = Some(status);
                line.outcome = "delivered".into();
                state.state = DeliveryState::Delivered;
                state.delivered_at_ms = Some(now_ms());
                state.last_outcome = Some(format!("HTTP {status}"));
                self.log.put_attempt(event_id, target, &line).await?;
                self.log.put_target(event_id, target, &state).await?;
                self.metrics.forward_attempt(ForwardAttempt::Delivered);
                self.metrics.forward_event(ForwardEvent::Delivered);
                self.unschedule(m).await
            }
            Answer::Refused(_) | Answer::Unanswered(_) => {
                self.metrics.forward_attempt(match answer {
                    Answer::Unanswered("timeout") => ForwardAttempt::Timeout,
                    Answer::Unanswered(_) => ForwardAttempt::ConnectionFailed,
                    _ => ForwardAttempt::HttpError,
                });
                let failure = match answer {
                    Answer::Refused(status) => {
                        line.status = Some(status);
                        format!("HTTP {status}")
                    }
                    Answer::Unanswered(class) => {
                        line.error = Some(class.to_owned());
                        class.to_owned()
                    }
                    Answer::Delivered(status) => format!("HTTP {status}"),
                };
                let next = now_ms() + ms(self.pause(attempt));
                state.last_outcome = Some(failure.clone());
                let retry = next < state.deadline_ms;
                if retry {
                    line.outcome = "retry".into();
                    state.next_attempt_ms = Some(next);
                } else {
                    line.outcome = "gave_up".into();
                    state.state = DeliveryState::Failed;
                }
                self.log.put_attempt(event_id, target, &line).await?;
                self.log.put_target(event_id, target, &state).await?;
                tracing::warn!(event_id, attempt, failure = %failure, retry, "webhook forward attempt failed");
                if retry {
                    self.store
                        .schedule_put(
                            &ForwardScheduleKey::new(),
                            m,
                            next,
                            false,
                            self.max_age + LOG_RETENTION,
                        )
                        .await
                        .map(|_| ())
                } else {
                    self.metrics.forward_event(ForwardEvent::GaveUp);
                    tracing::error!(
                        event_id,
                        "webhook forwarding gave up on an event (maximum age)"
                    );
                    self.unschedule(m).await
                }
            }
        }
    }

    /// The pause after failed attempt `attempt` (from 1): doubling from the first retry delay,
    /// at most [`MAX_PAUSE`], equal jitter (so instances and events spread out).
    fn pause(&self, attempt: u32) -> Duration {
        Backoff::doubling(self.first_retry, MAX_PAUSE)
            .with_equal_jitter()
            .pause(attempt.saturating_sub(1))
    }

    /// One attempt, freshly signed.
    async fn post(&self, job: &ForwardJob, url: &str, attempt: u32) -> Answer {
        let Some(client) = &self.client else {
            return Answer::Unanswered("connect");
        };
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature = sign(
            self.secret.expose_secret().as_bytes(),
            &timestamp,
            job.body.as_bytes(),
        );
        let result = client
            .post(url)
            .header("Content-Type", "application/json")
            .header(headers::WEBHOOK_EVENT_ID, &job.event_id)
            .header(headers::WEBHOOK_TENANT_ID, &job.tenant_id)
            .header(headers::WEBHOOK_APPLICATION_ID, &job.application_id)
            .header(headers::WEBHOOK_TIMESTAMP, &timestamp)
            .header(headers::WEBHOOK_SIGNATURE, signature)
            .header(ATTEMPT_HEADER, attempt.to_string())
            .body(job.body.clone())
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => Answer::Delivered(r.status().as_u16()),
            Ok(r) => Answer::Refused(r.status().as_u16()),
            Err(e) if e.is_timeout() => Answer::Unanswered("timeout"),
            Err(_) => Answer::Unanswered("connect"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::Forwarder;

    #[test]
    fn pauses_double_stay_in_their_upper_half_and_are_capped() {
        let f = Forwarder::off(Arc::new(crate::store::MemoryStore::new("t:"))).unwrap();
        let mut inner = Arc::try_unwrap(f.inner).ok().expect("one owner");
        inner.first_retry = Duration::from_millis(1000);
        for (attempt, full) in [
            (1, 1000u64),
            (2, 2000),
            (3, 4000),
            (20, 300_000),
            (99, 300_000),
        ] {
            for _ in 0..50 {
                let p = inner.pause(attempt).as_millis() as u64;
                assert!((full / 2..=full).contains(&p), "attempt {attempt}: {p}");
            }
        }
    }
}
