//! The upstream contract in one place: every path template, header name, enum value and timing
//! the client and the sandbox share (../shared/upstream/CONTRACT.md). Values tagged
//! `[SANDBOX CHOICE]` there are our guesses; a correction from the vendor is a change to this file.

/// Header names, in the canonical spelling the vendor samples use.
pub mod headers {
    pub const AUTHORIZATION: &str = "Authorization";
    pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
    pub const CORRELATION_ID: &str = "X-Correlation-ID";
    pub const TRACEPARENT: &str = "traceparent";
    pub const RETRY_AFTER: &str = "Retry-After";
    pub const WEBHOOK_EVENT_ID: &str = "X-AL-Event-ID";
    pub const WEBHOOK_TENANT_ID: &str = "X-AL-Tenant-ID";
    pub const WEBHOOK_APPLICATION_ID: &str = "X-AL-Application-ID";
    pub const WEBHOOK_TIMESTAMP: &str = "X-AL-Webhook-Timestamp";
    pub const WEBHOOK_SIGNATURE: &str = "X-AL-Webhook-Signature";
}

/// Path templates. `{name}` marks a segment; [`fill`] substitutes them.
pub mod paths {
    /// Prefix of every borrower-scoped headless path.
    pub const HEADLESS_PREFIX: &str = "/api/v1/headless";
    /// Create or resume a borrower session (KEY). Documented.
    pub const SESSIONS: &str = "/api/v1/headless/sessions";
    /// Rotate a refresh token (KEY). [SANDBOX CHOICE] U1; the client's path is configurable.
    pub const SESSIONS_REFRESH: &str = "/api/v1/headless/sessions/refresh";
    pub const JOURNEYS: &str = "/api/v1/headless/journeys";
    pub const JOURNEY: &str = "/api/v1/headless/journeys/{journeyID}";
    pub const JOURNEY_STATE: &str = "/api/v1/headless/journeys/{journeyID}/state";
    pub const PROFILE: &str = "/api/v1/headless/profile";
    pub const PROFILE_SUBMIT: &str = "/api/v1/headless/profile/submit";
    pub const JOURNEY_PROFILE: &str = "/api/v1/headless/journeys/{journeyID}/profile";
    pub const JOURNEY_PROFILE_SUBMIT: &str = "/api/v1/headless/journeys/{journeyID}/profile/submit";
    pub const JOURNEY_OFFERS: &str = "/api/v1/headless/journeys/{journeyID}/offers";
    pub const OFFER_PROCEED: &str = "/api/v1/headless/offers/{offerID}/proceed";
    pub const OFFER_REJECT: &str = "/api/v1/headless/offers/{offerID}/reject";
    pub const OFFER_STEPS: &str = "/api/v1/headless/offers/{offerID}/steps";
    pub const JOURNEY_OFFER_STEPS: &str =
        "/api/v1/headless/journeys/{journeyID}/offers/{offerID}/steps";
    pub const OFFER_STEP: &str = "/api/v1/headless/offers/{offerID}/steps/{stepID}";
    pub const OFFER_STEP_SUBMIT: &str = "/api/v1/headless/offers/{offerID}/steps/{stepID}/submit";
    pub const OFFER_STEP_COMPLETE: &str =
        "/api/v1/headless/offers/{offerID}/steps/{stepID}/complete";
    pub const AA_SESSIONS: &str = "/api/v1/headless/journeys/{journeyID}/aa/sessions";
    pub const AA_SESSION: &str = "/api/v1/headless/aa/sessions/{aaSessionID}";
    pub const AA_SESSION_COMPLETE: &str = "/api/v1/headless/aa/sessions/{aaSessionID}/complete";
    pub const AA_SESSION_RECONCILE: &str = "/api/v1/headless/aa/sessions/{aaSessionID}/reconcile";
    pub const LOAN: &str = "/api/v1/headless/journeys/{journeyID}/loan";
    pub const FORECLOSURE: &str =
        "/api/v1/headless/journeys/{journeyID}/post-disbursal/foreclosure";
    pub const PRE_PART_PAYMENT: &str =
        "/api/v1/headless/journeys/{journeyID}/post-disbursal/pre-part-payment";
    pub const MISSED_EMI: &str = "/api/v1/headless/journeys/{journeyID}/post-disbursal/missed-emi";
    pub const STATUS_REFRESH: &str =
        "/api/v1/headless/journeys/{journeyID}/post-disbursal/status-refresh";
    pub const WEBHOOK_CONFIGURATION: &str =
        "/api/tenants/{tenantID}/applications/{applicationID}/webhooks/configuration";
    pub const WEBHOOK_SUBSCRIBE: &str =
        "/api/tenants/{tenantID}/applications/{applicationID}/webhooks/subscribe";
    pub const WEBHOOK_UNSUBSCRIBE: &str =
        "/api/tenants/{tenantID}/applications/{applicationID}/webhooks/unsubscribe";
    /// Sandbox-only test controls live under this prefix.
    pub const SANDBOX_CONTROL_PREFIX: &str = "/__sandbox";

