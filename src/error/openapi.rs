//! The envelope and the error catalogue as OpenAPI schemas (`GET /openapi.json`). The handlers'
//! `#[utoipa::path]` annotations name [`Success`] and [`ErrorEnvelope`]; the document is assembled
//! in `crate::openapi`.

use serde_json::{Map, Value};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use super::ErrorCode;

/// `type: null`: the member of the envelope that is always `null` on this side.
pub fn null_schema() -> Schema {
    Schema::Object(ObjectBuilder::new().schema_type(Type::Null).build())
}

/// A success envelope: `data` is the payload, `error` is `null`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Success<T> {
    /// `req_` and a ULID, new for every response.
    #[schema(rename = "requestID")]
    pub request_id: String,
    /// The caller's `X-Correlation-ID` (or one made up), also sent as that header.
    #[schema(rename = "correlationID")]
    pub correlation_id: String,
    /// ISO-8601 UTC with milliseconds.
    #[schema(format = DateTime)]
    pub timestamp: String,
    pub data: T,
    #[schema(schema_with = null_schema)]
    pub error: (),
}

/// An error envelope written by this service: `data` is `null`, `error.code` is one of the
/// [`ErrorCode`] catalogue.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorEnvelope {
    #[schema(rename = "requestID")]
    pub request_id: String,
    #[schema(rename = "correlationID")]
    pub correlation_id: String,
    #[schema(format = DateTime)]
    pub timestamp: String,
    #[schema(schema_with = null_schema)]
    pub data: (),
    pub error: ErrorBody,
}

/// `error` of an [`ErrorEnvelope`].
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// Human-readable; never parse it.
    pub message: String,
    /// Repeating the same request (with the same `Idempotency-Key`) may succeed.
    pub retryable: bool,
    /// Machine-readable facts; `null` on this service's own errors.
    pub details: Option<Map<String, Value>>,
}

/// An error envelope this service wrote, or the upstream's passed through as received (a 4xx
/// answer of the headless API): `error.code` is then the upstream's, an open set.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AnyErrorEnvelope {
    #[schema(rename = "requestID")]
    pub request_id: String,
    #[schema(rename = "correlationID")]
    pub correlation_id: Option<String>,
    pub timestamp: String,
    #[schema(schema_with = null_schema)]
    pub data: (),
    pub error: AnyErrorBody,
}

/// `error` of an [`AnyErrorEnvelope`].
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AnyErrorBody {
    /// This service's codes (see `ErrorCode`) or the upstream's (an open set, e.g.
    /// `VALIDATION_FAILED`, `AUTH_INVALID_SESSION`, `OFFER_LOCK_CONFLICT`, `INVALID_STATE`,
    /// `NOT_FOUND`): decide on the code first, an unknown one by the HTTP status class.
    #[schema(examples("VALIDATION_FAILED", "OFFER_LOCK_CONFLICT", "INVALID_STATE"))]
    pub code: String,
    pub message: String,
    pub retryable: Option<bool>,
    /// e.g. `field` (a dotted path) for `VALIDATION_FAILED`; `offerID`, `selectedOfferID` for
    /// `OFFER_LOCK_CONFLICT`.
    pub details: Option<Map<String, Value>>,
}

impl PartialSchema for ErrorCode {
    /// One `const` per code, each described by its status, whether a retry may help and its
    /// default message.
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new().description(Some(
            "A public error code of this service (docs/errors.md): the HTTP status, whether \
             repeating the request may succeed, and the default message.",
        ));
        for code in ErrorCode::ALL {
            one_of = one_of.item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([code.as_str()]))
                    .description(Some(format!(
                        "{} · {} · {}",
                        code.status().as_u16(),
                        if code.retryable() {
                            "retryable"
                        } else {
                            "not retryable"
                        },
                        code.default_message()
                    ))),
            );
        }
        RefOr::T(Schema::OneOf(one_of.build()))
    }
}

impl ToSchema for ErrorCode {}
