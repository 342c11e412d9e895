//! Loading: the compiled-in defaults → `config/default.toml` → `config/$BFF_ENV.toml` →
//! `BFF__SECTION__KEY` environment variables → explicit overrides, then `*_file` secrets are read
//! (`secret_files`) and the result validated.

use std::path::PathBuf;

use super::{secret_files, ConfigError, Environment, Settings};

/// The defaults compiled into the binary, so it starts anywhere; `config/default.toml` on disk
/// (when present) is layered on top with the same content.
pub(super) const EMBEDDED_DEFAULTS: &str = include_str!("../../config/default.toml");

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
    let name = options
        .env
        .clone()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "development".to_owned());
    let env = Environment::from_name(&name)
        .ok_or_else(|| ConfigError::new("BFF_ENV", "must be a plain name such as production"))?;
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
    if options.read_env_vars {
        secret_files::refuse_env_conflicts(
            std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()),
        )?;
    }
    let raw = builder.build().map_err(from_config_error)?;
    let mut settings: Settings = raw.clone().try_deserialize().map_err(from_config_error)?;
    settings.env = env;
    secret_files::read_secret_files(&raw, &mut settings)?;
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

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::super::{
        dev, test_options as opts, LogFormat, MissingKeyPolicy, RefreshMode, UpstreamTarget,
    };
    use super::*;

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
        assert_eq!(s.env, Environment::Development);
        assert_eq!(s.proxy.idempotency_missing_key, MissingKeyPolicy::Require);
        assert_eq!(s.telemetry.format, LogFormat::Auto);
        assert_eq!(s.upstream.refresh_mode, RefreshMode::Auto);
        assert_eq!(s.api_version(), None);
    }

    #[test]
    fn a_bad_port_names_the_port_key() {
        let e = load(opts().set("server.port", "notaport")).unwrap_err();
        assert_eq!(e.key, "server.port", "{e}");
        assert!(e.to_string().contains("server.port"));
    }

    #[test]
    fn choices_are_read_by_their_lower_case_names() {
        let s = load(
            opts()
                .set("upstream.base_url", "https://api.example.com")
                .set("proxy.idempotency_missing_key", "generate")
                .set("telemetry.format", "json")
                .set("upstream.refresh_mode", "resume"),
        )
        .unwrap();
        assert_eq!(s.upstream.refresh_mode, RefreshMode::Resume);
        assert_eq!(
            s.upstream.base_url,
            UpstreamTarget::Url("https://api.example.com".into())
        );
        assert_eq!(s.proxy.idempotency_missing_key, MissingKeyPolicy::Generate);
        assert_eq!(s.telemetry.format, LogFormat::Json);
    }

    #[test]
    fn a_value_outside_the_choices_is_one_line_naming_its_key() {
        for (key, value) in [
            ("proxy.idempotency_missing_key", "sometimes"),
            ("telemetry.format", "xml"),
            ("upstream.refresh_mode", "sometimes"),
            ("upstream.base_url", "ftp://x.example"),
            ("upstream.base_url", "not a url"),
        ] {
            let e = load(opts().set(key, value)).unwrap_err();
            assert_eq!(e.key, key, "{e}");
            let line = e.to_string();
            assert!(
                line.starts_with(&format!("invalid configuration: {key}: ")),
                "{line}"
            );
            assert_eq!(line.lines().count(), 1, "{line}");
        }
        let e = load(opts().set("proxy.idempotency_missing_key", "Generate")).unwrap_err();
        assert_eq!(e.problem, "must be \"require\" or \"generate\"");
    }

    #[test]
    fn a_named_environment_is_neither_development_nor_production() {
        let s = load(super::super::production_grade_options("staging")).unwrap();
        assert_eq!(s.env, Environment::Other("staging".into()));
        assert!(!s.is_production());
        let mut o = opts();
        o.env = Some("../x".into());
        assert_eq!(load(o).unwrap_err().key, "BFF_ENV");
    }

    #[test]
    fn the_api_key_file_replaces_the_api_key() {
        let path = std::env::temp_dir().join(format!("bff-key-{}", std::process::id()));
        std::fs::write(&path, "sk_from_file\n").unwrap();
        let s = load(opts().set("upstream.api_key_file", path.to_string_lossy())).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(s.upstream.api_key.expose_secret(), "sk_from_file");
        let e = load(opts().set("upstream.api_key_file", "/nonexistent/key")).unwrap_err();
        assert_eq!(e.key, "upstream.api_key_file");
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
    fn lists_are_split_on_commas() {
        let s = load(opts().set("webhook.secrets", "a, b,,c")).unwrap();
        assert_eq!(s.webhook_secrets().len(), 3);
    }
}
