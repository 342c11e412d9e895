//! One error type at the HTTP edge and its envelope. The `match` in [`ApiError::code`] and
//! [`ApiError::status`] is the whole catalogue; 5xx bodies never carry internal detail.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::middleware::context;
use aarthik_contract::envelope::Envelope;

/// Marks a response this service wrote in the envelope (the error safety net leaves it alone).
#[derive(Debug, Clone, Copy)]
pub struct Enveloped;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("journey not found")]
    JourneyNotFound,
    #[error("validation: {0}")]
    Validation(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("idempotency key required")]
    IdempotencyKeyRequired,
    #[error("idempotency key reused with another body")]
    IdempotencyKeyReused,
    #[error("idempotency key in use")]
    IdempotencyKeyInUse { retry_after_secs: u64 },
    #[error("webhook signature invalid: {0}")]
    WebhookSignatureInvalid(String),
    #[error("webhook timestamp out of tolerance")]
    WebhookTimestampOutOfTolerance,
    /// Another delivery of the same event is still being stored (the sender should retry).
    #[error("webhook event in flight")]
    WebhookInFlight { retry_after_secs: u64 },
    #[error("store unavailable: {0}")]
    StoreUnavailable(String),
    #[error("upstream unavailable: {0}")]
    UpstreamUnavailable(String),
    #[error("upstream timeout")]
    UpstreamTimeout,
    #[error("internal: {0}")]
    Internal(String),
    /// An upstream 4xx answer handed to the caller as received (status and body).
    #[error("upstream answered {status}")]
    UpstreamAnswer {
        status: u16,
        body: bytes::Bytes,
        code: Option<String>,
    },
}

