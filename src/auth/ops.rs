//! Ops bearer tokens (`ops.tokens`): an extractor that admits a request only with
//! `Authorization: Bearer <one of the tokens>`, and names the operator it belongs to (an item
//! `name:token`; a bare token is named `ops`). Both sides are hashed with SHA-256 before a
//! constant-time compare, so neither the content nor the length of a token leaks through timing,
//! and every configured token is compared (no early exit; the matching name is picked with a
//! constant-time select). The digests are app data of their own ([`OpsTokens`], registered at
//! start-up).
//!
//! A request without `Authorization` may instead carry the ops console's session cookie (see
//! [`OpsSessions`]) with `X-CSRF: 1`; [`OpsStreamCaller`] (the read-only event stream, which a
//! browser's `EventSource` opens without custom headers) accepts the cookie alone.

use std::future::{ready, Future};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::OpsSessions;
use crate::error::ApiError;

/// SHA-256 digests of the configured ops tokens with their operator names, computed once at
/// start-up.
pub struct OpsTokens {
    operators: Vec<(String, [u8; 32])>,
}

impl OpsTokens {
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        OpsTokens {
            operators: settings
                .ops_operators()
                .into_iter()
                .map(|(name, t)| (name, Sha256::digest(t.expose_secret().as_bytes()).into()))
                .collect(),
        }
    }

    /// The operator whose token this is. Constant time in the token and against every configured
    /// token (no early exit).
    pub fn identify(&self, presented: &str) -> Option<&str> {
        let presented = Sha256::digest(presented.as_bytes());
        let mut matched = Choice::from(0u8);
        let mut index = 0u64;
        for (i, (_, expected)) in self.operators.iter().enumerate() {
            let eq = expected[..].ct_eq(&presented[..]);
            index = u64::conditional_select(&index, &(i as u64), eq);
            matched |= eq;
        }
        let matched: bool = matched.into();
        matched
            .then(|| self.operators.get(index as usize))
            .flatten()
            .map(|(name, _)| name.as_str())
    }

    /// Constant time in the token and against every configured token (no early exit).
    pub fn admits(&self, presented: &str) -> bool {
        self.identify(presented).is_some()
    }
}

/// Proof that the caller presented a valid ops token, and whose it is.
#[derive(Debug, Clone)]
pub struct OpsCaller {
    /// The operator's name from `ops.tokens` (`ops` for a bare token): what the audit log records.
    pub operator: String,
}

impl FromRequest for OpsCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        bearer_or_cookie(req, true)
    }
}

/// An ops caller of a read-only endpoint that browsers open with `EventSource`: the console's
/// cookie suffices without `X-CSRF` (that API cannot send headers; the cookie is SameSite=Strict,
/// and the answer is a stream a cross-site page cannot read).
#[derive(Debug, Clone)]
pub struct OpsStreamCaller(pub OpsCaller);

impl FromRequest for OpsStreamCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = bearer_or_cookie(req, false);
        Box::pin(async move { caller.await.map(OpsStreamCaller) })
    }
}

/// A bearer token when `Authorization` is present; else the console cookie (with `X-CSRF: 1`
/// when `csrf`).
fn bearer_or_cookie(
    req: &HttpRequest,
    csrf: bool,
) -> Pin<Box<dyn Future<Output = Result<OpsCaller, ApiError>>>> {
    let has_authorization = req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION);
    let cookie = req
        .app_data::<web::Data<OpsSessions>>()
        .and_then(|s| Some((s.cookie_value(req)?, s.clone())));
    let (Some((id, sessions)), false) = (cookie, has_authorization) else {
        return Box::pin(ready(check(req)));
    };
    let csrf_ok = !csrf || super::has_csrf_header(req);
    Box::pin(async move {
        if !csrf_ok {
            return Err(super::csrf_missing());
        }
        match sessions.resolve(&id).await? {
            Some(operator) => Ok(OpsCaller { operator }),
            None => Err(ApiError::Unauthenticated(
                "The ops session has ended; sign in again.".into(),
            )),
        }
    })
}

fn check(req: &HttpRequest) -> Result<OpsCaller, ApiError> {
    let refuse = || ApiError::Unauthenticated("A valid ops bearer token is required.".into());
    let tokens = req
        .app_data::<web::Data<OpsTokens>>()
        .ok_or_else(|| ApiError::Internal("ops tokens not registered".into()))?;
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(refuse)?;
    match tokens.identify(presented) {
        Some(operator) => Ok(OpsCaller {
            operator: operator.to_owned(),
        }),
        None => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_operator_and_a_bare_token_is_ops() {
        let settings = crate::config::load(
            crate::config::LoadOptions {
                config_dir: Some(std::path::PathBuf::from("/nonexistent")),
                read_env_vars: false,
                ..Default::default()
            }
            .set("ops.tokens", "alice:token-a,token-b,bob:token-c"),
        )
        .unwrap();
        let tokens = OpsTokens::from_settings(&settings);
        assert_eq!(tokens.identify("token-a"), Some("alice"));
        assert_eq!(tokens.identify("token-b"), Some("ops"));
        assert_eq!(tokens.identify("token-c"), Some("bob"));
        for wrong in ["alice:token-a", "token-", "", "alice"] {
            assert_eq!(tokens.identify(wrong), None, "{wrong}");
            assert!(!tokens.admits(wrong));
        }
    }
}
