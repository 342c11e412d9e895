//! Partner JWT verification at the edge: HS256, JWKS (RS256/ES256), and the usual attacks.

use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{
    base_options, dev, eventually, mint_jwt, spawn_app_with, LoadOptions, TestApp,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: Value) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    encode(&h, &claims, key).unwrap()
}

fn hs(secret: &str, claims: Value) -> String {
    sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(secret.as_bytes()),
        claims,
    )
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture("test-rs256.pem")).unwrap()).unwrap()
}

fn ec_key() -> EncodingKey {
    EncodingKey::from_ec_pem(&std::fs::read(fixture("test-es256.pem")).unwrap()).unwrap()
}

/// GET /v1/session is 401 for a bad token and 401-with-"No borrower session" for a good one.
async fn accepted(app: &TestApp, token: &str) -> bool {
    let r = app
        .client
        .get(app.url("/v1/session"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "UNAUTHENTICATED");
    v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("No borrower session")
}

fn offline() -> LoadOptions {
    base_options().set("upstream.base_url", "http://127.0.0.1:9")
}

#[tokio::test]
async fn hs256_tokens_are_verified_and_attacks_are_401() {
    let app = spawn_app_with(offline().set("auth.audience", "bff-tests")).await;
    let secret = dev::HS256_SECRET;
    let good = json!({"sub": "u1", "exp": now() + 60, "aud": "bff-tests"});
    assert!(accepted(&app, &hs(secret, good.clone())).await);

    let wrong_key = hs("another-secret-that-is-long-enough-000000", good.clone());
    assert!(!accepted(&app, &wrong_key).await, "wrong key");
    let expired = hs(
        secret,
        json!({"sub": "u1", "exp": now() - 3600, "aud": "bff-tests"}),
    );
    assert!(!accepted(&app, &expired).await, "expired");
    let no_exp = hs(secret, json!({"sub": "u1", "aud": "bff-tests"}));
    assert!(!accepted(&app, &no_exp).await, "exp is required");
    let wrong_aud = hs(
        secret,
        json!({"sub": "u1", "exp": now() + 60, "aud": "other"}),
    );
    assert!(!accepted(&app, &wrong_aud).await, "wrong audience");
    let no_sub = hs(secret, json!({"exp": now() + 60, "aud": "bff-tests"}));
    assert!(!accepted(&app, &no_sub).await, "sub is required");

    // alg: none — an unsigned token with the signature stripped.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(good.to_string());
    assert!(
        !accepted(&app, &format!("{header}.{payload}.")).await,
        "alg none"
    );
    // Tampered payload under a valid signature.
    let valid = hs(secret, good);
    let mut parts: Vec<&str> = valid.split('.').collect();
    let evil = URL_SAFE_NO_PAD
        .encode(json!({"sub": "admin", "exp": now() + 60, "aud": "bff-tests"}).to_string());
    parts[1] = &evil;
    assert!(!accepted(&app, &parts.join(".")).await, "tampered");
    assert!(!accepted(&app, "not-a-jwt").await);
    let r = app.client.get(app.url("/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), 401, "no token at all");
}

#[tokio::test]
async fn jwks_keys_verify_rs256_and_es256_and_hs256_is_refused_when_only_jwks_is_configured() {
    let app = spawn_app_with(offline().set("auth.hs256_secret", "").set(
        "auth.jwks_file",
        fixture("test-jwks.json").to_string_lossy(),
    ))
    .await;
    let claims = json!({"sub": "u-jwks", "exp": now() + 60});
    assert!(
        accepted(
            &app,
            &sign(Algorithm::RS256, Some("rsa-1"), &rsa_key(), claims.clone())
        )
        .await
    );
    assert!(
        accepted(
            &app,
            &sign(Algorithm::ES256, Some("ec-1"), &ec_key(), claims.clone())
        )
        .await
    );
    assert!(
        !accepted(
            &app,
            &sign(
                Algorithm::RS256,
                Some("unknown"),
                &rsa_key(),
                claims.clone()
            )
        )
        .await,
        "unknown kid"
    );
    assert!(
        !accepted(
            &app,
            &sign(Algorithm::RS256, Some("ec-1"), &rsa_key(), claims.clone())
        )
        .await,
        "key of another algorithm"
    );
    assert!(
        !accepted(&app, &hs(dev::HS256_SECRET, claims.clone())).await,
        "HS256 refused when no secret is configured"
    );
    // HS/RS confusion: an HS256 token whose "secret" is the published RSA public key material.
    let jwks = std::fs::read(fixture("test-jwks.json")).unwrap();
    let confused = sign(
        Algorithm::HS256,
        Some("rsa-1"),
        &EncodingKey::from_secret(&jwks),
        claims,
    );
    assert!(!accepted(&app, &confused).await, "HS/RS confusion");
}

#[tokio::test]
async fn a_changed_jwks_file_is_picked_up_without_restart() {
    let dir = std::env::temp_dir().join(format!("bff-jwks-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jwks.json");
    std::fs::write(&path, r#"{"keys":[]}"#).unwrap();
    let app = spawn_app_with(
        offline()
            .set("auth.hs256_secret", "")
            .set("auth.jwks_file", path.to_string_lossy()),
    )
    .await;
    let token = sign(
        Algorithm::RS256,
        Some("rsa-1"),
        &rsa_key(),
        json!({"sub": "u-rot", "exp": now() + 60}),
    );
    assert!(!accepted(&app, &token).await, "no keys yet");
    std::fs::copy(fixture("test-jwks.json"), &path).unwrap();
    let picked_up = eventually(5, || async { accepted(&app, &token).await }).await;
    assert!(picked_up, "the new key is used without a restart");
}

#[tokio::test]
async fn a_web_session_cookie_cannot_obtain_session_tokens() {
    let app = spawn_app_with(offline()).await;
    let token = mint_jwt(&app.settings, "web-user", 60);
    let r = app
        .client
        .post(app.url("/v1/web/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let r = app
        .client
        .post(app.url("/v1/session"))
        .header("cookie", &pair)
        .header("x-csrf", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "tokens are never handed to a browser");
}
