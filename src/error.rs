//! One error type at the HTTP edge and its envelope. [`ErrorCode`] is the whole catalogue: each
//! public code with its HTTP status, whether a retry may succeed, and its default message.
//! Capabilities keep their own error types; their HTTP files map them to [`ApiError`]. 5xx bodies
//! never carry internal detail: the cause chain goes to the log.

use std::error::Error as StdError;
use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::domain::{current_correlation_id, PassThrough};
use aarthik_contract::envelope::{Envelope, ErrorBody};

mod code;
pub mod openapi;

pub use code::ErrorCode;

/// Marks a response this service wrote in the envelope (the error safety net leaves it alone).
#[derive(Debug, Clone, Copy)]
pub struct Enveloped;

/// The cause of a server-side failure, kept for the log.
pub type Cause = Box<dyn StdError + Send + Sync>;

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
    #[error("store unavailable")]
    StoreUnavailable(#[source] Cause),
    #[error("upstream unavailable")]
    UpstreamUnavailable(#[source] Cause),
    #[error("upstream timeout")]
    UpstreamTimeout,
    #[error("upstream answer too large")]
    UpstreamResponseTooLarge,
    #[error("upstream answered {status} without its envelope")]
    UpstreamBadResponse { status: u16 },
    #[error("upstream refused our credentials")]
    UpstreamAuthFailed(#[source] Cause),
    #[error("internal error")]
    Internal(#[source] Cause),
    /// The body did not arrive within the allowed time.
    #[error("request body timed out")]
    RequestTimeout,
    /// This instance holds its maximum of event streams.
    #[error("too many event streams")]
    TooManyStreams { retry_after_secs: u64 },
    /// An upstream 4xx answer handed to the caller as received (status and body).
    #[error("upstream answered {status}")]
    UpstreamAnswer {
        status: u16,
        body: bytes::Bytes,
        code: Option<String>,
    },
}

impl ApiError {
    pub fn error_code(&self) -> ErrorCode {
        use ErrorCode as C;
        match self {
            ApiError::Unauthenticated(_) => C::Unauthenticated,
            ApiError::Forbidden(_) => C::Forbidden,
            ApiError::NotFound(_) => C::NotFound,
            ApiError::JourneyNotFound => C::JourneyNotFound,
            ApiError::Validation(_) => C::Validation,
            ApiError::MethodNotAllowed => C::MethodNotAllowed,
            ApiError::PayloadTooLarge(_) => C::PayloadTooLarge,
            ApiError::RateLimited { .. } => C::RateLimited,
            ApiError::IdempotencyKeyRequired => C::IdempotencyKeyRequired,
            ApiError::IdempotencyKeyReused => C::IdempotencyKeyReused,
            ApiError::IdempotencyKeyInUse { .. } => C::IdempotencyKeyInUse,
            ApiError::WebhookSignatureInvalid(_) => C::WebhookSignatureInvalid,
            ApiError::WebhookTimestampOutOfTolerance => C::WebhookTimestampOutOfTolerance,
            ApiError::WebhookInFlight { .. } => C::WebhookInFlight,
            ApiError::StoreUnavailable(_) => C::StoreUnavailable,
            ApiError::UpstreamUnavailable(_) => C::UpstreamUnavailable,
            ApiError::UpstreamTimeout => C::UpstreamTimeout,
            ApiError::UpstreamResponseTooLarge => C::UpstreamResponseTooLarge,
            ApiError::UpstreamBadResponse { .. } => C::UpstreamBadResponse,
            ApiError::UpstreamAuthFailed(_) => C::UpstreamAuthFailed,
            ApiError::Internal(_) => C::Internal,
            ApiError::RequestTimeout => C::RequestTimeout,
            ApiError::TooManyStreams { .. } => C::TooManyStreams,
            ApiError::UpstreamAnswer { .. } => C::UpstreamAnswer,
        }
    }

    /// The stable public code.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The message users see. Server-side failures say nothing about internals.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Validation(m)
            | ApiError::PayloadTooLarge(m)
            | ApiError::WebhookSignatureInvalid(m) => m.clone(),
            other => other.error_code().default_message().to_owned(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::IdempotencyKeyInUse { retry_after_secs }
            | ApiError::WebhookInFlight { retry_after_secs }
            | ApiError::TooManyStreams { retry_after_secs } => Some(*retry_after_secs),
            ApiError::StoreUnavailable(_) => Some(1),
            _ => None,
        }
    }
}

/// An error and its causes, `top: cause: cause…`, for the log.
pub struct Chain<'a>(pub &'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::UpstreamAnswer { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            other => other.error_code().status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let ApiError::UpstreamAnswer { body, code, .. } = self {
            tracing::info!(status = status.as_u16(), upstream_code = ?code, "upstream refused; passed through");
            let mut res = HttpResponse::build(status)
                .content_type("application/json")
                .body(body.clone());
            res.extensions_mut().insert(PassThrough);
            return res;
        }
        if status.is_server_error() {
            // The cause goes to the log, never to the body.
            tracing::error!(code = self.code(), error = %Chain(self), "request failed");
        } else {
            tracing::info!(code = self.code(), error = %self, "request refused");
        }
        let mut res = error_envelope(self.error_code(), &self.public_message());
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

/// An error envelope response for the current request, with the code's own status.
pub fn error_envelope(code: ErrorCode, message: &str) -> HttpResponse {
    envelope_with_status(code.status(), code, message)
}

/// The envelope for a bare framework failure of `status` (see [`ErrorCode::for_status`]).
pub fn envelope_for_status(status: StatusCode) -> HttpResponse {
    let (code, message) = ErrorCode::for_status(status);
    envelope_with_status(status, code, message)
}

fn envelope_with_status(status: StatusCode, code: ErrorCode, message: &str) -> HttpResponse {
    let transient = matches!(status.as_u16(), 429 | 502 | 503 | 504);
    let error = ErrorBody::new(code.as_str(), message).retryable(code.retryable() || transient);
    let body = Envelope::error(error, current_correlation_id());
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
    let body = Envelope::ok(data, current_correlation_id());
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
            S::Unavailable(_) => ApiError::StoreUnavailable(e.into()),
            S::Corrupt(_) => ApiError::Internal(e.into()),
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
            ApiError::UpstreamUnavailable(format!("upstream answered {s}").into())
        }
    }
}

impl From<crate::upstream::UpstreamError> for ApiError {
    fn from(e: crate::upstream::UpstreamError) -> Self {
        use crate::upstream::UpstreamError as U;
        match e {
            U::Timeout => ApiError::UpstreamTimeout,
            U::TooLarge { .. } => ApiError::UpstreamResponseTooLarge,
            U::Unavailable(_) | U::Protocol(_) => ApiError::UpstreamUnavailable(e.into()),
        }
    }
}

#[cfg(test)]
#[path = "error/tests.rs"]
mod tests;
