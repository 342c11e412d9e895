//! `aarthik-bff token`: a partner JWT signed with the configured HS256 secret, for development.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::Settings;

#[derive(Debug, Serialize)]
struct Claims<'a> {
    sub: &'a str,
    iat: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("no HS256 secret is configured (auth.hs256_secret); cannot mint a token")]
    NoSecret,
    #[error("HS256 is not in auth.algorithms")]
    NotAllowed,
    #[error("--sub must be 1-256 printable characters")]
    BadSubject,
    /// The server refuses tokens living longer than `auth.max_token_lifetime_secs`.
    #[error("--ttl must be between 1 and {max} seconds (auth.max_token_lifetime_secs)")]
    BadTtl { max: u64 },
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Mint a partner JWT for `sub`, valid for `ttl_secs`.
pub fn mint(settings: &Settings, sub: &str, ttl_secs: u64) -> Result<String, MintError> {
    let secret = settings.auth.hs256_secret.expose_secret();
    if secret.is_empty() {
        return Err(MintError::NoSecret);
    }
    if !settings.jwt_algorithms().iter().any(|a| a == "HS256") {
        return Err(MintError::NotAllowed);
    }
    if sub.is_empty() || sub.len() > 256 || sub.chars().any(|c| c.is_control()) {
        return Err(MintError::BadSubject);
    }
    let max = settings.auth.max_token_lifetime_secs;
    if ttl_secs == 0 || ttl_secs > max {
        return Err(MintError::BadTtl { max });
    }
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub,
        iat: now,
        exp: now + ttl_secs as i64,
        iss: Some(settings.auth.issuer.as_str()).filter(|s| !s.is_empty()),
        aud: Some(settings.auth.audience.as_str()).filter(|s| !s.is_empty()),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| MintError::Sign(e.to_string()))
}