    /// Substitute `{name}` segments of a template. Values are percent-encoded as path segments.
    pub fn fill(template: &str, params: &[(&str, &str)]) -> String {
        let mut out = template.to_owned();
        for (name, value) in params {
            let encoded: String =
                url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
            out = out.replace(&format!("{{{name}}}"), &encoded.replace('+', "%20"));
        }
        out
    }
}

/// Journey types (documented).
pub mod journey_type {
    pub const PERSONAL_LOAN: &str = "PERSONAL_LOAN";
    pub const GOLD_LOAN: &str = "GOLD_LOAN";
}

/// Journey `status` values (§4.3; only OFFERS_AVAILABLE is a vendor value).
pub mod journey_status {
    pub const PROFILE_PENDING: &str = "PROFILE_PENDING";
    pub const OFFERS_PENDING: &str = "OFFERS_PENDING";
    pub const OFFERS_AVAILABLE: &str = "OFFERS_AVAILABLE";
    pub const NO_OFFERS: &str = "NO_OFFERS";
    pub const OFFER_SELECTED: &str = "OFFER_SELECTED";
    pub const STEPS_IN_PROGRESS: &str = "STEPS_IN_PROGRESS";
    pub const DISBURSAL_PENDING: &str = "DISBURSAL_PENDING";
    pub const DISBURSED: &str = "DISBURSED";
    pub const CLOSED: &str = "CLOSED";
    pub const REJECTED: &str = "REJECTED";
    pub const EXPIRED: &str = "EXPIRED";
    /// Statuses after which a journey can no longer move.
    pub const TERMINAL: &[&str] = &[NO_OFFERS, CLOSED, REJECTED, EXPIRED];
}

/// Journey `nextAction` values (§4.3; only VIEW_OFFERS is a vendor value).
pub mod next_action {
    pub const COMPLETE_PROFILE: &str = "COMPLETE_PROFILE";
    pub const VIEW_OFFERS: &str = "VIEW_OFFERS";
    pub const COMPLETE_STEP: &str = "COMPLETE_STEP";
    pub const VIEW_LOAN: &str = "VIEW_LOAN";
}

/// Offer `status` values.
pub mod offer_status {
    pub const OFFER_RECEIVED: &str = "OFFER_RECEIVED";
    pub const SELECTED: &str = "SELECTED";
    pub const REJECTED: &str = "REJECTED";
    pub const LOCKED: &str = "LOCKED";
}

/// Step vocabulary ([SANDBOX CHOICE]).
pub mod step {
    pub const PENDING: &str = "PENDING";
    pub const ACTION_REQUIRED: &str = "ACTION_REQUIRED";
    pub const IN_PROGRESS: &str = "IN_PROGRESS";
    pub const COMPLETED: &str = "COMPLETED";
    pub const FAILED: &str = "FAILED";
    pub const SKIPPED: &str = "SKIPPED";

    pub const ACTION_REDIRECT: &str = "REDIRECT";
    pub const ACTION_INPUT: &str = "INPUT";
    pub const ACTION_WAIT: &str = "WAIT";
    pub const ACTION_NONE: &str = "NONE";

    pub const KFS_REVIEW: &str = "KFS_REVIEW";
    pub const KYC: &str = "KYC";
    pub const AA_CONSENT: &str = "AA_CONSENT";
    pub const BANK_ACCOUNT: &str = "BANK_ACCOUNT";
    pub const E_MANDATE: &str = "E_MANDATE";
    pub const LOAN_AGREEMENT: &str = "LOAN_AGREEMENT";
    pub const DISBURSAL: &str = "DISBURSAL";
    /// The order in which the sandbox presents steps after proceed.
    pub const ORDER: &[&str] = &[
        KFS_REVIEW,
        KYC,
        AA_CONSENT,
        BANK_ACCOUNT,
        E_MANDATE,
        LOAN_AGREEMENT,
        DISBURSAL,
    ];
}

/// Upstream error codes (U7, [SANDBOX CHOICE]).
pub mod error_code {
    pub const VALIDATION_ERROR: &str = "VALIDATION_ERROR";
    pub const IDEMPOTENCY_KEY_REQUIRED: &str = "IDEMPOTENCY_KEY_REQUIRED";
    pub const UNAUTHORIZED: &str = "UNAUTHORIZED";
    pub const SESSION_EXPIRED: &str = "SESSION_EXPIRED";
    pub const REFRESH_TOKEN_INVALID: &str = "REFRESH_TOKEN_INVALID";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const INVALID_STATE: &str = "INVALID_STATE";
    pub const OFFER_LOCKED: &str = "OFFER_LOCKED";
    pub const IDEMPOTENCY_KEY_CONFLICT: &str = "IDEMPOTENCY_KEY_CONFLICT";
    pub const NO_ACTIVE_JOURNEY: &str = "NO_ACTIVE_JOURNEY";
    pub const ACTION_NOT_SUPPORTED: &str = "ACTION_NOT_SUPPORTED";
    /// Unknown route or method not allowed on a known route (sandbox envelope for 405).
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
}

