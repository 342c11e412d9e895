//! Settings: `config/default.toml` → `config/$BFF_ENV.toml` → `BFF__SECTION__KEY` env vars, then
//! validation that names the offending key. Secrets are `SecretString`s from the moment they are read.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The defaults compiled into the binary, so it starts anywhere; `config/default.toml` on disk
/// (when present) is layered on top with the same content.
const EMBEDDED_DEFAULTS: &str = include_str!("../config/default.toml");

/// Development values production refuses.
pub mod dev {
    pub const API_KEY: &str = "sk_test_sandbox_key";
    pub const HS256_SECRET: &str = "dev-only-hs256-secret-not-for-production-0123456789";
    pub const WEBHOOK_SECRET: &str = "whsec_dev_sandbox_secret";
    pub const OPS_TOKEN: &str = "dev-ops-token";
    pub const ENCRYPTION_KEY: &str = "dev1:ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=";
}

/// Where start-up stopped: the key and what is wrong with it. Displayed as one line.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_owned(),
            problem: problem.into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(skip)]
    pub env: String,
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
    pub base_url: String,
    pub api_key: SecretString,
    pub api_key_file: String,
    pub secondary_api_key: SecretString,
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    pub refresh_path: String,
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
    pub idempotency_missing_key: String,
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
    pub format: String,
}

/// How to load: which environment, which folder, whether to read `BFF__*` variables, and explicit
/// overrides (tests use these instead of process-wide environment variables).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub env: Option<String>,
    pub config_dir: Option<PathBuf>,
    pub read_env_vars: bool,
    pub overrides: Vec<(String, String)>,
}

impl LoadOptions {
    /// What the binary uses: `BFF_ENV`, `BFF_CONFIG_DIR`, and `BFF__*` variables.
    pub fn from_process_env() -> Self {
        LoadOptions {
            env: std::env::var("BFF_ENV").ok(),
            config_dir: std::env::var_os("BFF_CONFIG_DIR").map(PathBuf::from),
            read_env_vars: true,
            overrides: Vec::new(),
        }
    }

    /// Add an override such as `("server.port", "0")`.
    pub fn set(mut self, key: &str, value: impl Into<String>) -> Self {
        self.overrides.push((key.to_owned(), value.into()));
        self
    }
}

/// Load and validate.
pub fn load(options: LoadOptions) -> Result<Settings, ConfigError> {
    let env = options
        .env
        .clone()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "development".to_owned());
    if !env
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ConfigError::new(
            "BFF_ENV",
            "must be a plain name such as production",
        ));
    }
    let dir = options
        .config_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("config"));
    let mut builder = config::Config::builder()
        .add_source(config::File::from_str(
            EMBEDDED_DEFAULTS,
            config::FileFormat::Toml,
        ))
        .add_source(config::File::from(dir.join("default.toml")).required(false))
        .add_source(config::File::from(dir.join(format!("{env}.toml"))).required(false));
    if options.read_env_vars {
        builder = builder.add_source(
            config::Environment::with_prefix("BFF")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(false),
        );
    }
    for (key, value) in &options.overrides {
        builder = builder
            .set_override(key.as_str(), value.as_str())
            .map_err(|e| ConfigError::new(key, e.to_string()))?;
    }
    let raw = builder.build().map_err(from_config_error)?;
    let mut settings: Settings = raw.try_deserialize().map_err(from_config_error)?;
    settings.env = env;
    settings.read_key_file()?;
    settings.validate()?;
    Ok(settings)
}

