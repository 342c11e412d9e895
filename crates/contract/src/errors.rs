//! Error codes of the upstream's error envelope, and which ones are worth retrying.

/// `error.code` values. The vendor documents `AUTH_INVALID_API_KEY`, `AUTH_INVALID_SESSION`,
/// `VALIDATION_FAILED` and `OFFER_LOCK_CONFLICT`; every other code is a sandbox choice. Clients
/// decide on the code first and handle an unknown one by its HTTP status class.
pub mod error_code {
    /// Vendor value (400): a malformed or missing field; `details.field` names it as a dotted
    /// path such as `profile.contactNumber` (or a header name).
    pub const VALIDATION_FAILED: &str = "VALIDATION_FAILED";
    /// Vendor value (401): session bootstrap with a missing, revoked, rotated or
    /// wrong-environment `sk_*`, or with a session/refresh token instead of the key.
    pub const AUTH_INVALID_API_KEY: &str = "AUTH_INVALID_API_KEY";
    /// Vendor value (401): a runtime call with an expired, unknown or wrong-environment token, a
    /// rotated-away refresh token, or `sk_*` where a borrower token is needed.
    pub const AUTH_INVALID_SESSION: &str = "AUTH_INVALID_SESSION";
    /// Vendor value (409): proceed (or reject) after another offer of the journey was proceeded.
    pub const OFFER_LOCK_CONFLICT: &str = "OFFER_LOCK_CONFLICT";
    /// Sandbox choice (400): a POST, PUT or PATCH without `Idempotency-Key`.
    pub const IDEMPOTENCY_KEY_REQUIRED: &str = "IDEMPOTENCY_KEY_REQUIRED";
    /// Sandbox choice (403): the borrower does not own the journey or offer; tenant or
    /// application mismatch.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// Sandbox choice (404).
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// Sandbox choice (405): a known path with another method.
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// Sandbox choice (409): the call does not fit the resource's current status.
    pub const INVALID_STATE: &str = "INVALID_STATE";
    /// Sandbox choice (409): the key was used for another request, or its first request is
    /// still running (then `retryable: true`).
    pub const IDEMPOTENCY_KEY_CONFLICT: &str = "IDEMPOTENCY_KEY_CONFLICT";
    /// Sandbox choice (409): a profile call with no journey to attach it to.
    pub const NO_ACTIVE_JOURNEY: &str = "NO_ACTIVE_JOURNEY";
    /// Sandbox choice (409): the lender does not offer this post-disbursal action.
    pub const ACTION_NOT_SUPPORTED: &str = "ACTION_NOT_SUPPORTED";
    /// Sandbox choice (429), with `Retry-After` in seconds.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// Sandbox choice (5xx).
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
}

/// Sandbox choice: `retryable` is `true` for 429 and 5xx answers (and for an idempotency
/// conflict whose first request is still running, which the caller marks itself).
pub fn retryable_status(status: u16) -> bool {
    status == 429 || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rate_limits_and_server_errors_are_retryable_by_status() {
        assert!(retryable_status(429) && retryable_status(500) && retryable_status(503));
        assert!(!retryable_status(400) && !retryable_status(401) && !retryable_status(409));
    }
}
