//! The two upstream session calls: create-or-resume (documented) and refresh (CONTRACT U1, path
//! configurable). Both authenticate with the `sk_*` key and carry an Idempotency-Key.

use bytes::Bytes;
use reqwest::Method;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::record::Record;
use super::{Inner, SessionError};
use crate::domain::RequestContext;
use crate::upstream::types::{CreateSessionRequest, RefreshSessionRequest, SessionData};
use crate::upstream::{Credential, UpstreamRequest, UpstreamResponse};
use aarthik_contract::paths;

/// A UUID-shaped key derived from the parts, so a retry of the same operation reuses it.
fn derived_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    crate::domain::uuid_from_digest(&h.finalize())
}

impl Inner {
    pub(crate) async fn call_create(
        &self,
        user: &str,
        journey_type: Option<String>,
        profile: Option<serde_json::Value>,
        ctx: &RequestContext,
    ) -> Result<SessionData, SessionError> {
        let body = CreateSessionRequest {
            borrower_external_id: crate::auth::jwt::borrower_external_id(&self.cfg.pepper, user),
            journey_type,
            profile,
        };
        let body =
            serde_json::to_vec(&body).map_err(|e| SessionError::Encode("session request", e))?;
        let res = self
            .upstream
            .send(UpstreamRequest {
                method: Method::POST,
                path_and_query: paths::SESSIONS.to_owned(),
                credential: Credential::ApiKey,
                body: Some(Bytes::from(body)),
                headers: Default::default(),
                idempotency_key: Some(uuid::Uuid::new_v4().to_string()),
                ctx,
            })
            .await?;
        if !res.status.is_success() {
            return Err(session_call_failed(res));
        }
        Ok(res.data::<SessionData>()?)
    }

    /// `Ok(None)` when upstream says the refresh token is dead (any 401): mint instead.
    pub(crate) async fn call_refresh(
        &self,
        user: &str,
        rec: &Record,
        version: u64,
        ctx: &RequestContext,
    ) -> Result<Option<SessionData>, SessionError> {
        let Some(sealed) = &rec.refresh_token else {
            return Ok(None);
        };
        let Ok(token) = self.cipher.open(sealed, user) else {
            tracing::warn!("stored refresh token does not open; minting anew");
            return Ok(None);
        };
        let body = serde_json::to_vec(&RefreshSessionRequest {
            refresh_token: token.expose_secret(),
        })
        .map_err(|e| SessionError::Encode("refresh request", e))?;
        let key = derived_key(&[
            "refresh",
            user,
            &version.to_string(),
            &rec.obtained_ms.to_string(),
        ]);
        let res = self
            .upstream
            .send(UpstreamRequest {
                method: Method::POST,
                path_and_query: self.cfg.refresh_path.clone(),
                credential: Credential::ApiKey,
                body: Some(Bytes::from(body)),
                headers: Default::default(),
                idempotency_key: Some(key),
                ctx,
            })
            .await?;
        if res.status == reqwest::StatusCode::UNAUTHORIZED {
            tracing::info!(upstream_code = ?res.error_code(), "refresh token refused upstream; minting anew");
            return Ok(None);
        }
        if !res.status.is_success() {
            return Err(session_call_failed(res));
        }
        Ok(Some(res.data::<SessionData>()?))
    }
}

/// Upstream refused a key-authenticated session call. Its 401/403 concern *our* key, not the
/// caller, so they become 502; other 4xx (e.g. a bad profile) are the caller's to see.
fn session_call_failed(res: UpstreamResponse) -> SessionError {
    let s = res.status.as_u16();
    if s == 401 || s == 403 {
        tracing::error!(status = s, "upstream refused the API key on a session call");
        return SessionError::KeyRefused { status: s };
    }
    SessionError::Answered(Box::new(res))
}

#[cfg(test)]
mod tests {
    #[test]
    fn derived_keys_are_stable_and_distinct() {
        let a = super::derived_key(&["refresh", "u", "3"]);
        assert_eq!(a, super::derived_key(&["refresh", "u", "3"]));
        assert_ne!(a, super::derived_key(&["refresh", "u", "4"]));
        assert_ne!(
            super::derived_key(&["ab", "c"]),
            super::derived_key(&["a", "bc"])
        );
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}
