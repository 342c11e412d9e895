//! Header names, in the canonical spelling the vendor samples use.

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
/// Optional contract pin: a date such as `2026-03-05`.
pub const API_VERSION: &str = "X-AL-API-Version";
