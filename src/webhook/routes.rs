//! `POST /v1/webhooks/aarthik`: read the raw body (bounded), hand it to the
//! [`Receiver`](super::Receiver), map the outcome to the envelope. Also
//! `POST /v1/ops/dead-letters/{id}/redrive` (ops token, audited): re-running a kept delivery is
//! the receiver's pipeline, so it lives here rather than in the read-only ops capability. And the
//! forwarding delivery log (`GET /v1/ops/forwarding/{eventID}`) with its re-send
//! (`POST /v1/ops/forwarding/{eventID}/resend`, audited).

use actix_web::{web, HttpRequest, HttpResponse};

use crate::audit::Audit;
use crate::auth::OpsCaller;
use crate::error::openapi::{ErrorEnvelope, Success};
use crate::error::{ok, ApiError};
use crate::http::body::{read_limited, BodyError};
use crate::metrics::{Metrics, WebhookRejection};

use super::forward::Forwarder;
use super::forward_log::DeliveryState;
use super::receive::{names, DeliveryHeaders, Receipt, Receiver, WebhookError};

/// The public path of the receiver.
pub const PATH: &str = "/v1/webhooks/aarthik";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::http::resource(PATH).post(receive))
        .service(crate::http::resource("/v1/ops/dead-letters/{id}/redrive").post(redrive))
        .service(crate::http::resource("/v1/ops/forwarding").get(list))
        .service(crate::http::resource("/v1/ops/forwarding/{eventID}").get(deliveries))
        .service(crate::http::resource("/v1/ops/forwarding/{eventID}/resend").post(resend));
}

/// The paths of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(receive, redrive, list, deliveries, resend))]
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
    let rejected = |reason: WebhookRejection| metrics.webhook_rejected(reason);
    let headers = delivery_headers(&req);
    receiver
        .precheck(&headers)
        .inspect_err(|e| rejected(rejection(e)))?;
    let _permit = receiver.read_permit().ok_or_else(|| {
        rejected(WebhookRejection::Busy);
        ApiError::RateLimited {
            retry_after_secs: 1,
        }
    })?;
    let body = tokio::time::timeout(
        receiver.read_timeout(),
        read_limited(&req, payload, MAX_BODY_BYTES),
    )
    .await
    .map_err(|_| {
        rejected(WebhookRejection::Timeout);
        ApiError::RequestTimeout
    })?
    .map_err(|e| {
        rejected(match e {
            BodyError::TooLarge(_) => WebhookRejection::TooLarge,
            BodyError::Read(_) => WebhookRejection::Invalid,
        });
        webhook_body_error(e)
    })?;
    let receipt = receiver
        .receive(headers, body)
        .await
        .inspect_err(|e| rejected(rejection(e)))?;
    metrics.observe_webhook(receipt.outcome);
    Ok(ok(receipt))
}

/// The metrics label of a refused delivery.
fn rejection(e: &WebhookError) -> WebhookRejection {
    match e {
        WebhookError::SignatureInvalid(_) => WebhookRejection::Signature,
        WebhookError::TimestampOutOfTolerance => WebhookRejection::Timestamp,
        WebhookError::Forbidden(_) => WebhookRejection::Forbidden,
        WebhookError::Invalid(_) | WebhookError::DeadLetterNotFound => WebhookRejection::Invalid,
        WebhookError::InFlight => WebhookRejection::InFlight,
        WebhookError::Store(_) => WebhookRejection::Store,
    }
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

/// The audit action of a forwarding re-send.
pub const RESEND_ACTION: &str = "resend";

fn no_forwarding() -> ApiError {
    ApiError::NotFound("No forwarding record for this event.".into())
}

/// An event id as the receiver accepts them; anything else cannot have a record.
fn event_id(path: web::Path<String>) -> Result<String, ApiError> {
    let id = path.into_inner();
    crate::events::is_safe_id(&id)
        .then_some(id)
        .ok_or_else(no_forwarding)
}

/// The most deliveries' events a listing reads.
const MAX_LIST: usize = 100;

/// One URL's forwarding of one event (a row of the list and of an event's delivery log).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ForwardDelivery {
    /// Present in the list only.
    #[serde(rename = "eventID")]
    event_id: Option<String>,
    /// A stable id of the URL (its hash).
    target: String,
    /// The URL, without credentials or query.
    url: String,
    /// `pending`, `delivered` or `failed` (given up).
    #[schema(examples("pending", "delivered", "failed"))]
    state: String,
    attempts: u32,
    give_up_at: Option<String>,
    next_attempt_at: Option<String>,
    delivered_at: Option<String>,
    /// Present in the list only.
    last_attempt_at: Option<String>,
    last_outcome: Option<String>,
}

