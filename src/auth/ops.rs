//! Ops bearer tokens (`ops.tokens`): an extractor that admits a request only with
//! `Authorization: Bearer <one of the tokens>`. Both sides are hashed with SHA-256 before a
//! constant-time compare, so neither the content nor the length of a token leaks through timing,
//! and every configured token is compared (no early exit). The digests are app data of their own
//! ([`OpsTokens`], registered at start-up).

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

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
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(check(req))
    }
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
