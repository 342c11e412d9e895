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

/// `{code, message}` inside an error envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
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
    /// An error envelope with a fresh request id and `data: null`.
    pub fn err(code: &str, message: impl Into<String>, correlation_id: Option<String>) -> Self {
        Envelope {
            request_id: uuid::Uuid::new_v4().to_string(),
            correlation_id,
            timestamp: now_timestamp(),
            data: None,
            error: Some(ErrorBody {
                code: code.to_owned(),
                message: message.into(),
            }),
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
    fn envelope_parses_error_body_without_optional_fields() {
        let e: Envelope<serde_json::Value> =
            serde_json::from_str(r#"{"requestID":"r","error":{"code":"X","message":"m"}}"#)
                .unwrap();
        assert!(e.data.is_none());
        assert_eq!(e.error.unwrap().code, "X");
    }

    #[test]
    fn timestamps_are_utc_millis_with_z() {
        let t = now_timestamp();
        assert!(t.ends_with('Z') && t.len() == 24, "{t}");
    }
}