/// Webhook event vocabulary (§5).
pub mod webhook {
    pub const EVENT_TYPE_SNAPSHOT: &str = "journey.snapshot";
    pub const SCHEMA_VERSION: &str = "1.0.0";
    pub const ISSUER_SOURCE: &str = "credit-api";
    pub const EVENT_ID_PREFIX: &str = "evt_";
}

/// Timings ([SANDBOX CHOICE] defaults; all configurable where they matter).
pub mod timing {
    /// U2: session token lifetime.
    pub const SESSION_TOKEN_TTL_SECS: u64 = 15 * 60;
    /// U2: refresh token lifetime.
    pub const REFRESH_TOKEN_TTL_SECS: u64 = 7 * 24 * 3600;
    /// U6: how long the sandbox keeps idempotency records.
    pub const IDEMPOTENCY_RETENTION_SECS: u64 = 24 * 3600;
    /// U10: a delivery succeeds on any 2xx within this time.
    pub const WEBHOOK_DELIVERY_TIMEOUT_SECS: u64 = 10;
    /// U10: first retry delay; doubled per attempt.
    pub const WEBHOOK_FIRST_RETRY_SECS: u64 = 1;
    /// U10: attempts before giving up.
    pub const WEBHOOK_MAX_ATTEMPTS: u32 = 5;
    /// Delay before simulated lenders answer after profile submit.
    pub const OFFER_DISPATCH_DELAY_MS: u64 = 3_000;
}

/// Post-disbursal actions (§3.7; names are [SANDBOX CHOICE]); availability is lender-dependent (U22).
pub mod post_disbursal {
    pub const FORECLOSURE: &str = "FORECLOSURE";
    pub const PRE_PART_PAYMENT: &str = "PRE_PART_PAYMENT";
    pub const MISSED_EMI_PAYMENT: &str = "MISSED_EMI_PAYMENT";
    pub const STATUS_REFRESH: &str = "STATUS_REFRESH";
}

/// Loan `status` values in the post-disbursal loan view ([SANDBOX CHOICE]).
pub mod loan_status {
    pub const ACTIVE: &str = "ACTIVE";
    pub const CLOSED: &str = "CLOSED";
}

/// Account Aggregator session `status` values (Hybrid vocabulary `READY` plus [SANDBOX CHOICE]s).
pub mod aa_status {
    pub const READY: &str = "READY";
    pub const COMPLETED: &str = "COMPLETED";
    pub const EXPIRED: &str = "EXPIRED";
}

/// `issuer.trigger` values of `journey.snapshot` (only `journey.offer.updated` is a vendor value).
pub mod webhook_trigger {
    pub const JOURNEY_CREATED: &str = "journey.created";
    pub const PROFILE_UPDATED: &str = "journey.profile.updated";
    pub const PROFILE_SUBMITTED: &str = "journey.profile.submitted";
    pub const OFFER_UPDATED: &str = "journey.offer.updated";
    pub const STEP_UPDATED: &str = "journey.step.updated";
    pub const DISBURSED: &str = "journey.disbursed";
    pub const LOAN_UPDATED: &str = "journey.loan.updated";
}

/// Sandbox-only test controls (no auth; enveloped JSON). Other code and tests rely on these.
pub mod sandbox_controls {
    pub const REQUESTS: &str = "/__sandbox/requests";
    pub const DELIVERIES: &str = "/__sandbox/deliveries";
    pub const TIMERS_SKIP: &str = "/__sandbox/timers/skip";
    pub const STEP_COMPLETE: &str = "/__sandbox/steps/{stepID}/complete";
    pub const FAULTS: &str = "/__sandbox/faults";
    pub const TOKENS_EXPIRE: &str = "/__sandbox/tokens/expire";
    pub const WEBHOOK_SECRET: &str = "/__sandbox/applications/{applicationID}/webhook-secret";
    pub const WEBHOOKS_DELIVER_NOW: &str = "/__sandbox/webhooks/deliver-now";
    pub const LOAN_OVERDUE: &str = "/__sandbox/loans/{journeyID}/overdue";
    pub const PAGE_STEP: &str = "/__sandbox/pages/steps/{stepID}";
    pub const PAGE_AA: &str = "/__sandbox/pages/aa/{aaSessionID}";
}

/// Token prefixes (U2, cosmetic).
pub mod token_prefix {
    pub const SESSION: &str = "hst_";
    pub const REFRESH: &str = "hrt_";
}

#[cfg(test)]
mod tests {
    use super::paths::*;

    #[test]
    fn fill_substitutes_and_encodes_segments() {
        assert_eq!(
            fill(JOURNEY_STATE, &[("journeyID", "abc")]),
            "/api/v1/headless/journeys/abc/state"
        );
        assert_eq!(
            fill(OFFER_STEP, &[("offerID", "o/1"), ("stepID", "s 2")]),
            "/api/v1/headless/offers/o%2F1/steps/s%202"
        );
    }
}
