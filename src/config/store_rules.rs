//! The store settings' rules: at most one Redis mode, URLs of the right scheme, TLS files only
//! with a `rediss://` URL and the client certificate with its key.

use secrecy::ExposeSecret;

use super::{split_list, ConfigError, Settings};

impl Settings {
    /// At most one Redis mode; URLs of the right scheme; TLS files only with a `rediss://` URL.
    pub(super) fn validate_store(&self) -> Result<(), ConfigError> {
        let store = &self.store;
        let single = store.redis_url.expose_secret().trim();
        let cluster = split_list(store.redis_cluster_urls.expose_secret());
        let sentinels = split_list(store.sentinel_urls.expose_secret());
        let modes = [
            ("store.redis_url", !single.is_empty()),
            ("store.redis_cluster_urls", !cluster.is_empty()),
            ("store.sentinel_urls", !sentinels.is_empty()),
        ];
        // The second mode given is the one named.
        if let Some((second, _)) = modes.iter().filter(|(_, set)| *set).nth(1) {
            return Err(ConfigError::new(
                second,
                "only one Redis mode may be set (store.redis_url, store.redis_cluster_urls or store.sentinel_urls)",
            ));
        }
        let single_ok = ["redis://", "rediss://", "unix://"]
            .iter()
            .any(|scheme| single.starts_with(scheme));
        if !single.is_empty() && !single_ok {
            return Err(ConfigError::new(
                "store.redis_url",
                "must start with redis://, rediss:// or unix://",
            ));
        }
        for (key, urls) in [
            ("store.redis_cluster_urls", &cluster),
            ("store.sentinel_urls", &sentinels),
        ] {
            if urls
                .iter()
                .any(|u| !(u.starts_with("redis://") || u.starts_with("rediss://")))
            {
                return Err(ConfigError::new(
                    key,
                    "every item must start with redis:// or rediss://",
                ));
            }
        }
        let master = store.sentinel_master.trim();
        if !sentinels.is_empty() && master.is_empty() {
            return Err(ConfigError::new(
                "store.sentinel_master",
                "must name the master when store.sentinel_urls is set",
            ));
        }
        if sentinels.is_empty() && !master.is_empty() {
            return Err(ConfigError::new(
                "store.sentinel_urls",
                "must be set when store.sentinel_master is",
            ));
        }
        let tls = single.starts_with("rediss://")
            || cluster
                .iter()
                .chain(&sentinels)
                .any(|u| u.starts_with("rediss://"));
        let (cert, key) = (
            store.tls_client_cert_file.trim(),
            store.tls_client_key_file.trim(),
        );
        if cert.is_empty() != key.is_empty() {
            let missing = if cert.is_empty() {
                "store.tls_client_cert_file"
            } else {
                "store.tls_client_key_file"
            };
            return Err(ConfigError::new(
                missing,
                "the client certificate and key go together",
            ));
        }
        for (k, v) in [
            ("store.tls_ca_file", store.tls_ca_file.trim()),
            ("store.tls_client_cert_file", cert),
        ] {
            if !v.is_empty() && !tls {
                return Err(ConfigError::new(
                    k,
                    "is set but no store URL uses rediss://",
                ));
            }
        }
        if self.store.key_prefix.is_empty() || self.store.key_prefix.len() > 64 {
            return Err(ConfigError::new(
                "store.key_prefix",
                "must be 1-64 characters",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{load, test_options as opts};

    #[test]
    fn redis_modes_are_exclusive_and_named_in_the_error() {
        let e = load(
            opts()
                .set("store.redis_url", "redis://127.0.0.1:6379")
                .set("store.redis_cluster_urls", "redis://127.0.0.1:7000"),
        )
        .unwrap_err();
        assert_eq!(e.key, "store.redis_cluster_urls", "{e}");
        let e = load(
            opts()
                .set("store.redis_cluster_urls", "redis://127.0.0.1:7000")
                .set("store.sentinel_urls", "redis://127.0.0.1:26379")
                .set("store.sentinel_master", "m"),
        )
        .unwrap_err();
        assert_eq!(e.key, "store.sentinel_urls", "{e}");
        let e = load(opts().set("store.sentinel_urls", "redis://127.0.0.1:26379")).unwrap_err();
        assert_eq!(e.key, "store.sentinel_master");
        let e = load(opts().set("store.sentinel_master", "m")).unwrap_err();
        assert_eq!(e.key, "store.sentinel_urls");
        let e = load(opts().set("store.redis_cluster_urls", "http://x:1")).unwrap_err();
        assert_eq!(e.key, "store.redis_cluster_urls");
        let s = load(
            opts()
                .set("store.redis_cluster_urls", "redis://a:7000, redis://b:7001")
                .set("store.key_prefix", "p:"),
        )
        .unwrap();
        assert!(!s.uses_memory_store());
    }

    #[test]
    fn tls_files_need_a_rediss_url_and_come_as_a_pair() {
        let e = load(
            opts()
                .set("store.redis_url", "redis://127.0.0.1:6379")
                .set("store.tls_ca_file", "/ca.pem"),
        )
        .unwrap_err();
        assert_eq!(e.key, "store.tls_ca_file");
        let e = load(
            opts()
                .set("store.redis_url", "rediss://127.0.0.1:6379")
                .set("store.tls_client_cert_file", "/c.pem"),
        )
        .unwrap_err();
        assert_eq!(e.key, "store.tls_client_key_file");
        assert!(load(
            opts()
                .set("store.sentinel_urls", "rediss://127.0.0.1:26379")
                .set("store.sentinel_master", "m")
                .set("store.tls_ca_file", "/ca.pem")
        )
        .is_ok());
    }
}
