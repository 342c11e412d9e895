//! The catalogue of public error codes: each with its HTTP status, whether a retry may succeed,
//! and its default message, in one table.

use std::fmt;

use actix_web::http::StatusCode;

/// A public error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    JourneyNotFound,
    Validation,
    MethodNotAllowed,
    PayloadTooLarge,
    RateLimited,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    IdempotencyKeyInUse,
    WebhookSignatureInvalid,
    WebhookTimestampOutOfTolerance,
    WebhookInFlight,
    StoreUnavailable,
    UpstreamUnavailable,
    UpstreamTimeout,
    /// The upstream answered more than `upstream.max_response_bytes`.
    UpstreamResponseTooLarge,
    /// A 5xx upstream answer that is not the upstream's envelope (its body stays in the log).
    UpstreamBadResponse,
    /// The upstream refused our `sk_*` key, or a freshly minted session token.
    UpstreamAuthFailed,
    Internal,
    RequestTimeout,
    TooManyStreams,
    /// An upstream 4xx passed through as received (its status is the upstream's; never enveloped).
    UpstreamAnswer,
}

/// One row of the catalogue.
struct Spec {
    code: &'static str,
    status: StatusCode,
    retryable: bool,
    message: &'static str,
}

const fn spec(
    code: &'static str,
    status: StatusCode,
    retryable: bool,
    message: &'static str,
) -> Spec {
    Spec {
        code,
        status,
        retryable,
        message,
    }
}

impl ErrorCode {
    /// Every code written in an error envelope (all but [`ErrorCode::UpstreamAnswer`], whose body
    /// is the upstream's), in catalogue order: the OpenAPI document's `ErrorCode` schema.
    pub const ALL: [ErrorCode; 23] = {
        use ErrorCode as C;
        [
            C::Unauthenticated,
            C::Forbidden,
            C::NotFound,
            C::JourneyNotFound,
            C::Validation,
            C::MethodNotAllowed,
            C::PayloadTooLarge,
            C::RateLimited,
            C::IdempotencyKeyRequired,
            C::IdempotencyKeyReused,
            C::IdempotencyKeyInUse,
            C::WebhookSignatureInvalid,
            C::WebhookTimestampOutOfTolerance,
            C::WebhookInFlight,
            C::StoreUnavailable,
            C::UpstreamUnavailable,
            C::UpstreamTimeout,
            C::UpstreamResponseTooLarge,
            C::UpstreamBadResponse,
            C::UpstreamAuthFailed,
            C::Internal,
            C::RequestTimeout,
            C::TooManyStreams,
        ]
    };

    /// The catalogue: code, status, retryable (repeating the same request may succeed: transient
    /// failures and a key or event still in flight), default public message.
    #[rustfmt::skip]
    const fn spec(self) -> Spec {
        use ErrorCode as C;
        use StatusCode as S;
        match self {
            C::Unauthenticated => spec("UNAUTHENTICATED", S::UNAUTHORIZED, false, "Authentication required."),
            C::Forbidden => spec("FORBIDDEN", S::FORBIDDEN, false, "Forbidden."),
            C::NotFound => spec("NOT_FOUND", S::NOT_FOUND, false, "No such resource."),
            C::JourneyNotFound => spec("JOURNEY_NOT_FOUND", S::NOT_FOUND, false, "No such journey."),
            C::Validation => spec("VALIDATION_ERROR", S::BAD_REQUEST, false, "The request is malformed."),
            C::MethodNotAllowed => spec("METHOD_NOT_ALLOWED", S::METHOD_NOT_ALLOWED, false, "This method is not allowed on this path."),
            C::PayloadTooLarge => spec("PAYLOAD_TOO_LARGE", S::PAYLOAD_TOO_LARGE, false, "The request body is too large."),
            C::RateLimited => spec("RATE_LIMITED", S::TOO_MANY_REQUESTS, true, "Too many requests; retry later."),
            C::IdempotencyKeyRequired => spec("IDEMPOTENCY_KEY_REQUIRED", S::BAD_REQUEST, false, "This call changes state and needs an Idempotency-Key header."),
            C::IdempotencyKeyReused => spec("IDEMPOTENCY_KEY_REUSED", S::UNPROCESSABLE_ENTITY, false, "This Idempotency-Key was already used with a different request body."),
            C::IdempotencyKeyInUse => spec("IDEMPOTENCY_KEY_IN_USE", S::CONFLICT, true, "A request with this Idempotency-Key is still being processed."),
            C::WebhookSignatureInvalid => spec("WEBHOOK_SIGNATURE_INVALID", S::UNAUTHORIZED, false, "The webhook signature is invalid."),
            C::WebhookTimestampOutOfTolerance => spec("WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE", S::UNAUTHORIZED, false, "X-AL-Webhook-Timestamp is outside the allowed tolerance."),
            C::WebhookInFlight => spec("WEBHOOK_IN_FLIGHT", S::CONFLICT, true, "Another delivery of this event is still being stored; retry shortly."),
            C::StoreUnavailable => spec("STORE_UNAVAILABLE", S::SERVICE_UNAVAILABLE, true, "The session store is unavailable; retry later."),
            C::UpstreamUnavailable => spec("UPSTREAM_UNAVAILABLE", S::BAD_GATEWAY, true, "The lending platform is unreachable."),
            C::UpstreamTimeout => spec("UPSTREAM_TIMEOUT", S::GATEWAY_TIMEOUT, true, "The lending platform did not answer in time."),
            C::UpstreamResponseTooLarge => spec("UPSTREAM_RESPONSE_TOO_LARGE", S::BAD_GATEWAY, false, "The lending platform's answer is larger than this service accepts."),
            C::UpstreamBadResponse => spec("UPSTREAM_BAD_RESPONSE", S::BAD_GATEWAY, true, "The lending platform answered with an error."),
            C::UpstreamAuthFailed => spec("UPSTREAM_AUTH_FAILED", S::BAD_GATEWAY, false, "The lending platform refused this service's credentials."),
            C::Internal => spec("INTERNAL", S::INTERNAL_SERVER_ERROR, false, "Internal error."),
            C::RequestTimeout => spec("REQUEST_TIMEOUT", S::REQUEST_TIMEOUT, true, "The request body did not arrive in time."),
            C::TooManyStreams => spec("TOO_MANY_STREAMS", S::SERVICE_UNAVAILABLE, true, "This instance holds as many event streams as it may; retry shortly."),
            C::UpstreamAnswer => spec("UPSTREAM_ANSWER", S::BAD_GATEWAY, false, "The lending platform refused the request."),
        }
    }

