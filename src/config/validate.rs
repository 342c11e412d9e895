//! Every rule start-up enforces on the loaded settings. The first failure wins and names its key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::ExposeSecret;

use super::{is_empty, ConfigError, Settings};

impl Settings {
    /// Every rule start-up enforces. The first failure wins and names its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_server_and_store()?;
        self.validate_upstream()?;
        self.validate_auth()?;
        self.validate_session()?;
        self.validate_webhook()?;
        self.validate_forwarding()?;
        self.validate_proxy_and_web()?;
        self.validate_ops()?;
        self.validate_streams()?;
        self.validate_telemetry()?;
        if self.is_production_grade() {
            self.refuse_dev_defaults()?;
            self.validate_production_grade()?;
        }
        Ok(())
    }

    fn validate_server_and_store(&self) -> Result<(), ConfigError> {
        if self.server.host.trim().is_empty() {
            return Err(ConfigError::new("server.host", "must not be empty"));
        }
        if self.store.memory_max_keys == 0 {
            return Err(ConfigError::new(
                "store.memory_max_keys",
                "must be positive",
            ));
        }
        let (main, metrics, ops) = (
            self.server.port,
            self.server.metrics_port,
            self.server.ops_port,
        );
        if metrics != 0 && metrics == main {
            return Err(ConfigError::new(
                "server.metrics_port",
                "must differ from server.port",
            ));
        }
        if ops != 0 && (ops == main || ops == metrics) {
            return Err(ConfigError::new(
                "server.ops_port",
                "must differ from server.port and server.metrics_port",
            ));
        }
        if self.server.shutdown_delay_secs > 600 {
            return Err(ConfigError::new(
                "server.shutdown_delay_secs",
                "must be 0..=600",
            ));
        }
        self.validate_store()
    }

    /// `upstream.base_url` is already `embedded` or an http(s) origin (see `UpstreamTarget`).
    fn validate_upstream(&self) -> Result<(), ConfigError> {
        if self.embedded_upstream() && !cfg!(feature = "embedded-sandbox") {
            return Err(ConfigError::new(
                "upstream.base_url",
                "\"embedded\" is not available: this binary was built without the embedded sandbox (feature `embedded-sandbox`); set the upstream's URL",
            ));
        }
        if is_empty(&self.upstream.api_key) {
            return Err(ConfigError::new("upstream.api_key", "must be set"));
        }
        if !self.upstream.api_key.expose_secret().starts_with("sk_") {
            return Err(ConfigError::new("upstream.api_key", "must start with sk_"));
        }
        if !is_empty(&self.upstream.secondary_api_key)
            && !self
                .upstream
                .secondary_api_key
                .expose_secret()
                .starts_with("sk_")
        {
            return Err(ConfigError::new(
                "upstream.secondary_api_key",
                "must start with sk_",
            ));
        }
        if self.upstream.timeout_ms == 0 || self.upstream.timeout_ms > 300_000 {
            return Err(ConfigError::new(
                "upstream.timeout_ms",
                "must be 1..=300000",
            ));
        }
        if self.upstream.max_response_bytes == 0 {
            return Err(ConfigError::new(
                "upstream.max_response_bytes",
                "must be positive",
            ));
        }
        if self.upstream.connect_timeout_ms == 0 {
            return Err(ConfigError::new(
                "upstream.connect_timeout_ms",
                "must be positive",
            ));
        }
        if !self.upstream.refresh_path.starts_with('/') {
            return Err(ConfigError::new(
                "upstream.refresh_path",
                "must start with /",
            ));
        }
        if let Some(v) = self.api_version() {
            if !aarthik_contract::headers::is_api_version(v) {
                return Err(ConfigError::new(
                    "upstream.api_version",
                    "must be a date YYYY-MM-DD (e.g. 2026-03-05), or empty to send none",
                ));
            }
        }
        Ok(())
    }

    fn validate_auth(&self) -> Result<(), ConfigError> {
        let algs = self.jwt_algorithms();
        if algs.is_empty() {
            return Err(ConfigError::new(
                "auth.algorithms",
                "must name at least one algorithm",
            ));
        }
        for a in &algs {
            if !matches!(a.as_str(), "HS256" | "RS256" | "ES256") {
                return Err(ConfigError::new(
                    "auth.algorithms",
                    format!("{a} is not allowed (HS256, RS256, ES256)"),
                ));
            }
        }
        if self.auth.max_token_lifetime_secs == 0 {
            return Err(ConfigError::new(
                "auth.max_token_lifetime_secs",
                "must be positive",
            ));
        }
        let hs = self.auth.hs256_secret.expose_secret();
        if !hs.is_empty() && hs.len() < 32 {
            return Err(ConfigError::new(
                "auth.hs256_secret",
                "must be at least 32 bytes",
            ));
        }
        if self.auth.max_token_lifetime_secs == 0 {
            return Err(ConfigError::new(
                "auth.max_token_lifetime_secs",
                "must be positive",
            ));
        }
        if hs.is_empty() && self.auth.jwks_file.trim().is_empty() {
            return Err(ConfigError::new(
                "auth.hs256_secret",
                "no way to verify partner JWTs: set it or auth.jwks_file",
            ));
        }
        Ok(())
    }

    fn validate_session(&self) -> Result<(), ConfigError> {
        if self.session.upstream_calls_per_minute == 0 {
            return Err(ConfigError::new(
                "session.upstream_calls_per_minute",
                "must be positive",
            ));
        }
        check_encryption_keys(self.session.encryption_keys.expose_secret())
            .map_err(|problem| ConfigError::new("session.encryption_keys", problem))?;
        if self.session.wait_timeout_ms < 100 {
            return Err(ConfigError::new(
                "session.wait_timeout_ms",
                "must be at least 100",
            ));
        }
        if self.session.lock_lease_ms < 100 {
            return Err(ConfigError::new(
                "session.lock_lease_ms",
                "must be at least 100",
            ));
        }
        Ok(())
    }

    fn validate_webhook(&self) -> Result<(), ConfigError> {
        if self.webhook_secrets().is_empty() && self.embedded_upstream() {
            return Err(ConfigError::new(
                "webhook.secrets",
                "the embedded sandbox needs a webhook secret",
            ));
        }
        if self.webhook.tolerance_secs == 0 {
            return Err(ConfigError::new(
                "webhook.tolerance_secs",
                "must be positive",
            ));
        }
        if self.webhook.dedupe_ttl_secs < 72 * 3600 {
            return Err(ConfigError::new(
                "webhook.dedupe_ttl_secs",
                "must be at least 259200 (72 h)",
            ));
        }
        Ok(())
    }

    fn validate_forwarding(&self) -> Result<(), ConfigError> {
        if self.webhook.feed_max_len == 0 {
            return Err(ConfigError::new("webhook.feed_max_len", "must be positive"));
        }
        if self.webhook.feed_max_age_secs == 0 {
            return Err(ConfigError::new(
                "webhook.feed_max_age_secs",
                "must be positive",
            ));
        }
        let urls = self.webhook_forward_urls();
        for u in &urls {
            let ok = url::Url::parse(u)
                .map(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some())
                .unwrap_or(false);
            if !ok {
                return Err(ConfigError::new(
                    "webhook.forward_urls",
                    "every item must be an http(s) URL",
                ));
            }
        }
        if !urls.is_empty() && is_empty(&self.webhook.forward_secret) {
            return Err(ConfigError::new(
                "webhook.forward_secret",
                "must be set when webhook.forward_urls is",
            ));
        }
        if !(1..=20).contains(&self.webhook.forward_max_attempts) {
            return Err(ConfigError::new(
                "webhook.forward_max_attempts",
                "must be 1..=20",
            ));
        }
        if self.webhook.forward_first_retry_ms == 0 || self.webhook.forward_first_retry_ms > 60_000
        {
            return Err(ConfigError::new(
                "webhook.forward_first_retry_ms",
                "must be 1..=60000",
            ));
        }
        if !(1..=MAX_FORWARD_AGE_SECS).contains(&self.webhook.forward_max_age_secs) {
            return Err(ConfigError::new(
                "webhook.forward_max_age_secs",
                "must be 1..=2592000 (30 days)",
            ));
        }
        if self.webhook.forward_timeout_ms == 0 || self.webhook.forward_timeout_ms > 60_000 {
            return Err(ConfigError::new(
                "webhook.forward_timeout_ms",
                "must be 1..=60000",
            ));
        }
        Ok(())
    }

    /// `telemetry.otlp_endpoint`: empty, or an http(s) URL without credentials, query or fragment.
    fn validate_telemetry(&self) -> Result<(), ConfigError> {
        let endpoint = self.telemetry.otlp_endpoint.trim();
        if endpoint.is_empty() {
            return Ok(());
        }
        let ok = url::Url::parse(endpoint).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none()
                && u.fragment().is_none()
        });
        if !ok {
            return Err(ConfigError::new(
                "telemetry.otlp_endpoint",
                "must be empty (no trace export) or the http(s) URL of an OTLP/HTTP collector, e.g. http://otel-collector:4318",
            ));
        }
        Ok(())
    }

    /// The live-update and ops stream limits.
    fn validate_streams(&self) -> Result<(), ConfigError> {
        let bounded: [(&str, u64, u64); 5] = [
            ("ops.max_streams", self.ops.max_streams as u64, 100_000),
            ("ops.stream_max_secs", self.ops.stream_max_secs, 86_400),
            (
                "events.max_streams_per_user",
                self.events.max_streams_per_user as u64,
                1_000,
            ),
            (
                "events.updates_max_len",
                self.events.updates_max_len as u64,
                1_000_000,
            ),
            (
                "events.updates_max_age_secs",
                self.events.updates_max_age_secs,
                90 * 86_400,
            ),
        ];
        for (key, value, max) in bounded {
            if !(1..=max).contains(&value) {
                return Err(ConfigError::new(key, format!("must be 1..={max}")));
            }
        }
        Ok(())
    }

    /// `proxy.idempotency_missing_key` and `telemetry.format` are enums: serde already refused
    /// anything else.
    fn validate_proxy_and_web(&self) -> Result<(), ConfigError> {
        if self.proxy.max_body_bytes == 0 {
            return Err(ConfigError::new("proxy.max_body_bytes", "must be positive"));
        }
        if self.proxy.mutations_per_minute == 0 {
            return Err(ConfigError::new(
                "proxy.mutations_per_minute",
                "must be positive",
            ));
        }
        // A name without the __Host- prefix is allowed in development only (production-grade
        // environments refuse it): that prefix is what keeps the cookie pinned to this origin.
        if self.web.cookie_name.is_empty()
            || !self
                .web
                .cookie_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        {
            return Err(ConfigError::new("web.cookie_name", "must be a plain token"));
        }
        Ok(())
    }
}

