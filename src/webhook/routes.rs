//! `POST /v1/webhooks/aarthik`: read the raw body (bounded), hand it to the
//! [`Receiver`](super::Receiver), map the outcome to the envelope. Also
//! `POST /v1/ops/dead-letters/{id}/redrive` (ops token, audited): re-running a kept delivery is
//! the receiver's pipeline, so it lives here rather than in the read-only ops capability.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::audit::Audit;
use crate::auth::OpsCaller;
use crate::error::openapi::{ErrorEnvelope, Success};
use crate::error::{ok, ApiError};
use crate::http::body::{read_limited, BodyError};
use crate::metrics::Metrics;

use super::receive::{names, DeliveryHeaders, Receipt, Receiver, WebhookError};

/// The public path of the receiver.
pub const PATH: &str = "/v1/webhooks/aarthik";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::http::resource(PATH).post(receive))
        .service(crate::http::resource("/v1/ops/dead-letters/{id}/redrive").post(redrive));
}

/// The paths of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(receive, redrive))]
pub struct Api;

/// The webhook body as far as this service reads it (`journey.snapshot`; the upstream's full
/// payload is kept as received). The top level is snake_case, `borrower` camelCase.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct WebhookDelivery {
    #[schema(examples("1.0.0"))]
    schema_version: Option<String>,
    /// `journey.snapshot` (or `bff.doctor.ping`, a test delivery of `aarthik-bff doctor`).
    #[schema(examples("journey.snapshot", "bff.doctor.ping"))]
    event_type: String,
    /// `evt_` and a ULID; equals `X-AL-Event-ID`.
    event_id: String,
    event_at: Option<String>,
    snapshot_generated_at: Option<String>,
    /// Increases per journey (epoch milliseconds in practice): newest wins.
    sequence: Option<u64>,
    tenant_id: Option<String>,
    application_id: Option<String>,
    borrower: Option<serde_json::Value>,
}

/// What the sender (or ops, for a redrive) is told.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RedriveReceipt {
    /// The dead letter's id.
    id: String,
    #[serde(rename = "eventID")]
    event_id: String,
    /// `stored` or `duplicate`.
    outcome: String,
}