/// The `config` crate names the key inside its message; pull it out so the line starts with it.
fn from_config_error(e: config::ConfigError) -> ConfigError {
    let text = e.to_string();
    // Messages look like `invalid digit found in string for key `server.port``.
    if let Some(pos) = text.rfind("for key `") {
        let rest = &text[pos + "for key `".len()..];
        if let Some(end) = rest.find('`') {
            let problem = text[..pos].trim().trim_end_matches(',').to_owned();
            return ConfigError::new(&rest[..end], problem);
        }
    }
    if let Some(pos) = text.find("missing field `") {
        let rest = &text[pos + "missing field `".len()..];
        if let Some(end) = rest.find('`') {
            return ConfigError::new(&rest[..end], "is missing");
        }
    }
    ConfigError::new("configuration", text)
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
        self.env == "production"
    }

    pub fn embedded_upstream(&self) -> bool {
        self.upstream.base_url == "embedded"
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

    fn read_key_file(&mut self) -> Result<(), ConfigError> {
        let path = self.upstream.api_key_file.trim();
        if path.is_empty() {
            return Ok(());
        }
        let key = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new("upstream.api_key_file", format!("cannot read: {e}")))?;
        self.upstream.api_key = SecretString::from(key.trim().to_owned());
        Ok(())
    }

    /// Every rule start-up enforces. The first failure wins and names its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server.host.trim().is_empty() {
            return Err(ConfigError::new("server.host", "must not be empty"));
        }
        if !is_empty(&self.store.redis_url) {
            let url = self.store.redis_url.expose_secret();
            if !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("unix://"))
            {
                return Err(ConfigError::new(
                    "store.redis_url",
                    "must start with redis://, rediss:// or unix://",
                ));
            }
        }
        if self.store.key_prefix.is_empty() || self.store.key_prefix.len() > 64 {
            return Err(ConfigError::new(
                "store.key_prefix",
                "must be 1-64 characters",
            ));
        }
        if self.embedded_upstream() && !cfg!(feature = "embedded-sandbox") {
            return Err(ConfigError::new(
                "upstream.base_url",
                "\"embedded\" is not available: this binary was built without the embedded sandbox (feature `embedded-sandbox`); set the upstream's URL",
            ));
        }
        if !self.embedded_upstream() {
            let parsed = url::Url::parse(&self.upstream.base_url).map_err(|e| {
                ConfigError::new(
                    "upstream.base_url",
                    format!("not a URL or \"embedded\": {e}"),
                )
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(ConfigError::new(
                    "upstream.base_url",
                    "must be an http(s) origin or \"embedded\"",
                ));
            }
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
        let hs = self.auth.hs256_secret.expose_secret();
        if !hs.is_empty() && hs.len() < 32 {
            return Err(ConfigError::new(
                "auth.hs256_secret",
                "must be at least 32 bytes",
            ));
        }
        if hs.is_empty() && self.auth.jwks_file.trim().is_empty() {
            return Err(ConfigError::new(
                "auth.hs256_secret",
                "no way to verify partner JWTs: set it or auth.jwks_file",
            ));
        }
        if self.session.upstream_calls_per_minute == 0 {
            return Err(ConfigError::new(
                "session.upstream_calls_per_minute",
                "must be positive",
            ));
        }
        if let Err(e) =
            crate::session::cipher::TokenCipher::from_config(&self.session.encryption_keys)
        {
            let msg = e.to_string();
            let problem = msg
                .strip_prefix("session.encryption_keys: ")
                .unwrap_or(&msg);
            return Err(ConfigError::new(
                "session.encryption_keys",
                problem.to_owned(),
            ));
        }
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
        self.validate_forwarding()?;
        if self.proxy.max_body_bytes == 0 {
            return Err(ConfigError::new("proxy.max_body_bytes", "must be positive"));
        }
        if !matches!(
            self.proxy.idempotency_missing_key.as_str(),
            "require" | "generate"
        ) {
            return Err(ConfigError::new(
                "proxy.idempotency_missing_key",
                "must be \"require\" or \"generate\"",
            ));
        }
        if !self.web.cookie_name.starts_with("__Host-") && !self.web.cookie_name.is_empty() {
            // Allowed, but __Host- is what keeps the cookie pinned to this origin.
        }
        if self.web.cookie_name.is_empty()
            || !self
                .web
                .cookie_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        {
            return Err(ConfigError::new("web.cookie_name", "must be a plain token"));
        }
        if !matches!(self.telemetry.format.as_str(), "auto" | "json" | "pretty") {
            return Err(ConfigError::new(
                "telemetry.format",
                "must be auto, json or pretty",
            ));
        }
        if self.is_production() {
            self.refuse_dev_defaults()?;
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
        if self.webhook.forward_timeout_ms == 0 || self.webhook.forward_timeout_ms > 60_000 {
            return Err(ConfigError::new(
                "webhook.forward_timeout_ms",
                "must be 1..=60000",
            ));
        }
        Ok(())
    }

    fn refuse_dev_defaults(&self) -> Result<(), ConfigError> {
        let refuse = |key: &str, what: &str| {
            Err(ConfigError::new(
                key,
                format!("{what} is a development default and BFF_ENV=production refuses it"),
            ))
        };
        if self.embedded_upstream() {
            return refuse("upstream.base_url", "\"embedded\" (the sandbox)");
        }
        if self.uses_memory_store() {
            return refuse("store.redis_url", "an empty value (the in-memory store)");
        }
        if self.upstream.api_key.expose_secret() == dev::API_KEY {
            return refuse("upstream.api_key", "the sandbox key");
        }
        if self.auth.hs256_secret.expose_secret() == dev::HS256_SECRET {
            return refuse("auth.hs256_secret", "the dev secret");
        }
        if split_list(self.webhook.secrets.expose_secret())
            .iter()
            .any(|s| s == dev::WEBHOOK_SECRET)
        {
            return refuse("webhook.secrets", "the dev secret");
        }
        if split_list(self.ops.tokens.expose_secret())
            .iter()
            .any(|s| s == dev::OPS_TOKEN)
        {
            return refuse("ops.tokens", "the dev token");
        }
        if self
            .session
            .encryption_keys
            .expose_secret()
            .contains(dev::ENCRYPTION_KEY)
        {
            return refuse("session.encryption_keys", "the dev key");
        }
        Ok(())
    }

    /// True when any development default is in use (announced loudly at start-up).
    pub fn dev_defaults_in_use(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.embedded_upstream() {
            v.push("embedded sandbox upstream");
        }
        if self.uses_memory_store() {
            v.push("in-memory store (single instance only)");
        }
        if self.auth.hs256_secret.expose_secret() == dev::HS256_SECRET {
            v.push("development JWT secret");
        }
        if split_list(self.webhook.secrets.expose_secret())
            .iter()
            .any(|s| s == dev::WEBHOOK_SECRET)
        {
            v.push("development webhook secret shared with the sandbox");
        }
        if split_list(self.ops.tokens.expose_secret())
            .iter()
            .any(|s| s == dev::OPS_TOKEN)
        {
            v.push("development ops token");
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> LoadOptions {
        LoadOptions {
            config_dir: Some(PathBuf::from("/nonexistent")),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_load_as_a_working_development_setup() {
        let s = load(opts()).unwrap();
        assert_eq!(s.server.port, 8080);
        assert!(s.embedded_upstream());
        assert!(s.uses_memory_store());
        assert_eq!(s.store.key_prefix, "bff:");
        assert_eq!(s.webhook.tolerance_secs, 300);
        assert_eq!(s.upstream.timeout_ms, 10_000);
        assert_eq!(s.session.upstream_calls_per_minute, 30);
    }

    #[test]
    fn a_bad_port_names_the_port_key() {
        let e = load(opts().set("server.port", "notaport")).unwrap_err();
        assert_eq!(e.key, "server.port", "{e}");
        assert!(e.to_string().contains("server.port"));
    }

    #[test]
    fn production_refuses_development_defaults() {
        let mut o = opts();
        o.env = Some("production".into());
        let e = load(o).unwrap_err();
        assert_eq!(e.key, "upstream.base_url");
        assert!(e.problem.contains("production"));
    }

    #[test]
    fn production_accepts_real_values() {
        let mut o = opts()
            .set("upstream.base_url", "https://api.example.com")
            .set("store.redis_url", "redis://127.0.0.1:6379")
            .set("upstream.api_key", "sk_live_abc")
            .set(
                "auth.hs256_secret",
                "a-production-secret-of-enough-length-xx",
            )
            .set("webhook.secrets", "whsec_live")
            .set("ops.tokens", "ops-live")
            .set(
                "session.encryption_keys",
                "k2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            );
        o.env = Some("production".into());
        let s = load(o).unwrap();
        assert!(s.dev_defaults_in_use().is_empty());
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let s = load(opts()).unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains(dev::API_KEY));
        assert!(!dbg.contains(dev::HS256_SECRET));
        assert!(!dbg.contains(dev::WEBHOOK_SECRET));
    }

    #[test]
    fn an_api_key_without_the_sk_prefix_is_refused() {
        let e = load(opts().set("upstream.api_key", "pk_oops")).unwrap_err();
        assert_eq!(e.key, "upstream.api_key");
    }

    #[test]
    fn forwarding_needs_http_urls_and_a_secret() {
        let e = load(opts().set("webhook.forward_urls", "ftp://x.example")).unwrap_err();
        assert_eq!(e.key, "webhook.forward_urls");
        let e = load(opts().set("webhook.forward_urls", "http://127.0.0.1:9/h")).unwrap_err();
        assert_eq!(e.key, "webhook.forward_secret");
        let s = load(
            opts()
                .set(
                    "webhook.forward_urls",
                    "http://a.example/h, https://b.example/h",
                )
                .set("webhook.forward_secret", "whsec_partner"),
        )
        .unwrap();
        assert_eq!(s.webhook_forward_urls().len(), 2);
        assert!(!format!("{s:?}").contains("whsec_partner"));
    }

    #[test]
    fn lists_are_split_on_commas() {
        let s = load(opts().set("webhook.secrets", "a, b,,c")).unwrap();
        assert_eq!(s.webhook_secrets().len(), 3);
    }
}
