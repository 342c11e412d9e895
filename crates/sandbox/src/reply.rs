//! The sandbox's HTTP edge types: `SbError` (status, code, message, `retryable`, `details`), the
//! `Ctx` extractor (correlation ID, caller, own base URL) and the envelope responses every handler
//! returns.

use std::future::{ready, Ready};

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::auth::Caller;
use aarthik_contract::envelope::{Envelope, ErrorBody};
use aarthik_contract::errors::retryable_status;
use aarthik_contract::{error_code as code, headers};

/// An upstream error answer. The envelope always carries all four `error` keys; `details` is
/// always an object (empty when there is nothing to add).
#[derive(Debug, Clone)]
pub struct SbError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retryable: bool,
    pub details: Map<String, Value>,
}

pub type SbResult<T = Value> = Result<T, SbError>;

impl SbError {
    /// `retryable` follows the status (429 and 5xx); see [`SbError::retryable`] for exceptions.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        SbError {
            status,
            code,
            message: message.into(),
            retryable: retryable_status(status.as_u16()),
            details: Map::new(),
        }
    }
    /// 400 `VALIDATION_FAILED` about the request as a whole (no single field to blame).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, code::VALIDATION_FAILED, message)
    }
    /// 400 `VALIDATION_FAILED` with `details.field` (a dotted path, or a header name).
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(message).detail("field", field)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, code::FORBIDDEN, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, code::NOT_FOUND, message)
    }
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(409, code::INVALID_STATE, message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    /// Add one `details` entry.
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// The code that goes with a bare HTTP status (fault injection, framework errors). A 401 is
    /// about the session token; the edge swaps in `AUTH_INVALID_API_KEY` on key-only routes.
    pub fn for_status(status: u16, message: impl Into<String>) -> Self {
        let c = match status {
            400 | 413 => code::VALIDATION_FAILED,
            401 => code::AUTH_INVALID_SESSION,
            403 => code::FORBIDDEN,
            404 => code::NOT_FOUND,
            405 => code::METHOD_NOT_ALLOWED,
            409 => code::INVALID_STATE,
            429 => code::RATE_LIMITED,
            _ => code::INTERNAL_ERROR,
        };
        Self::new(status, c, message)
    }

    /// The enveloped response.
    pub fn to_response(&self, correlation_id: &str) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            builder.insert_header((headers::RETRY_AFTER, "1"));
        }
        let body = ErrorBody::new(self.code, self.message.clone())
            .retryable(self.retryable)
            .details(self.details.clone());
        builder.json(Envelope::error(body, Some(correlation_id.to_owned())))
    }
}

/// Per-request facts the edge middleware computed, stored in the request extensions.
#[derive(Clone)]
pub struct RequestInfo {
    pub correlation_id: String,
    pub caller: Caller,
}

/// What a handler needs about its request.
pub struct Ctx {
    pub correlation_id: String,
    pub caller: Caller,
    /// `scheme://host[:port]` as the client addressed the sandbox (for redirect URLs).
    pub base_url: String,
}

impl FromRequest for Ctx {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let info = req.extensions().get::<RequestInfo>().cloned();
        let (correlation_id, caller) = match info {
            Some(i) => (i.correlation_id, i.caller),
            None => (uuid::Uuid::new_v4().to_string(), Caller::None),
        };
        let conn = req.connection_info();
        let base_url = format!("{}://{}", conn.scheme(), conn.host());
        ready(Ok(Ctx {
            correlation_id,
            caller,
            base_url,
        }))
    }
}

impl Ctx {
    /// 200 with `data`, or the error envelope.
    pub fn respond(&self, result: SbResult) -> HttpResponse {
        match result {
            Ok(data) => {
                HttpResponse::Ok().json(Envelope::ok(data, Some(self.correlation_id.clone())))
            }
            Err(e) => e.to_response(&self.correlation_id),
        }
    }

    /// 200 with a flat (un-enveloped) body, as the documented webhook subscription API.
    pub fn respond_flat(&self, result: SbResult) -> HttpResponse {
        match result {
            Ok(body) => HttpResponse::Ok().json(body),
            Err(e) => e.to_response(&self.correlation_id),
        }
    }
}

/// Parse a JSON body; an empty body is `{}` so optional bodies parse into defaults.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> SbResult<T> {
    let trimmed = body.iter().all(u8::is_ascii_whitespace);
    let bytes: &[u8] = if trimmed { b"{}" } else { body };
    serde_json::from_slice(bytes).map_err(|e| {
        SbError::validation(format!(
            "the request body is not valid JSON for this call: {e}"
        ))
    })
}

/// Default service: unknown routes answer an enveloped 404.
pub async fn unknown_route(ctx: Ctx, req: HttpRequest) -> HttpResponse {
    SbError::not_found(format!("no route for {} {}", req.method(), req.path()))
        .to_response(&ctx.correlation_id)
}

/// Resource default: known path, wrong method → enveloped 405.
pub async fn method_not_allowed(ctx: Ctx, req: HttpRequest) -> HttpResponse {
    SbError::for_status(
        405,
        format!("method {} is not allowed on {}", req.method(), req.path()),
    )
    .to_response(&ctx.correlation_id)
}

/// A required string field of a JSON object.
pub fn required_str<'a>(obj: &'a Value, field: &str) -> SbResult<&'a str> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.as_str()),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(SbError::invalid_field(
            field,
            format!("{field} is required"),
        )),
        Some(_) => Err(SbError::invalid_field(
            field,
            format!("{field} must be a string"),
        )),
    }
}

/// An optional string field of a JSON object (`null` = absent).
pub fn optional_str<'a>(obj: &'a Value, field: &str) -> SbResult<Option<&'a str>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(SbError::invalid_field(
            field,
            format!("{field} must be a string"),
        )),
    }
}

/// Body must be a JSON object (or empty).
pub fn body_object(body: &[u8]) -> SbResult<Value> {
    let v: Value = parse_body(body)?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(SbError::validation(
            "the request body must be a JSON object",
        ))
    }
}
