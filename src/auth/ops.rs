//! Ops bearer tokens (`ops.tokens`): an extractor that admits a request only with
//! `Authorization: Bearer <one of the tokens>`. Both sides are hashed with SHA-256 before a
//! constant-time compare, so neither the content nor the length of a token leaks through timing,
//! and every configured token is compared (no early exit). The digests are app data of their own
//! ([`OpsTokens`], registered at start-up).
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
use subtle::{Choice, ConstantTimeEq};

use super::OpsSessions;
use crate::error::ApiError;

/// SHA-256 digests of the configured ops tokens, computed once at start-up.
pub struct OpsTokens {
    digests: Vec<[u8; 32]>,
}

impl OpsTokens {
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        OpsTokens {
            digests: settings
                .ops_tokens()
                .iter()
                .map(|t| Sha256::digest(t.expose_secret().as_bytes()).into())
                .collect(),
        }
    }

    /// Constant time in the token and against every configured token (no early exit).
    pub fn admits(&self, presented: &str) -> bool {
        let presented = Sha256::digest(presented.as_bytes());
        let mut matched = Choice::from(0u8);
        for expected in &self.digests {
            matched |= expected[..].ct_eq(&presented[..]);
        }
        matched.into()
    }
}

/// Proof that the caller presented a valid ops token.
#[derive(Debug, Clone, Copy)]
pub struct OpsCaller;

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
#[derive(Debug, Clone, Copy)]
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
    let csrf_ok = !csrf
        || req
            .headers()
            .get("x-csrf")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "1");
    Box::pin(async move {
        if !csrf_ok {
            return Err(ApiError::Unauthenticated(
                "Cookie-authenticated calls must carry the header X-CSRF: 1.".into(),
            ));
        }
        match sessions.resolve(&id).await? {
            Some(_operator) => Ok(OpsCaller),
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
    let matched = tokens.admits(presented);
    if matched {
        Ok(OpsCaller)
    } else {
        Err(refuse())
    }
}
