//! The upstream's vocabulary: enum values, error codes, event names and token prefixes.
//! Values that the vendor has not published are sandbox choices; a correction is a change here.
//! The BFF treats every one of these as open: an unknown value passes through untouched.

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
    /// A test delivery sent by `aarthik-bff doctor --webhook`: acknowledged, never stored.
    pub const EVENT_TYPE_DOCTOR_PING: &str = "bff.doctor.ping";
    pub const SCHEMA_VERSION: &str = "1.0.0";
    pub const ISSUER_SOURCE: &str = "credit-api";
    pub const EVENT_ID_PREFIX: &str = "evt_";
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

/// Token prefixes (U2, cosmetic).
pub mod token_prefix {
    pub const SESSION: &str = "hst_";
    pub const REFRESH: &str = "hrt_";
}
