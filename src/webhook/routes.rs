//! `POST /v1/webhooks/aarthik`: read the raw body (bounded), hand it to the
//! [`Receiver`](super::Receiver), map the outcome to the envelope. Also
//! `POST /v1/ops/dead-letters/{id}/redrive` (ops token, audited): re-running a kept delivery is
//! the receiver's pipeline, so it lives here rather than in the read-only ops capability. And the
//! forwarding delivery log (`GET /v1/ops/forwarding/{eventID}`) with its re-send
//! (`POST /v1/ops/forwarding/{eventID}/resend`, audited).

use actix_web::{web, HttpRequest, HttpResponse};

use crate::audit::Audit;
use crate::auth::OpsCaller;
use crate::error::{ok, ApiError};
use crate::http::body::{read_limited, BodyError};
use crate::metrics::{Metrics, WebhookRejection};

use super::forward::Forwarder;
use super::forward_log::DeliveryState;
use super::receive::{names, DeliveryHeaders, Receiver, WebhookError};

/// The public path of the receiver.
pub const PATH: &str = "/v1/webhooks/aarthik";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATH).post(receive))
        .service(web::resource("/v1/ops/dead-letters/{id}/redrive").post(redrive))
        .service(web::resource("/v1/ops/forwarding").get(list))
        .service(web::resource("/v1/ops/forwarding/{eventID}").get(deliveries))
        .service(web::resource("/v1/ops/forwarding/{eventID}/resend").post(resend));
}

/// The largest webhook body accepted: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

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

async fn deliveries(
    _: OpsCaller,
    forwarder: web::Data<Forwarder>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = forwarder.deliveries(&event_id(path)?).await?;
    Ok(ok(view.ok_or_else(no_forwarding)?))
}

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
