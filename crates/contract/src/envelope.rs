//! The upstream response envelope (CONTRACT §2.2/§2.3, Appendix A). The BFF answers in the same shape.
//! Field names are spelled out: `requestID`, never `requestId`.

use serde::{Deserialize, Serialize};

/// `{requestID, correlationID, timestamp, data, error}`. `data` is absent/null on errors.
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

/// `{code, message, retryable, details}` inside an error envelope. `retryable` and `details` are
/// optional when parsing (a proxy or an older version may omit them) and then left out again when
/// written; [`ErrorBody::new`] always sets them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// Whether repeating the same request may succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    /// An object (e.g. `field`), or JSON `null` when there is nothing to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ErrorBody {
    /// Every field written: `retryable: false`, `details: null`.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            code: code.to_owned(),
            message: message.into(),
            retryable: Some(false),
            details: Some(serde_json::Value::Null),
        }
    }

    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = Some(retryable);
        self
    }

    pub fn details(mut self, details: serde_json::Map<String, serde_json::Value>) -> Self {
        self.details = Some(serde_json::Value::Object(details));
        self
    }
}

/// ISO-8601 UTC with milliseconds and `Z` (U16).
pub fn now_timestamp() -> String {
    format_timestamp(chrono::Utc::now())
}

/// Format any instant the way the upstream does (U16).
pub fn format_timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl<T: Serialize> Envelope<T> {
    /// A success envelope with a fresh request id.
    pub fn ok(data: T, correlation_id: Option<String>) -> Self {
        Envelope {
            request_id: uuid::Uuid::new_v4().to_string(),
            correlation_id,
            timestamp: now_timestamp(),
            data: Some(data),
            error: None,
        }
    }
}

impl Envelope<serde_json::Value> {
    /// An error envelope with a fresh request id and `data: null` (see [`ErrorBody::new`]).
    pub fn err(code: &str, message: impl Into<String>, correlation_id: Option<String>) -> Self {
        Self::with_error(ErrorBody::new(code, message), correlation_id)
    }

    /// An error envelope carrying `error` as given.
    pub fn with_error(error: ErrorBody, correlation_id: Option<String>) -> Self {
        Envelope {
            request_id: uuid::Uuid::new_v4().to_string(),
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
        assert!(v["data"].is_null());
        assert_eq!(v["error"]["code"], "NOT_FOUND");
        assert!(v.get("requestId").is_none());
    }

    #[test]
    fn error_bodies_always_write_retryable_and_details() {
        let v = serde_json::to_value(Envelope::err("X", "m", None)).unwrap();
        assert_eq!(v["error"]["retryable"], false);
        assert!(v["error"].get("details").is_some_and(|d| d.is_null()));
        let mut field = serde_json::Map::new();
        field.insert("field".into(), "profile.pan".into());
        let body = ErrorBody::new("X", "m").retryable(true).details(field);
        let v = serde_json::to_value(Envelope::with_error(body, None)).unwrap();
        assert_eq!(v["error"]["retryable"], true);
        assert_eq!(v["error"]["details"]["field"], "profile.pan");
    }

    #[test]
    fn envelope_parses_error_body_without_optional_fields() {
        let e: Envelope<serde_json::Value> =
            serde_json::from_str(r#"{"requestID":"r","error":{"code":"X","message":"m"}}"#)
                .unwrap();
        assert!(e.data.is_none());
        let error = e.error.unwrap();
        assert_eq!(error.code, "X");
        assert_eq!((error.retryable, error.details.clone()), (None, None));
        let v = serde_json::to_value(&error).unwrap();
        assert!(v.get("retryable").is_none() && v.get("details").is_none());
    }

    #[test]
    fn timestamps_are_utc_millis_with_z() {
        let t = now_timestamp();
        assert!(t.ends_with('Z') && t.len() == 24, "{t}");
    }
}
