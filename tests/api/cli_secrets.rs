//! Secrets from files, as the binary reads them: `BFF__X__Y_FILE` (trailing newline ignored),
//! `token` signing with a secret from a file, and both forms at once refused naming the key.

use crate::cli::{bin, output_within};

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let d = std::env::temp_dir().join(format!("bff-secrets-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
    fn file(&self, name: &str, content: &str) -> std::path::PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn token_signs_with_the_hs256_secret_from_its_file() {
    let dir = TempDir::new();
    let secret = "a-file-secret-that-is-at-least-32-bytes-long";
    let file = dir.file("hs256", &format!("{secret}\n"));
    let mut c = bin();
    c.env("BFF__AUTH__HS256_SECRET_FILE", &file)
        .args(["token", "--sub", "u-file"]);
    let out = output_within(c, 30);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    let data = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .expect("signed with the file's secret, without its newline");
    assert_eq!(data.claims["sub"], "u-file");
}

#[test]
fn an_empty_secret_file_switches_hs256_off() {
    let dir = TempDir::new();
    let empty = dir.file("hs256", "");
    let jwks = dir.file("jwks.json", r#"{"keys":[]}"#);
    let mut c = bin();
    c.env("BFF__AUTH__HS256_SECRET_FILE", &empty)
        .env("BFF__AUTH__JWKS_FILE", &jwks)
        .args(["token", "--sub", "u1"]);
    let out = output_within(c, 30);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HS256"));
}

#[test]
fn a_secret_and_its_file_both_in_the_environment_stop_start_up_naming_the_key() {
    let dir = TempDir::new();
    let file = dir.file("ops", "ops:token-from-file\n");
    let mut c = bin();
    c.env("BFF__OPS__TOKENS", "ops:token-from-env")
        .env("BFF__OPS__TOKENS_FILE", &file);
    let out = output_within(c, 30);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ops.tokens"), "{err}");
    assert!(err.contains("BFF__OPS__TOKENS_FILE"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        !err.contains("token-from"),
        "no secret in the message: {err}"
    );
}

#[test]
fn a_store_set_up_that_cannot_work_stops_start_up_with_one_line_naming_the_mode() {
    let mut c = bin();
    c.env("BFF__STORE__REDIS_CLUSTER_URLS", "rediss://127.0.0.1:1")
        .env("BFF__STORE__TLS_CA_FILE", "/nonexistent/ca.pem")
        .env("BFF__UPSTREAM__BASE_URL", "http://127.0.0.1:9");
    let out = output_within(c, 30);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("redis cluster: store.tls_ca_file: cannot read"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