impl Settings {
    /// `ops.tokens` items are `token` or `name:token`; a name is what the audit log shows.
    fn validate_ops(&self) -> Result<(), ConfigError> {
        for (name, token) in self.ops_operators() {
            let name_ok = (1..=64).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
            if !name_ok {
                return Err(ConfigError::new(
                    "ops.tokens",
                    "an operator name (before ':') must be 1-64 characters of A-Z a-z 0-9 . _ @ -",
                ));
            }
            if token.expose_secret().is_empty() {
                return Err(ConfigError::new(
                    "ops.tokens",
                    format!("the item named {name} has no token after ':'"),
                ));
            }
        }
        Ok(())
    }
}

/// The shape of `session.encryption_keys`: `id:base64key` items, comma-separated, each key 32
/// bytes (AES-256), ids 1-32 characters without `.` (the sealed form is `<id>.<…>`). Checked
/// here so a bad value stops start-up with the other configuration errors; the session
/// capability builds the cipher from the same value.
fn check_encryption_keys(spec: &str) -> Result<(), String> {
    let mut count = 0;
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (id, b64) = item
            .split_once(':')
            .ok_or_else(|| "each item is id:base64key".to_owned())?;
        if id.is_empty() || id.contains('.') || id.len() > 32 {
            return Err("key ids are 1-32 characters without '.'".into());
        }
        let raw = STANDARD
            .decode(b64.trim())
            .map_err(|_| format!("key {id} is not base64"))?;
        if raw.len() != 32 {
            return Err(format!("key {id} must be 32 bytes"));
        }
        count += 1;
    }
    if count == 0 {
        return Err("at least one key is required".into());
    }
    Ok(())
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

/// The longest `webhook.forward_max_age_secs`: 30 days.
const MAX_FORWARD_AGE_SECS: u64 = 30 * 86_400;
