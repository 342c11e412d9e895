//! `POST /v1/web/session` (partner JWT → cookie) and `DELETE /v1/web/session`. Store failures
//! become `ApiError`s here.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::auth::WebSessions;
use crate::auth::{Caller, Via};
use crate::error::{ok, ApiError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/web/session").post(login).delete(logout));
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

/// Exchange a partner JWT for a web session cookie. A previous cookie on the same browser is
/// ended first, so every login gets a fresh id (no session fixation).
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
