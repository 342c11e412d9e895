//! Upstream retries for proxied calls: transport failures, 502/503/504 and 429 (the answers the
//! upstream asks clients to retry) are tried again with jittered exponential backoff (honouring
//! `Retry-After`, capped), at most `proxy.max_retries` times — and only for calls that are safe to
//! repeat (GET/HEAD, or carrying an idempotency key, which every mutating proxied call does).
//! Timeouts are not retried: the caller has already waited `upstream.timeout_ms`.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;

use crate::domain::RequestContext;
use crate::http::retry::{retry, Backoff};
use crate::upstream::{
    Credential, UpstreamClient, UpstreamError, UpstreamRequest, UpstreamResponse,
};
use aarthik_contract::headers;

/// First backoff; doubled per attempt.
const BASE_BACKOFF: Duration = Duration::from_millis(100);
/// Largest backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
const BACKOFF: Backoff = Backoff::doubling(BASE_BACKOFF, MAX_BACKOFF).with_equal_jitter();
/// A `Retry-After` longer than this is not waited for: the answer goes back to the caller.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// One proxied call, ready to be sent (possibly several times).
pub struct Outbound {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub idempotency_key: Option<String>,
}

impl Outbound {
    /// Safe to send again: GET/HEAD, or keyed (the upstream de-duplicates).
    pub fn repeatable(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD || self.idempotency_key.is_some()
    }
}

/// Send with the given session token, retrying what is worth retrying.
pub async fn send(
    client: &UpstreamClient,
    out: &Outbound,
    token: &SecretString,
    ctx: &RequestContext,
    max_retries: u32,
) -> Result<UpstreamResponse, UpstreamError> {
    let attempts = if out.repeatable() {
        max_retries.saturating_add(1)
    } else {
        1
    };
    let attempt = |_| {
        client.send(UpstreamRequest {
            method: out.method.clone(),
            path_and_query: out.path_and_query.clone(),
            credential: Credential::Session(token),
            body: out.body.clone(),
            headers: out.headers.clone(),
            idempotency_key: out.idempotency_key.clone(),
            ctx,
        })
    };
    retry(attempts, attempt, |result, attempt| {
        let pause = pause_before_retry(result, attempt)?;
        tracing::info!(
            attempt = attempt + 1,
            pause_ms = pause.as_millis() as u64,
            "retrying upstream call"
        );
        Some(pause)
    })
    .await
}

/// How long to wait before retrying, or `None` when this outcome is final.
fn pause_before_retry(
    result: &Result<UpstreamResponse, UpstreamError>,
    attempt: u32,
) -> Option<Duration> {
    match result {
        Err(UpstreamError::Unavailable(_)) => Some(backoff(attempt)),
        Err(
            UpstreamError::Timeout | UpstreamError::Protocol(_) | UpstreamError::TooLarge { .. },
        ) => None,
        Ok(res) => match res.status {
            StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => match retry_after(&res.headers) {
                Some(wait) if wait > MAX_RETRY_AFTER => None,
                Some(wait) => Some(wait.max(backoff(attempt))),
                None => Some(backoff(attempt)),
            },
            _ => None,
        },
    }
}

/// Exponential with "equal jitter": half fixed, half random, so retries spread out.
fn backoff(attempt: u32) -> Duration {
    BACKOFF.pause(attempt)
}

/// `Retry-After` in seconds (the HTTP-date form is treated as absent).
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(headers::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<&str>) -> Result<UpstreamResponse, UpstreamError> {
        let mut headers = HeaderMap::new();
        if let Some(v) = retry_after {
            headers.insert("retry-after", v.parse().unwrap());
        }
        Ok(UpstreamResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: Bytes::new(),
        })
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..20 {
            let b = backoff(attempt);
            let exp = BASE_BACKOFF
                .saturating_mul(1u32 << attempt.min(16))
                .min(MAX_BACKOFF);
            assert!(b >= exp / 2 && b <= exp, "{attempt}: {b:?}");
        }
    }

    #[test]
    fn only_transient_outcomes_are_retried() {
        assert!(pause_before_retry(&answer(503, None), 0).is_some());
        assert!(pause_before_retry(&answer(502, None), 0).is_some());
        assert!(pause_before_retry(&answer(504, None), 0).is_some());
        assert!(
            pause_before_retry(&Err(UpstreamError::Unavailable("refused".into())), 0).is_some()
        );
        for s in [200, 400, 401, 404, 409, 500] {
            assert!(pause_before_retry(&answer(s, None), 0).is_none(), "{s}");
        }
        assert!(pause_before_retry(&Err(UpstreamError::Timeout), 0).is_none());
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_cap() {
        assert_eq!(
            pause_before_retry(&answer(429, Some("1")), 0),
            Some(Duration::from_secs(1))
        );
        assert!(pause_before_retry(&answer(429, Some("60")), 0).is_none());
    }

    #[test]
    fn only_safe_calls_are_repeatable() {
        let mk = |method: Method, key: Option<&str>| Outbound {
            method,
            path_and_query: "/x".into(),
            headers: HeaderMap::new(),
            body: None,
            idempotency_key: key.map(str::to_owned),
        };
        assert!(mk(Method::GET, None).repeatable());
        assert!(mk(Method::HEAD, None).repeatable());
        assert!(mk(Method::POST, Some("k")).repeatable());
        assert!(!mk(Method::POST, None).repeatable());
        assert!(!mk(Method::OPTIONS, None).repeatable());
    }
}
