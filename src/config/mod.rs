//! Settings: the structs the rest of the service reads, and their list helpers. Loading
//! (`load`), validation (`validate`) and the development defaults (`dev`) live in the submodules.
//! Secrets are `SecretString`s from the moment they are read.

mod choices;
pub mod dev;
mod load;
mod production;
mod secret_files;
mod store_rules;
mod validate;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use choices::{Environment, LogFormat, MissingKeyPolicy, RefreshMode, UpstreamTarget};
pub use load::{load, LoadOptions};

/// Where start-up stopped: the key and what is wrong with it. Displayed as one line.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    /// `problem` with the value of `key` (a dotted settings key, or `BFF_ENV`).
    pub fn new(key: &str, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_owned(),
            problem: problem.into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// From `BFF_ENV`, not from the files.
    #[serde(skip)]
    pub env: Environment,
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub upstream: UpstreamSettings,
    pub auth: AuthSettings,
    pub session: SessionSettings,
    pub webhook: WebhookSettings,
    pub ops: OpsSettings,
    pub events: EventsSettings,
    pub proxy: ProxySettings,
    pub web: WebSettings,
    pub telemetry: TelemetrySettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// After SIGTERM: keep serving this long with `/readyz` answering 503, then stop accepting.
    pub shutdown_delay_secs: u64,
    pub shutdown_timeout_secs: u64,
    /// Non-zero: `/metrics` is served on this port only.
    pub metrics_port: u16,
    /// Non-zero: `/ops/` and `/v1/ops/*` are served on this port only.
    pub ops_port: u16,
    pub max_json_bytes: usize,
    /// 0 = one worker per core.
    pub workers: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StoreSettings {
    /// One Redis (`redis://`, `rediss://`, `unix://`). The three modes are exclusive.
    pub redis_url: SecretString,
    /// Comma-separated seed nodes of a Redis Cluster.
    pub redis_cluster_urls: SecretString,
    /// Comma-separated Sentinels, and the name of the master they watch.
    pub sentinel_urls: SecretString,
    pub sentinel_master: String,
    /// PEM files for `rediss://`: the CA to trust (instead of the system's), and a client
    /// certificate and key (both or neither).
    pub tls_ca_file: String,
    pub tls_client_cert_file: String,
    pub tls_client_key_file: String,
    pub key_prefix: String,
    pub connect_timeout_ms: u64,
    pub response_timeout_ms: u64,
    /// Keys the in-memory store holds at most (then writes of new keys fail with 503).
    pub memory_max_keys: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UpstreamSettings {
    pub base_url: UpstreamTarget,
    pub api_key: SecretString,
    pub secondary_api_key: SecretString,
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// Where the refresh endpoint is (the upstream does not publish one; this is the sandbox's).
    pub refresh_path: String,
    /// Largest upstream answer accepted (larger: 502 `UPSTREAM_RESPONSE_TOO_LARGE`).
    pub max_response_bytes: usize,
    pub refresh_mode: RefreshMode,
    /// `X-AL-API-Version` sent on every upstream call; empty = not sent.
    pub api_version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub hs256_secret: SecretString,
    pub jwks_file: String,
    pub issuer: String,
    pub audience: String,
    pub leeway_secs: u64,
    /// The longest partner-JWT lifetime accepted (`exp - iat`, or `exp - now` without `iat`); also
    /// how long a revocation refuses JWTs that carry no `iat`.
    pub max_token_lifetime_secs: u64,
    pub algorithms: String,
    pub pseudonym_pepper: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    pub upstream_calls_per_minute: u32,
    pub encryption_keys: SecretString,
    pub min_remaining_secs: u64,
    pub reuse_window_secs: u64,
    pub lock_lease_ms: u64,
    pub wait_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    pub secrets: SecretString,
    pub tolerance_secs: u64,
    pub tenant_id: String,
    pub application_id: String,
    pub dedupe_ttl_secs: u64,
    pub feed_max_len: usize,
    pub feed_max_age_secs: u64,
    /// Comma-separated URLs that receive a re-signed copy of each newly stored event.
    pub forward_urls: String,
    pub forward_secret: SecretString,
    /// Deprecated and ignored (forwarding retries until `forward_max_age_secs`); still accepted.
    pub forward_max_attempts: u32,
    pub forward_first_retry_ms: u64,
    /// How long after an event was received its forwarding is retried before giving up.
    pub forward_max_age_secs: u64,
    pub forward_timeout_ms: u64,
    /// Time allowed to receive a webhook body (then 408).
    pub read_timeout_ms: u64,
    /// Webhook bodies read at once per instance (beyond: 429 with Retry-After).
    pub max_concurrent_reads: usize,
}

/// The operator name of an ops token configured without one.
pub const DEFAULT_OPERATOR: &str = "ops";

#[derive(Debug, Clone, Deserialize)]
pub struct OpsSettings {
    pub tokens: SecretString,
    /// Open `/v1/ops/events/stream` connections per instance; beyond → 503 `TOO_MANY_STREAMS`.
    pub max_streams: usize,
    /// The longest any SSE stream (ops or a user's) stays open; the client then reconnects.
    pub stream_max_secs: u64,
}

/// Live journey updates for apps (`/v1/events/stream`, `/v1/events`).
#[derive(Debug, Clone, Deserialize)]
pub struct EventsSettings {
    /// Open streams per partner user per instance; beyond → 429 `RATE_LIMITED`.
    pub max_streams_per_user: usize,
    /// Updates kept per user (resume depth).
    pub updates_max_len: usize,
    pub updates_max_age_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProxySettings {
    pub max_body_bytes: usize,
    pub idempotency_retention_secs: u64,
    pub idempotency_missing_key: MissingKeyPolicy,
    pub max_retries: u32,
    /// Per-user budget of mutating proxied calls per minute (then 429 `RATE_LIMITED`).
    pub mutations_per_minute: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebSettings {
    pub cookie_name: String,
    pub idle_timeout_secs: u64,
    pub absolute_timeout_secs: u64,
    pub allowed_origins: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TelemetrySettings {
    pub format: LogFormat,
    /// OTLP/HTTP base URL of a trace collector (`http://collector:4318`); empty: no export.
    pub otlp_endpoint: String,
}

impl TelemetrySettings {
    /// Whether request traces are exported.
    pub fn exports_traces(&self) -> bool {
        !self.otlp_endpoint.trim().is_empty()
    }
}

fn is_empty(s: &SecretString) -> bool {
    s.expose_secret().trim().is_empty()
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

impl Settings {
    pub fn is_production(&self) -> bool {
        self.env == Environment::Production
    }

    /// Every environment but development (`production`, `staging`, …): development defaults are
    /// refused and the production rules apply.
    pub fn is_production_grade(&self) -> bool {
        self.env != Environment::Development
    }

    pub fn embedded_upstream(&self) -> bool {
        self.upstream.base_url == UpstreamTarget::Embedded
    }

    /// The contract version pin to send upstream, when one is configured.
    pub fn api_version(&self) -> Option<&str> {
        Some(self.upstream.api_version.trim()).filter(|v| !v.is_empty())
    }

    /// No Redis mode is configured.
    pub fn uses_memory_store(&self) -> bool {
        is_empty(&self.store.redis_url)
            && is_empty(&self.store.redis_cluster_urls)
            && is_empty(&self.store.sentinel_urls)
    }

    /// The webhook signing secrets; the first is current.
    pub fn webhook_secrets(&self) -> Vec<SecretString> {
        split_list(self.webhook.secrets.expose_secret())
            .into_iter()
            .map(SecretString::from)
            .collect()
    }

    /// The URLs verified webhook events are forwarded to (empty = forwarding off).
    pub fn webhook_forward_urls(&self) -> Vec<String> {
        split_list(&self.webhook.forward_urls)
    }

    /// The ops bearer tokens (the token part of each `name:token` item).
    pub fn ops_tokens(&self) -> Vec<SecretString> {
        self.ops_operators().into_iter().map(|(_, t)| t).collect()
    }

    /// The ops tokens with their operator names: an item `name:token` names its operator (the name
    /// recorded in the audit log), a bare token is named [`DEFAULT_OPERATOR`]. The split is at the
    /// first `:`, so a token may itself contain `:` only when it is given a name.
    pub fn ops_operators(&self) -> Vec<(String, SecretString)> {
        split_list(self.ops.tokens.expose_secret())
            .into_iter()
            .map(|item| match item.split_once(':') {
                Some((name, token)) => (name.trim().to_owned(), SecretString::from(token.trim())),
                None => (DEFAULT_OPERATOR.to_owned(), SecretString::from(item)),
            })
            .collect()
    }

    /// Allowed JWT algorithms, upper-case names.
    pub fn jwt_algorithms(&self) -> Vec<String> {
        split_list(&self.auth.algorithms)
            .into_iter()
            .map(|a| a.to_ascii_uppercase())
            .collect()
    }

    /// Allowed browser origins for CORS.
    pub fn allowed_origins(&self) -> Vec<String> {
        split_list(&self.web.allowed_origins)
    }
}

/// Load options that read only the compiled-in defaults (no folder, no environment variables).
#[cfg(test)]
fn test_options() -> LoadOptions {
    LoadOptions {
        config_dir: Some(std::path::PathBuf::from("/nonexistent")),
        ..Default::default()
    }
}

/// Options for a complete production-grade setup in `env` (every rule of those environments met).
#[cfg(test)]
fn production_grade_options(env: &str) -> LoadOptions {
    let mut o = test_options()
        .set("upstream.base_url", "https://api.example.com")
        .set("store.redis_url", "redis://127.0.0.1:6379")
        .set("upstream.api_key", "sk_live_abc")
        .set(
            "auth.hs256_secret",
            "a-production-secret-of-enough-length-xx",
        )
        .set("auth.issuer", "https://partner.example")
        .set("auth.audience", "aarthik-bff")
        .set("webhook.secrets", "whsec_live_0123456789abcdefghijklmnop")
        .set("ops.tokens", "asha:ops-live-token-0123456789abcdefghijkl")
        .set(
            "session.encryption_keys",
            "k2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        );
    o.env = Some(env.into());
    o
}