impl ApiError {
    /// The stable public code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::JourneyNotFound => "JOURNEY_NOT_FOUND",
            ApiError::Validation(_) => "VALIDATION_ERROR",
            ApiError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ApiError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::IdempotencyKeyRequired => "IDEMPOTENCY_KEY_REQUIRED",
            ApiError::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            ApiError::IdempotencyKeyInUse { .. } => "IDEMPOTENCY_KEY_IN_USE",
            ApiError::WebhookSignatureInvalid(_) => "WEBHOOK_SIGNATURE_INVALID",
            ApiError::WebhookTimestampOutOfTolerance => "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
            ApiError::WebhookInFlight { .. } => "WEBHOOK_IN_FLIGHT",
            ApiError::StoreUnavailable(_) => "STORE_UNAVAILABLE",
            ApiError::UpstreamUnavailable(_) => "UPSTREAM_UNAVAILABLE",
            ApiError::UpstreamTimeout => "UPSTREAM_TIMEOUT",
            ApiError::Internal(_) => "INTERNAL",
            ApiError::UpstreamAnswer { .. } => "UPSTREAM_ANSWER",
        }
    }

    /// The message users see. Server-side failures say nothing about internals.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Validation(m)
            | ApiError::PayloadTooLarge(m) => m.clone(),
            ApiError::WebhookSignatureInvalid(m) => m.clone(),
            ApiError::JourneyNotFound => "No such journey.".into(),
            ApiError::MethodNotAllowed => "This method is not allowed on this path.".into(),
            ApiError::RateLimited { .. } => "Too many requests; retry later.".into(),
            ApiError::IdempotencyKeyRequired => {
                "This call changes state and needs an Idempotency-Key header.".into()
            }
            ApiError::IdempotencyKeyReused => {
                "This Idempotency-Key was already used with a different request body.".into()
            }
            ApiError::IdempotencyKeyInUse { .. } => {
                "A request with this Idempotency-Key is still being processed.".into()
            }
            ApiError::WebhookTimestampOutOfTolerance => {
                "X-AL-Webhook-Timestamp is outside the allowed tolerance.".into()
            }
            ApiError::WebhookInFlight { .. } => {
                "Another delivery of this event is still being stored; retry shortly.".into()
            }
            ApiError::StoreUnavailable(_) => {
                "The session store is unavailable; retry later.".into()
            }
            ApiError::UpstreamUnavailable(_) => "The lending platform is unreachable.".into(),
            ApiError::UpstreamTimeout => "The lending platform did not answer in time.".into(),
            ApiError::Internal(_) => "Internal error.".into(),
            ApiError::UpstreamAnswer { .. } => "The lending platform refused the request.".into(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::IdempotencyKeyInUse { retry_after_secs }
            | ApiError::WebhookInFlight { retry_after_secs } => Some(*retry_after_secs),
            ApiError::StoreUnavailable(_) => Some(1),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_)
            | ApiError::WebhookSignatureInvalid(_)
            | ApiError::WebhookTimestampOutOfTolerance => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::JourneyNotFound => StatusCode::NOT_FOUND,
            ApiError::Validation(_) | ApiError::IdempotencyKeyRequired => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::IdempotencyKeyInUse { .. } | ApiError::WebhookInFlight { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::UpstreamUnavailable(_) => StatusCode::BAD_GATEWAY,
            ApiError::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::UpstreamAnswer { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let ApiError::UpstreamAnswer { body, code, .. } = self {
            tracing::info!(status = status.as_u16(), upstream_code = ?code, "upstream refused; passed through");
            let mut res = HttpResponse::build(status)
                .content_type("application/json")
                .body(body.clone());
            res.extensions_mut().insert(crate::middleware::PassThrough);
            return res;
        }
        if status.is_server_error() {
            // The cause goes to the log, never to the body.
            tracing::error!(code = self.code(), error = %self, "request failed");
        } else {
            tracing::info!(code = self.code(), error = %self, "request refused");
        }
        let mut res = error_envelope(status, self.code(), &self.public_message());
        if let Some(secs) = self.retry_after() {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if matches!(self, ApiError::Unauthenticated(_)) {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

/// Build an error envelope response for the current request.
pub fn error_envelope(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let body = Envelope::err(code, message, context::current_correlation_id());
    let mut res = HttpResponse::build(status).json(body);
    res.extensions_mut().insert(Enveloped);
    res
}

/// A success envelope (`data` = the given value) for the current request.
pub fn ok<T: serde::Serialize>(data: T) -> HttpResponse {
    ok_with(StatusCode::OK, data)
}

/// A success envelope with a chosen status.
pub fn ok_with<T: serde::Serialize>(status: StatusCode, data: T) -> HttpResponse {
    let body = Envelope::ok(data, context::current_correlation_id());
    let mut res = HttpResponse::build(status).json(body);
    res.extensions_mut().insert(Enveloped);
    res
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError as S;
        match e {
            S::InvalidCursor => {
                ApiError::Validation("The cursor is not one this service issued.".into())
            }
            S::Unavailable(_) => ApiError::StoreUnavailable(e.to_string()),
            S::Corrupt(_) => ApiError::Internal(e.to_string()),
        }
    }
}

impl ApiError {
    /// A non-2xx upstream answer: 4xx (other than 401/407/408) is the caller's to see as
    /// received; anything else means the upstream is unwell (502) and says nothing internal.
    pub fn from_upstream_answer(res: &crate::upstream::UpstreamResponse) -> ApiError {
        let s = res.status.as_u16();
        if (400..500).contains(&s) && s != 407 && s != 408 {
            ApiError::UpstreamAnswer {
                status: s,
                body: res.body.clone(),
                code: res.error_code(),
            }
        } else {
            ApiError::UpstreamUnavailable(format!("upstream answered {s}"))
        }
    }
}

impl From<crate::upstream::UpstreamError> for ApiError {
    fn from(e: crate::upstream::UpstreamError) -> Self {
        use crate::upstream::UpstreamError as U;
        match e {
            U::Timeout => ApiError::UpstreamTimeout,
            U::Unavailable(m) => ApiError::UpstreamUnavailable(m),
            U::Protocol(m) => ApiError::UpstreamUnavailable(format!("bad upstream answer: {m}")),
        }
    }
}

/// Map the code of a framework-level failure to the envelope (404, 405, 413, 400, ...).
pub fn code_for_status(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("VALIDATION_ERROR", "The request is malformed."),
        401 => ("UNAUTHENTICATED", "Authentication required."),
        403 => ("FORBIDDEN", "Forbidden."),
        404 => ("NOT_FOUND", "No such resource."),
        405 => (
            "METHOD_NOT_ALLOWED",
            "This method is not allowed on this path.",
        ),
        413 => ("PAYLOAD_TOO_LARGE", "The request body is too large."),
        415 => (
            "VALIDATION_ERROR",
            "Unsupported content type; send application/json.",
        ),
        s if s >= 500 => ("INTERNAL", "Internal error."),
        _ => ("VALIDATION_ERROR", "The request was refused."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_documented_status() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (
                ApiError::Unauthenticated("x".into()),
                401,
                "UNAUTHENTICATED",
            ),
            (ApiError::Forbidden("x".into()), 403, "FORBIDDEN"),
            (ApiError::JourneyNotFound, 404, "JOURNEY_NOT_FOUND"),
            (ApiError::Validation("x".into()), 400, "VALIDATION_ERROR"),
            (
                ApiError::PayloadTooLarge("x".into()),
                413,
                "PAYLOAD_TOO_LARGE",
            ),
            (
                ApiError::RateLimited {
                    retry_after_secs: 3,
                },
                429,
                "RATE_LIMITED",
            ),
            (
                ApiError::IdempotencyKeyRequired,
                400,
                "IDEMPOTENCY_KEY_REQUIRED",
            ),
            (
                ApiError::IdempotencyKeyReused,
                422,
                "IDEMPOTENCY_KEY_REUSED",
            ),
            (
                ApiError::IdempotencyKeyInUse {
                    retry_after_secs: 1,
                },
                409,
                "IDEMPOTENCY_KEY_IN_USE",
            ),
            (
                ApiError::WebhookSignatureInvalid("x".into()),
                401,
                "WEBHOOK_SIGNATURE_INVALID",
            ),
            (
                ApiError::WebhookTimestampOutOfTolerance,
                401,
                "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
            ),
            (
                ApiError::WebhookInFlight {
                    retry_after_secs: 1,
                },
                409,
                "WEBHOOK_IN_FLIGHT",
            ),
            (
                ApiError::StoreUnavailable("x".into()),
                503,
                "STORE_UNAVAILABLE",
            ),
            (
                ApiError::UpstreamUnavailable("x".into()),
                502,
                "UPSTREAM_UNAVAILABLE",
            ),
            (ApiError::UpstreamTimeout, 504, "UPSTREAM_TIMEOUT"),
            (ApiError::Internal("x".into()), 500, "INTERNAL"),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status_code().as_u16(), status, "{code}");
            assert_eq!(e.code(), code);
        }
    }

    #[test]
    fn server_errors_hide_their_cause() {
        let e = ApiError::Internal("redis at 10.0.0.1 said NOPE".into());
        assert!(!e.public_message().contains("10.0.0.1"));
        let e = ApiError::StoreUnavailable("connection refused 127.0.0.1:6379".into());
        assert!(!e.public_message().contains("6379"));
    }
}
