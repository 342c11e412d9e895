//! `POST /v1/ops/users/{userID}/revoke` (ops token) → `data: {userID, revokedAt}`.

use actix_web::{web, HttpResponse};

use super::{RevokeError, Revoker};
use crate::auth::OpsCaller;
use crate::error::{ok, ApiError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/ops/users/{userID}/revoke").post(revoke));
}

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
