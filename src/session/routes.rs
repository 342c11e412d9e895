//! `/v1/session*`: parse → call the session capability → envelope; and how a [`SessionError`]
//! reads over HTTP (the proxy's token failures read the same).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{Issued, SessionError, Sessions};
use crate::auth::Caller;
use crate::domain::RequestContext;
use crate::error::openapi::{ErrorEnvelope, Success};
use crate::error::{ok, ApiError};
use crate::upstream::types::ActiveJourney;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        crate::http::resource("/v1/session")
            .post(start)
            .get(facts)
            .delete(forget),
    )
    .service(crate::http::resource("/v1/session/refresh").post(refresh));
}

/// The paths of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(start, facts, forget, refresh))]
pub struct Api;

/// `POST /v1/session` body (optional).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StartSession)]
struct StartBody {
    /// An upper-case journey type, e.g. `PERSONAL_LOAN`, `GOLD_LOAN` (an open set).
    #[serde(rename = "journeyType")]
    #[schema(examples("PERSONAL_LOAN", "GOLD_LOAN"))]
    journey_type: Option<String>,
    /// Prefill handed to the upstream's session bootstrap (see `UpstreamProfile`).
    profile: Option<serde_json::Value>,
}

/// A session handed out (`POST /v1/session`, `POST /v1/session/refresh`): never the refresh token.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SessionIssued {
    #[serde(rename = "borrowerID")]
    borrower_id: String,
    #[serde(rename = "borrowerExternalID")]
    borrower_external_id: String,
    /// The upstream's `st_*` token, for calling it directly (or through `/v1/headless/*`).
    #[serde(rename = "sessionToken")]
    session_token: String,
    #[serde(rename = "sessionExpiresAt")]
    session_expires_at: Option<String>,
    #[serde(rename = "activeJourney")]
    active_journey: Option<ActiveJourney>,
}

/// `GET /v1/session`: what is stored for the user, without tokens.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SessionFacts {
    #[serde(rename = "borrowerID")]
    borrower_id: String,
    #[serde(rename = "borrowerExternalID")]
    borrower_external_id: String,
    #[serde(rename = "sessionExpiresAt")]
    session_expires_at: Option<String>,
    #[serde(rename = "refreshExpiresAt")]
    refresh_expires_at: Option<String>,
    #[serde(rename = "activeJourney")]
    active_journey: Option<ActiveJourney>,
    #[serde(rename = "obtainedAt")]
    obtained_at: Option<String>,
}

/// `DELETE /v1/session`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SessionDeleted {
    /// A stored session existed.
    deleted: bool,
}

fn parse_start(body: &[u8]) -> Result<StartBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(StartBody::default());
    }
    let b: StartBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::Validation(format!("Invalid JSON body: {e}")))?;
    if let Some(t) = &b.journey_type {
        if t.is_empty() || t.len() > 64 || !t.bytes().all(|c| c.is_ascii_uppercase() || c == b'_') {
            return Err(ApiError::Validation(
                "journeyType must be an upper-case name such as PERSONAL_LOAN.".into(),
            ));
        }
    }
    if let Some(p) = &b.profile {
        if !p.is_object() {
            return Err(ApiError::Validation("profile must be an object.".into()));
        }
    }
    Ok(b)
}

/// A session handed out, with its active journey as it is now.
async fn issued_view(
    sessions: &Sessions,
    user: &str,
    i: &Issued,
) -> Result<serde_json::Value, ApiError> {
    use secrecy::ExposeSecret;
    let active = sessions.active_journey(user, &i.record).await?;
    Ok(json!({
        "borrowerID": i.record.borrower_id,
        "borrowerExternalID": i.record.borrower_external_id,
        "sessionToken": i.token.expose_secret(),
        "sessionExpiresAt": i.record.session_expires_at,
        "activeJourney": active,
    }))
}

/// Mint or resume the user's borrower session
///
/// Creates or resumes the user's upstream borrower session (the upstream call uses this service's
/// `sk_*` key) and answers the session token; the refresh token stays here, sealed. Partner JWT
/// only: a browser's web session never receives tokens.
#[utoipa::path(
    post, path = "/v1/session", operation_id = "startSession", tag = "sessions",
    security(("partnerJwt" = [])),
    request_body(content = Option<StartBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The session (never the refresh token)", body = Success<SessionIssued>,
            headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorEnvelope),
        (status = 429, description = "RATE_LIMITED (session mints per user)", body = ErrorEnvelope),
        (status = 502, description = "UPSTREAM_UNAVAILABLE, UPSTREAM_RESPONSE_TOO_LARGE or UPSTREAM_AUTH_FAILED (the upstream refused the sk_* key)", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
        (status = 504, description = "UPSTREAM_TIMEOUT", body = ErrorEnvelope),
    )
)]
async fn start(
    sessions: web::Data<Sessions>,
    caller: Caller,
    ctx: RequestContext,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    caller.require_bearer()?;
    let b = parse_start(&body)?;
    let issued = sessions
        .start(&caller.user_id, b.journey_type, b.profile, &ctx)
        .await?;
    Ok(no_store(ok(issued_view(
        &sessions,
        &caller.user_id,
        &issued,
    )
    .await?)))
}

