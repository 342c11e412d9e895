//! `ANY /v1/headless/{path}`: parse (path, headers, key, body) → forward → the upstream answer as
//! received, marked [`PassThrough`] so the envelope safety net leaves it alone; and how a
//! [`ProxyError`] reads over HTTP.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};

use super::forward::{Answer, Inbound, ProxyDeps, WorkerCaches};
use super::headers::request_headers;
use super::idempotency::IdempotencyKey;
use super::path::HeadlessPath;
use super::{ProxyError, IDEMPOTENCY_RETENTION, IDEMPOTENT_REPLAYED};
use crate::auth::Caller;
use crate::domain::{PassThrough, RequestContext};
use crate::error::openapi::AnyErrorEnvelope;
use crate::error::ApiError;
use crate::http::body::read_limited;
use aarthik_contract::headers as names;

/// The proxy's mount point, and the route label its calls carry in logs and metrics (start-up
/// hands both to the request middleware, which labels the scope by its prefix alone).
pub const SCOPE: &str = "/v1/headless";
pub const ROUTE_LABEL: &str = "/v1/headless/{path}";

pub fn routes(cfg: &mut web::ServiceConfig) {
    // A scope is matched by a plain prefix test, so other requests pay nothing for it, and every
    // request inside goes to the proxy without a pattern match (the route label for logs and
    // metrics comes from the prefix, see `middleware::context`).
    let scope = crate::http::registry::catch_all_scope(SCOPE, "/{path:.*}");
    cfg.service(
        scope
            // Per worker: memos only, so they need not be shared.
            .app_data(web::Data::new(WorkerCaches::default()))
            .default_service(web::to(proxy)),
    );
}

/// The path of this file, for the OpenAPI document (which also describes the upstream's known
/// operations under this prefix: `crate::openapi::upstream`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(proxy))]
pub struct Api;

/// The methods the upstream's headless API is called with. OPTIONS reaches the proxy only when
/// it is not a CORS preflight (the CORS middleware answers those), so it is refused too.
pub const PROXIED_METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// Proxied to the upstream headless API with the user's session token
///
/// Forwarded to the upstream's `/api/v1/headless/{path}` with the user's `st_*` token (minted or
/// refreshed as needed). The upstream's answer comes back with its status and body untouched (a
/// 5xx body only when it is the upstream's envelope); `Cache-Control` is always `no-store`; a
/// `Location` into the upstream's headless API is rewritten to `/v1/headless/...`, any other is
/// dropped. HEAD is forwarded like GET. POST, PUT, PATCH and DELETE need an `Idempotency-Key` (IETF semantics): a repeat with
/// the same key and body replays the stored answer (`Idempotent-Replayed: true`).
#[utoipa::path(
    method(get, post, put, patch, delete), path = "/v1/headless/{path}",
    operation_id = "proxy", tag = "proxy",
    security(("partnerJwt" = []), ("webCookie" = [], "csrf" = [])),
    params(
        ("path" = String, Path, description = "Forwarded to upstream /api/v1/headless/{path}; sessions* is refused (403). Every segment must be 1-128 characters of [A-Za-z0-9._~-] after percent-decoding and not . or .. (else 400 VALIDATION_ERROR)."),
        ("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Required on POST, PUT, PATCH, DELETE (IETF Idempotency-Key semantics; see docs/proxy.md)."),
    ),
    responses(
        (status = "default", description = "The upstream answer, status and body untouched (a 5xx body only when it is the upstream's envelope).",
            headers(
                ("Cache-Control" = String, description = "Always no-store"),
                ("Idempotency-Key" = String, description = "The key of a mutating call, echoed"),
                ("Idempotent-Replayed" = String, description = "true when this is the stored answer of an earlier request with the same key and body"),
                ("Idempotency-Retention" = i64, description = "Seconds the answer stays stored for replays of this key"),
            )),
        (status = 400, description = "VALIDATION_ERROR (a path segment outside the allowed spelling, a malformed Idempotency-Key) or IDEMPOTENCY_KEY_REQUIRED; or the upstream's 400 passed through", body = AnyErrorEnvelope),
        (status = 401, description = "UNAUTHENTICATED", body = AnyErrorEnvelope),
        (status = 403, description = "FORBIDDEN (session paths are not proxied); or the upstream's 403", body = AnyErrorEnvelope),
        (status = 404, description = "JOURNEY_NOT_FOUND (not this user's journey); or the upstream's 404", body = AnyErrorEnvelope),
        (status = 405, description = "METHOD_NOT_ALLOWED: the headless API accepts GET, HEAD, POST, PUT, PATCH and DELETE (OPTIONS only as a CORS preflight); nothing is forwarded. Or the upstream's 405.", body = AnyErrorEnvelope,
            headers(("Allow" = String, description = "GET, HEAD, POST, PUT, PATCH, DELETE"))),
        (status = 409, description = "IDEMPOTENCY_KEY_IN_USE (the first request with this key is still running; Retry-After); or the upstream's 409 (e.g. OFFER_LOCK_CONFLICT, INVALID_STATE)", body = AnyErrorEnvelope),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = AnyErrorEnvelope),
        (status = 422, description = "IDEMPOTENCY_KEY_REUSED (the key was used with another body)", body = AnyErrorEnvelope),
        (status = 429, description = "RATE_LIMITED: the per-user budget of mutating calls (proxy.mutations_per_minute) is spent; or the upstream's 429", body = AnyErrorEnvelope),
        (status = 502, description = "UPSTREAM_UNAVAILABLE, UPSTREAM_RESPONSE_TOO_LARGE (answer over upstream.max_response_bytes), UPSTREAM_BAD_RESPONSE (a 5xx answer that is not the upstream's envelope) or UPSTREAM_AUTH_FAILED (the upstream refused a freshly replaced session token)", body = AnyErrorEnvelope),
        (status = 503, description = "STORE_UNAVAILABLE", body = AnyErrorEnvelope),
        (status = 504, description = "UPSTREAM_TIMEOUT", body = AnyErrorEnvelope),
    )
)]
async fn proxy(
    deps: web::Data<ProxyDeps>,
    caches: web::Data<WorkerCaches>,
    req: HttpRequest,
    ctx: RequestContext,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // Checked before anything else (authentication included): nothing else is ever forwarded.
    if !PROXIED_METHODS.contains(&req.method().as_str()) {
        return Ok(method_not_allowed());
    }
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|_| ApiError::MethodNotAllowed)?;
    let caller = Caller::extract(&req).await?;
    let path = HeadlessPath::parse(req.uri().path(), req.query_string())?;
    let idempotency_key = req
        .headers()
        .get(names::IDEMPOTENCY_KEY)
        .map(|v| IdempotencyKey::parse(v.as_bytes()))
        .transpose()?;
    let pairs: Vec<(&str, &[u8])> = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let headers = request_headers(&pairs);
    let limit = deps.settings.max_body_bytes;
    let body = read_limited(&req, payload, limit).await?;
    let proxy = deps.with(&caches);
    let inbound = Inbound {
        method,
        path,
        headers,
        idempotency_key,
        body,
    };
    let answer = proxy.forward(&caller.user_id, inbound, &ctx).await?;
    Ok(respond(answer))
}