/// The largest webhook body accepted: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Signed journey.snapshot receiver
///
/// Verifies `X-AL-Webhook-Signature` (hex HMAC-SHA256 over `timestamp + "." + raw body`) and the
/// timestamp's freshness before anything else, de-duplicates by event id across instances, stores
/// the snapshot (newest `sequence` wins per journey) and announces it to live streams. Answers
/// 200 for a stored event and for a duplicate (which changes nothing).
#[utoipa::path(
    post, path = "/v1/webhooks/aarthik", operation_id = "receiveWebhook", tag = "webhooks",
    security(("webhookSignature" = [], "webhookTimestamp" = [])),
    params(
        ("X-AL-Event-ID" = String, Header, description = "The event id (evt_…); de-duplication key"),
        ("X-AL-Tenant-ID" = Option<String>, Header, description = "Checked against webhook.tenant_id when configured (403 otherwise)"),
        ("X-AL-Application-ID" = Option<String>, Header, description = "Checked against webhook.application_id when configured (403 otherwise)"),
    ),
    request_body(content = WebhookDelivery, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored (or a duplicate: changes nothing)", body = Success<Receipt>),
        (status = 400, description = "VALIDATION_ERROR: a verified body this service cannot use (kept as a dead letter when it is a snapshot)", body = ErrorEnvelope),
        (status = 401, description = "WEBHOOK_SIGNATURE_INVALID or WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE", body = ErrorEnvelope),
        (status = 403, description = "FORBIDDEN: X-AL-Tenant-ID or X-AL-Application-ID is not the configured one", body = ErrorEnvelope),
        (status = 408, description = "REQUEST_TIMEOUT: the body did not arrive in time", body = ErrorEnvelope),
        (status = 409, description = "WEBHOOK_IN_FLIGHT: another delivery of this event is still being stored; retry (Retry-After)", body = ErrorEnvelope),
        (status = 413, description = "PAYLOAD_TOO_LARGE (over 1 MiB)", body = ErrorEnvelope),
        (status = 429, description = "RATE_LIMITED: too many bodies being read at once (Retry-After)", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    receiver: web::Data<Receiver>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    // Headers first: nothing unauthenticated-looking gets its body read, and every read holds a
    // permit and has a deadline, so stalled senders cannot pile up memory.
    let headers = delivery_headers(&req);
    receiver.precheck(&headers)?;
    let _permit = receiver.read_permit().ok_or(ApiError::RateLimited {
        retry_after_secs: 1,
    })?;
    let body = tokio::time::timeout(
        receiver.read_timeout(),
        read_limited(&req, payload, MAX_BODY_BYTES),
    )
    .await
    .map_err(|_| ApiError::RequestTimeout)?
    .map_err(webhook_body_error)?;
    let receipt = receiver.receive(headers, body).await?;
    metrics.observe_webhook(receipt.outcome);
    Ok(ok(receipt))
}

/// The audit action of a re-drive.
pub const REDRIVE_ACTION: &str = "redrive";

/// Re-process one dead letter
///
/// Runs a kept delivery through the receiver again (no signature check: it was verified when it
/// arrived). Audited: action redrive, target the dead letter id.
#[utoipa::path(
    post, path = "/v1/ops/dead-letters/{id}/redrive", operation_id = "redriveDeadLetter", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(("id" = String, Path, description = "The dead letter's id")),
    responses(
        (status = 200, description = "Re-processed", body = Success<RedriveReceipt>),
        (status = 400, description = "VALIDATION_ERROR: the kept delivery still cannot be used", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 404, description = "NOT_FOUND: no such dead letter", body = ErrorEnvelope),
        (status = 409, description = "WEBHOOK_IN_FLIGHT (Retry-After)", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn redrive(
    caller: OpsCaller,
    receiver: web::Data<Receiver>,
    audit: web::Data<Audit>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let receipt = receiver.redrive(&path).await?;
    audit
        .record(&caller.operator, REDRIVE_ACTION, &path)
        .await?;
    Ok(ok(serde_json::json!({
        "id": path.into_inner(),
        "eventID": receipt.event_id,
        "outcome": receipt.outcome,
    })))
}

/// The headers the receiver looks at (first value of each, when valid UTF-8).
fn delivery_headers(req: &HttpRequest) -> DeliveryHeaders {
    [
        names::EVENT_ID,
        names::TENANT_ID,
        names::APPLICATION_ID,
        names::TIMESTAMP,
        names::SIGNATURE,
        names::CONTENT_TYPE,
    ]
    .iter()
    .filter_map(|name| {
        let v = req.headers().get(*name)?.to_str().ok()?;
        Some(((*name).to_owned(), v.to_owned()))
    })
    .collect()
}

/// The webhook's own wording of the body errors.
fn webhook_body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::TooLarge(limit) => {
            ApiError::PayloadTooLarge(format!("A webhook body may be at most {limit} bytes."))
        }
        BodyError::Read(_) => ApiError::Validation("The body could not be read.".into()),
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::SignatureInvalid(m) => ApiError::WebhookSignatureInvalid(m.into()),
            WebhookError::TimestampOutOfTolerance => ApiError::WebhookTimestampOutOfTolerance,
            WebhookError::Forbidden(m) => ApiError::Forbidden(m.into()),
            WebhookError::Invalid(reason) => {
                ApiError::Validation(format!("The webhook cannot be used: {reason}."))
            }
            WebhookError::InFlight => ApiError::WebhookInFlight {
                retry_after_secs: 1,
            },
            WebhookError::DeadLetterNotFound => ApiError::NotFound("No such dead letter.".into()),
            WebhookError::Store(s) => s.into(),
        }
    }
}
