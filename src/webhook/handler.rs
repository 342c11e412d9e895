//! `POST /v1/webhooks/aarthik`: read the raw body (bounded), hand it to the
//! [`Receiver`](super::Receiver), map the outcome to the envelope.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ok, ApiError};
use crate::http::body::{read_limited, BodyError};
use crate::state::AppState;

use super::receive::{names, DeliveryHeaders, WebhookError};

/// The largest webhook body accepted: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_limited(&req, payload, MAX_BODY_BYTES)
        .await
        .map_err(webhook_body_error)?;
    let receipt = state.webhooks.receive(delivery_headers(&req), body).await?;
    state.metrics.observe_webhook(receipt.outcome);
    Ok(ok(receipt))
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
