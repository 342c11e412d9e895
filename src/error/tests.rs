//! Unit tests of `error`.
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
        (
            ApiError::UpstreamResponseTooLarge,
            502,
            "UPSTREAM_RESPONSE_TOO_LARGE",
        ),
        (
            ApiError::UpstreamBadResponse { status: 500 },
            502,
            "UPSTREAM_BAD_RESPONSE",
        ),
        (
            ApiError::UpstreamAuthFailed("x".into()),
            502,
            "UPSTREAM_AUTH_FAILED",
        ),
        (ApiError::Internal("x".into()), 500, "INTERNAL"),
        (
            ApiError::TooManyStreams {
                retry_after_secs: 5,
            },
            503,
            "TOO_MANY_STREAMS",
        ),
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

#[test]
fn transient_failures_and_work_in_flight_are_retryable() {
    for e in [
        ApiError::RateLimited {
            retry_after_secs: 1,
        },
        ApiError::IdempotencyKeyInUse {
            retry_after_secs: 1,
        },
        ApiError::WebhookInFlight {
            retry_after_secs: 1,
        },
        ApiError::StoreUnavailable("x".into()),
        ApiError::UpstreamUnavailable("x".into()),
        ApiError::UpstreamTimeout,
    ] {
        assert!(e.error_code().retryable(), "{}", e.code());
    }
    for e in [
        ApiError::Internal("x".into()),
        ApiError::Validation("x".into()),
        ApiError::IdempotencyKeyReused,
    ] {
        assert!(!e.error_code().retryable(), "{}", e.code());
    }
}

#[test]
fn the_log_line_carries_the_whole_cause_chain() {
    let store = crate::store::StoreError::Unavailable("connection refused".into());
    let e = ApiError::from(store);
    let line = Chain(&e).to_string();
    assert!(line.starts_with("store unavailable"), "{line}");
    assert!(line.ends_with("connection refused"), "{line}");
}

#[tokio::test]
async fn error_bodies_say_whether_a_retry_may_succeed() {
    for (e, retryable) in [
        (
            ApiError::IdempotencyKeyInUse {
                retry_after_secs: 1,
            },
            true,
        ),
        (ApiError::UpstreamTimeout, true),
        (ApiError::Validation("x".into()), false),
    ] {
        let res = e.error_response();
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["code"], e.code());
        assert_eq!(v["error"]["retryable"], retryable, "{}", e.code());
        assert!(v["error"].get("details").is_some_and(|d| d.is_null()));
    }
}
