//! Timings of the upstream. The vendor documents none of them: every value here is a sandbox
//! choice, configurable where tests need it.

/// Session token (`st_*`) lifetime.
pub const SESSION_TOKEN_TTL_SECS: u64 = 15 * 60;
/// Refresh token (`rt_*`) lifetime.
pub const REFRESH_TOKEN_TTL_SECS: u64 = 7 * 24 * 3600;
/// How long the sandbox keeps idempotency records.
pub const IDEMPOTENCY_RETENTION_SECS: u64 = 24 * 3600;
/// A webhook delivery succeeds on any 2xx within this time.
pub const WEBHOOK_DELIVERY_TIMEOUT_SECS: u64 = 10;
/// First webhook retry delay; doubled per attempt.
pub const WEBHOOK_FIRST_RETRY_SECS: u64 = 1;
/// Webhook attempts before giving up.
pub const WEBHOOK_MAX_ATTEMPTS: u32 = 5;
/// From a valid profile submit (`PROFILE_SUBMITTED`) to lender dispatch (`OFFERS_PENDING`).
pub const DISPATCH_START_DELAY_MS: u64 = 1_000;
/// From lender dispatch (or an approved Account Aggregator consent) to the lender's answer; also
/// from `LENDER_PROCESSING` to `DISBURSED`.
pub const OFFER_DISPATCH_DELAY_MS: u64 = 3_000;
/// From an Account Aggregator session's creation (`REQUIRED`) to its redirect URL
/// (`REDIRECT_READY`).
pub const AA_PREPARE_DELAY_MS: u64 = 0;
/// How long a redirect step waits for the borrower's return before it asks for `RECONCILE`.
pub const RECONCILE_AFTER_MS: u64 = 60_000;
/// Failed attempts of a step before it ends `FAILURE` (and the journey `REJECTED`); before that
/// the step returns to `READY`.
pub const MAX_STEP_ATTEMPTS: u32 = 3;
