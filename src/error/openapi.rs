//! The envelope and the error catalogue as OpenAPI schemas (`GET /openapi.json`). The handlers'
//! `#[utoipa::path]` annotations name [`Success`] and [`ErrorEnvelope`]; the document is assembled
//! in `crate::openapi`.

use serde_json::{Map, Value};
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
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

/// `ErrorCode` or `UpstreamErrorCode`.
fn any_code() -> Schema {
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name("ErrorCode"))
            .item(utoipa::openapi::Ref::from_schema_name("UpstreamErrorCode"))
            .build(),
    )
}

/// `error` of an [`AnyErrorEnvelope`].
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AnyErrorBody {
    /// This service's codes (`ErrorCode`) or the platform's (`UpstreamErrorCode`, an open set):
    /// decide on the code first, an unknown one by the HTTP status class.
    #[schema(schema_with = any_code)]
    pub code: String,
    pub message: String,
    pub retryable: Option<bool>,
    /// e.g. `field` (a dotted path) for `VALIDATION_FAILED`; `offerID`, `selectedOfferID` for
    /// `OFFER_LOCK_CONFLICT`.
    pub details: Option<Map<String, Value>>,
}

/// `docs/errors.md`: the one catalogue (meaning and what the app should do for every code), read
/// into the document's `ErrorCode` and `UpstreamErrorCode` schemas.
const CATALOGUE: &str = include_str!("../../docs/errors.md");

/// The heading that starts the platform's codes in [`CATALOGUE`].
const PLATFORM_SECTION: &str = "\n## The platform's codes";

/// `code` → `[status, retryable, meaning, what to do]` of the catalogue rows in `md`.
fn catalogue_rows(md: &str) -> Vec<(String, Vec<String>)> {
    md.lines()
        .filter_map(|l| {
            let cells: Vec<String> = l
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect();
            let code = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
            let upper = code.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            (upper && cells.len() >= 5).then(|| (code.to_owned(), cells[1..].to_vec()))
        })
        .collect()
}

/// One code's description from its catalogue row (or the code table alone).
fn describe(row: Option<&Vec<String>>, status: &str, retryable: &str) -> String {
    match row {
        Some(r) => format!(
            "{status} · retryable: {retryable} · {} — What the app should do: {}",
            r[2], r[3]
        ),
        None => format!("{status} · retryable: {retryable}"),
    }
}

/// The catalogue section of this service's codes, and the platform's.
fn sections() -> (&'static str, &'static str) {
    CATALOGUE
        .find(PLATFORM_SECTION)
        .map_or((CATALOGUE, ""), |at| CATALOGUE.split_at(at))
}

impl PartialSchema for ErrorCode {
    /// One single-value enum per code, described by its status, whether the answer says
    /// `retryable` (as the envelope writes it: 429, 502, 503 and 504 always are), its meaning and
    /// what the app should do (docs/errors.md).
    fn schema() -> RefOr<Schema> {
        let rows = catalogue_rows(sections().0);
        let mut one_of = OneOfBuilder::new().description(Some(
            "A public error code of this service (the catalogue: docs/errors.md). Decide on the \
             code first, the HTTP status second.",
        ));
        for code in ErrorCode::ALL {
            let status = code.status().as_u16();
            let retryable = code.retryable() || matches!(status, 429 | 502 | 503 | 504);
            let row = rows.iter().find(|(c, _)| c == code.as_str()).map(|r| &r.1);
            one_of = one_of.item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([code.as_str()]))
                    .description(Some(describe(
                        row,
                        &status.to_string(),
                        if retryable { "yes" } else { "no" },
                    ))),
            );
        }
        RefOr::T(Schema::OneOf(one_of.build()))
    }
}

impl ToSchema for ErrorCode {}

/// The lending platform's error codes, passed through as received by the proxy (an open set:
/// `aarthik_contract::error_code` and docs/errors.md list the known ones).
pub struct UpstreamErrorCode;

impl PartialSchema for UpstreamErrorCode {
    fn schema() -> RefOr<Schema> {
        let mut any_of = AnyOfBuilder::new().description(Some(
            "The lending platform's error code, passed through with its status and body (the \
             known ones below; any other string may appear: handle it by the HTTP status class).",
        ));
        for (code, cells) in catalogue_rows(sections().1) {
            any_of = any_of.item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([code]))
                    .description(Some(describe(Some(&cells), &cells[0], &cells[1]))),
            );
        }
        any_of = any_of.item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("A code not known yet")),
        );
        RefOr::T(Schema::AnyOf(any_of.build()))
    }
}

impl ToSchema for UpstreamErrorCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_and_the_platform_codes_are_described_from_the_catalogue() {
        let (ours, platform) = sections();
        let rows = catalogue_rows(ours);
        for code in ErrorCode::ALL {
            assert!(
                rows.iter().any(|(c, _)| c == code.as_str()),
                "{code} has no row in docs/errors.md"
            );
        }
        let platform: Vec<String> = catalogue_rows(platform).into_iter().map(|r| r.0).collect();
        for code in [
            aarthik_contract::error_code::VALIDATION_FAILED,
            aarthik_contract::error_code::AUTH_INVALID_SESSION,
            aarthik_contract::error_code::OFFER_LOCK_CONFLICT,
            aarthik_contract::error_code::INVALID_STATE,
            aarthik_contract::error_code::IDEMPOTENCY_KEY_CONFLICT,
            aarthik_contract::error_code::NO_ACTIVE_JOURNEY,
            aarthik_contract::error_code::ACTION_NOT_SUPPORTED,
            aarthik_contract::error_code::INTERNAL_ERROR,
        ] {
            assert!(platform.iter().any(|c| c == code), "{code}");
        }
        let text = serde_json::to_string(&UpstreamErrorCode::schema()).unwrap();
        assert!(text.contains("details.field"), "{text}");
    }
}
