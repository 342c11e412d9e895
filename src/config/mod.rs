//! Settings: the structs the rest of the service reads, and their list helpers. Loading
//! (`load`), validation (`validate`) and the development defaults (`dev`) live in the submodules.
//! Secrets are `SecretString`s from the moment they are read.

mod choices;
pub mod dev;
mod load;
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
    pub proxy: ProxySettings,
    pub web: WebSettings,
    pub telemetry: TelemetrySettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub shutdown_timeout_secs: u64,
    pub max_json_bytes: usize,
    /// 0 = one worker per core.
    pub workers: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StoreSettings {
    pub redis_url: SecretString,
    pub key_prefix: String,
    pub connect_timeout_ms: u64,
    pub response_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UpstreamSettings {
    pub base_url: UpstreamTarget,
    pub api_key: SecretString,
    pub api_key_file: String,
    pub secondary_api_key: SecretString,
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// Where the refresh endpoint is (the upstream does not publish one; this is the sandbox's).
    pub refresh_path: String,
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
    pub forward_max_attempts: u32,
    pub forward_first_retry_ms: u64,
    pub forward_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OpsSettings {
    pub tokens: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProxySettings {
    pub max_body_bytes: usize,
    pub idempotency_retention_secs: u64,
    pub idempotency_missing_key: MissingKeyPolicy,
    pub max_retries: u32,
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

    pub fn embedded_upstream(&self) -> bool {
        self.upstream.base_url == UpstreamTarget::Embedded
    }

    /// The contract version pin to send upstream, when one is configured.
    pub fn api_version(&self) -> Option<&str> {
        Some(self.upstream.api_version.trim()).filter(|v| !v.is_empty())
    }

    pub fn uses_memory_store(&self) -> bool {
        is_empty(&self.store.redis_url)
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

    /// The ops bearer tokens.
    pub fn ops_tokens(&self) -> Vec<SecretString> {
        split_list(self.ops.tokens.expose_secret())
            .into_iter()
            .map(SecretString::from)
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
