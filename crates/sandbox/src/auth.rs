//! Credentials (CONTRACT §1.3, U2, U7): who is calling (platform key, a borrower session, nobody,
//! or a bad token), token issuing and token families. Tokens are kept only as SHA-256 digests.

use chrono::{Duration, Utc};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::reply::{SbError, SbResult};
use crate::state::{new_id, State, TokenRecord};
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{error_code as code, token_prefix};

/// The caller of one request, as classified by the edge middleware.
#[derive(Clone)]
pub enum Caller {
    None,
    ApiKey,
    Session {
        borrower_id: String,
    },
    /// A bearer that is not accepted: the code to answer with (UNAUTHORIZED / SESSION_EXPIRED).
    Invalid {
        code: &'static str,
        message: String,
    },
}

impl Caller {
    /// The request-log label.
    pub fn label(&self) -> &'static str {
        match self {
            Caller::None => "none",
            Caller::ApiKey => "api_key",
            Caller::Session { .. } => "session",
            Caller::Invalid { .. } => "invalid",
        }
    }

    /// Idempotency scope: one per credential (U6).
    pub fn scope(&self) -> Option<String> {
        match self {
            Caller::ApiKey => Some("api_key".into()),
            Caller::Session { borrower_id } => Some(format!("borrower:{borrower_id}")),
            _ => None,
        }
    }

    /// The platform API key is required here.
    pub fn require_key(&self) -> SbResult<()> {
        match self {
            Caller::ApiKey => Ok(()),
            Caller::None => Err(SbError::unauthorized(
                "missing Authorization: Bearer sk_* platform API key",
            )),
            _ => Err(SbError::unauthorized(
                "this endpoint needs the platform API key (Bearer sk_*)",
            )),
        }
    }

    /// A borrower session token is required here; returns the borrower.
    pub fn require_borrower(&self) -> SbResult<&str> {
        match self {
            Caller::Session { borrower_id } => Ok(borrower_id),
            Caller::Invalid { code, message } => Err(SbError::new(401, code, message.clone())),
            Caller::None => Err(SbError::unauthorized(
                "missing Authorization: Bearer <sessionToken>",
            )),
            Caller::ApiKey => Err(SbError::unauthorized(
                "borrower-scoped endpoints need the borrower session token, not the API key",
            )),
        }
    }
}

/// Hex SHA-256 of a token: the map key it is stored under.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Classify an `Authorization` header value.
pub fn classify(state: &State, api_key: &SecretString, header: Option<&str>) -> Caller {
    let Some(header) = header else {
        return Caller::None;
    };
    let token = match header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
    {
        Some(t) => t.trim(),
        None => {
            return Caller::Invalid {
                code: code::UNAUTHORIZED,
                message: "Authorization must be a Bearer credential".into(),
            }
        }
    };
    let key = api_key.expose_secret().as_bytes();
    if !key.is_empty() && bool::from(token.as_bytes().ct_eq(key)) {
        return Caller::ApiKey;
    }
    match state.session_tokens.get(&digest(token)) {
        Some(rec) if state.revoked_families.contains(&rec.family) => Caller::Invalid {
            code: code::UNAUTHORIZED,
            message: "the session token was revoked".into(),
        },
        Some(rec) if rec.expires_at <= Utc::now() => Caller::Invalid {
            code: code::SESSION_EXPIRED,
            message: "the session token has expired; refresh or create a new session".into(),
        },
        Some(rec) => Caller::Session {
            borrower_id: rec.borrower_id.clone(),
        },
        None => Caller::Invalid {
            code: code::UNAUTHORIZED,
            message: "the bearer credential is not recognised".into(),
        },
    }
}

/// A freshly issued token pair, returned to the caller once.
pub struct IssuedTokens {
    pub session_token: String,
    pub refresh_token: String,
    pub session_expires_at: String,
    pub refresh_expires_at: String,
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// Issue a session + refresh token for `borrower_id` in token family `family`.
pub fn issue(state: &mut State, borrower_id: &str, family: &str) -> IssuedTokens {
    let now = Utc::now();
    let session_exp = now + secs(state.settings.session_ttl_secs);
    let refresh_exp = now + secs(state.settings.refresh_ttl_secs);
    let session_token = random_token(token_prefix::SESSION);
    let refresh_token = random_token(token_prefix::REFRESH);
    state.session_tokens.insert(
        digest(&session_token),
        TokenRecord {
            borrower_id: borrower_id.to_owned(),
            family: family.to_owned(),
            expires_at: session_exp,
            used: false,
        },
    );
    state.refresh_tokens.insert(
        digest(&refresh_token),
        TokenRecord {
            borrower_id: borrower_id.to_owned(),
            family: family.to_owned(),
            expires_at: refresh_exp,
            used: false,
        },
    );
    IssuedTokens {
        session_token,
        refresh_token,
        session_expires_at: format_timestamp(session_exp),
        refresh_expires_at: format_timestamp(refresh_exp),
    }
}

/// A new token family (one per login, i.e. per session create).
pub fn new_family() -> String {
    new_id()
}

fn secs(n: u64) -> Duration {
    Duration::seconds(
        i64::try_from(n)
            .unwrap_or(i64::MAX / 1000)
            .min(100 * 365 * 86_400),
    )
}

/// Exchange a refresh token (U1): rotate, or detect reuse and revoke the whole family.
/// Returns the borrower and the new tokens.
pub fn rotate(state: &mut State, refresh_token: &str) -> SbResult<(String, IssuedTokens)> {
    let invalid = |m: &str| SbError::new(401, code::REFRESH_TOKEN_INVALID, m);
    let key = digest(refresh_token);
    let Some(rec) = state.refresh_tokens.get_mut(&key) else {
        return Err(invalid("the refresh token is not recognised"));
    };
    let family = rec.family.clone();
    let borrower_id = rec.borrower_id.clone();
    if state.revoked_families.contains(&family) {
        return Err(invalid("the refresh token was revoked"));
    }
    if rec.used {
        // Reuse of a rotated token means two holders: treat it as theft (OAuth 2.0 BCP §4.14).
        state.revoked_families.insert(family);
        return Err(invalid(
            "the refresh token was already used; every token of this session was revoked",
        ));
    }
    if rec.expires_at <= Utc::now() {
        return Err(invalid("the refresh token has expired"));
    }
    rec.used = true;
    let tokens = issue(state, &borrower_id, &family);
    Ok((borrower_id, tokens))
}

/// Test control: expire every session token (and refresh token when asked) now.
pub fn expire_all(state: &mut State, refresh: bool) -> (usize, usize) {
    let past = Utc::now() - Duration::seconds(1);
    for rec in state.session_tokens.values_mut() {
        rec.expires_at = past;
    }
    if refresh {
        for rec in state.refresh_tokens.values_mut() {
            rec.expires_at = past;
        }
    }
    (
        state.session_tokens.len(),
        if refresh {
            state.refresh_tokens.len()
        } else {
            0
        },
    )
}