/// The deliveries of the latest forwarded events.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ForwardDeliveries {
    deliveries: Vec<ForwardDelivery>,
}

/// One forwarding attempt.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ForwardAttemptView {
    at: Option<String>,
    url: String,
    attempt: u32,
    /// The HTTP status the URL answered, when it answered.
    status: Option<u16>,
    /// `timeout` or `connect` when it did not answer.
    error: Option<String>,
    duration_ms: u64,
    /// `delivered`, `retry` or `gave_up`.
    #[schema(examples("delivered", "retry", "gave_up"))]
    outcome: String,
}

/// The forwarding delivery log of one event.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ForwardLogView {
    #[serde(rename = "eventID")]
    event_id: String,
    received_at: Option<String>,
    deliveries: Vec<ForwardDelivery>,
    attempts: Vec<ForwardAttemptView>,
}

/// The forwarding deliveries of the latest forwarded events, one row per event and URL, newest
/// event first.
#[utoipa::path(
    get, path = "/v1/ops/forwarding", operation_id = "listForwardingDeliveries", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(
        ("state" = Option<String>, Query, description = "`pending`, `delivered` or `failed`"),
        ("eventID" = Option<String>, Query, description = "Only this event"),
        ("limit" = Option<u32>, Query, description = "How many of the latest events (1-100, default 50)"),
    ),
    responses(
        (status = 200, description = "The deliveries", body = Success<ForwardDeliveries>),
        (status = 400, description = "VALIDATION_ERROR: a bad state, eventID or limit", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn list(
    _: OpsCaller,
    forwarder: web::Data<Forwarder>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let get = |k: &str| query.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let bad = |m: &str| ApiError::Validation(m.to_owned());
    let state = get("state")
        .map(|s| match s {
            "pending" => Ok(DeliveryState::Pending),
            "delivered" => Ok(DeliveryState::Delivered),
            "failed" => Ok(DeliveryState::Failed),
            _ => Err(bad("state must be pending, delivered or failed.")),
        })
        .transpose()?;
    let event_id = get("eventID")
        .map(|e| {
            crate::events::is_safe_id(e)
                .then_some(e)
                .ok_or_else(|| bad("eventID must be 1-128 characters of A-Z a-z 0-9 . _ -."))
        })
        .transpose()?;
    let limit = get("limit")
        .map(|l| {
            l.parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIST).contains(n))
                .ok_or_else(|| bad(&format!("limit must be a whole number 1..={MAX_LIST}.")))
        })
        .transpose()?
        .unwrap_or(50);
    Ok(ok(forwarder.list(state, event_id, limit).await?))
}

/// The forwarding delivery log of one event: each URL's state and every attempt.
#[utoipa::path(
    get, path = "/v1/ops/forwarding/{eventID}", operation_id = "getForwardingLog", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(("eventID" = String, Path, description = "The event id")),
    responses(
        (status = 200, description = "The delivery log", body = Success<ForwardLogView>),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 404, description = "NOT_FOUND: no forwarding record for this event (or not an event id)", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn deliveries(
    _: OpsCaller,
    forwarder: web::Data<Forwarder>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = forwarder.deliveries(&event_id(path)?).await?;
    Ok(ok(view.ok_or_else(no_forwarding)?))
}

/// Forward one event again to every configured URL: every delivery becomes pending, due now, with
/// a fresh maximum age. Audited (`resend`).
#[utoipa::path(
    post, path = "/v1/ops/forwarding/{eventID}/resend", operation_id = "resendForwarding", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(("eventID" = String, Path, description = "The event id")),
    responses(
        (status = 200, description = "Queued again; the delivery log", body = Success<ForwardLogView>),
        (status = 400, description = "VALIDATION_ERROR: forwarding is off", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 404, description = "NOT_FOUND: no forwarding record for this event (or not an event id)", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn resend(
    caller: OpsCaller,
    forwarder: web::Data<Forwarder>,
    audit: web::Data<Audit>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !forwarder.is_on() {
        return Err(ApiError::Validation(
            "Forwarding is off (webhook.forward_urls is empty): there is nowhere to re-send to."
                .into(),
        ));
    }
    let id = event_id(path)?;
    let view = forwarder.resend(&id).await?.ok_or_else(no_forwarding)?;
    audit.record(&caller.operator, RESEND_ACTION, &id).await?;
    Ok(ok(view))
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
