//! Header names, in the canonical spelling the vendor samples use (names are case-insensitive).

/// `Bearer sk_*` on session bootstrap, `Bearer st_*` on runtime calls (`Bearer rt_*` on the
/// sandbox's refresh route).
pub const AUTHORIZATION: &str = "Authorization";
/// Required on every POST, PUT and PATCH.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Optional free text; the sandbox echoes it (and makes one up when it is absent).
pub const CORRELATION_ID: &str = "X-Correlation-ID";
/// Optional contract pin, a date such as `2026-03-05`. Sandbox choice: any valid `YYYY-MM-DD` is
/// accepted and echoed on the answer, a malformed one is 400 `VALIDATION_FAILED`.
pub const API_VERSION: &str = "X-AL-API-Version";
pub const TRACEPARENT: &str = "traceparent";
pub const RETRY_AFTER: &str = "Retry-After";
pub const WEBHOOK_EVENT_ID: &str = "X-AL-Event-ID";
pub const WEBHOOK_TENANT_ID: &str = "X-AL-Tenant-ID";
pub const WEBHOOK_APPLICATION_ID: &str = "X-AL-Application-ID";
pub const WEBHOOK_TIMESTAMP: &str = "X-AL-Webhook-Timestamp";
pub const WEBHOOK_SIGNATURE: &str = "X-AL-Webhook-Signature";

/// Whether `value` is a well-formed `X-AL-API-Version`: a real calendar date `YYYY-MM-DD`.
pub fn is_api_version(value: &str) -> bool {
    value.len() == 10 && chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_versions_are_calendar_dates() {
        assert!(super::is_api_version("2026-03-05"));
        for bad in [
            "2026-3-5",
            "2026-02-30",
            "20260305",
            "latest",
            "",
            "2026-03-05x",
        ] {
            assert!(!super::is_api_version(bad), "{bad}");
        }
    }
}
