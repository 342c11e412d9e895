//! `POST /v1/webhooks/aarthik`: read the raw body (bounded), hand it to the [`Receiver`](crate::webhook::Receiver), map the
//! outcome to the envelope.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ok, ApiError};
use crate::state::AppState;

use super::body::{read_limited, BodyError, MAX_BODY_BYTES};
use super::receive::{names, DeliveryHeaders, WebhookError};

pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = read_limited(payload, declared, MAX_BODY_BYTES).await?;
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

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge(limit) => {
                ApiError::PayloadTooLarge(format!("A webhook body may be at most {limit} bytes."))
            }
            BodyError::Read(_) => ApiError::Validation("The body could not be read.".into()),
        }
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
