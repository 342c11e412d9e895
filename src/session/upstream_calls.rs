//! The upstream session calls and how a session is renewed. Create-or-resume (`POST
//! /api/v1/headless/sessions` with the `sk_*` key) is the vendor's documented call; the refresh
//! endpoint is not (its path is configurable), so renewal never depends on it alone:
//! `upstream.refresh_mode` decides whether it is tried, and whatever it answers, a user is never
//! stranded while create-or-resume works. Refresh sends `Bearer rt_*` (never the key) and no
//! body. Every call carries an Idempotency-Key.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use reqwest::Method;
use sha2::{Digest, Sha256};

use super::record::{now_ms, Record};
use super::{Inner, SessionError};
use crate::config::RefreshMode;
use crate::domain::RequestContext;
use crate::upstream::types::{CreateSessionRequest, SessionData};
use crate::upstream::{Credential, UpstreamRequest, UpstreamResponse};
use aarthik_contract::{paths, Envelope};

/// A UUID-shaped key derived from the parts, so a retry of the same operation reuses it.
fn derived_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    crate::domain::uuid_from_digest(&h.finalize())
}

/// What the refresh endpoint did with a refresh token.
#[derive(Debug)]
pub(crate) enum Refreshed {
    /// New tokens.
    Rotated(SessionData),
    /// The token was refused (401, 403 or another non-retryable 4xx), or there was no usable
    /// one: create-or-resume instead.
    Refused,
    /// There is no refresh endpoint (404, 405 or 501).
    Absent { status: u16 },
}

/// How an answer of the refresh endpoint reads.
fn classify(res: &UpstreamResponse) -> Option<Refreshed> {
    let s = res.status.as_u16();
    if matches!(s, 404 | 405 | 501) {
        return Some(Refreshed::Absent { status: s });
    }
    let retryable = serde_json::from_slice::<Envelope<serde_json::Value>>(&res.body)
        .ok()
        .and_then(|e| e.error)
        .is_some_and(|e| e.retryable);
    // 408 and 429 ask to be tried again, as does any answer marked `retryable`.
    if (400..500).contains(&s) && !matches!(s, 408 | 429) && !retryable {
        return Some(Refreshed::Refused);
    }
    None
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

    /// A new session for `user`, whose stored record (if any) is `current`: through the refresh
    /// endpoint when the mode and the stored refresh token allow, else by create-or-resume.
    pub(crate) async fn renew(
        &self,
        user: &str,
        current: Option<&(u64, Record)>,
        ctx: &RequestContext,
    ) -> Result<SessionData, SessionError> {
        let usable = current.filter(|(_, rec)| rec.refresh_usable(now_ms()));
        if let (Some((version, rec)), true) = (usable, self.refresh_endpoint_in_use()) {
            match self.call_refresh(user, rec, *version, ctx).await? {
                Refreshed::Rotated(data) => return Ok(data),
                Refreshed::Refused => {
                    tracing::info!(
                        "refresh token refused upstream; creating or resuming the session"
                    );
                }
                Refreshed::Absent { status } => match self.cfg.refresh_mode {
                    RefreshMode::Auto => self.remember_refresh_absent(status),
                    RefreshMode::Endpoint | RefreshMode::Resume => {
                        tracing::error!(
                            status,
                            "the upstream has no refresh endpoint at upstream.refresh_path, and upstream.refresh_mode=endpoint never falls back; set it to auto or resume"
                        );
                        return Err(SessionError::RefreshEndpointAbsent { status });
                    }
                },
            }
        }
        self.call_create(user, None, None, ctx).await
    }

    /// Whether renewals try the refresh endpoint at all.
    fn refresh_endpoint_in_use(&self) -> bool {
        match self.cfg.refresh_mode {
            RefreshMode::Endpoint => true,
            RefreshMode::Resume => false,
            RefreshMode::Auto => !self.refresh_absent.load(Ordering::Relaxed),
        }
    }

    /// `auto` met an absent refresh endpoint: remember it for the life of the process and say
    /// so once.
    fn remember_refresh_absent(&self, status: u16) {
        if !self.refresh_absent.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                status,
                refresh_path = %self.cfg.refresh_path,
                "the upstream has no refresh endpoint; upstream.refresh_mode=auto renews borrower sessions by create-or-resume for the life of this process"
            );
        }
    }

    /// One call to the refresh endpoint with the stored `rt_*`.
    pub(crate) async fn call_refresh(
        &self,
        user: &str,
        rec: &Record,
        version: u64,
        ctx: &RequestContext,
    ) -> Result<Refreshed, SessionError> {
        let Some(sealed) = &rec.refresh_token else {
            return Ok(Refreshed::Refused);
        };
        let Ok(token) = self.cipher.open(sealed, user) else {
            tracing::warn!("stored refresh token does not open; creating or resuming the session");
            return Ok(Refreshed::Refused);
        };
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
                credential: Credential::Refresh(&token),
                body: None,
                headers: Default::default(),
                idempotency_key: Some(key),
                ctx,
            })
            .await?;
        if res.status.is_success() {
            return Ok(Refreshed::Rotated(res.data::<SessionData>()?));
        }
        match classify(&res) {
            Some(outcome) => {
                tracing::info!(
                    upstream_status = res.status.as_u16(),
                    upstream_code = ?res.error_code(),
                    "refresh endpoint did not rotate the tokens"
                );
                Ok(outcome)
            }
            None => Err(SessionError::Answered(Box::new(res))),
        }
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

    fn answer(status: u16, body: &str) -> super::UpstreamResponse {
        super::UpstreamResponse {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            headers: Default::default(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn refresh_answers_read_as_absent_refused_or_worth_retrying() {
        use super::{classify, Refreshed};
        for s in [404, 405, 501] {
            assert!(
                matches!(classify(&answer(s, "")), Some(Refreshed::Absent { status }) if status == s),
                "{s}"
            );
        }
        let refused = r#"{"requestID":"r","data":null,"error":{"code":"AUTH_INVALID_SESSION","message":"m","retryable":false,"details":{}}}"#;
        for s in [400, 401, 403, 409, 422] {
            assert!(
                matches!(classify(&answer(s, refused)), Some(Refreshed::Refused)),
                "{s}"
            );
        }
        let busy = r#"{"requestID":"r","data":null,"error":{"code":"FUTURE_CODE","message":"m","retryable":true,"details":{}}}"#;
        assert!(classify(&answer(409, busy)).is_none());
        for s in [408, 429, 500, 502, 503] {
            assert!(classify(&answer(s, "")).is_none(), "{s}");
        }
    }
}
