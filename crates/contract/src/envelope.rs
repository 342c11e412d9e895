//! The upstream response envelope. The BFF answers in the same shape. Field names are spelled
//! out: `requestID`, never `requestId`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{requestID, correlationID, timestamp, data, error}`. On an error `data` is `null`; on a
/// success `error` is `null`. Both keys are always written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    #[serde(rename = "requestID")]
    pub request_id: String,
    #[serde(rename = "correlationID", default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub timestamp: String,
    #[serde(default = "Option::default")]
    pub data: Option<T>,
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

/// `{code, message, retryable, details}` inside an error envelope. All four keys are written;
/// `retryable` and `details` default when a peer (a proxy, an older version) leaves them out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub code: String,
    /// Human-readable; never parse it.
    pub message: String,
    /// Repeating the same request (with the same `Idempotency-Key`) may succeed.
    #[serde(default)]
    pub retryable: bool,
    /// Machine-readable facts, e.g. `field` (a dotted path) for `VALIDATION_FAILED`.
    #[serde(default)]
    pub details: Option<Map<String, Value>>,
}

impl ErrorBody {
    /// A non-retryable error without details.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            code: code.to_owned(),
            message: message.into(),
            retryable: false,
            details: None,
        }
    }

    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    pub fn details(mut self, details: Map<String, Value>) -> Self {
        self.details = Some(details);
        self
    }

    /// `details.field`, when present.
    pub fn field(&self) -> Option<&str> {
        self.details.as_ref()?.get("field")?.as_str()
    }
}

/// A fresh request id: `req_` followed by a 26-character ULID, like the vendor's example.
pub fn new_request_id() -> String {
    format!("req_{}", ulid::Ulid::new())
}

/// ISO-8601 UTC with milliseconds and `Z`, the vendor's envelope `timestamp` format (also used
/// for every other instant the sandbox writes).
pub fn now_timestamp() -> String {
    format_timestamp(chrono::Utc::now())
}

/// Format any instant the way the upstream does.
pub fn format_timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl<T: Serialize> Envelope<T> {
    /// A success envelope with a fresh request id.
    pub fn ok(data: T, correlation_id: Option<String>) -> Self {
        Envelope {
            request_id: new_request_id(),
            correlation_id,
            timestamp: now_timestamp(),
            data: Some(data),
            error: None,
        }
    }
}

impl Envelope<Value> {
    /// An error envelope with a fresh request id and `data: null`; not retryable, no details.
    pub fn err(code: &str, message: impl Into<String>, correlation_id: Option<String>) -> Self {
        Self::error(ErrorBody::new(code, message), correlation_id)
    }

    /// An error envelope carrying `error` as given, with a fresh request id and `data: null`.
    pub fn error(error: ErrorBody, correlation_id: Option<String>) -> Self {
        Envelope {
            request_id: new_request_id(),
            correlation_id,
            timestamp: now_timestamp(),
            data: None,
            error: Some(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_uses_upper_case_id_suffixes_and_null_data_on_error() {
        let e = Envelope::err("NOT_FOUND", "no", Some("c1".into()));
        let v = serde_json::to_value(&e).unwrap();
        assert!(v.get("requestID").is_some());
        assert_eq!(v["correlationID"], "c1");
        assert!(v["data"].is_null() && v.get("data").is_some());
        assert_eq!(v["error"]["code"], "NOT_FOUND");
        assert_eq!(v["error"]["retryable"], false);
        assert!(v["error"]["details"].is_null() && v["error"].get("details").is_some());
        assert!(v.get("requestId").is_none());
    }

    #[test]
    fn error_details_and_retryable_are_written() {
        let mut details = Map::new();
        details.insert("field".into(), "profile.pan".into());
        let body = ErrorBody::new("VALIDATION_FAILED", "bad")
            .details(details)
            .retryable(false);
        assert_eq!(body.field(), Some("profile.pan"));
        let v = serde_json::to_value(Envelope::error(body, None)).unwrap();
        assert_eq!(v["error"]["details"]["field"], "profile.pan");
        assert!(v["correlationID"].is_null());
    }

    #[test]
    fn envelope_parses_error_body_without_optional_fields() {
        let e: Envelope<serde_json::Value> =
            serde_json::from_str(r#"{"requestID":"r","error":{"code":"X","message":"m"}}"#)
                .unwrap();
        assert!(e.data.is_none());
        let error = e.error.unwrap();
        assert_eq!(error.code, "X");
        assert!(!error.retryable && error.details.is_none());
    }

    #[test]
    fn request_ids_are_req_and_a_ulid() {
        let id = new_request_id();
        assert!(id.starts_with("req_") && id.len() == 30, "{id}");
        assert!(id[4..].parse::<ulid::Ulid>().is_ok());
    }

    #[test]
    fn timestamps_are_utc_millis_with_z() {
        let t = now_timestamp();
        assert!(t.ends_with('Z') && t.len() == 24, "{t}");
    }
}
