//! The `Caller` extractor: who is calling. A partner JWT in `Authorization: Bearer`, or — for web
//! apps — the web session cookie together with `X-CSRF: 1` (a header a cross-site form cannot
//! send). Anything else is 401, and so is a JWT of a user signed out everywhere after it was
//! issued ([`Revocations`]; the cookie store checks its own sessions). It reads the JWT
//! [`Verifier`], the [`Revocations`] and the [`WebSessions`] from app data (registered at
//! start-up), not the whole application state.
//! [`StreamCaller`] is the same check minus `X-CSRF`, for the read-only event stream a browser
//! opens with `EventSource`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use super::jwt::AuthError;
use super::{Revocations, Verifier};
use crate::auth::WebSessions;
use crate::error::ApiError;

/// What a caller with a refused partner JWT is told, whatever the reason (the log has it).
pub const INVALID_TOKEN: &str = "Invalid partner token.";

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Bearer,
    Cookie,
}

/// An authenticated partner user.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub via: Via,
}

impl Caller {
    /// For endpoints that hand out tokens: browsers (cookie mode) must never receive them.
    pub fn require_bearer(&self) -> Result<(), ApiError> {
        match self.via {
            Via::Bearer => Ok(()),
            Via::Cookie => Err(ApiError::Unauthenticated(
                "This endpoint needs a partner JWT (Authorization: Bearer), not a web session."
                    .into(),
            )),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        authenticate(req, true)
    }
}

/// A partner user on a read-only `GET` stream: like [`Caller`], but the web session cookie alone
/// is enough. `EventSource` cannot send headers, and nothing is lost: the cookie is
/// `SameSite=Strict` (a cross-site page cannot make the browser send it), and the stream only
/// reads, so there is no forged action for `X-CSRF` to prevent.
#[derive(Debug, Clone)]
pub struct StreamCaller(pub Caller);

impl FromRequest for StreamCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<StreamCaller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let csrf_needed = req.method() != actix_web::http::Method::GET;
        let caller = authenticate(req, csrf_needed);
        Box::pin(async move { caller.await.map(StreamCaller) })
    }
}

fn authenticate(
    req: &HttpRequest,
    csrf_needed: bool,
) -> Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>> {
    let verifier = req.app_data::<web::Data<Verifier>>().cloned();
    let revocations = req.app_data::<web::Data<Revocations>>().cloned();
    let authorization = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .map(|v| v.to_str().map(str::to_owned));
    let csrf = super::has_csrf_header(req);
    // The cookie's value, with the web sessions that can resolve it.
    let cookie = req
        .app_data::<web::Data<WebSessions>>()
        .and_then(|s| Some((req.cookie(&s.cookie_name)?, s.clone())))
        .map(|(c, s)| (c.value().to_owned(), s));
    Box::pin(async move {
        match authorization {
            Some(Ok(value)) => {
                let verifier = verifier
                    .ok_or_else(|| ApiError::Internal("JWT verifier not registered".into()))?;
                // One message for every refusal: the reason helps an attacker more than an app.
                let user = verifier.verify_header(Some(&value)).map_err(|e| {
                    tracing::info!(reason = %e, "partner token refused");
                    ApiError::Unauthenticated(INVALID_TOKEN.into())
                })?;
                let revocations = revocations
                    .ok_or_else(|| ApiError::Internal("revocations not registered".into()))?;
                if !revocations
                    .admits_token(&user.user_id, user.issued_at)
                    .await?
                {
                    tracing::info!(reason = %AuthError::Revoked, "partner token refused");
                    return Err(ApiError::Unauthenticated(INVALID_TOKEN.into()));
                }
                Ok(Caller {
                    user_id: user.user_id,
                    via: Via::Bearer,
                })
            }
            Some(Err(_)) => {
                tracing::info!(reason = "not visible ASCII", "partner token refused");
                Err(ApiError::Unauthenticated(INVALID_TOKEN.into()))
            }
            None => {
                let Some((id, sessions)) = cookie else {
                    return Err(ApiError::Unauthenticated(
                        "Send a partner JWT as Authorization: Bearer, or a web session cookie with X-CSRF: 1."
                            .into(),
                    ));
                };
                if csrf_needed && !csrf {
                    return Err(super::csrf_missing());
                }
                match sessions.resolve(&id).await? {
                    Some(user_id) => Ok(Caller {
                        user_id,
                        via: Via::Cookie,
                    }),
                    None => Err(ApiError::Unauthenticated(
                        "The web session has ended; sign in again.".into(),
                    )),
                }
            }
        }
    })
}
