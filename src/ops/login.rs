//! `POST /v1/ops/login` (an ops token in the body → the console's session cookie) and
//! `POST /v1/ops/logout` (ends it). The token is checked like a bearer token, in constant time;
//! a wrong one is 401 and sets no cookie.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::audit::Audit;
use crate::auth::{OpsSessions, OpsTokens};
use crate::error::openapi::{ErrorEnvelope, Success};
use crate::error::{ok, ApiError};
use aarthik_contract::envelope::format_timestamp;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::http::resource("/v1/ops/login").post(login))
        .service(crate::http::resource("/v1/ops/logout").post(logout));
}

/// The paths of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(login, logout))]
pub struct Api;

/// `POST /v1/ops/login` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OpsLogin)]
struct LoginBody {
    /// One of ops.tokens (the token part of a name:token item).
    token: String,
}

/// Signed in.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct OpsSignedIn {
    /// The operator's name (ops for a bare token).
    operator: String,
    #[serde(rename = "expiresAt")]
    #[schema(format = DateTime)]
    expires_at: String,
}

/// Signed out.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct OpsSignedOut {
    /// A live session was ended.
    ended: bool,
}

/// The operator a token stands for (`name:token` items of `ops.tokens`; a bare token is `ops`).
fn operator_of(tokens: &OpsTokens, token: &str) -> Option<String> {
    tokens.identify(token).map(str::to_owned)
}

/// Audit actions of the console.
const LOGIN_ACTION: &str = "login";
const LOGOUT_ACTION: &str = "logout";

/// Exchange an ops token for a cookie. A session already on this browser is ended first, so every
/// sign-in gets a fresh id (no session fixation).
#[utoipa::path(
    post, path = "/v1/ops/login", operation_id = "opsLogin", tag = "ops",
    security(()),
    request_body(content = LoginBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in (Set-Cookie: __Host-bff_ops=…; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=28800)",
            body = Success<OpsSignedIn>,
            headers(
                ("Set-Cookie" = String, description = "The ops console session cookie"),
                ("Cache-Control" = String, description = "no-store"),
            )),
        (status = 400, description = "VALIDATION_ERROR: not a JSON body with a token", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED: not a valid ops token", body = ErrorEnvelope),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn login(
    req: HttpRequest,
    tokens: web::Data<OpsTokens>,
    sessions: web::Data<OpsSessions>,
    audit: web::Data<Audit>,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let token = body.token.trim();
    let operator = (!token.is_empty())
        .then(|| operator_of(&tokens, token))
        .flatten()
        .ok_or_else(|| ApiError::Unauthenticated("That ops token is not valid.".into()))?;
    if let Some(old) = sessions.cookie_value(&req) {
        sessions.end(&old).await?;
    }
    let new = sessions.create(&operator).await?;
    audit.record(&operator, LOGIN_ACTION, "ops console").await?;
    let mut res = ok(json!({
        "operator": operator,
        "expiresAt": format_timestamp(new.expires_at),
    }));
    no_store(&mut res);
    let live = sessions.cookie(&req, new.id);
    // A cookie left under the other name would shadow (or outlive) this one.
    for other in sessions.removal_cookies() {
        if other.name() != live.name() {
            add_cookie(&mut res, &other)?;
        }
    }
    add_cookie(&mut res, &live)?;
    Ok(res)
}

/// End the console session of this browser (if any) and clear its cookie. Called with the cookie,
/// it needs `X-CSRF: 1` like every cookie call; without one there is nothing to end.
#[utoipa::path(
    post, path = "/v1/ops/logout", operation_id = "opsLogout", tag = "ops",
    security((), ("opsCookie" = [], "csrf" = [])),
    responses(
        (status = 200, description = "Signed out (ended = a live session was ended)", body = Success<OpsSignedOut>,
            headers(
                ("Set-Cookie" = String, description = "Clears the ops console cookie"),
                ("Cache-Control" = String, description = "no-store"),
            )),
        (status = 401, description = "UNAUTHENTICATED: the cookie came without X-CSRF: 1", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn logout(
    req: HttpRequest,
    sessions: web::Data<OpsSessions>,
    audit: web::Data<Audit>,
) -> Result<HttpResponse, ApiError> {
    let mut ended = false;
    if let Some(id) = sessions.cookie_value(&req) {
        if !crate::auth::has_csrf_header(&req) {
            return Err(crate::auth::csrf_missing());
        }
        if let Some(operator) = sessions.end(&id).await? {
            audit
                .record(&operator, LOGOUT_ACTION, "ops console")
                .await?;
            ended = true;
        }
    }
    let mut res = ok(json!({ "ended": ended }));
    no_store(&mut res);
    for c in sessions.removal_cookies() {
        add_cookie(&mut res, &c)?;
    }
    Ok(res)
}

fn add_cookie(
    res: &mut HttpResponse,
    c: &actix_web::cookie::Cookie<'static>,
) -> Result<(), ApiError> {
    res.add_cookie(c)
        .map_err(|e| ApiError::Internal(format!("cookie: {e}").into()))
}

fn no_store(res: &mut HttpResponse) {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
