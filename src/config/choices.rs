//! The settings that are a choice among named values: the deployment environment, where the
//! upstream is, how borrower sessions are refreshed, what the proxy does without an
//! `Idempotency-Key`, and the log format. A value
//! outside the choices fails deserialization, so start-up stops with one line naming the key.
//! Values are read by their lower-case names through `TryFrom<String>` rather than a derived
//! enum deserializer: the `config` crate words an unknown variant with the Rust type's name,
//! where these messages list the accepted values.

use std::fmt;

use serde::Deserialize;

/// The deployment environment (`BFF_ENV`): picks `config/<name>.toml` and, for `production`,
/// refuses the development defaults. Names are case-sensitive: only `production` is production.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Environment {
    #[default]
    Development,
    Production,
    /// Any other plain name (`staging`, `ci`, …): its own config file, development rules.
    Other(String),
}

impl Environment {
    /// The environment called `name`; `None` unless it is a plain name (ASCII letters, digits,
    /// `-`, `_`), since it becomes part of a file path.
    pub fn from_name(name: &str) -> Option<Self> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return None;
        }
        Some(match name {
            "development" => Environment::Development,
            "production" => Environment::Production,
            other => Environment::Other(other.to_owned()),
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
            Environment::Other(name) => name,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `upstream.base_url`: `embedded` (the simulator started in-process) or an http(s) origin.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum UpstreamTarget {
    Embedded,
    /// The origin exactly as configured (not normalised, so no trailing `/` is added).
    Url(String),
}

impl UpstreamTarget {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value == "embedded" {
            return Ok(UpstreamTarget::Embedded);
        }
        let parsed =
            url::Url::parse(value).map_err(|e| format!("not a URL or \"embedded\": {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err("must be an http(s) origin or \"embedded\"".into());
        }
        Ok(UpstreamTarget::Url(value.to_owned()))
    }
}

impl TryFrom<String> for UpstreamTarget {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        UpstreamTarget::parse(&value)
    }
}

/// `upstream.refresh_mode`: how an expiring or refused borrower session is renewed. The
/// upstream's refresh endpoint is not part of its published contract, so only `endpoint` depends
/// on it without a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub enum RefreshMode {
    /// Use the refresh endpoint; when it is absent (404/405/501) fall back to create-or-resume
    /// for the life of the process; when it refuses the refresh token, create-or-resume for that
    /// refresh.
    #[default]
    Auto,
    /// Use the refresh endpoint; create-or-resume only when it refuses the refresh token.
    Endpoint,
    /// Never call a refresh endpoint: every renewal is a create-or-resume.
    Resume,
}

impl RefreshMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshMode::Auto => "auto",
            RefreshMode::Endpoint => "endpoint",
            RefreshMode::Resume => "resume",
        }
    }
}

impl fmt::Display for RefreshMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for RefreshMode {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "auto" => Ok(RefreshMode::Auto),
            "endpoint" => Ok(RefreshMode::Endpoint),
            "resume" => Ok(RefreshMode::Resume),
            _ => Err("must be auto, endpoint or resume"),
        }
    }
}

/// `proxy.idempotency_missing_key`: a mutating request without `Idempotency-Key` is refused with
/// 400 (`require`) or gets a fresh key (`generate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum MissingKeyPolicy {
    Require,
    Generate,
}

impl TryFrom<String> for MissingKeyPolicy {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "require" => Ok(MissingKeyPolicy::Require),
            "generate" => Ok(MissingKeyPolicy::Generate),
            _ => Err("must be \"require\" or \"generate\""),
        }
    }
}

/// `telemetry.format`: `json` lines, `pretty` (readable) text, or `auto` (JSON in production,
/// readable otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum LogFormat {
    Auto,
    Json,
    Pretty,
}

impl TryFrom<String> for LogFormat {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "auto" => Ok(LogFormat::Auto),
            "json" => Ok(LogFormat::Json),
            "pretty" => Ok(LogFormat::Pretty),
            _ => Err("must be auto, json or pretty"),
        }
    }
}

impl LogFormat {
    /// Whether log lines are JSON in this environment.
    pub fn is_json(self, production: bool) -> bool {
        match self {
            LogFormat::Json => true,
            LogFormat::Pretty => false,
            LogFormat::Auto => production,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_name_production_is_production() {
        assert_eq!(
            Environment::from_name("production"),
            Some(Environment::Production)
        );
        assert_eq!(
            Environment::from_name("Production"),
            Some(Environment::Other("Production".into()))
        );
        assert_eq!(Environment::from_name("../etc"), None);
        assert_eq!(
            Environment::from_name("staging").unwrap().as_str(),
            "staging"
        );
    }

    #[test]
    fn the_upstream_is_embedded_or_an_http_origin() {
        assert_eq!(
            UpstreamTarget::parse("embedded"),
            Ok(UpstreamTarget::Embedded)
        );
        assert_eq!(
            UpstreamTarget::parse("http://127.0.0.1:9"),
            Ok(UpstreamTarget::Url("http://127.0.0.1:9".into()))
        );
        assert!(UpstreamTarget::parse("ftp://x.example").is_err());
        assert!(UpstreamTarget::parse("nope").is_err());
    }

    #[test]
    fn refresh_modes_are_read_by_their_lower_case_names() {
        for (name, mode) in [
            ("auto", RefreshMode::Auto),
            ("endpoint", RefreshMode::Endpoint),
            ("resume", RefreshMode::Resume),
        ] {
            assert_eq!(RefreshMode::try_from(name.to_owned()), Ok(mode));
            assert_eq!(mode.as_str(), name);
        }
        assert!(RefreshMode::try_from("Auto".to_owned()).is_err());
        assert_eq!(RefreshMode::default(), RefreshMode::Auto);
    }

    #[test]
    fn auto_logs_json_in_production_only() {
        assert!(LogFormat::Auto.is_json(true));
        assert!(!LogFormat::Auto.is_json(false));
        assert!(LogFormat::Json.is_json(false));
        assert!(!LogFormat::Pretty.is_json(true));
    }
}
