//! Secrets from files: every secret setting `section.key` may instead name a file in
//! `section.key_file` (`BFF__SECTION__KEY_FILE`), as mounted secrets are. The file's content is
//! the value, without its trailing newline; an empty file is an empty value (the feature is off,
//! not the development default). A file wins over a value from the config files; giving a secret
//! and its `_file` both as environment variables is ambiguous and refused.

use std::collections::HashSet;

use secrecy::SecretString;

use super::{ConfigError, Settings};

type Field = fn(&mut Settings) -> &mut SecretString;

/// Every secret setting, and where it lives in [`Settings`].
const SECRET_KEYS: &[(&str, Field)] = &[
    ("upstream.api_key", |s| &mut s.upstream.api_key),
    ("upstream.secondary_api_key", |s| {
        &mut s.upstream.secondary_api_key
    }),
    ("auth.hs256_secret", |s| &mut s.auth.hs256_secret),
    ("auth.pseudonym_pepper", |s| &mut s.auth.pseudonym_pepper),
    ("session.encryption_keys", |s| {
        &mut s.session.encryption_keys
    }),
    ("webhook.secrets", |s| &mut s.webhook.secrets),
    ("webhook.forward_secret", |s| &mut s.webhook.forward_secret),
    ("ops.tokens", |s| &mut s.ops.tokens),
    // Store URLs may carry a password.
    ("store.redis_url", |s| &mut s.store.redis_url),
    ("store.redis_cluster_urls", |s| {
        &mut s.store.redis_cluster_urls
    }),
    ("store.sentinel_urls", |s| &mut s.store.sentinel_urls),
];

/// The environment variable of a dotted key: `auth.hs256_secret` → `BFF__AUTH__HS256_SECRET`.
fn env_name(key: &str) -> String {
    format!("BFF__{}", key.to_ascii_uppercase().replace('.', "__"))
}

/// Refuse a secret given both as `BFF__X__Y` and as `BFF__X__Y_FILE` (names compared without
/// case, as the loader reads them).
pub(super) fn refuse_env_conflicts<I>(names: I) -> Result<(), ConfigError>
where
    I: IntoIterator<Item = String>,
{
    let names: HashSet<String> = names.into_iter().map(|n| n.to_ascii_uppercase()).collect();
    for (key, _) in SECRET_KEYS {
        let env = env_name(key);
        if names.contains(&env) && names.contains(&format!("{env}_FILE")) {
            return Err(ConfigError::new(
                key,
                format!("{env} and {env}_FILE are both set; give only one"),
            ));
        }
    }
    Ok(())
}

/// Replace every secret whose `_file` key names a file with that file's content.
pub(super) fn read_secret_files(
    raw: &config::Config,
    settings: &mut Settings,
) -> Result<(), ConfigError> {
    for (key, field) in SECRET_KEYS {
        let file_key = format!("{key}_file");
        let path = match raw.get_string(&file_key) {
            Ok(p) => p,
            Err(config::ConfigError::NotFound(_)) => continue,
            Err(e) => return Err(ConfigError::new(&file_key, e.to_string())),
        };
        let path = path.trim();
        if path.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(&file_key, format!("cannot read {path}: {e}")))?;
        *field(settings) = SecretString::from(without_trailing_newline(&text).to_owned());
    }
    Ok(())
}

/// `echo value > file` and editors add a newline; it is never part of the secret.
fn without_trailing_newline(text: &str) -> &str {
    text.trim_end_matches(['\n', '\r'])
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::super::{load, test_options as opts};
    use super::*;

    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(content: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("bff-secret-{}", uuid::Uuid::new_v4().simple()));
            std::fs::write(&path, content).unwrap();
            TempFile(path)
        }
        fn path(&self) -> String {
            self.0.to_string_lossy().into_owned()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn every_secret_can_come_from_a_file_without_its_trailing_newline() {
        let values = [
            ("upstream.api_key", "sk_from_file"),
            ("upstream.secondary_api_key", "sk_second_from_file"),
            (
                "auth.hs256_secret",
                "a-file-secret-of-at-least-32-bytes-long",
            ),
            ("auth.pseudonym_pepper", "pepper-from-file"),
            (
                "session.encryption_keys",
                "f1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            ),
            ("webhook.secrets", "whsec_file_1,whsec_file_2"),
            ("webhook.forward_secret", "whsec_forward_file"),
            ("ops.tokens", "alice:ops-token-from-file"),
            ("store.redis_url", "redis://:pw@127.0.0.1:6390"),
        ];
        let files: Vec<TempFile> = values
            .iter()
            .map(|(_, v)| TempFile::new(&format!("{v}\n")))
            .collect();
        let mut o = opts();
        for ((key, _), file) in values.iter().zip(&files) {
            o = o.set(&format!("{key}_file"), file.path());
        }
        let mut s = load(o).unwrap();
        for (key, value) in values {
            let field = SECRET_KEYS.iter().find(|(k, _)| *k == key).unwrap().1;
            assert_eq!(field(&mut s).expose_secret(), value, "{key}");
        }
    }

    #[test]
    fn a_file_overrides_the_config_value_and_an_empty_file_is_an_empty_value() {
        let file = TempFile::new("");
        let s = load(
            opts()
                .set("auth.pseudonym_pepper", "from-config")
                .set("auth.pseudonym_pepper_file", file.path()),
        )
        .unwrap();
        assert_eq!(s.auth.pseudonym_pepper.expose_secret(), "");
        // An empty file switches the dev default off, so HS256 is then off, which needs a JWKS.
        let e = load(opts().set("auth.hs256_secret_file", file.path())).unwrap_err();
        assert_eq!(e.key, "auth.hs256_secret", "{e}");
        let crlf = TempFile::new("sk_windows\r\n");
        let s = load(opts().set("upstream.api_key_file", crlf.path())).unwrap();
        assert_eq!(s.upstream.api_key.expose_secret(), "sk_windows");
    }

    #[test]
    fn an_unreadable_file_names_the_file_key() {
        let e = load(opts().set("ops.tokens_file", "/nonexistent/ops")).unwrap_err();
        assert_eq!(e.key, "ops.tokens_file");
        assert_eq!(e.to_string().lines().count(), 1);
        let e = load(opts().set("upstream.api_key_file", "/nonexistent/key")).unwrap_err();
        assert_eq!(e.key, "upstream.api_key_file");
    }

    #[test]
    fn a_secret_and_its_file_both_in_the_environment_is_an_error_naming_the_key() {
        let e = refuse_env_conflicts(
            [
                "PATH",
                "BFF__AUTH__HS256_SECRET",
                "BFF__AUTH__HS256_SECRET_FILE",
            ]
            .map(String::from),
        )
        .unwrap_err();
        assert_eq!(e.key, "auth.hs256_secret");
        assert!(e.problem.contains("BFF__AUTH__HS256_SECRET_FILE"), "{e}");
        for (key, _) in SECRET_KEYS {
            let env = env_name(key);
            let e = refuse_env_conflicts([env.clone(), format!("{env}_FILE")]).unwrap_err();
            assert_eq!(e.key, *key);
        }
        assert!(refuse_env_conflicts(
            ["BFF__AUTH__HS256_SECRET_FILE", "BFF__OPS__TOKENS"].map(String::from)
        )
        .is_ok());
    }
}
