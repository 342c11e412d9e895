//! `POST /v1/web/session` (partner JWT → cookie) and `DELETE /v1/web/session`. Store failures
//! become `ApiError`s here.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::auth::WebSessions;
use crate::auth::{Caller, Via};
use crate::error::openapi::{ErrorEnvelope, Success};
use crate::error::{ok, ApiError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        crate::http::resource("/v1/web/session")
            .post(login)
            .delete(logout),
    );
}

/// The paths of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(login, logout))]
pub struct Api;

/// `POST /v1/web/session`: the web session just started.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct WebSessionStarted {
    #[serde(rename = "userID")]
    user_id: String,
    /// The session ends after this long without a request.
    #[serde(rename = "idleTimeoutSecs")]
    idle_timeout_secs: i64,
    /// The session ends this long after sign-in, whatever happens.
    #[serde(rename = "absoluteTimeoutSecs")]
    absolute_timeout_secs: i64,
    /// The header every cookie call (but the event stream) sends: `X-CSRF: 1`.
    #[serde(rename = "csrfHeader")]
    csrf_header: String,
}

/// `DELETE /v1/web/session`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct WebSessionEnded {
    /// A live web session (this browser's cookie) was ended.
    ended: bool,
}

fn cookie(name: &str, value: String, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(name.to_owned(), value)
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

/// Exchange a partner JWT for a web session cookie
///
/// Sets `__Host-bff_session` (HttpOnly, Secure, SameSite=Strict, Path=/). A previous cookie on the same browser is
/// ended first, so every login gets a fresh id (no session fixation).
#[utoipa::path(
    post, path = "/v1/web/session", operation_id = "startWebSession", tag = "web",
    security(("partnerJwt" = [])),
    responses(
        (status = 200, description = "Cookie set (Set-Cookie: __Host-bff_session=…; HttpOnly; Secure; SameSite=Strict)",
            body = Success<WebSessionStarted>,
            headers(
                ("Set-Cookie" = String, description = "The web session cookie __Host-bff_session"),
                ("Cache-Control" = String, description = "no-store"),
            )),
        (status = 401, description = "UNAUTHENTICATED (a partner JWT is needed, not the cookie)", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn login(
    ws: web::Data<WebSessions>,
    req: HttpRequest,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require_bearer()?;
    if let Some(old) = req.cookie(&ws.cookie_name) {
        ws.end(old.value()).await?;
    }
    let id = ws.create(&caller.user_id).await?;
    let mut res = ok(json!({
        "userID": caller.user_id,
        "idleTimeoutSecs": ws.idle_secs(),
        "absoluteTimeoutSecs": ws.absolute_secs(),
        "csrfHeader": "X-CSRF: 1",
    }));
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    res.add_cookie(&cookie(&ws.cookie_name, id, ws.absolute_secs()))
        .map_err(|e| ApiError::Internal(format!("cookie: {e}").into()))?;
    Ok(res)
}

/// End the web session
///
/// Ends this browser's web session (cookie callers) and clears the cookie.
#[utoipa::path(
    delete, path = "/v1/web/session", operation_id = "endWebSession", tag = "web",
    security(("partnerJwt" = []), ("webCookie" = [], "csrf" = [])),
    responses(
        (status = 200, description = "Ended", body = Success<WebSessionEnded>,
            headers(("Set-Cookie" = String, description = "Clears __Host-bff_session (Max-Age=0)"))),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn logout(
    ws: web::Data<WebSessions>,
    req: HttpRequest,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let mut ended = false;
    if caller.via == Via::Cookie {
        if let Some(c) = req.cookie(&ws.cookie_name) {
            ended = ws.end(c.value()).await?;
        }
    }
    let mut res = ok(json!({ "ended": ended }));
    res.add_cookie(&cookie(&ws.cookie_name, String::new(), 0))
        .map_err(|e| ApiError::Internal(format!("cookie: {e}").into()))?;
    Ok(res)
}