    /// The stable public code.
    pub const fn as_str(self) -> &'static str {
        self.spec().code
    }

    pub const fn status(self) -> StatusCode {
        self.spec().status
    }

    pub const fn retryable(self) -> bool {
        self.spec().retryable
    }

    /// What users are told when there is nothing more specific to say.
    pub const fn default_message(self) -> &'static str {
        self.spec().message
    }

    /// The code and message for a bare framework failure (unknown route, wrong method, body too
    /// large, malformed JSON, ...): the generic code with that status, else a validation error for
    /// other 4xx and an internal error for 5xx.
    pub fn for_status(status: StatusCode) -> (ErrorCode, &'static str) {
        use ErrorCode as C;
        const GENERIC: [ErrorCode; 6] = [
            C::Validation,
            C::Unauthenticated,
            C::Forbidden,
            C::NotFound,
            C::MethodNotAllowed,
            C::PayloadTooLarge,
        ];
        if let Some(c) = GENERIC.into_iter().find(|c| c.status() == status) {
            return (c, c.default_message());
        }
        match status {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                C::Validation,
                "Unsupported content type; send application/json.",
            ),
            s if s.is_server_error() => (C::Internal, C::Internal.default_message()),
            _ => (C::Validation, "The request was refused."),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new variant fails to compile here until it is placed in [`ErrorCode::ALL`] (or, like
    /// `UpstreamAnswer`, deliberately left out).
    #[test]
    fn all_lists_every_enveloped_code_once() {
        use ErrorCode as C;
        let position = |c: ErrorCode| ErrorCode::ALL.iter().position(|x| *x == c);
        for c in ErrorCode::ALL {
            let listed = match c {
                C::UpstreamAnswer => false,
                C::Unauthenticated
                | C::Forbidden
                | C::NotFound
                | C::JourneyNotFound
                | C::Validation
                | C::MethodNotAllowed
                | C::PayloadTooLarge
                | C::RateLimited
                | C::IdempotencyKeyRequired
                | C::IdempotencyKeyReused
                | C::IdempotencyKeyInUse
                | C::WebhookSignatureInvalid
                | C::WebhookTimestampOutOfTolerance
                | C::WebhookInFlight
                | C::StoreUnavailable
                | C::UpstreamUnavailable
                | C::UpstreamTimeout
                | C::UpstreamResponseTooLarge
                | C::UpstreamBadResponse
                | C::UpstreamAuthFailed
                | C::Internal
                | C::RequestTimeout
                | C::TooManyStreams => true,
            };
            assert!(listed, "{c}");
        }
        assert_eq!(position(C::UpstreamAnswer), None);
        let mut codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn bare_framework_statuses_get_the_generic_codes() {
        for (status, code) in [
            (400, "VALIDATION_ERROR"),
            (401, "UNAUTHENTICATED"),
            (403, "FORBIDDEN"),
            (404, "NOT_FOUND"),
            (405, "METHOD_NOT_ALLOWED"),
            (413, "PAYLOAD_TOO_LARGE"),
            (415, "VALIDATION_ERROR"),
            (409, "VALIDATION_ERROR"),
            (429, "VALIDATION_ERROR"),
            (500, "INTERNAL"),
            (503, "INTERNAL"),
        ] {
            let (c, _) = ErrorCode::for_status(StatusCode::from_u16(status).unwrap());
            assert_eq!(c.as_str(), code, "{status}");
        }
    }
}
