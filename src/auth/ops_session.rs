//! Ops console sessions: an ops token exchanged (`POST /v1/ops/login`) for an opaque 256-bit id in
//! an `HttpOnly; Secure; SameSite=Strict; Path=/` cookie named `__Host-bff_ops`, valid 8 hours.
//! The store keeps only a hash of the id (a store dump yields no usable cookies) with the operator
//! and the expiry, so every instance accepts the cookie. Cookie calls must also carry `X-CSRF: 1`
//! (see `auth::ops`), except the read-only event stream, which `EventSource` opens with the cookie
//! alone.
//!
//! Plain-HTTP development: a browser drops a `Secure` (and so a `__Host-`) cookie that arrives over
//! `http://` from an origin other than `localhost`, so with `BFF_ENV` unset or `development` a
//! login that came over plain HTTP gets the cookie `bff_ops` without `Secure` instead, and both
//! names are read. Every other environment issues and reads only the strict `__Host-bff_ops`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Environment, Settings};
use crate::store::keys::OpsSessionKey;
use crate::store::{Store, StoreError};

/// The cookie every production-grade environment uses.
pub const COOKIE: &str = "__Host-bff_ops";
/// The development cookie for a login over plain HTTP (no `Secure`, so no `__Host-` prefix).
pub const DEV_HTTP_COOKIE: &str = "bff_ops";
/// How long a console session lasts (no sliding: sign in again after it).
pub const LIFETIME: Duration = Duration::from_secs(8 * 3600);

#[derive(Serialize, Deserialize)]
struct OpsRecord {
    operator: String,
    expires_ms: i64,
}

/// A new session: the id for the cookie and when it ends.
pub struct NewOpsSession {
    pub id: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone)]
pub struct OpsSessions {
    store: Arc<dyn Store>,
    /// Development: a plain-HTTP login gets [`DEV_HTTP_COOKIE`].
    dev_http: bool,
}

fn key(id: &str) -> OpsSessionKey {
    OpsSessionKey::new(hex::encode(Sha256::digest(id.as_bytes())))
}

/// What a well-formed id looks like (43 URL-safe base64 characters); anything else is not looked up.
fn well_formed(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl OpsSessions {
    pub fn new(settings: &Settings, store: Arc<dyn Store>) -> Self {
        OpsSessions {
            store,
            dev_http: settings.env == Environment::Development,
        }
    }

    /// A new session for `operator`.
    pub async fn create(&self, operator: &str) -> Result<NewOpsSession, StoreError> {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let id = URL_SAFE_NO_PAD.encode(raw);
        let now = chrono::Utc::now();
        let expires_at = now + LIFETIME;
        let rec = OpsRecord {
            operator: operator.to_owned(),
            expires_ms: expires_at.timestamp_millis(),
        };
        let body = serde_json::to_vec(&rec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store.set(&key(&id), &body, LIFETIME).await?;
        Ok(NewOpsSession { id, expires_at })
    }

    /// The operator behind a cookie value; `None` when unknown or expired.
    pub async fn resolve(&self, id: &str) -> Result<Option<String>, StoreError> {
        if !well_formed(id) {
            return Ok(None);
        }
        let Some(bytes) = self.store.get(&key(id)).await? else {
            return Ok(None);
        };
        let Ok(rec) = serde_json::from_slice::<OpsRecord>(&bytes) else {
            return Ok(None);
        };
        if chrono::Utc::now().timestamp_millis() >= rec.expires_ms {
            return Ok(None);
        }
        Ok(Some(rec.operator))
    }

    /// End a session; the operator it belonged to, when it was live.
    pub async fn end(&self, id: &str) -> Result<Option<String>, StoreError> {
        let operator = self.resolve(id).await?;
        if well_formed(id) {
            self.store.delete(&key(id)).await?;
        }
        Ok(operator)
    }

    /// The names this deployment reads the cookie under, strict name first.
    pub fn cookie_names(&self) -> &'static [&'static str] {
        if self.dev_http {
            &[COOKIE, DEV_HTTP_COOKIE]
        } else {
            &[COOKIE]
        }
    }

    /// The session cookie's value on a request, if any (the strict name wins).
    pub fn cookie_value(&self, req: &HttpRequest) -> Option<String> {
        self.cookie_names()
            .iter()
            .find_map(|name| req.cookie(name))
            .map(|c| c.value().to_owned())
    }

    /// The cookie carrying `id` in the answer to `req`.
    pub fn cookie(&self, req: &HttpRequest, id: String) -> Cookie<'static> {
        let secure = !self.dev_http || req.connection_info().scheme() == "https";
        build(
            if secure { COOKIE } else { DEV_HTTP_COOKIE },
            id,
            LIFETIME.as_secs() as i64,
            secure,
        )
    }

    /// Cookies that delete every name this deployment reads.
    pub fn removal_cookies(&self) -> Vec<Cookie<'static>> {
        self.cookie_names()
            .iter()
            .map(|name| build(name, String::new(), 0, *name == COOKIE))
            .collect()
    }
}

fn build(name: &str, value: String, max_age_secs: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(name.to_owned(), value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn sessions(env: Environment) -> OpsSessions {
        OpsSessions {
            store: Arc::new(MemoryStore::new("t:")),
            dev_http: env == Environment::Development,
        }
    }

    #[test]
    fn outside_development_the_cookie_is_always_the_strict_host_cookie() {
        let s = sessions(Environment::Production);
        let req = actix_web::test::TestRequest::default().to_http_request();
        let c = s.cookie(&req, "x".into());
        assert_eq!(c.name(), COOKIE);
        assert_eq!(c.secure(), Some(true));
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.same_site(), Some(SameSite::Strict));
        assert_eq!(c.path(), Some("/"));
        assert_eq!(c.domain(), None);
        assert_eq!(c.max_age(), Some(CookieDuration::hours(8)));
        assert_eq!(s.cookie_names(), [COOKIE]);
    }

    #[test]
    fn development_uses_the_plain_cookie_only_over_plain_http() {
        let s = sessions(Environment::Development);
        let plain = actix_web::test::TestRequest::default().to_http_request();
        let c = s.cookie(&plain, "x".into());
        assert_eq!((c.name(), c.secure()), (DEV_HTTP_COOKIE, Some(false)));
        let tls = actix_web::test::TestRequest::default()
            .insert_header(("X-Forwarded-Proto", "https"))
            .to_http_request();
        assert_eq!(s.cookie(&tls, "x".into()).name(), COOKIE);
        assert!(sessions(Environment::Other("staging".into()))
            .cookie(&plain, "x".into())
            .secure()
            .unwrap_or(false));
    }

    #[tokio::test]
    async fn a_session_resolves_to_its_operator_until_it_is_ended() {
        let s = sessions(Environment::Production);
        let new = s.create("alice").await.unwrap();
        assert_eq!(s.resolve(&new.id).await.unwrap().as_deref(), Some("alice"));
        assert_eq!(s.end(&new.id).await.unwrap().as_deref(), Some("alice"));
        assert_eq!(s.resolve(&new.id).await.unwrap(), None);
        assert_eq!(s.resolve("short").await.unwrap(), None);
    }
}
