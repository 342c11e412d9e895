//! Credentials: who is calling (the platform key, another `sk_*`, a borrower session, a refresh
//! token, nobody, or a bad token), token issuing and token families. Tokens are kept only as
//! SHA-256 digests. The simulator is one environment: a key it was not configured with is
//! `AUTH_INVALID_API_KEY`, a token it did not issue `AUTH_INVALID_SESSION`.

use chrono::{Duration, Utc};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::reply::{SbError, SbResult};
use crate::state::{new_id, State, TokenRecord};
use aarthik_contract::envelope::format_timestamp;
use aarthik_contract::{error_code as code, paths, token_prefix};

/// The caller of one request, as classified by the edge middleware. Which class a route accepts
/// is the route's business (`require_*`); the classification never fails.
#[derive(Clone)]
pub enum Caller {
    None,
    /// The configured platform key.
    ApiKey,
    /// Some other `sk_*`: revoked, rotated, or from the other environment.
    ForeignKey,
    Session {
        borrower_id: String,
    },
    /// A refresh token this sandbox issued, whatever its state (the refresh route judges it).
    Refresh {
        borrower_id: String,
        digest: String,
    },
    /// A bearer that is not accepted anywhere (unknown, expired or revoked token, or not Bearer).
    Invalid {
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
            Caller::Refresh { .. } => "refresh",
            Caller::ForeignKey | Caller::Invalid { .. } => "invalid",
        }
    }

    /// Idempotency scope, when this credential is accepted on `path`: the API key on session
    /// bootstrap, the borrower on runtime routes and on refresh (so a retry after session
    /// recovery still replays). A refused credential skips idempotency and gets its 401.
    pub fn scope(&self, path: &str) -> Option<String> {
        let bootstrap = path == paths::SESSIONS;
        let refresh = path == paths::SESSIONS_REFRESH;
        match self {
            Caller::ApiKey if bootstrap => Some("api_key".into()),
            Caller::Session { borrower_id } if !bootstrap && !refresh => {
                Some(format!("borrower:{borrower_id}"))
            }
            Caller::Refresh { borrower_id, .. } if refresh => {
                Some(format!("borrower:{borrower_id}"))
            }
            _ => None,
        }
    }

    /// The platform API key is required here (session bootstrap, webhook subscription).
    pub fn require_key(&self) -> SbResult<()> {
        let message = match self {
            Caller::ApiKey => return Ok(()),
            Caller::None => "missing Authorization: Bearer sk_* platform API key",
            Caller::ForeignKey => {
                "the API key is not valid here (revoked, rotated, or for another environment)"
            }
            _ => "this endpoint needs the platform API key (Bearer sk_*), not a borrower token",
        };
        Err(SbError::new(401, code::AUTH_INVALID_API_KEY, message))
    }

    /// A borrower session token (`st_*`) is required here; returns the borrower.
    pub fn require_borrower(&self) -> SbResult<&str> {
        let message = match self {
            Caller::Session { borrower_id } => return Ok(borrower_id),
            Caller::Invalid { message } => message.as_str(),
            Caller::None => "missing Authorization: Bearer st_* session token",
            Caller::ApiKey | Caller::ForeignKey => {
                "the platform API key is for session bootstrap only; use the session token (st_*)"
            }
            Caller::Refresh { .. } => {
                "a refresh token (rt_*) only works on the refresh route; use the session token"
            }
        };
        Err(SbError::new(401, code::AUTH_INVALID_SESSION, message))
    }

    /// A refresh token (`rt_*`) is required here; returns its digest.
    pub fn require_refresh(&self) -> SbResult<&str> {
        let message = match self {
            Caller::Refresh { digest, .. } => return Ok(digest),
            Caller::Invalid { message } => message.as_str(),
            _ => "the refresh route needs Authorization: Bearer rt_* (the refresh token), no body",
        };
        Err(SbError::new(401, code::AUTH_INVALID_SESSION, message))
    }
}

/// Hex SHA-256 of a token: the map key it is stored under.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn invalid(message: &str) -> Caller {
    Caller::Invalid {
        message: message.into(),
    }
}

/// Classify an `Authorization` header value.
pub fn classify(state: &State, api_key: &SecretString, header: Option<&str>) -> Caller {
    let Some(header) = header else {
        return Caller::None;
    };
    let Some(token) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
    else {
        return invalid("Authorization must be a Bearer credential");
    };
    let key = api_key.expose_secret().as_bytes();
    if !key.is_empty() && bool::from(token.as_bytes().ct_eq(key)) {
        return Caller::ApiKey;
    }
    if token.starts_with(token_prefix::API_KEY) {
        return Caller::ForeignKey;
    }
    let hash = digest(token);
    if let Some(rec) = state.session_tokens.get(&hash) {
        return if state.revoked_families.contains(&rec.family) {
            invalid("the session token was revoked")
        } else if rec.expires_at <= Utc::now() {
            invalid("the session token has expired; refresh or create a new session")
        } else {
            Caller::Session {
                borrower_id: rec.borrower_id.clone(),
            }
        };
    }
    if let Some(rec) = state.refresh_tokens.get(&hash) {
        return Caller::Refresh {
            borrower_id: rec.borrower_id.clone(),
            digest: hash,
        };
    }
    invalid("the bearer credential is not recognised (or is for another environment)")
}

/// A freshly issued token pair, returned to the caller once.
pub struct IssuedTokens {
    pub session_token: String,
    pub refresh_token: String,
    pub session_expires_at: String,
    pub refresh_expires_at: String,
}

/// The prefix and 32 random base62 characters.
fn random_token(prefix: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let body: String = (0..32)
        .map(|_| char::from(BASE62[rng.gen_range(0..BASE62.len())]))
        .collect();
    format!("{prefix}{body}")
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

/// Exchange a refresh token (by digest): rotate, or detect reuse and revoke the whole family.
/// Returns the borrower and the new tokens. Every refusal is 401 `AUTH_INVALID_SESSION`.
pub fn rotate(state: &mut State, key: &str) -> SbResult<(String, IssuedTokens)> {
    let invalid = |m: &str| SbError::new(401, code::AUTH_INVALID_SESSION, m);
    let Some(rec) = state.refresh_tokens.get_mut(key) else {
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
            "the refresh token was rotated away; every token of this session was revoked",
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