impl From<ProxyError> for ApiError {
    fn from(e: ProxyError) -> Self {
        match e {
            ProxyError::NotHeadless => ApiError::NotFound("No such headless path.".into()),
            ProxyError::BadPath => ApiError::Validation(
                "Every path segment must be 1-128 characters of A-Z a-z 0-9 . _ ~ - (after decoding), and not . or ..".into(),
            ),
            ProxyError::SessionPath => {
                ApiError::Forbidden("Session endpoints are not proxied; use /v1/session.".into())
            }
            ProxyError::BadIdempotencyKey => ApiError::Validation(
                "Idempotency-Key must be 1-255 printable ASCII characters.".into(),
            ),
            ProxyError::KeyRequired => ApiError::IdempotencyKeyRequired,
            ProxyError::KeyReused => ApiError::IdempotencyKeyReused,
            ProxyError::KeyInUse { retry_after_secs } => {
                ApiError::IdempotencyKeyInUse { retry_after_secs }
            }
            ProxyError::NotOwner => ApiError::JourneyNotFound,
            ProxyError::RateLimited { retry_after_secs } => {
                ApiError::RateLimited { retry_after_secs }
            }
            ProxyError::BadUpstreamAnswer { status } => ApiError::UpstreamBadResponse { status },
            ProxyError::FreshTokenRefused => ApiError::UpstreamAuthFailed(e.into()),
            ProxyError::Record(..) | ProxyError::StoredBody(_) => ApiError::Internal(e.into()),
            ProxyError::Store(s) => s.into(),
            ProxyError::Upstream(u) => u.into(),
            // Read as the session routes read it.
            ProxyError::Session(s) => s.into(),
        }
    }
}

fn method_not_allowed() -> HttpResponse {
    let mut res = crate::error::error_envelope(
        crate::error::ErrorCode::MethodNotAllowed,
        "The headless API accepts GET, HEAD, POST, PUT, PATCH and DELETE.",
    );
    if let Ok(v) = HeaderValue::from_str(&PROXIED_METHODS.join(", ")) {
        res.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    res
}

fn respond(answer: Answer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut res = HttpResponse::build(status).body(answer.body);
    let h = res.headers_mut();
    for (name, value) in &answer.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.append(n, v);
        }
    }
    // Per-user data: no cache may keep it, whatever the upstream (or an old stored answer) said.
    h.insert(
        actix_web::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    if let Some(info) = &answer.idempotency {
        if let Ok(v) = HeaderValue::from_str(&info.key) {
            h.insert(HeaderName::from_static("idempotency-key"), v);
        }
        h.insert(
            HeaderName::from_static(IDEMPOTENCY_RETENTION),
            info.retention_secs.into(),
        );
        if info.replayed {
            h.insert(
                HeaderName::from_static(IDEMPOTENT_REPLAYED),
                HeaderValue::from_static("true"),
            );
        }
    }
    res.extensions_mut().insert(PassThrough);
    res
}
