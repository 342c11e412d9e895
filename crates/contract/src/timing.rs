//! Timings of the upstream (sandbox choices where the vendor is silent; configurable where they matter).

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
