//! Development values: the defaults in `config/default.toml` that make the binary run out of the
//! box against the embedded sandbox, which production refuses and development announces.

use secrecy::ExposeSecret;

use super::{split_list, ConfigError, Settings};

/// The sandbox's default API key (the development `upstream.api_key`).
pub const API_KEY: &str = "sk_test_sandbox_key";
pub const HS256_SECRET: &str = "dev-only-hs256-secret-not-for-production-0123456789";
/// The sandbox's webhook signing secret (the standalone sandbox signs with it by default).
pub const WEBHOOK_SECRET: &str = "whsec_dev_sandbox_secret";
pub const OPS_TOKEN: &str = "dev-ops-token";
pub const ENCRYPTION_KEY: &str = "dev1:ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=";

impl Settings {
    /// Outside development, the first development default still in use stops start-up.
    pub(super) fn refuse_dev_defaults(&self) -> Result<(), ConfigError> {
        let env = self.env.as_str();
        let refuse = |key: &str, what: &str| {
            Err(ConfigError::new(
                key,
                format!("{what} is a development default and BFF_ENV={env} refuses it"),
            ))
        };
        if self.embedded_upstream() {
            return refuse("upstream.base_url", "\"embedded\" (the sandbox)");
        }
        if self.uses_memory_store() {
            return refuse("store.redis_url", "an empty value (the in-memory store)");
        }
        if self.upstream.api_key.expose_secret() == API_KEY {
            return refuse("upstream.api_key", "the sandbox key");
        }
        if self.auth.hs256_secret.expose_secret() == HS256_SECRET {
            return refuse("auth.hs256_secret", "the dev secret");
        }
        if split_list(self.webhook.secrets.expose_secret())
            .iter()
            .any(|s| s == WEBHOOK_SECRET)
        {
            return refuse("webhook.secrets", "the dev secret");
        }
        if self
            .ops_tokens()
            .iter()
            .any(|t| t.expose_secret() == OPS_TOKEN)
        {
            return refuse("ops.tokens", "the dev token");
        }
        if self
            .session
            .encryption_keys
            .expose_secret()
            .contains(ENCRYPTION_KEY)
        {
            return refuse("session.encryption_keys", "the dev key");
        }
        Ok(())
    }

    /// The development defaults in use (announced loudly at start-up).
    pub fn dev_defaults_in_use(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.embedded_upstream() {
            v.push("embedded sandbox upstream");
        }
        if self.uses_memory_store() {
            v.push("in-memory store (single instance only)");
        }
        if self.auth.hs256_secret.expose_secret() == HS256_SECRET {
            v.push("development JWT secret");
        }
        if split_list(self.webhook.secrets.expose_secret())
            .iter()
            .any(|s| s == WEBHOOK_SECRET)
        {
            v.push("development webhook secret shared with the sandbox");
        }
        if self
            .ops_tokens()
            .iter()
            .any(|t| t.expose_secret() == OPS_TOKEN)
        {
            v.push("development ops token");
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::super::{load, test_options as opts};

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
            .set("ops.tokens", "ops-live-token-0123456789abcdefghijkl")
            .set("auth.issuer", "https://partner.example")
            .set("auth.audience", "aarthik-bff")
            .set(
                "session.encryption_keys",
                "k2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            );
        o.env = Some("production".into());
        let s = load(o).unwrap();
        assert!(s.dev_defaults_in_use().is_empty());
    }

    #[test]
    fn any_environment_but_development_refuses_development_defaults() {
        for env in ["staging", "test", "Production"] {
            let mut o = opts();
            o.env = Some(env.into());
            let e = load(o).unwrap_err();
            assert_eq!(e.key, "upstream.base_url", "{env}");
            assert!(e.problem.contains(&format!("BFF_ENV={env}")), "{e}");
        }
    }

    #[test]
    fn development_announces_its_defaults() {
        let s = load(opts()).unwrap();
        assert!(s
            .dev_defaults_in_use()
            .contains(&"embedded sandbox upstream"));
    }
}

/// The demo runs the BFF against the sandbox with no configuration: the two must agree on the key
/// and the webhook secret, in these constants and in `config/default.toml`.
#[cfg(all(test, feature = "embedded-sandbox"))]
mod sandbox_agreement {
    use super::super::load::EMBEDDED_DEFAULTS;
    use super::*;

    #[test]
    fn the_dev_key_and_webhook_secret_are_the_sandboxs() {
        assert_eq!(API_KEY, aarthik_sandbox::dev::API_KEY);
        assert_eq!(WEBHOOK_SECRET, aarthik_sandbox::dev::WEBHOOK_SECRET);
        let defaults = config::Config::builder()
            .add_source(config::File::from_str(
                EMBEDDED_DEFAULTS,
                config::FileFormat::Toml,
            ))
            .build()
            .unwrap();
        assert_eq!(defaults.get_string("upstream.api_key").unwrap(), API_KEY);
        assert_eq!(
            defaults.get_string("webhook.secrets").unwrap(),
            WEBHOOK_SECRET
        );
    }
}
