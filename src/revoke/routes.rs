//! `POST /v1/ops/users/{userID}/revoke` (ops token) → `data: {userID, revokedAt}`.

use actix_web::{web, HttpResponse};

use super::Revoked;
use super::{RevokeError, Revoker};
use crate::auth::OpsCaller;
use crate::error::openapi::{ErrorEnvelope, Success};
use crate::error::{ok, ApiError};

/// The path of this file, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(revoke))]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::http::resource("/v1/ops/users/{userID}/revoke").post(revoke));
}

/// Sign a partner user out everywhere
///
/// Ends every web session of the user, deletes their stored upstream session and refresh token
/// (and the in-process token memo of every instance), and from then on refuses their partner JWTs
/// issued (iat, in whole seconds) before the revocation second; JWTs without iat are refused until
/// auth.max_token_lifetime_secs has passed. Every instance refuses them within a second. A JWT
/// issued afterwards works again and mints a fresh upstream session. Other users are untouched.
/// Any user id may be revoked, also one this service has not seen yet. Audited (action revoke,
/// target the user id) and counted in bff_revocations_total. For ops staff and the partner's
/// backend, with an ops token.
#[utoipa::path(
    post, path = "/v1/ops/users/{userID}/revoke", operation_id = "revokeUser", tag = "ops",
    security(("opsToken" = []), ("opsCookie" = [], "csrf" = [])),
    params(("userID" = String, Path, min_length = 1, max_length = 256, description = "The partner's user id (the JWT sub): 1-256 characters, no control characters")),
    responses(
        (status = 200, description = "Revoked", body = Success<Revoked>),
        (status = 400, description = "VALIDATION_ERROR: the user id is not one a partner JWT could carry", body = ErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED: no valid ops token", body = ErrorEnvelope),
        (status = 404, description = "NOT_FOUND: no user id in the path", body = ErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE: nothing was revoked; retry", body = ErrorEnvelope),
    )
)]
async fn revoke(
    caller: OpsCaller,
    revoker: web::Data<Revoker>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let revoked = revoker.revoke(&caller.operator, &path).await?;
    Ok(ok(revoked))
}

impl From<RevokeError> for ApiError {
    fn from(e: RevokeError) -> Self {
        match e {
            RevokeError::InvalidUser => ApiError::Validation(
                "userID must be 1-256 characters without control characters.".into(),
            ),
            RevokeError::Store(s) => s.into(),
            RevokeError::Session(s) => s.into(),
        }
    }
}
