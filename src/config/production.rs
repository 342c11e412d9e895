//! The rules of production-grade environments (every `BFF_ENV` but `development`): besides the
//! development defaults (see `dev`), what a deployment facing real borrowers must not run with.
//! Each refusal names its key; a webhook secret that is short only warns, since the vendor
//! issues it.

use secrecy::ExposeSecret;

use super::{split_list, ConfigError, Settings, UpstreamTarget};

/// Shortest ops token (the token part of `name:token`) a production-grade environment accepts.
pub const MIN_OPS_TOKEN_LEN: usize = 32;
/// A webhook secret shorter than this is warned about.
pub const MIN_WEBHOOK_SECRET_LEN: usize = 32;

/// The token part of an `ops.tokens` item (`name:token`, or a bare token).
pub fn ops_token_part(item: &str) -> &str {
    item.split_once(':').map_or(item, |(_, token)| token)
}

impl Settings {
    /// Production-grade rules; the first failure wins and names its key.
    pub(super) fn validate_production_grade(&self) -> Result<(), ConfigError> {
        let env = self.env.as_str();
        if let UpstreamTarget::Url(url) = &self.upstream.base_url {
            if !url.to_ascii_lowercase().starts_with("https://") {
                return Err(ConfigError::new(
                    "upstream.base_url",
                    format!("must be an https:// origin with BFF_ENV={env}"),
                ));
            }
        }
        if split_list(self.ops.tokens.expose_secret())
            .iter()
            .any(|item| ops_token_part(item).len() < MIN_OPS_TOKEN_LEN)
        {
            return Err(ConfigError::new(
                "ops.tokens",
                format!(
                    "every token (the part after `name:`) must be at least {MIN_OPS_TOKEN_LEN} characters with BFF_ENV={env}"
                ),
            ));
        }
        if !self.web.cookie_name.starts_with("__Host-") {
            return Err(ConfigError::new(
                "web.cookie_name",
                format!("must start with __Host- with BFF_ENV={env}"),
            ));
        }
        if self.auth.issuer.trim().is_empty() {
            return Err(ConfigError::new(
                "auth.issuer",
                format!("must be set with BFF_ENV={env}"),
            ));
        }
        if self.auth.audience.trim().is_empty() {
            return Err(ConfigError::new(
                "auth.audience",
                format!("must be set with BFF_ENV={env}"),
            ));
        }
        Ok(())
    }

    /// What start-up should warn about without refusing it.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.is_production_grade()
            && self
                .webhook_secrets()
                .iter()
                .any(|s| s.expose_secret().len() < MIN_WEBHOOK_SECRET_LEN)
        {
            out.push(format!(
                "webhook.secrets: a secret shorter than {MIN_WEBHOOK_SECRET_LEN} characters is in use; ask the upstream for a longer one"
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{load, production_grade_options as production_grade, test_options as opts};
    use super::*;

    #[test]
    fn a_complete_production_grade_setup_loads_without_warnings() {
        for env in ["production", "staging"] {
            let s = load(production_grade(env)).unwrap();
            assert!(s.warnings().is_empty(), "{env}");
        }
    }

    #[test]
    fn each_production_rule_names_its_key() {
        for (key, value) in [
            ("upstream.base_url", "http://127.0.0.1:9000"),
            ("upstream.base_url", "http://api.example.com"),
            ("ops.tokens", "short-token"),
            ("ops.tokens", "asha:short"),
            ("web.cookie_name", "bff_session"),
            ("auth.issuer", ""),
            ("auth.audience", ""),
        ] {
            for env in ["production", "staging"] {
                let e = load(production_grade(env).set(key, value)).unwrap_err();
                assert_eq!(e.key, key, "{env} {value}: {e}");
                assert_eq!(e.to_string().lines().count(), 1);
            }
        }
    }

    #[test]
    fn development_keeps_its_freedoms() {
        let s = load(
            opts()
                .set("upstream.base_url", "http://127.0.0.1:9000")
                .set("web.cookie_name", "bff_session"),
        )
        .unwrap();
        assert!(!s.is_production_grade());
        assert!(s.warnings().is_empty());
    }

    #[test]
    fn a_short_webhook_secret_only_warns() {
        let s = load(production_grade("production").set("webhook.secrets", "whsec_short")).unwrap();
        let w = s.warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("webhook.secrets"), "{w:?}");
        assert!(!w[0].contains("whsec_short"), "no secret in a warning");
    }

    #[test]
    fn the_token_part_of_an_ops_item_is_after_the_name() {
        assert_eq!(ops_token_part("asha:tok:en"), "tok:en");
        assert_eq!(ops_token_part("bare"), "bare");
    }
}
