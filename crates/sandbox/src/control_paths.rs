//! Paths of the sandbox-only test controls (no auth; enveloped JSON), served under `/__sandbox`.
//! Tests and scripts drive the simulator through these; the real upstream has none of them.

/// Prefix of every control path.
pub const PREFIX: &str = "/__sandbox";
pub const REQUESTS: &str = "/__sandbox/requests";
pub const DELIVERIES: &str = "/__sandbox/deliveries";
pub const TIMERS_SKIP: &str = "/__sandbox/timers/skip";
pub const STEP_COMPLETE: &str = "/__sandbox/steps/{stepID}/complete";
pub const FAULTS: &str = "/__sandbox/faults";
pub const TOKENS_EXPIRE: &str = "/__sandbox/tokens/expire";
/// `POST {"enabled": false}` makes the refresh route answer 404 as if absent (GET: the switch).
pub const REFRESH_ENDPOINT: &str = "/__sandbox/refresh-endpoint";
pub const WEBHOOK_SECRET: &str = "/__sandbox/applications/{applicationID}/webhook-secret";
pub const WEBHOOKS_DELIVER_NOW: &str = "/__sandbox/webhooks/deliver-now";
pub const LOAN_OVERDUE: &str = "/__sandbox/loans/{journeyID}/overdue";
pub const PAGE_STEP: &str = "/__sandbox/pages/steps/{stepID}";
pub const PAGE_AA: &str = "/__sandbox/pages/aa/{aaSessionID}";