/// A fresh session token (single-flight across instances)
#[utoipa::path(
    post, path = "/v1/session/refresh", operation_id = "refreshSession", tag = "sessions",
    security(("partnerJwt" = [])),
    responses(
        (status = 200, description = "The session", body = Success<SessionIssued>,
            headers(("Cache-Control" = String, description = "no-store"))),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 429, description = "RATE_LIMITED", body = ErrorEnvelope),
        (status = 502, description = "UPSTREAM_UNAVAILABLE, UPSTREAM_RESPONSE_TOO_LARGE or UPSTREAM_AUTH_FAILED (the upstream refused the sk_* key)", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
        (status = 504, description = "UPSTREAM_TIMEOUT", body = ErrorEnvelope),
    )
)]
async fn refresh(
    sessions: web::Data<Sessions>,
    caller: Caller,
    ctx: RequestContext,
) -> Result<HttpResponse, ApiError> {
    caller.require_bearer()?;
    let issued = sessions.refresh(&caller.user_id, &ctx).await?;
    Ok(no_store(ok(issued_view(
        &sessions,
        &caller.user_id,
        &issued,
    )
    .await?)))
}

/// Session facts without tokens
#[utoipa::path(
    get, path = "/v1/session", operation_id = "getSession", tag = "sessions",
    security(("partnerJwt" = []), ("webCookie" = [], "csrf" = [])),
    responses(
        (status = 200, description = "Facts", body = Success<SessionFacts>),
        (status = 401, description = "UNAUTHENTICATED (also: no borrower session yet)", body = ErrorEnvelope),
        (status = 502, description = "UPSTREAM_UNAVAILABLE (reading the active journey)", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
        (status = 504, description = "UPSTREAM_TIMEOUT", body = ErrorEnvelope),
    )
)]
async fn facts(sessions: web::Data<Sessions>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let Some(rec) = sessions.facts(&caller.user_id).await? else {
        return Err(ApiError::Unauthenticated(
            "No borrower session; POST /v1/session first.".into(),
        ));
    };
    let active = sessions.active_journey(&caller.user_id, &rec).await?;
    Ok(ok(json!({
        "borrowerID": rec.borrower_id,
        "borrowerExternalID": rec.borrower_external_id,
        "sessionExpiresAt": rec.session_expires_at,
        "refreshExpiresAt": rec.refresh_expires_at,
        "activeJourney": active,
        "obtainedAt": chrono::DateTime::from_timestamp_millis(rec.obtained_ms)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    })))
}

/// Forget the stored tokens
#[utoipa::path(
    delete, path = "/v1/session", operation_id = "deleteSession", tag = "sessions",
    security(("partnerJwt" = []), ("webCookie" = [], "csrf" = [])),
    responses(
        (status = 200, description = "Deleted", body = Success<SessionDeleted>),
        (status = 401, description = "UNAUTHENTICATED", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = ErrorEnvelope),
    )
)]
async fn forget(sessions: web::Data<Sessions>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let existed = sessions.forget(&caller.user_id).await?;
    Ok(ok(json!({ "deleted": existed })))
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Store(s) => s.into(),
            SessionError::Upstream(u) => u.into(),
            SessionError::Answered(res) => ApiError::from_upstream_answer(&res),
            SessionError::RateLimited { retry_after_secs } => {
                ApiError::RateLimited { retry_after_secs }
            }
            SessionError::WaitTimedOut | SessionError::LostRace => ApiError::UpstreamTimeout,
            SessionError::KeyRefused { .. } | SessionError::ReplacementRefused => {
                ApiError::UpstreamAuthFailed(e.into())
            }
            SessionError::RefreshEndpointAbsent { .. } => ApiError::UpstreamUnavailable(e.into()),
            SessionError::Seal(_) | SessionError::Open(_) | SessionError::Encode(..) => {
                ApiError::Internal(e.into())
            }
        }
    }
}

/// Responses carrying a token must not be cached by anything in between.
fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_body_is_optional_and_validated() {
        assert!(parse_start(b"").unwrap().journey_type.is_none());
        assert_eq!(
            parse_start(br#"{"journeyType":"PERSONAL_LOAN"}"#)
                .unwrap()
                .journey_type
                .as_deref(),
            Some("PERSONAL_LOAN")
        );
        assert!(parse_start(br#"{"journeyType":"x y"}"#).is_err());
        assert!(parse_start(br#"{"profile":3}"#).is_err());
        assert!(parse_start(br#"{"other":1}"#).is_err());
        assert!(parse_start(b"{").is_err());
    }
}
